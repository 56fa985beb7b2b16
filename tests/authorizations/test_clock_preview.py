import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("received_at", "request_type", "urgency", "due", "rule", "effective"),
    [
        # Friday evening routine: effective receipt Monday 08:00; 7 calendar days binds.
        (
            "2026-11-20T18:30:00-08:00",
            "pre_service",
            "routine",
            "2026-11-27T23:59:59-08:00",
            "routine_7_calendar_days",
            "2026-11-23T08:00:00-08:00",
        ),
        # Urgent: 72 elapsed hours from the true receipt.
        (
            "2026-11-20T18:30:00-08:00",
            "concurrent",
            "urgent",
            "2026-11-23T18:30:00-08:00",
            "urgent_72_hours",
            "2026-11-20T18:30:00-08:00",
        ),
        (
            "2026-11-20T10:00:00-08:00",
            "post_service",
            "routine",
            "2026-12-20T23:59:59-08:00",
            "post_service_30_calendar_days",
            "2026-11-20T10:00:00-08:00",
        ),
    ],
)
def test_clock_preview_returns_the_binding_rule(
    api, received_at, request_type, urgency, due, rule, effective
):
    response = api("provider").get(
        "/api/v1/clock/preview",
        {"received_at": received_at, "request_type": request_type, "urgency": urgency},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["decision_due_rule"] == rule
    from datetime import datetime

    assert datetime.fromisoformat(body["decision_due_at"]) == datetime.fromisoformat(due)
    assert datetime.fromisoformat(body["effective_received_at"]) == datetime.fromisoformat(
        effective
    )


def test_clock_preview_rejects_bad_input_with_field_errors(api):
    response = api("provider").get(
        "/api/v1/clock/preview",
        {"received_at": "yesterday", "request_type": "soon", "urgency": "routine"},
    )
    assert response.status_code == 400
    assert {"received_at", "request_type"} <= set(response.json()["fields"])


def test_nurse_queue_orders_by_decision_due_time(api, submit):
    from datetime import timedelta

    from django.utils import timezone

    from authorizations.models import Tar

    ids = [submit() for _ in range(3)]
    for hours, tar_id in zip([50, 5, 20], ids, strict=True):
        Tar.objects.filter(pk=tar_id).update(
            decision_due_at=timezone.now() + timedelta(hours=hours)
        )
    body = api("nurse").get("/api/v1/tars/", {"status": "submitted"}).json()
    assert [row["id"] for row in body["results"]] == [ids[1], ids[2], ids[0]]
    soon = (
        api("nurse")
        .get("/api/v1/tars/", {"due_before": (timezone.now() + timedelta(hours=24)).isoformat()})
        .json()
    )
    assert [row["id"] for row in soon["results"]] == [ids[1], ids[2]]
