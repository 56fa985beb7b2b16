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
    """Send the due subscription notifications; idempotent (claims with SKIP LOCKED)."""
    return subscriptions.deliveries_send()
