"""The follow-up of many breaches runs in batches (issue 16): the untimely notices and the
escalation of 1,200 breaches cost a handful of statements per chunk of 500 events, not six
per TAR; each (event, consumer) is still consumed exactly once, and a batch that fails falls
back to one event at a time without holding up the others."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authorizations.deadlines import deadline_sweep
from authorizations.models import DomainEvent, Escalation, EventConsumption, EventKind, Tar
from authorizations.workflow import outbox
from notifications.models import Notice, NoticeKind

pytestmark = pytest.mark.django_db

BREACHES = 1_200


def _many_overdue(template_id: int, n: int) -> None:
    template = Tar.objects.get(pk=template_id)
    due = timezone.now() - timedelta(hours=2)
    clones = []
    for i in range(n):
        clone = Tar(**{f.attname: getattr(template, f.attname) for f in Tar._meta.concrete_fields})
        clone.pk = None
        clone.number = f"TAR-BATCH-{i:06d}"
        clone.idempotency_key = None
        clone.decision_due_at = due
        clones.append(clone)
    Tar.objects.bulk_create(clones, batch_size=500)
    Tar.objects.filter(pk=template_id).update(decision_due_at=due)


def test_twelve_hundred_breaches_are_followed_up_in_a_few_statements(
    submit, world, django_capture_on_commit_callbacks
):
    _many_overdue(submit(), BREACHES - 1)
    world.users["manager"].email = "manager@example.org"
    world.users["manager"].save()
    outbox.events_dispatch()  # the submission's own event
    with django_capture_on_commit_callbacks(execute=False):  # no letters rendered here
        assert deadline_sweep(now=timezone.now()).breaches == BREACHES
        with CaptureQueriesContext(connection) as captured:
            assert outbox.events_dispatch() == BREACHES
    statements = [
        q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"].split(" ")[0:2]
    ]
    # Three chunks of at most 500 events, each: claim, consumptions read, notices (insert,
    # read back, consumptions), escalations (pending, recipients, update, consumptions),
    # the events' update (savepoints not counted); the reports' pre-aggregates (issue 13:
    # their wait for the notices, lock, the request, notice and decision days, consumptions)
    # at most 18 more. Per TAR it was about six.
    assert len(statements) <= 3 * (11 + 18), "\n".join(s[:120] for s in statements)
    # The consumed events are marked in one plain UPDATE per chunk, not a bulk_update's CASE
    # per row and column; the escalation reads ids and numbers, not whole TAR rows.
    events_updates = [s for s in statements if s.startswith('UPDATE "authorizations_domainevent"')]
    assert len(events_updates) == 3
    assert not any(" CASE WHEN " in s for s in events_updates)
    pending = [s for s in statements if s.startswith("SELECT") and "authorizations_escalation" in s]
    assert pending and all('"authorizations_tar"."decision_due_at"' not in s for s in pending)
    assert Notice.objects.filter(kind=NoticeKind.UNTIMELY).count() == BREACHES
    assert Escalation.objects.filter(notified_at__isnull=True).count() == 0
    breached = DomainEvent.objects.filter(kind=EventKind.TAR_BREACHED)
    assert breached.filter(processed_at__isnull=True).count() == 0
    # notices, escalations and the reports' pre-aggregates
    assert EventConsumption.objects.filter(event__in=breached).count() == 3 * BREACHES
    assert len(mail.outbox) == 1  # one e-mail covers the whole chunk's escalations
    # Nothing is done twice on a second run.
    assert outbox.events_dispatch() == 0
    assert Notice.objects.filter(kind=NoticeKind.UNTIMELY).count() == BREACHES


def test_a_failing_batch_falls_back_to_one_event_at_a_time(submit):
    first, second = submit(), submit()
    outbox.events_dispatch()
    seen: list[int] = []

    def one(event):
        if event.tar_id == first:
            raise RuntimeError("this one is bad")
        seen.append(event.tar_id)

    def batch(events):
        raise RuntimeError("the batch is bad")

    outbox.register("test-batch", one, kinds=[EventKind.TAR_BREACHED], handle_batch=batch)
    try:
        Tar.objects.filter(pk__in=[first, second]).update(
            decision_due_at=timezone.now() - timedelta(hours=1)
        )
        deadline_sweep(now=timezone.now())
        outbox.events_dispatch()
    finally:
        outbox._consumers.pop("test-batch")
    assert seen == [second]
    consumed = EventConsumption.objects.filter(consumer="test-batch")
    assert list(consumed.values_list("event__tar_id", flat=True)) == [second]
    bad = DomainEvent.objects.get(kind=EventKind.TAR_BREACHED, tar_id=first)
    assert bad.processed_at is None and bad.attempts == 1
    # The other consumers of the bad event were not held up by it.
    assert set(EventConsumption.objects.filter(event=bad).values_list("consumer", flat=True)) == {
        "escalations",
        "notices",
        "report_aggregates",
    }
