"""CRD: the CDS Hooks coverage-requirements service (PRODUCT §5, §11; Da Vinci CRD 2.0).

For each ServiceRequest or DeviceRequest draft of an `order-select` or `order-sign` call the
answer is what `criteria.pa_list.coverage_lookup` says for its code and date (the plan's
prior-authorization list and coverage rules; one lookup, never a copy of it): a card in plain
words, and the order back as a system action carrying the coverage-information extension
(covered, pa-needed, doc-needed, doc-purpose, the DTR questionnaire to fill).

Member facts (eligibility, hospice, terminal condition, cancer: PRODUCT §5) are used only
when the caller is authenticated and may see the member (authorizations.selectors); otherwise
the answer is the code's alone, marked conditional, and says the exemptions were not checked.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from criteria import catalog
from criteria.coverage import Coverage, CoverageStatus, MemberFacts
from criteria.engine import CriteriaError, normalize_code
from criteria.pa_list import coverage_lookup
from fhir.dtr import questionnaire_url

__all__ = [
    "COVERAGE_INFORMATION",
    "SERVICES",
    "CrdError",
    "discovery",
    "hook_response",
]

COVERAGE_INFORMATION = (
    "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
)
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = (
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "urn:oid:2.16.840.1.113883.6.285",
)
ORDER_TYPES = ("ServiceRequest", "DeviceRequest")


@dataclass(frozen=True)
class Service:
    id: str
    hook: str
    title: str
    description: str


SERVICES: dict[str, Service] = {
    s.id: s
    for s in (
        Service(
            "tar-order-select",
            "order-select",
            "Is a TAR needed? (order select)",
            "Tells whether the plan needs a Treatment Authorization Request for a selected "
            "pain-management order, and which questionnaire to fill.",
        ),
        Service(
            "tar-order-sign",
            "order-sign",
            "Is a TAR needed? (order sign)",
            "Tells whether the plan needs a Treatment Authorization Request for each order "
            "being signed, and which questionnaire to fill.",
        ),
    )
}
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "coverage": "Coverage?patient={{context.patientId}}&status=active",
}


class CrdError(ValueError):
    """A hook call that cannot be answered (400), in plain words."""


def discovery() -> dict[str, Any]:
    return {
        "services": [
            {
                "hook": s.hook,
                "id": s.id,
                "title": s.title,
                "description": s.description,
                "prefetch": PREFETCH,
            }
            for s in SERVICES.values()
        ]
    }


# --------------------------------------------------------------------------------------------


def order_code(order: Mapping[str, Any]) -> str | None:
    concept = order.get("code") if order["resourceType"] == "ServiceRequest" else None
    if order["resourceType"] == "DeviceRequest":
        concept = order.get("codeCodeableConcept")
    codings = concept.get("coding") if isinstance(concept, Mapping) else None
    if not isinstance(codings, list):
        return None
    # CPT or HCPCS first; any other coding only if it reads as one.
    ranked = sorted(
        (c for c in codings if isinstance(c, Mapping) and isinstance(c.get("code"), str)),
        key=lambda c: 0 if c.get("system") in (CPT, *HCPCS) else 1,
    )
    for coding in ranked:
        try:
            return normalize_code(coding["code"])
        except CriteriaError:
            continue
    return None


def order_date(order: Mapping[str, Any], today: date) -> date:
    for value in (
        order.get("occurrenceDateTime"),
        (order.get("occurrencePeriod") or {}).get("start")
        if isinstance(order.get("occurrencePeriod"), Mapping)
        else None,
        order.get("authoredOn"),
    ):
        if isinstance(value, str):
            day = parse_date(value[:10])
            if day is None and parse_datetime(value) is not None:
                day = parse_datetime(value).date()  # type: ignore[union-attr]
            if day is not None:
                return day
    return today


def _draft_orders(context: Mapping[str, Any], hook: str) -> list[dict[str, Any]]:
    bundle = context.get("draftOrders")
    if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
        raise CrdError("context.draftOrders must be a Bundle of the draft orders.")
    orders = [
        entry["resource"]
        for entry in bundle.get("entry") or []
        if isinstance(entry, Mapping)
        and isinstance(entry.get("resource"), Mapping)
        and entry["resource"].get("resourceType") in ORDER_TYPES
    ]
    if hook == "order-select":
        selections = context.get("selections")
        if not isinstance(selections, list) or not selections:
            raise CrdError("order-select needs context.selections (the selected orders).")
        orders = [o for o in orders if f"{o['resourceType']}/{o.get('id')}" in selections]
    if not orders:
        raise CrdError("No ServiceRequest or DeviceRequest among the draft orders.")
    return orders


def _coverage_ref(prefetch: Mapping[str, Any]) -> str | None:
    coverage = prefetch.get("coverage")
    if isinstance(coverage, Mapping) and coverage.get("resourceType") == "Bundle":
        for entry in coverage.get("entry") or []:
            resource = entry.get("resource") if isinstance(entry, Mapping) else None
            if isinstance(resource, Mapping) and resource.get("resourceType") == "Coverage":
                coverage = resource
                break
    if isinstance(coverage, Mapping) and coverage.get("resourceType") == "Coverage":
        return f"Coverage/{coverage.get('id')}" if coverage.get("id") else None
    return None


def _questionnaires(code: str, coverage: Coverage) -> list[str]:
    """The questionnaire of the set that answers, and of the other set a code may serve
    (62322-62323 as a pump trial, 63650 as a permanent SCS: PRODUCT §5)."""
    if coverage.criteria_set is None:
        return []
    urls = [f"{questionnaire_url(coverage.criteria_set)}|{coverage.criteria_set_version}"]
    entry = next(
        (e for e in catalog.CODE_RANGES if e["first"] <= code <= e["last"] and len(code) == 5),
        None,
    )
    for other in (entry or {}).get("also", []):
        urls.append(f"{questionnaire_url(other)}|{catalog.CRITERIA_SETS[other]['version']}")
    return urls


def _extension(
    coverage: Coverage, questionnaires: list[str], coverage_ref: str | None, day: date, known: bool
) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if coverage_ref:
        parts.append({"url": "coverage", "valueReference": {"reference": coverage_ref}})
    if coverage.status == CoverageStatus.NOT_COVERED:
        parts.append({"url": "covered", "valueCode": "not-covered"})
    else:
        # Without member facts eligibility was not checked: covered only if eligible.
        parts.append({"url": "covered", "valueCode": "covered" if known else "conditional"})
        if coverage.tar_required:
            parts.append({"url": "pa-needed", "valueCode": "auth-needed"})
            parts.append({"url": "doc-needed", "valueCode": "clinical"})
            parts.append({"url": "doc-purpose", "valueCode": "withpa"})
        else:
            parts.append({"url": "pa-needed", "valueCode": "no-auth"})
    for url in questionnaires:
        parts.append({"url": "questionnaire", "valueCanonical": url})
    parts.append({"url": "date", "valueDate": day.isoformat()})
    parts.append({"url": "coverage-assertion-id", "valueString": str(uuid.uuid4())})
    return {"url": COVERAGE_INFORMATION, "extension": parts}


def _summary(coverage: Coverage, code: str, what: str) -> str:
    if coverage.status == CoverageStatus.NOT_COVERED:
        text = f"Not covered on this date: {what} ({code})"
    elif coverage.tar_required:
        text = f"TAR needed: {what} ({code})"
    else:
        text = f"No TAR needed: {what} ({code})"
    return text[:140]  # CDS Hooks: summary under 140 characters


def _what(code: str) -> str:
    family = catalog.family_for_code(code) if code else None
    return catalog.FAMILIES.get(family or "", "this service")


def hook_response(
    *,
    service_id: str,
    body: Any,
    member_facts: Callable[[Mapping[str, Any], date], MemberFacts | None],
    today: date,
) -> dict[str, Any]:
    """The CDS Hooks response for one call. `member_facts(prefetch, day)` gives the member's
    facts when the caller may see them, else None. Raises CrdError for a malformed call."""
    service = SERVICES[service_id]
    if not isinstance(body, Mapping):
        raise CrdError("The body must be a CDS Hooks request object.")
    if body.get("hook") != service.hook:
        raise CrdError(f"This service answers the {service.hook} hook.")
    if not isinstance(body.get("hookInstance"), str):
        raise CrdError("hookInstance is required.")
    context = body.get("context")
    if not isinstance(context, Mapping):
        raise CrdError("context is required.")
    given = body.get("prefetch")
    prefetch: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    coverage_ref = _coverage_ref(prefetch)
    cards: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for order in _draft_orders(context, service.hook):
        code = order_code(order)
        kind = f"{order['resourceType']}/{order.get('id', '')}"
        if code is None:
            cards.append(
                {
                    "uuid": str(uuid.uuid4()),
                    "summary": "No CPT or HCPCS code on this order: coverage not checked",
                    "indicator": "warning",
                    "detail": f"{kind} carries no CPT or HCPCS code the plan can look up.",
                    "source": {"label": "Plan utilization management"},
                }
            )
            continue
        day = order_date(order, today)
        facts = member_facts(prefetch, day)
        coverage = coverage_lookup(code=code, service_date=day, member=facts)
        questionnaires = _questionnaires(code, coverage)
        detail = [coverage.reason, f"Rule: {coverage.source}."]
        detail += [f"Required: {r}." for r in coverage.requirements]
        if questionnaires:
            detail.append(
                "Fill the plan's questionnaire (DTR) and send it with the request: "
                + ", ".join(questionnaires)
            )
        cards.append(
            {
                "uuid": str(uuid.uuid4()),
                "summary": _summary(coverage, code, _what(code)),
                "indicator": "info" if coverage.status != CoverageStatus.NOT_COVERED else "warning",
                "detail": " ".join(detail),
                "source": {
                    "label": "Plan utilization management",
                    "topic": {"code": coverage.rule.value},
                },
            }
        )
        updated = dict(order)
        updated["extension"] = [
            e
            for e in (order.get("extension") or [])
            if not (isinstance(e, Mapping) and e.get("url") == COVERAGE_INFORMATION)
        ] + [_extension(coverage, questionnaires, coverage_ref, today, facts is not None)]
        actions.append(
            {
                "type": "update",
                "description": f"Coverage information for {kind}",
                "resource": updated,
            }
        )
    return {"cards": cards, "systemActions": actions}
