"""The event outbox: consumers of domain events run after the change committed, never inside
the writer's transaction, and each handles each event exactly once.

- `perform` writes the DomainEvent with the change and nudges `events_dispatch_task` after
  commit; the beat runs the same task every minute as the catch-up, so an event whose nudge
  was lost (a crash between commit and nudge, a broker outage) is still consumed.
- A run claims unprocessed events with FOR UPDATE SKIP LOCKED (the way the deadline sweep
  claims TARs), so overlapping runs never take the same event.
- Each consumer runs in its own savepoint together with the insert of its EventConsumption
  row (unique per event and consumer): what it did and the record that it did it commit
  together, so a retried run skips it. A consumer that raises is rolled back alone and tried
  again by a later run, with backoff; the other consumers of the event are not held up.

Batches (issue 16): a consumer may also register `handle_batch`, which takes every event of a
claimed chunk that it owes in one call (bulk statements instead of a loop), in one savepoint
with the bulk insert of their EventConsumption rows. If the batch raises, it is rolled back
and the events go through `handle` one by one, so one bad event still holds up no other. A
chunk of events is one transaction; after 1,000 breaches the follow-up is a handful of
statements per chunk of 500, not six per TAR.

Consumers register from their app's `ready()` (notifications owes notices, reports and FHIR
notifications later), so this module depends on no app above it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import shared_task
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from authorizations.models import DomainEvent, EventConsumption

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class Consumer:
    name: str  # stored in EventConsumption: never renamed
    handle: Callable[[DomainEvent], None]
    kinds: frozenset[str] | None  # None: every kind
    handle_batch: Callable[[list[DomainEvent]], None] | None = None

    def owes(self, event: DomainEvent) -> bool:
        return self.kinds is None or event.kind in self.kinds


_consumers: dict[str, Consumer] = {}


def register(
    name: str,
    handle: Callable[[DomainEvent], None],
    kinds: Iterable[str] | None = None,
    handle_batch: Callable[[list[DomainEvent]], None] | None = None,
):
    """Called from an AppConfig.ready(). Registering the same name again replaces it (Django
    may call ready() twice in tests)."""
    _consumers[name] = Consumer(
        name, handle, frozenset(kinds) if kinds is not None else None, handle_batch
    )


def consumers() -> list[Consumer]:
    return list(_consumers.values())


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** min(attempts, 10)), MAX_BACKOFF)


def _consume(event: DomainEvent, done: set[str], now: datetime) -> bool:
    """Run every consumer of the event not yet done. True when all are done."""
    complete = True
    for consumer in _consumers.values():
        if consumer.name in done:
            continue
        if not consumer.owes(event):
            continue
        try:
            with transaction.atomic():
                consumer.handle(event)
                EventConsumption.objects.create(
                    event=event, consumer=consumer.name, consumed_at=now
                )
        except Exception as exc:
            complete = False
            event.attempts += 1
            event.next_attempt_at = now + _backoff(event.attempts)
            # The exception's type and the event id only: messages may carry PHI.
            event.last_error = f"{consumer.name}: {type(exc).__name__}"
            logger.exception(
                "event %s (%s): consumer %s failed", event.pk, event.kind, consumer.name
            )
    return complete


def _consume_batches(events: list[DomainEvent], done: dict[int, set[str]], now: datetime) -> None:
    """Every batch consumer over the events it still owes, one savepoint each; what it
    consumed is marked done, so the per-event pass skips it."""
    for consumer in _consumers.values():
        if consumer.handle_batch is None:
            continue
        owed = [e for e in events if consumer.owes(e) and consumer.name not in done[e.pk]]
        if not owed:
            continue
        try:
            with transaction.atomic():
                consumer.handle_batch(owed)
                EventConsumption.objects.bulk_create(
                    EventConsumption(event=e, consumer=consumer.name, consumed_at=now) for e in owed
                )
        except Exception:
            # Rolled back alone; the per-event pass retries each event and isolates the bad one.
            logger.exception("consumer %s: batch of %d events failed", consumer.name, len(owed))
            continue
        for event in owed:
            done[event.pk].add(consumer.name)


def events_dispatch(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Consume the events due now, in the order they happened. Returns how many events were
    completed. Safe to run twice at once."""
    completed = 0
    while True:
        at = now or timezone.now()
        with transaction.atomic():
            events = list(
                DomainEvent.objects.filter(processed_at__isnull=True)
                .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=at))
                .order_by("pk")
                .select_for_update(skip_locked=True)[:BATCH_SIZE]
            )
            if not events:
                break
            done: dict[int, set[str]] = {event.pk: set() for event in events}
            for event_id, name in EventConsumption.objects.filter(event__in=events).values_list(
                "event_id", "consumer"
            ):
                done[event_id].add(name)
            _consume_batches(events, done, at)
            processed: list[int] = []
            failed: list[DomainEvent] = []
            for event in events:
                attempts = event.attempts
                if _consume(event, done[event.pk], at):
                    event.processed_at = at
                    processed.append(event.pk)
                    completed += 1
                elif event.attempts != attempts:
                    failed.append(event)
            # One UPDATE for the chunk's consumed events; the rare failed ones carry their
            # own attempts and backoff. A bulk_update of every event (a CASE per column and
            # row) was most of the follow-up's time after 1,000 breaches (issue 16).
            if processed:
                DomainEvent.objects.filter(pk__in=processed).update(processed_at=at)
            if failed:
                DomainEvent.objects.bulk_update(
                    failed, ["attempts", "next_attempt_at", "last_error"]
                )
        if len(events) < BATCH_SIZE or (limit is not None and completed >= limit):
            break
    return completed


@shared_task(name="authorizations.tasks.events_dispatch", acks_late=True)
def events_dispatch_task() -> int:
    """The nudge after a change, and the beat's catch-up every minute."""
    return events_dispatch()
