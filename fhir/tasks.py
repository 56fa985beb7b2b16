"""Background jobs of the FHIR face: subscription notifications (fhir.subscriptions).

The outbox consumer writes the deliveries an event owes and nudges the sender after commit;
beat runs the sender every minute as the catch-up (a lost nudge, a retry that fell due)."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from authorizations.models import DomainEvent
from fhir import subscriptions


def subscriptions_on_event(event: DomainEvent) -> None:
    """Registered with the event outbox in FhirConfig.ready()."""
    if subscriptions.deliveries_owe(event):
        transaction.on_commit(deliveries_send_task.delay)


@shared_task(name="fhir.tasks.deliveries_send", acks_late=True)
def deliveries_send_task() -> dict[str, int]:
    """The beat's run (every minute) and the nudge: the pending handshakes first (their
    subscriptions' notifications wait for them), then the due notifications, then the
    heartbeats owed. Idempotent (leases and SKIP LOCKED)."""
    handshakes = subscriptions.handshakes_send()
    counts = subscriptions.deliveries_send()
    return {**counts, "handshakes": handshakes, "heartbeats": subscriptions.heartbeats_send()}


@shared_task(name="fhir.tasks.subscription_handshake", acks_late=True)
def subscription_handshake_task(subscription_id: int) -> str:
    """Nudged after a subscription is created: its handshake, then what waited for it."""
    status = subscriptions.handshake_send(subscription_id)
    if status == "active":
        subscriptions.deliveries_send()
    return status
