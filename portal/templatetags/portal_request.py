"""How a request reads on the provider's pages (issue 15): places of service by their CMS name,
diagnoses with their ICD-10-CM titles, answers in the questionnaire's order."""

from __future__ import annotations

from typing import Any

from django import template

from authorizations.models import RequestType, Urgency
from portal import drafts

register = template.Library()

# CMS Place of Service code set (cms.gov, "Place of Service Code Set"): the official names of
# the codes the plan's pain-management services use (authorizations.models.PlaceOfService).
POS_NAMES = {
    "11": "Office",
    "12": "Home",
    "19": "Off Campus-Outpatient Hospital",
    "21": "Inpatient Hospital",
    "22": "On Campus-Outpatient Hospital",
    "24": "Ambulatory Surgical Center",
    "34": "Hospice",
}


@register.filter
def place_of_service(code: str) -> str:
    """'24' → 'Ambulatory Surgical Center (POS 24)'."""
    code = str(code or "")
    name = POS_NAMES.get(code)
    return f"{name} (POS {code})" if name else code


@register.filter
def diagnoses(codes: Any) -> list[tuple[str, str]]:
    """Each code with its ICD-10-CM title: [('M54.16', 'Radiculopathy, lumbar region')]."""
    return drafts.diagnosis_titles(codes)


@register.filter
def in_questionnaire_order(answers: dict[str, Any] | None) -> list[tuple[str, Any]]:
    return drafts.ordered_answers(answers)


@register.filter
def request_type_name(value: str) -> str:
    return str(dict(RequestType.choices).get(value, value))


@register.filter
def urgency_name(value: str) -> str:
    return str(dict(Urgency.choices).get(value, value))
