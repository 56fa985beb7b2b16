"""A letter whose worker was killed mid-task is queued again within minutes, with backoff,
until it is delivered or failed; a repeated criteria-copy request makes no second letter."""

from datetime import timedelta

import pytest
from django.utils import timezone

from authorizations import services as tar_services
from authorizations.workflow.outbox import events_dispatch
from notifications import services
from notifications.models import CriteriaCopyRequest, Letter, Notice

pytestmark = pytest.mark.django_db


@pytest.fixture
def owed_provider_notice(submit, world):
    """An approval whose provider notice is owed and was attempted once by a worker that
    died before it finished (attempts 1, nothing sent, no letter)."""
    tar_id = submit()
    tar_services.tar_decide(tar_id=tar_id, user=world.users["nurse"], outcome="approved")
    events_dispatch()  # the notices are recorded; their delivery tasks are lost
    notice = Notice.objects.get(tar_id=tar_id, audience="provider")
    started = timezone.now() - timedelta(minutes=11)
    Notice.objects.filter(pk=notice.pk).update(attempts=1, last_attempt_at=started)
    return notice


def test_a_notice_whose_worker_died_is_queued_again(owed_provider_notice, run_hooks):
    notice = owed_provider_notice
    requeued = run_hooks(services.notices_requeue_stalled)
    assert notice.pk in requeued
    notice.refresh_from_db()
    assert notice.status == "sent"
    assert Letter.objects.filter(notice=notice).count() == 1


def test_a_recent_attempt_is_left_alone_then_backed_off(owed_provider_notice, run_hooks):
    notice = owed_provider_notice
    Notice.objects.filter(pk=notice.pk).update(
        attempts=2, last_attempt_at=timezone.now() - timedelta(minutes=15)
    )
    # Two attempts: stalled only 20 minutes after the last one.
    assert notice.pk not in run_hooks(services.notices_requeue_stalled)
    later = timezone.now() + timedelta(minutes=6)
    assert notice.pk in run_hooks(services.notices_requeue_stalled, now=later)


def test_a_notice_that_never_completes_is_failed_for_staff(owed_provider_notice):
    notice = owed_provider_notice
    last = timezone.now() - timedelta(hours=3)
    Notice.objects.filter(pk=notice.pk).update(
        attempts=services.STALLED_MAX_ATTEMPTS, last_attempt_at=last
    )
    assert notice.pk not in services.notices_requeue_stalled()
    notice.refresh_from_db()
    assert notice.status == "failed"
    assert "repeated attempts" in notice.last_error


def test_asking_again_for_the_criteria_the_same_day_makes_no_second_letter(
    submit, world, run_hooks
):
    tar_id = submit()
    tar_services.tar_decide(tar_id=tar_id, user=world.users["nurse"], outcome="approved")
    member = world.users["member"]
    first = run_hooks(services.criteria_copy_request, tar_id=tar_id, user=member)
    again = [
        run_hooks(services.criteria_copy_request, tar_id=tar_id, user=member) for _ in range(5)
    ]
    assert {request.pk for request in again} == {first.pk}
    assert CriteriaCopyRequest.objects.filter(tar_id=tar_id).count() == 1
    assert Notice.objects.filter(tar_id=tar_id, kind="criteria_copy").count() == 1
    # A day later, while the copy is still being mailed, it is the same copy (issue 15)...
    CriteriaCopyRequest.objects.filter(pk=first.pk).update(
        requested_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    assert run_hooks(services.criteria_copy_request, tar_id=tar_id, user=member).pk == first.pk
    # ...and once it has been mailed, a new request (a member may need it again).
    Notice.objects.filter(tar_id=tar_id, kind="criteria_copy").update(status="sent")
    assert run_hooks(services.criteria_copy_request, tar_id=tar_id, user=member).pk != first.pk
