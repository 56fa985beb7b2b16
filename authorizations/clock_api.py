from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authorizations import clocks
from authorizations.calendar import SUPPORTED_YEARS, plan_calendar
from authorizations.models import RequestType, Urgency
from tar_portal.errors import invalid

_YEARS_TEXT = f"between {SUPPORTED_YEARS[0]} and {SUPPORTED_YEARS[-1]}"


class ClockPreviewApi(APIView):
    """What the clock would say for a request received at `received_at` (default: now), so a
    provider's form can show "expected decision by" before submitting (PRODUCT §8)."""

    class InputSerializer(serializers.Serializer):
        received_at = serializers.DateTimeField(required=False)
        request_type = serializers.ChoiceField(choices=RequestType.choices)
        urgency = serializers.ChoiceField(choices=Urgency.choices)

        def validate_received_at(self, value):
            # The business calendar covers SUPPORTED_YEARS only: a 400, not a 500, outside.
            if value is not None and value.year not in SUPPORTED_YEARS:
                raise serializers.ValidationError(f"Use a date {_YEARS_TEXT}.")
            return value

    class OutputSerializer(serializers.Serializer):
        received_at = serializers.DateTimeField()
        effective_received_at = serializers.DateTimeField()
        decision_due_at = serializers.DateTimeField()
        decision_due_rule = serializers.CharField()
        candidates = serializers.ListField(child=serializers.DictField())
        provider_notice_due_at = serializers.DateTimeField(allow_null=True)
        provider_notice_rule = serializers.CharField()
        extension_max_count = serializers.IntegerField()
        extension_latest_due_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("received_at", str, description="ISO-8601; default now"),
            OpenApiParameter("request_type", str, required=True, enum=RequestType.values),
            OpenApiParameter("urgency", str, required=True, enum=Urgency.values),
        ],
        responses={200: OutputSerializer},
    )
    def get(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        received_at = data.get("received_at") or timezone.now()
        calendar = plan_calendar()
        kwargs = {
            "received_at": received_at,
            "request_type": data["request_type"],
            "urgency": data["urgency"],
            "calendar": calendar,
        }
        try:
            deadline = clocks.decision_deadline(**kwargs)
            # Before a decision exists the provider notice is due by the rule that will apply;
            # for routine requests that is 24 hours after the (future) decision.
            notice = clocks.provider_notice_deadline(**kwargs, decided_at=None)
            policy = clocks.extension_policy(**kwargs)
        except clocks.ClockError as exc:
            # A deadline that would fall past the calendar's last year (late in 2040).
            raise invalid(
                "The clock cannot be computed for this date.",
                received_at=f"Use a date {_YEARS_TEXT}.",
            ) from exc
        routine_rule = clocks.Rule.PROVIDER_NOTICE_24_HOURS_AFTER_DECISION
        return Response(
            self.OutputSerializer(
                {
                    "received_at": received_at,
                    "effective_received_at": deadline.effective_received_at,
                    "decision_due_at": deadline.due_at,
                    "decision_due_rule": deadline.rule,
                    "candidates": [
                        {"rule": rule, "due_at": due.isoformat()}
                        for rule, due in deadline.candidates
                    ],
                    "provider_notice_due_at": notice.due_at if notice else None,
                    "provider_notice_rule": notice.rule if notice else routine_rule,
                    "extension_max_count": policy.max_count,
                    "extension_latest_due_at": policy.latest_due_at,
                }
            ).data
        )
