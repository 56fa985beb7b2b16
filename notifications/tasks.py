"""Celery tasks for notices. Each takes ids, calls one service, and is safe to run twice
(STYLE §7): the letter's unique (notice, version) and the status updates filtered on the old
status make a repeat a no-op.

A failed render or send is retried with exponential backoff (3 retries); when the retries
are spent the notice is marked failed with the error, for staff to act on.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task

from notifications import services
from notifications.context import LetterError

logger = logging.getLogger(__name__)

RETRY_POLICY = {
    "autoretry_for": (Exception,),
    # A letter that cannot be built (a missing legal element, no wording for the event) will
    # not build on a retry either: straight to failed, for staff.
    "dont_autoretry_for": (LetterError,),
    "max_retries": 3,
    "retry_backoff": 60,  # 60 s, 120 s, 240 s (with jitter)
    "retry_backoff_max": 900,
    "retry_jitter": True,
}


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


class NoticeTask(Task):
    """Records each failed attempt on the notice, and the final failure as its status."""

    def on_retry(self, exc, task_id, args, kwargs, einfo):
        notice_id = kwargs.get("notice_id")
        if notice_id is not None:
            services.notice_record_error(notice_id=notice_id, error=_error_text(exc))

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        notice_id = kwargs.get("notice_id")
        if notice_id is not None:
            services.notice_mark_failed(notice_id=notice_id, error=_error_text(exc))


@shared_task(bind=True, base=NoticeTask, acks_late=True, **RETRY_POLICY)
def notice_deliver(self, *, notice_id: int) -> None:
    services.notice_deliver(notice_id=notice_id)


class LetterTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        logger.error("corrected letter %s not delivered: %s", kwargs.get("letter_id"), exc)


@shared_task(bind=True, base=LetterTask, acks_late=True, **RETRY_POLICY)
def letter_deliver(self, *, letter_id: int) -> None:
    services.letter_deliver(letter_id=letter_id)


@shared_task(acks_late=True)
def print_batch_build() -> list[int]:
    """Beat: hand the member letters waiting for the mail house to it, in batches of at most
    PRINT_BATCH_MAX_LETTERS."""
    built: list[int] = []
    for _ in range(20):
        batch = services.print_batch_build()
        if batch is None:
            break
        built.append(batch.pk)
    return built


@shared_task(acks_late=True)
def notices_requeue_stalled() -> int:
    """Beat: owed notices whose task was lost (broker down at commit) are queued again."""
    return len(services.notices_requeue_stalled())


@shared_task(acks_late=True)
def notices_mark_overdue() -> int:
    """Beat: owed notices past their due time are marked overdue once."""
    return services.notices_mark_overdue()
