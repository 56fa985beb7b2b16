"""POST /api/v1/tars/ costs a fixed, small number of SQL statements (issue 16: was 35).

The 201 is built from the objects in hand; the business calendar comes from the per-process
cache; the checks the database enforces (unique number, idempotency key, urgent reason) are
left to it; the number is one upsert. Savepoints are the test's own transaction around the
request (in production the same statements run between BEGIN and COMMIT)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from authorizations.calendar import plan_calendar
from authorizations.models import PlanCalendarVersion, PlanHoliday, Tar
from criteria.models import CriteriaSetSetting

pytestmark = [pytest.mark.django_db, pytest.mark.clock()]

# Reading: member + relationship, eligibility spans, servicing provider, referral, prior
# sessions (the criteria sets with their auto-approval settings come from the per-process copy,
# criteria.services). Writing: number, TAR, history "evaluated", service lines (evaluated),
# history "created", domain event.
SUBMISSION_STATEMENTS = 11
SETS_READ = 'SELECT "criteria_criteriaset"."id"'


def _statements(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if not re.match(r"(RELEASE )?SAVEPOINT", q["sql"])
    ]


def _post(client, payload):
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/api/v1/tars/", payload, format="json")
    assert response.status_code == 201, response.json()
    return response, _statements(captured)


def test_a_submission_costs_eleven_statements(api, tar_payload):
    client = api("provider")
    _post(client, tar_payload())  # warms the per-process caches (calendar, compiled set)
    response, sql = _post(client, tar_payload())
    assert len(sql) == SUBMISSION_STATEMENTS, "\n".join(sql)
    assert sum(s.startswith("INSERT") for s in sql) == 6, "\n".join(sql)
    assert not any("planholiday" in s or "plancalendarversion" in s for s in sql)
    assert not any(s.startswith("UPDATE") for s in sql), "lines are inserted evaluated"
    body = response.json()
    # The 201 built from the objects in hand says what the database holds.
    stored = api("provider").get(f"/api/v1/tars/{body['id']}/").json()
    for key in ("number", "status", "decision_due_at", "lines", "evaluation", "member"):
        assert body[key] == stored[key], key
    assert body["lines"][0]["recommendation"] == "meets_criteria"


def test_with_a_real_token_the_caller_costs_one_more_statement(world, tar_payload):
    """As a client calls it: `Authorization: Token <key>` is one read (the token with its
    user; knox's read of every other token of the user per request is gone), and the user's
    own provider is the servicing provider already read, not `user.provider` and then its
    organization (two reads that force_authenticate's cached user hid)."""
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    from accounts.models import User

    user = world.users["provider"]
    AuthToken.objects.create(user)  # another token of the same user: not read per request
    _, key = AuthToken.objects.create(user)
    assert user.provider_id is not None
    payload = tar_payload(servicing_provider=User.objects.get(pk=user.pk).provider.npi)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    _post(client, payload)
    client = APIClient()  # a fresh client: the user is read again from the token
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    _, sql = _post(client, payload)
    assert len(sql) == SUBMISSION_STATEMENTS + 1, "\n".join(sql)
    assert sum("knox_authtoken" in s for s in sql) == 1


def test_two_lines_cost_one_more_prior_count(api, tar_payload):
    client = api("provider")
    _post(client, tar_payload())
    first = tar_payload()["lines"][0]
    second = {**first, "code": "64484"}
    _, sql = _post(client, tar_payload(lines=[first, second]))
    assert len(sql) == SUBMISSION_STATEMENTS + 1, "\n".join(sql)
    assert not any(s.startswith(SETS_READ) for s in sql)


def test_a_committed_criteria_change_is_seen_by_the_next_submission(
    api, tar_payload, django_capture_on_commit_callbacks
):
    """The sets are a per-process copy under a version: turning auto-approval on or off, or
    publishing a version, is applied by the very next submission (criteria.models bumps it)."""
    client = api("provider")
    response, sql = _post(client, tar_payload())
    assert response.json()["status"] == "submitted"
    with django_capture_on_commit_callbacks(execute=True):
        setting = CriteriaSetSetting.objects.create(set_id="esi", auto_approve=True)
    response, sql = _post(client, tar_payload())
    assert response.json()["status"] == "approved"
    assert any(s.startswith(SETS_READ) for s in sql), "read again after the change"
    _, sql = _post(client, tar_payload())
    assert not any(s.startswith(SETS_READ) for s in sql), "then kept again"
    with django_capture_on_commit_callbacks(execute=True):
        setting.auto_approve = False
        setting.save()
    response, _ = _post(client, tar_payload())
    assert response.json()["status"] == "submitted"


def test_auto_approval_setting_is_read_with_the_set(api, tar_payload):
    CriteriaSetSetting.objects.create(set_id="esi", auto_approve=True)
    response = api("provider").post("/api/v1/tars/", tar_payload(), format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "approved"
    assert Tar.objects.get(pk=response.json()["id"]).status == "approved"


def test_a_calendar_edit_is_seen_by_the_next_clock(world, django_capture_on_commit_callbacks):
    """The cached calendar follows an edit at once (the version is bumped on save/delete)."""
    day = plan_calendar().next_business_day(world.referral.valid_from)
    assert plan_calendar().is_business_day(day)
    with django_capture_on_commit_callbacks(execute=True):
        PlanHoliday.objects.create(date=day, name="Fire", source="UM manager")
    assert not plan_calendar().is_business_day(day)
    with django_capture_on_commit_callbacks(execute=True):
        PlanHoliday.objects.filter(date=day).delete()
    assert plan_calendar().is_business_day(day)


def test_the_calendar_costs_no_query_until_an_edit_is_committed(
    world, django_capture_on_commit_callbacks, django_assert_num_queries
):
    from django.core.cache import cache

    plan_calendar()
    with django_assert_num_queries(0):
        plan_calendar()
    day = plan_calendar().next_business_day(world.referral.valid_from)
    with django_capture_on_commit_callbacks(execute=True):
        PlanHoliday.objects.create(date=day, name="Fire", source="UM manager")
        # Before the commit the shared key is gone: every process reads the row, and the
        # uncommitted token is never published.
        assert cache.get(PlanCalendarVersion.CACHE_KEY) is None
        assert not plan_calendar().is_business_day(day)
        assert cache.get(PlanCalendarVersion.CACHE_KEY) is None
    assert not plan_calendar().is_business_day(day)
    with django_assert_num_queries(0):
        assert not plan_calendar().is_business_day(day)
    # Another process's edit: the shared key changes; this process reads the rows again.
    cache.set(PlanCalendarVersion.CACHE_KEY, "edit-elsewhere", None)
    with django_assert_num_queries(1):
        plan_calendar()
