"""Hand-built records for the report tests: requests, first and later decisions, extensions,
notices and appeals written straight to the tables the workflow writes, with the exact times
a test needs (the figures under test read only these columns).

A decision or an appeal written here refreshes the figures' pre-aggregates of its request, as
the outbox consumer does after one made through the workflow (reports.aggregates)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from appeals.models import Appeal
from authorizations.models import Decision, Extension, ServiceLine, Tar
from reports import aggregates

PACIFIC = ZoneInfo("America/Los_Angeles")
_numbers = count(1)


def pt(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PACIFIC)


def make_tar(
    world,
    *,
    received_at: datetime,
    request_type: str = "pre_service",
    urgency: str = "routine",
    status: str = "submitted",
    due_hours: float = 7 * 24,
    extension_count: int = 0,
    organization=None,
    family: str = "esi",
    code: str = "64483",
    late_submission: bool = False,
) -> Tar:
    organization = organization or world.redwood
    provider = (
        world.redwood_specialist if organization == world.redwood else world.coastal_specialist
    )
    due = received_at.astimezone(UTC) + timedelta(hours=due_hours)
    tar = Tar.objects.create(
        number=f"TAR-{received_at.year}-{next(_numbers):06d}",
        member=world.member,
        requesting_provider=provider,
        servicing_provider=provider,
        requesting_organization=organization,
        servicing_organization=organization,
        place_of_service="24",
        request_type=request_type,
        urgency=urgency,
        urgency_reason="Severe pain with new weakness." if urgency == "urgent" else "",
        channel="portal",
        received_at=received_at,
        status=status,
        submitted_by=world.users["provider"],
        effective_received_at=received_at,
        decision_due_at=due,
        decision_due_rule="test",
        original_decision_due_at=due,
        extension_count=extension_count,
        late_submission=late_submission,
        late_submission_rule="15 business days after the date of service"
        if late_submission
        else "",
    )
    ServiceLine.objects.create(
        tar=tar,
        line_number=1,
        code=code,
        diagnosis_codes=["M54.16"],
        units=1,
        service_date_from=date(received_at.year, received_at.month, received_at.day),
        service_date_to=date(received_at.year, received_at.month, received_at.day),
        family=family,
    )
    if extension_count:
        Extension.objects.create(
            tar=tar,
            reason="information_not_received",
            previous_due_at=received_at,
            new_due_at=due,
            extended_by=world.users["nurse"],
            extended_at=received_at + timedelta(hours=1),
        )
    return tar


def decide(
    tar: Tar,
    outcome: str,
    *,
    at: datetime,
    reason_code: str = "",
    by=None,
    automated: bool = False,
    criteria_refs: list | None = None,
    line_outcome: str | None = None,
) -> Decision:
    """A decision on the request (the first one, or a later one on appeal)."""
    decision = Decision.objects.create(
        tar=tar,
        outcome=outcome,
        reason_code=reason_code,
        decided_by=by,
        automated=automated,
        decided_at=at,
        criteria_refs=criteria_refs or [],
        line_outcomes=[{"line_number": 1, "outcome": line_outcome or outcome}],
    )
    Tar.objects.filter(pk=tar.pk).update(
        status=outcome, decided_at=at, decided_by=by, reason_code=reason_code
    )
    aggregates.refresh([tar.pk])
    return decision


def hours_after(tar: Tar, hours: float) -> datetime:
    """Elapsed hours (in UTC: a Pacific wall-clock sum would lose an hour across DST)."""
    return tar.received_at.astimezone(UTC) + timedelta(hours=hours)


def appeal(world, tar: Tar, decision: Decision, *, outcome: str = "", resolved_at=None) -> Appeal:
    received = decision.decided_at + timedelta(days=2)
    made = Appeal.objects.create(
        number=f"APL-{received.year}-{next(_numbers):06d}",
        tar=tar,
        member=tar.member,
        decision=decision,
        filer="member",
        filed_by=world.users["member"],
        reason="I disagree.",
        received_at=received,
        notice_date=decision.decided_at.date(),
        filing_deadline_at=received + timedelta(days=60),
        status="resolved" if outcome else "received",
        resolution_due_at=received + timedelta(days=30),
        resolution_due_rule="test",
        original_resolution_due_at=received + timedelta(days=30),
        outcome=outcome,
        resolved_at=resolved_at,
    )
    aggregates.refresh([tar.pk])  # as after the appeal's resolution event
    return made
