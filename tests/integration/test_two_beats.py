"""Two beats by mistake (issue 16, docs/capacity.md): every sweep the beat schedules, run
twice at the same instant from two connections against PostgreSQL, still does each thing
exactly once: one breach per overdue TAR, one untimely notice, one consumption per (event,
consumer), each overdue notice flagged once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from authorizations.deadlines import deadline_sweep
from authorizations.models import Breach, DomainEvent, EventConsumption, EventKind, Tar
from authorizations.workflow import outbox
from notifications.models import Notice, NoticeKind
from notifications.services import notices_mark_overdue

pytestmark = pytest.mark.django_db(transaction=True)

OVERDUE = 60


def _twice(work) -> list:
    """`work()` in two threads released together, each on its own database connection."""
    barrier = threading.Barrier(2)
    results: list = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    return results


def test_two_beats_at_once_do_each_thing_once(submit, worker_queue):
    # worker_queue: tasks go to a queue of our own that no worker reads (no letters rendered).
    first = submit()
    template = Tar.objects.get(pk=first)
    clones = []
    for i in range(OVERDUE - 1):
        clone = Tar(**{f.attname: getattr(template, f.attname) for f in Tar._meta.concrete_fields})
        clone.pk = None
        clone.number = f"TAR-BEAT-{i:05d}"
        clone.idempotency_key = None
        clones.append(clone)
    Tar.objects.bulk_create(clones)
    Tar.objects.update(decision_due_at=timezone.now() - timedelta(hours=3))
    outbox.events_dispatch()

    now = timezone.now()
    results = _twice(lambda: deadline_sweep(now=now).breaches)
    assert sum(results) == OVERDUE, results
    assert Breach.objects.count() == OVERDUE
    assert DomainEvent.objects.filter(kind=EventKind.TAR_BREACHED).count() == OVERDUE

    _twice(outbox.events_dispatch)
    breached = DomainEvent.objects.filter(kind=EventKind.TAR_BREACHED)
    assert breached.filter(processed_at__isnull=True).count() == 0
    # notices, escalations and the reports' pre-aggregates, once each
    assert EventConsumption.objects.filter(event__in=breached).count() == 3 * OVERDUE
    untimely = Notice.objects.filter(kind=NoticeKind.UNTIMELY)
    assert untimely.count() == OVERDUE

    later = timezone.now() + timedelta(days=3)
    flagged = _twice(lambda: notices_mark_overdue(now=later))
    owed = Notice.objects.filter(status="owed", overdue_at__isnull=False).count()
    assert sum(flagged) == owed
    assert owed >= OVERDUE  # every untimely notice is unsent here: each flagged exactly once
