"""The deadline engine with a real Celery worker against Redis (PRODUCT §4): two sweeps at
once still give exactly one breach and one escalation per TAR, and the first sweep after an
outage catches up on everything that fell due while the worker was down."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from celery import group
from django.db import connection
from django.utils import timezone

from authorizations.models import Breach, DeadlineAlert, Escalation, HistoryEntry, Tar
from authorizations.tasks import deadline_sweep
from notifications.models import Notice
from tar_portal.celery import app as celery_app

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_queue():
    """A queue of our own, so no other worker on this machine takes our tasks."""
    queue = f"test-deadlines-{uuid.uuid4().hex[:8]}"
    old = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    yield queue
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = old


def _start_worker(queue: str) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tar_portal.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    process = subprocess.Popen(  # noqa: S603 - our own worker, fixed arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tar_portal",
            "worker",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = celery_app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=1)
        if replies:
            return process
        if process.poll() is not None:
            raise RuntimeError(f"worker exited: {process.stdout.read()}")
    process.terminate()
    raise RuntimeError("worker did not start in 60 s")


def _wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError("condition not reached in time")


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

    worker = _start_worker(worker_queue)
    try:
        # Two sweeps at once, as when beat fires while a retried sweep still runs.
        results = group(deadline_sweep.s(), deadline_sweep.s()).apply_async().get(timeout=60)
        assert sum(r["breaches"] for r in results) == 3
        _wait_for(lambda: Escalation.objects.filter(notified_at__isnull=False).count() == 3)
        _wait_for(lambda: Notice.objects.filter(kind="untimely").count() == 3)
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
