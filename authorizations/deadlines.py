"""The deadline engine (PRODUCT §4): due-soon alerts, breaches with escalation, and overdue
notices. Run every minute by Celery beat (authorizations.tasks.deadline_sweep).

Exactly once, by the database rather than by luck:
- alerts: INSERT … ON CONFLICT DO NOTHING against a unique (tar, hours_before, due_at);
- breaches: candidate rows are locked with FOR UPDATE SKIP LOCKED, so two overlapping sweeps
  never take the same TAR, the update is filtered on `breached_at IS NULL` (healthchecks'
  "change it only if it is still what we read"), and Breach has a unique TAR as a backstop;
- overdue notices: a conditional update on `overdue_at IS NULL`.

Cost: every query is an indexed range on a due time over a partial index that holds only
open, unbreached TARs (tar_open_due_idx) or owed notices (notice_owed_due_idx), so a sweep
reads the items falling due, not every open TAR. After an outage the first sweep catches up
on everything that fell due meanwhile, in batches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef

from accounts.models import Role
from authorizations.models import (
    OPEN_STATUSES,
    Breach,
    DeadlineAlert,
    Escalation,
    HistoryAction,
    HistoryEntry,
    Tar,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
ESCALATION_ROLES = [Role.MANAGER, Role.PHYSICIAN]


@dataclass
class SweepResult:
    alerts: int = 0
    breaches: int = 0
    overdue_notices: int = 0
    breached_tar_ids: list[int] = field(default_factory=list)
    # Appeals and IMR (authorizations/appeals.py): exhausted appeals, overdue IMR responses.
    appeals_exhausted: int = 0
    imr_overdue: int = 0


def _open_unbreached():
    # Matches the partial index tar_open_due_idx exactly.
    return Tar.objects.filter(breached_at__isnull=True, status__in=OPEN_STATUSES)


def deadline_sweep(*, now: datetime, alert_hours: list[int] | None = None) -> SweepResult:
    result = SweepResult()
    for hours in sorted(set(alert_hours or settings.DEADLINE_ALERT_HOURS)):
        result.alerts += _raise_alerts(now=now, hours=hours)
    while True:
        batch = _breach_batch(now=now)
        result.breaches += len(batch)
        result.breached_tar_ids.extend(batch)
        if len(batch) < BATCH_SIZE:
            break
    from authorizations.appeals import appeal_deadline_sweep

    appeal_result = appeal_deadline_sweep(now=now)
    result.appeals_exhausted = appeal_result.exhausted
    result.imr_overdue = appeal_result.imr_overdue
    result.overdue_notices = _mark_overdue_notices(now=now)
    if result.alerts or result.breaches or result.overdue_notices:
        # Counts only: no member or request identifiers in the logs (PHI).
        logger.info(
            "deadline sweep: %d alerts, %d breaches, %d overdue notices",
            result.alerts,
            result.breaches,
            result.overdue_notices,
        )
    if result.appeals_exhausted or result.imr_overdue:
        logger.info(
            "deadline sweep: %d appeals exhausted, %d IMR responses overdue",
            result.appeals_exhausted,
            result.imr_overdue,
        )
    return result


def _raise_alerts(*, now: datetime, hours: int) -> int:
    """One alert per TAR whose deadline is within `hours` and that has none for this horizon
    and this deadline yet."""
    horizon = now + timedelta(hours=hours)
    already = DeadlineAlert.objects.filter(
        tar=OuterRef("pk"), hours_before=hours, due_at=OuterRef("decision_due_at")
    )
    due = (
        _open_unbreached()
        .filter(decision_due_at__gt=now, decision_due_at__lte=horizon)
        .exclude(Exists(already))
        .values_list("pk", "decision_due_at")
    )
    alerts = [
        DeadlineAlert(tar_id=pk, hours_before=hours, due_at=due_at, raised_at=now)
        for pk, due_at in due
    ]
    if not alerts:
        return 0
    before = DeadlineAlert.objects.filter(raised_at=now, hours_before=hours).count()
    DeadlineAlert.objects.bulk_create(alerts, ignore_conflicts=True, batch_size=BATCH_SIZE)
    return DeadlineAlert.objects.filter(raised_at=now, hours_before=hours).count() - before


def _breach_batch(*, now: datetime) -> list[int]:
    with transaction.atomic():
        rows = list(
            _open_unbreached()
            .filter(decision_due_at__lte=now)
            .order_by("decision_due_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", "decision_due_at", "decision_due_rule", "member_id", "status")[
                :BATCH_SIZE
            ]
        )
        if not rows:
            return []
        ids = [row[0] for row in rows]
        # Still unbreached and open: the conditional update is the guard (healthchecks).
        # breached_at is the instant the deadline was missed, not when the sweep saw it.
        Tar.objects.filter(pk__in=ids, breached_at__isnull=True).update(
            breached_at=F("decision_due_at"), updated_at=now
        )
        breaches = Breach.objects.bulk_create(
            [
                Breach(tar_id=pk, due_at=due, rule=rule, detected_at=now)
                for pk, due, rule, _, _ in rows
            ]
        )
        Escalation.objects.bulk_create(
            [
                Escalation(
                    breach=breach, tar_id=breach.tar_id, roles=ESCALATION_ROLES, created_at=now
                )
                for breach in breaches
            ]
        )
        HistoryEntry.objects.bulk_create(
            [
                HistoryEntry(
                    tar_id=pk,
                    member_id=member_id,
                    actor=None,
                    actor_role="system",
                    action=HistoryAction.BREACHED,
                    from_status=status,
                    to_status=status,
                    reason="The decision deadline passed without a decision.",
                    detail={"due_at": due.isoformat(), "rule": rule},
                    at=now,
                )
                for pk, due, rule, member_id, status in rows
            ]
        )
        transaction.on_commit(lambda: _after_breaches(ids))
    return ids


def _after_breaches(tar_ids: list[int]) -> None:
    from authorizations.tasks import breach_followup

    breach_followup.delay(tar_ids)


def breach_followup(*, tar_ids: list[int], now: datetime) -> None:
    """Owe the member an untimely-decision notice and tell the UM manager and physician
    reviewers (by e-mail, with the TAR number only: no PHI in mail)."""
    from django.core.mail import send_mail

    from accounts.models import User
    from notifications.services import notices_for_event

    for tar_id in tar_ids:
        notices_for_event(tar_id=tar_id, event="breach")
    pending = list(
        Escalation.objects.filter(tar_id__in=tar_ids, notified_at__isnull=True).select_related(
            "tar"
        )
    )
    if not pending:
        return
    recipients = list(
        User.objects.filter(role__in=ESCALATION_ROLES, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    numbers = ", ".join(sorted(e.tar.number for e in pending))
    if recipients:
        send_mail(
            subject=f"[TAR Portal] {len(pending)} decision deadline(s) missed",
            message=(
                "These requests passed their decision deadline without a decision and are "
                f"escalated to you: {numbers}. Open the review queue to decide them; the "
                "member is owed an untimely-decision notice today."
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=recipients,
        )
    Escalation.objects.filter(pk__in=[e.pk for e in pending], notified_at__isnull=True).update(
        notified_at=now
    )


def _mark_overdue_notices(*, now: datetime) -> int:
    """Owed notices whose due time passed are marked once and written to the TAR history."""
    from notifications.models import Notice, NoticeStatus

    with transaction.atomic():
        rows = list(
            Notice.objects.filter(
                status=NoticeStatus.OWED, overdue_at__isnull=True, due_at__lte=now
            )
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", "tar_id", "tar__member_id", "kind", "audience", "due_at")[
                :BATCH_SIZE
            ]
        )
        if not rows:
            return 0
        Notice.objects.filter(pk__in=[r[0] for r in rows], overdue_at__isnull=True).update(
            overdue_at=now
        )
        HistoryEntry.objects.bulk_create(
            [
                HistoryEntry(
                    tar_id=tar_id,
                    member_id=member_id,
                    actor_role="system",
                    action=HistoryAction.NOTICE_OVERDUE,
                    reason=f"The {kind} notice to the {audience} was not sent by its deadline.",
                    detail={"notice": pk, "due_at": due_at.isoformat()},
                    at=now,
                )
                for pk, tar_id, member_id, kind, audience, due_at in rows
            ]
        )
    return len(rows)
