"""Telephone notice attempts (who called whom, when, how it ended) and reductions or
terminations of authorized concurrent services (issue 11).

- `oral_notice_validate` checks an attempt's body (400 with every field at fault) and
  `oral_notice_write` stores it; `tar_oral_notice_record` records one on the request through
  the TAR machine (urgent decisions, extensions); the appeals app records the appeal ones.
- `tar_reduce_services` reduces or ends what a concurrent request authorized, with the member's
  notice at least 10 days before it takes effect (42 CFR 431.211), through the TAR machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import User
from authorizations import clocks
from authorizations.calendar import plan_calendar
from authorizations.models import (
    Decision,
    LineOutcome,
    OralNotice,
    OralNoticeOutcome,
    OralNoticeParty,
    ReasonCode,
    RequestType,
    ServiceReduction,
    ServiceReductionKind,
    Tar,
    TarStatus,
)
from authorizations.services.decisions import LineDecision, apply_line_decisions
from authorizations.transitions import TAR, Action, check_conflict_of_interest, oral_notice_subjects
from authorizations.workflow import perform
from criteria.services import criteria_refs_resolve
from tar_portal.errors import DomainError, ErrorCode

# --- oral notice ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OralNoticeInput:
    subject: str  # an OralNoticeSubject value
    party: str  # an OralNoticeParty value
    phone: str
    outcome: str  # an OralNoticeOutcome value
    attempted_at: datetime | None = None
    note: str = ""


def oral_notice_validate(
    data: OralNoticeInput, *, subjects: list[str], now: datetime
) -> OralNoticeInput:
    errors: dict[str, list[str]] = {}
    if data.subject not in subjects:
        errors.setdefault("subject", []).append(
            f"No telephone notice is owed about that here; use one of: {', '.join(subjects)}."
            if subjects
            else "No telephone notice is owed here."
        )
    if data.party not in OralNoticeParty.values:
        errors.setdefault("party", []).append(f"Use one of: {', '.join(OralNoticeParty.values)}.")
    if data.outcome not in OralNoticeOutcome.values:
        errors.setdefault("outcome", []).append(
            f"Use one of: {', '.join(OralNoticeOutcome.values)}."
        )
    phone = (data.phone or "").strip()
    if not phone or len(phone) > 30 or sum(ch.isdigit() for ch in phone) < 7:
        errors.setdefault("phone", []).append("The number called (at least 7 digits).")
    attempted = data.attempted_at or now
    if attempted > now + timedelta(minutes=1):
        errors.setdefault("attempted_at", []).append("An attempt cannot be in the future.")
    if errors:
        raise DomainError(
            ErrorCode.INVALID, "The telephone notice is not valid; see fields.", fields=errors
        )
    return OralNoticeInput(
        subject=data.subject,
        party=data.party,
        phone=phone,
        outcome=data.outcome,
        attempted_at=attempted,
        note=(data.note or "").strip(),
    )


def oral_notice_write(
    *, tar: Tar, data: OralNoticeInput, user: User, appeal_ref: int | None, now: datetime
) -> dict[str, Any]:
    """Store one validated attempt; returns the detail for the history and the event (the
    number called stays off the history: it is the member's contact data)."""
    assert data.attempted_at is not None
    notice = OralNotice.objects.create(
        tar=tar,
        subject=data.subject,
        appeal_ref=appeal_ref,
        party=data.party,
        phone=data.phone,
        outcome=data.outcome,
        note=data.note,
        attempted_at=data.attempted_at,
        attempted_by=user,
        recorded_at=now,
    )
    return {
        "oral_notice": notice.pk,
        "subject": notice.subject,
        "party": notice.party,
        "outcome": notice.outcome,
        "attempted_at": notice.attempted_at.isoformat(),
    }


def tar_oral_notice_record(
    *, tar_id: int, user: User, data: OralNoticeInput, now: datetime | None = None
) -> OralNotice:
    """Record a telephone notice attempt about the request's urgent decision or extension
    (H&S 1367.01(h)(3); 42 CFR 438.210(d), 438.404(c)(4))."""
    now = now or timezone.now()
    written: dict[str, Any] = {}

    def apply(tar: Tar) -> dict[str, Any]:
        valid = oral_notice_validate(data, subjects=oral_notice_subjects(tar), now=now)
        written.update(oral_notice_write(tar=tar, data=valid, user=user, appeal_ref=None, now=now))
        return written

    perform(TAR, Action.RECORD_ORAL_NOTICE, record_id=tar_id, user=user, apply=apply, now=now)
    return OralNotice.objects.get(pk=written["oral_notice"])


# --- reduction or termination of authorized concurrent services -----------------------------


def tar_reduce_services(
    *,
    tar_id: int,
    user: User,
    kind: str,
    effective_on: date | None,
    rationale: str,
    care_plan_note: str,
    reason_code: str = ReasonCode.MEDICAL_NECESSITY,
    criteria_refs: list[str] | None = None,
    line_decisions: list[LineDecision] | None = None,
    now: datetime | None = None,
) -> ServiceReduction:
    """Reduce or end what a concurrent request authorized (42 CFR 438.400(b)(2)): a physician
    decides (002: an adverse decision for medical necessity), the change takes effect no
    sooner than 10 days after the notice (42 CFR 431.211), and the treating provider has been
    told and a care plan agreed (H&S 1367.01(h)(3)). The member's notice is owed by the event
    (notifications.policy); an appeal filed in time continues the services (438.420)."""
    now = now or timezone.now()
    written: dict[str, Any] = {}

    def apply(tar: Tar) -> dict[str, Any]:
        if tar.request_type != RequestType.CONCURRENT:
            # 42 CFR 438.400(b)(2): a reduction of services the member is receiving; a
            # pre-service approval is changed by a new decision, not a reduction.
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "Only services authorized under concurrent review can be reduced or ended here.",
            )
        errors: dict[str, list[str]] = {}
        if kind not in ServiceReductionKind.values:
            errors.setdefault("kind", []).append(
                f"Use one of: {', '.join(ServiceReductionKind.values)}."
            )
        if not (rationale or "").strip():
            errors.setdefault("rationale", []).append(
                "Explain the change in plain words; it goes into the member's letter."
            )
        if not (care_plan_note or "").strip():
            errors.setdefault("care_plan_note", []).append(
                "Say how the treating provider was told and what care plan was agreed "
                "(H&S 1367.01(h)(3))."
            )
        if reason_code not in ReasonCode.values:
            errors.setdefault("reason_code", []).append("Unknown reason code.")
        if reason_code == ReasonCode.MEDICAL_NECESSITY and not criteria_refs:
            # PRODUCT §7: an adverse notice cites the criteria by set, version and number.
            errors.setdefault("criteria_refs", []).append(
                "Cite the criteria used (set, version and criterion number)."
            )
        refs, ref_errors = criteria_refs_resolve(list(criteria_refs or []))
        if ref_errors:
            errors.setdefault("criteria_refs", []).extend(ref_errors)
        earliest = clocks.reduction_earliest_effective_date(decided_at=now)
        if effective_on is None:
            errors.setdefault("effective_on", []).append("The date the change takes effect.")
        elif effective_on < earliest:
            errors.setdefault("effective_on", []).append(
                f"At least 10 days after the notice: {earliest.isoformat()} or later "
                "(42 CFR 431.211)."
            )
        if kind == ServiceReductionKind.REDUCTION and not line_decisions:
            errors.setdefault("lines", []).append("Give what stays authorized, line by line.")
        if errors:
            raise DomainError(
                ErrorCode.INVALID, "The reduction is not valid; see fields.", fields=errors
            )
        assert effective_on is not None
        previous = [
            {
                "line_number": line.line_number,
                "outcome": line.outcome,
                "approved_units": line.approved_units,
                "approved_date_from": str(line.approved_date_from or ""),
                "approved_date_to": str(line.approved_date_to or ""),
            }
            for line in tar.lines.order_by("line_number")
        ]
        if kind == ServiceReductionKind.TERMINATION:
            # Authorized up to the day before the change takes effect; nothing after it.
            ends = effective_on - timedelta(days=1)
            decisions = [
                LineDecision(
                    line_number=line.line_number,
                    outcome=LineOutcome.MODIFIED,
                    approved_units=line.approved_units or line.units,
                    approved_date_from=line.approved_date_from or line.service_date_from,
                    approved_date_to=min(line.approved_date_to or line.service_date_to, ends),
                )
                for line in tar.lines.order_by("line_number")
                if line.outcome in (LineOutcome.APPROVED, LineOutcome.MODIFIED)
            ]
        else:
            decisions = list(line_decisions or [])
        line_outcomes = apply_line_decisions(
            tar=tar, outcome=TarStatus.MODIFIED, decisions=decisions
        )
        deadline = clocks.reduction_notice_deadline(
            decided_at=now, effective_on=effective_on, calendar=plan_calendar()
        )
        decision = Decision.objects.create(
            tar=tar,
            outcome=LineOutcome.MODIFIED,
            reason_code=reason_code,
            rationale=rationale.strip(),
            criteria_refs=refs,
            line_outcomes=line_outcomes,
            decided_by=user,
            decided_at=now,
        )
        reduction = ServiceReduction.objects.create(
            tar=tar,
            decision=decision,
            kind=kind,
            effective_on=effective_on,
            advance_notice_rule=deadline.rule,
            notice_due_at=deadline.due_at,
            previous_lines=previous,
            care_plan_note=care_plan_note.strip(),
            decided_by=user,
            decided_at=now,
        )
        tar.decided_at = now
        tar.decided_by = user
        tar.reason_code = reason_code
        written["reduction"] = reduction.pk
        return {
            "reduction": reduction.pk,
            "decision": decision.pk,
            "kind": kind,
            "outcome": TarStatus.MODIFIED,
            "reason_code": reason_code,
            "effective_on": effective_on.isoformat(),
            "member_notice_due_at": deadline.due_at.isoformat(),
            "member_notice_rule": deadline.rule,
        }

    perform(
        TAR,
        Action.REDUCE_SERVICES,
        record_id=tar_id,
        user=user,
        authorize=lambda tar: check_conflict_of_interest(tar=tar, user=user),
        apply=apply,
        reason=(rationale or "").strip(),
        now=now,
    )
    return ServiceReduction.objects.get(pk=written["reduction"])
