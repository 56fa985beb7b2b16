from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from django import template
from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import PLAN_STAFF_ROLES, Role
from appeals.machines import APPEAL, IMR, PEER_TO_PEER
from appeals.models import Appeal, ImrCase, PeerToPeer
from authorizations.history_audience import status_label
from authorizations.models import Tar
from authorizations.transitions import TAR
from authorizations.workflow import is_available
from portal import presentation
from portal.templatetags.portal_dates import when
from portal.views.common import tar_url_for

register = template.Library()


def _local(value: datetime) -> datetime:
    return timezone.localtime(value, presentation.PACIFIC)


@register.filter
def pacific(value: datetime | None) -> str:
    """Date and time in Pacific time: the one format of every page (portal_dates.when)."""
    return when(value) if isinstance(value, datetime) else ""


@register.filter
def pacific_date(value: datetime | date | None) -> str:
    """The Pacific date: the one format of every page (portal_dates.when)."""
    return when(value, "date")


@register.filter
def pacific_input(value: datetime | None) -> str:
    """A datetime-local input value in Pacific time."""
    if not isinstance(value, datetime):
        return ""
    return _local(value).strftime("%Y-%m-%dT%H:%M")


@register.filter
def iso(value: datetime | None) -> str:
    return value.isoformat() if isinstance(value, datetime) else ""


@register.simple_tag
def due_badge(tar) -> str:
    """The deadline band in colour and in words; portal.js keeps it counting down. A simple
    tag (not an inclusion template): the queue draws one per row."""
    state = presentation.due_state(
        tar.decision_due_at, timezone.now(), breached_at=tar.breached_at, is_open=tar.is_open
    )
    if state.level == "done":
        return format_html(
            '<span class="due due-done"><span class="due-label">{}</span></span>', state.label
        )
    return format_html(
        '<span class="due due-{}" data-due="{}"{}><span class="due-label">{}</span>'
        '<span class="due-remaining">, {}</span></span>',
        state.level,
        tar.decision_due_at.isoformat(),
        mark_safe(' data-breached="1"') if tar.breached_at else "",
        state.label,
        state.remaining,
    )


@register.inclusion_tag("portal/_field.html")
def field(bound_field, hint: str = "") -> dict[str, Any]:
    if bound_field.errors and not bound_field.use_fieldset:
        # The field's error is read with it by screen readers, beside its hint (issue 15).
        described = [f"{bound_field.auto_id}_helptext"] if bound_field.help_text else []
        attrs = bound_field.field.widget.attrs
        attrs["aria-describedby"] = " ".join([*described, f"{bound_field.auto_id}_error"])
        attrs["aria-invalid"] = "true"
    return {"field": bound_field, "extra_hint": hint}


@register.inclusion_tag("portal/_errors.html")
def error_summary(*forms, error=None) -> dict[str, Any]:
    """An error summary with links to each field at fault (GOV.UK pattern)."""
    items: list[tuple[str, str]] = []
    for form in forms:
        if form is None or not form.is_bound:
            continue
        for name, errors in form.errors.items():
            if name == "__all__":
                items.extend(("", str(message)) for message in errors)
                continue
            bound = form[name]
            anchor = bound.auto_id
            if bound.field.widget.use_fieldset:
                anchor = f"{bound.auto_id}_0"
            items.extend((f"#{anchor}", f"{bound.label}: {message}") for message in errors)
    message = getattr(error, "message", error) if error else ""
    return {"items": items, "message": message}


@register.filter
def answer_text(value: Any, key: str) -> str:
    return presentation.answer_text(key, value)


@register.filter
def question_label(key: str) -> str:
    return presentation.question_label(key)


@register.filter
def plain_status(status: str) -> str:
    """A request's status in words for providers (never the code, e.g. `in_review`)."""

    return status_label(status)


@register.filter
def member_status(status: str) -> str:
    return str(presentation.MEMBER_STATUS.get(status, status))


@register.filter
def family_label(family: str) -> str:
    return str(presentation.FAMILY_LABELS.get(family, family))


@register.filter
def line_outcome(outcome: str) -> str:
    return str(presentation.LINE_OUTCOMES.get(outcome, outcome))


@register.filter
def notice_kind(kind: str) -> str:
    return str(presentation.NOTICE_KINDS.get(kind, kind.replace("_", " ")))


@register.filter
def notice_status(status: str) -> str:
    return str(presentation.NOTICE_STATUS.get(status, status))


@register.filter
def result_text(result: str) -> str:
    return {"met": "Met", "not_met": "Not met", "unknown": "Unknown (answer missing)"}.get(
        result, result
    )


@register.simple_tag(takes_context=True)
def tar_url(context, tar) -> str:
    return tar_url_for(context["request"].user, tar)


@register.simple_tag
def plan_name() -> str:
    return settings.PLAN_NAME


@register.simple_tag
def plan_phone(which: str = "member") -> str:
    return settings.PLAN_MEMBER_SERVICES_PHONE if which == "member" else settings.PLAN_UM_PHONE


@register.inclusion_tag("portal/_nav.html", takes_context=True)
def portal_nav(context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    links: list[tuple[str, str]] = []
    if user is not None and user.is_authenticated:
        if user.role == Role.PROVIDER:
            links = [
                ("portal:provider-dashboard", _("Requests")),
                ("portal:provider-appeals", _("Appeals and talks")),
                ("portal:provider-referrals", _("Referrals")),
            ]
        elif user.role == Role.MANAGER:
            links = [
                ("reports:dashboard", _("Dashboard")),
                ("portal:review-queue", _("Review queue")),
                ("portal:imr-list", _("IMR tracking")),
                ("reports:irr", _("IRR audits")),
            ]
        elif user.role == Role.NURSE:
            links = [
                ("portal:review-queue", _("Review queue")),
                ("portal:imr-list", _("IMR tracking")),
                ("reports:irr-my-cases", _("IRR cases")),
            ]
        elif user.role == Role.PHYSICIAN:
            links = [
                ("portal:physician-queue", _("Referred cases")),
                ("portal:physician-appeals", _("Appeals")),
                ("portal:physician-peer-to-peer-list", _("Peer-to-peer")),
                ("portal:imr-list", _("IMR tracking")),
                ("reports:irr-my-cases", _("IRR cases")),
            ]
        elif user.role == Role.MEMBER:
            links = [
                ("portal:member-home", _("My requests")),
                ("portal:member-appeals", _("My appeals")),
                ("portal:grievances", _("My grievances")),
            ]
        elif user.role == Role.INTAKE:
            links = [
                ("portal:intake-home", _("Intake entries")),
                ("portal:intake-new", _("New intake entry")),
                ("portal:imr-list", _("IMR tracking")),
            ]
        elif user.role == Role.MEMBER_SERVICES:
            links = [
                ("portal:member-services-home", _("Find a member")),
                ("portal:grievances", _("Grievances")),
                ("portal:imr-list", _("IMR tracking")),
            ]
        elif user.role == Role.GRIEVANCE_COORDINATOR:
            links = [
                ("portal:grievances", _("Grievance queue")),
                ("portal:grievance-new", _("Enter a grievance")),
            ]
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    return {
        "request": request,
        "user": user,
        "links": links,
        "current": current,
        "is_staff_role": user is not None and getattr(user, "role", None) in PLAN_STAFF_ROLES,
        "LANGUAGES": settings.LANGUAGES,
    }


@register.filter
def get_item(mapping: dict, key: Any) -> Any:
    if isinstance(mapping, dict):
        return mapping.get(key)
    return None


@register.simple_tag
def join_codes(lines) -> str:
    return ", ".join(line.code for line in lines)


@register.filter
def filesize(value: int) -> str:
    value = int(value or 0)
    if value >= 1024 * 1024:
        return f"{value / (1024 * 1024):.1f} MB"
    if value >= 1024:
        return f"{value // 1024} KB"
    return f"{value} bytes"


_MACHINES = {Tar: TAR, Appeal: APPEAL, PeerToPeer: PEER_TO_PEER, ImrCase: IMR}


@register.simple_tag(takes_context=True)
def can(context, record, action: str) -> bool:
    """`{% can tar "claim" as may_claim %}`: whether the workflow machine offers the signed-in
    user this action on this record now, so a page shows only controls that can succeed."""
    user = context["request"].user
    return is_available(_MACHINES[type(record)], record, user, action)


@register.filter
def age(value: datetime | None) -> str:
    """How long ago, short: '3 d 4 h' (the queue's age column)."""
    if not isinstance(value, datetime):
        return ""
    return presentation.span_text(timezone.now() - value)


@register.filter
def short_due(value: datetime | None) -> str:
    """A deadline on one line of a compact row: 'Tue Dec 8, 11:59 PM'."""
    if not isinstance(value, datetime):
        return ""
    local = _local(value)
    return _short_due_words(
        local.replace(second=0, microsecond=0, tzinfo=None), translation.get_language()
    )


# Remembered per minute and language, like portal_dates: a queue repeats them row after row.
@lru_cache(maxsize=8192)
def _short_due_words(minute: datetime, language: str | None) -> str:
    return formats.date_format(minute, "D M j, g:i A")


@register.filter(name="rule_words")
def rule_words_filter(rule: str) -> str:
    return presentation.rule_words(rule)


@register.simple_tag
def criterion_words(evaluation: dict, criterion: dict, reader: str = "staff") -> str:
    """A stored criterion result in the reader's words (issue 15): `{% criterion_words ev c %}`
    on staff screens, `... "provider" %}` on provider screens."""
    evaluation = evaluation or {}
    return presentation.criterion_words(
        evaluation.get("criteria_set"),
        evaluation.get("version"),
        criterion.get("number"),
        criterion.get("text", ""),
        reader,
    )


@register.simple_tag
def citation_text(ref: dict, reader: str = "staff") -> str:
    """A decision's cited criterion (`{"criteria_set", "version", "number", "text"}`) in the
    reader's words."""
    return presentation.criterion_words(
        ref.get("criteria_set"), ref.get("version"), ref.get("number"), ref.get("text", ""), reader
    )


@register.filter
def criteria_set_words(set_id: str, version: str | None = None) -> str:
    return presentation.criteria_set_words(set_id, version)


@register.filter
def citation_words(ref: dict) -> str:
    return presentation.citation_words(ref)


@register.filter
def family_words(family: str) -> str:
    """A procedure family for staff ('Facet medial branch block'), never the id."""
    return presentation.family_words(family)


@register.filter
def staff_status(status: str) -> str:
    """A request status for staff ('Referred to physician'), never the id ('referred')."""
    return presentation.staff_status(status)
