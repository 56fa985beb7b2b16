"""How things are shown: Pacific times, the countdown to a decision deadline, plain-language
labels (translated for members). Pure functions; no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from authorizations.models import TarStatus
from criteria import catalog
from criteria.engine import CriteriaError

PACIFIC = ZoneInfo("America/Los_Angeles")
FOUR_HOURS = timedelta(hours=4)
ONE_DAY = timedelta(hours=24)


@dataclass(frozen=True)
class DueState:
    level: str  # "ok", "day", "hours", "breached", "done"
    label: str  # the words shown with the colour (never colour alone)
    remaining: str


def span_text(delta: timedelta) -> str:
    """A short duration: '2 d 5 h', '3 h 12 min', '8 min'."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def due_state(due_at: datetime, now: datetime, *, breached_at=None, is_open=True) -> DueState:
    """The queue colour bands: under 24 hours, under 4 hours, breached (PRODUCT §4)."""
    if not is_open:
        return DueState("done", "Decided", "")
    remaining = due_at - now
    if breached_at is not None or remaining <= timedelta(0):
        return DueState("breached", "Breached", f"overdue by {span_text(-remaining)}")
    text = f"due in {span_text(remaining)}"
    if remaining < FOUR_HOURS:
        return DueState("hours", "Under 4 hours", text)
    if remaining < ONE_DAY:
        return DueState("day", "Under 24 hours", text)
    return DueState("ok", "On time", text)


def answer_text(key: str, value: Any) -> str:
    """A §6 answer in words, with the catalogue's choice labels."""
    question = catalog.QUESTIONS.get(key) or {}
    labels = question.get("choice_labels") or {}
    if value is None:
        return "Not answered"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        if not value:
            return "None"
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


# Facts the criteria engine adds beside the provider's answers.
_ENGINE_FACTS = {"plan_prior_sessions": "Sessions the plan approved in the last 12 months"}


def question_label(key: str) -> str:
    question = catalog.QUESTIONS.get(key)
    return question["label"] if question else _ENGINE_FACTS.get(key, key)


# Members read these in English or Spanish (PRODUCT §3 written language).
MEMBER_STATUS = {
    "submitted": _("Received, waiting for review"),
    "in_review": _("Being reviewed by a nurse"),
    "pended": _("Waiting for information from your provider"),
    "referred": _("Being reviewed by a doctor"),
    "approved": _("Approved"),
    "modified": _("Approved with changes"),
    "denied": _("Denied"),
    "closed": _("Closed"),
    "withdrawn": _("Withdrawn by your provider"),
}
FAMILY_LABELS = {
    "esi": _("Epidural steroid injection"),
    "facet_mbb": _("Facet joint nerve block"),
    "facet_rfa": _("Facet joint nerve ablation"),
    "scs": _("Spinal cord stimulator"),
    "pump": _("Pain medicine pump"),
}
LINE_OUTCOMES = {
    "pending": _("Not decided yet"),
    "approved": _("Approved"),
    "modified": _("Approved with changes"),
    "denied": _("Denied"),
    "closed": _("Closed"),
}
NOTICE_KINDS = {
    "approval": _("Approval notice"),
    "modification": _("Notice of a change to your request"),
    "denial": _("Denial notice"),
    "delay": _("Notice of a delay"),
    "information_request": _("Request for information"),
    "untimely": _("Notice of a late decision"),
    "closure": _("Closure notice"),
    "appeal_resolution": _("Appeal decision"),
    "imr_outcome": _("Independent medical review result"),
    "criteria_copy": _("Copy of the criteria used"),
}
NOTICE_STATUS = {
    "owed": _("On its way"),
    "sent": _("Sent"),
    "failed": _("Not delivered yet; we are working on it"),
}


# Clock rules in words for staff pages (issue 15: staff never see ids such as
# `routine_5_business_days`). The ids are the clocks' (authorizations/clocks.py, PRODUCT §4);
# one not listed here is still shown in words by `rule_words`.
RULE_WORDS = {
    "routine_5_business_days": "routine request: 5 business days from receipt",
    "routine_7_calendar_days": "routine request: 7 calendar days from receipt",
    "urgent_72_hours": "urgent request: 72 hours from receipt",
    "routine_extension_twice_21_calendar_days": (
        "routine request: may be extended twice, to 21 calendar days at most"
    ),
    "urgent_extension_once_14_calendar_days": (
        "urgent request: may be extended once, by 14 calendar days at most"
    ),
    "post_service_30_calendar_days": "post-service request: 30 calendar days from receipt",
    "post_service_no_extension": "post-service request: no extension",
    "retro_15_business_days_after_service": "retroactive: within 15 business days of service",
    "retro_60_calendar_days_after_primary_denial": (
        "retroactive: within 60 calendar days of the primary insurer's denial"
    ),
    "retro_60_calendar_days_after_retro_eligibility": (
        "retroactive: within 60 calendar days of retroactive eligibility"
    ),
    "appeal_standard_30_calendar_days": "standard appeal: 30 calendar days",
    "appeal_expedited_72_hours": "expedited appeal: 72 hours",
    "appeal_extension_14_calendar_days": "appeal extension: 14 calendar days",
    "imr_standard_5_business_days": "independent medical review: 5 business days",
    "imr_retrospective_7_business_days": (
        "retrospective independent medical review: 7 business days"
    ),
    "imr_expedited_24_hours": "expedited independent medical review: 24 hours",
    "imr_expedited_extended_48_hours": "expedited independent medical review, extended: 48 hours",
}


def rule_words(rule: str) -> str:
    """A clock rule id in words: the table above, else the id's words ('state hearing 120
    calendar days')."""
    if not rule:
        return ""
    return RULE_WORDS.get(rule) or rule.replace("_", " ").replace(" imr ", " IMR ")


def criterion_words(
    set_id: str | None, version: str | None, number: Any, fallback: str = "", reader="staff"
) -> str:
    """A stored criterion result or citation in the reader's words (issue 15: staff and
    provider screens show the clinical wording, member screens the member's). A set version
    the catalogue does not ship (drafted by the plan) keeps the text stored with it."""
    try:
        return catalog.criterion_text(f"{set_id}:{version}:{int(number)}", reader)
    except (CriteriaError, TypeError, ValueError):
        return fallback


def criteria_set_words(set_id: str | None, version: str | None = None) -> str:
    """'Epidural steroid injection 2026.1', never the id 'esi'."""
    title = catalog.criteria_set_title(set_id)
    return f"{title} {version}" if title and version else title


def citation_words(ref: dict[str, Any]) -> str:
    """A decision's criteria citation for staff: 'Epidural steroid injection 2026.1,
    criterion 3' (the stored ref is 'esi:2026.1:3')."""
    return (
        f"{criteria_set_words(ref.get('criteria_set'), ref.get('version'))}, "
        f"criterion {ref.get('number')}"
    )


def family_words(family: str | None) -> str:
    """A procedure family in the catalogue's words (PRODUCT §5), for staff."""
    if not family:
        return ""
    return catalog.FAMILIES.get(family) or family.replace("_", " ")


def staff_status(status: str | None) -> str:
    if not status:
        return ""
    try:
        return str(TarStatus(status).label)
    except ValueError:
        return status.replace("_", " ")
