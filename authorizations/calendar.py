"""The plan's business calendar: its holiday rows (PRODUCT §4; issue 11 row 17).

The clocks stay pure (authorizations/clocks.py takes a ``BusinessCalendar``); this module
builds that calendar from the plan's ``PlanHoliday`` rows once per process and per calendar
version. Every holiday edit bumps ``PlanCalendarVersion`` in its transaction, so the next
computation in any process sees it; between edits a call costs one indexed single-row read, or
none where a shared cache (Redis) holds the committed version (issue 16).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.db import transaction

from accounts.models import User
from authorizations.clocks import BusinessCalendar, ClockError, ClockErrorCode
from authorizations.models import (
    PlanCalendarVersion,
    PlanDataChangeAction,
    PlanHoliday,
    PlanHolidayChange,
)

# The years every installation's calendar covers at least (the seeded years); a year the UM
# manager adds holiday rows for extends it.
SUPPORTED_YEARS = range(2020, 2041)

# The seed, generated once from `holidays` 0.109 (US, subdiv CA) keeping only California's
# paid state holidays (Gov. Code 19853; CalHR): see the migration that loads it.
SEED_FILE = Path(__file__).with_name("migrations") / "plan_holidays_2020_2040.json"
SEED_SOURCE = "Gov. Code 19853; CalHR state holidays (seeded from holidays 0.109, US/CA)"


@dataclass(frozen=True)
class _Cached:
    version: str
    calendar: BusinessCalendar


_cache: _Cached | None = None
_lock = threading.Lock()


def _build() -> BusinessCalendar:
    days = list(PlanHoliday.objects.values_list("date", flat=True))
    if not days:
        raise ClockError(
            ClockErrorCode.OUTSIDE_CALENDAR,
            "the plan calendar has no holidays: load them (migration or seed_demo) first",
        )
    first_year = min(SUPPORTED_YEARS[0], min(days).year)
    last_year = max(SUPPORTED_YEARS[-1], max(days).year)
    return BusinessCalendar(holidays=frozenset(days), first_year=first_year, last_year=last_year)


def plan_calendar() -> BusinessCalendar:
    """The plan's calendar as of its current version (no query while the cached version holds)."""
    global _cache
    version = PlanCalendarVersion.current()
    cached = _cache
    if cached is not None and cached.version == version:
        return cached.calendar
    with _lock:
        cached = _cache
        if cached is None or cached.version != version:
            cached = _Cached(version=version, calendar=_build())
            _cache = cached
    return cached.calendar


def seed_holidays() -> list[dict[str, str]]:
    """The frozen seed rows (date, name)."""
    return json.loads(SEED_FILE.read_text(encoding="utf-8"))


def plan_holidays_seed() -> int:
    """Load the seed into an empty calendar (a fresh test database, ``seed_demo``); a
    calendar that has any row is the plan's and is left alone. Returns the rows created."""
    if PlanHoliday.objects.exists():
        return 0
    PlanHoliday.objects.bulk_create(
        PlanHoliday(date=date.fromisoformat(row["date"]), name=row["name"], source=SEED_SOURCE)
        for row in seed_holidays()
    )
    PlanCalendarVersion.bump()
    return PlanHoliday.objects.count()


def _snapshot(holiday: PlanHoliday) -> dict[str, Any]:
    return {"date": holiday.date.isoformat(), "name": holiday.name, "source": holiday.source}


def plan_holiday_save(*, holiday: PlanHoliday, user: User | None) -> PlanHoliday:
    """Add or change a holiday, with who changed what and when (the admin calls this)."""
    with transaction.atomic():
        before = None
        if holiday.pk is not None:
            old = PlanHoliday.objects.select_for_update().filter(pk=holiday.pk).first()
            before = _snapshot(old) if old is not None else None
        holiday.full_clean()
        holiday.save()
        PlanHolidayChange.objects.create(
            holiday_date=holiday.date,
            action=PlanDataChangeAction.CHANGED if before else PlanDataChangeAction.ADDED,
            before=before,
            after=_snapshot(holiday),
            changed_by=user,
        )
    return holiday


def plan_holiday_delete(*, holiday: PlanHoliday, user: User | None) -> None:
    with transaction.atomic():
        PlanHolidayChange.objects.create(
            holiday_date=holiday.date,
            action=PlanDataChangeAction.REMOVED,
            before=_snapshot(holiday),
            after=None,
            changed_by=user,
        )
        holiday.delete()
