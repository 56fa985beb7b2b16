"""The appeal side of the deadline engine (PRODUCT §4), run every minute by Celery beat
(appeals.tasks.appeal_deadline_sweep). Exactly once, by the database: candidates are taken
FOR UPDATE SKIP LOCKED, so overlapping sweeps never take the same row, and each change is
filtered on the state it read.

- An appeal not resolved in time is exhausted (42 CFR 438.408(c)(3)) through the appeal
  machine, so the member's untimely notice follows from its event like any other notice.
- An IMR determination not in by its due time is flagged once (003 F.3, F.7).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from appeals.machines import APPEAL, AppealAction
from appeals.models import Appeal, ImrCase, ImrStatus
from authorizations.models import HistoryAction, HistoryEntry
from authorizations.workflow import SYSTEM, perform

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000


@dataclass
class AppealSweepResult:
    exhausted: int = 0
    imr_overdue: int = 0
    exhausted_appeal_ids: list[int] = field(default_factory=list)


def appeal_deadline_sweep(*, now: datetime) -> AppealSweepResult:
    result = AppealSweepResult()
    while True:
        batch = _exhaust_batch(now=now)
        result.exhausted += len(batch)
        result.exhausted_appeal_ids.extend(batch)
        if len(batch) < BATCH_SIZE:
            break
    while True:
        flagged = _flag_overdue_imr_batch(now=now)
        result.imr_overdue += flagged
        if flagged < BATCH_SIZE:
            break
    if result.exhausted or result.imr_overdue:
        # Counts only: no member or request identifiers in the logs (PHI).
        logger.info(
            "appeal sweep: %d appeals exhausted, %d IMR responses overdue",
            result.exhausted,
            result.imr_overdue,
        )
    return result


def _exhaust_batch(*, now: datetime) -> list[int]:
    """42 CFR 438.408(c)(3): an appeal not resolved in time is exhausted; the member may ask
    for a State Hearing at once and is owed a notice (an untimely resolution is itself an
    adverse benefit determination, 438.400(b)(5))."""
    transition = APPEAL[AppealAction.EXHAUST]
    with transaction.atomic():
        ids = list(
            Appeal.objects.filter(status__in=transition.sources, resolution_due_at__lte=now)
            .order_by("resolution_due_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:BATCH_SIZE]
        )
        for appeal_id in ids:
            perform(
                APPEAL,
                AppealAction.EXHAUST,
                record_id=appeal_id,
                user=None,
                apply=_exhaust,
                reason="The appeal was not resolved by its deadline; the member may ask for a "
                "State Hearing now.",
                now=now,
            )
    return ids


def _exhaust(appeal: Appeal) -> dict[str, str]:
    # The instant the deadline was missed, not when the sweep saw it.
    appeal.exhausted_at = appeal.resolution_due_at
    return {"due_at": appeal.resolution_due_at.isoformat(), "rule": appeal.resolution_due_rule}


def _flag_overdue_imr_batch(*, now: datetime) -> int:
    """003 F.3, F.7: UM staff track every case; a determination not in by its due time is
    flagged once (shown on the tracking list and written to the TAR history). Not a change of
    status: the case stays with the reviewer."""
    with transaction.atomic():
        rows = list(
            ImrCase.objects.filter(
                status=ImrStatus.REFERRED, overdue_at__isnull=True, due_at__lte=now
            )
            .order_by("due_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", "tar_id", "member_id", "due_at", "due_rule")[:BATCH_SIZE]
        )
        if not rows:
            return 0
        ImrCase.objects.filter(
            pk__in=[row[0] for row in rows], status=ImrStatus.REFERRED, overdue_at__isnull=True
        ).update(overdue_at=now)
        HistoryEntry.objects.bulk_create(
            [
                HistoryEntry(
                    tar_id=tar_id,
                    member_id=member_id,
                    actor=None,
                    actor_role=SYSTEM,
                    action=HistoryAction.IMR_OVERDUE,
                    reason="The independent reviewer's determination is overdue.",
                    detail={"imr": pk, "due_at": due.isoformat(), "rule": rule},
                    at=now,
                )
                for pk, tar_id, member_id, due, rule in rows
            ]
        )
    return len(rows)
