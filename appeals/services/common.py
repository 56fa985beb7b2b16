"""What the appeal, peer-to-peer and IMR services share: Pacific dates, the decision under
review, and the independence rule."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from accounts.models import User
from appeals.determinations import independence_conflict
from appeals.models import Appeal
from authorizations import clocks
from authorizations.models import Decision, LineOutcome, Tar
from authorizations.transitions import check_conflict_of_interest
from criteria.services import criteria_refs_resolve
from tar_portal.errors import DomainError, ErrorCode

PACIFIC = clocks.PACIFIC


def pacific_date(instant: datetime) -> date:
    return instant.astimezone(PACIFIC).date()


def end_of_calendar_day(day: date) -> datetime:
    # PRODUCT §4 "N calendar days": 23:59:59 Pacific of that day, stored in UTC.
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=PACIFIC).astimezone(UTC)


def resolve_refs(refs: list[str] | None, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    resolved, ref_errors = criteria_refs_resolve(list(refs or []))
    if ref_errors:
        errors.setdefault("criteria_refs", []).extend(ref_errors)
    return resolved


def latest_adverse_decision(tar: Tar) -> Decision | None:
    return (
        tar.decisions.filter(outcome__in=[LineOutcome.DENIED, LineOutcome.MODIFIED])
        .order_by("-decided_at", "-id")
        .first()
    )


def line_snapshot(tar: Tar) -> list[dict[str, Any]]:
    """The lines as they stand (an upheld decision records them unchanged)."""
    return [
        {
            "line_number": line.line_number,
            "code": line.code,
            "outcome": line.outcome,
            "approved_units": line.approved_units,
            "approved_date_from": str(line.approved_date_from or ""),
            "approved_date_to": str(line.approved_date_to or ""),
        }
        for line in tar.lines.order_by("line_number")
    ]


def check_independent(*, tar: Tar, user: User, appeal: Appeal | None = None) -> None:
    """42 CFR 438.406(b)(2)(i): the appeal is decided by someone who was not involved in any
    earlier level of review (decided, reviewed, pended, referred, held the peer-to-peer) and
    is not the subordinate of anyone who was; 002: nor by a physician involved in the
    member's care. The appeal's own resolution, once made, does not count."""
    conflict = independence_conflict(
        tar, user, appeal.resolution_decision_id if appeal is not None else None
    )
    if conflict == "involved":
        raise DomainError(
            ErrorCode.CONFLICT_OF_INTEREST,
            "You took part in an earlier level of review of this request; a physician who did "
            "not must decide the appeal (42 CFR 438.406(b)(2)).",
        )
    if conflict == "subordinate":
        raise DomainError(
            ErrorCode.CONFLICT_OF_INTEREST,
            "You report to someone who took part in an earlier level of review of this "
            "request; a physician outside that reporting line must decide the appeal "
            "(42 CFR 438.406(b)(2)).",
        )
    check_conflict_of_interest(tar=tar, user=user)
