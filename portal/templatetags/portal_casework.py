"""Template filters and tags of the appeal, peer-to-peer, IMR, intake and member-services pages:
the member's words for an appeal (English or Spanish) and a deadline band for any clock."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from portal import presentation
from portal.templatetags.portal import pacific

register = template.Library()

# Members read these in English or Spanish (PRODUCT §3 written language).
MEMBER_APPEAL_STATUS = {
    "received": _("Received; a doctor who was not part of the first decision is reviewing it"),
    "exhausted": _("Not decided in time: you may ask for a State Hearing now"),
    "resolved": _("Decided"),
    "withdrawn": _("Withdrawn"),
}
MEMBER_APPEAL_OUTCOME = {
    "upheld": _("The decision stays the same"),
    "overturned": _("The decision was changed: approved"),
    "partially_overturned": _("The decision was partly changed: approved in part"),
}


@register.filter
def member_appeal_status(status: str) -> str:
    return str(MEMBER_APPEAL_STATUS.get(status, status))


@register.filter
def member_appeal_outcome(outcome: str) -> str:
    return str(MEMBER_APPEAL_OUTCOME.get(outcome, outcome))


@register.simple_tag
def deadline_badge(due_at: datetime | None, is_open: bool = True, late: bool = False) -> str:
    """The queue's colour bands for any deadline (appeal resolution, IMR determination), in
    colour and in words; portal.js keeps it counting down."""
    if not isinstance(due_at, datetime):
        return ""
    state = presentation.due_state(
        due_at, timezone.now(), breached_at=due_at if late else None, is_open=is_open
    )
    if state.level == "done":
        return format_html(
            '<span class="due due-done"><span class="due-label">{}</span></span>', "Closed"
        )
    return format_html(
        '<span class="due due-{}" data-due="{}"{}><span class="due-label">{}</span>'
        '<span class="due-remaining">, {}</span></span>',
        state.level,
        due_at.isoformat(),
        mark_safe(' data-breached="1"') if late else "",
        state.label,
        state.remaining,
    )


@register.filter
def pacific_iso(value: str) -> str:
    """An ISO date-time stored as text (a talk's proposed times) in Pacific time."""
    try:
        parsed = parse_datetime(str(value or ""))
    except ValueError:
        parsed = None
    return pacific(parsed) if parsed is not None else str(value or "")
