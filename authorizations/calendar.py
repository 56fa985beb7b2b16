"""The plan's business calendar: the `holidays` library's California list plus admin edits."""

from functools import lru_cache

from authorizations.clocks import BusinessCalendar
from authorizations.models import CalendarAdjustment, CalendarAdjustmentKind

# The years the business calendar knows; a clock outside them cannot be computed.
SUPPORTED_YEARS = range(2020, 2041)


@lru_cache(maxsize=8)
def _calendar_for(added: tuple, removed: tuple) -> BusinessCalendar:
    return BusinessCalendar.california(years=SUPPORTED_YEARS, added=added, removed=removed)


def plan_calendar() -> BusinessCalendar:
    """One small query per call; the calendar itself is built once per set of edits."""
    added: list = []
    removed: list = []
    for day, kind in CalendarAdjustment.objects.order_by("date").values_list("date", "kind"):
        (added if kind == CalendarAdjustmentKind.ADDED else removed).append(day)
    return _calendar_for(tuple(added), tuple(removed))
