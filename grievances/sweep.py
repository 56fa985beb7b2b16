"""The deadline engine for grievances (PRODUCT §4), like the requests' (authorizations.
deadlines): an acknowledgement or a resolution not made in time is recorded once, through the
kernel (history and a domain event), and escalated to the UM manager and the grievance
coordinators by the escalations consumer of those events (grievances.apps)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail

from accounts.models import Role, User
from authorizations.models import DomainEvent, EventKind
from authorizations.workflow import perform
from grievances.machines import GRIEVANCE, GrievanceAction
from grievances.models import OPEN_GRIEVANCE_STATUSES, Grievance, GrievanceStatus
from tar_portal.errors import DomainError, ErrorCode

ESCALATION_ROLES = [Role.MANAGER, Role.GRIEVANCE_COORDINATOR]
BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    acknowledgements_overdue: int
    breached: int


def _mark(action: str, grievance_id: int, field: str, now: datetime) -> bool:
    def authorize(grievance: Grievance) -> None:
        # Only if it is still what the sweep read (healthchecks' conditional update): a
        # second run, or one racing this one, changes nothing.
        if getattr(grievance, field) is not None:
            raise DomainError(ErrorCode.INVALID_TRANSITION, "Already recorded.")

    def apply(grievance: Grievance) -> dict:
        setattr(grievance, field, now)
        return {
            "number": grievance.number,
            "escalated_to": [str(role) for role in ESCALATION_ROLES],
            "acknowledgement_due_at": grievance.acknowledgement_due_at.isoformat(),
            "resolution_due_at": grievance.resolution_due_at.isoformat(),
        }

    try:
        perform(
            GRIEVANCE,
            action,
            record_id=grievance_id,
            user=None,
            authorize=authorize,
            apply=apply,
            now=now,
        )
    except DomainError:
        return False
    return True


def grievance_deadline_sweep(*, now: datetime) -> SweepResult:
    ack_ids = list(
        Grievance.objects.filter(
            status=GrievanceStatus.RECEIVED,
            acknowledged_at__isnull=True,
            acknowledgement_overdue_at__isnull=True,
            acknowledgement_due_at__lt=now,
        ).values_list("pk", flat=True)[:BATCH]
    )
    breach_ids = list(
        Grievance.objects.filter(
            status__in=OPEN_GRIEVANCE_STATUSES,
            breached_at__isnull=True,
            resolution_due_at__lt=now,
        ).values_list("pk", flat=True)[:BATCH]
    )
    acks = sum(
        _mark(GrievanceAction.ACK_OVERDUE, pk, "acknowledgement_overdue_at", now) for pk in ack_ids
    )
    breaches = sum(_mark(GrievanceAction.BREACH, pk, "breached_at", now) for pk in breach_ids)
    return SweepResult(acknowledgements_overdue=acks, breached=breaches)


def grievance_escalations_notify(event: DomainEvent) -> None:
    """Escalation consumer (the outbox runs it once per event): e-mail the UM manager and the
    grievance coordinators the grievance number only (no PHI in mail)."""
    recipients = list(
        User.objects.filter(role__in=ESCALATION_ROLES, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return
    number = event.payload.get("number", f"#{event.subject_id}")
    what = (
        "was not acknowledged in writing within its deadline"
        if event.kind == EventKind.GRIEVANCE_ACK_OVERDUE
        else "was not resolved within its deadline"
    )
    send_mail(
        subject=f"[TAR Portal] Grievance {number} overdue",
        message=(
            f"Grievance {number} {what} and is escalated to you. Open the grievance queue to "
            "act on it."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
    )
