"""Celery tasks: take ids, call a service, safe to run twice (STYLE §7)."""

from celery import shared_task
from django.utils import timezone

from grievances.sweep import grievance_deadline_sweep as sweep


@shared_task(name="grievances.tasks.grievance_deadline_sweep", acks_late=True)
def grievance_deadline_sweep() -> dict:
    result = sweep(now=timezone.now())
    return {
        "acknowledgements_overdue": result.acknowledgements_overdue,
        "breached": result.breached,
    }
