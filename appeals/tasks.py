"""Celery tasks: take ids, call a service, safe to run twice (STYLE §7)."""

from celery import shared_task
from django.utils import timezone

from appeals.sweep import appeal_deadline_sweep as sweep


@shared_task(name="appeals.tasks.appeal_deadline_sweep", acks_late=True)
def appeal_deadline_sweep() -> dict:
    result = sweep(now=timezone.now())
    return {"appeals_exhausted": result.exhausted, "imr_overdue": result.imr_overdue}
