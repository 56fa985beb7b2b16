"""The request's audit history outside the workflow's own changes: reads of clinical data,
documents, evaluations (PRODUCT §3). The workflow kernel writes the history of each change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.models import PLAN_STAFF_ROLES, User
from authorizations.models import HistoryAction, HistoryEntry, Referral, Tar
from authorizations.selectors import sees_clinical_record
from authorizations.workflow import SYSTEM
from members.models import Member


def history_record(
    *,
    member: Member,
    actor: User | None,
    action: str,
    tar: Tar | None = None,
    referral: Referral | None = None,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> HistoryEntry:
    return HistoryEntry.objects.create(
        tar=tar,
        member=member,
        referral=referral,
        actor=actor,
        actor_role=actor.role if actor else SYSTEM,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        detail=detail or {},
        at=at or timezone.now(),
    )


def tar_record_clinical_read(*, tar: Tar, user: User) -> None:
    """PRODUCT §3: every read of a member's clinical record by plan staff is recorded. Intake
    and member services are shown no clinical data (selectors.sees_clinical_record), so their
    reads are not clinical reads: recording one would make the audit say they saw it."""
    if user.role in PLAN_STAFF_ROLES and sees_clinical_record(user):
        history_record(tar=tar, member=tar.member, actor=user, action=HistoryAction.CLINICAL_READ)
