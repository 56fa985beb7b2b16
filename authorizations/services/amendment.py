"""The requesting provider changes the service lines of an open request: adds a line, changes
one (code, units, dates, modifiers, diagnoses) or cancels some (issue 14; a Da Vinci PAS Claim
update, or the same through the REST API). One action of the TAR machine (AMEND_LINES),
applied by the workflow kernel, from the open statuses only: once decided, a request changes
by an appeal or a reduction, never by the provider rewriting it.

The clock is kept, not restarted. PRODUCT §4: timeliness is measured from receipt even when
information is missing, a request is "received, not refused" with its true receipt time, and
the earliest deadline binds; an amendment is the provider correcting or completing the same
request, so it cannot move the member's decision date out (42 CFR 438.210(d) counts from the
receipt of the request). When the change needs more time to review, the plan takes an
extension with the reason "requested by the member or provider" (PRODUCT §4, extensions),
which sends the delay notice the member is owed. The history and the event say
`"clock": "kept"` with the deadline that still binds.

Changed and added lines are evaluated again against the criteria (PRODUCT §6), as an answer
to an information request is; the unchanged lines keep their evaluation. A cancelled line is
removed from the request (nothing was decided on it, and no record points at a line); what
it asked for stays in the history row and the event, so the audit trail keeps it. Cancelling
every line is a withdrawal of the request (Action.WITHDRAW), not an amendment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from accounts.models import User
from authorizations.models import LineOutcome, ServiceLine, Tar
from authorizations.services.evaluation import tar_evaluate_lines
from authorizations.services.submission import LineInput, TarInput, _validate_lines
from authorizations.transitions import TAR, Action
from authorizations.workflow import perform
from tar_portal.errors import invalid

MAX_LINES = 99  # service_line_number is a small integer; a request is a handful of lines


@dataclass
class LineAmendment:
    """What the provider changes: lines to add, lines to change (by line number, the new
    content in full) and lines to cancel (by line number)."""

    add: list[LineInput] = field(default_factory=list)
    change: dict[int, LineInput] = field(default_factory=dict)
    cancel: list[int] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.add or self.change or self.cancel)


def _snapshot(line: ServiceLine) -> dict[str, Any]:
    """What a line asked for, for the history and the event: codes, units and dates only
    (the diagnoses stay on the line and in the request's own record)."""
    return {
        "line_number": line.line_number,
        "code": line.code,
        "modifiers": list(line.modifiers or []),
        "units": line.units,
        "service_date_from": line.service_date_from.isoformat(),
        "service_date_to": line.service_date_to.isoformat(),
    }


def _content(line: ServiceLine) -> tuple:
    return (
        line.code,
        tuple(line.modifiers or []),
        tuple(line.diagnosis_codes or []),
        line.units,
        line.spinal_region,
        line.service_date_from,
        line.service_date_to,
        line.criteria_set_choice,
    )


def _clean(tar: Tar, inputs: list[LineInput], on: date, prefix: str) -> list[dict[str, Any]]:
    """The same checks as a submission's lines (codes, units, dates against the request type,
    diagnoses, criteria set), as of the day of the change; 400 naming the fields at fault."""
    if not inputs:
        return []
    errors: dict[str, list[str]] = {}
    data = TarInput(
        member="",
        servicing_provider="",
        request_type=tar.request_type,
        urgency=tar.urgency,
        place_of_service=tar.place_of_service,
        lines=inputs,
    )
    clean = _validate_lines(data=data, received_on=on, errors=errors)
    if errors:
        fields = {name.replace("lines", prefix, 1): v for name, v in errors.items()}
        raise invalid("Some changed lines are not valid; see fields.", **fields)
    return clean


def _assign(line: ServiceLine, clean: dict[str, Any]) -> None:
    line.code = clean["code"]
    line.modifiers = clean["modifiers"]
    line.diagnosis_codes = clean["diagnosis_codes"]
    line.units = clean["units"]
    line.spinal_region = clean["spinal_region"]
    line.service_date_from = clean["service_date_from"]
    line.service_date_to = clean["service_date_to"]
    line.criteria_set_choice = clean["criteria_set_choice"]
    line.family = clean["family"] or ""


def tar_amend_lines(
    *,
    tar_id: int,
    user: User,
    amendment: LineAmendment,
    reason: str = "",
    now: datetime | None = None,
) -> Tar:
    """Add, change or cancel lines of an open request (Action.AMEND_LINES). 400 for a change
    that names no line of the request, a line that is not valid, nothing to change, or every
    line cancelled (withdraw the request instead); 409 once the request is decided."""
    now = now or timezone.now()
    reason = (reason or "").strip()

    def apply(tar: Tar) -> dict[str, Any]:
        if amendment.is_empty():
            raise invalid("Say which lines to add, change or cancel.", lines="Nothing to change.")
        lines = {line.line_number: line for line in tar.lines.all()}
        named = set(amendment.change) | set(amendment.cancel)
        unknown = sorted(named - set(lines))
        if unknown:
            raise invalid("Unknown line numbers.", lines=f"No line(s) {unknown} on this request.")
        both = sorted(set(amendment.change) & set(amendment.cancel))
        if both:
            raise invalid("A line is changed and cancelled.", lines=f"Line(s) {both}: pick one.")
        decided = sorted(n for n in named if lines[n].outcome != LineOutcome.PENDING)
        if decided:
            raise invalid("Decided lines cannot be changed.", lines=f"Line(s) {decided}.")
        remaining = len(lines) - len(set(amendment.cancel)) + len(amendment.add)
        if remaining < 1:
            raise invalid(
                "Every line would be cancelled: withdraw the request instead.",
                lines="At least one service line is required.",
            )
        if remaining > MAX_LINES:
            raise invalid("Too many lines.", lines=f"A request has at most {MAX_LINES} lines.")
        on = timezone.localdate(now)
        numbers = sorted(amendment.change)
        changed_clean = _clean(tar, [amendment.change[n] for n in numbers], on, "change")
        added_clean = _clean(tar, amendment.add, on, "add")

        changed: list[dict[str, Any]] = []
        evaluate: list[ServiceLine] = []
        for number, clean in zip(numbers, changed_clean, strict=True):
            line = lines[number]
            before = _content(line)
            snapshot = _snapshot(line)
            _assign(line, clean)
            if _content(line) == before:
                continue  # sent again as it was: no change
            line.save()
            evaluate.append(line)
            changed.append({"before": snapshot, "after": _snapshot(line)})

        cancelled = [_snapshot(lines[n]) for n in sorted(set(amendment.cancel))]
        ServiceLine.objects.filter(tar=tar, line_number__in=amendment.cancel).delete()

        added: list[dict[str, Any]] = []
        next_number = max(lines) + 1
        for clean in added_clean:
            line = ServiceLine(tar=tar, line_number=next_number)
            next_number += 1
            _assign(line, clean)
            line.save()
            evaluate.append(line)
            added.append(_snapshot(line))
        if not (changed or cancelled or added):
            raise invalid("The lines sent are the lines on file.", lines="Nothing to change.")
        if evaluate:
            tar_evaluate_lines(tar=tar, lines=evaluate, actor=user)
        # PRODUCT §4: the clock runs from receipt; an amendment keeps it (module docstring).
        return {
            "added": added,
            "changed": changed,
            "cancelled": cancelled,
            "clock": "kept",
            "decision_due_at": tar.decision_due_at.isoformat(),
            "decision_due_rule": tar.decision_due_rule,
        }

    return perform(
        TAR,
        Action.AMEND_LINES,
        record_id=tar_id,
        user=user,
        reason=reason,
        apply=apply,
        now=now,
    )
