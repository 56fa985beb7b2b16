"""Every read of appeals, peer-to-peer talks and IMR cases, scoped exactly like TARs: plan
staff see all, a provider user their organization's requests, a member their own. A caller
who may not see a record gets the same answer as for one that does not exist (404)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime

from accounts.models import PLAN_STAFF_ROLES, Role, User
from appeals.models import (
    Appeal,
    AppealStatus,
    ImrCase,
    ImrReviewType,
    ImrStatus,
    PeerToPeer,
    PeerToPeerStatus,
)
from authorizations.clocks import PACIFIC
from authorizations.models import Tar
from authorizations.selectors import sees_clinical_record, tar_scope_q
from tar_portal.errors import DomainError, ErrorCode


def _not_found() -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, "Not found.")


def _scope_via_tar(user: User) -> Q | None:
    """The TAR scope (selectors.tar_scope_q) seen through a record's `tar` key."""
    scope = tar_scope_q(user)
    if scope is None:
        return None
    if user.role in PLAN_STAFF_ROLES:
        return Q()
    if user.role == Role.PROVIDER:
        return Q(tar__requesting_organization_id=user.organization_id) | Q(
            tar__servicing_organization_id=user.organization_id
        )
    if user.role == Role.MEMBER:
        return Q(tar__member_id=user.member_id)
    # Any other role that can see TARs at all: the same TARs, by subquery.
    return Q(tar_id__in=Tar.objects.filter(scope).values("pk"))


def _instant(value: str, field: str, *, end_of_day: bool = False) -> datetime:
    """An ISO date-time, or a date (its start, or its end with `end_of_day`, Pacific)."""
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise DomainError(
                ErrorCode.INVALID,
                "Not a date.",
                fields={field: ["Use an ISO-8601 date or date-time."]},
            )
        hour, minute, second = (23, 59, 59) if end_of_day else (0, 0, 0)
        return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=PACIFIC)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PACIFIC)
    return parsed


def _statuses(value: str, allowed: list[str], field: str = "status") -> list[str]:
    statuses = [s for s in value.split(",") if s]
    unknown = sorted(set(statuses) - set(allowed))
    if unknown:
        raise DomainError(
            ErrorCode.INVALID,
            "Unknown status.",
            fields={field: [f"Use one of: {', '.join(allowed)}."]},
        )
    return statuses


def _bool(value: str, field: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise DomainError(ErrorCode.INVALID, "Not a boolean.", fields={field: ["true or false."]})


# --- appeals ---------------------------------------------------------------------------------


def appeal_list(
    *, user: User, filters: dict | None = None, tar_id: int | None = None
) -> QuerySet[Appeal]:
    scope = _scope_via_tar(user)
    if scope is None:
        return Appeal.objects.none()

    filters = filters or {}
    qs = Appeal.objects.filter(scope)
    if tar_id is not None:
        qs = qs.filter(tar_id=tar_id)
    if status := filters.get("status"):
        qs = qs.filter(status__in=_statuses(status, AppealStatus.values))
    if expedited := filters.get("expedited"):
        qs = qs.filter(expedited=_bool(expedited, "expedited"))
    if late := filters.get("late"):
        qs = qs.filter(late=_bool(late, "late"))
    if due_before := filters.get("due_before"):
        qs = qs.filter(resolution_due_at__lte=_instant(due_before, "due_before", end_of_day=True))
    if due_after := filters.get("due_after"):
        qs = qs.filter(resolution_due_at__gte=_instant(due_after, "due_after"))
    if member := filters.get("member"):
        qs = qs.filter(member__cin=member.strip().upper())
    return qs.select_related(
        "tar", "member", "decision", "filed_by", "decided_by", "extension"
    ).order_by("resolution_due_at", "id")


def appeal_get(*, user: User, appeal_id: int) -> Appeal:
    appeal = appeal_list(user=user).filter(pk=appeal_id).first()
    if appeal is None:
        raise _not_found()
    return appeal


# --- peer-to-peer ----------------------------------------------------------------------------


def peer_to_peer_list(
    *, user: User, filters: dict | None = None, tar_id: int | None = None
) -> QuerySet[PeerToPeer]:
    scope = _scope_via_tar(user)
    if scope is None:
        return PeerToPeer.objects.none()

    filters = filters or {}
    qs = PeerToPeer.objects.filter(scope)
    if tar_id is not None:
        qs = qs.filter(tar_id=tar_id)
    if status := filters.get("status"):
        qs = qs.filter(status__in=_statuses(status, PeerToPeerStatus.values))
    if physician := filters.get("physician"):
        qs = qs.filter(physician_id=physician) if physician.isdigit() else qs.none()
    return qs.select_related("tar", "requested_by", "physician", "requesting_provider").order_by(
        "-requested_at", "-id"
    )


def peer_to_peer_get(*, user: User, p2p_id: int) -> PeerToPeer:
    p2p = peer_to_peer_list(user=user).filter(pk=p2p_id).first()
    if p2p is None:
        raise _not_found()
    return p2p


# --- independent medical review --------------------------------------------------------------

IMR_ORDERINGS = {"due_at", "-due_at", "referred_at", "-referred_at"}


def imr_list(
    *, user: User, filters: dict | None = None, tar_id: int | None = None
) -> QuerySet[ImrCase]:
    """The IMR tracking list (003 F.7): filter by status, due date, type and overdue."""
    scope = _scope_via_tar(user)
    if scope is None:
        return ImrCase.objects.none()

    filters = filters or {}
    qs = ImrCase.objects.filter(scope)
    if tar_id is not None:
        qs = qs.filter(tar_id=tar_id)
    if status := filters.get("status"):
        qs = qs.filter(status__in=_statuses(status, ImrStatus.values))
    if review_type := filters.get("review_type"):
        qs = qs.filter(review_type__in=_statuses(review_type, ImrReviewType.values, "review_type"))
    if due_before := filters.get("due_before"):
        qs = qs.filter(due_at__lte=_instant(due_before, "due_before", end_of_day=True))
    if due_after := filters.get("due_after"):
        qs = qs.filter(due_at__gte=_instant(due_after, "due_after"))
    if overdue := filters.get("overdue"):
        qs = qs.filter(overdue_at__isnull=not _bool(overdue, "overdue"))
    if member := filters.get("member"):
        qs = qs.filter(member__cin=member.strip().upper())
    ordering = filters.get("ordering") or "due_at"
    if ordering not in IMR_ORDERINGS:
        raise DomainError(
            ErrorCode.INVALID,
            "Unknown ordering.",
            fields={"ordering": [f"Use one of: {', '.join(sorted(IMR_ORDERINGS))}."]},
        )
    return qs.select_related(
        "tar", "member", "appeal", "referred_by", "decided_by", "final_decision"
    ).order_by(ordering, "id")


def imr_get(*, user: User, imr_id: int) -> ImrCase:
    imr = imr_list(user=user).filter(pk=imr_id).first()
    if imr is None:
        raise _not_found()
    return imr


def imr_packet_get(*, user: User, imr_id: int) -> ImrCase:
    """The referral packet is a clinical record: clinical staff and the provider organizations
    on the request may open it; members get their copies through member services (as with
    attachments)."""
    if not sees_clinical_record(user):
        # Members get their copies through member services; intake and member services
        # track the case without its clinical content (least privilege, issue 12).
        raise _not_found()
    return imr_get(user=user, imr_id=imr_id)
