"""Appeal clocks (PRODUCT §4; 42 CFR 438.402(c)(2)(ii), 438.408(b), (c)): the 60-day filing
window, the 30-day and 72-hour resolution clocks, one extension of up to 14 days, and the
deadline sweep that marks a missed appeal exhausted exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from appeals import services as appeals
from appeals.models import Appeal, AppealStatus
from appeals.sweep import appeal_deadline_sweep as deadline_sweep
from authorizations.models import Decision, HistoryEntry
from notifications.models import Notice, NoticeKind
from tar_portal.errors import DomainError, ErrorCode
from tests.appeals.conftest import PACIFIC, decision_of, end_of_day, error, pacific

pytestmark = pytest.mark.django_db


def _decision_day(tar_id: int):
    return timezone.localtime(decision_of(tar_id).decided_at, PACIFIC).date()


def _file(world, tar_id: int, *, now, expedited: bool = False) -> Appeal:
    return appeals.appeal_file(
        tar_id=tar_id,
        user=world.users["member"],
        reason="The pain goes down my leg.",
        expedited=expedited,
        expedited_reason="I cannot walk." if expedited else "",
        now=now,
    )


# --- filing window: 60 calendar days of the notice date -------------------------------------


def test_an_appeal_filed_on_day_60_is_on_time(world, denied):
    tar_id = denied()
    day_60 = _decision_day(tar_id) + timedelta(days=60)
    appeal = _file(world, tar_id, now=pacific(day_60, 23, 59, 0))
    assert appeal.late is False
    assert appeal.notice_date == _decision_day(tar_id)
    assert appeal.filing_deadline_at == end_of_day(day_60)


def test_an_appeal_filed_on_day_61_is_accepted_logged_and_flagged_late(world, denied):
    tar_id = denied()
    day_61 = _decision_day(tar_id) + timedelta(days=61)
    appeal = _file(world, tar_id, now=pacific(day_61, 0, 0, 1))
    assert appeal.late is True
    assert appeal.status == AppealStatus.RECEIVED  # accepted, never lost
    filed = HistoryEntry.objects.get(tar_id=tar_id, action="appeal_filed")
    assert filed.detail["late"] is True
    assert filed.detail["appeal"] == appeal.pk


def test_member_services_enters_a_late_appeal_with_its_true_receipt_time(denied, file_appeal):
    tar_id = denied()
    decided = timezone.now() - timedelta(days=70)
    Decision.objects.filter(tar_id=tar_id).update(decided_at=decided)
    received = timezone.now() - timedelta(days=2)  # a letter opened late: 68 days on
    response = file_appeal(tar_id, "memberservices", received_at=received.isoformat())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["filer"] == "member_services"
    assert body["late"] is True
    # The resolution clock runs from the true receipt, not from the data entry.
    day = timezone.localtime(received, PACIFIC).date()
    assert parse_datetime(body["resolution_due_at"]) == end_of_day(day + timedelta(days=30))


def test_only_member_services_may_set_the_receipt_time(denied, file_appeal):
    tar_id = denied()
    body = error(
        file_appeal(tar_id, "member", received_at=timezone.now().isoformat()), 400, "invalid"
    )
    assert "received_at" in body["fields"]


# --- resolution clocks -----------------------------------------------------------------------


def test_a_standard_appeal_is_due_at_the_end_of_the_30th_calendar_day(world, denied):
    tar_id = denied()
    received_day = _decision_day(tar_id) + timedelta(days=3)
    appeal = _file(world, tar_id, now=pacific(received_day, 9, 30))
    assert appeal.resolution_due_at == end_of_day(received_day + timedelta(days=30))
    assert appeal.resolution_due_rule == "appeal_standard_30_calendar_days"
    assert appeal.original_resolution_due_at == appeal.resolution_due_at


def test_an_expedited_appeal_is_due_72_hours_after_receipt(world, denied):
    tar_id = denied()
    received = pacific(_decision_day(tar_id) + timedelta(days=2), 16, 45)
    appeal = _file(world, tar_id, now=received, expedited=True)
    assert appeal.resolution_due_at == received + timedelta(hours=72)
    assert appeal.resolution_due_rule == "appeal_expedited_72_hours"


def test_an_expedited_appeal_states_why(denied, file_appeal):
    body = error(file_appeal(denied(), expedited=True), 400, "invalid")
    assert "expedited_reason" in body["fields"]


# --- one extension of up to 14 calendar days --------------------------------------------------


def _extend(api, appeal_id: int, persona: str = "nurse", **body):
    payload = {"reason": "requested_by_member", "note": "The member is sending MRI records."}
    payload.update(body)
    return api(persona).post(f"/api/v1/appeals/{appeal_id}/extend", payload, format="json")


def test_one_extension_of_14_days_owes_a_notice_and_a_second_is_refused(
    api, appeal_id, django_capture_on_commit_callbacks
):
    appeal = Appeal.objects.get(pk=appeal_id)
    cap = end_of_day(
        timezone.localtime(appeal.resolution_due_at, PACIFIC).date() + timedelta(days=14)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = _extend(api, appeal_id)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert parse_datetime(body["resolution_due_at"]) == cap
    assert body["original_resolution_due_at"] != body["resolution_due_at"]
    assert body["extension"]["reason"] == "requested_by_member"
    notices = Notice.objects.filter(tar_id=appeal.tar_id, kind=NoticeKind.DELAY)
    assert {n.audience for n in notices} == {"member", "provider"}
    assert {n.event_key for n in notices} == {f"appeal_extension:{appeal.extension.pk}"}
    # 42 CFR 438.408(c)(2)(ii): written notice within 2 calendar days.
    assert all(n.due_at <= timezone.now() + timedelta(days=3) for n in notices)

    error(_extend(api, appeal_id, "physician2"), 409, "clock_rule")


def test_an_extension_may_not_pass_14_calendar_days(api, appeal_id):
    appeal = Appeal.objects.get(pk=appeal_id)
    cap = end_of_day(
        timezone.localtime(appeal.resolution_due_at, PACIFIC).date() + timedelta(days=14)
    )
    too_far = (cap + timedelta(seconds=1)).isoformat()
    body = error(_extend(api, appeal_id, new_due_at=too_far), 409, "clock_rule")
    assert body["fields"] == {"new_due_at": ["extension_beyond_cap"]}
    assert _extend(api, appeal_id, new_due_at=cap.isoformat()).status_code == 200


def test_an_extension_must_be_taken_before_the_deadline(world, appeal_id):
    appeal = Appeal.objects.get(pk=appeal_id)
    with pytest.raises(DomainError) as caught:
        appeals.appeal_extend(
            appeal_id=appeal_id,
            user=world.users["nurse"],
            reason="information_needed",
            note="Waiting for the surgeon's notes.",
            now=appeal.resolution_due_at,
        )
    assert caught.value.code == ErrorCode.CLOCK_RULE


def test_providers_and_members_cannot_extend_an_appeal(api, appeal_id):
    error(_extend(api, appeal_id, "member"), 403, "permission_denied")
    error(_extend(api, appeal_id, "provider"), 403, "permission_denied")


# --- the sweep: exhausted exactly once ---------------------------------------------------------


def test_a_missed_appeal_is_exhausted_exactly_once_and_owes_the_member_a_notice(
    appeal_id, django_capture_on_commit_callbacks
):
    appeal = Appeal.objects.get(pk=appeal_id)
    due = appeal.resolution_due_at
    with django_capture_on_commit_callbacks(execute=True):
        before = deadline_sweep(now=due - timedelta(seconds=1))
        first = deadline_sweep(now=due)
        second = deadline_sweep(now=due + timedelta(minutes=1))
    assert before.exhausted == 0
    assert first.exhausted == 1
    assert second.exhausted == 0
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.EXHAUSTED
    assert appeal.exhausted_at == due  # the instant the deadline was missed
    assert HistoryEntry.objects.filter(tar_id=appeal.tar_id, action="appeal_exhausted").count() == 1
    notice = Notice.objects.get(tar_id=appeal.tar_id, event_key=f"appeal_exhausted:{appeal.pk}")
    assert notice.kind == NoticeKind.UNTIMELY
    assert notice.audience == "member"


def test_an_exhausted_appeal_can_still_be_resolved_late(world, appeal_id):
    appeal = Appeal.objects.get(pk=appeal_id)
    deadline_sweep(now=appeal.resolution_due_at)
    late = appeal.resolution_due_at + timedelta(hours=2)
    resolved = appeals.appeal_decide(
        appeal_id=appeal_id,
        user=world.users["physician2"],
        outcome="overturned",
        rationale="The MRI shows L5 nerve-root compression.",
        now=late,
    )
    assert resolved.status == AppealStatus.RESOLVED
    assert resolved.exhausted_at is not None  # the record of the miss stays
    assert resolved.notice_due_at == end_of_day(timezone.localtime(late, PACIFIC).date())


def test_a_resolved_or_extended_appeal_is_not_exhausted_by_its_old_deadline(api, appeal_id):
    appeal = Appeal.objects.get(pk=appeal_id)
    old_due = appeal.resolution_due_at
    assert _extend(api, appeal_id).status_code == 200
    assert deadline_sweep(now=old_due + timedelta(minutes=5)).exhausted == 0
    assert Appeal.objects.get(pk=appeal_id).status == AppealStatus.RECEIVED
