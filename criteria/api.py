"""API v1: coverage requirements (PRODUCT §5) and criteria evaluation (PRODUCT §6)."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authorizations import selectors
from criteria import catalog
from criteria.coverage import MemberFacts, coverage_requirement
from criteria.engine import CriteriaError
from criteria.services import criteria_set_in_force, current_criteria_sets, evaluate_line
from tar_portal.errors import DomainError, ErrorCode

_SET_REF = inline_serializer(
    "CriteriaSetRef", {"id": serializers.CharField(), "version": serializers.CharField()}
)
_CRITERION_RESULT = inline_serializer(
    "CriterionResult",
    {
        "id": serializers.CharField(),
        "number": serializers.IntegerField(),
        "text": serializers.CharField(),
        "result": serializers.ChoiceField(choices=["met", "not_met", "unknown"]),
        "facts": serializers.DictField(),
    },
)
COVERAGE_OUTPUT = inline_serializer(
    "CoverageRequirement",
    {
        "tar_required": serializers.BooleanField(),
        "status": serializers.ChoiceField(choices=["required", "not_required", "not_covered"]),
        "reason": serializers.CharField(),
        "source": serializers.CharField(),
        "rule": serializers.CharField(),
        "criteria_set": _SET_REF,
        "questions": serializers.ListField(child=serializers.CharField()),
        "question_details": serializers.ListField(child=serializers.DictField()),
        "requirements": serializers.ListField(child=serializers.CharField()),
    },
)
EVALUATION_OUTPUT = inline_serializer(
    "CriteriaEvaluation",
    {
        "criteria_set": serializers.CharField(allow_null=True),
        "version": serializers.CharField(allow_null=True),
        "recommendation": serializers.ChoiceField(
            choices=["meets_criteria", "needs_information", "refer_to_physician"]
        ),
        "criteria": serializers.ListField(child=_CRITERION_RESULT),
        "missing_answers": serializers.ListField(child=serializers.CharField()),
        "plan_prior_sessions": serializers.IntegerField(),
    },
)
QUESTIONNAIRE_OUTPUT = inline_serializer(
    "Questionnaire",
    {
        "code": serializers.CharField(),
        "criteria_set": _SET_REF,
        "questions": serializers.ListField(child=serializers.DictField()),
    },
)
CRITERIA_SET_OUTPUT = inline_serializer(
    "PublishedCriteriaSet",
    {
        "id": serializers.CharField(),
        "version": serializers.CharField(),
        "title": serializers.CharField(),
        "effective_from": serializers.DateField(),
        "effective_to": serializers.DateField(allow_null=True),
        "sources": serializers.ListField(child=serializers.CharField()),
        "criteria": serializers.ListField(child=serializers.DictField()),
        "disclosure": serializers.DictField(),
    },
)


def _criteria_error(exc: CriteriaError) -> DomainError:
    return DomainError(
        ErrorCode.INVALID,
        exc.message,
        fields={key: [message] for key, message in exc.fields.items()} or {"code": [exc.message]},
    )


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
            coverage = coverage_requirement(
                code=data["code"],
                service_date=day,
                member=facts,
                chosen_set=data.get("criteria_set") or None,
            )
        except CriteriaError as exc:
            raise _criteria_error(exc) from exc
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
            _set, evaluation, prior = evaluate_line(
                code=data["code"],
                answers=data["answers"],
                chosen_set=data.get("criteria_set") or None,
                on=data.get("date") or timezone.localdate(),
                member_id=member_id,
            )
        except CriteriaError as exc:
            raise _criteria_error(exc) from exc
        return Response(
            {
                **evaluation.as_dict(),
                "missing_answers": list(evaluation.missing_answers),
                "plan_prior_sessions": prior,
            }
        )


class CriteriaSetListApi(APIView):
    """The criteria sets in force today, public (H&S Code 1363.5)."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: CRITERIA_SET_OUTPUT.__class__(many=True)})
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "id": s.set_id,
                    "version": s.version,
                    "title": s.title,
                    "effective_from": s.effective_from,
                    "effective_to": s.effective_to,
                    "sources": s.sources,
                    "criteria": [
                        {"number": c["number"], "id": c["id"], "text": c["text"]}
                        for c in s.criteria
                    ],
                    "disclosure": s.definition.get("disclosure"),
                }
                for s in current_criteria_sets()
            ]
        )


class QuestionnaireApi(APIView):
    """The questions to ask for a code (and, where one code serves two purposes, a chosen
    criteria set): exactly what the criteria need, with labels and help text."""

    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=10)
        criteria_set = serializers.CharField(max_length=40, required=False)
        date = serializers.DateField(required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("code", str, required=True),
            OpenApiParameter("criteria_set", str),
            OpenApiParameter("date", str),
        ],
        responses={200: QUESTIONNAIRE_OUTPUT},
    )
    def get(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        day = data.get("date") or timezone.localdate()
        try:
            set_id = catalog.criteria_set_for(data["code"], data.get("criteria_set") or None)
        except CriteriaError as exc:
            raise _criteria_error(exc) from exc
        criteria_set = criteria_set_in_force(set_id=set_id, on=day) if set_id else None
        return Response(
            {
                "code": data["code"].strip().upper(),
                "criteria_set": (
                    {"id": criteria_set.set_id, "version": criteria_set.version}
                    if criteria_set
                    else None
                ),
                "questions": catalog.questions_for(criteria_set.definition) if criteria_set else [],
            }
        )
