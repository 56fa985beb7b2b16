"""Report periods in Pacific time (PRODUCT §4: times are stored in UTC and shown in Pacific;
§10: every figure is for a period in Pacific time).

A period is a half-open interval of instants [start, end): from 00:00 Pacific of its first day
to 00:00 Pacific of the day after its last, so a day of 23 or 25 hours (daylight saving) is
counted whole. Parsing a period from a query string answers a bad one with a 400 that names
the parameter, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from authorizations.clocks import PACIFIC
from tar_portal.errors import invalid

# The earliest and latest year a report may ask for: TAR numbers carry four digits, and a
# period before the product's first rules (2026) or far in the future has nothing to show.
MIN_YEAR = 2000
MAX_YEAR = 2100
# A period longer than this is refused: the dashboard's weekly trend and the CSVs are sized
# for a year or two, not a century.
MAX_DAYS = 3 * 366


def pacific_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PACIFIC)


def pacific_today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(PACIFIC).date()


@dataclass(frozen=True)
class Period:
    """The days `first` to `last` inclusive, in Pacific time."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return pacific_midnight(self.first)

    @property
    def end(self) -> datetime:
        return pacific_midnight(self.last + timedelta(days=1))

    def label(self) -> str:
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()} to {self.last.isoformat()}"

    def as_query(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def calendar_year(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31))


def year_is_open(year: int, now: datetime | None = None) -> bool:
    """The year has not ended yet in Pacific time: its figures are year to date."""
    return pacific_today(now).year <= year


def parse_year(raw: str | None, *, default: int | None = None, name: str = "year") -> int:
    if raw is None or raw == "":
        if default is None:
            raise invalid("Give the calendar year, for example year=2026.", **{name: "Required."})
        return default
    text = raw.strip()
    if not (text.isdigit() and len(text) == 4):
        raise invalid(
            f"{name} must be a four-digit calendar year, for example 2026.",
            **{name: "A four-digit year."},
        )
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise invalid(
            f"{name} must be between {MIN_YEAR} and {MAX_YEAR}.",
            **{name: f"Between {MIN_YEAR} and {MAX_YEAR}."},
        )
    return year


def _parse_day(raw: str, name: str) -> date:
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise invalid(
            f"{name} must be a date as YYYY-MM-DD.", **{name: "A date as YYYY-MM-DD."}
        ) from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise invalid(
            f"{name} must be between {MIN_YEAR} and {MAX_YEAR}.",
            **{name: f"Between {MIN_YEAR} and {MAX_YEAR}."},
        )
    return day


def parse_period(query, *, default: Period) -> Period:
    """The period of a report from `from` and `to` (YYYY-MM-DD, Pacific days, inclusive), or
    from `year`; `default` when none is given. A reversed or too long period is a 400."""
    raw_year = query.get("year")
    raw_from, raw_to = query.get("from") or "", query.get("to") or ""
    if raw_year and (raw_from or raw_to):
        raise invalid("Give either a year or from/to dates, not both.", year="Not with from/to.")
    if raw_year:
        return calendar_year(parse_year(raw_year))
    if not raw_from and not raw_to:
        return default
    first = _parse_day(raw_from, "from") if raw_from else default.first
    last = _parse_day(raw_to, "to") if raw_to else default.last
    if last < first:
        raise invalid(
            "The period ends before it starts: 'to' must be on or after 'from'.",
            to="On or after 'from'.",
        )
    if (last - first).days + 1 > MAX_DAYS:
        raise invalid(
            f"A report covers at most {MAX_DAYS} days; choose a shorter period.",
            to=f"At most {MAX_DAYS} days after 'from'.",
        )
    return Period(first, last)


def default_period(now: datetime | None = None) -> Period:
    """The dashboard's and the reports' default: this calendar year to date."""
    today = pacific_today(now)
    return Period(date(today.year, 1, 1), today)
