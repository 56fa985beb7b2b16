"""Reads for the appeal, peer-to-peer, IMR, intake and member-services pages. Every record comes
through the scoped selectors of `authorizations` (TARs, appeals, talks, IMR cases, members);
this module only adds what a page needs on top (the order of a queue, a page's filter)."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet

from accounts.models import Role, User
from appeals import selectors as appeal_selectors
from appeals.models import (
    OPEN_APPEAL_STATUSES,
    OPEN_PEER_TO_PEER_STATUSES,
    Appeal,
    ImrCase,
    PeerToPeer,
)
from authorizations import selectors
from authorizations.models import Tar
from authorizations.services import INTAKE_CHANNELS
from members.models import Member
from tar_portal.errors import DomainError, ErrorCode


def _csv(values) -> str:
    return ",".join(str(v) for v in values)


# --- appeals, talks and IMR of one request ----------------------------------------------------


def tar_appeals(*, user: User, tar: Tar) -> QuerySet[Appeal]:
    """The appeals of a request (`tar` comes from the scoped `tar_get`), newest first."""
    return appeal_selectors.appeal_list(user=user, tar_id=tar.pk).order_by("-received_at", "-id")


def tar_peer_to_peers(*, user: User, tar: Tar) -> QuerySet[PeerToPeer]:
    return appeal_selectors.peer_to_peer_list(user=user, tar_id=tar.pk)


def tar_imr_cases(*, user: User, tar: Tar) -> QuerySet[ImrCase]:
    return appeal_selectors.imr_list(user=user, tar_id=tar.pk, filters={"ordering": "-referred_at"})


def open_appeals(*, user: User, tar: Tar) -> QuerySet[Appeal]:
    return appeal_selectors.appeal_list(
        user=user, tar_id=tar.pk, filters={"status": _csv(OPEN_APPEAL_STATUSES)}
    )


# --- queues and lists -------------------------------------------------------------------------


def appeal_queue(*, user: User) -> QuerySet[Appeal]:
    """Open appeals for the physicians: expedited ones first (72 hours), then by resolution
    due time (42 CFR 438.408(b))."""
    return appeal_selectors.appeal_list(
        user=user, filters={"status": _csv(OPEN_APPEAL_STATUSES)}
    ).order_by("-expedited", "resolution_due_at", "id")


def my_appeals(*, user: User) -> QuerySet[Appeal]:
    """A member's or a provider organization's appeals, newest first."""
    return appeal_selectors.appeal_list(user=user).order_by("-received_at", "-id")


def peer_to_peer_open(*, user: User) -> QuerySet[PeerToPeer]:
    """Talks waiting for a time or to be held: the soonest scheduled first, then the oldest
    request (nulls last, so the unscheduled ones follow)."""
    return appeal_selectors.peer_to_peer_list(
        user=user, filters={"status": _csv(OPEN_PEER_TO_PEER_STATUSES)}
    ).order_by(F("scheduled_at").asc(nulls_last=True), "requested_at", "id")


def peer_to_peer_recent(*, user: User, limit: int = 25) -> list[PeerToPeer]:
    return list(
        appeal_selectors.peer_to_peer_list(user=user, filters={"status": "held,cancelled"})[:limit]
    )


def imr_tracking(*, user: User, filters: dict[str, Any]) -> QuerySet[ImrCase]:
    """003 F.7: the tracking list; the selector validates the filters (DomainError → 400)."""
    return appeal_selectors.imr_list(user=user, filters=filters)


def physicians() -> QuerySet[User]:
    return User.objects.filter(role=Role.PHYSICIAN, is_active=True).order_by("username")


# --- intake -----------------------------------------------------------------------------------


def intake_entries(*, user: User) -> QuerySet[Tar]:
    """Requests that came in by fax, mail or phone, the latest receipt first."""
    return (
        selectors.tar_list(user=user, filters={"ordering": "-received_at"})
        .filter(channel__in=INTAKE_CHANNELS)
        .select_related("submitted_by")
    )


def referral_by_number(*, user: User, number: str):
    """The RAF with this number that the caller may see, or None."""
    if not number:
        return None
    return selectors.referral_list(user=user).filter(number=number.strip().upper()).first()


# --- member services ----------------------------------------------------------------------------


def member_by_cin(*, user: User, cin: str) -> Member:
    return selectors.member_get(user=user, cin=cin)


def member_by_id(*, user: User, member_id: int) -> Member:
    member = selectors.member_list(user=user).filter(pk=member_id).first()
    if member is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
    return member


def member_requests(*, user: User, member: Member) -> QuerySet[Tar]:
    return selectors.tar_list(user=user, filters={"member": member.cin, "ordering": "-received_at"})


def member_appeals(*, user: User, member: Member) -> QuerySet[Appeal]:
    return appeal_selectors.appeal_list(user=user, filters={"member": member.cin}).order_by(
        "-received_at", "-id"
    )
