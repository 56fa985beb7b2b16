"""One way to show a date or a time on every page (issue 15): "Tue, Dec 8, 2026, 11:59 PM PT",
a date alone "Tue, Dec 8, 2026", always in Pacific time (the plan's clocks run on it, PRODUCT
§3), in Spanish where the page is in Spanish ("mar, 8 dic 2026, 23:59 PT"). Letters have their
own wording (notifications)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from django import template
from django.utils import formats, timezone, translation

from portal.presentation import PACIFIC

register = template.Library()


def _spanish() -> bool:
    return (translation.get_language() or "").startswith("es")


def _day(value: date) -> str:
    return _day_words(value, _spanish())


# A page shows the same few days and minutes many times (a queue of 50 rows, two times a
# row), and formatting one costs a translated weekday and month each time: remembered per
# language. Bounded: days and minutes of a few years at most.
@lru_cache(maxsize=8192)
def _day_words(value: date, spanish: bool) -> str:
    if spanish:  # Spanish writes weekdays and months in lower case: "mar, 8 dic 2026"
        return formats.date_format(value, "D, j M Y").lower()
    return formats.date_format(value, "D, M j, Y")


@lru_cache(maxsize=2048)
def _clock(hour: int, minute: int, spanish: bool) -> str:
    if spanish:
        return f"{hour:02d}:{minute:02d}"
    return f"{(hour % 12) or 12}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


@register.filter
def when(value: datetime | date | None, part: str = "") -> str:
    """A datetime as date and time in Pacific time, or only its Pacific date with `when:"date"`;
    a date as the date. Anything else (None, a string) shows nothing."""
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, PACIFIC)
        local = timezone.localtime(value, PACIFIC)
        if part == "date":
            return _day(local.date())
        spanish = _spanish()
        return (
            f"{_day_words(local.date(), spanish)}, {_clock(local.hour, local.minute, spanish)} PT"
        )
    if isinstance(value, date):
        return _day(value)
    return ""
