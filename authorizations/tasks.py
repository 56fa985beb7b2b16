"""Celery tasks: take ids, call a service, safe to run twice (STYLE §7)."""

from celery import shared_task
from django.utils import timezone

from authorizations import deadlines
from authorizations.workflow.outbox import events_dispatch_task

__all__ = ["deadline_sweep", "events_dispatch_task"]


@shared_task(name="authorizations.tasks.deadline_sweep", acks_late=True)
def deadline_sweep() -> dict:
    result = deadlines.deadline_sweep(now=timezone.now())
    return {"alerts": result.alerts, "breaches": result.breaches}
