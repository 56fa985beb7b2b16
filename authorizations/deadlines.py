"""The deadline engine (PRODUCT §4) for requests: due-soon alerts and breaches with escalation.
Run every minute by Celery beat (authorizations.tasks.deadline_sweep); appeals and IMR have
their own sweep (appeals.sweep), overdue notices theirs (notifications.services).

Exactly once, by the database rather than by luck:
- alerts: INSERT … ON CONFLICT DO NOTHING against a unique (tar, hours_before, due_at);
- breaches: candidate rows are locked with FOR UPDATE SKIP LOCKED, so two overlapping sweeps
  never take the same TAR, the update is filtered on `breached_at IS NULL` (healthchecks'
  "change it only if it is still what we read"), and Breach has a unique TAR as a backstop;
- each breach writes a TAR_BREACHED domain event in the same transaction: the member's
  untimely notice (notifications.policy) and the escalation e-mail (escalations_notify)
  follow from it through the event outbox, so neither depends on an after-commit callback.

Cost: every query is an indexed range on a due time over a partial index that holds only
open, unbreached TARs (tar_open_due_idx), so a sweep
reads the items falling due, not every open TAR. After an outage the first sweep catches up
on everything that fell due meanwhile, in batches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from accounts.models import Role, User
from authorizations.models import (
    OPEN_STATUSES,
    Breach,
    DeadlineAlert,
    DomainEvent,
    Escalation,
    EventKind,
    HistoryAction,
    HistoryEntry,
    Tar,
)
from authorizations.workflow import SYSTEM
from authorizations.workflow.outbox import events_dispatch_task

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
ESCALATION_ROLES = [Role.MANAGER, Role.PHYSICIAN]


@dataclass
class SweepResult:
    alerts: int = 0
    breaches: int = 0
    breached_tar_ids: list[int] = field(default_factory=list)


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
    if result.alerts or result.breaches:
        # Counts only: no member or request identifiers in the logs (PHI).
        logger.info("deadline sweep: %d alerts, %d breaches", result.alerts, result.breaches)
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
                    actor_role=SYSTEM,
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
        # Not a change of status (the request stays open and is still decided), so not a
        # transition; but an event like one, in the same transaction.
        DomainEvent.objects.bulk_create(
            [
                DomainEvent(
                    kind=EventKind.TAR_BREACHED,
                    subject_type="tar",
                    subject_id=pk,
                    tar_id=pk,
                    actor_role=SYSTEM,
                    payload={"due_at": due.isoformat(), "rule": rule, "status": status},
                    created_at=now,
                )
                for pk, due, rule, _, status in rows
            ]
        )
        transaction.on_commit(events_dispatch_task.delay, robust=True)
    return ids


def escalations_notify_batch(events: list[DomainEvent]) -> None:
    """The same for a chunk of breach events at once (the outbox's batch path): the body
    already covers every pending escalation, so a chunk of 500 breaches is one e-mail and a
    handful of statements."""
    if events:
        escalations_notify(events[0])


def escalations_notify(event: DomainEvent) -> None:
    """The escalations consumer of TAR_BREACHED events: tell the UM manager and physician
    reviewers (by e-mail, with TAR numbers only: no PHI in mail). One e-mail covers every
    escalation not yet sent, so a sweep's breaches, consumed one event after the other, make
    one e-mail; the conditional update makes a second run send nothing."""
    with transaction.atomic():
        # The ids and TAR numbers only: whole Escalation and Tar rows for 1,000 breaches were
        # most of this consumer's time (issue 16).
        pending = list(
            Escalation.objects.filter(notified_at__isnull=True)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", "tar__number")
        )
        if not pending:
            return
        recipients = list(
            User.objects.filter(role__in=ESCALATION_ROLES, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
        numbers = ", ".join(sorted(number for _, number in pending))
        Escalation.objects.filter(
            pk__in=[pk for pk, _ in pending], notified_at__isnull=True
        ).update(notified_at=timezone.now())
        if recipients:
            send_mail(
                subject=f"[TAR Portal] {len(pending)} decision deadline(s) missed",
                message=(
                    "These requests passed their decision deadline without a decision and "
                    f"are escalated to you: {numbers}. Open the review queue to decide them; "
                    "the member is owed an untimely-decision notice today."
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=recipients,
            )
