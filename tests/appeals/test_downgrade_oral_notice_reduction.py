"""Issue 11 row 16: an expedited appeal moved to the standard timeframe (42 CFR 438.410(c)),
telephone notice attempts recorded (438.408(c)(2)(i), 438.410(c)(2); H&S 1367.01(h)(3)), and
reductions or terminations of authorized concurrent services with the 10-day advance notice
(42 CFR 431.211) and continued care for an appeal filed in time (438.420)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from appeals import services as appeals
from appeals.models import Appeal
from authorizations.models import HistoryEntry, OralNotice, ServiceReduction, Tar, TarStatus
from authorizations.workflow.outbox import events_dispatch
from notifications.models import Letter, Notice, NoticeKind
from tests.appeals.conftest import PACIFIC, end_of_day, error, pdf_text
from tests.conftest import BUSINESS_MORNING

pytestmark = [pytest.mark.django_db, pytest.mark.clock(BUSINESS_MORNING)]

REASON = "My pain runs down my leg every day; I need this injection."
CALL = {"party": "member", "phone": "(707) 555-0123", "outcome": "left_message"}
DOWNGRADE = {
    "reason": "The member can walk and works; a 30-day review does not endanger her health.",
    "oral_notice": CALL,
}


def _expedited_appeal(api, tar_id: int, persona: str = "member", **body) -> int:
    response = api(persona).post(
        f"/api/v1/tars/{tar_id}/appeals",
        {"reason": REASON, "expedited": True, "expedited_reason": "I cannot sleep.", **body},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def _letter_text(tar_id: int, kind: str, audience: str) -> str:
    letter = Letter.objects.get(tar_id=tar_id, kind=kind, audience=audience)
    with letter.file.open("rb") as handle:
        return pdf_text(handle.read())


# --- the downgrade (438.410(c)) ----------------------------------------------------------------


def test_an_expedited_appeal_is_moved_to_standard_with_oral_and_written_notice(
    api, world, denied, django_capture_on_commit_callbacks
):
    tar_id = denied()
    appeal_id = _expedited_appeal(api, tar_id)
    assert "downgrade" in api("nurse").get(f"/api/v1/appeals/{appeal_id}/").json()["actions"]

    with django_capture_on_commit_callbacks(execute=True):
        response = api("nurse").post(
            f"/api/v1/appeals/{appeal_id}/downgrade", DOWNGRADE, format="json"
        )
        events_dispatch()
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["expedited"] is False
    # 438.408(b)(2): 30 calendar days from the appeal's receipt (Wed 14 April 2027).
    day = BUSINESS_MORNING.date()
    assert datetime.fromisoformat(body["resolution_due_at"]) == end_of_day(day + timedelta(30))
    assert body["resolution_due_rule"] == "appeal_downgraded_30_calendar_days"
    # 438.410(c)(2): written notice within 2 calendar days.
    assert datetime.fromisoformat(body["downgrade_notice_due_at"]) == end_of_day(day + timedelta(2))
    call = OralNotice.objects.get(tar_id=tar_id)
    assert (call.subject, call.party, call.outcome) == (
        "appeal_downgrade",
        "member",
        "left_message",
    )
    assert call.appeal_ref == appeal_id and call.attempted_by == world.users["nurse"]
    entry = HistoryEntry.objects.get(tar_id=tar_id, action="appeal_downgraded")
    assert "555-0123" not in str(entry.detail)  # the number stays off the history

    notice = Notice.objects.get(tar_id=tar_id, kind=NoticeKind.APPEAL_DOWNGRADE, audience="member")
    assert notice.due_at == end_of_day(day + timedelta(2))
    text = _letter_text(tar_id, NoticeKind.APPEAL_DOWNGRADE, "member")
    assert "right to file a grievance" in text
    assert "a 30-day review does not endanger her health" in text
    assert "May 14, 2027" in text


def test_an_expedited_appeal_the_provider_asked_for_cannot_be_downgraded(api, denied):
    tar_id = denied()
    appeal_id = _expedited_appeal(api, tar_id, "provider", member_consent=True)
    assert "downgrade" not in api("nurse").get(f"/api/v1/appeals/{appeal_id}/").json()["actions"]
    error(
        api("nurse").post(f"/api/v1/appeals/{appeal_id}/downgrade", DOWNGRADE, format="json"),
        409,
        "invalid_transition",
    )
    assert Appeal.objects.get(pk=appeal_id).expedited


def test_a_downgrade_needs_a_reason_and_a_clinical_reviewer(api, denied):
    tar_id = denied()
    appeal_id = _expedited_appeal(api, tar_id)
    url = f"/api/v1/appeals/{appeal_id}/downgrade"
    error(api("member").post(url, DOWNGRADE, format="json"), 403, "permission_denied")
    error(api("nurse").post(url, {"reason": " "}, format="json"), 400, "invalid")
    error(
        api("nurse").post(
            url, {**DOWNGRADE, "oral_notice": {**CALL, "outcome": "maybe"}}, format="json"
        ),
        400,
        "invalid",
    )
    assert Appeal.objects.get(pk=appeal_id).expedited
    assert not OralNotice.objects.exists()


def test_a_telephone_notice_about_the_downgrade_can_be_recorded_later(api, denied):
    tar_id = denied()
    appeal_id = _expedited_appeal(api, tar_id)
    url = f"/api/v1/appeals/{appeal_id}/oral-notices"
    body = {**CALL, "subject": "appeal_downgrade", "outcome": "reached"}
    # Nothing is owed by telephone before the downgrade.
    error(api("nurse").post(url, body, format="json"), 400, "invalid")
    assert (
        "record_oral_notice"
        not in api("nurse").get(f"/api/v1/appeals/{appeal_id}/").json()["actions"]
    )
    assert (
        api("nurse")
        .post(
            f"/api/v1/appeals/{appeal_id}/downgrade", {"reason": DOWNGRADE["reason"]}, format="json"
        )
        .status_code
        == 200
    )
    assert (
        "record_oral_notice" in api("nurse").get(f"/api/v1/appeals/{appeal_id}/").json()["actions"]
    )
    recorded = api("memberservices").post(url, body, format="json")
    assert recorded.status_code == 201, recorded.json()
    assert recorded.json()["outcome"] == "reached"
    wrong = api("nurse").post(url, {**body, "subject": "appeal_extension"}, format="json")
    assert error(wrong, 400, "invalid")["fields"]["subject"]


# --- telephone notice of the request's own events ---------------------------------------------


def test_a_telephone_notice_of_an_urgent_decision_is_recorded(api, world, submit, decide):
    tar_id = submit("provider", urgency="urgent", urgency_reason="Severe pain, cannot walk.")
    url = f"/api/v1/tars/{tar_id}/oral-notices"
    body = {**CALL, "subject": "urgent_decision", "party": "provider", "outcome": "reached"}
    # Before the decision there is nothing to tell.
    assert "record_oral_notice" not in api("nurse").get(f"/api/v1/tars/{tar_id}/").json()["actions"]
    error(api("nurse").post(url, body, format="json"), 400, "invalid")
    decide(tar_id, {"outcome": "approved"})
    assert "record_oral_notice" in api("nurse").get(f"/api/v1/tars/{tar_id}/").json()["actions"]
    response = api("nurse").post(url, body, format="json")
    assert response.status_code == 201, response.json()
    call = OralNotice.objects.get(tar_id=tar_id)
    assert call.attempted_by == world.users["nurse"] and call.outcome == "reached"
    assert call.attempted_at == timezone.now()
    error(api("provider").post(url, body, format="json"), 403, "permission_denied")
    error(api("nurse").post(url, {**body, "phone": "12"}, format="json"), 400, "invalid")
    future = (timezone.now() + timedelta(hours=2)).isoformat()
    error(api("nurse").post(url, {**body, "attempted_at": future}, format="json"), 400, "invalid")


# --- reduction or termination of authorized concurrent services -------------------------------


@pytest.fixture
def authorized_concurrent(submit, decide):
    tar_id = submit("provider", request_type="concurrent")
    decide(tar_id, {"outcome": "approved"})
    assert Tar.objects.get(pk=tar_id).status == TarStatus.APPROVED
    return tar_id


def _reduce(api, tar_id: int, days: int, persona: str = "physician", **body):
    payload = {
        "kind": "termination",
        "effective_on": (BUSINESS_MORNING.date() + timedelta(days=days)).isoformat(),
        "rationale": "Two injections gave no lasting relief; a third is not indicated.",
        "care_plan_note": "Told Dr. Lee by phone on 14 April; physical therapy continues.",
        "criteria_refs": ["esi:2026.1:1"],
        **body,
    }
    return api(persona).post(f"/api/v1/tars/{tar_id}/reduce-services", payload, format="json")


def test_a_termination_of_authorized_services_gives_10_days_advance_notice(
    api, authorized_concurrent, django_capture_on_commit_callbacks
):
    tar_id = authorized_concurrent
    assert "reduce_services" in api("physician").get(f"/api/v1/tars/{tar_id}/").json()["actions"]
    body = error(_reduce(api, tar_id, 9), 400, "invalid")
    assert "431.211" in body["fields"]["effective_on"][0]
    assert Tar.objects.get(pk=tar_id).status == TarStatus.APPROVED

    with django_capture_on_commit_callbacks(execute=True):
        response = _reduce(api, tar_id, 11)
        events_dispatch()
    assert response.status_code == 200, response.json()
    tar = Tar.objects.get(pk=tar_id)
    assert tar.status == TarStatus.MODIFIED
    line = tar.lines.get()
    assert line.approved_date_to == BUSINESS_MORNING.date() + timedelta(days=10)
    reduction = ServiceReduction.objects.get(tar=tar)
    # Effective Sun 25 April: mailed by the end of Thu 15 April (10 days before), earlier
    # than 2 business days after the decision (Fri 16 April), so the 10-day rule binds.
    assert reduction.notice_due_at == end_of_day(BUSINESS_MORNING.date() + timedelta(days=1))
    assert reduction.advance_notice_rule == "reduction_notice_10_days_before_effective"
    notice = Notice.objects.get(tar=tar, kind=NoticeKind.MODIFICATION, audience="member")
    assert notice.due_at == reduction.notice_due_at
    text = _letter_text(tar_id, NoticeKind.MODIFICATION, "member")
    assert "The change takes effect on April 25, 2027" in text
    assert "Keeping your services while you appeal" in text


def test_an_appeal_filed_in_time_continues_the_services(api, world, authorized_concurrent):
    tar_id = authorized_concurrent
    assert _reduce(api, tar_id, 20).status_code == 200
    appeal_id = (
        api("member")
        .post(f"/api/v1/tars/{tar_id}/appeals", {"reason": REASON}, format="json")
        .json()["id"]
    )
    assert Appeal.objects.get(pk=appeal_id).continued_care is True


def test_an_appeal_after_the_effective_date_does_not_continue_the_services(
    world, authorized_concurrent, api
):
    tar_id = authorized_concurrent
    assert _reduce(api, tar_id, 12).status_code == 200
    # Later than both 10 days after the notice and the effective date (26 April).
    late = datetime.combine(BUSINESS_MORNING.date() + timedelta(days=13), time(9), tzinfo=PACIFIC)
    appeal = appeals.appeal_file(tar_id=tar_id, user=world.users["member"], reason=REASON, now=late)
    assert appeal.continued_care is False


def test_only_a_physician_reduces_and_only_concurrent_authorized_services(
    api, submit, decide, authorized_concurrent
):
    error(_reduce(api, authorized_concurrent, 12, "nurse"), 403, "physician_required")
    pre_service = submit("provider")
    decide(pre_service, {"outcome": "approved"})
    assert (
        "reduce_services"
        not in api("physician").get(f"/api/v1/tars/{pre_service}/").json()["actions"]
    )
    error(_reduce(api, pre_service, 12), 409, "invalid_transition")
    pending = submit("provider", request_type="concurrent")
    error(_reduce(api, pending, 12), 409, "invalid_transition")
    error(_reduce(api, authorized_concurrent, 12, kind="pause"), 400, "invalid")
    error(_reduce(api, authorized_concurrent, 12, effective_on="soon"), 400, "invalid")
