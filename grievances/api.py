"""REST API for grievances under /api/v1/grievances/ (PRODUCT §8 style: one thin view per
operation, errors as {"code", "message", "fields"}). Every read is scoped to the caller
(grievances.selectors); every change goes through grievances.services and the kernel."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authorizations.api import ERRORS, actions_output, valid_input
from grievances import selectors, services
from grievances.machines import GRIEVANCE, GrievanceAction
from grievances.models import Grievance, GrievanceChannel, GrievanceKind
from tar_portal.pagination import Pagination


class GrievanceOutput(serializers.ModelSerializer):
    member = serializers.CharField(source="member.cin")
    tar = serializers.CharField(source="tar.number", allow_null=True, default=None)
    filed_by = serializers.CharField(source="filed_by.username")
    actions = serializers.SerializerMethodField()

    class Meta:
        model = Grievance
        fields = [
            "id",
            "number",
            "status",
            "member",
            "tar",
            "kind",
            "description",
            "filer_kind",
            "channel",
            "filed_by",
            "consent_signed_on",
            "consent_reference",
            "expedited",
            "expedited_reason",
            "received_at",
            "acknowledgement_due_at",
            "acknowledgement_due_rule",
            "resolution_due_at",
            "resolution_due_rule",
            "acknowledged_at",
            "resolved_at",
            "resolution",
            "acknowledgement_overdue_at",
            "breached_at",
            "actions",
        ]

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=GrievanceAction))
    )
    def get_actions(self, obj: Grievance) -> list[str]:
        return actions_output(GRIEVANCE, obj, self.context.get("user"))


def _out(request: Request, grievance: Grievance, status: int = 200) -> Response:
    grievance = selectors.grievance_get(user=request.user, grievance_id=grievance.pk)
    return Response(GrievanceOutput(grievance, context={"user": request.user}).data, status=status)


class GrievanceListCreateApi(APIView):
    pagination_class = Pagination  # the schema shows the paginated shape the view answers

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GrievanceFile"

        member = serializers.CharField(
            max_length=20, required=False, allow_blank=True, help_text="CIN (not for members)"
        )
        kind = serializers.ChoiceField(choices=GrievanceKind.choices)
        description = serializers.CharField(max_length=services.MAX_TEXT)
        tar = serializers.CharField(
            max_length=20, required=False, allow_blank=True, help_text="TAR number, if any"
        )
        expedited = serializers.BooleanField(required=False, default=False)
        expedited_reason = serializers.CharField(max_length=4000, required=False, allow_blank=True)
        channel = serializers.ChoiceField(choices=GrievanceChannel.choices, required=False)
        received_at = serializers.DateTimeField(required=False, allow_null=True)
        consent_signed_on = serializers.DateField(required=False, allow_null=True)
        consent_reference = serializers.CharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(responses={200: GrievanceOutput(many=True)})
    def get(self, request: Request) -> Response:
        qs = selectors.grievance_list(user=request.user)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(
            GrievanceOutput(page, many=True, context={"user": request.user}).data
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: GrievanceOutput, **ERRORS},
        description=(
            "File a grievance (42 CFR 438.402; H&S 1368): a member for themself, member "
            "services for a member who called, a provider for the member with the member's "
            "written consent (`consent_signed_on`, `consent_reference`). Acknowledgement is "
            "due within 5 calendar days, resolution within 30 (expedited: 72 hours)."
        ),
    )
    def post(self, request: Request) -> Response:
        data = valid_input(
            self.InputSerializer,
            request.data,
            action=(GRIEVANCE, GrievanceAction.FILE, request.user),
        )
        grievance = services.grievance_file(
            user=request.user,
            member_cin=data.get("member", ""),
            kind=data["kind"],
            description=data["description"],
            tar_number=data.get("tar", ""),
            expedited=data["expedited"],
            expedited_reason=data.get("expedited_reason", ""),
            channel=data.get("channel", ""),
            received_at=data.get("received_at"),
            consent_signed_on=data.get("consent_signed_on"),
            consent_reference=data.get("consent_reference", ""),
        )
        return _out(request, grievance, status=201)


class GrievanceDetailApi(APIView):
    @extend_schema(responses={200: GrievanceOutput, **ERRORS})
    def get(self, request: Request, grievance_id: int) -> Response:
        grievance = selectors.grievance_get(user=request.user, grievance_id=grievance_id)
        return Response(GrievanceOutput(grievance, context={"user": request.user}).data)


class GrievanceAcknowledgeApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GrievanceAcknowledge"

        note = serializers.CharField(max_length=4000, required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses={200: GrievanceOutput, **ERRORS})
    def post(self, request: Request, grievance_id: int) -> Response:
        data = valid_input(
            self.InputSerializer,
            request.data,
            action=(GRIEVANCE, GrievanceAction.ACKNOWLEDGE, request.user),
        )
        grievance = services.grievance_acknowledge(
            grievance_id=grievance_id, user=request.user, note=data.get("note", "")
        )
        return _out(request, grievance)


class GrievanceResolveApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GrievanceResolve"

        resolution = serializers.CharField(max_length=services.MAX_TEXT)

    @extend_schema(request=InputSerializer, responses={200: GrievanceOutput, **ERRORS})
    def post(self, request: Request, grievance_id: int) -> Response:
        data = valid_input(
            self.InputSerializer,
            request.data,
            action=(GRIEVANCE, GrievanceAction.RESOLVE, request.user),
        )
        grievance = services.grievance_resolve(
            grievance_id=grievance_id, user=request.user, resolution=data["resolution"]
        )
        return _out(request, grievance)


class GrievanceWithdrawApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "GrievanceWithdraw"

        reason = serializers.CharField(max_length=4000, required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses={200: GrievanceOutput, **ERRORS})
    def post(self, request: Request, grievance_id: int) -> Response:
        data = valid_input(
            self.InputSerializer,
            request.data,
            action=(GRIEVANCE, GrievanceAction.WITHDRAW, request.user),
        )
        grievance = services.grievance_withdraw(
            grievance_id=grievance_id, user=request.user, reason=data.get("reason", "")
        )
        return _out(request, grievance)
