"""Celery tasks: take ids, call a service, safe to run twice (STYLE §7)."""

from celery import shared_task
from django.utils import timezone

from authorizations import deadlines


@shared_task(name="authorizations.tasks.deadline_sweep", acks_late=True)
def deadline_sweep() -> dict:
    result = deadlines.deadline_sweep(now=timezone.now())
    return {
        "alerts": result.alerts,
        "breaches": result.breaches,
        "overdue_notices": result.overdue_notices,
    }


@shared_task(
    name="authorizations.tasks.breach_followup",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def breach_followup(tar_ids: list[int]) -> None:
    deadlines.breach_followup(tar_ids=tar_ids, now=timezone.now())
