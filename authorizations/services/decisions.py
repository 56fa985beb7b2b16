"""Decisions on a request (PRODUCT §2, §4): approve, modify, deny or close, by a reviewer or
the plan's automated rules, line by line. The provider and member notice clocks start at the
decision; the notices themselves follow from the TAR_DECIDED event (notifications.policy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from accounts.models import Role, User
from authorizations import clocks
from authorizations.calendar import plan_calendar
from authorizations.models import Decision, LineOutcome, ReasonCode, Tar, TarStatus
from authorizations.transitions import (
    DECISION_ACTIONS,
    TAR,
    Action,
    check_conflict_of_interest,
    check_non_medical_ground,
    lines_meet_criteria,
)
from authorizations.workflow import check_role, perform
from criteria.services import criteria_refs_resolve
from tar_portal.errors import DomainError, ErrorCode, invalid


@dataclass
class LineDecision:
    line_number: int
    outcome: str
    approved_units: int | None = None
    approved_date_from: date | None = None
    approved_date_to: date | None = None


def authorize_decision(
    *,
    tar: Tar,
    user: User | None,
    outcome: str,
    reason_code: str,
    duplicate_of: Tar | None = None,
) -> None:
    if user is not None:
        check_conflict_of_interest(tar=tar, user=user)
        if user.role == Role.PHYSICIAN:
            return
    if outcome != TarStatus.APPROVED:
        # PRODUCT §2: a nurse's non-medical closure or denial must be supported by the record.
        check_non_medical_ground(
            tar=tar, user=user, reason_code=reason_code, duplicate_of=duplicate_of
        )
    # 002: only the CMO or a physician designee denies or modifies for medical necessity.
    if (
        outcome in (TarStatus.DENIED, TarStatus.MODIFIED)
        and reason_code == ReasonCode.MEDICAL_NECESSITY
    ):
        raise DomainError(
            ErrorCode.PHYSICIAN_REQUIRED,
            "Only a physician reviewer may deny or modify a request for medical necessity; "
            "refer it to a physician.",
        )
    if outcome in (TarStatus.APPROVED, TarStatus.MODIFIED):
        # A nurse (or the automated rules) approves only what meets the criteria (PRODUCT §6);
        # a modification approves part of a request, so the same holds for it.
        not_met = lines_meet_criteria(tar)
        if not_met:
            raise DomainError(
                ErrorCode.PHYSICIAN_REQUIRED,
                "A nurse may approve only lines that meet the criteria; lines "
                f"{', '.join(map(str, not_met))} need a physician.",
            )


def tar_decide(
    *,
    tar_id: int,
    user: User | None,
    outcome: str,
    reason_code: str = "",
    rationale: str = "",
    criteria_refs: list[str] | None = None,
    line_decisions: list[LineDecision] | None = None,
    now: datetime | None = None,
    automated: bool = False,
    duplicate_of: str = "",
) -> Tar:
    """Approve, modify, deny or close (non-medical). The provider and member notice clocks
    start at the decision (PRODUCT §4). `duplicate_of` is the number of the request a
    `duplicate` closure names."""
    now = now or timezone.now()
    action = DECISION_ACTIONS.get(outcome)
    if action is None:
        # 403 before 400: a caller who may not decide at all is told that first.
        check_role(TAR, TAR[Action.DENY], user)
        raise invalid("Unknown outcome.", outcome="Use approved, modified, denied or closed.")
    rationale = (rationale or "").strip()
    line_decisions = line_decisions or []
    duplicated: Tar | None = None

    def authorize(tar: Tar) -> None:
        nonlocal duplicated
        # After the role check (403 before 400), under the request's lock.
        duplicated = _duplicated_request(duplicate_of, reason_code)
        authorize_decision(
            tar=tar,
            user=user,
            outcome=outcome,
            reason_code=reason_code,
            duplicate_of=duplicated,
        )

    def apply(tar: Tar) -> dict[str, Any]:
        resolved_refs = _validate_decision(
            outcome=outcome,
            reason_code=reason_code,
            rationale=rationale,
            criteria_refs=criteria_refs,
        )
        line_outcomes = apply_line_decisions(tar=tar, outcome=outcome, decisions=line_decisions)
        calendar = plan_calendar()
        clock_inputs: dict[str, Any] = {
            "received_at": tar.received_at,
            "request_type": tar.request_type,
            "urgency": tar.urgency,
            "decided_at": now,
            "calendar": calendar,
            # A lawful extension moves the notice limits (PRODUCT §4).
            "extended_due_at": tar.decision_due_at if tar.extension_count else None,
        }
        provider_notice = clocks.provider_notice_deadline(**clock_inputs)
        member_notice = clocks.member_notice_deadline(**clock_inputs)
        tar.decided_at = now
        tar.decided_by = None if automated else user
        tar.reason_code = reason_code if outcome != TarStatus.APPROVED else ""
        tar.assigned_to = None
        if provider_notice is not None:
            tar.provider_notice_due_at = provider_notice.due_at
            tar.provider_notice_rule = provider_notice.rule
        tar.member_notice_due_at = member_notice.due_at
        tar.member_notice_rule = member_notice.rule
        decision = Decision.objects.create(
            tar=tar,
            outcome=outcome,
            reason_code=tar.reason_code,
            rationale=rationale,
            criteria_refs=resolved_refs,
            line_outcomes=line_outcomes,
            decided_by=None if automated else user,
            automated=automated,
            decided_at=now,
            duplicate_of=duplicated,
        )
        # What the notices owe, as of this decision (the event's payload).
        return {
            "decision": decision.pk,
            "provider_notice_due_at": _iso(tar.provider_notice_due_at),
            "provider_notice_rule": tar.provider_notice_rule,
            "member_notice_due_at": _iso(tar.member_notice_due_at),
            "member_notice_rule": tar.member_notice_rule,
        }

    return perform(
        TAR,
        action,
        record_id=tar_id,
        user=user,
        reason=rationale,
        detail={
            "outcome": outcome,
            "reason_code": reason_code,
            "criteria_refs": list(criteria_refs or []),
            "automated": automated,
            **({"duplicate_of": duplicate_of.strip().upper()} if duplicate_of else {}),
        },
        authorize=authorize,
        apply=apply,
        now=now,
    )


def _duplicated_request(number: str, reason_code: str) -> Tar | None:
    """The request a `duplicate` closure names, by its number (400 when there is none)."""
    number = (number or "").strip().upper()
    if not number:
        return None
    if reason_code != ReasonCode.DUPLICATE:
        raise invalid(
            "Only a duplicate closure names another request.",
            duplicate_of="Leave empty unless the reason is duplicate.",
        )
    tar = Tar.objects.filter(number=number).first()
    if tar is None:
        raise invalid("No such request.", duplicate_of=f"No request {number}.")
    return tar


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _validate_decision(
    *, outcome: str, reason_code: str, rationale: str, criteria_refs: list[str] | None
) -> list[dict[str, Any]]:
    """400 with every field at fault; returns the resolved criteria citations."""
    errors: dict[str, list[str]] = {}
    if outcome != TarStatus.APPROVED:
        if reason_code not in ReasonCode.values:
            errors.setdefault("reason_code", []).append("A reason code is required.")
        if not rationale:
            errors.setdefault("rationale", []).append(
                "Explain the decision in plain words; it goes into the member's letter."
            )
    if outcome == TarStatus.CLOSED and reason_code == ReasonCode.MEDICAL_NECESSITY:
        errors.setdefault("reason_code", []).append(
            "A closure is for non-medical reasons; deny for medical necessity instead."
        )
    if (
        outcome in (TarStatus.DENIED, TarStatus.MODIFIED)
        and reason_code == ReasonCode.MEDICAL_NECESSITY
        and not criteria_refs
    ):
        errors.setdefault("criteria_refs", []).append(
            "Cite the criteria used (set, version and criterion number)."
        )
    resolved_refs, ref_errors = criteria_refs_resolve(list(criteria_refs or []))
    if ref_errors:
        errors.setdefault("criteria_refs", []).extend(ref_errors)
    if errors:
        raise DomainError(
            ErrorCode.INVALID, "The decision is not valid; see fields.", fields=errors
        )
    return resolved_refs


def apply_line_decisions(
    *, tar: Tar, outcome: str, decisions: list[LineDecision]
) -> list[dict[str, Any]]:
    lines = {line.line_number: line for line in tar.lines.all()}
    by_number = {d.line_number: d for d in decisions}
    unknown = sorted(set(by_number) - set(lines))
    if unknown:
        raise invalid("Unknown line numbers.", lines=f"No line(s) {unknown} on this request.")
    defaults: dict[str, str] = {
        TarStatus.APPROVED: LineOutcome.APPROVED,
        TarStatus.MODIFIED: LineOutcome.APPROVED,
        TarStatus.DENIED: LineOutcome.DENIED,
        TarStatus.CLOSED: LineOutcome.CLOSED,
    }
    default = defaults[outcome]
    results: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    for number, line in sorted(lines.items()):
        decision = by_number.get(number)
        line_outcome = decision.outcome if decision else default
        if line_outcome not in LineOutcome.values or line_outcome == LineOutcome.PENDING:
            errors.setdefault(f"lines[{number}].outcome", []).append("Unknown line outcome.")
            continue
        line.outcome = line_outcome
        if line_outcome in (LineOutcome.APPROVED, LineOutcome.MODIFIED):
            line.approved_units = (decision.approved_units if decision else None) or line.units
            line.approved_date_from = (
                decision.approved_date_from if decision else None
            ) or line.service_date_from
            line.approved_date_to = (
                decision.approved_date_to if decision else None
            ) or line.service_date_to
            if line.approved_units > line.units:
                errors.setdefault(f"lines[{number}].approved_units", []).append(
                    "Cannot approve more units than requested."
                )
            if (
                line.approved_date_from < line.service_date_from
                or line.approved_date_to > line.service_date_to
            ):
                errors.setdefault(f"lines[{number}].approved_date_from", []).append(
                    "Approved dates must lie within the requested dates "
                    f"({line.service_date_from} to {line.service_date_to})."
                )
            if line.approved_date_to < line.approved_date_from:
                errors.setdefault(f"lines[{number}].approved_date_to", []).append(
                    "Must be on or after approved_date_from."
                )
            if line_outcome == LineOutcome.APPROVED and (
                line.approved_units != line.units
                or line.approved_date_from != line.service_date_from
                or line.approved_date_to != line.service_date_to
            ):
                line.outcome = LineOutcome.MODIFIED
        results.append(
            {
                "line_number": number,
                "code": line.code,
                "outcome": line.outcome,
                "approved_units": line.approved_units,
                "approved_date_from": str(line.approved_date_from or ""),
                "approved_date_to": str(line.approved_date_to or ""),
            }
        )
    outcomes = {r["outcome"] for r in results}
    if outcome == TarStatus.APPROVED and outcomes != {LineOutcome.APPROVED}:
        errors.setdefault("outcome", []).append(
            "Some lines are modified or denied: the request's outcome is 'modified'."
        )
    if outcome == TarStatus.MODIFIED and outcomes == {LineOutcome.APPROVED}:
        errors.setdefault("outcome", []).append(
            "Nothing was changed from the request: approve it, or give the modified lines."
        )
    if outcome == TarStatus.DENIED and outcomes != {LineOutcome.DENIED}:
        errors.setdefault("outcome", []).append("A denial denies every line.")
    if errors:
        raise DomainError(ErrorCode.INVALID, "The line decisions are not valid.", fields=errors)
    for line in lines.values():
        line.save(
            update_fields=["outcome", "approved_units", "approved_date_from", "approved_date_to"]
        )
    return results
