"""The reports API: the public CMS-0057-F metrics (PRODUCT §10, the JSON shape exactly) and the
blind IRR second review for the assigned nurse or physician."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from reports import irr, metrics
from reports.periods import pacific_today, parse_year
from tar_portal.errors import DomainError, ErrorCode


class _GroupSerializer(serializers.Serializer):
    determined = serializers.IntegerField()
    approved = serializers.IntegerField()
    denied = serializers.IntegerField()
    modified = serializers.IntegerField()
    approved_percent = serializers.FloatField(allow_null=True)
    denied_percent = serializers.FloatField(allow_null=True)
    decision_hours_mean = serializers.FloatField(allow_null=True)
    decision_hours_median = serializers.FloatField(allow_null=True)


class _StandardSerializer(_GroupSerializer):
    appeals_resolved = serializers.IntegerField()
    approved_after_appeal = serializers.IntegerField()
    approved_after_appeal_percent = serializers.FloatField(allow_null=True)


class _ExtendedSerializer(serializers.Serializer):
    determined = serializers.IntegerField()
    count = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)


class _ServiceSerializer(serializers.Serializer):
    codes = serializers.CharField()
    family = serializers.CharField()
    description = serializers.CharField()


class MetricsSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    methodology_version = serializers.IntegerField()
    standard = _StandardSerializer()
    expedited = _GroupSerializer()
    extended_and_approved = _ExtendedSerializer()
    services_requiring_pa = _ServiceSerializer(many=True)


class PriorAuthorizationMetricsApi(APIView):
    """CMS-0057-F public prior-authorization metrics for a calendar year (42 CFR 438.210(f)).
    Public: plan-level aggregates only. `year` defaults to the current year (year to date)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("year", int, description="Calendar year, e.g. 2026 (Pacific time).")
        ],
        responses={200: MetricsSerializer},
    )
    def get(self, request: Request) -> Response:
        year = parse_year(request.query_params.get("year"), default=pacific_today().year)
        return Response(metrics.prior_authorization_metrics(year).data)


# --- IRR second review -------------------------------------------------------------------------


class _LineReviewInput(serializers.Serializer):
    line_number = serializers.IntegerField(min_value=1, max_value=999)
    # A plain string (the service answers 400 for an unknown one): a second "outcome" enum
    # would collide in the schema with the decisions' (drf-spectacular W001).
    outcome = serializers.CharField(max_length=20)


class IrrReviewInput(serializers.Serializer):
    lines = _LineReviewInput(many=True, allow_empty=False)
    criteria_not_met = serializers.ListField(
        child=serializers.CharField(max_length=80), required=False, default=list, max_length=200
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class IrrCaseSerializer(serializers.Serializer):
    """The blind case: never the original outcome, rationale, status, letters or history."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    audit_year = serializers.IntegerField()
    status = serializers.CharField()
    request_type = serializers.CharField()
    urgency = serializers.CharField()
    urgency_reason = serializers.CharField()
    place_of_service = serializers.CharField()
    received_on = serializers.CharField()
    lines = serializers.ListField(child=serializers.DictField())
    answers = serializers.ListField(child=serializers.DictField())
    documents = serializers.ListField(child=serializers.DictField())
    criteria = serializers.ListField(child=serializers.DictField())
    outcome_choices = serializers.ListField(child=serializers.CharField())
    review = serializers.DictField(allow_null=True)


class IrrCaseSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    audit_year = serializers.IntegerField()
    status = serializers.CharField()


def _reviewer(request: Request) -> None:
    if not request.user.has_role(Role.NURSE, Role.PHYSICIAN):
        raise DomainError(
            ErrorCode.PERMISSION_DENIED, "Only assigned nurses and physicians review IRR cases."
        )


class IrrCaseListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: IrrCaseSummarySerializer(many=True)})
    def get(self, request: Request) -> Response:
        _reviewer(request)
        return Response(
            [
                {
                    "id": c.pk,
                    "reference": c.reference,
                    "audit_year": c.audit.year,
                    "status": c.status,
                }
                for c in irr.assigned_cases(user=request.user)
            ]
        )


class IrrCaseDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: IrrCaseSerializer})
    def get(self, request: Request, case_id: int) -> Response:
        _reviewer(request)
        return Response(irr.blind_case(case_id=case_id, user=request.user))


class IrrCaseReviewApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=IrrReviewInput, responses={200: IrrCaseSerializer})
    def post(self, request: Request, case_id: int) -> Response:
        _reviewer(request)
        body = IrrReviewInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        irr.irr_review(
            case_id=case_id,
            user=request.user,
            lines=[
                irr.LineReview(line_number=x["line_number"], outcome=x["outcome"])
                for x in data["lines"]
            ],
            criteria_not_met=data["criteria_not_met"],
            comment=data["comment"],
        )
        return Response(irr.blind_case(case_id=case_id, user=request.user))
