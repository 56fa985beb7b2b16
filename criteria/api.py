"""API v1: the published criteria sets and their questionnaires (PRODUCT §6). Coverage and
evaluation for a member are served by authorizations.coverage_api (they read the member's
record and the plan's own approvals)."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from criteria import catalog
from criteria.engine import CriteriaError
from criteria.services import criteria_set_in_force, current_criteria_sets
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


def criteria_error(exc: CriteriaError) -> DomainError:
    return DomainError(
        ErrorCode.INVALID,
        exc.message,
        fields={key: [message] for key, message in exc.fields.items()} or {"code": [exc.message]},
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
            raise criteria_error(exc) from exc
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
