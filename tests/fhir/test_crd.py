"""CRD (PRODUCT §5, §11): the CDS Hooks service answers each draft order from the plan's
coverage lookup, with a card and the coverage-information extension."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from authorizations.models import OrganizationKind, ProviderOrganization
from criteria import catalog
from criteria.coverage import MemberFacts
from criteria.pa_list import coverage_lookup
from fhir.crd import COVERAGE_INFORMATION
from fhir.dtr import questionnaire_url
from tests.conftest import BUSINESS_MORNING
from tests.fhir.smart_helpers import hook_jwt, register_ehr

pytestmark = [pytest.mark.django_db, pytest.mark.clock(BUSINESS_MORNING)]
DAY = "2027-05-03"


def _order(code: str, kind: str = "ServiceRequest", id_: str = "o1") -> dict[str, Any]:
    concept = {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": code}]}
    order: dict[str, Any] = {
        "resourceType": kind,
        "id": id_,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "occurrenceDateTime": DAY,
    }
    order["code" if kind == "ServiceRequest" else "codeCodeableConcept"] = concept
    return order


def _unrelated_ehr():
    """An EHR of an organization no member has a relationship with: the code's answer only."""
    organization, _ = ProviderOrganization.objects.get_or_create(
        name="Clinic without members", defaults={"kind": OrganizationKind.OTHER}
    )
    return register_ehr(organization)


def _call(hook: str, orders: list[dict], *, ehr=None, **extra) -> Any:
    body = {
        "hook": hook,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {
            "userId": "Practitioner/x",
            "patientId": "p1",
            "draftOrders": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": o} for o in orders],
            },
            **extra.pop("context", {}),
        },
        **extra,
    }
    client, key = ehr or _unrelated_ehr()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {hook_jwt(client, key, service_id=f'tar-{hook}')}"}
    return Client().post(
        f"/cds-services/tar-{hook}", json.dumps(body), content_type="application/json", **headers
    )


def _info(action: dict) -> dict[str, list]:
    (extension,) = [e for e in action["resource"]["extension"] if e["url"] == COVERAGE_INFORMATION]
    parts: dict[str, list] = {}
    for part in extension["extension"]:
        value = next(v for k, v in part.items() if k.startswith("value"))
        parts.setdefault(part["url"], []).append(value)
    return parts


def test_discovery_lists_order_select_and_order_sign():
    services = Client().get("/cds-services").json()["services"]
    assert {(s["id"], s["hook"]) for s in services} == {
        ("tar-order-select", "order-select"),
        ("tar-order-sign", "order-sign"),
    }
    assert all("patient" in s["prefetch"] for s in services)


# Every range of the PA list (every family), and the no-TAR services of PRODUCT §5.
CODES = (
    [entry["first"] for entry in catalog.CODE_RANGES]
    + [entry["last"] for entry in catalog.CODE_RANGES]
    + ["99283", "90791", "90837", "96130", "H0031", "27447"]
)


@pytest.mark.parametrize("code", sorted(set(CODES)))
def test_each_order_gets_the_coverage_lookups_answer(code):
    response = _call("order-sign", [_order(code)])
    assert response.status_code == 200, response.content
    body = response.json()
    (card,) = body["cards"]
    (action,) = body["systemActions"]
    assert action["type"] == "update"
    info = _info(action)
    expected = coverage_lookup(
        code=code, service_date=BUSINESS_MORNING.date().replace(month=5, day=3), member=None
    )
    assert len(card["summary"]) <= 140
    assert code in card["summary"]
    assert expected.reason in card["detail"]
    assert info["covered"] == ["conditional"]  # no member facts without a caller
    if expected.tar_required:
        assert card["summary"].startswith("TAR needed")
        assert info["pa-needed"] == ["auth-needed"]
        assert info["doc-needed"] == ["clinical"]
        assert info["doc-purpose"] == ["withpa"]
    else:
        assert card["summary"].startswith("No TAR needed")
        assert info["pa-needed"] == ["no-auth"]
        assert "doc-needed" not in info
    if expected.criteria_set:
        assert (
            f"{questionnaire_url(expected.criteria_set)}|{expected.criteria_set_version}"
            == info["questionnaire"][0]
        )
        family = catalog.family_for_code(code)
        assert catalog.CRITERIA_SETS[expected.criteria_set]["family"] == family
    else:
        assert "questionnaire" not in info
    assert info["date"] and info["coverage-assertion-id"]


def test_a_code_with_two_purposes_offers_both_questionnaires():
    info = _info(_call("order-sign", [_order("62323")]).json()["systemActions"][0])
    assert info["questionnaire"] == [
        questionnaire_url("esi") + "|2026.1",
        questionnaire_url("pump_trial") + "|2026.1",
    ]


def test_a_device_request_is_answered_too():
    body = _call("order-sign", [_order("63685", kind="DeviceRequest")]).json()
    assert _info(body["systemActions"][0])["pa-needed"] == ["auth-needed"]
    assert body["systemActions"][0]["resource"]["resourceType"] == "DeviceRequest"


def test_order_select_answers_the_selected_orders_only():
    orders = [_order("64483", id_="a"), _order("99283", id_="b")]
    body = _call("order-select", orders, context={"selections": ["ServiceRequest/b"]}).json()
    (action,) = body["systemActions"]
    assert action["resource"]["id"] == "b"
    assert _info(action)["pa-needed"] == ["no-auth"]


def _prefetch(member) -> dict:
    return {
        "patient": {
            "resourceType": "Patient",
            "id": "p1",
            "identifier": [{"system": "urn:medi-cal:cin", "value": member.cin}],
        },
        "coverage": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {"resource": {"resourceType": "Coverage", "id": "cov1", "subscriberId": member.cin}}
            ],
        },
    }


def test_an_authenticated_caller_gets_the_members_exemptions(world, client):
    world.member.hospice = True
    world.member.save()
    ehr = register_ehr(world.redwood)  # the member has a referral to Redwood
    body = _call("order-sign", [_order("62360")], ehr=ehr, prefetch=_prefetch(world.member))
    info = _info(body.json()["systemActions"][0])
    facts = MemberFacts(eligible_on_date=True, hospice=True)
    expected = coverage_lookup(code="62360", service_date=BUSINESS_MORNING.date(), member=facts)
    assert expected.tar_required is False
    assert info["pa-needed"] == ["no-auth"]
    assert info["covered"] == ["covered"]
    assert info["coverage"] == [{"reference": "Coverage/cov1"}]
    assert "in hospice care" in body.json()["cards"][0]["detail"]


def test_another_organization_does_not_learn_the_members_exemptions(world):
    world.member.hospice = True
    world.member.save()
    ehr = register_ehr(world.coastal)  # no relationship with this member
    body = _call("order-sign", [_order("62360")], ehr=ehr, prefetch=_prefetch(world.member))
    info = _info(body.json()["systemActions"][0])
    assert info["pa-needed"] == ["auth-needed"]
    assert info["covered"] == ["conditional"]
    assert "in hospice care" not in body.json()["cards"][0]["detail"]
    # Nor does an EHR of an organization unknown to the member, nor an unsigned call.
    other = _call("order-sign", [_order("62360")], prefetch=_prefetch(world.member))
    assert _info(other.json()["systemActions"][0])["pa-needed"] == ["auth-needed"]
    unsigned = Client().post("/cds-services/tar-order-sign", "{}", content_type="application/json")
    assert unsigned.status_code == 401
    assert "in hospice care" not in unsigned.content.decode()


def test_an_ineligible_member_is_not_covered(world):
    world.member.eligibility_spans.all().delete()
    ehr = register_ehr(world.redwood)
    body = _call("order-sign", [_order("64483")], ehr=ehr, prefetch=_prefetch(world.member))
    assert _info(body.json()["systemActions"][0])["covered"] == ["not-covered"]
    assert body.json()["cards"][0]["indicator"] == "warning"


@pytest.mark.parametrize(
    "change",
    [
        {"hook": "patient-view"},
        {"hookInstance": None},
        {"context": None},
        {"context": {"draftOrders": {"resourceType": "Bundle", "entry": []}}},
        {"context": {"draftOrders": "x"}},
    ],
)
def test_a_malformed_hook_call_gets_400(change):
    body = {
        "hook": "order-sign",
        "hookInstance": "x",
        "context": {
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": _order("64483")}]}
        },
    } | change
    client, key = _unrelated_ehr()
    response = Client().post(
        "/cds-services/tar-order-sign",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {hook_jwt(client, key)}",
    )
    assert response.status_code == 400
    assert response.json()["message"]


def test_order_select_without_selections_not_json_and_unknown_service():
    assert _call("order-select", [_order("64483")]).status_code == 400
    client, key = _unrelated_ehr()
    response = Client().post(
        "/cds-services/tar-order-sign",
        "{",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {hook_jwt(client, key)}",
    )
    assert response.status_code == 400
    assert (
        Client().post("/cds-services/nope", "{}", content_type="application/json").status_code
        == 404
    )


def test_an_order_without_a_cpt_code_gets_a_warning_card():
    order = _order("64483")
    order["code"] = {"text": "epidural"}
    body = _call("order-sign", [order]).json()
    assert body["cards"][0]["indicator"] == "warning"
    assert body["systemActions"] == []
