"""Grievance clocks, pure (no database, no now()): PRODUCT §4 definitions.

- Acknowledgement: in writing within 5 calendar days of receipt (H&S 1368(a)(4);
  28 CCR 1300.68(d)(1); PRODUCT §4). 42 CFR 438.406(b)(1) asks only that receipt be
  acknowledged; the state's 5 days bind.
- Resolution: written resolution within 30 calendar days of receipt (H&S 1368(a)(5);
  28 CCR 1300.68(a); 42 CFR 438.408(b)(1) allows 90, the state's 30 are stricter).
- Expedited (a serious threat to the member's health): resolved within 72 hours of receipt
  (H&S 1368.01(b); 28 CCR 1300.68.01(a); 42 CFR 438.408(b)(3) for appeals). An expedited
  grievance is acknowledged no later than it is resolved: the earliest deadline binds.

"N calendar days" is the end (23:59:59 Pacific) of the Nth calendar day after the receipt
date; "72 hours" is elapsed time from the true receipt instant (PRODUCT §4). Calendar days
need no business calendar, so these clocks take none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")

ACKNOWLEDGEMENT_CALENDAR_DAYS = 5
RESOLUTION_CALENDAR_DAYS = 30
EXPEDITED_HOURS = 72


class GrievanceRule(StrEnum):
    """Stable ids of the rule that bound a deadline (never reused)."""

    ACK_5_CALENDAR_DAYS = "grievance_ack_5_calendar_days"  # H&S 1368(a)(4)
    ACK_WITH_EXPEDITED_RESOLUTION = "grievance_ack_by_expedited_resolution"
    RESOLUTION_30_CALENDAR_DAYS = "grievance_resolution_30_calendar_days"  # H&S 1368(a)(5)
    RESOLUTION_EXPEDITED_72_HOURS = "grievance_resolution_expedited_72_hours"  # H&S 1368.01(b)


@dataclass(frozen=True, slots=True)
class GrievanceDeadline:
    due_at: datetime
    rule: GrievanceRule


@dataclass(frozen=True, slots=True)
class GrievanceClocks:
    acknowledgement: GrievanceDeadline
    resolution: GrievanceDeadline


def _require_aware(value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError("received_at must be an aware datetime")
    return value.astimezone(UTC)


def _calendar_days_after(start: datetime, days: int) -> datetime:
    day = start.astimezone(PACIFIC).date() + timedelta(days=days)
    # 23:59:59 never falls in a DST gap or fold in America/Los_Angeles.
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=PACIFIC).astimezone(UTC)


def grievance_clocks(*, received_at: datetime, expedited: bool) -> GrievanceClocks:
    """The acknowledgement and resolution deadlines of a grievance received at `received_at`."""
    received = _require_aware(received_at)
    if expedited:
        resolution = GrievanceDeadline(
            received + timedelta(hours=EXPEDITED_HOURS),
            GrievanceRule.RESOLUTION_EXPEDITED_72_HOURS,
        )
    else:
        resolution = GrievanceDeadline(
            _calendar_days_after(received, RESOLUTION_CALENDAR_DAYS),
            GrievanceRule.RESOLUTION_30_CALENDAR_DAYS,
        )
    ack = GrievanceDeadline(
        _calendar_days_after(received, ACKNOWLEDGEMENT_CALENDAR_DAYS),
        GrievanceRule.ACK_5_CALENDAR_DAYS,
    )
    if resolution.due_at < ack.due_at:
        ack = GrievanceDeadline(resolution.due_at, GrievanceRule.ACK_WITH_EXPEDITED_RESOLUTION)
    return GrievanceClocks(acknowledgement=ack, resolution=resolution)
