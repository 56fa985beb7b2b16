"""Deciding a decided request again: an appeal's resolution and an IMR's final coverage
decision both end here (one service; 42 CFR 438.408, 003 F.4).

- `redetermination_validate` checks what the physician sent (400 with every field at fault).
- `tar_redetermine` applies it to the request through the TAR machine: overturned → approved
  (every line approved as asked); partly overturned → modified with the given lines;
  upheld → status unchanged. Each writes a new Decision row.
- `appeal_resolve` resolves an open appeal with it: the request's side, then the appeal's
  (status, notice and State Hearing dates) through the appeal machine. The appeal
  resolution's event owes the notices (notifications.policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accounts.models import User
from appeals.machines import APPEAL, AppealAction
from appeals.models import Appeal, AppealOutcome
from appeals.services.common import (
    check_independent,
    end_of_calendar_day,
    line_snapshot,
    pacific_date,
    resolve_refs,
)
from authorizations import clocks
from authorizations.models import Decision, LineOutcome, ReasonCode, Tar, TarStatus
from authorizations.services import LineDecision, apply_line_decisions
from authorizations.transitions import TAR, Action
from authorizations.workflow import perform
from tar_portal.errors import DomainError, ErrorCode


@dataclass
class Redetermination:
    """What a re-decision of a decided TAR (appeal or IMR) asks for."""

    outcome: str  # an AppealOutcome value
    rationale: str
    reason_code: str
    criteria_refs: list[dict[str, Any]]
    line_decisions: list[LineDecision]


_TAR_ACTIONS: dict[str, dict[str, str]] = {
    "appeal": {
        AppealOutcome.OVERTURNED: Action.APPEAL_OVERTURN,
        AppealOutcome.PARTIALLY_OVERTURNED: Action.APPEAL_PARTIAL,
        AppealOutcome.UPHELD: Action.APPEAL_UPHOLD,
    },
    "imr": {
        AppealOutcome.OVERTURNED: Action.IMR_OVERTURN,
        AppealOutcome.PARTIALLY_OVERTURNED: Action.IMR_PARTIAL,
        AppealOutcome.UPHELD: Action.IMR_UPHOLD,
    },
}


def redetermination_validate(
    *,
    outcome: str,
    rationale: str,
    reason_code: str,
    criteria_refs: list[str] | None,
    line_decisions: list[LineDecision] | None,
    current_reason: str,
) -> Redetermination:
    errors: dict[str, list[str]] = {}
    if outcome not in AppealOutcome.values:
        errors.setdefault("outcome", []).append(f"Use one of: {', '.join(AppealOutcome.values)}.")
    if not (rationale or "").strip():
        errors.setdefault("rationale", []).append(
            "Explain the result in plain words; it goes into the member's letter."
        )
    reason = ""
    if outcome != AppealOutcome.OVERTURNED:
        reason = reason_code or current_reason or ReasonCode.MEDICAL_NECESSITY
        if reason not in ReasonCode.values:
            errors.setdefault("reason_code", []).append("Unknown reason code.")
        if reason == ReasonCode.MEDICAL_NECESSITY and not criteria_refs:
            # PRODUCT §7: an adverse notice cites the criteria by set, version and number.
            errors.setdefault("criteria_refs", []).append(
                "Cite the criteria used (set, version and criterion number)."
            )
    if outcome == AppealOutcome.PARTIALLY_OVERTURNED and not line_decisions:
        errors.setdefault("lines", []).append(
            "Give the line decisions: what is approved, and how much."
        )
    resolved = resolve_refs(criteria_refs, errors)
    if errors:
        raise DomainError(
            ErrorCode.INVALID, "The decision is not valid; see fields.", fields=errors
        )
    return Redetermination(
        outcome=outcome,
        rationale=rationale.strip(),
        reason_code=reason,
        criteria_refs=resolved,
        line_decisions=list(line_decisions or []),
    )


def tar_redetermine(
    *,
    tar_id: int,
    user: User,
    path: str,
    change: Redetermination,
    authorize: Any,
    detail: dict[str, Any],
    now: datetime,
) -> Decision:
    """Apply an appeal's (`path="appeal"`) or an IMR's (`path="imr"`) result to a decided
    request; returns the Decision written."""
    written: dict[str, Decision] = {}

    def apply(tar: Tar) -> dict[str, Any]:
        if change.outcome == AppealOutcome.OVERTURNED:
            line_outcomes = apply_line_decisions(tar=tar, outcome=TarStatus.APPROVED, decisions=[])
            outcome: str = LineOutcome.APPROVED
        elif change.outcome == AppealOutcome.PARTIALLY_OVERTURNED:
            line_outcomes = apply_line_decisions(
                tar=tar, outcome=TarStatus.MODIFIED, decisions=change.line_decisions
            )
            outcome = LineOutcome.MODIFIED
        elif tar.is_open:
            # An appeal of a delay or a deemed denial upheld: the request is denied now (the
            # TAR machine moves it to denied).
            line_outcomes = apply_line_decisions(tar=tar, outcome=TarStatus.DENIED, decisions=[])
            outcome = LineOutcome.DENIED
        else:
            line_outcomes = line_snapshot(tar)
            outcome = tar.status  # denied, modified or closed: the same word for a decision
        if change.outcome != AppealOutcome.UPHELD or tar.is_open:
            # The authorization changed: the TAR shows who decided it now and why.
            tar.decided_at = now
            tar.decided_by = user
            tar.reason_code = change.reason_code
        written["decision"] = Decision.objects.create(
            tar=tar,
            outcome=outcome,
            reason_code=change.reason_code,
            rationale=change.rationale,
            criteria_refs=change.criteria_refs,
            line_outcomes=line_outcomes,
            decided_by=user,
            decided_at=now,
        )
        return {"decision": written["decision"].pk}

    perform(
        TAR,
        _TAR_ACTIONS[path][change.outcome],
        record_id=tar_id,
        user=user,
        reason=change.rationale,
        detail=detail,
        authorize=authorize,
        apply=apply,
        now=now,
    )
    return written["decision"]


def appeal_resolve(
    *,
    appeal_id: int,
    user: User,
    outcome: str,
    rationale: str,
    reason_code: str,
    criteria_refs: list[str] | None,
    line_decisions: list[LineDecision] | None,
    detail: dict[str, Any],
    now: datetime,
) -> Appeal:
    """Resolve an open appeal: by its own decision (appeal_decide) or by an IMR's final
    decision under appeal (imr_final_decision). The decider's independence is checked under
    the appeal's lock and again under the request's (the decision history cannot change)."""
    written: dict[str, Decision] = {}

    def authorize(appeal: Appeal) -> None:
        check_independent(tar=appeal.tar, user=user, appeal=appeal)

    def apply(appeal: Appeal) -> dict[str, Any]:
        change = redetermination_validate(
            outcome=outcome,
            rationale=rationale,
            reason_code=reason_code,
            criteria_refs=criteria_refs,
            line_decisions=line_decisions,
            current_reason=appeal.tar.reason_code,
        )
        decision = tar_redetermine(
            tar_id=appeal.tar_id,
            user=user,
            path="appeal",
            change=change,
            authorize=lambda locked: check_independent(tar=locked, user=user),
            detail=detail,
            now=now,
        )
        written["decision"] = decision
        on_time = now <= appeal.resolution_due_at
        # 42 CFR 438.408(b), (d)(2): the written resolution notice within the time frame;
        # already late, the notice is due the day of the resolution.
        notice_due = appeal.resolution_due_at if on_time else end_of_calendar_day(pacific_date(now))
        appeal.outcome = change.outcome
        appeal.rationale = change.rationale
        appeal.criteria_refs = change.criteria_refs
        appeal.decided_by = user
        appeal.resolved_at = now
        appeal.resolution_decision = decision
        appeal.notice_due_at = notice_due
        appeal.state_hearing_due_at = (
            None
            if change.outcome == AppealOutcome.OVERTURNED
            # 42 CFR 438.408(f)(2): 120 calendar days from the adverse resolution notice.
            else clocks.state_hearing_deadline(resolution_date=pacific_date(now)).due_at
        )
        return {
            "outcome": change.outcome,
            "decision": decision.pk,
            "on_time": on_time,
            "notice_due_at": notice_due.isoformat(),
            "resolution_due_rule": appeal.resolution_due_rule,
        }

    return perform(
        APPEAL,
        AppealAction.RESOLVE,
        record_id=appeal_id,
        user=user,
        authorize=authorize,
        apply=apply,
        reason=(rationale or "").strip(),
        now=now,
    )
