"""Regulatory clocks: when a decision, a notice, an extension, an appeal or an IMR is due.

Pure functions of their inputs (STYLE 5): no Django, no database, no ``now()``. Every instant
passed in must be timezone-aware (any zone); every instant returned is an aware UTC datetime.
Invalid input raises ``ClockError`` (a ``ValueError``) carrying a stable ``code``.

Definitions (PRODUCT §4 "Clocks"), used by every rule below:

- *N hours*: exactly N elapsed hours after the start instant (arithmetic in UTC, so 72 hours
  across a DST change is still 72 real hours).
- *N calendar days*: 23:59:59 Pacific of the Nth calendar day after the start date, the start
  date being the Pacific date of the start instant.
- *N business days*: 23:59:59 Pacific of the Nth business day after the start date; the start
  date itself never counts.
- *Effective receipt* (routine requests only): inside business hours, the receipt itself;
  before 08:00 on a business day, 08:00 that day; at/after 17:00, on a weekend or a holiday,
  08:00 of the next business day (002: "processing non-urgent requests during the next
  business day if the request is received after business hours").

Every result names the rule that produced it with a stable snake_case id (``Rule``), so the
clock can be stored, shown and reported on without re-deriving it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import holidays as holidays_lib

PACIFIC: Final = ZoneInfo("America/Los_Angeles")
# Business hours, Pacific wall clock (PRODUCT §4): [08:00, 17:00). 17:00 itself is after hours.
BUSINESS_DAY_START_HOUR: Final = 8
BUSINESS_DAY_END_HOUR: Final = 17

_HOUR: Final = timedelta(hours=1)


class RequestType(StrEnum):
    # service not yet rendered; the plan must approve in advance (002)
    PRE_SERVICE = "pre_service"
    # member is receiving the service while the request is reviewed (002)
    CONCURRENT = "concurrent"
    # service already rendered: retrospective review (002)
    POST_SERVICE = "post_service"


class Urgency(StrEnum):
    # the routine timeframe could jeopardise life, health or function (002)
    URGENT = "urgent"
    # everything else
    ROUTINE = "routine"


class ImrKind(StrEnum):
    # 003 G.1: five business days of IMRO receipt
    STANDARD = "standard"
    # 003 G.2: 24 hours, once extendable by 24 hours
    EXPEDITED = "expedited"
    # 003 G.3: five to seven business days
    RETROSPECTIVE = "retrospective"


class Rule(StrEnum):
    """Stable ids of every clock rule. Stored with the clock; never rename or reuse one."""

    # 002 table; 42 CFR 438.210(d)(2): urgent pre-service/concurrent decision
    URGENT_72_HOURS = "urgent_72_hours"
    # 002 table; H&S 1367.01: routine pre-service/concurrent decision, from effective receipt
    ROUTINE_5_BUSINESS_DAYS = "routine_5_business_days"
    # 42 CFR 438.210(d)(1), rating periods from 2026-01-01: routine decision, from receipt
    ROUTINE_7_CALENDAR_DAYS = "routine_7_calendar_days"
    # 002 table: post-service (retrospective) decision
    POST_SERVICE_30_CALENDAR_DAYS = "post_service_30_calendar_days"
    # 002 table: urgent provider notice is due with the decision
    PROVIDER_NOTICE_WITH_DECISION_72_HOURS = "provider_notice_with_decision_72_hours"
    # 002 table: routine (and post-service) provider notice, 24 hours of the determination
    PROVIDER_NOTICE_24_HOURS_AFTER_DECISION = "provider_notice_24_hours_after_decision"
    # 002 "Post-Service Retrospective Review": notice no later than 30 calendar days of receipt
    POST_SERVICE_NOTICE_30_CALENDAR_DAYS = "post_service_notice_30_calendar_days"
    # 002 table footnote 1; H&S 1367.01: member letter mailed within 2 business days
    MEMBER_NOTICE_2_BUSINESS_DAYS = "member_notice_2_business_days"
    # 42 CFR 438.210(d)(2), 438.404(c)(6): urgent member notice within 72 hours of receipt
    MEMBER_NOTICE_URGENT_72_HOURS = "member_notice_urgent_72_hours"
    # 42 CFR 438.210(d)(1) (from 2026), 438.404(c)(6): routine member notice within 7 calendar
    # days of receipt
    MEMBER_NOTICE_ROUTINE_7_CALENDAR_DAYS = "member_notice_routine_7_calendar_days"
    # 42 CFR 438.210(d)(1)(ii), (d)(2)(ii); PRODUCT §4: the federal notice limit moves to the
    # lawfully extended decision deadline
    MEMBER_NOTICE_EXTENDED_DEADLINE = "member_notice_extended_deadline"
    # PRODUCT §4 "Provider notice after an extension": no later than the extended deadline
    PROVIDER_NOTICE_EXTENDED_DEADLINE = "provider_notice_extended_deadline"
    # H&S 1367.01(h)(5); PRODUCT §4: information arrived after an extension, the decision is
    # due within the original window from its arrival (never before the original deadline)
    INFORMATION_RECEIVED_ORIGINAL_WINDOW = "information_received_original_window"
    # ... but never later than the extended deadline
    INFORMATION_RECEIVED_EXTENDED_DEADLINE = "information_received_extended_deadline"
    # ... and never earlier than the original deadline
    INFORMATION_RECEIVED_ORIGINAL_DEADLINE = "information_received_original_deadline"
    # PRODUCT §4 "Untimely"; 42 CFR 438.404(c)(5): notice due the day the deadline is missed
    UNTIMELY_NOTICE_SAME_DAY = "untimely_notice_same_day"
    # 002 table: urgent, extendable once to 14 calendar days after receipt
    URGENT_EXTENSION_ONCE_14_CALENDAR_DAYS = "urgent_extension_once_14_calendar_days"
    # 42 CFR 438.210(d)(1)(ii): routine, up to two, never past 21 calendar days after receipt
    ROUTINE_EXTENSION_TWICE_21_CALENDAR_DAYS = "routine_extension_twice_21_calendar_days"
    # 002 table: post-service, N/A
    POST_SERVICE_NO_EXTENSION = "post_service_no_extension"
    # 002 "Post-Service Retrospective Review": 15 business days of the date of service
    RETRO_15_BUSINESS_DAYS_AFTER_SERVICE = "retro_15_business_days_after_service"
    # 002: 60 calendar days of a denial from the primary insurance carrier
    RETRO_60_CALENDAR_DAYS_AFTER_PRIMARY_DENIAL = "retro_60_calendar_days_after_primary_denial"
    # 002: 60 calendar days of a retroactive eligibility grant
    RETRO_60_CALENDAR_DAYS_AFTER_RETRO_ELIGIBILITY = (
        "retro_60_calendar_days_after_retro_eligibility"
    )
    # 42 CFR 438.402(c)(2)(ii): member files an appeal within 60 calendar days of the notice
    APPEAL_FILING_60_CALENDAR_DAYS = "appeal_filing_60_calendar_days"
    # 42 CFR 438.408(b)(2): standard appeal resolved within 30 calendar days of receipt
    APPEAL_STANDARD_30_CALENDAR_DAYS = "appeal_standard_30_calendar_days"
    # 42 CFR 438.408(b)(3): expedited appeal resolved within 72 hours of receipt
    APPEAL_EXPEDITED_72_HOURS = "appeal_expedited_72_hours"
    # 42 CFR 438.408(c): one extension of up to 14 calendar days
    APPEAL_EXTENSION_14_CALENDAR_DAYS = "appeal_extension_14_calendar_days"
    # 42 CFR 438.408(f)(2): State Hearing requested within 120 calendar days of the resolution
    STATE_HEARING_120_CALENDAR_DAYS = "state_hearing_120_calendar_days"
    # 003 G.1: IMRO decides within 5 business days of its receipt
    IMR_STANDARD_5_BUSINESS_DAYS = "imr_standard_5_business_days"
    # 003 G.2.b: IMRO decides within 24 hours of its receipt
    IMR_EXPEDITED_24_HOURS = "imr_expedited_24_hours"
    # 003 G.2.b: the plan extended the IMRO's deadline once by 24 hours
    IMR_EXPEDITED_EXTENDED_48_HOURS = "imr_expedited_extended_48_hours"
    # 003 G.3: due the 7th business day, target the 5th
    IMR_RETROSPECTIVE_7_BUSINESS_DAYS = "imr_retrospective_7_business_days"


class ClockErrorCode(StrEnum):
    # a datetime without tzinfo (or whose tzinfo gives no offset)
    NAIVE_DATETIME = "naive_datetime"
    # wrong type or out-of-range value for an argument
    INVALID_ARGUMENT = "invalid_argument"
    # request_type is not one of RequestType
    INVALID_REQUEST_TYPE = "invalid_request_type"
    # urgency is not one of Urgency
    INVALID_URGENCY = "invalid_urgency"
    # kind is not one of ImrKind
    INVALID_IMR_KIND = "invalid_imr_kind"
    # decided_at is earlier than received_at
    DECISION_BEFORE_RECEIPT = "decision_before_receipt"
    # a business-day computation ran past the years the calendar was built for
    OUTSIDE_CALENDAR = "outside_calendar"
    # post-service requests cannot be extended (002 table: N/A)
    EXTENSION_NOT_ALLOWED = "extension_not_allowed"
    # the request already used every extension its policy allows
    EXTENSION_LIMIT_REACHED = "extension_limit_reached"
    # the new due date passes the regulatory cap (14 or 21 calendar days after receipt)
    EXTENSION_BEYOND_CAP = "extension_beyond_cap"
    # an extension must move the due date later
    EXTENSION_NOT_LATER = "extension_not_later"
    # only an expedited IMR can be extended (003 G.2.b)
    IMR_EXTENSION_NOT_ALLOWED = "imr_extension_not_allowed"


class ClockError(ValueError):
    """Invalid clock input. ``code`` is a stable ``ClockErrorCode`` the API layer can map."""

    def __init__(self, code: ClockErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class Deadline:
    due_at: datetime
    rule: Rule


@dataclass(frozen=True, slots=True)
class DecisionDeadline:
    due_at: datetime
    rule: Rule
    # the instant the routine business-day clock runs from; the true receipt for other clocks
    effective_received_at: datetime
    # every rule that applied, in tie-break order; ``rule`` is the earliest (first on a tie)
    candidates: tuple[tuple[Rule, datetime], ...]


@dataclass(frozen=True, slots=True)
class ExtensionPolicy:
    max_count: int
    # None when no extension is allowed
    latest_due_at: datetime | None
    rule: Rule


@dataclass(frozen=True, slots=True)
class LateCheck:
    late: bool
    # the window that decided (the most generous one that applies)
    rule: Rule
    window_ends_at: datetime


@dataclass(frozen=True, slots=True)
class ImrDeadline:
    due_at: datetime
    # the date the IMRO should aim for; equals due_at except for retrospective reviews
    target_at: datetime
    rule: Rule


# --------------------------------------------------------------------------------------------
# Business calendar


@lru_cache(maxsize=32)
def _california_holidays(first_year: int, last_year: int) -> frozenset[date]:
    """The ``holidays`` library's US/CA list; cached, building it costs tens of milliseconds."""
    # Every year in the span (gaps filled), observed-day shifts included: New Year's Day 2028
    # is observed on Friday 2027-12-31 and is in the 2027 list.
    library = holidays_lib.country_holidays(
        "US", subdiv="CA", years=range(first_year, last_year + 1)
    )
    return frozenset(day for day in library if first_year <= day.year <= last_year)


@dataclass(frozen=True)
class BusinessCalendar:
    """Plan business days: Monday-Friday except ``holidays``, for the years it was built for.

    Business-day arithmetic is precomputed over ``first_year``..``last_year`` so every query is
    an index lookup. Asking about a date outside those years raises ``ClockError``
    (``outside_calendar``) rather than silently ignoring holidays nobody loaded.
    """

    holidays: frozenset[date]
    first_year: int
    last_year: int
    _first_ordinal: int = field(init=False, repr=False, compare=False)
    # 1 if the covered day at that offset is a business day, else 0
    _business: bytes = field(init=False, repr=False, compare=False)
    # number of business days on or before the covered day at that offset
    _rank: tuple[int, ...] = field(init=False, repr=False, compare=False)
    # ordinals of every business day in the covered years, ascending
    _business_ordinals: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.first_year, int) or not isinstance(self.last_year, int):
            raise ClockError(ClockErrorCode.INVALID_ARGUMENT, "first_year and last_year are ints")
        if not 1 < self.first_year <= self.last_year < 9999:
            raise ClockError(
                ClockErrorCode.INVALID_ARGUMENT,
                f"invalid calendar years {self.first_year}..{self.last_year}",
            )
        holiday_set = frozenset(self.holidays)
        for day in holiday_set:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ClockError(ClockErrorCode.INVALID_ARGUMENT, f"holiday {day!r} is not a date")
        object.__setattr__(self, "holidays", holiday_set)

        first = date(self.first_year, 1, 1).toordinal()
        last = date(self.last_year, 12, 31).toordinal()
        holiday_ordinals = {day.toordinal() for day in holiday_set}
        business = bytearray()
        rank: list[int] = []
        business_ordinals: list[int] = []
        for ordinal in range(first, last + 1):
            # date.fromordinal(1) is a Monday, so (ordinal - 1) % 7 is the ISO weekday - 1
            is_business = (ordinal - 1) % 7 < 5 and ordinal not in holiday_ordinals
            business.append(is_business)
            if is_business:
                business_ordinals.append(ordinal)
            rank.append(len(business_ordinals))
        object.__setattr__(self, "_first_ordinal", first)
        object.__setattr__(self, "_business", bytes(business))
        object.__setattr__(self, "_rank", tuple(rank))
        object.__setattr__(self, "_business_ordinals", tuple(business_ordinals))

    @classmethod
    def california(
        cls,
        *,
        years: Iterable[int],
        added: Iterable[date] = (),
        removed: Iterable[date] = (),
    ) -> BusinessCalendar:
        """California state holidays from the ``holidays`` library, edited by the admins.

        PRODUCT §4: the default list is what ``holidays`` gives for US/CA (observed-day shifts
        included); ``added`` and ``removed`` are the plan admins' edits, applied in that order.
        """
        year_list = sorted(set(years))
        if not year_list:
            raise ClockError(ClockErrorCode.INVALID_ARGUMENT, "years must not be empty")
        first_year, last_year = year_list[0], year_list[-1]
        dates = (_california_holidays(first_year, last_year) | set(added)) - set(removed)
        return cls(holidays=frozenset(dates), first_year=first_year, last_year=last_year)

    def _offset(self, day: date) -> int:
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ClockError(ClockErrorCode.INVALID_ARGUMENT, f"{day!r} is not a date")
        offset = day.toordinal() - self._first_ordinal
        if not 0 <= offset < len(self._business):
            raise ClockError(
                ClockErrorCode.OUTSIDE_CALENDAR,
                f"{day.isoformat()} is outside the calendar's years "
                f"{self.first_year}..{self.last_year}",
            )
        return offset

    def is_business_day(self, day: date) -> bool:
        return bool(self._business[self._offset(day)])

    def is_business_hours(self, instant: datetime) -> bool:
        local = _require_aware(instant, "instant").astimezone(PACIFIC)
        return (
            BUSINESS_DAY_START_HOUR <= local.hour < BUSINESS_DAY_END_HOUR
            and self.is_business_day(local.date())
        )

    def add_business_days_date(self, day: date, n: int) -> date:
        """The Nth business day after ``day``; ``day`` itself never counts (n=0 returns it)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ClockError(ClockErrorCode.INVALID_ARGUMENT, f"n must be an int >= 0, not {n!r}")
        offset = self._offset(day)
        if n == 0:
            return day
        position = self._rank[offset] + n - 1
        if position >= len(self._business_ordinals):
            raise ClockError(
                ClockErrorCode.OUTSIDE_CALENDAR,
                f"{n} business days after {day.isoformat()} is past the calendar's last year "
                f"{self.last_year}",
            )
        return date.fromordinal(self._business_ordinals[position])

    def next_business_day(self, day: date) -> date:
        return self.add_business_days_date(day, 1)


# --------------------------------------------------------------------------------------------
# Primitives


def _require_aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ClockError(ClockErrorCode.INVALID_ARGUMENT, f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ClockError(ClockErrorCode.NAIVE_DATETIME, f"{name} must be timezone-aware")
    return value


def _pacific_date(value: date | datetime, name: str) -> date:
    """A date argument: a ``date`` as given, or an aware datetime's Pacific date."""
    if isinstance(value, datetime):
        return _require_aware(value, name).astimezone(PACIFIC).date()
    if isinstance(value, date):
        return value
    raise ClockError(ClockErrorCode.INVALID_ARGUMENT, f"{name} must be a date or a datetime")


# Plain dict lookups: Enum(value) is several times slower and these run on every clock call.
_REQUEST_TYPES: Final = {member.value: member for member in RequestType}
_URGENCIES: Final = {member.value: member for member in Urgency}
_IMR_KINDS: Final = {member.value: member for member in ImrKind}


def _request_type(value: str) -> RequestType:
    kind = _REQUEST_TYPES.get(value) if isinstance(value, str) else None
    if kind is None:
        raise ClockError(ClockErrorCode.INVALID_REQUEST_TYPE, f"unknown request type {value!r}")
    return kind


def _urgency(value: str) -> Urgency:
    level = _URGENCIES.get(value) if isinstance(value, str) else None
    if level is None:
        raise ClockError(ClockErrorCode.INVALID_URGENCY, f"unknown urgency {value!r}")
    return level


def _imr_kind(value: str) -> ImrKind:
    kind = _IMR_KINDS.get(value) if isinstance(value, str) else None
    if kind is None:
        raise ClockError(ClockErrorCode.INVALID_IMR_KIND, f"unknown IMR kind {value!r}")
    return kind


@lru_cache(maxsize=16384)
def _end_of_day(day: date) -> datetime:
    # 23:59:59 never falls in a DST gap or fold in America/Los_Angeles (changes are at 02:00).
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=PACIFIC).astimezone(UTC)


@lru_cache(maxsize=16384)
def _start_of_business(day: date) -> datetime:
    return datetime(
        day.year, day.month, day.day, BUSINESS_DAY_START_HOUR, tzinfo=PACIFIC
    ).astimezone(UTC)


def _hours_after(start_utc: datetime, hours: int) -> datetime:
    # PRODUCT §4 "N hours": elapsed time, so add in UTC.
    return start_utc + hours * _HOUR


def _calendar_days_after(start: date, days: int) -> datetime:
    # PRODUCT §4 "N calendar days": end of the Nth calendar day after the start date.
    return _end_of_day(start + timedelta(days=days))


def _business_days_after(calendar: BusinessCalendar, start: date, days: int) -> datetime:
    # PRODUCT §4 "N business days": end of the Nth business day; the start date never counts.
    return _end_of_day(calendar.add_business_days_date(start, days))


def _earliest(candidates: tuple[tuple[Rule, datetime], ...]) -> tuple[Rule, datetime]:
    """PRODUCT §4: where several rules apply the earliest binds; on a tie, the first listed."""
    best_rule, best_due = candidates[0]
    for rule, due in candidates[1:]:
        if due < best_due:
            best_rule, best_due = rule, due
    return best_rule, best_due


def _effective_receipt(
    received_utc: datetime, local: datetime, calendar: BusinessCalendar
) -> tuple[datetime, date]:
    """(effective receipt instant, its Pacific date) for a routine request."""
    day = local.date()
    if calendar.is_business_day(day):
        if local.hour < BUSINESS_DAY_START_HOUR:
            return _start_of_business(day), day
        if local.hour < BUSINESS_DAY_END_HOUR:
            return received_utc, day
    next_day = calendar.next_business_day(day)
    return _start_of_business(next_day), next_day


def effective_receipt(*, received_at: datetime, calendar: BusinessCalendar) -> datetime:
    """The instant a routine business-day clock runs from (PRODUCT §4 "Effective receipt").

    002: non-urgent requests received after business hours are processed from the next
    business day; before 08:00 on a business day they count from 08:00 that day.
    """
    _require_aware(received_at, "received_at")
    instant, _ = _effective_receipt(
        received_at.astimezone(UTC), received_at.astimezone(PACIFIC), calendar
    )
    return instant


# --------------------------------------------------------------------------------------------
# Decisions and notices


def decision_deadline(
    *,
    received_at: datetime,
    request_type: str,
    urgency: str,
    calendar: BusinessCalendar,
) -> DecisionDeadline:
    """When the UM decision is due (002 table; 42 CFR 438.210(d)); the earliest rule binds."""
    _require_aware(received_at, "received_at")
    kind = _request_type(request_type)
    level = _urgency(urgency)
    received_utc = received_at.astimezone(UTC)

    candidates: tuple[tuple[Rule, datetime], ...]
    if kind is RequestType.POST_SERVICE:
        # 002 table: post-service, 30 calendar days of receipt. A service already rendered is
        # never urgent for clock purposes, so urgency is ignored here.
        local_date = received_at.astimezone(PACIFIC).date()
        due = _calendar_days_after(local_date, 30)
        candidates = ((Rule.POST_SERVICE_30_CALENDAR_DAYS, due),)
        effective = received_utc
    elif level is Urgency.URGENT:
        # 002 table: urgent pre-service/concurrent, 72 hours of receipt (true receipt instant).
        candidates = ((Rule.URGENT_72_HOURS, _hours_after(received_utc, 72)),)
        effective = received_utc
    else:
        local = received_at.astimezone(PACIFIC)
        effective, effective_date = _effective_receipt(received_utc, local, calendar)
        candidates = (
            # 002 table; H&S 1367.01: routine pre-service, 5 business days of effective receipt
            (
                Rule.ROUTINE_5_BUSINESS_DAYS,
                _business_days_after(calendar, effective_date, 5),
            ),
            # 42 CFR 438.210(d)(1) from 2026: 7 calendar days of (true) receipt
            (Rule.ROUTINE_7_CALENDAR_DAYS, _calendar_days_after(local.date(), 7)),
        )
    rule, due_at = _earliest(candidates)
    return DecisionDeadline(
        due_at=due_at, rule=rule, effective_received_at=effective, candidates=candidates
    )


def provider_notice_deadline(
    *,
    received_at: datetime,
    request_type: str,
    urgency: str,
    decided_at: datetime | None,
    calendar: BusinessCalendar,
    extended_due_at: datetime | None = None,
) -> Deadline | None:
    """When the practitioner must be told the decision (002 table, "Notification").

    ``extended_due_at`` is the decision deadline after a lawful extension (None when the
    request was never extended). Returns None for a routine pre-service/concurrent request
    not decided yet: its notice clock only starts at the decision.
    """
    _require_aware(received_at, "received_at")
    kind = _request_type(request_type)
    level = _urgency(urgency)
    received_utc = received_at.astimezone(UTC)
    decided_utc = _decided_utc(decided_at, received_utc)
    extended_utc = _extended_utc(extended_due_at, kind)

    if kind is RequestType.POST_SERVICE:
        # 002 "Post-Service Retrospective Review": within 24 hours of the decision, but no
        # longer than 30 calendar days from receipt.
        cap = _calendar_days_after(received_at.astimezone(PACIFIC).date(), 30)
        if decided_utc is None:
            return Deadline(due_at=cap, rule=Rule.POST_SERVICE_NOTICE_30_CALENDAR_DAYS)
        rule, due = _earliest(
            (
                (Rule.PROVIDER_NOTICE_24_HOURS_AFTER_DECISION, _hours_after(decided_utc, 24)),
                (Rule.POST_SERVICE_NOTICE_30_CALENDAR_DAYS, cap),
            )
        )
        return Deadline(due_at=due, rule=rule)
    if level is Urgency.URGENT:
        if extended_utc is None:
            # 002 table: urgent notification, 72 hours of receipt (same as the decision).
            return Deadline(
                due_at=_hours_after(received_utc, 72),
                rule=Rule.PROVIDER_NOTICE_WITH_DECISION_72_HOURS,
            )
        # PRODUCT §4 "Provider notice after an extension" (002 table; H&S 1367.01(h)(5)): after
        # a lawful extension the notice is due 24 hours after the decision and no later than
        # the extended deadline, never before the decision could lawfully be made.
        if decided_utc is None:
            return Deadline(due_at=extended_utc, rule=Rule.PROVIDER_NOTICE_EXTENDED_DEADLINE)
        rule, due = _earliest(
            (
                (Rule.PROVIDER_NOTICE_24_HOURS_AFTER_DECISION, _hours_after(decided_utc, 24)),
                (Rule.PROVIDER_NOTICE_EXTENDED_DEADLINE, extended_utc),
            )
        )
        return Deadline(due_at=max(due, decided_utc), rule=rule)
    if decided_utc is None:
        return None
    # 002 table: routine notification, 24 hours of the determination.
    return Deadline(
        due_at=_hours_after(decided_utc, 24), rule=Rule.PROVIDER_NOTICE_24_HOURS_AFTER_DECISION
    )


def member_notice_deadline(
    *,
    received_at: datetime,
    request_type: str,
    urgency: str,
    decided_at: datetime,
    calendar: BusinessCalendar,
    extended_due_at: datetime | None = None,
) -> Deadline:
    """When the member's written notice of a decision is due (PRODUCT §4 "Member written
    notice"): the earliest of the rules below binds, and its rule is recorded.

    A decision made after the federal limit gives a due instant before the decision: the
    notice is late from the start, as it is (the decision itself was untimely).
    """
    _require_aware(received_at, "received_at")
    kind = _request_type(request_type)
    level = _urgency(urgency)
    received_utc = received_at.astimezone(UTC)
    decided_utc = _decided_utc(_require_aware(decided_at, "decided_at"), received_utc)
    assert decided_utc is not None
    extended_utc = _extended_utc(extended_due_at, kind)
    mailing = mailing_deadline(decided_at=decided_utc, calendar=calendar)
    candidates: list[tuple[Rule, datetime]] = [(mailing.rule, mailing.due_at)]
    if kind is not RequestType.POST_SERVICE:
        if extended_utc is not None:
            # 42 CFR 438.210(d)(1)(ii), (d)(2)(ii): a lawful extension moves the federal notice
            # limit to the extended decision deadline (PRODUCT §4).
            candidates.append((Rule.MEMBER_NOTICE_EXTENDED_DEADLINE, extended_utc))
        elif level is Urgency.URGENT:
            # 42 CFR 438.210(d)(2), 438.404(c)(6): notice within 72 hours of receipt.
            candidates.append((Rule.MEMBER_NOTICE_URGENT_72_HOURS, _hours_after(received_utc, 72)))
        else:
            # 42 CFR 438.210(d)(1) (rating periods from 2026-01-01), 438.404(c)(6): notice within
            # 7 calendar days of receipt.
            candidates.append(
                (
                    Rule.MEMBER_NOTICE_ROUTINE_7_CALENDAR_DAYS,
                    _calendar_days_after(received_at.astimezone(PACIFIC).date(), 7),
                )
            )
    rule, due = _earliest(tuple(candidates))
    return Deadline(due_at=due, rule=rule)


def mailing_deadline(*, decided_at: datetime, calendar: BusinessCalendar) -> Deadline:
    """A letter mailed within two business days of a decision, with no federal limit on top
    (criteria copies, IMR outcomes); a TAR decision's member notice is
    ``member_notice_deadline``."""
    # 002 table footnote 1 (DHCS); H&S 1367.01(h)(3): mailed within two business days of the
    # decision, counted from the decision's Pacific date.
    decided_date = _require_aware(decided_at, "decided_at").astimezone(PACIFIC).date()
    return Deadline(
        due_at=_business_days_after(calendar, decided_date, 2),
        rule=Rule.MEMBER_NOTICE_2_BUSINESS_DAYS,
    )


def deadline_after_information(
    *,
    received_at: datetime,
    request_type: str,
    urgency: str,
    original_due_at: datetime,
    extended_due_at: datetime,
    arrived_at: datetime,
    calendar: BusinessCalendar,
) -> Deadline:
    """The decision deadline once the information an extension waited for has arrived.

    H&S 1367.01(h)(5); PRODUCT §4 "Information received after an extension": decide within
    the original window counted from the arrival (72 hours urgent; 5 business days routine,
    from the arrival's effective receipt as for the request itself), but never later than the
    extended deadline and never earlier than the original one:
    ``due = min(extended_due, max(original_due, arrival + window))``.
    """
    _require_aware(received_at, "received_at")
    kind = _request_type(request_type)
    level = _urgency(urgency)
    if kind is RequestType.POST_SERVICE:
        raise ClockError(
            ClockErrorCode.EXTENSION_NOT_ALLOWED, "post-service requests are never extended"
        )
    original = _require_aware(original_due_at, "original_due_at").astimezone(UTC)
    extended = _require_aware(extended_due_at, "extended_due_at").astimezone(UTC)
    arrived = _require_aware(arrived_at, "arrived_at").astimezone(UTC)
    if level is Urgency.URGENT:
        window_end = _hours_after(arrived, 72)
    else:
        _, effective_date = _effective_receipt(arrived, arrived.astimezone(PACIFIC), calendar)
        window_end = _business_days_after(calendar, effective_date, 5)
    if window_end <= original:
        return Deadline(due_at=original, rule=Rule.INFORMATION_RECEIVED_ORIGINAL_DEADLINE)
    if window_end >= extended:
        return Deadline(due_at=extended, rule=Rule.INFORMATION_RECEIVED_EXTENDED_DEADLINE)
    return Deadline(due_at=window_end, rule=Rule.INFORMATION_RECEIVED_ORIGINAL_WINDOW)


def _decided_utc(decided_at: datetime | None, received_utc: datetime) -> datetime | None:
    if decided_at is None:
        return None
    decided_utc = _require_aware(decided_at, "decided_at").astimezone(UTC)
    if decided_utc < received_utc:
        raise ClockError(ClockErrorCode.DECISION_BEFORE_RECEIPT, "decided_at is before received_at")
    return decided_utc


def _extended_utc(extended_due_at: datetime | None, kind: RequestType) -> datetime | None:
    if extended_due_at is None:
        return None
    if kind is RequestType.POST_SERVICE:
        raise ClockError(
            ClockErrorCode.EXTENSION_NOT_ALLOWED, "post-service requests are never extended"
        )
    return _require_aware(extended_due_at, "extended_due_at").astimezone(UTC)


def untimely_notice_deadline(*, breached_at: datetime) -> Deadline:
    # PRODUCT §4 "Untimely"; 42 CFR 438.404(c)(5): a missed deadline is an adverse
    # determination, and the member's notice is due that (Pacific) day.
    breached_date = _require_aware(breached_at, "breached_at").astimezone(PACIFIC).date()
    return Deadline(due_at=_end_of_day(breached_date), rule=Rule.UNTIMELY_NOTICE_SAME_DAY)


# --------------------------------------------------------------------------------------------
# Extensions


def extension_policy(
    *,
    received_at: datetime,
    request_type: str,
    urgency: str,
    calendar: BusinessCalendar,
) -> ExtensionPolicy:
    """How many extensions a request may take and the latest due date they may reach.

    ``calendar`` is unused today (the caps are calendar days) but kept so every clock takes
    the same inputs and a future business-day cap does not change the signature.
    """
    _require_aware(received_at, "received_at")
    kind = _request_type(request_type)
    level = _urgency(urgency)
    received_date = received_at.astimezone(PACIFIC).date()
    if kind is RequestType.POST_SERVICE:
        # 002 table: post-service extension N/A.
        return ExtensionPolicy(max_count=0, latest_due_at=None, rule=Rule.POST_SERVICE_NO_EXTENSION)
    if level is Urgency.URGENT:
        # 002 table: urgent, extended one time up to 14 calendar days from receipt.
        return ExtensionPolicy(
            max_count=1,
            latest_due_at=_calendar_days_after(received_date, 14),
            rule=Rule.URGENT_EXTENSION_ONCE_14_CALENDAR_DAYS,
        )
    # 002 table allows two extensions; 42 CFR 438.210(d)(1)(ii) caps the total at 7 + 14 = 21
    # calendar days after receipt (stricter than 002's 28, PRODUCT §4).
    return ExtensionPolicy(
        max_count=2,
        latest_due_at=_calendar_days_after(received_date, 21),
        rule=Rule.ROUTINE_EXTENSION_TWICE_21_CALENDAR_DAYS,
    )


def check_extension(
    *,
    policy: ExtensionPolicy,
    extensions_used: int,
    current_due_at: datetime,
    new_due_at: datetime,
) -> None:
    """Raise ClockError unless one more extension to ``new_due_at`` is allowed."""
    _require_aware(current_due_at, "current_due_at")
    _require_aware(new_due_at, "new_due_at")
    if isinstance(extensions_used, bool) or not isinstance(extensions_used, int):
        raise ClockError(ClockErrorCode.INVALID_ARGUMENT, "extensions_used must be an int")
    if extensions_used < 0:
        raise ClockError(ClockErrorCode.INVALID_ARGUMENT, "extensions_used must be >= 0")
    if policy.max_count == 0 or policy.latest_due_at is None:
        raise ClockError(
            ClockErrorCode.EXTENSION_NOT_ALLOWED, "this request type cannot be extended"
        )
    if extensions_used >= policy.max_count:
        raise ClockError(
            ClockErrorCode.EXTENSION_LIMIT_REACHED,
            f"already extended {extensions_used} time(s); at most {policy.max_count} allowed",
        )
    if new_due_at <= current_due_at:
        raise ClockError(
            ClockErrorCode.EXTENSION_NOT_LATER, "the new due date must be after the current one"
        )
    if new_due_at > policy.latest_due_at:
        raise ClockError(
            ClockErrorCode.EXTENSION_BEYOND_CAP,
            f"the new due date passes the cap {policy.latest_due_at.isoformat()} ({policy.rule})",
        )


# --------------------------------------------------------------------------------------------
# Late retrospective submissions


def late_retro_submission(
    *,
    received_at: datetime,
    date_of_service: date,
    primary_denial_date: date | None = None,
    retro_eligibility_date: date | None = None,
    calendar: BusinessCalendar,
) -> LateCheck:
    """Whether a post-service TAR arrived after every window that applies to it.

    002 "Post-Service Retrospective Review": within 15 business days of the date of service, or
    within 60 calendar days of a primary insurer's denial or of retroactive eligibility. Any
    window that applies makes the submission timely, so the latest (most generous) one decides;
    on a tie the first listed here is named. Late TARs are still reviewed, only flagged.
    """
    received_utc = _require_aware(received_at, "received_at").astimezone(UTC)
    service = _pacific_date(date_of_service, "date_of_service")
    windows: list[tuple[Rule, datetime]] = [
        (Rule.RETRO_15_BUSINESS_DAYS_AFTER_SERVICE, _business_days_after(calendar, service, 15))
    ]
    if primary_denial_date is not None:
        denial = _pacific_date(primary_denial_date, "primary_denial_date")
        windows.append(
            (Rule.RETRO_60_CALENDAR_DAYS_AFTER_PRIMARY_DENIAL, _calendar_days_after(denial, 60))
        )
    if retro_eligibility_date is not None:
        eligibility = _pacific_date(retro_eligibility_date, "retro_eligibility_date")
        windows.append(
            (
                Rule.RETRO_60_CALENDAR_DAYS_AFTER_RETRO_ELIGIBILITY,
                _calendar_days_after(eligibility, 60),
            )
        )
    rule, ends_at = windows[0]
    for candidate_rule, candidate_end in windows[1:]:
        if candidate_end > ends_at:
            rule, ends_at = candidate_rule, candidate_end
    return LateCheck(late=received_utc > ends_at, rule=rule, window_ends_at=ends_at)


# --------------------------------------------------------------------------------------------
# Appeals and State Hearing


def appeal_filing_deadline(*, notice_date: date) -> Deadline:
    # 42 CFR 438.402(c)(2)(ii): the member may appeal within 60 calendar days of the notice.
    day = _pacific_date(notice_date, "notice_date")
    return Deadline(due_at=_calendar_days_after(day, 60), rule=Rule.APPEAL_FILING_60_CALENDAR_DAYS)


def appeal_resolution_deadline(*, received_at: datetime, expedited: bool) -> Deadline:
    received_utc = _require_aware(received_at, "received_at").astimezone(UTC)
    if expedited:
        # 42 CFR 438.408(b)(3): expedited resolution within 72 hours of receipt.
        return Deadline(due_at=_hours_after(received_utc, 72), rule=Rule.APPEAL_EXPEDITED_72_HOURS)
    # 42 CFR 438.408(b)(2): standard resolution within 30 calendar days of receipt.
    received_date = received_at.astimezone(PACIFIC).date()
    return Deadline(
        due_at=_calendar_days_after(received_date, 30),
        rule=Rule.APPEAL_STANDARD_30_CALENDAR_DAYS,
    )


def appeal_extension_cap(*, resolution_due_at: datetime) -> Deadline:
    # 42 CFR 438.408(c)(1): one extension of up to 14 calendar days, i.e. the end of the 14th
    # calendar day after the original due date (for standard and expedited alike).
    due_date = _require_aware(resolution_due_at, "resolution_due_at").astimezone(PACIFIC).date()
    return Deadline(
        due_at=_calendar_days_after(due_date, 14), rule=Rule.APPEAL_EXTENSION_14_CALENDAR_DAYS
    )


def state_hearing_deadline(*, resolution_date: date) -> Deadline:
    # 42 CFR 438.408(f)(2): a State Hearing may be requested within 120 calendar days of the
    # adverse appeal resolution notice.
    day = _pacific_date(resolution_date, "resolution_date")
    return Deadline(
        due_at=_calendar_days_after(day, 120), rule=Rule.STATE_HEARING_120_CALENDAR_DAYS
    )


# --------------------------------------------------------------------------------------------
# Independent Medical Review (003 G)


def imr_deadline(
    *,
    received_at: datetime,
    kind: str,
    extended: bool = False,
    calendar: BusinessCalendar,
) -> ImrDeadline:
    """When the IMRO's written determination is due, from the IMRO's receipt of the case.

    Business days count from the IMRO's true receipt date (no effective-receipt shift: that
    rule is 002's for the plan's own routine requests).
    """
    received_utc = _require_aware(received_at, "received_at").astimezone(UTC)
    imr_kind = _imr_kind(kind)
    if extended and imr_kind is not ImrKind.EXPEDITED:
        raise ClockError(
            ClockErrorCode.IMR_EXTENSION_NOT_ALLOWED, "only an expedited IMR can be extended"
        )

    if imr_kind is ImrKind.EXPEDITED:
        if extended:
            # 003 G.2.b: the plan may extend once, for an additional 24 hours.
            due = _hours_after(received_utc, 48)
            return ImrDeadline(due_at=due, target_at=due, rule=Rule.IMR_EXPEDITED_EXTENDED_48_HOURS)
        # 003 G.2.b: determination within 24 hours of the IMRO's receipt.
        due = _hours_after(received_utc, 24)
        return ImrDeadline(due_at=due, target_at=due, rule=Rule.IMR_EXPEDITED_24_HOURS)

    received_date = received_at.astimezone(PACIFIC).date()
    if imr_kind is ImrKind.RETROSPECTIVE:
        # 003 G.3: within five to seven business days: due the 7th, target the 5th.
        return ImrDeadline(
            due_at=_business_days_after(calendar, received_date, 7),
            target_at=_business_days_after(calendar, received_date, 5),
            rule=Rule.IMR_RETROSPECTIVE_7_BUSINESS_DAYS,
        )
    # 003 G.1: standard, within five business days of the IMRO's receipt.
    due = _business_days_after(calendar, received_date, 5)
    return ImrDeadline(due_at=due, target_at=due, rule=Rule.IMR_STANDARD_5_BUSINESS_DAYS)


# --------------------------------------------------------------------------------------------
# Appeal windows, expedited-appeal downgrades and reductions of authorized services
# (issue 11, appeals branch). Kept in their own section and rule enum so the notice clocks
# above change independently.


class AppealRule(StrEnum):
    # 42 CFR 438.402(c)(2)(ii): 60 calendar days from the date on the adverse notice
    APPEAL_60_DAYS_FROM_NOTICE_DATE = "appeal_60_days_from_notice_date"
    # The notice has not been printed yet: counted from the determination's own date, which
    # is never after the notice's (the member can only gain when the letter is made)
    APPEAL_60_DAYS_FROM_DETERMINATION = "appeal_60_days_from_determination"
    # PRODUCT §4: a deemed denial counts from the date the decision deadline passed
    APPEAL_60_DAYS_FROM_MISSED_DEADLINE = "appeal_60_days_from_missed_deadline"
    # 42 CFR 438.410(c)(1): a refused expedited appeal runs on the standard 30 days from receipt
    APPEAL_DOWNGRADED_30_CALENDAR_DAYS = "appeal_downgraded_30_calendar_days"
    # 42 CFR 438.410(c)(2): written notice of the downgrade within 2 calendar days
    APPEAL_DOWNGRADE_NOTICE_2_CALENDAR_DAYS = "appeal_downgrade_notice_2_calendar_days"
    # 42 CFR 431.211: mailed at least 10 calendar days before the reduction takes effect
    REDUCTION_NOTICE_10_DAYS_BEFORE_EFFECTIVE = "reduction_notice_10_days_before_effective"
    # 002 footnote; H&S 1367.01: mailed within 2 business days of the decision (when earlier)
    REDUCTION_NOTICE_2_BUSINESS_DAYS = "reduction_notice_2_business_days"
    # 42 CFR 438.420(a): continued benefits when the appeal is filed on or before the later of
    # 10 calendar days after the notice and the intended effective date
    CONTINUED_CARE_LATER_OF_10_DAYS_OR_EFFECTIVE = "continued_care_later_of_10_days_or_effective"


@dataclass(frozen=True, slots=True)
class RuledDeadline:
    due_at: datetime
    rule: AppealRule


def appeal_filing_window(
    *,
    notice_date: date | None = None,
    determination_date: date | None = None,
    deadline_missed_date: date | None = None,
) -> RuledDeadline:
    """The end of the member's 60-day appeal window (42 CFR 438.402(c)(2)(ii)): from the date
    on the notice when there is one (a corrected letter's date restarts it), else from the
    date the deadline passed for a deemed denial (PRODUCT §4), else from the determination."""
    if notice_date is not None:
        day, rule = (
            _pacific_date(notice_date, "notice_date"),
            AppealRule.APPEAL_60_DAYS_FROM_NOTICE_DATE,
        )
    elif deadline_missed_date is not None:
        day, rule = (
            _pacific_date(deadline_missed_date, "deadline_missed_date"),
            AppealRule.APPEAL_60_DAYS_FROM_MISSED_DEADLINE,
        )
    elif determination_date is not None:
        day, rule = (
            _pacific_date(determination_date, "determination_date"),
            AppealRule.APPEAL_60_DAYS_FROM_DETERMINATION,
        )
    else:
        raise ClockError(ClockErrorCode.INVALID_ARGUMENT, "the window needs a start date")
    return RuledDeadline(due_at=_calendar_days_after(day, 60), rule=rule)


def appeal_downgrade_deadlines(
    *, received_at: datetime, downgraded_at: datetime
) -> tuple[RuledDeadline, RuledDeadline]:
    """A refused request for an expedited appeal (42 CFR 438.410(c)): the appeal is resolved
    in the standard timeframe counted from its receipt (438.408(b)(2): 30 calendar days), and
    the member gets written notice within 2 calendar days of the downgrade (438.410(c)(2))."""
    received = _require_aware(received_at, "received_at").astimezone(PACIFIC).date()
    downgraded = _require_aware(downgraded_at, "downgraded_at").astimezone(PACIFIC).date()
    if downgraded < received:
        raise ClockError(ClockErrorCode.INVALID_ARGUMENT, "downgraded before it was received")
    return (
        RuledDeadline(
            due_at=_calendar_days_after(received, 30),
            rule=AppealRule.APPEAL_DOWNGRADED_30_CALENDAR_DAYS,
        ),
        RuledDeadline(
            due_at=_calendar_days_after(downgraded, 2),
            rule=AppealRule.APPEAL_DOWNGRADE_NOTICE_2_CALENDAR_DAYS,
        ),
    )


def reduction_earliest_effective_date(*, decided_at: datetime) -> date:
    """42 CFR 431.211: the notice is mailed at least 10 days before the date of action; a
    notice mailed the day of the decision allows a change from the 10th day after it."""
    return _require_aware(decided_at, "decided_at").astimezone(PACIFIC).date() + timedelta(days=10)


def reduction_notice_deadline(
    *, decided_at: datetime, effective_on: date, calendar: BusinessCalendar
) -> RuledDeadline:
    """When the member's notice of a reduction or termination of authorized services must be
    mailed: at least 10 calendar days before it takes effect (42 CFR 431.211) and within 2
    business days of the decision (002; H&S 1367.01), whichever is earlier."""
    decided = _require_aware(decided_at, "decided_at").astimezone(PACIFIC).date()
    effective = _pacific_date(effective_on, "effective_on")
    if effective < reduction_earliest_effective_date(decided_at=decided_at):
        raise ClockError(
            ClockErrorCode.INVALID_ARGUMENT,
            "a reduction takes effect at least 10 days after its notice (42 CFR 431.211)",
        )
    ten_before = _end_of_day(effective - timedelta(days=10))
    two_business = _business_days_after(calendar, decided, 2)
    if ten_before <= two_business:
        return RuledDeadline(ten_before, AppealRule.REDUCTION_NOTICE_10_DAYS_BEFORE_EFFECTIVE)
    return RuledDeadline(two_business, AppealRule.REDUCTION_NOTICE_2_BUSINESS_DAYS)


def continued_care_deadline(*, notice_date: date, effective_on: date) -> RuledDeadline:
    """42 CFR 438.420(a), (b): an appeal of a reduction or termination filed on or before the
    later of 10 calendar days after the notice and the intended effective date keeps the
    authorized services going until the appeal is resolved."""
    notice = _pacific_date(notice_date, "notice_date")
    effective = _pacific_date(effective_on, "effective_on")
    ends = max(_calendar_days_after(notice, 10), _end_of_day(effective))
    return RuledDeadline(ends, AppealRule.CONTINUED_CARE_LATER_OF_10_DAYS_OR_EFFECTIVE)
