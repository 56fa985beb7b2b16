"""API v1 for appeals, peer-to-peer talks and independent medical review: one thin view per
operation (STYLE §2). Rules live in appeals/services, reads in appeals/selectors.py."""

from __future__ import annotations

from django.http import HttpResponse
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

from appeals import selectors, services
from appeals.machines import APPEAL, IMR, AppealAction, ImrAction
from appeals.models import (
    Appeal,
    AppealExtensionReason,
    AppealOutcome,
    ImrCase,
    ImrDetermination,
    ImrExpeditedBasis,
    ImrReferralReason,
    ImrReviewerKind,
    ImrReviewType,
    ImrSeriousCondition,
    PeerToPeer,
    PeerToPeerOutcome,
)
from authorizations.api import ERRORS, actions_output, valid_input
from authorizations.models import OralNotice, OralNoticeOutcome, OralNoticeParty, OralNoticeSubject
from authorizations.selectors import sees_clinical_record, tar_get
from authorizations.services import LineDecision, OralNoticeInput
from tar_portal.errors import DomainError, ErrorCode
from tar_portal.pagination import Pagination


def _page(view: APIView, request: Request, qs, serializer_class) -> Response:
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class LineDecisionInput(serializers.Serializer):
    class Meta:
        ref_name = "AppealLineDecision"

    line_number = serializers.IntegerField(min_value=1)
    outcome = serializers.ChoiceField(choices=["approved", "modified", "denied"])
    approved_units = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    approved_date_from = serializers.DateField(required=False, allow_null=True)
    approved_date_to = serializers.DateField(required=False, allow_null=True)


def _line_decisions(data: dict) -> list[LineDecision]:
    return [LineDecision(**line) for line in data.get("lines") or []]


# --- appeals ---------------------------------------------------------------------------------


class AppealOutput(serializers.ModelSerializer):
    tar = serializers.IntegerField(source="tar_id")
    tar_number = serializers.CharField(source="tar.number")
    member = serializers.CharField(source="member.cin")
    decision = serializers.IntegerField(source="decision_id", allow_null=True)
    tar_extension = serializers.IntegerField(source="tar_extension_id", allow_null=True)
    filed_by = serializers.CharField(source="filed_by.username")
    decided_by = serializers.CharField(source="decided_by.username", default=None, allow_null=True)
    resolution_decision = serializers.IntegerField(source="resolution_decision_id", allow_null=True)
    extension = serializers.SerializerMethodField()

    class Meta:
        model = Appeal
        fields = [
            "id",
            "number",
            "tar",
            "tar_number",
            "member",
            "basis",
            "decision",
            "tar_extension",
            "status",
            "filer",
            "filed_by",
            "member_consent",
            "reason",
            "expedited",
            "expedited_reason",
            "received_at",
            "notice_date",
            "filing_deadline_at",
            "filing_deadline_rule",
            "late",
            "continued_care",
            "resolution_due_at",
            "resolution_due_rule",
            "original_resolution_due_at",
            "extension",
            "exhausted_at",
            "outcome",
            "rationale",
            "decided_by",
            "resolved_at",
            "resolution_decision",
            "notice_due_at",
            "state_hearing_due_at",
            "withdrawn_at",
            "downgraded_at",
            "downgrade_reason",
            "downgrade_notice_due_at",
        ]

    def get_extension(self, obj: Appeal) -> dict | None:
        extension = getattr(obj, "extension", None)
        if extension is None:
            return None
        return {
            "reason": extension.reason,
            "note": extension.note,
            "previous_due_at": extension.previous_due_at,
            "new_due_at": extension.new_due_at,
            "extended_at": extension.extended_at,
            "notice_due_at": extension.notice_due_at,
        }


def _appeal_response(request: Request, appeal: Appeal, status: int = 200) -> Response:
    appeal = selectors.appeal_get(user=request.user, appeal_id=appeal.pk)
    return Response(AppealOutput(appeal).data, status=status)


APPEAL_FILTERS = [
    OpenApiParameter("status", str, description="Comma-separated statuses"),
    OpenApiParameter("expedited", bool),
    OpenApiParameter("late", bool),
    OpenApiParameter("due_before", str, description="ISO date or date-time"),
    OpenApiParameter("due_after", str, description="ISO date or date-time"),
    OpenApiParameter("member", str, description="CIN"),
]


class TarAppealsApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TarAppeals"  # nested InputSerializers would share one name

        reason = serializers.CharField(max_length=8000)
        expedited = serializers.BooleanField(default=False)
        expedited_reason = serializers.CharField(max_length=4000, required=False, allow_blank=True)
        member_consent = serializers.BooleanField(default=False)
        received_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(responses={200: AppealOutput(many=True), **ERRORS})
    def get(self, request: Request, tar_id: int) -> Response:
        tar_get(user=request.user, tar_id=tar_id)
        qs = selectors.appeal_list(user=request.user, tar_id=tar_id)
        return Response(AppealOutput(qs, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: AppealOutput, **ERRORS})
    def post(self, request: Request, tar_id: int) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        appeal = services.appeal_file(
            tar_id=tar_id,
            user=request.user,
            reason=data["reason"],
            expedited=data["expedited"],
            expedited_reason=data.get("expedited_reason", ""),
            member_consent=data["member_consent"],
            received_at=data.get("received_at"),
        )
        return _appeal_response(request, appeal, status=201)


class AppealListApi(APIView):
    # Documents the paginated envelope (count, next, previous, results) in the schema.
    pagination_class = Pagination

    @extend_schema(parameters=APPEAL_FILTERS, responses={200: AppealOutput(many=True)})
    def get(self, request: Request) -> Response:
        qs = selectors.appeal_list(user=request.user, filters=request.query_params.dict())
        return _page(self, request, qs, AppealOutput)


class AppealDetailOutput(AppealOutput):
    actions = serializers.SerializerMethodField()

    class Meta(AppealOutput.Meta):
        fields = [*AppealOutput.Meta.fields, "actions"]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=AppealAction)))
    def get_actions(self, obj: Appeal) -> list[str]:
        return actions_output(APPEAL, obj, self.context.get("user"))


class AppealDetailApi(APIView):
    @extend_schema(responses={200: AppealDetailOutput, **ERRORS})
    def get(self, request: Request, appeal_id: int) -> Response:
        appeal = selectors.appeal_get(user=request.user, appeal_id=appeal_id)
        return Response(AppealDetailOutput(appeal, context={"user": request.user}).data)


class AppealExtendApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AppealExtend"  # nested InputSerializers would share one name

        reason = serializers.ChoiceField(choices=AppealExtensionReason.choices)
        note = serializers.CharField(max_length=4000)
        new_due_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: AppealOutput, **ERRORS})
    def post(self, request: Request, appeal_id: int) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        appeal = services.appeal_extend(
            appeal_id=appeal_id,
            user=request.user,
            reason=data["reason"],
            note=data["note"],
            new_due_at=data.get("new_due_at"),
        )
        return _appeal_response(request, appeal)


class AppealDecideApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AppealDecide"  # nested InputSerializers would share one name

        outcome = serializers.ChoiceField(choices=AppealOutcome.choices)
        rationale = serializers.CharField(max_length=8000)
        reason_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
        criteria_refs = serializers.ListField(
            child=serializers.CharField(max_length=80), required=False, default=list
        )
        lines = LineDecisionInput(many=True, required=False, default=list)

    @extend_schema(request=InputSerializer, responses={200: AppealOutput, **ERRORS})
    def post(self, request: Request, appeal_id: int) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        appeal = services.appeal_decide(
            appeal_id=appeal_id,
            user=request.user,
            outcome=data["outcome"],
            rationale=data["rationale"],
            reason_code=data.get("reason_code", ""),
            criteria_refs=data["criteria_refs"],
            line_decisions=_line_decisions(data),
        )
        return _appeal_response(request, appeal)


class AppealWithdrawApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AppealWithdraw"  # nested InputSerializers would share one name

        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses={200: AppealOutput, **ERRORS})
    def post(self, request: Request, appeal_id: int) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        appeal = services.appeal_withdraw(
            appeal_id=appeal_id, user=request.user, reason=data.get("reason", "")
        )
        return _appeal_response(request, appeal)


class OralNoticeBody(serializers.Serializer):
    """One telephone notice attempt: whom, the number, how it ended (42 CFR 438.408(c)(2)(i),
    438.410(c)(2); H&S 1367.01(h)(3))."""

    class Meta:
        ref_name = "OralNoticeAttempt"

    party = serializers.ChoiceField(choices=OralNoticeParty.choices)
    phone = serializers.CharField(max_length=30)
    outcome = serializers.ChoiceField(choices=OralNoticeOutcome.choices)
    attempted_at = serializers.DateTimeField(required=False, allow_null=True)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


def oral_notice_input(data: dict, subject: str = "") -> OralNoticeInput:
    return OralNoticeInput(
        subject=data.get("subject", subject),
        party=data["party"],
        phone=data["phone"],
        outcome=data["outcome"],
        attempted_at=data.get("attempted_at"),
        note=data.get("note", ""),
    )


class OralNoticeOutput(serializers.ModelSerializer):
    attempted_by = serializers.CharField(source="attempted_by.username")

    class Meta:
        model = OralNotice
        fields = [
            "id",
            "subject",
            "appeal_ref",
            "party",
            "phone",
            "outcome",
            "note",
            "attempted_at",
            "attempted_by",
            "recorded_at",
        ]


class AppealDowngradeApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AppealDowngrade"  # nested InputSerializers would share one name

        reason = serializers.CharField(max_length=4000)
        oral_notice = OralNoticeBody(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: AppealOutput, **ERRORS})
    def post(self, request: Request, appeal_id: int) -> Response:
        data = valid_input(
            self.InputSerializer,
            request.data,
            action=(APPEAL, AppealAction.DOWNGRADE, request.user),
        )
        call = data.get("oral_notice")
        appeal = services.appeal_downgrade(
            appeal_id=appeal_id,
            user=request.user,
            reason=data["reason"],
            oral_notice=oral_notice_input(call, OralNoticeSubject.APPEAL_DOWNGRADE)
            if call
            else None,
        )
        return _appeal_response(request, appeal)


class AppealOralNoticeApi(APIView):
    class InputSerializer(OralNoticeBody):
        class Meta:
            ref_name = "AppealOralNotice"  # nested InputSerializers would share one name

        subject = serializers.CharField(max_length=40)

    @extend_schema(request=InputSerializer, responses={201: OralNoticeOutput, **ERRORS})
    def post(self, request: Request, appeal_id: int) -> Response:
        data = valid_input(
            self.InputSerializer,
            request.data,
            action=(APPEAL, AppealAction.RECORD_ORAL_NOTICE, request.user),
        )
        notice = services.appeal_oral_notice_record(
            appeal_id=appeal_id, user=request.user, data=oral_notice_input(data)
        )
        return Response(OralNoticeOutput(notice).data, status=201)


# --- peer-to-peer ----------------------------------------------------------------------------


class PeerToPeerOutput(serializers.ModelSerializer):
    tar = serializers.IntegerField(source="tar_id")
    tar_number = serializers.CharField(source="tar.number")
    decision = serializers.IntegerField(source="decision_id", allow_null=True)
    requested_by = serializers.CharField(source="requested_by.username")
    requesting_provider = serializers.CharField(
        source="requesting_provider.npi", default=None, allow_null=True
    )
    physician = serializers.CharField(source="physician.username", default=None, allow_null=True)
    physician_id = serializers.IntegerField(allow_null=True)
    changed_decision = serializers.IntegerField(source="changed_decision_id", allow_null=True)
    changed_by_appeal = serializers.IntegerField(source="changed_by_appeal_id", allow_null=True)

    class Meta:
        model = PeerToPeer
        fields = [
            "id",
            "tar",
            "tar_number",
            "decision",
            "status",
            "requested_by",
            "requesting_provider",
            "requested_at",
            "proposed_times",
            "contact_phone",
            "topic",
            "physician",
            "physician_id",
            "scheduled_at",
            "held_at",
            "outcome",
            "summary",
            "changed_decision",
            "changed_by_appeal",
            "cancelled_at",
            "cancel_reason",
        ]


def _p2p_response(request: Request, p2p: PeerToPeer, status: int = 200) -> Response:
    p2p = selectors.peer_to_peer_get(user=request.user, p2p_id=p2p.pk)
    return Response(PeerToPeerOutput(p2p).data, status=status)


class TarPeerToPeerApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TarPeerToPeer"  # nested InputSerializers would share one name

        contact_phone = serializers.CharField(max_length=30)
        proposed_times = serializers.ListField(
            child=serializers.DateTimeField(), allow_empty=False, max_length=5
        )
        topic = serializers.CharField(max_length=4000, required=False, allow_blank=True)

    @extend_schema(responses={200: PeerToPeerOutput(many=True), **ERRORS})
    def get(self, request: Request, tar_id: int) -> Response:
        tar_get(user=request.user, tar_id=tar_id)
        qs = selectors.peer_to_peer_list(user=request.user, tar_id=tar_id)
        return Response(PeerToPeerOutput(qs, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: PeerToPeerOutput, **ERRORS})
    def post(self, request: Request, tar_id: int) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        p2p = services.peer_to_peer_request(
            tar_id=tar_id,
            user=request.user,
            contact_phone=data["contact_phone"],
            proposed_times=data["proposed_times"],
            topic=data.get("topic", ""),
        )
        return _p2p_response(request, p2p, status=201)


class PeerToPeerListApi(APIView):
    # Documents the paginated envelope (count, next, previous, results) in the schema.
    pagination_class = Pagination

    @extend_schema(
        parameters=[OpenApiParameter("status", str), OpenApiParameter("physician", int)],
        responses={200: PeerToPeerOutput(many=True)},
    )
    def get(self, request: Request) -> Response:
        qs = selectors.peer_to_peer_list(user=request.user, filters=request.query_params.dict())
        return _page(self, request, qs, PeerToPeerOutput)


class PeerToPeerDetailApi(APIView):
    @extend_schema(responses={200: PeerToPeerOutput, **ERRORS})
    def get(self, request: Request, p2p_id: int) -> Response:
        return Response(
            PeerToPeerOutput(selectors.peer_to_peer_get(user=request.user, p2p_id=p2p_id)).data
        )


class PeerToPeerScheduleApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PeerToPeerSchedule"  # nested InputSerializers would share one name

        scheduled_at = serializers.DateTimeField()
        physician = serializers.IntegerField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: PeerToPeerOutput, **ERRORS})
    def post(self, request: Request, p2p_id: int) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        p2p = services.peer_to_peer_schedule(
            p2p_id=p2p_id,
            user=request.user,
            scheduled_at=data["scheduled_at"],
            physician_id=data.get("physician"),
        )
        return _p2p_response(request, p2p)


class PeerToPeerOutcomeApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PeerToPeerOutcome"  # nested InputSerializers would share one name

        outcome = serializers.ChoiceField(choices=PeerToPeerOutcome.choices)
        summary = serializers.CharField(max_length=8000)
        held_at = serializers.DateTimeField(required=False, allow_null=True)
        decision = serializers.IntegerField(required=False, allow_null=True)
        appeal = serializers.IntegerField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: PeerToPeerOutput, **ERRORS})
    def post(self, request: Request, p2p_id: int) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        p2p = services.peer_to_peer_record_outcome(
            p2p_id=p2p_id,
            user=request.user,
            outcome=data["outcome"],
            summary=data["summary"],
            held_at=data.get("held_at"),
            decision_id=data.get("decision"),
            appeal_id=data.get("appeal"),
        )
        return _p2p_response(request, p2p)


class PeerToPeerLinkApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PeerToPeerLink"  # nested InputSerializers would share one name

        decision = serializers.IntegerField(required=False, allow_null=True)
        appeal = serializers.IntegerField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: PeerToPeerOutput, **ERRORS})
    def post(self, request: Request, p2p_id: int) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        p2p = services.peer_to_peer_link(
            p2p_id=p2p_id,
            user=request.user,
            decision_id=data.get("decision"),
            appeal_id=data.get("appeal"),
        )
        return _p2p_response(request, p2p)


class PeerToPeerCancelApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PeerToPeerCancel"  # nested InputSerializers would share one name

        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses={200: PeerToPeerOutput, **ERRORS})
    def post(self, request: Request, p2p_id: int) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        p2p = services.peer_to_peer_cancel(
            p2p_id=p2p_id, user=request.user, reason=data.get("reason", "")
        )
        return _p2p_response(request, p2p)


# --- independent medical review --------------------------------------------------------------


class ImrOutput(serializers.ModelSerializer):
    tar = serializers.IntegerField(source="tar_id")
    # The questions put to the reviewer come from the clinical record: null for intake and
    # member services, who track the case (authorizations.selectors.sees_clinical_record).
    questions = serializers.SerializerMethodField()
    tar_number = serializers.CharField(source="tar.number")
    member = serializers.CharField(source="member.cin")
    appeal = serializers.IntegerField(source="appeal_id", allow_null=True)
    decision = serializers.IntegerField(source="decision_id", allow_null=True)
    referred_by = serializers.CharField(source="referred_by.username")
    decided_by = serializers.CharField(source="decided_by.username", default=None, allow_null=True)
    final_decision = serializers.IntegerField(source="final_decision_id", allow_null=True)
    overdue = serializers.SerializerMethodField()
    packet = serializers.SerializerMethodField()
    determination_document = serializers.SerializerMethodField()
    case_summary = serializers.SerializerMethodField()

    class Meta:
        model = ImrCase
        fields = [
            "id",
            "number",
            "tar",
            "tar_number",
            "member",
            "appeal",
            "decision",
            "status",
            "referral_reason",
            "serious_condition",
            "treating_physician_certified",
            "experimental_investigational",
            "reviewer_kind",
            "reviewer_name",
            "reviewer_specialty",
            "review_type",
            "expedited_basis",
            "patient_reference",
            "questions",
            "referred_by",
            "referred_at",
            "received_at",
            "due_at",
            "target_at",
            "due_rule",
            "original_due_at",
            "extended_at",
            "extension_reason",
            "overdue",
            "overdue_at",
            "determination",
            "analysis",
            "reviewer_qualifications",
            "determination_received_at",
            "determination_late",
            "determination_document",
            "final_outcome",
            "final_rationale",
            "final_decision",
            "decided_by",
            "decided_at",
            "case_summary",
            "packet",
            "withdrawn_at",
        ]

    def get_overdue(self, obj: ImrCase) -> bool:
        return obj.overdue_at is not None

    def _hides_clinical(self) -> bool:
        user = self.context.get("user")
        return user is not None and not sees_clinical_record(user)

    @extend_schema_field(serializers.ListField(child=serializers.CharField(), allow_null=True))
    def get_questions(self, obj: ImrCase) -> list[str] | None:
        return None if self._hides_clinical() else list(obj.questions or [])

    def get_packet(self, obj: ImrCase) -> str | None:
        return None if self._hides_clinical() else f"/api/v1/imr/{obj.pk}/packet"

    def _download(self, attachment_id: int | None) -> str | None:
        if attachment_id is None or self._hides_clinical():
            return None
        return f"/api/v1/attachments/{attachment_id}/download"

    def get_determination_document(self, obj: ImrCase) -> str | None:
        return self._download(obj.determination_attachment_id)

    def get_case_summary(self, obj: ImrCase) -> str | None:
        return self._download(obj.case_summary_id)


def _imr_response(request: Request, imr: ImrCase, status: int = 200) -> Response:
    imr = selectors.imr_get(user=request.user, imr_id=imr.pk)
    return Response(ImrOutput(imr, context={"user": request.user}).data, status=status)


class TarImrApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TarImr"  # nested InputSerializers would share one name

        referral_reason = serializers.ChoiceField(choices=ImrReferralReason.choices)
        reviewer_kind = serializers.ChoiceField(choices=ImrReviewerKind.choices)
        reviewer_name = serializers.CharField(max_length=160)
        reviewer_specialty = serializers.CharField(max_length=120, required=False, allow_blank=True)
        review_type = serializers.ChoiceField(choices=ImrReviewType.choices)
        expedited_basis = serializers.ChoiceField(
            choices=ImrExpeditedBasis.choices, required=False, allow_blank=True
        )
        serious_condition = serializers.ChoiceField(
            choices=ImrSeriousCondition.choices, required=False, allow_blank=True
        )
        treating_physician_certified = serializers.BooleanField(default=False)
        experimental_investigational = serializers.BooleanField(default=False)
        questions = serializers.ListField(
            child=serializers.CharField(max_length=2000), allow_empty=False, max_length=20
        )
        pertinent_history = serializers.CharField(max_length=20000)
        clinical_data = serializers.CharField(max_length=20000)
        appeal = serializers.IntegerField(required=False, allow_null=True)

    @extend_schema(responses={200: ImrOutput(many=True), **ERRORS})
    def get(self, request: Request, tar_id: int) -> Response:
        tar_get(user=request.user, tar_id=tar_id)
        qs = selectors.imr_list(user=request.user, tar_id=tar_id)
        return Response(ImrOutput(qs, many=True, context={"user": request.user}).data)

    @extend_schema(request=InputSerializer, responses={201: ImrOutput, **ERRORS})
    def post(self, request: Request, tar_id: int) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        imr = services.imr_refer(
            tar_id=tar_id,
            user=request.user,
            data=services.ImrReferralInput(
                referral_reason=data["referral_reason"],
                reviewer_kind=data["reviewer_kind"],
                reviewer_name=data["reviewer_name"],
                reviewer_specialty=data.get("reviewer_specialty", ""),
                review_type=data["review_type"],
                expedited_basis=data.get("expedited_basis", ""),
                serious_condition=data.get("serious_condition", ""),
                treating_physician_certified=data["treating_physician_certified"],
                experimental_investigational=data["experimental_investigational"],
                questions=data["questions"],
                pertinent_history=data["pertinent_history"],
                clinical_data=data["clinical_data"],
                appeal_id=data.get("appeal"),
            ),
        )
        return _imr_response(request, imr, status=201)


class ImrListApi(APIView):
    # Documents the paginated envelope (count, next, previous, results) in the schema.
    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="Comma-separated statuses"),
            OpenApiParameter("review_type", str, description="Comma-separated review types"),
            OpenApiParameter("due_before", str, description="ISO date or date-time"),
            OpenApiParameter("due_after", str, description="ISO date or date-time"),
            OpenApiParameter("overdue", bool),
            OpenApiParameter("member", str, description="CIN"),
            OpenApiParameter("ordering", str, description="due_at, -due_at, referred_at…"),
        ],
        responses={200: ImrOutput(many=True)},
    )
    def get(self, request: Request) -> Response:
        qs = selectors.imr_list(user=request.user, filters=request.query_params.dict())
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(
            ImrOutput(page, many=True, context={"user": request.user}).data
        )


class ImrDetailOutput(ImrOutput):
    actions = serializers.SerializerMethodField()

    class Meta(ImrOutput.Meta):
        fields = [*ImrOutput.Meta.fields, "actions"]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ImrAction)))
    def get_actions(self, obj: ImrCase) -> list[str]:
        return actions_output(IMR, obj, self.context.get("user"))


class ImrDetailApi(APIView):
    @extend_schema(responses={200: ImrDetailOutput, **ERRORS})
    def get(self, request: Request, imr_id: int) -> Response:
        imr = selectors.imr_get(user=request.user, imr_id=imr_id)
        return Response(ImrDetailOutput(imr, context={"user": request.user}).data)


class ImrPacketApi(APIView):
    @extend_schema(responses={(200, "application/pdf"): bytes, **ERRORS})
    def get(self, request: Request, imr_id: int) -> HttpResponse:
        imr = selectors.imr_packet_get(user=request.user, imr_id=imr_id)
        services.imr_packet_record_read(imr=imr, user=request.user)
        response = HttpResponse(services.imr_packet_pdf(imr), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{imr.number}-packet.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response


class ImrExtendApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ImrExtend"  # nested InputSerializers would share one name

        reason = serializers.CharField(max_length=4000)

    @extend_schema(request=InputSerializer, responses={200: ImrOutput, **ERRORS})
    def post(self, request: Request, imr_id: int) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        imr = services.imr_extend(imr_id=imr_id, user=request.user, reason=data["reason"])
        return _imr_response(request, imr)


class ImrDeterminationApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ImrDetermination"  # nested InputSerializers would share one name

        determination = serializers.ChoiceField(choices=ImrDetermination.choices)
        analysis = serializers.CharField(max_length=20000)
        reviewer_qualifications = serializers.ListField(
            child=serializers.CharField(max_length=2000), allow_empty=False, max_length=10
        )
        received_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(
        request=inline_serializer(
            "ImrDeterminationUpload",
            {
                "file": serializers.FileField(),
                "determination": serializers.ChoiceField(choices=ImrDetermination.choices),
                "analysis": serializers.CharField(),
                "reviewer_qualifications": serializers.ListField(child=serializers.CharField()),
                "received_at": serializers.DateTimeField(required=False),
            },
        ),
        responses={200: ImrOutput, **ERRORS},
    )
    def post(self, request: Request, imr_id: int) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise DomainError(
                ErrorCode.INVALID, "No file.", fields={"file": ["Attach the determination PDF."]}
            )
        data = valid_input(self.InputSerializer, request.data)
        imr = services.imr_record_determination(
            imr_id=imr_id,
            user=request.user,
            upload=upload,
            determination=data["determination"],
            analysis=data["analysis"],
            reviewer_qualifications=data["reviewer_qualifications"],
            received_at=data.get("received_at"),
        )
        return _imr_response(request, imr)


class ImrFinalDecisionApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ImrFinalDecision"  # nested InputSerializers would share one name

        outcome = serializers.ChoiceField(
            choices=["approved", "modified", "denied", *AppealOutcome.values],
            help_text="On an open request: approved, modified or denied. On a decided request "
            "or one under appeal: upheld, overturned or partially_overturned.",
        )
        rationale = serializers.CharField(max_length=8000)
        reason_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
        criteria_refs = serializers.ListField(
            child=serializers.CharField(max_length=80), required=False, default=list
        )
        lines = LineDecisionInput(many=True, required=False, default=list)

    @extend_schema(request=InputSerializer, responses={200: ImrOutput, **ERRORS})
    def post(self, request: Request, imr_id: int) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        imr = services.imr_final_decision(
            imr_id=imr_id,
            user=request.user,
            outcome=data["outcome"],
            rationale=data["rationale"],
            reason_code=data.get("reason_code", ""),
            criteria_refs=data["criteria_refs"],
            line_decisions=_line_decisions(data),
        )
        return _imr_response(request, imr)


class ImrWithdrawApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ImrWithdraw"  # nested InputSerializers would share one name

        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer, responses={200: ImrOutput, **ERRORS})
    def post(self, request: Request, imr_id: int) -> Response:
        data = valid_input(self.InputSerializer, request.data)
        imr = services.imr_withdraw(imr_id=imr_id, user=request.user, reason=data["reason"])
        return _imr_response(request, imr)
