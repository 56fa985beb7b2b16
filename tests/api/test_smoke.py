from datetime import datetime, time, timedelta

import holidays
import pytest
import time_machine
from django.utils import timezone

from authorizations.clocks import PACIFIC


def _next_saturday_morning() -> datetime:
    """10:00 Pacific on the next Saturday with no holiday in the week after it: received on
    a weekend, the 7-calendar-day rule binds alone (received in business hours on a weekday,
    the 5-business-day rule ends at the same instant and, on a tie, is the one named). Near
    today, so the test world's referral and eligibility dates still hold."""
    day = timezone.localdate() + timedelta(days=1)
    closed = holidays.country_holidays("US", subdiv="CA", years=[day.year, day.year + 1])
    while day.weekday() != 5 or any(day + timedelta(days=n) in closed for n in range(9)):
        day += timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=PACIFIC)


@pytest.mark.django_db
def test_provider_submits_a_valid_tar_and_sees_its_clock(api, tar_payload):
    with time_machine.travel(_next_saturday_morning(), tick=False):
        response = api("provider").post("/api/v1/tars/", tar_payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("TAR-")
    assert body["status"] == "submitted"
    assert body["channel"] == "api"
    assert body["decision_due_rule"] == "routine_7_calendar_days"
    assert body["lines"][0]["recommendation"] == "meets_criteria"
    assert body["evaluation"][0]["criteria_set"] == "esi"
