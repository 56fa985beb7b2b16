"""Inferno-style negatives (PRODUCT §11): a Bundle that is not a PAS Bundle gets HTTP 400
with an OperationOutcome naming what is wrong, and nothing is created."""

from __future__ import annotations

import copy

import pytest

from authorizations.models import Tar
from fhir.validation import BundleKind, validate_bundle
from tests.fhir import pas
from tests.fhir.pas import (
    ESI_MEETS,
    INQUIRE,
    INQUIRY_EXAMPLE,
    REQUEST_EXAMPLES,
    SUBMIT,
    UPDATE_EXAMPLE,
    adapt,
    claim_of,
    example,
    post,
)

pytestmark = pytest.mark.django_db
client_for = pas.client_for  # the fixture


def _refused(response, expression_part: str) -> dict:
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    expressions = " ".join(e for issue in outcome["issue"] for e in issue["expression"])
    assert expression_part in expressions, outcome
    assert not Tar.objects.exists()
    return outcome


def test_empty_collection_bundle(client_for):
    empty = {
        "resourceType": "Bundle",
        "identifier": {"system": "urn:test", "value": "1"},
        "type": "collection",
        "timestamp": "2027-04-14T10:00:00-07:00",
        "entry": [],
    }
    outcome = _refused(post(client_for("provider"), SUBMIT, empty), "Bundle.entry")
    assert outcome["issue"][0]["code"] == "required"


def test_dangling_reference(client_for, world):
    bundle = adapt(example(REQUEST_EXAMPLES[0]), world, answers=ESI_MEETS)
    claim_of(bundle)["insurer"] = {"reference": "Organization/NotInThisBundle"}
    outcome = _refused(
        post(client_for("provider"), SUBMIT, bundle), "Bundle.entry[0].resource.insurer"
    )
    assert "NotInThisBundle" in outcome["issue"][0]["diagnostics"]


def test_claim_not_first(client_for, world):
    bundle = adapt(example(REQUEST_EXAMPLES[0]), world, answers=ESI_MEETS)
    bundle["entry"].append(bundle["entry"].pop(0))
    _refused(post(client_for("provider"), SUBMIT, bundle), "Bundle.entry[0]")


def test_wrong_use(client_for, world):
    bundle = adapt(example(REQUEST_EXAMPLES[0]), world, answers=ESI_MEETS)
    claim_of(bundle)["use"] = "claim"
    outcome = _refused(post(client_for("provider"), SUBMIT, bundle), "resource.use")
    assert "preauthorization" in outcome["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    "mutate, where",
    [
        (lambda b: b.pop("identifier"), "Bundle.identifier"),
        (lambda b: b.pop("timestamp"), "Bundle.timestamp"),
        (lambda b: b.update(type="transaction"), "Bundle.type"),
        (lambda b: b["entry"][1].pop("fullUrl"), "Bundle.entry[1].fullUrl"),
        (lambda b: claim_of(b).update(status="draft"), "resource.status"),
        (lambda b: claim_of(b).pop("priority"), "resource.priority"),
        (lambda b: claim_of(b).pop("patient"), "resource.patient"),
        (lambda b: claim_of(b).pop("provider"), "resource.provider"),
        (lambda b: claim_of(b).pop("item"), "resource.item"),
        (lambda b: claim_of(b)["item"][0].pop("category"), "item[0].category"),
        (lambda b: claim_of(b)["item"][0].update(extension=[]), "item[0].extension"),
        (lambda b: claim_of(b)["insurance"][0].update(focal=False), "insurance[0].focal"),
        (lambda b: claim_of(b).update(created=12), "resource.created"),
    ],
)
def test_profile_rules(client_for, world, mutate, where):
    bundle = adapt(example(REQUEST_EXAMPLES[0]), world, answers=ESI_MEETS)
    mutate(bundle)
    _refused(post(client_for("provider"), SUBMIT, bundle), where)


def test_unknown_element_fails_the_r4_structural_check(client_for, world):
    bundle = adapt(example(REQUEST_EXAMPLES[0]), world, answers=ESI_MEETS)
    claim_of(bundle)["notAnElement"] = True
    outcome = _refused(post(client_for("provider"), SUBMIT, bundle), "Bundle")
    assert outcome["issue"][0]["code"] == "structure"


@pytest.mark.parametrize("body", ["not json", "[]", '{"resourceType": "Patient"}', "null"])
def test_not_a_bundle(client_for, body):
    response = client_for("provider").post(SUBMIT, body, content_type="application/fhir+json")
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_parameters_without_resource(client_for):
    response = post(client_for("provider"), SUBMIT, {"resourceType": "Parameters"})
    assert response.status_code == 400


def test_inquiry_with_entry_request_is_refused(client_for):
    bundle = example(INQUIRY_EXAMPLE)
    bundle["entry"][1]["request"] = {"method": "POST", "url": "Organization"}
    _refused(post(client_for("provider"), INQUIRE, bundle), "Bundle.entry[1]")


def test_every_published_request_example_passes_the_validator():
    for name in (*REQUEST_EXAMPLES, UPDATE_EXAMPLE):
        assert validate_bundle(example(name), BundleKind.SUBMIT) == [], name
    assert validate_bundle(example(INQUIRY_EXAMPLE), BundleKind.INQUIRE) == []


def test_published_response_examples_pass_the_validator_but_for_their_references():
    # The IG's response examples reference a Claim and a PractitionerRole they do not carry;
    # every other rule holds, which is what checks the response rules against the package.
    for name in (
        "Bundle-ReferralAuthorizationResponseBundleExample.json",
        "Bundle-ReferralPendingAuthorizationResponseBundleExample.json",
        "Bundle-RejectionResponseBundleExample.json",
        "Bundle-ErrorResponseBundleExample.json",
    ):
        issues = validate_bundle(example(name), BundleKind.RESPONSE)
        assert issues and all("does not resolve" in i.diagnostics for i in issues), name
        bundle = example(name)
        response = claim_of(bundle)
        response.pop("requestor", None)
        response["request"] = {"identifier": {"value": "x"}}
        bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Claim"]
        assert validate_bundle(bundle, BundleKind.RESPONSE) == [], name


def test_response_validator_refuses_a_wrong_adjudication_category():
    bundle = copy.deepcopy(example("Bundle-RejectionResponseBundleExample.json"))
    claim_of(bundle)["item"][0]["adjudication"][0]["category"]["coding"][0]["code"] = "eligible"
    issues = validate_bundle(bundle, BundleKind.RESPONSE)
    assert any("submitted" in i.diagnostics for i in issues)


def test_no_token_is_401_with_an_operation_outcome():
    from rest_framework.test import APIClient

    response = APIClient().post(SUBMIT, "{}", content_type="application/fhir+json")
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_token_is_401(world):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = post(client, SUBMIT, example(REQUEST_EXAMPLES[0]))
    assert response.status_code == 401


@pytest.mark.parametrize("persona", ["nurse", "member", "coordinator"])
def test_plan_staff_and_members_are_403(client_for, persona):
    response = post(client_for(persona), SUBMIT, example(REQUEST_EXAMPLES[0]))
    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"
