"""API v1: telephone notice attempts on a request, and reductions or terminations of its
authorized concurrent services (issue 11). Thin views; the rules are in
authorizations.services.notice_calls."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authorizations import services
from authorizations.api import ERRORS, TarDetailOutput, _tar_response, valid_input
from authorizations.models import (
    OralNoticeOutcome,
    OralNoticeParty,
    OralNoticeSubject,
    ServiceReductionKind,
    Tar,
)
from authorizations.transitions import TAR, Action


class TarOralNoticeApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TarOralNotice"  # nested InputSerializers would share one name

        subject = serializers.ChoiceField(choices=OralNoticeSubject.choices)
        party = serializers.ChoiceField(choices=OralNoticeParty.choices)
        phone = serializers.CharField(max_length=30)
        outcome = serializers.ChoiceField(choices=OralNoticeOutcome.choices)
        attempted_at = serializers.DateTimeField(required=False, allow_null=True)
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(request=InputSerializer, responses={201: TarDetailOutput, **ERRORS})
    def post(self, request: Request, tar_id: int) -> Response:
        data = valid_input(
            self.InputSerializer,
            request.data,
            action=(TAR, Action.RECORD_ORAL_NOTICE, request.user),
        )
        services.tar_oral_notice_record(
            tar_id=tar_id,
            user=request.user,
            data=services.OralNoticeInput(
                subject=data["subject"],
                party=data["party"],
                phone=data["phone"],
                outcome=data["outcome"],
                attempted_at=data.get("attempted_at"),
                note=data.get("note", ""),
            ),
        )
        return _tar_response(request, Tar(pk=tar_id), status=201)


class TarReduceServicesApi(APIView):
    class LineInput(serializers.Serializer):
        line_number = serializers.IntegerField(min_value=1)
        outcome = serializers.ChoiceField(choices=["approved", "modified", "denied"])
        approved_units = serializers.IntegerField(min_value=1, required=False, allow_null=True)
        approved_date_from = serializers.DateField(required=False, allow_null=True)
        approved_date_to = serializers.DateField(required=False, allow_null=True)

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TarReduceServices"  # nested InputSerializers would share one name

        kind = serializers.ChoiceField(choices=ServiceReductionKind.choices)
        effective_on = serializers.DateField()
        rationale = serializers.CharField(max_length=8000)
        care_plan_note = serializers.CharField(max_length=4000)
        reason_code = serializers.CharField(max_length=40, required=False, default="")
        criteria_refs = serializers.ListField(
            child=serializers.CharField(max_length=80), required=False, default=list
        )
        lines = serializers.ListField(required=False, default=list)

    @extend_schema(request=InputSerializer, responses={200: TarDetailOutput, **ERRORS})
    def post(self, request: Request, tar_id: int) -> Response:
        data = valid_input(
            self.InputSerializer, request.data, action=(TAR, Action.REDUCE_SERVICES, request.user)
        )
        lines = self.LineInput(data=data["lines"], many=True)
        if not lines.is_valid():
            raise serializers.ValidationError({"lines": lines.errors})
        services.tar_reduce_services(
            tar_id=tar_id,
            user=request.user,
            kind=data["kind"],
            effective_on=data["effective_on"],
            rationale=data["rationale"],
            care_plan_note=data["care_plan_note"],
            reason_code=data["reason_code"] or "medical_necessity",
            criteria_refs=data["criteria_refs"],
            line_decisions=[services.LineDecision(**line) for line in lines.validated_data],
        )
        return _tar_response(request, Tar(pk=tar_id))
