"""Table tests for authorizations.clocks (PRODUCT §4 "Clocks", 002 timeliness table, 003 G).

Every expected value is written by hand as a Pacific wall time: ``pt(...)`` for an instant,
``eod(...)`` for 23:59:59 Pacific of a date. Rows that cross a DST change also pin the UTC
instant, so the offset is checked and not just the wall clock.

Holidays used below, as the ``holidays`` library gives them for US/CA:
2026-06-19 Fri Juneteenth, 2026-11-11 Wed Veterans Day, 2026-11-26/27 Thu/Fri Thanksgiving and
the day after, 2026-12-25 Fri Christmas, 2027-01-01 Fri New Year's, 2027-03-31 Wed Cesar Chavez
Day, 2027-12-24 Fri Christmas (observed), 2027-12-31 Fri New Year's 2028 (observed).
DST: 2026-03-08 02:00 PST -> 03:00 PDT; 2026-11-01 02:00 PDT -> 01:00 PST.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from authorizations.clocks import (
    BusinessCalendar,
    ClockError,
    ClockErrorCode,
    Deadline,
    ExtensionPolicy,
    ImrKind,
    RequestType,
    Rule,
    Urgency,
    appeal_extension_cap,
    appeal_filing_deadline,
    appeal_resolution_deadline,
    check_extension,
    decision_deadline,
    effective_receipt,
    extension_policy,
    imr_deadline,
    late_retro_submission,
    mailing_deadline,
    provider_notice_deadline,
    state_hearing_deadline,
    untimely_notice_deadline,
)

LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")

PRE = RequestType.PRE_SERVICE
CONC = RequestType.CONCURRENT
POST = RequestType.POST_SERVICE
URGENT = Urgency.URGENT
ROUTINE = Urgency.ROUTINE

# 2025 and 2028 are loaded so UTC instants on 2026-01-01 and deadlines in early 2028 are covered.
YEARS = range(2025, 2029)
CAL = BusinessCalendar.california(years=YEARS)
# Admin edits: a closure on Monday 2026-06-08, one on Wednesday 2026-06-03; Veterans Day 2026
# and Juneteenth 2026 worked as ordinary business days.
CAL_ADDED_MONDAY = BusinessCalendar.california(years=YEARS, added=[date(2026, 6, 8)])
CAL_ADDED_WEDNESDAY = BusinessCalendar.california(years=YEARS, added=[date(2026, 6, 3)])
CAL_REMOVED = BusinessCalendar.california(
    years=YEARS, removed=[date(2026, 11, 11), date(2026, 6, 19)]
)


def pt(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A Pacific wall-clock instant (never inside a DST gap or fold in these tables)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=LA)


def eod(year: int, month: int, day: int) -> datetime:
    """23:59:59 Pacific: where every calendar-day and business-day clock ends."""
    return pt(year, month, day, 23, 59, 59)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def assert_utc(value: datetime) -> None:
    assert value.tzinfo is UTC


# --------------------------------------------------------------------------------------------
# Business calendar


@pytest.mark.parametrize(
    "day",
    [
        pytest.param(date(2026, 11, 11), id="veterans-day-2026"),
        pytest.param(date(2026, 11, 26), id="thanksgiving-2026"),
        pytest.param(date(2026, 11, 27), id="day-after-thanksgiving-2026"),
        pytest.param(date(2026, 12, 25), id="christmas-2026"),
        pytest.param(date(2027, 1, 1), id="new-years-day-2027"),
        pytest.param(date(2027, 3, 31), id="cesar-chavez-day-2027"),
        pytest.param(date(2026, 7, 3), id="independence-day-2026-observed-friday"),
        pytest.param(date(2027, 12, 24), id="christmas-2027-observed-friday"),
        pytest.param(date(2027, 12, 31), id="new-years-2028-observed-friday-2027"),
        pytest.param(date(2026, 6, 6), id="saturday"),
        pytest.param(date(2026, 6, 7), id="sunday"),
    ],
)
def test_closed_days_are_not_business_days(day: date) -> None:
    assert CAL.is_business_day(day) is False


@pytest.mark.parametrize(
    "day",
    [
        pytest.param(date(2026, 6, 1), id="ordinary-monday"),
        pytest.param(date(2026, 11, 10), id="day-before-veterans-day"),
        pytest.param(date(2026, 11, 25), id="day-before-thanksgiving"),
        pytest.param(date(2026, 12, 24), id="christmas-eve-2026-thursday"),
        pytest.param(date(2027, 3, 30), id="day-before-cesar-chavez-2027"),
    ],
)
def test_open_weekdays_are_business_days(day: date) -> None:
    assert CAL.is_business_day(day) is True


def test_admin_added_holiday_is_closed_and_removed_holiday_is_open() -> None:
    assert CAL_ADDED_MONDAY.is_business_day(date(2026, 6, 8)) is False
    assert CAL.is_business_day(date(2026, 6, 8)) is True
    assert CAL_REMOVED.is_business_day(date(2026, 11, 11)) is True
    assert CAL_REMOVED.is_business_day(date(2026, 6, 19)) is True
    # Removing a date that is a weekend does not open the weekend.
    weekend_removed = BusinessCalendar.california(years=YEARS, removed=[date(2026, 7, 4)])
    assert weekend_removed.is_business_day(date(2026, 7, 4)) is False


def test_calendar_is_a_value() -> None:
    assert BusinessCalendar.california(years=YEARS) == CAL
    assert hash(BusinessCalendar.california(years=YEARS)) == hash(CAL)
    assert CAL_ADDED_MONDAY != CAL
    assert date(2026, 6, 8) in CAL_ADDED_MONDAY.holidays


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        pytest.param(pt(2026, 6, 5, 7, 59, 59), False, id="friday-07-59-59"),
        pytest.param(pt(2026, 6, 5, 8, 0, 0), True, id="friday-08-00"),
        pytest.param(pt(2026, 6, 5, 16, 59, 59), True, id="friday-16-59-59"),
        pytest.param(pt(2026, 6, 5, 17, 0, 0), False, id="friday-17-00-is-after-hours"),
        pytest.param(pt(2026, 6, 6, 10), False, id="saturday-10-00"),
        pytest.param(pt(2026, 11, 26, 10), False, id="thanksgiving-10-00"),
        pytest.param(utc(2026, 6, 5, 15, 0, 0), True, id="utc-input-08-00-pdt"),
        pytest.param(utc(2026, 6, 5, 14, 59, 59), False, id="utc-input-07-59-59-pdt"),
        pytest.param(utc(2026, 1, 6, 16, 0, 0), True, id="utc-input-08-00-pst"),
    ],
)
def test_is_business_hours(instant: datetime, expected: bool) -> None:
    assert CAL.is_business_hours(instant) is expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 6, 5), date(2026, 6, 8), id="friday-to-monday"),
        pytest.param(date(2026, 6, 6), date(2026, 6, 8), id="saturday-to-monday"),
        pytest.param(date(2026, 11, 10), date(2026, 11, 12), id="over-veterans-day"),
        pytest.param(date(2026, 11, 25), date(2026, 11, 30), id="over-thanksgiving"),
        pytest.param(date(2026, 12, 24), date(2026, 12, 28), id="over-christmas-2026"),
        pytest.param(date(2026, 12, 31), date(2027, 1, 4), id="over-new-years-2027"),
        pytest.param(date(2027, 3, 30), date(2027, 4, 1), id="over-cesar-chavez-2027"),
        pytest.param(date(2027, 12, 30), date(2028, 1, 3), id="over-new-years-2028-observed"),
    ],
)
def test_next_business_day(day: date, expected: date) -> None:
    assert CAL.next_business_day(day) == expected


@pytest.mark.parametrize(
    ("calendar", "day", "n", "expected"),
    [
        pytest.param(CAL, date(2026, 6, 1), 0, date(2026, 6, 1), id="zero-is-the-day"),
        pytest.param(CAL, date(2026, 6, 6), 0, date(2026, 6, 6), id="zero-on-weekend"),
        pytest.param(CAL, date(2026, 6, 1), 5, date(2026, 6, 8), id="five-over-weekend"),
        pytest.param(CAL, date(2026, 6, 1), 15, date(2026, 6, 23), id="fifteen-over-juneteenth"),
        pytest.param(CAL_REMOVED, date(2026, 6, 1), 15, date(2026, 6, 22), id="juneteenth-worked"),
        pytest.param(CAL, date(2026, 11, 25), 5, date(2026, 12, 4), id="five-over-thanksgiving"),
        pytest.param(CAL, date(2027, 12, 23), 5, date(2028, 1, 3), id="five-over-year-end-2027"),
    ],
)
def test_add_business_days_date(
    calendar: BusinessCalendar, day: date, n: int, expected: date
) -> None:
    assert calendar.add_business_days_date(day, n) == expected


@pytest.mark.parametrize(
    ("received_at", "expected"),
    [
        pytest.param(pt(2026, 6, 5, 16, 59), pt(2026, 6, 5, 16, 59), id="in-hours-16-59"),
        pytest.param(pt(2026, 6, 5, 17, 0), pt(2026, 6, 8, 8), id="17-00-next-business-day"),
        pytest.param(pt(2026, 6, 8, 7, 59), pt(2026, 6, 8, 8), id="07-59-same-day-08-00"),
        pytest.param(pt(2026, 6, 8, 0, 0), pt(2026, 6, 8, 8), id="midnight-same-day-08-00"),
        pytest.param(pt(2026, 6, 6, 12), pt(2026, 6, 8, 8), id="saturday-to-monday"),
        pytest.param(pt(2026, 11, 26, 9), pt(2026, 11, 30, 8), id="thanksgiving-to-monday"),
        pytest.param(pt(2026, 11, 25, 17, 30), pt(2026, 11, 30, 8), id="eve-of-thanksgiving"),
        pytest.param(pt(2027, 3, 31, 12), pt(2027, 4, 1, 8), id="cesar-chavez-2027"),
    ],
)
def test_effective_receipt(received_at: datetime, expected: datetime) -> None:
    result = effective_receipt(received_at=received_at, calendar=CAL)
    assert result == expected
    assert_utc(result)


# --------------------------------------------------------------------------------------------
# Decision deadlines (002 table; 42 CFR 438.210(d))

B5 = Rule.ROUTINE_5_BUSINESS_DAYS
C7 = Rule.ROUTINE_7_CALENDAR_DAYS
H72 = Rule.URGENT_72_HOURS
C30 = Rule.POST_SERVICE_30_CALENDAR_DAYS

DECISION_ROWS = [
    # --- urgent pre-service / concurrent: 72 elapsed hours from the true receipt
    pytest.param(
        CAL,
        pt(2026, 6, 6, 23, 30),
        PRE,
        URGENT,
        pt(2026, 6, 9, 23, 30),
        H72,
        pt(2026, 6, 6, 23, 30),
        id="urgent-pre-service-saturday-night",
    ),
    pytest.param(
        CAL,
        pt(2026, 12, 25, 12),
        CONC,
        URGENT,
        pt(2026, 12, 28, 12),
        H72,
        pt(2026, 12, 25, 12),
        id="urgent-concurrent-on-christmas-holidays-ignored",
    ),
    pytest.param(
        CAL,
        pt(2026, 6, 5, 17, 0),
        PRE,
        URGENT,
        pt(2026, 6, 8, 17, 0),
        H72,
        pt(2026, 6, 5, 17, 0),
        id="urgent-after-hours-not-shifted",
    ),
    pytest.param(
        CAL,
        pt(2026, 3, 7, 10),
        PRE,
        URGENT,
        pt(2026, 3, 10, 11),
        H72,
        pt(2026, 3, 7, 10),
        id="urgent-across-spring-forward-is-72-real-hours",
    ),
    pytest.param(
        CAL,
        pt(2026, 10, 31, 10),
        CONC,
        URGENT,
        pt(2026, 11, 3, 9),
        H72,
        pt(2026, 10, 31, 10),
        id="urgent-across-fall-back-is-72-real-hours",
    ),
    # --- routine pre-service / concurrent: earliest of 5 business days (effective receipt)
    # and 7 calendar days (true receipt); a tie names the 5-business-day rule
    pytest.param(
        CAL,
        pt(2026, 6, 1, 10),
        PRE,
        ROUTINE,
        eod(2026, 6, 8),
        B5,
        pt(2026, 6, 1, 10),
        id="routine-monday-in-hours-tie-names-5-business-days",
    ),
    pytest.param(
        CAL,
        pt(2026, 6, 2, 9, 15),
        CONC,
        ROUTINE,
        eod(2026, 6, 9),
        B5,
        pt(2026, 6, 2, 9, 15),
        id="routine-concurrent-tuesday-in-hours",
    ),
    pytest.param(
        CAL,
        pt(2026, 6, 5, 16, 59),
        PRE,
        ROUTINE,
        eod(2026, 6, 12),
        B5,
        pt(2026, 6, 5, 16, 59),
        id="routine-friday-16-59-still-in-hours",
    ),
    pytest.param(
        CAL,
        pt(2026, 6, 5, 17, 0),
        PRE,
        ROUTINE,
        eod(2026, 6, 12),
        C7,
        pt(2026, 6, 8, 8),
        id="routine-friday-17-00-after-hours-7-calendar-days-binds",
    ),
    pytest.param(
        CAL,
        pt(2026, 6, 5, 18, 0),
        PRE,
        ROUTINE,
        eod(2026, 6, 12),
        C7,
        pt(2026, 6, 8, 8),
        id="routine-friday-evening-7-calendar-days-binds",
    ),
    pytest.param(
        CAL,
        pt(2026, 6, 8, 7, 59),
        PRE,
        ROUTINE,
        eod(2026, 6, 15),
        B5,
        pt(2026, 6, 8, 8),
        id="routine-monday-07-59-counts-from-08-00",
    ),
    pytest.param(
        CAL,
        pt(2026, 6, 8, 8, 0),
        PRE,
        ROUTINE,
        eod(2026, 6, 15),
        B5,
        pt(2026, 6, 8, 8),
        id="routine-monday-08-00-opening",
    ),
    pytest.param(
        CAL,
        pt(2026, 6, 6, 11),
        PRE,
        ROUTINE,
        eod(2026, 6, 13),
        C7,
        pt(2026, 6, 8, 8),
        id="routine-saturday",
    ),
    pytest.param(
        CAL,
        pt(2026, 11, 10, 10),
        PRE,
        ROUTINE,
        eod(2026, 11, 17),
        C7,
        pt(2026, 11, 10, 10),
        id="routine-day-before-veterans-day",
    ),
    pytest.param(
        CAL,
        pt(2026, 11, 11, 9),
        PRE,
        ROUTINE,
        eod(2026, 11, 18),
        C7,
        pt(2026, 11, 12, 8),
        id="routine-on-veterans-day",
    ),
    pytest.param(
        CAL,
        pt(2026, 11, 25, 10),
        PRE,
        ROUTINE,
        eod(2026, 12, 2),
        C7,
        pt(2026, 11, 25, 10),
        id="routine-day-before-thanksgiving",
    ),
    pytest.param(
        CAL,
        pt(2026, 11, 26, 10),
        PRE,
        ROUTINE,
        eod(2026, 12, 3),
        C7,
        pt(2026, 11, 30, 8),
        id="routine-on-thanksgiving",
    ),
    pytest.param(
        CAL,
        pt(2026, 12, 24, 16),
        PRE,
        ROUTINE,
        eod(2026, 12, 31),
        C7,
        pt(2026, 12, 24, 16),
        id="routine-christmas-eve-2026",
    ),
    pytest.param(
        CAL,
        pt(2027, 1, 1, 10),
        PRE,
        ROUTINE,
        eod(2027, 1, 8),
        C7,
        pt(2027, 1, 4, 8),
        id="routine-new-years-day-2027",
    ),
    pytest.param(
        CAL,
        pt(2027, 3, 30, 13),
        PRE,
        ROUTINE,
        eod(2027, 4, 6),
        C7,
        pt(2027, 3, 30, 13),
        id="routine-day-before-cesar-chavez-2027",
    ),
    pytest.param(
        CAL,
        pt(2027, 3, 31, 10),
        CONC,
        ROUTINE,
        eod(2027, 4, 7),
        C7,
        pt(2027, 4, 1, 8),
        id="routine-on-cesar-chavez-2027",
    ),
    pytest.param(
        CAL,
        pt(2027, 12, 23, 10),
        PRE,
        ROUTINE,
        eod(2027, 12, 30),
        C7,
        pt(2027, 12, 23, 10),
        id="routine-year-end-2027-observed-holidays",
    ),
    pytest.param(
        CAL,
        pt(2026, 3, 6, 10),
        PRE,
        ROUTINE,
        eod(2026, 3, 13),
        B5,
        pt(2026, 3, 6, 10),
        id="routine-across-spring-forward",
    ),
    pytest.param(
        CAL,
        pt(2026, 10, 30, 10),
        PRE,
        ROUTINE,
        eod(2026, 11, 6),
        B5,
        pt(2026, 10, 30, 10),
        id="routine-across-fall-back",
    ),
    pytest.param(
        CAL,
        utc(2026, 6, 2, 5, 30),
        PRE,
        ROUTINE,
        eod(2026, 6, 8),
        C7,
        pt(2026, 6, 2, 8),
        id="routine-utc-input-is-monday-22-30-pacific",
    ),
    # --- admin holiday edits
    pytest.param(
        CAL_ADDED_MONDAY,
        pt(2026, 6, 5, 18),
        PRE,
        ROUTINE,
        eod(2026, 6, 12),
        C7,
        pt(2026, 6, 9, 8),
        id="routine-admin-added-monday-holiday-moves-effective-receipt",
    ),
    pytest.param(
        CAL_ADDED_WEDNESDAY,
        pt(2026, 6, 1, 10),
        PRE,
        ROUTINE,
        eod(2026, 6, 8),
        C7,
        pt(2026, 6, 1, 10),
        id="routine-admin-added-wednesday-holiday-breaks-the-tie",
    ),
    pytest.param(
        CAL_REMOVED,
        pt(2026, 11, 11, 9),
        PRE,
        ROUTINE,
        eod(2026, 11, 18),
        B5,
        pt(2026, 11, 11, 9),
        id="routine-admin-removed-veterans-day-is-in-hours",
    ),
    # --- post-service: 30 calendar days from the true receipt, never urgent
    pytest.param(
        CAL,
        pt(2026, 6, 1, 10),
        POST,
        ROUTINE,
        eod(2026, 7, 1),
        C30,
        pt(2026, 6, 1, 10),
        id="post-service-routine",
    ),
    pytest.param(
        CAL,
        pt(2026, 6, 5, 18),
        POST,
        URGENT,
        eod(2026, 7, 5),
        C30,
        pt(2026, 6, 5, 18),
        id="post-service-urgent-is-not-urgent",
    ),
    pytest.param(
        CAL,
        pt(2026, 10, 15, 12),
        POST,
        ROUTINE,
        eod(2026, 11, 14),
        C30,
        pt(2026, 10, 15, 12),
        id="post-service-across-fall-back",
    ),
    pytest.param(
        CAL,
        datetime(2026, 6, 2, 1, 30, tzinfo=NY),
        POST,
        ROUTINE,
        eod(2026, 7, 1),
        C30,
        pt(2026, 6, 1, 22, 30),
        id="post-service-new-york-input-is-monday-pacific",
    ),
]


@pytest.mark.parametrize(
    ("calendar", "received_at", "request_type", "urgency", "due_at", "rule", "effective"),
    DECISION_ROWS,
)
def test_decision_deadline(
    calendar: BusinessCalendar,
    received_at: datetime,
    request_type: str,
    urgency: str,
    due_at: datetime,
    rule: Rule,
    effective: datetime,
) -> None:
    result = decision_deadline(
        received_at=received_at, request_type=request_type, urgency=urgency, calendar=calendar
    )
    assert (result.due_at, result.rule, result.effective_received_at) == (due_at, rule, effective)
    assert_utc(result.due_at)
    assert_utc(result.effective_received_at)
    assert (rule, due_at) in result.candidates


@pytest.mark.parametrize(
    ("calendar", "received_at", "request_type", "urgency", "candidates"),
    [
        pytest.param(
            CAL,
            pt(2026, 6, 5, 18),
            PRE,
            ROUTINE,
            ((B5, eod(2026, 6, 15)), (C7, eod(2026, 6, 12))),
            id="friday-evening",
        ),
        pytest.param(
            CAL,
            pt(2026, 6, 1, 10),
            PRE,
            ROUTINE,
            ((B5, eod(2026, 6, 8)), (C7, eod(2026, 6, 8))),
            id="monday-tie",
        ),
        pytest.param(
            CAL,
            pt(2026, 11, 25, 10),
            PRE,
            ROUTINE,
            ((B5, eod(2026, 12, 4)), (C7, eod(2026, 12, 2))),
            id="thanksgiving-week",
        ),
        pytest.param(
            CAL,
            pt(2027, 12, 23, 10),
            PRE,
            ROUTINE,
            ((B5, eod(2028, 1, 3)), (C7, eod(2027, 12, 30))),
            id="year-end-2027-observed-holidays",
        ),
        pytest.param(
            CAL_ADDED_MONDAY,
            pt(2026, 6, 5, 18),
            PRE,
            ROUTINE,
            ((B5, eod(2026, 6, 16)), (C7, eod(2026, 6, 12))),
            id="admin-added-monday",
        ),
        pytest.param(
            CAL,
            pt(2026, 6, 6, 23, 30),
            PRE,
            URGENT,
            ((H72, pt(2026, 6, 9, 23, 30)),),
            id="urgent-single-candidate",
        ),
        pytest.param(
            CAL,
            pt(2026, 6, 1, 10),
            POST,
            URGENT,
            ((C30, eod(2026, 7, 1)),),
            id="post-service-single-candidate",
        ),
    ],
)
def test_decision_deadline_candidates(
    calendar: BusinessCalendar,
    received_at: datetime,
    request_type: str,
    urgency: str,
    candidates: tuple[tuple[Rule, datetime], ...],
) -> None:
    result = decision_deadline(
        received_at=received_at, request_type=request_type, urgency=urgency, calendar=calendar
    )
    assert result.candidates == candidates


@pytest.mark.parametrize(
    ("received_at", "request_type", "urgency", "due_utc"),
    [
        # 2026-03-07 10:00 PST = 18:00Z; +72 h = 2026-03-10 18:00Z = 11:00 PDT
        pytest.param(pt(2026, 3, 7, 10), PRE, URGENT, utc(2026, 3, 10, 18), id="urgent-spring"),
        # 2026-10-31 10:00 PDT = 17:00Z; +72 h = 2026-11-03 17:00Z = 09:00 PST
        pytest.param(pt(2026, 10, 31, 10), PRE, URGENT, utc(2026, 11, 3, 17), id="urgent-fall"),
        # 2026-03-13 23:59:59 PDT (UTC-7)
        pytest.param(
            pt(2026, 3, 6, 10), PRE, ROUTINE, utc(2026, 3, 14, 6, 59, 59), id="routine-spring"
        ),
        # 2026-11-06 23:59:59 PST (UTC-8)
        pytest.param(
            pt(2026, 10, 30, 10), PRE, ROUTINE, utc(2026, 11, 7, 7, 59, 59), id="routine-fall"
        ),
        # 2026-11-14 23:59:59 PST (UTC-8), received under PDT
        pytest.param(
            pt(2026, 10, 15, 12), POST, ROUTINE, utc(2026, 11, 15, 7, 59, 59), id="post-fall"
        ),
    ],
)
def test_decision_deadline_dst_offsets(
    received_at: datetime, request_type: str, urgency: str, due_utc: datetime
) -> None:
    result = decision_deadline(
        received_at=received_at, request_type=request_type, urgency=urgency, calendar=CAL
    )
    assert result.due_at == due_utc
    assert result.due_at.tzinfo is UTC
    assert (result.due_at.year, result.due_at.month, result.due_at.day) == (
        due_utc.year,
        due_utc.month,
        due_utc.day,
    )
    assert result.due_at.hour == due_utc.hour


# --------------------------------------------------------------------------------------------
# Provider notice (002 table, "Notification")

N72 = Rule.PROVIDER_NOTICE_WITH_DECISION_72_HOURS
N24 = Rule.PROVIDER_NOTICE_24_HOURS_AFTER_DECISION
N30 = Rule.POST_SERVICE_NOTICE_30_CALENDAR_DAYS


@pytest.mark.parametrize(
    ("received_at", "request_type", "urgency", "decided_at", "expected"),
    [
        pytest.param(
            pt(2026, 6, 1, 10),
            PRE,
            URGENT,
            pt(2026, 6, 2, 9),
            Deadline(pt(2026, 6, 4, 10), N72),
            id="urgent-pre-service-decided",
        ),
        pytest.param(
            pt(2026, 6, 1, 10),
            CONC,
            URGENT,
            None,
            Deadline(pt(2026, 6, 4, 10), N72),
            id="urgent-concurrent-undecided",
        ),
        pytest.param(
            pt(2026, 6, 1, 10),
            PRE,
            ROUTINE,
            pt(2026, 6, 5, 16),
            Deadline(pt(2026, 6, 6, 16), N24),
            id="routine-24-hours-runs-into-saturday",
        ),
        pytest.param(
            pt(2026, 3, 2, 10),
            CONC,
            ROUTINE,
            pt(2026, 3, 7, 10),
            Deadline(pt(2026, 3, 8, 11), N24),
            id="routine-24-hours-across-spring-forward",
        ),
        pytest.param(pt(2026, 6, 1, 10), PRE, ROUTINE, None, None, id="routine-undecided-none"),
        pytest.param(
            pt(2026, 6, 1, 10),
            POST,
            ROUTINE,
            pt(2026, 6, 10, 9),
            Deadline(pt(2026, 6, 11, 9), N24),
            id="post-service-24-hours-binds",
        ),
        pytest.param(
            pt(2026, 6, 1, 10),
            POST,
            ROUTINE,
            pt(2026, 7, 1, 12),
            Deadline(eod(2026, 7, 1), N30),
            id="post-service-30-calendar-days-binds",
        ),
        pytest.param(
            pt(2026, 6, 1, 10),
            POST,
            ROUTINE,
            None,
            Deadline(eod(2026, 7, 1), N30),
            id="post-service-undecided",
        ),
        pytest.param(
            pt(2026, 6, 1, 10),
            POST,
            URGENT,
            pt(2026, 6, 10, 9),
            Deadline(pt(2026, 6, 11, 9), N24),
            id="post-service-urgent-is-post-service",
        ),
    ],
)
def test_provider_notice_deadline(
    received_at: datetime,
    request_type: str,
    urgency: str,
    decided_at: datetime | None,
    expected: Deadline | None,
) -> None:
    result = provider_notice_deadline(
        received_at=received_at,
        request_type=request_type,
        urgency=urgency,
        decided_at=decided_at,
        calendar=CAL,
    )
    assert result == expected
    if result is not None:
        assert_utc(result.due_at)


def test_provider_notice_rejects_decision_before_receipt() -> None:
    with pytest.raises(ClockError) as excinfo:
        provider_notice_deadline(
            received_at=pt(2026, 6, 2, 10),
            request_type=PRE,
            urgency=ROUTINE,
            decided_at=pt(2026, 6, 2, 9, 59),
            calendar=CAL,
        )
    assert excinfo.value.code == ClockErrorCode.DECISION_BEFORE_RECEIPT


# --------------------------------------------------------------------------------------------
# Member notice (002 footnote 1; H&S 1367.01): 2 business days after the decision date


@pytest.mark.parametrize(
    ("calendar", "decided_at", "due_at"),
    [
        pytest.param(CAL, pt(2026, 6, 4, 15), eod(2026, 6, 8), id="thursday"),
        pytest.param(CAL, pt(2026, 6, 5, 20), eod(2026, 6, 9), id="friday-evening"),
        pytest.param(CAL, pt(2026, 6, 6, 10), eod(2026, 6, 9), id="saturday"),
        pytest.param(CAL, pt(2026, 11, 10, 14), eod(2026, 11, 13), id="before-veterans-day"),
        pytest.param(CAL, pt(2026, 11, 25, 11), eod(2026, 12, 1), id="before-thanksgiving"),
        pytest.param(CAL, pt(2026, 12, 24, 9), eod(2026, 12, 29), id="christmas-eve-2026"),
        pytest.param(CAL, pt(2026, 12, 31, 9), eod(2027, 1, 5), id="new-years-eve-2026"),
        pytest.param(CAL, pt(2027, 3, 30, 9), eod(2027, 4, 2), id="before-cesar-chavez-2027"),
        pytest.param(
            CAL, pt(2027, 12, 30, 9), eod(2028, 1, 4), id="before-new-years-2028-observed"
        ),
        pytest.param(CAL, pt(2026, 3, 6, 10), eod(2026, 3, 10), id="across-spring-forward"),
        pytest.param(CAL, pt(2026, 10, 30, 10), eod(2026, 11, 3), id="across-fall-back"),
        pytest.param(CAL, utc(2026, 6, 5, 5, 30), eod(2026, 6, 8), id="utc-input-thursday-pacific"),
        pytest.param(CAL_ADDED_MONDAY, pt(2026, 6, 5, 10), eod(2026, 6, 10), id="admin-added"),
        pytest.param(CAL_REMOVED, pt(2026, 11, 10, 14), eod(2026, 11, 12), id="admin-removed"),
    ],
)
def test_mailing_deadline(
    calendar: BusinessCalendar, decided_at: datetime, due_at: datetime
) -> None:
    result = mailing_deadline(decided_at=decided_at, calendar=calendar)
    assert result == Deadline(due_at, Rule.MEMBER_NOTICE_2_BUSINESS_DAYS)
    assert_utc(result.due_at)


def test_mailing_deadline_dst_offsets() -> None:
    # 2026-03-10 23:59:59 PDT and 2026-11-03 23:59:59 PST
    spring = mailing_deadline(decided_at=pt(2026, 3, 6, 10), calendar=CAL)
    fall = mailing_deadline(decided_at=pt(2026, 10, 30, 10), calendar=CAL)
    assert spring.due_at == utc(2026, 3, 11, 6, 59, 59)
    assert fall.due_at == utc(2026, 11, 4, 7, 59, 59)


# --------------------------------------------------------------------------------------------
# Untimely notice (PRODUCT §4; 42 CFR 438.404(c)(5)): due the day of the breach


@pytest.mark.parametrize(
    ("breached_at", "due_at", "due_utc"),
    [
        pytest.param(
            pt(2026, 6, 9, 0, 0), eod(2026, 6, 9), utc(2026, 6, 10, 6, 59, 59), id="midnight"
        ),
        pytest.param(
            pt(2026, 3, 8, 3, 30),
            eod(2026, 3, 8),
            utc(2026, 3, 9, 6, 59, 59),
            id="spring-forward-day",
        ),
        pytest.param(
            utc(2026, 11, 2, 6, 0),
            eod(2026, 11, 1),
            utc(2026, 11, 2, 7, 59, 59),
            id="fall-back-day-utc-input",
        ),
    ],
)
def test_untimely_notice_deadline(
    breached_at: datetime, due_at: datetime, due_utc: datetime
) -> None:
    result = untimely_notice_deadline(breached_at=breached_at)
    assert result == Deadline(due_at, Rule.UNTIMELY_NOTICE_SAME_DAY)
    assert result.due_at == due_utc
    assert_utc(result.due_at)


# --------------------------------------------------------------------------------------------
# Extensions (002 table; 42 CFR 438.210(d)(1)(ii))

XU = Rule.URGENT_EXTENSION_ONCE_14_CALENDAR_DAYS
XR = Rule.ROUTINE_EXTENSION_TWICE_21_CALENDAR_DAYS
XP = Rule.POST_SERVICE_NO_EXTENSION


@pytest.mark.parametrize(
    ("received_at", "request_type", "urgency", "expected"),
    [
        pytest.param(
            pt(2026, 6, 1, 10),
            PRE,
            URGENT,
            ExtensionPolicy(1, eod(2026, 6, 15), XU),
            id="urgent-pre-service",
        ),
        pytest.param(
            pt(2026, 6, 6, 23),
            CONC,
            URGENT,
            ExtensionPolicy(1, eod(2026, 6, 20), XU),
            id="urgent-concurrent-saturday",
        ),
        pytest.param(
            pt(2026, 6, 1, 10),
            PRE,
            ROUTINE,
            ExtensionPolicy(2, eod(2026, 6, 22), XR),
            id="routine-pre-service",
        ),
        pytest.param(
            pt(2026, 6, 5, 18),
            CONC,
            ROUTINE,
            ExtensionPolicy(2, eod(2026, 6, 26), XR),
            id="routine-after-hours-counts-from-true-receipt",
        ),
        pytest.param(
            pt(2026, 10, 20, 10),
            PRE,
            ROUTINE,
            ExtensionPolicy(2, eod(2026, 11, 10), XR),
            id="routine-across-fall-back",
        ),
        pytest.param(
            pt(2026, 6, 1, 10), POST, ROUTINE, ExtensionPolicy(0, None, XP), id="post-service"
        ),
        pytest.param(
            pt(2026, 6, 1, 10), POST, URGENT, ExtensionPolicy(0, None, XP), id="post-service-urgent"
        ),
    ],
)
def test_extension_policy(
    received_at: datetime, request_type: str, urgency: str, expected: ExtensionPolicy
) -> None:
    result = extension_policy(
        received_at=received_at, request_type=request_type, urgency=urgency, calendar=CAL
    )
    assert result == expected


def test_routine_extension_cap_offset_after_fall_back() -> None:
    result = extension_policy(
        received_at=pt(2026, 10, 20, 10), request_type=PRE, urgency=ROUTINE, calendar=CAL
    )
    assert result.latest_due_at == utc(2026, 11, 11, 7, 59, 59)


ROUTINE_POLICY = ExtensionPolicy(2, eod(2026, 6, 22), XR)  # received 2026-06-01 10:00
URGENT_POLICY = ExtensionPolicy(1, eod(2026, 6, 15), XU)  # received 2026-06-01 10:00
POST_POLICY = ExtensionPolicy(0, None, XP)


@pytest.mark.parametrize(
    ("policy", "used", "current", "new"),
    [
        pytest.param(ROUTINE_POLICY, 0, eod(2026, 6, 8), eod(2026, 6, 15), id="routine-first"),
        pytest.param(
            ROUTINE_POLICY, 1, eod(2026, 6, 15), eod(2026, 6, 22), id="routine-second-to-cap"
        ),
        pytest.param(
            URGENT_POLICY, 0, pt(2026, 6, 4, 10), eod(2026, 6, 15), id="urgent-once-to-cap"
        ),
    ],
)
def test_check_extension_allows(
    policy: ExtensionPolicy, used: int, current: datetime, new: datetime
) -> None:
    # returns nothing and raises nothing
    check_extension(policy=policy, extensions_used=used, current_due_at=current, new_due_at=new)


@pytest.mark.parametrize(
    ("policy", "used", "current", "new", "code"),
    [
        pytest.param(
            POST_POLICY,
            0,
            eod(2026, 7, 1),
            eod(2026, 7, 8),
            ClockErrorCode.EXTENSION_NOT_ALLOWED,
            id="post-service",
        ),
        pytest.param(
            URGENT_POLICY,
            1,
            eod(2026, 6, 10),
            eod(2026, 6, 12),
            ClockErrorCode.EXTENSION_LIMIT_REACHED,
            id="urgent-second",
        ),
        pytest.param(
            ROUTINE_POLICY,
            2,
            eod(2026, 6, 15),
            eod(2026, 6, 20),
            ClockErrorCode.EXTENSION_LIMIT_REACHED,
            id="routine-third",
        ),
        pytest.param(
            ROUTINE_POLICY,
            0,
            eod(2026, 6, 8),
            pt(2026, 6, 23, 0, 0, 0),
            ClockErrorCode.EXTENSION_BEYOND_CAP,
            id="routine-one-second-past-21-days",
        ),
        pytest.param(
            URGENT_POLICY,
            0,
            pt(2026, 6, 4, 10),
            pt(2026, 6, 16, 0, 0, 0),
            ClockErrorCode.EXTENSION_BEYOND_CAP,
            id="urgent-one-second-past-14-days",
        ),
        pytest.param(
            ROUTINE_POLICY,
            0,
            eod(2026, 6, 8),
            eod(2026, 6, 8),
            ClockErrorCode.EXTENSION_NOT_LATER,
            id="same-due",
        ),
        pytest.param(
            ROUTINE_POLICY,
            1,
            eod(2026, 6, 15),
            eod(2026, 6, 12),
            ClockErrorCode.EXTENSION_NOT_LATER,
            id="earlier-due",
        ),
        pytest.param(
            ROUTINE_POLICY,
            -1,
            eod(2026, 6, 8),
            eod(2026, 6, 15),
            ClockErrorCode.INVALID_ARGUMENT,
            id="negative-count",
        ),
        pytest.param(
            ROUTINE_POLICY,
            0,
            eod(2026, 6, 8),
            datetime(2026, 6, 15),
            ClockErrorCode.NAIVE_DATETIME,
            id="naive-new-due",
        ),
    ],
)
def test_check_extension_refuses(
    policy: ExtensionPolicy, used: int, current: datetime, new: datetime, code: ClockErrorCode
) -> None:
    with pytest.raises(ClockError) as excinfo:
        check_extension(policy=policy, extensions_used=used, current_due_at=current, new_due_at=new)
    assert excinfo.value.code == code
    assert isinstance(excinfo.value, ValueError)


# --------------------------------------------------------------------------------------------
# Late retrospective submissions (002 "Post-Service Retrospective Review")

R15 = Rule.RETRO_15_BUSINESS_DAYS_AFTER_SERVICE
R60D = Rule.RETRO_60_CALENDAR_DAYS_AFTER_PRIMARY_DENIAL
R60E = Rule.RETRO_60_CALENDAR_DAYS_AFTER_RETRO_ELIGIBILITY


@pytest.mark.parametrize(
    ("calendar", "received_at", "service", "denial", "eligibility", "late", "rule", "ends_at"),
    [
        # 15 business days after Mon 2026-06-01, skipping Juneteenth (Fri 06-19): Tue 06-23
        pytest.param(
            CAL,
            eod(2026, 6, 23),
            date(2026, 6, 1),
            None,
            None,
            False,
            R15,
            eod(2026, 6, 23),
            id="15-business-days-last-second",
        ),
        pytest.param(
            CAL,
            pt(2026, 6, 24, 0, 0, 0),
            date(2026, 6, 1),
            None,
            None,
            True,
            R15,
            eod(2026, 6, 23),
            id="15-business-days-one-second-after",
        ),
        pytest.param(
            CAL_REMOVED,
            pt(2026, 6, 23, 9),
            date(2026, 6, 1),
            None,
            None,
            True,
            R15,
            eod(2026, 6, 22),
            id="15-business-days-juneteenth-removed-by-admin",
        ),
        # Fri 2026-11-13 + 15 business days over Thanksgiving: Tue 12-08
        pytest.param(
            CAL,
            pt(2026, 12, 8, 16),
            date(2026, 11, 13),
            None,
            None,
            False,
            R15,
            eod(2026, 12, 8),
            id="15-business-days-over-thanksgiving",
        ),
        pytest.param(
            CAL,
            pt(2026, 12, 9, 9),
            date(2026, 11, 13),
            None,
            None,
            True,
            R15,
            eod(2026, 12, 8),
            id="15-business-days-over-thanksgiving-late",
        ),
        # service 2026-03-02 -> 15 business days ends 03-23; denial 2026-04-20 + 60 = 06-19
        pytest.param(
            CAL,
            pt(2026, 6, 19, 22),
            date(2026, 3, 2),
            date(2026, 4, 20),
            None,
            False,
            R60D,
            eod(2026, 6, 19),
            id="denial-60-days-last-day",
        ),
        pytest.param(
            CAL,
            pt(2026, 6, 20, 0, 0, 0),
            date(2026, 3, 2),
            date(2026, 4, 20),
            None,
            True,
            R60D,
            eod(2026, 6, 19),
            id="denial-60-days-one-second-after",
        ),
        # retroactive eligibility 2026-05-01 + 60 = 06-30
        pytest.param(
            CAL,
            pt(2026, 6, 30, 12),
            date(2026, 3, 2),
            None,
            date(2026, 5, 1),
            False,
            R60E,
            eod(2026, 6, 30),
            id="retro-eligibility-60-days",
        ),
        pytest.param(
            CAL,
            pt(2026, 7, 1, 0, 0, 0),
            date(2026, 3, 2),
            None,
            date(2026, 5, 1),
            True,
            R60E,
            eod(2026, 6, 30),
            id="retro-eligibility-one-second-after",
        ),
        pytest.param(
            CAL,
            pt(2026, 6, 25, 10),
            date(2026, 3, 2),
            date(2026, 4, 20),
            date(2026, 5, 1),
            False,
            R60E,
            eod(2026, 6, 30),
            id="most-generous-eligibility-beats-denial",
        ),
        # denial 2026-04-01 + 60 = 05-31, earlier than service 06-01 + 15 business days (06-23)
        pytest.param(
            CAL,
            pt(2026, 6, 10, 10),
            date(2026, 6, 1),
            date(2026, 4, 1),
            None,
            False,
            R15,
            eod(2026, 6, 23),
            id="service-window-beats-old-denial",
        ),
        pytest.param(
            CAL,
            pt(2026, 3, 24, 9),
            date(2026, 3, 2),
            None,
            None,
            True,
            R15,
            eod(2026, 3, 23),
            id="no-other-window-late",
        ),
    ],
)
def test_late_retro_submission(
    calendar: BusinessCalendar,
    received_at: datetime,
    service: date,
    denial: date | None,
    eligibility: date | None,
    late: bool,
    rule: Rule,
    ends_at: datetime,
) -> None:
    result = late_retro_submission(
        received_at=received_at,
        date_of_service=service,
        primary_denial_date=denial,
        retro_eligibility_date=eligibility,
        calendar=calendar,
    )
    assert (result.late, result.rule, result.window_ends_at) == (late, rule, ends_at)
    assert_utc(result.window_ends_at)


# --------------------------------------------------------------------------------------------
# Appeals and State Hearing (42 CFR 438.402-438.408)


@pytest.mark.parametrize(
    ("compute", "expected", "expected_utc"),
    [
        pytest.param(
            lambda: appeal_filing_deadline(notice_date=date(2026, 6, 1)),
            Deadline(eod(2026, 7, 31), Rule.APPEAL_FILING_60_CALENDAR_DAYS),
            utc(2026, 8, 1, 6, 59, 59),
            id="filing-60-calendar-days",
        ),
        pytest.param(
            lambda: appeal_filing_deadline(notice_date=date(2026, 9, 15)),
            Deadline(eod(2026, 11, 14), Rule.APPEAL_FILING_60_CALENDAR_DAYS),
            utc(2026, 11, 15, 7, 59, 59),
            id="filing-across-fall-back",
        ),
        pytest.param(
            lambda: appeal_filing_deadline(notice_date=pt(2026, 6, 1, 22)),
            Deadline(eod(2026, 7, 31), Rule.APPEAL_FILING_60_CALENDAR_DAYS),
            utc(2026, 8, 1, 6, 59, 59),
            id="filing-notice-given-as-datetime",
        ),
        pytest.param(
            lambda: appeal_resolution_deadline(received_at=pt(2026, 6, 1, 10), expedited=False),
            Deadline(eod(2026, 7, 1), Rule.APPEAL_STANDARD_30_CALENDAR_DAYS),
            utc(2026, 7, 2, 6, 59, 59),
            id="standard-resolution-30-calendar-days",
        ),
        pytest.param(
            lambda: appeal_resolution_deadline(received_at=pt(2026, 10, 31, 10), expedited=True),
            Deadline(pt(2026, 11, 3, 9), Rule.APPEAL_EXPEDITED_72_HOURS),
            utc(2026, 11, 3, 17),
            id="expedited-resolution-72-hours-across-fall-back",
        ),
        pytest.param(
            lambda: appeal_extension_cap(resolution_due_at=eod(2026, 7, 1)),
            Deadline(eod(2026, 7, 15), Rule.APPEAL_EXTENSION_14_CALENDAR_DAYS),
            utc(2026, 7, 16, 6, 59, 59),
            id="extension-cap-standard",
        ),
        pytest.param(
            lambda: appeal_extension_cap(resolution_due_at=pt(2026, 11, 3, 9)),
            Deadline(eod(2026, 11, 17), Rule.APPEAL_EXTENSION_14_CALENDAR_DAYS),
            utc(2026, 11, 18, 7, 59, 59),
            id="extension-cap-expedited",
        ),
        pytest.param(
            lambda: state_hearing_deadline(resolution_date=date(2026, 6, 1)),
            Deadline(eod(2026, 9, 29), Rule.STATE_HEARING_120_CALENDAR_DAYS),
            utc(2026, 9, 30, 6, 59, 59),
            id="state-hearing-120-calendar-days",
        ),
        pytest.param(
            lambda: state_hearing_deadline(resolution_date=date(2026, 10, 1)),
            Deadline(eod(2027, 1, 29), Rule.STATE_HEARING_120_CALENDAR_DAYS),
            utc(2027, 1, 30, 7, 59, 59),
            id="state-hearing-across-fall-back-and-new-year",
        ),
    ],
)
def test_appeal_clocks(
    compute: Callable[[], Deadline], expected: Deadline, expected_utc: datetime
) -> None:
    result = compute()
    assert result == expected
    assert result.due_at == expected_utc
    assert_utc(result.due_at)


# --------------------------------------------------------------------------------------------
# Independent Medical Review (003 G)


@pytest.mark.parametrize(
    ("received_at", "kind", "extended", "due_at", "target_at", "rule"),
    [
        pytest.param(
            pt(2026, 6, 1, 10),
            ImrKind.STANDARD,
            False,
            eod(2026, 6, 8),
            eod(2026, 6, 8),
            Rule.IMR_STANDARD_5_BUSINESS_DAYS,
            id="standard-monday",
        ),
        pytest.param(
            pt(2026, 6, 6, 11),
            ImrKind.STANDARD,
            False,
            eod(2026, 6, 12),
            eod(2026, 6, 12),
            Rule.IMR_STANDARD_5_BUSINESS_DAYS,
            id="standard-saturday",
        ),
        pytest.param(
            pt(2026, 6, 5, 18),
            ImrKind.STANDARD,
            False,
            eod(2026, 6, 12),
            eod(2026, 6, 12),
            Rule.IMR_STANDARD_5_BUSINESS_DAYS,
            id="standard-friday-evening-no-shift",
        ),
        pytest.param(
            pt(2026, 11, 25, 10),
            ImrKind.STANDARD,
            False,
            eod(2026, 12, 4),
            eod(2026, 12, 4),
            Rule.IMR_STANDARD_5_BUSINESS_DAYS,
            id="standard-thanksgiving",
        ),
        pytest.param(
            pt(2026, 6, 5, 18),
            ImrKind.EXPEDITED,
            False,
            pt(2026, 6, 6, 18),
            pt(2026, 6, 6, 18),
            Rule.IMR_EXPEDITED_24_HOURS,
            id="expedited-24-hours",
        ),
        pytest.param(
            pt(2026, 6, 5, 18),
            ImrKind.EXPEDITED,
            True,
            pt(2026, 6, 7, 18),
            pt(2026, 6, 7, 18),
            Rule.IMR_EXPEDITED_EXTENDED_48_HOURS,
            id="expedited-extended-once-by-24-hours",
        ),
        pytest.param(
            pt(2026, 3, 7, 12),
            ImrKind.EXPEDITED,
            False,
            pt(2026, 3, 8, 13),
            pt(2026, 3, 8, 13),
            Rule.IMR_EXPEDITED_24_HOURS,
            id="expedited-across-spring-forward",
        ),
        pytest.param(
            pt(2026, 3, 7, 12),
            ImrKind.EXPEDITED,
            True,
            pt(2026, 3, 9, 13),
            pt(2026, 3, 9, 13),
            Rule.IMR_EXPEDITED_EXTENDED_48_HOURS,
            id="expedited-extended-across-spring-forward",
        ),
        pytest.param(
            pt(2026, 6, 1, 10),
            ImrKind.RETROSPECTIVE,
            False,
            eod(2026, 6, 10),
            eod(2026, 6, 8),
            Rule.IMR_RETROSPECTIVE_7_BUSINESS_DAYS,
            id="retrospective-target-5th-due-7th",
        ),
        pytest.param(
            pt(2026, 11, 25, 10),
            ImrKind.RETROSPECTIVE,
            False,
            eod(2026, 12, 8),
            eod(2026, 12, 4),
            Rule.IMR_RETROSPECTIVE_7_BUSINESS_DAYS,
            id="retrospective-thanksgiving",
        ),
        pytest.param(
            pt(2027, 3, 29, 10),
            ImrKind.RETROSPECTIVE,
            False,
            eod(2027, 4, 8),
            eod(2027, 4, 6),
            Rule.IMR_RETROSPECTIVE_7_BUSINESS_DAYS,
            id="retrospective-cesar-chavez-2027",
        ),
    ],
)
def test_imr_deadline(
    received_at: datetime,
    kind: str,
    extended: bool,
    due_at: datetime,
    target_at: datetime,
    rule: Rule,
) -> None:
    result = imr_deadline(received_at=received_at, kind=kind, extended=extended, calendar=CAL)
    assert (result.due_at, result.target_at, result.rule) == (due_at, target_at, rule)
    assert_utc(result.due_at)
    assert_utc(result.target_at)


@pytest.mark.parametrize("kind", [ImrKind.STANDARD, ImrKind.RETROSPECTIVE])
def test_only_expedited_imr_can_be_extended(kind: str) -> None:
    with pytest.raises(ClockError) as excinfo:
        imr_deadline(received_at=pt(2026, 6, 1, 10), kind=kind, extended=True, calendar=CAL)
    assert excinfo.value.code == ClockErrorCode.IMR_EXTENSION_NOT_ALLOWED


# --------------------------------------------------------------------------------------------
# Invalid input

NAIVE = datetime(2026, 6, 1, 10, 0)

NAIVE_CALLS: list[Any] = [
    pytest.param(
        lambda: decision_deadline(
            received_at=NAIVE, request_type=PRE, urgency=URGENT, calendar=CAL
        ),
        id="decision",
    ),
    pytest.param(
        lambda: provider_notice_deadline(
            received_at=NAIVE, request_type=PRE, urgency=URGENT, decided_at=None, calendar=CAL
        ),
        id="provider-received",
    ),
    pytest.param(
        lambda: provider_notice_deadline(
            received_at=pt(2026, 6, 1),
            request_type=PRE,
            urgency=ROUTINE,
            decided_at=NAIVE,
            calendar=CAL,
        ),
        id="provider-decided",
    ),
    pytest.param(lambda: mailing_deadline(decided_at=NAIVE, calendar=CAL), id="member"),
    pytest.param(lambda: untimely_notice_deadline(breached_at=NAIVE), id="untimely"),
    pytest.param(
        lambda: extension_policy(
            received_at=NAIVE, request_type=PRE, urgency=ROUTINE, calendar=CAL
        ),
        id="extension-policy",
    ),
    pytest.param(
        lambda: check_extension(
            policy=ROUTINE_POLICY,
            extensions_used=0,
            current_due_at=NAIVE,
            new_due_at=eod(2026, 6, 15),
        ),
        id="check-extension",
    ),
    pytest.param(
        lambda: late_retro_submission(
            received_at=NAIVE, date_of_service=date(2026, 6, 1), calendar=CAL
        ),
        id="late-retro",
    ),
    pytest.param(lambda: appeal_filing_deadline(notice_date=NAIVE), id="appeal-filing"),
    pytest.param(
        lambda: appeal_resolution_deadline(received_at=NAIVE, expedited=False),
        id="appeal-resolution",
    ),
    pytest.param(lambda: appeal_extension_cap(resolution_due_at=NAIVE), id="appeal-extension-cap"),
    pytest.param(lambda: state_hearing_deadline(resolution_date=NAIVE), id="state-hearing"),
    pytest.param(
        lambda: imr_deadline(received_at=NAIVE, kind=ImrKind.EXPEDITED, calendar=CAL), id="imr"
    ),
    pytest.param(
        lambda: effective_receipt(received_at=NAIVE, calendar=CAL), id="effective-receipt"
    ),
    pytest.param(lambda: CAL.is_business_hours(NAIVE), id="business-hours"),
]


@pytest.mark.parametrize("call", NAIVE_CALLS)
def test_naive_datetimes_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(ClockError) as excinfo:
        call()
    assert excinfo.value.code == ClockErrorCode.NAIVE_DATETIME


@pytest.mark.parametrize(
    ("call", "code"),
    [
        pytest.param(
            lambda: decision_deadline(
                received_at=pt(2026, 6, 1), request_type="retro", urgency=ROUTINE, calendar=CAL
            ),
            ClockErrorCode.INVALID_REQUEST_TYPE,
            id="unknown-request-type",
        ),
        pytest.param(
            lambda: decision_deadline(
                received_at=pt(2026, 6, 1), request_type=PRE, urgency="expedited", calendar=CAL
            ),
            ClockErrorCode.INVALID_URGENCY,
            id="unknown-urgency",
        ),
        pytest.param(
            lambda: extension_policy(
                received_at=pt(2026, 6, 1),
                request_type=None,  # type: ignore[arg-type]
                urgency=ROUTINE,
                calendar=CAL,
            ),
            ClockErrorCode.INVALID_REQUEST_TYPE,
            id="request-type-none",
        ),
        pytest.param(
            lambda: imr_deadline(received_at=pt(2026, 6, 1), kind="urgent", calendar=CAL),
            ClockErrorCode.INVALID_IMR_KIND,
            id="unknown-imr-kind",
        ),
        pytest.param(
            lambda: decision_deadline(
                received_at=date(2026, 6, 1),  # type: ignore[arg-type]
                request_type=PRE,
                urgency=ROUTINE,
                calendar=CAL,
            ),
            ClockErrorCode.INVALID_ARGUMENT,
            id="date-for-datetime",
        ),
        pytest.param(
            lambda: late_retro_submission(
                received_at=pt(2026, 6, 1),
                date_of_service="2026-06-01",  # type: ignore[arg-type]
                calendar=CAL,
            ),
            ClockErrorCode.INVALID_ARGUMENT,
            id="string-for-date",
        ),
        pytest.param(
            lambda: CAL.add_business_days_date(date(2026, 6, 1), -1),
            ClockErrorCode.INVALID_ARGUMENT,
            id="negative-business-days",
        ),
        pytest.param(
            lambda: CAL.is_business_day(date(2024, 12, 31)),
            ClockErrorCode.OUTSIDE_CALENDAR,
            id="before-calendar",
        ),
        pytest.param(
            lambda: CAL.add_business_days_date(date(2028, 12, 28), 5),
            ClockErrorCode.OUTSIDE_CALENDAR,
            id="runs-past-calendar",
        ),
        pytest.param(
            lambda: BusinessCalendar.california(years=[]),
            ClockErrorCode.INVALID_ARGUMENT,
            id="calendar-without-years",
        ),
        pytest.param(
            lambda: BusinessCalendar(holidays=frozenset(), first_year=2027, last_year=2026),
            ClockErrorCode.INVALID_ARGUMENT,
            id="calendar-years-reversed",
        ),
    ],
)
def test_invalid_arguments_are_refused(call: Callable[[], object], code: ClockErrorCode) -> None:
    with pytest.raises(ClockError) as excinfo:
        call()
    assert excinfo.value.code == code


def test_string_values_are_accepted_like_enum_members() -> None:
    # Django TextChoices and plain strings reach the clocks; both must work.
    by_enum = decision_deadline(
        received_at=pt(2026, 6, 1, 10), request_type=PRE, urgency=ROUTINE, calendar=CAL
    )
    by_str = decision_deadline(
        received_at=pt(2026, 6, 1, 10), request_type="pre_service", urgency="routine", calendar=CAL
    )
    assert by_enum == by_str
    assert by_str.rule == "routine_5_business_days"


def test_outputs_do_not_depend_on_input_timezone() -> None:
    instant = pt(2026, 6, 5, 18)
    results = {
        decision_deadline(
            received_at=instant.astimezone(zone), request_type=PRE, urgency=ROUTINE, calendar=CAL
        )
        for zone in (LA, NY, UTC, ZoneInfo("Asia/Kolkata"))
    }
    assert len(results) == 1
    assert timedelta(0) == next(iter(results)).due_at.utcoffset()
