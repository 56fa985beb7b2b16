"""What an appeal is against, and who may decide it (42 CFR 438.400(b), 438.402(c),
438.406(b)(2)). Reads only; the machines (appeals.machines) offer actions by them and the
services (appeals.services) check them again under the lock.

- `adverse_determination(tar, now)`: the adverse benefit determination a member may appeal
  on the request now, if any: a denial or modification, a non-medical denial (not eligible,
  not a benefit), a delay (an extension), or a decision not made in time (a deemed denial).
- `involved_in_earlier_levels(tar, appeal)`: everyone who took part in any earlier level of
  review of the request; `independent_of_review(tar, user, appeal)` also excludes their
  subordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from accounts.models import User
from authorizations.models import (
    OPEN_STATUSES,
    Decision,
    Extension,
    HistoryAction,
    HistoryEntry,
    LineOutcome,
    Tar,
)
from authorizations.transitions import ADVERSE_CLOSURE_REASONS, Action


@dataclass(frozen=True)
class Determination:
    """One adverse benefit determination a member may appeal."""

    basis: str  # an AppealBasis value
    since: datetime  # when it was made (the decision, the extension, the missed deadline)
    decision: Decision | None = None
    extension: Extension | None = None


def _adverse(decision: Decision) -> bool:
    if decision.outcome in (LineOutcome.DENIED, LineOutcome.MODIFIED):
        return True
    return decision.outcome == LineOutcome.CLOSED and decision.reason_code in (
        ADVERSE_CLOSURE_REASONS
    )


def adverse_determination(tar: Tar, now: datetime | None = None) -> Determination | None:
    """The determination an appeal filed now is against (42 CFR 438.400(b)).

    A decided request: its latest decision, when adverse (a later approval ends it). An open
    request: a missed deadline is a deemed denial (438.400(b)(5), 438.404(c)(5)), appealable
    while the request is still open; otherwise its latest extension is a delay the member may
    appeal (PRODUCT §4). The basis values are AppealBasis's (appeals.models)."""
    now = now or timezone.now()
    if tar.status in OPEN_STATUSES:
        if tar.breached_at is not None or tar.decision_due_at < now:
            return Determination("deemed_denial", since=tar.breached_at or tar.decision_due_at)
        extension = tar.extensions.order_by("-extended_at", "-id").first()
        if extension is not None:
            return Determination("delay", since=extension.extended_at, extension=extension)
        return None
    decision = tar.decisions.order_by("-decided_at", "-id").first()
    if decision is None or not _adverse(decision):
        return None
    return Determination("decision", since=decision.decided_at, decision=decision)


# The request's history rows that are someone's part in a level of review (42 CFR
# 438.406(b)(2)(i)): deciding, pending for information, extending, reducing; claiming or
# referring (the TAR's status changes whose action is one of these); holding a peer-to-peer
# talk. An IMR referred during the appeal is part of the appeal's own level, and an IMR's
# final decision on a case not under appeal is a Decision row (counted as a decision).
_REVIEW_HISTORY = (
    HistoryAction.DECIDED,
    HistoryAction.INFORMATION_REQUESTED,
    HistoryAction.EXTENDED,
    HistoryAction.SERVICES_REDUCED,
    HistoryAction.PEER_TO_PEER_HELD,
)
_REVIEW_STATUS_ACTIONS = (Action.CLAIM, Action.REFER)


def involved_in_earlier_levels(tar: Tar, resolution_decision_id: int | None = None) -> set[int]:
    """Everyone who took part in an earlier level of review of the request (42 CFR
    438.406(b)(2)(i)): who decided (every decision, an earlier appeal's included), reviewed
    (claimed, pended, extended), referred, or held a peer-to-peer talk. The appeal's own
    resolution, once made, does not count against re-deciding that appeal."""
    decisions = tar.decisions.filter(decided_by__isnull=False)
    if resolution_decision_id is not None:
        decisions = decisions.exclude(pk=resolution_decision_id)
    people = set(decisions.values_list("decided_by_id", flat=True))
    if tar.decided_by_id is not None and resolution_decision_id is None:
        people.add(tar.decided_by_id)
    history = HistoryEntry.objects.filter(tar=tar, actor__isnull=False)
    people |= set(history.filter(action__in=_REVIEW_HISTORY).values_list("actor_id", flat=True))
    people |= set(
        history.filter(
            action=HistoryAction.STATUS_CHANGED, detail__action__in=list(_REVIEW_STATUS_ACTIONS)
        ).values_list("actor_id", flat=True)
    )
    # The physician of a talk held (the row names them even when someone else recorded it).
    people |= set(
        tar.peer_to_peers.filter(status="held", physician__isnull=False).values_list(
            "physician_id", flat=True
        )
    )
    return people


def independence_conflict(tar: Tar, user: User, resolution_decision_id: int | None = None) -> str:
    """Why the user may not decide the appeal ('' when they may): 42 CFR 438.406(b)(2)(i),
    neither someone involved in an earlier level of review nor their subordinate."""
    involved = involved_in_earlier_levels(tar, resolution_decision_id)
    if user.pk in involved:
        return "involved"
    if involved & user.superiors():
        return "subordinate"
    return ""
