"""CDS Hooks (CRD) and the DTR $questionnaire-package operation (PRODUCT §11). Thin views:
fhir.crd and fhir.dtr hold the rules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from authorizations import selectors
from criteria.coverage import MemberFacts
from criteria.engine import CriteriaError
from criteria.pa_list import coverage_lookup
from fhir import crd, dtr, smart
from fhir.auth_http import FhirError, fhir_response
from members.validators import validate_cin
from tar_portal.errors import DomainError


def _body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    """GET /cds-services"""
    return JsonResponse(crd.discovery())


def _service_urls(request: HttpRequest, service_id: str) -> tuple[str, ...]:
    """The addresses of this service a hook JWT's aud may name: as this request reached it,
    and as the configured public base URL names it."""
    path = reverse("fhir:cds-service", args=[service_id])
    return (
        request.build_absolute_uri(path),
        settings.PORTAL_BASE_URL.rstrip("/") + path,
    )


def _cins(prefetch: Mapping[str, Any]) -> list[str]:
    """Candidate CINs: the Patient's identifiers and the Coverage's subscriberId."""
    values: list[str] = []
    patient = prefetch.get("patient")
    if isinstance(patient, Mapping):
        for identifier in patient.get("identifier") or []:
            if isinstance(identifier, Mapping) and isinstance(identifier.get("value"), str):
                values.append(identifier["value"])
    coverage = prefetch.get("coverage")
    resources = [coverage] if isinstance(coverage, Mapping) else []
    if isinstance(coverage, Mapping) and coverage.get("resourceType") == "Bundle":
        resources = [
            e.get("resource") for e in coverage.get("entry") or [] if isinstance(e, Mapping)
        ]
    for resource in resources:
        if isinstance(resource, Mapping) and isinstance(resource.get("subscriberId"), str):
            values.append(resource["subscriberId"])
    cins = []
    for value in values:
        try:
            validate_cin(value.strip().upper())
        except Exception:  # noqa: S112 - not a CIN: try the next identifier
            continue
        cins.append(value.strip().upper())
    return cins


@csrf_exempt
@require_POST
def service(request: HttpRequest, service_id: str) -> JsonResponse:
    """POST /cds-services/{id}"""
    if service_id not in crd.SERVICES:
        return JsonResponse({"error": "not_found", "message": "No such CDS service."}, status=404)
    try:
        caller = smart.cds_caller(request, service_urls=_service_urls(request, service_id))
    except smart.SmartError as exc:
        # CDS Hooks 2.0: a call whose JWT does not verify is refused with 401.
        response = JsonResponse({"error": exc.error, "message": exc.description}, status=401)
        response["WWW-Authenticate"] = smart.www_authenticate(exc)
        return response

    def member_facts(prefetch: Mapping[str, Any], day: date) -> MemberFacts | None:
        for cin in _cins(prefetch):
            try:
                member = selectors.member_get(user=caller.user, cin=cin)
            except DomainError:
                continue  # not a member this caller may see: the code's answer only
            return MemberFacts(
                eligible_on_date=member.is_eligible_on(day),
                hospice=member.hospice,
                terminal_condition=member.terminal_condition,
                cancer=member.cancer_diagnosis,
            )
        return None

    try:
        body = crd.hook_response(
            service_id=service_id,
            body=_body(request),
            member_facts=member_facts,
            today=timezone.localdate(),
        )
    except crd.CrdError as exc:
        return JsonResponse({"error": "invalid_request", "message": str(exc)}, status=400)
    return JsonResponse(body)


# --------------------------------------------------------------------------------------------
# DTR


def _parameters(body: Any) -> list[Mapping[str, Any]]:
    if not isinstance(body, Mapping) or body.get("resourceType") != "Parameters":
        raise FhirError(400, "invalid", "Send a Parameters resource.")
    parameters = body.get("parameter") or []
    if not isinstance(parameters, list):
        raise FhirError(400, "invalid", "Parameters.parameter must be a list.")
    return [p for p in parameters if isinstance(p, Mapping)]


def _sets_for_orders(orders: list[Mapping[str, Any]], today: date) -> list[str]:
    sets: list[str] = []
    for order in orders:
        code = crd.order_code(order)
        if code is None:
            raise FhirError(400, "invalid", "An order carries no CPT or HCPCS code.")
        coverage = coverage_lookup(
            code=code, service_date=crd.order_date(order, today), member=None
        )
        if coverage.criteria_set and coverage.criteria_set not in sets:
            sets.append(coverage.criteria_set)
    return sets


@csrf_exempt
@require_POST
def questionnaire_package(request: HttpRequest) -> HttpResponse:
    """POST /fhir/Questionnaire/$questionnaire-package (DTR): in, a Parameters with
    `questionnaire` canonicals and/or `order` resources (and `coverage`); out, a Parameters
    whose `PackageBundle` holds the SDC Questionnaire of each criteria set they need."""
    try:
        parameters = _parameters(_body(request))
        today = timezone.localdate()
        sets: list[str] = []
        for parameter in parameters:
            if parameter.get("name") == "questionnaire":
                canonical = parameter.get("valueCanonical") or parameter.get("valueUri")
                found = dtr.criteria_set_of_questionnaire(str(canonical or ""))
                if found is None:
                    raise FhirError(
                        404, "not-found", f"No questionnaire {canonical!s:.200} is served here."
                    )
                if found[0] not in sets:
                    sets.append(found[0])
        orders = [
            p["resource"]
            for p in parameters
            if p.get("name") == "order"
            and isinstance(p.get("resource"), Mapping)
            and p["resource"].get("resourceType") in crd.ORDER_TYPES
        ]
        for set_id in _sets_for_orders(orders, today):
            if set_id not in sets:
                sets.append(set_id)
        if not sets:
            raise FhirError(
                400 if not orders else 422,
                "invalid" if not orders else "not-supported",
                "Name a questionnaire, or an order whose code has a plan questionnaire."
                if not orders
                else "None of these orders needs a plan questionnaire.",
            )
        questionnaires = [dtr.questionnaire_for(set_id, today) for set_id in sets]
    except FhirError as exc:
        return exc.response()
    except CriteriaError as exc:
        return FhirError(400, "invalid", exc.message).response()
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": [{"fullUrl": q["url"], "resource": q} for q in questionnaires],
    }
    return fhir_response(
        {"resourceType": "Parameters", "parameter": [{"name": "PackageBundle", "resource": bundle}]}
    )
