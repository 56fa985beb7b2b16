"""Shared helpers for the PAS tests: the official examples, read from ../shared/fhir at test
time (never copied into the project), adapted to the test world where a TAR must be made."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tokens import token_issue
from fhir.validation import BundleKind, validate_bundle
from tests import factories

PACKAGE = Path(__file__).resolve().parents[2].parent / "shared" / "fhir" / "davinci-pas-2.2.1"
EXAMPLES = PACKAGE / "example"
REQUEST_EXAMPLES = (
    "Bundle-ReferralAuthorizationBundleExample.json",
    "Bundle-HomecareAuthorizationBundleExample.json",
    "Bundle-MedicalServicesAuthorizationBundleExample.json",
    "Bundle-SurgicalRequestBundleExample.json",
)
UPDATE_EXAMPLE = "Bundle-HomecareAuthorizationUpdateBundleExample.json"
INQUIRY_EXAMPLE = "Bundle-PASClaimInquiryBundleExample.json"
CPT = "http://www.ama-assn.org/go/cpt"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
NPI = "http://hl7.org/fhir/sid/us-npi"
SUBMIT = "/fhir/Claim/$submit"
INQUIRE = "/fhir/Claim/$inquire"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def fhir_client(user) -> APIClient:
    """A client holding the user's API token, sent the FHIR way (Bearer)."""
    key, _ = token_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def post(client: APIClient, url: str, body: dict):
    return client.post(url, json.dumps(body), content_type="application/fhir+json")


def claim_of(bundle: dict) -> dict:
    return bundle["entry"][0]["resource"]


def resource(bundle: dict, resource_type: str) -> dict:
    return next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    )


def review_actions(response_bundle: dict) -> list[str]:
    """The X12 306 review action code of each item of the first ClaimResponse."""
    codes = []
    for item in claim_of(response_bundle).get("item") or []:
        for adjudication in item["adjudication"]:
            for ext in adjudication.get("extension") or []:
                for part in ext["extension"]:
                    if part["url"].endswith("extension-reviewActionCode"):
                        codes.append(part["valueCodeableConcept"]["coding"][0]["code"])
    return codes


def reason_texts(response_bundle: dict) -> list[str]:
    texts = []
    for item in claim_of(response_bundle).get("item") or []:
        for adjudication in item["adjudication"]:
            for ext in adjudication.get("extension") or []:
                for part in ext["extension"]:
                    if part["url"] == "reasonCode":
                        texts.append(part["valueCodeableConcept"]["text"])
    return texts


def assert_valid_response(body: dict, kind: BundleKind = BundleKind.RESPONSE) -> None:
    """The project's validator (which ends with the fhirclient R4 structural check) and the
    response profiles' required elements read from the package's snapshots."""
    assert validate_bundle(body, kind) == [], validate_bundle(body, kind)
    profile = (
        "profile-claimresponse" if kind == BundleKind.RESPONSE else ("profile-claiminquiryresponse")
    )
    for entry in body["entry"]:
        if entry["resource"]["resourceType"] == "ClaimResponse":
            assert_snapshot_required(entry["resource"], profile)
    assert_snapshot_required(
        body,
        "profile-pas-response-bundle"
        if kind == BundleKind.RESPONSE
        else "profile-pas-inquiry-response-bundle",
    )


def assert_snapshot_required(instance: dict, profile: str) -> None:
    """Every element the profile's snapshot makes 1..* (and whose parent is present) is
    present, and every fixed/pattern code at the top level holds (the package as yardstick)."""
    snapshot = json.loads((PACKAGE / f"StructureDefinition-{profile}.json").read_text())
    for element in snapshot["snapshot"]["element"]:
        path = element["path"].split(".")
        if ":" in element["id"] or element.get("min", 0) < 1 or len(path) < 2:
            continue
        if path[-1] in ("extension", "url", "modifierExtension") or "[x]" in path[-1]:
            continue
        for parent in _walk(instance, path[1:-1]):
            assert isinstance(parent, dict) and path[-1] in parent, (
                f"{element['id']} is required by {profile}"
            )
        for key in ("patternCode", "fixedCode"):
            if key in element and len(path) == 2:
                assert instance.get(path[1]) == element[key], element["id"]


def _walk(value, steps):
    if not steps:
        yield value
        return
    child = value.get(steps[0]) if isinstance(value, dict) else None
    if child is None:
        return
    for item in child if isinstance(child, list) else [child]:
        yield from _walk(item, steps[1:])


def adapt(
    bundle: dict,
    world,
    *,
    code: str = "64483",
    dx: str = "M54.16",
    answers=None,
    start: date | None = None,
    member=None,
    provider=None,
) -> dict:
    """An official request example moved into the test world: the member's CIN on the
    Patient, the Redwood specialist's NPI on the requesting Organization, a pain code and an
    ICD-10-CM code on the Claim, the service date ten days ahead, and (optionally) the
    answers as a DTR QuestionnaireResponse in supportingInfo. The rest stays as published."""
    bundle = copy.deepcopy(bundle)
    member = member or world.member
    provider = provider or world.redwood_specialist
    start = start or timezone.localdate() + timedelta(days=10)
    claim = claim_of(bundle)
    patient = resource(bundle, "Patient")
    patient["identifier"] = [{"system": "urn:oid:2.16.840.1.113883.4.3.6", "value": member.cin}]
    organization = resource(bundle, "Organization")  # the first one is the requestor (UMO)
    organization["identifier"] = [{"system": NPI, "value": provider.npi}]
    claim["diagnosis"] = [
        {"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"system": ICD10, "code": dx}]}}
    ]
    claim.pop("careTeam", None)
    claim["supportingInfo"] = []
    for item in claim["item"]:
        item["productOrService"] = {"coding": [{"system": CPT, "code": code}]}
        item["diagnosisSequence"] = [1]
        item.pop("careTeamSequence", None)
        item.pop("servicedPeriod", None)
        item["servicedDate"] = start.isoformat()
        item["locationCodeableConcept"] = {
            "coding": [
                {
                    "system": "https://www.cms.gov/Medicare/Coding/place-of-service-codes/"
                    "Place_of_Service_Code_Set",
                    "code": "24",
                }
            ]
        }
        item["extension"] = [
            e
            for e in item.get("extension") or []
            if not e["url"].endswith(("extension-requestedService",))
        ]
    del claim["item"][1:]
    if answers is not None:
        response = {
            "resourceType": "QuestionnaireResponse",
            "id": "answers",
            "status": "completed",
            "item": [{"linkId": key, "answer": _answer(value)} for key, value in answers.items()],
        }
        bundle["entry"].append(
            {
                "fullUrl": "http://example.org/fhir/QuestionnaireResponse/answers",
                "resource": response,
            }
        )
        claim["supportingInfo"] = [
            {
                "sequence": 1,
                "category": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASTempCodes",
                            "code": "additionalInformation",
                        }
                    ]
                },
                "valueReference": {"reference": "QuestionnaireResponse/answers"},
            }
        ]
    # Drop entries the adapted Claim no longer references only when nothing else points at
    # them is not needed: leftover supporting resources are allowed.
    return bundle


def _answer(value) -> list[dict]:
    values = value if isinstance(value, list) else [value]
    answers = []
    for v in values:
        if isinstance(v, bool):
            answers.append({"valueBoolean": v})
        elif isinstance(v, int):
            answers.append({"valueInteger": v})
        else:
            answers.append({"valueCoding": {"code": v}})
    return answers


@pytest.fixture
def client_for(world):
    return lambda persona: fhir_client(world.users[persona])


ESI_MEETS = factories.ESI_MEETS
