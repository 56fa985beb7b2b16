"""API v1: coverage requirements (PRODUCT §5) and criteria evaluation (PRODUCT §6) for a
member: the member's exemptions and the plan's own approved sessions come from records the
caller may see (authorizations.selectors)."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authorizations import selectors
from authorizations.services.evaluation import evaluate_for_member
from criteria import catalog
from criteria.api import COVERAGE_OUTPUT, EVALUATION_OUTPUT, criteria_error
from criteria.coverage import MemberFacts
from criteria.engine import CriteriaError
from criteria.pa_list import coverage_lookup
from tar_portal.errors import DomainError, ErrorCode


class CoverageRequirementsApi(APIView):
    class InputSerializer(serializers.Serializer):
        member = serializers.CharField(max_length=20, required=False)
        code = serializers.CharField(max_length=10)
        date = serializers.DateField(required=False)
        criteria_set = serializers.CharField(max_length=40, required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("member", str, description="CIN"),
            OpenApiParameter("code", str, required=True),
            OpenApiParameter("date", str, description="YYYY-MM-DD; default today"),
            OpenApiParameter("criteria_set", str),
        ],
        responses={200: COVERAGE_OUTPUT},
    )
    def get(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        day = data.get("date") or timezone.localdate()
        facts = None
        if data.get("member"):
            # The exemptions reveal clinical flags: only for members the caller may see.
            member = selectors.member_get(user=request.user, cin=data["member"])
            facts = MemberFacts(
                eligible_on_date=member.is_eligible_on(day),
                hospice=member.hospice,
                terminal_condition=member.terminal_condition,
                cancer=member.cancer_diagnosis,
            )
        try:
            coverage = coverage_lookup(
                code=data["code"],
                service_date=day,
                member=facts,
                chosen_set=data.get("criteria_set") or None,
            )
        except CriteriaError as exc:
            raise criteria_error(exc) from exc
        body = coverage.as_dict()
        body["criteria_set"] = (
            {"id": coverage.criteria_set, "version": coverage.criteria_set_version}
            if coverage.criteria_set
            else None
        )
        body["question_details"] = [
            catalog.QUESTIONS[key] for key in coverage.questions if key in catalog.QUESTIONS
        ]
        return Response(body)


class CriteriaEvaluateApi(APIView):
    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=10)
        answers = serializers.DictField(default=dict)
        member = serializers.CharField(max_length=20, required=False)
        criteria_set = serializers.CharField(max_length=40, required=False)
        date = serializers.DateField(required=False)

    @extend_schema(request=InputSerializer, responses={200: EVALUATION_OUTPUT})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        errors = catalog.validate_answers(data["answers"])
        if errors:
            raise DomainError(
                ErrorCode.INVALID,
                "Some answers are not valid; see fields.",
                fields={f"answers.{k}": [v] for k, v in errors.items()},
            )
        member_id = None
        if data.get("member"):
            member_id = selectors.member_get(user=request.user, cin=data["member"]).pk
        try:
            _set, evaluation, prior = evaluate_for_member(
                code=data["code"],
                answers=data["answers"],
                chosen_set=data.get("criteria_set") or None,
                on=data.get("date") or timezone.localdate(),
                member_id=member_id,
            )
        except CriteriaError as exc:
            raise criteria_error(exc) from exc
        return Response(
            {
                **evaluation.as_dict(),
                "missing_answers": list(evaluation.missing_answers),
                "plan_prior_sessions": prior,
            }
        )
