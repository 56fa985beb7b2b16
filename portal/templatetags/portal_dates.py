"""One way to show a date or a time on every page (issue 15): "Tue, Dec 8, 2026, 11:59 PM PT",
a date alone "Tue, Dec 8, 2026", always in Pacific time (the plan's clocks run on it, PRODUCT
§3), in Spanish where the page is in Spanish ("mar, 8 dic 2026, 23:59 PT"). Letters have their
own wording (notifications)."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import formats, timezone, translation

from portal.presentation import PACIFIC

register = template.Library()


def _spanish() -> bool:
    return (translation.get_language() or "").startswith("es")


def _day(value: date) -> str:
    if _spanish():  # Spanish writes weekdays and months in lower case: "mar, 8 dic 2026"
        return formats.date_format(value, "D, j M Y").lower()
    return formats.date_format(value, "D, M j, Y")


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
        clock = formats.date_format(local, "H:i" if _spanish() else "g:i A")
        return f"{_day(local.date())}, {clock} PT"
    if isinstance(value, date):
        return _day(value)
    return ""
