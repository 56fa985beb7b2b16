"""The deadline engine (PRODUCT §4): alerts, breaches and escalation, each
exactly once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from authorizations.deadlines import deadline_sweep
from authorizations.models import Breach, DeadlineAlert, Escalation, HistoryEntry, Tar
from notifications.models import Notice, NoticeKind
from tests.conftest import BUSINESS_MORNING

pytestmark = pytest.mark.django_db


def _due_in(tar_id: int, delta: timedelta) -> Tar:
    Tar.objects.filter(pk=tar_id).update(decision_due_at=timezone.now() + delta)
    return Tar.objects.get(pk=tar_id)


def test_due_soon_alerts_are_raised_once_per_horizon(submit):
    tar = _due_in(submit(), timedelta(hours=3))
    now = timezone.now()
    first = deadline_sweep(now=now, alert_hours=[24, 4])
    second = deadline_sweep(now=now + timedelta(minutes=1), alert_hours=[24, 4])
    assert first.alerts == 2
    assert second.alerts == 0
    assert sorted(tar.deadline_alerts.values_list("hours_before", flat=True)) == [4, 24]


def test_only_the_24_hour_alert_when_the_deadline_is_further_than_4_hours(submit):
    tar = _due_in(submit(), timedelta(hours=10))
    deadline_sweep(now=timezone.now(), alert_hours=[24, 4])
    assert list(tar.deadline_alerts.values_list("hours_before", flat=True)) == [24]


def test_no_alert_for_a_deadline_beyond_the_horizon(submit):
    tar = _due_in(submit(), timedelta(hours=30))
    deadline_sweep(now=timezone.now(), alert_hours=[24, 4])
    assert not tar.deadline_alerts.exists()


def test_an_extension_gives_new_alerts_for_the_new_deadline(submit):
    tar = _due_in(submit(), timedelta(hours=3))
    deadline_sweep(now=timezone.now(), alert_hours=[4])
    Tar.objects.filter(pk=tar.pk).update(
        decision_due_at=tar.decision_due_at + timedelta(minutes=30)
    )
    deadline_sweep(now=timezone.now(), alert_hours=[4])
    assert DeadlineAlert.objects.filter(tar=tar).count() == 2


def test_breach_is_marked_once_with_escalation_history_and_untimely_notice(
    submit, world, django_capture_on_commit_callbacks
):
    tar = _due_in(submit(), timedelta(minutes=-5))
    untouched = _due_in(submit(), timedelta(hours=5))
    world.users["manager"].email = "manager@example.org"
    world.users["manager"].save()

    with django_capture_on_commit_callbacks(execute=True):
        first = deadline_sweep(now=timezone.now())
        second = deadline_sweep(now=timezone.now())

    assert first.breached_tar_ids == [tar.pk]
    assert second.breaches == 0
    tar.refresh_from_db()
    assert tar.breached_at == tar.decision_due_at  # the instant the deadline was missed
    assert tar.status == "submitted"  # still open: a decision is still owed
    assert Breach.objects.filter(tar=tar).count() == 1
    escalation = Escalation.objects.get(tar=tar)
    assert escalation.notified_at is not None
    assert set(escalation.roles) == {"manager", "physician"}
    assert HistoryEntry.objects.filter(tar=tar, action="breached").count() == 1
    untimely = Notice.objects.get(tar=tar, kind=NoticeKind.UNTIMELY)
    assert untimely.audience == "member"
    # Owed by the end of the day the breach was recorded, never before it was seen.
    assert untimely.due_at > Breach.objects.get(tar=tar).detected_at
    assert len(mail.outbox) == 1
    assert tar.number in mail.outbox[0].body
    assert tar.member.last_name not in mail.outbox[0].body  # no PHI in e-mail
    untouched.refresh_from_db()
    assert untouched.breached_at is None


def test_decided_requests_never_breach(submit, api):
    tar_id = submit()
    assert (
        api("nurse")
        .post(f"/api/v1/tars/{tar_id}/decision", {"outcome": "approved"}, format="json")
        .status_code
        == 200
    )
    _due_in(tar_id, timedelta(hours=-1))
    assert deadline_sweep(now=timezone.now()).breaches == 0


# "Yesterday" is now minus 24 hours: late on the 25-hour day daylight saving ends, that is still
# today, the deadline has not passed and nothing breaches; and a sweep just before midnight
# would owe the notice by the end of a day the test no longer calls today.
@pytest.mark.clock(BUSINESS_MORNING)
def test_a_deadline_missed_at_midnight_owes_the_notice_by_the_end_of_the_next_day(
    submit, django_capture_on_commit_callbacks
):
    from authorizations import clocks

    tar = _due_in(submit(), timedelta(days=-1))
    end_of_yesterday = clocks.untimely_notice_deadline(breached_at=tar.decision_due_at).due_at
    Tar.objects.filter(pk=tar.pk).update(decision_due_at=end_of_yesterday)
    with django_capture_on_commit_callbacks(execute=True):
        deadline_sweep(now=timezone.now())
    untimely = Notice.objects.get(tar=tar, kind=NoticeKind.UNTIMELY)
    today_end = clocks.untimely_notice_deadline(breached_at=timezone.now()).due_at
    assert untimely.due_at == today_end > end_of_yesterday


def test_catch_up_after_an_outage_breaches_everything_that_fell_due(submit):
    ids = [submit() for _ in range(3)]
    for hours, tar_id in zip([-30, -8, -1], ids, strict=True):
        _due_in(tar_id, timedelta(hours=hours))
    result = deadline_sweep(now=timezone.now())
    assert sorted(result.breached_tar_ids) == sorted(ids)
    assert Breach.objects.count() == 3
