"""API v1 for providers, referrals and TARs: one thin view per operation (STYLE §2)."""

from __future__ import annotations

from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role, User
from authorizations import selectors, services, submission
from authorizations.history_audience import EXTERNAL_ROLES, history_for_audience
from authorizations.models import (
    Attachment,
    Channel,
    ExtensionReason,
    HistoryEntry,
    PlaceOfService,
    Provider,
    Referral,
    RequestType,
    ServiceLine,
    Specialty,
    SpinalRegion,
    Tar,
    TarStatus,
    Urgency,
)
from authorizations.transitions import TAR, Action
from authorizations.workflow import Machine, available_actions, check_role
from tar_portal.errors import DomainError, ErrorCode
from tar_portal.pagination import Pagination
from tar_portal.serializers import PrebuiltModelSerializer


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}
SUBMIT_ERRORS = {**ERRORS, 422: ErrorSerializer}


def valid_input(
    serializer_class: type[serializers.Serializer],
    data,
    *,
    action: tuple[Machine, str, User] | None = None,
) -> dict:
    """The validated body. With `action` (machine, action, caller), the workflow kernel's
    role check comes first: a caller who may never take the action is told so (403) before
    anything about the body (400)."""
    if action is not None:
        machine, name, user = action
        check_role(machine, machine[name], user)
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- providers -----------------------------------------------------------------------------


class ProviderOutput(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name")
    organization_id = serializers.IntegerField()
    pain_specialist = serializers.SerializerMethodField()

    class Meta:
        model = Provider
        fields = [
            "npi",
            "name",
            "credentials",
            "organization",
            "organization_id",
            "specialty",
            "taxonomy_code",
            "network_status",
            "is_pcp",
            "pain_specialist",
            "pain_specialist_credentialed_from",
            "pain_specialist_credentialed_to",
        ]

    def get_pain_specialist(self, obj: Provider) -> bool:

        return obj.is_credentialed_pain_specialist_on(timezone.localdate())


class ProviderListApi(APIView):
    # Documents the paginated envelope (count, next, previous, results) in the schema.
    pagination_class = Pagination

    @extend_schema(
        parameters=[OpenApiParameter("npi", str), OpenApiParameter("q", str)],
        responses={200: ProviderOutput(many=True)},
    )
    def get(self, request: Request) -> Response:
        qs = selectors.provider_list(
            user=request.user,
            npi=request.query_params.get("npi", ""),
            query=request.query_params.get("q", ""),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(ProviderOutput(page, many=True).data)


class ProviderDetailApi(APIView):
    @extend_schema(responses={200: ProviderOutput, **ERRORS})
    def get(self, request: Request, npi: str) -> Response:
        provider = selectors.provider_list(user=request.user, npi=npi).first()
        if provider is None:
            raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
        return Response(ProviderOutput(provider).data)


# --- referrals -----------------------------------------------------------------------------


class ReferralOutput(serializers.ModelSerializer):
    member = serializers.CharField(source="member.cin")
    referring_provider = serializers.CharField(source="referring_provider.npi")
    to_organization = serializers.CharField(source="to_organization.name")
    to_organization_id = serializers.IntegerField()
    to_provider = serializers.CharField(source="to_provider.npi", default=None, allow_null=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "number",
            "member",
            "referring_provider",
            "to_organization",
            "to_organization_id",
            "to_provider",
            "specialty",
            "reason",
            "diagnosis_codes",
            "valid_from",
            "valid_to",
            "visits_authorized",
            "status",
            "created_at",
        ]


class ReferralListCreateApi(APIView):
    # Documents the paginated envelope (count, next, previous, results) in the schema.
    pagination_class = Pagination

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReferralCreate"  # nested InputSerializers would share one OpenAPI name

        member = serializers.CharField(max_length=20)
        to_organization = serializers.IntegerField()
        to_provider = serializers.CharField(max_length=10, required=False, allow_blank=True)
        referring_provider = serializers.CharField(max_length=10, required=False, allow_blank=True)
        specialty = serializers.ChoiceField(choices=Specialty.choices)
        reason = serializers.CharField(max_length=2000)
        diagnosis_codes = serializers.ListField(
            child=serializers.CharField(max_length=10), max_length=12
        )
        valid_from = serializers.DateField()
        valid_to = serializers.DateField()
        visits_authorized = serializers.IntegerField(min_value=1, max_value=99, default=1)

    @extend_schema(responses={200: ReferralOutput(many=True)})
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(
            selectors.referral_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(ReferralOutput(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ReferralOutput, **ERRORS})
    def post(self, request: Request) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        referral = services.referral_create(
            user=request.user,
            member_cin=data["member"],
            to_organization_id=data["to_organization"],
            to_provider_npi=data.get("to_provider", ""),
            referring_provider_npi=data.get("referring_provider", ""),
            specialty=data["specialty"],
            reason=data["reason"],
            diagnosis_codes=data["diagnosis_codes"],
            valid_from=data["valid_from"],
            valid_to=data["valid_to"],
            visits_authorized=data["visits_authorized"],
        )
        return Response(ReferralOutput(referral).data, status=201)


class ReferralDetailApi(APIView):
    @extend_schema(responses={200: ReferralOutput, **ERRORS})
    def get(self, request: Request, referral_id: int) -> Response:
        referral = selectors.referral_get(user=request.user, referral_id=referral_id)
        return Response(ReferralOutput(referral).data)


# --- TARs ----------------------------------------------------------------------------------


class LineOutput(PrebuiltModelSerializer):
    criteria_set = serializers.SerializerMethodField()

    class Meta:
        model = ServiceLine
        fields = [
            "line_number",
            "code",
            "modifiers",
            "diagnosis_codes",
            "units",
            "spinal_region",
            "service_date_from",
            "service_date_to",
            "family",
            "criteria_set",
            "recommendation",
            "evaluation",
            "outcome",
            "approved_units",
            "approved_date_from",
            "approved_date_to",
        ]

    def get_criteria_set(self, obj: ServiceLine) -> dict | None:
        evaluation = obj.evaluation or {}
        if not evaluation.get("criteria_set"):
            return None
        return {"id": evaluation["criteria_set"], "version": evaluation.get("version")}


class TarListOutput(PrebuiltModelSerializer):
    member = serializers.CharField(source="member.cin")
    member_name = serializers.CharField(source="member.full_name")
    requesting_provider = serializers.CharField(source="requesting_provider.npi")
    servicing_provider = serializers.CharField(source="servicing_provider.npi")
    assigned_to = serializers.CharField(
        source="assigned_to.username", default=None, allow_null=True
    )
    codes = serializers.SerializerMethodField()

    class Meta:
        model = Tar
        fields = [
            "id",
            "number",
            "status",
            "member",
            "member_name",
            "requesting_provider",
            "servicing_provider",
            "request_type",
            "urgency",
            "channel",
            "received_at",
            "decision_due_at",
            "decision_due_rule",
            "breached_at",
            "assigned_to",
            "codes",
        ]

    def get_codes(self, obj: Tar) -> list[str]:
        return [line.code for line in obj.lines.all()]


def actions_output(machine: Machine, record, user) -> list[str]:
    """What the caller may do on the record now (the workflow machine's `available_actions`),
    so a client offers exactly the actions that can succeed."""
    return available_actions(machine, record, user) if user is not None else []


class TarDetailOutput(TarListOutput):
    lines = LineOutput(many=True)
    actions = serializers.SerializerMethodField()
    referral = serializers.IntegerField(source="referral_id", allow_null=True)
    evaluation = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    extensions = serializers.SerializerMethodField()
    information_requests = serializers.SerializerMethodField()
    # PRODUCT §4: what was wrong with the request as received (it was received anyway).
    warnings = serializers.ListField(
        source="intake_flags", child=serializers.DictField(child=serializers.CharField())
    )

    class Meta(TarListOutput.Meta):
        fields = [
            *TarListOutput.Meta.fields,
            "urgency_reason",
            "place_of_service",
            "servicing_facility",
            "referral",
            "answers",
            "date_of_service",
            "primary_denial_date",
            "retro_eligibility_date",
            "late_submission",
            "late_submission_rule",
            "effective_received_at",
            "original_decision_due_at",
            "extension_count",
            "provider_notice_due_at",
            "provider_notice_rule",
            "member_notice_due_at",
            "decided_at",
            "reason_code",
            "lines",
            "evaluation",
            "attachments",
            "extensions",
            "information_requests",
            "warnings",
            "actions",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Action)))
    def get_actions(self, obj: Tar) -> list[str]:
        return actions_output(TAR, obj, self.context.get("user"))

    def get_evaluation(self, obj: Tar) -> list[dict]:
        return [
            {"line_number": line.line_number, **(line.evaluation or {})} for line in obj.lines.all()
        ]

    def get_attachments(self, obj: Tar) -> list[dict]:
        user = self.context.get("user")
        if user is not None and user.role == Role.MEMBER:
            return []
        return [
            {
                "id": a.pk,
                "name": a.original_name,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
                "uploaded_at": a.uploaded_at,
                "download": f"/api/v1/attachments/{a.pk}/download",
            }
            for a in obj.attachments.all()
        ]

    def get_extensions(self, obj: Tar) -> list[dict]:
        return [
            {
                "reason": e.reason,
                "note": e.note,
                "previous_due_at": e.previous_due_at,
                "new_due_at": e.new_due_at,
                "extended_at": e.extended_at,
            }
            for e in obj.extensions.all()
        ]

    def get_information_requests(self, obj: Tar) -> list[dict]:
        return [
            {
                "message": r.message,
                "missing_keys": r.missing_keys,
                "requested_at": r.requested_at,
                "response": r.response,
                "responded_at": r.responded_at,
            }
            for r in obj.information_requests.all()
        ]


def _audience_safe(data: dict, user) -> dict:
    """What of the clinical record the caller's role may see (PRODUCT §2, 002
    "Confidentiality"). Members see their request, not the clinical answers their provider
    sent. Intake and member services see the request, its status and letters, not the
    answers, the criteria evaluation or the attachments."""
    if user.role == Role.MEMBER:
        data.pop("answers", None)
        # The evaluation repeats those answers as each criterion's `facts`: keep the criteria
        # and results, drop the facts (copies, so the stored evaluation is never touched).
        data["evaluation"] = [_without_facts(e) for e in data.get("evaluation") or []]
        for line in data.get("lines") or []:
            line["evaluation"] = _without_facts(line.get("evaluation"))
    elif not selectors.sees_clinical_record(user):
        for key in ("answers", "evaluation", "attachments"):
            data.pop(key, None)
        for line in data.get("lines") or []:
            line.pop("evaluation", None)
        # The provider's answer to an information request is clinical free text; when it
        # came is not.
        for info in data.get("information_requests") or []:
            info.pop("response", None)
    return data


def _without_facts(evaluation):
    if not isinstance(evaluation, dict) or "criteria" not in evaluation:
        return evaluation
    criteria = [{k: v for k, v in c.items() if k != "facts"} for c in evaluation["criteria"]]
    return {**evaluation, "criteria": criteria}


class LineInput(serializers.Serializer):
    code = serializers.CharField(max_length=10)
    modifiers = serializers.ListField(
        child=serializers.CharField(max_length=4), required=False, default=list, max_length=4
    )
    diagnosis_codes = serializers.ListField(
        child=serializers.CharField(max_length=10), max_length=12
    )
    units = serializers.IntegerField()
    spinal_region = serializers.ChoiceField(
        choices=SpinalRegion.choices, required=False, allow_blank=True, default=""
    )
    service_date_from = serializers.DateField()
    service_date_to = serializers.DateField()
    criteria_set = serializers.CharField(max_length=40, required=False, allow_blank=True)


class TarListCreateApi(APIView):
    # Documents the paginated envelope (count, next, previous, results) in the schema.
    pagination_class = Pagination

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TarSubmit"  # nested InputSerializers would share one OpenAPI name

        member = serializers.CharField(max_length=20)
        requesting_provider = serializers.CharField(max_length=10, required=False, allow_blank=True)
        servicing_provider = serializers.CharField(max_length=10)
        servicing_facility = serializers.CharField(max_length=160, required=False, allow_blank=True)
        referral = serializers.IntegerField(required=False, allow_null=True)
        request_type = serializers.ChoiceField(choices=RequestType.choices)
        urgency = serializers.ChoiceField(choices=Urgency.choices)
        urgency_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
        place_of_service = serializers.ChoiceField(choices=PlaceOfService.choices)
        lines = LineInput(many=True, allow_empty=False, max_length=20)
        answers = serializers.DictField(required=False, default=dict)
        date_of_service = serializers.DateField(required=False, allow_null=True)
        primary_denial_date = serializers.DateField(required=False, allow_null=True)
        retro_eligibility_date = serializers.DateField(required=False, allow_null=True)
        received_at = serializers.DateTimeField(required=False, allow_null=True)
        channel = serializers.ChoiceField(choices=Channel.choices, required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="Comma-separated statuses"),
            OpenApiParameter("urgency", str),
            OpenApiParameter("request_type", str),
            OpenApiParameter("family", str),
            OpenApiParameter("assigned_to", str, description="User id, or 'none'"),
            OpenApiParameter("member", str, description="CIN"),
            OpenApiParameter("due_before", str),
            OpenApiParameter("ordering", str),
        ],
        responses={200: TarListOutput(many=True)},
    )
    def get(self, request: Request) -> Response:
        qs = selectors.tar_list(user=request.user, filters=request.query_params.dict())
        paginator = Pagination()
        page = paginator.paginate_queryset(
            qs, request, view=self, branches=selectors.tar_scope_branches(request.user)
        )
        return paginator.get_paginated_response(TarListOutput(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, location=OpenApiParameter.HEADER)],
        responses={201: TarDetailOutput, 200: TarDetailOutput, **SUBMIT_ERRORS},
        description=(
            "A request the plan can attribute to a member and a provider is received (PRODUCT "
            "§4): 201 with its receipt and clock. When the member is not eligible on a date of "
            "service, there is no valid RAF from the member's PCP, or the servicing provider "
            "is not credentialed as a pain management specialist, it is still received, in "
            "the review queue flagged, and the 201 body lists why in `warnings` (each "
            "`field`, `message`): such a request is likely to be closed without approval, with "
            "the notice that closure owes. An unknown member or provider is refused (400)."
        ),
    )
    def post(self, request: Request) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > 120:
            raise DomainError(
                ErrorCode.INVALID,
                "Idempotency-Key is too long.",
                fields={"Idempotency-Key": ["At most 120 characters."]},
            )
        tar_input = services.TarInput(
            member=data["member"],
            requesting_provider=data.get("requesting_provider", ""),
            servicing_provider=data["servicing_provider"],
            servicing_facility=data.get("servicing_facility", ""),
            referral=data.get("referral"),
            request_type=data["request_type"],
            urgency=data["urgency"],
            urgency_reason=data.get("urgency_reason", ""),
            place_of_service=data["place_of_service"],
            lines=[
                services.LineInput(
                    code=line["code"],
                    units=line["units"],
                    service_date_from=line["service_date_from"],
                    service_date_to=line["service_date_to"],
                    diagnosis_codes=line["diagnosis_codes"],
                    modifiers=line.get("modifiers", []),
                    spinal_region=line.get("spinal_region", ""),
                    criteria_set=line.get("criteria_set", ""),
                )
                for line in data["lines"]
            ],
            answers=data.get("answers") or {},
            date_of_service=data.get("date_of_service"),
            primary_denial_date=data.get("primary_denial_date"),
            retro_eligibility_date=data.get("retro_eligibility_date"),
            received_at=data.get("received_at") if "received_at" in request.data else None,
            channel=data.get("channel", ""),
        )
        # Same key, different body: 422 (the service would return the first request).
        submission.idempotency_check(user=request.user, key=key, data=tar_input)
        tar, created = submission.tar_submit_guarded(
            user=request.user, data=tar_input, idempotency_key=key, default_channel=Channel.API
        )
        if created and tar.status == TarStatus.SUBMITTED:
            tar = selectors.tar_just_submitted(user=request.user, tar=tar)
        else:  # a retried key's first request, or one approved automatically: read it whole
            tar = selectors.tar_get(user=request.user, tar_id=tar.pk)
        return Response(
            TarDetailOutput(tar, context={"user": request.user}).data,
            status=201 if created else 200,
        )


class TarDetailApi(APIView):
    @extend_schema(responses={200: TarDetailOutput, **ERRORS})
    def get(self, request: Request, tar_id: int) -> Response:
        tar = selectors.tar_get(user=request.user, tar_id=tar_id)
        services.tar_record_clinical_read(tar=tar, user=request.user)
        data = TarDetailOutput(tar, context={"user": request.user}).data
        return Response(_audience_safe(data, request.user))


class HistoryOutput(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default="system")

    class Meta:
        model = HistoryEntry
        fields = [
            "at",
            "actor",
            "actor_role",
            "action",
            "from_status",
            "to_status",
            "reason",
            "detail",
        ]


class AudienceHistoryOutput(serializers.Serializer):
    """The history as providers and members see it (authorizations.history_audience)."""

    at = serializers.DateTimeField()
    actor = serializers.CharField()
    action = serializers.CharField()
    action_label = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    status_label = serializers.CharField()
    reason = serializers.CharField()
    detail = serializers.DictField()


class TarHistoryApi(APIView):
    @extend_schema(responses={200: HistoryOutput(many=True), **ERRORS})
    def get(self, request: Request, tar_id: int) -> Response:
        tar = selectors.tar_get(user=request.user, tar_id=tar_id)
        entries = selectors.tar_history(user=request.user, tar=tar)
        if request.user.role in EXTERNAL_ROLES:
            # No internal notes for providers and members (PRODUCT §2).
            rows = history_for_audience(role=request.user.role, entries=entries)
            return Response(AudienceHistoryOutput(rows, many=True).data)
        return Response(HistoryOutput(entries, many=True).data)


def _tar_response(request: Request, tar: Tar, status: int = 200) -> Response:
    tar = selectors.tar_get(user=request.user, tar_id=tar.pk)
    data = TarDetailOutput(tar, context={"user": request.user}).data
    return Response(_audience_safe(data, request.user), status=status)


class TarClaimApi(APIView):
    @extend_schema(request=None, responses={200: TarDetailOutput, **ERRORS})
    def post(self, request: Request, tar_id: int) -> Response:
        return _tar_response(request, services.tar_claim(tar_id=tar_id, user=request.user))


class TarReleaseApi(APIView):
    @extend_schema(request=None, responses={200: TarDetailOutput, **ERRORS})
    def post(self, request: Request, tar_id: int) -> Response:
        return _tar_response(request, services.tar_release(tar_id=tar_id, user=request.user))


class TarReferApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TarRefer"  # nested InputSerializers would share one OpenAPI name

        note = serializers.CharField(max_length=4000, required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses={200: TarDetailOutput, **ERRORS})
    def post(self, request: Request, tar_id: int) -> Response:
        data = valid_input(
            self.InputSerializer, request.data, action=(TAR, Action.REFER, request.user)
        )
        tar = services.tar_refer(tar_id=tar_id, user=request.user, note=data.get("note", ""))
        return _tar_response(request, tar)


class TarRequestInfoApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TarRequestInfo"  # nested InputSerializers would share one OpenAPI name

        message = serializers.CharField(max_length=4000)
        missing_keys = serializers.ListField(
            child=serializers.CharField(max_length=60), required=False, default=list
        )

    @extend_schema(request=InputSerializer, responses={200: TarDetailOutput, **ERRORS})
    def post(self, request: Request, tar_id: int) -> Response:
        data = valid_input(
            self.InputSerializer, request.data, action=(TAR, Action.REQUEST_INFO, request.user)
        )
        tar = services.tar_request_info(
            tar_id=tar_id,
            user=request.user,
            message=data["message"],
            missing_keys=data["missing_keys"],
        )
        return _tar_response(request, tar)


class TarRespondApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TarRespond"  # nested InputSerializers would share one OpenAPI name

        response = serializers.CharField(max_length=8000, required=False, allow_blank=True)
        answers = serializers.DictField(required=False, default=dict)

    @extend_schema(request=InputSerializer, responses={200: TarDetailOutput, **ERRORS})
    def post(self, request: Request, tar_id: int) -> Response:
        data = valid_input(
            self.InputSerializer, request.data, action=(TAR, Action.RECEIVE_INFO, request.user)
        )
        tar = services.tar_receive_info(
            tar_id=tar_id,
            user=request.user,
            response=data.get("response", ""),
            answers=data.get("answers") or {},
        )
        return _tar_response(request, tar)


class TarWithdrawApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TarWithdraw"  # nested InputSerializers would share one OpenAPI name

        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses={200: TarDetailOutput, **ERRORS})
    def post(self, request: Request, tar_id: int) -> Response:
        data = valid_input(
            self.InputSerializer, request.data, action=(TAR, Action.WITHDRAW, request.user)
        )
        tar = services.tar_withdraw(tar_id=tar_id, user=request.user, reason=data.get("reason", ""))
        return _tar_response(request, tar)


class TarDecisionApi(APIView):
    class LineDecisionInput(serializers.Serializer):
        line_number = serializers.IntegerField(min_value=1)
        outcome = serializers.ChoiceField(choices=["approved", "modified", "denied", "closed"])
        approved_units = serializers.IntegerField(min_value=1, required=False, allow_null=True)
        approved_date_from = serializers.DateField(required=False, allow_null=True)
        approved_date_to = serializers.DateField(required=False, allow_null=True)

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TarDecision"  # nested InputSerializers would share one OpenAPI name

        outcome = serializers.ChoiceField(choices=["approved", "modified", "denied", "closed"])
        reason_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
        rationale = serializers.CharField(max_length=8000, required=False, allow_blank=True)
        criteria_refs = serializers.ListField(
            child=serializers.CharField(max_length=80), required=False, default=list
        )
        lines = serializers.ListField(required=False, default=list)
        # PRODUCT §2: a `duplicate` closure names the open or decided request it duplicates.
        duplicate_of = serializers.CharField(
            max_length=20,
            required=False,
            allow_blank=True,
            help_text="TAR number of the request this one duplicates (reason_code duplicate).",
        )

    @extend_schema(request=InputSerializer, responses={200: TarDetailOutput, **ERRORS})
    def post(self, request: Request, tar_id: int) -> Response:
        data = valid_input(
            self.InputSerializer, request.data, action=(TAR, Action.DENY, request.user)
        )
        line_serializer = self.LineDecisionInput(data=data["lines"], many=True)
        if not line_serializer.is_valid():
            raise serializers.ValidationError({"lines": line_serializer.errors})
        tar = services.tar_decide(
            tar_id=tar_id,
            user=request.user,
            outcome=data["outcome"],
            reason_code=data.get("reason_code", ""),
            rationale=data.get("rationale", ""),
            criteria_refs=data["criteria_refs"],
            line_decisions=[
                services.LineDecision(**line) for line in line_serializer.validated_data
            ],
            duplicate_of=data.get("duplicate_of", ""),
        )
        return _tar_response(request, tar)


class TarExtendApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TarExtend"  # nested InputSerializers would share one OpenAPI name

        reason = serializers.ChoiceField(choices=ExtensionReason.choices)
        new_due_at = serializers.DateTimeField()
        note = serializers.CharField(max_length=4000)

    @extend_schema(request=InputSerializer, responses={200: TarDetailOutput, **ERRORS})
    def post(self, request: Request, tar_id: int) -> Response:
        data = valid_input(
            self.InputSerializer, request.data, action=(TAR, Action.EXTEND, request.user)
        )
        tar = services.tar_extend(
            tar_id=tar_id,
            user=request.user,
            reason=data["reason"],
            new_due_at=data["new_due_at"],
            note=data["note"],
        )
        return _tar_response(request, tar)


# --- attachments ---------------------------------------------------------------------------


class AttachmentOutput(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = [
            "id",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "description",
            "uploaded_at",
        ]


class TarAttachmentsApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses={200: AttachmentOutput(many=True), **ERRORS})
    def get(self, request: Request, tar_id: int) -> Response:
        tar = selectors.tar_get(user=request.user, tar_id=tar_id)
        # The same rule as opening one (selectors.attachment_get): a 404 to those who may not.
        if not selectors.sees_clinical_record(request.user):
            raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
        return Response(AttachmentOutput(tar.attachments.all(), many=True).data)

    @extend_schema(
        request=inline_serializer(
            "AttachmentUpload",
            {"file": serializers.FileField(), "description": serializers.CharField(required=False)},
        ),
        responses={201: AttachmentOutput, **ERRORS},
    )
    def post(self, request: Request, tar_id: int) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise DomainError(ErrorCode.INVALID, "No file.", fields={"file": ["Attach a file."]})
        attachment = services.attachment_add(
            tar_id=tar_id,
            user=request.user,
            upload=upload,
            description=request.data.get("description", ""),
        )
        return Response(AttachmentOutput(attachment).data, status=201)


class AttachmentDownloadApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes, **ERRORS})
    def get(self, request: Request, attachment_id: int):
        attachment = selectors.attachment_get(user=request.user, attachment_id=attachment_id)
        services.attachment_record_read(attachment=attachment, user=request.user)
        response = FileResponse(
            attachment.file.open("rb"),
            content_type=attachment.content_type,
            as_attachment=True,
            filename=services.attachment_download_name(attachment),
        )
        response["Cache-Control"] = "private, no-store"
        return response
