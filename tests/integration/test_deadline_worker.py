"""The deadline engine with a real Celery worker against Redis (PRODUCT §4): two sweeps at
once still give exactly one breach and one escalation per TAR, and the first sweep after an
outage catches up on everything that fell due while the worker was down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery import group
from django.utils import timezone

from authorizations.models import Breach, DeadlineAlert, Escalation, HistoryEntry, Tar
from authorizations.tasks import deadline_sweep
from notifications.models import Notice
from tests.integration.processes import start_worker, wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_overlapping_sweeps_breach_once_and_catch_up_after_outage(submit, worker_queue, world):
    world.users["manager"].email = "manager@example.org"
    world.users["manager"].save()
    # The worker is down: three deadlines pass (hours ago) and one falls due within 2 hours.
    overdue = [submit() for _ in range(3)]
    for hours, tar_id in zip([-9, -4, -1], overdue, strict=True):
        Tar.objects.filter(pk=tar_id).update(
            decision_due_at=timezone.now() + timedelta(hours=hours)
        )
    soon = submit()
    Tar.objects.filter(pk=soon).update(decision_due_at=timezone.now() + timedelta(hours=2))

    worker = start_worker(worker_queue)
    try:
        # Two sweeps at once, as when beat fires while a retried sweep still runs.
        results = group(deadline_sweep.s(), deadline_sweep.s()).apply_async().get(timeout=60)
        assert sum(r["breaches"] for r in results) == 3
        wait_for(lambda: Escalation.objects.filter(notified_at__isnull=False).count() == 3)
        wait_for(lambda: Notice.objects.filter(kind="untimely").count() == 3)
        # And a third sweep later changes nothing.
        again = deadline_sweep.apply_async().get(timeout=60)
        assert again["breaches"] == 0 and again["alerts"] == 0
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    for tar_id in overdue:
        assert Breach.objects.filter(tar_id=tar_id).count() == 1
        assert Escalation.objects.filter(tar_id=tar_id).count() == 1
        assert HistoryEntry.objects.filter(tar_id=tar_id, action="breached").count() == 1
        assert Notice.objects.filter(tar_id=tar_id, kind="untimely").count() == 1
    assert not Breach.objects.filter(tar_id=soon).exists()
    assert sorted(
        DeadlineAlert.objects.filter(tar_id=soon).values_list("hours_before", flat=True)
    ) == [4, 24]
