"""$inquire, updates and cancels (PRODUCT §11), and scoping: another organization can
neither read nor change a request (PRODUCT §2: every query scoped to the caller)."""

from __future__ import annotations

import copy

import pytest

from authorizations import services
from authorizations.models import Tar, TarStatus
from fhir.validation import BundleKind
from tests.fhir import pas
from tests.fhir.pas import (
    ESI_MEETS,
    INQUIRE,
    INQUIRY_EXAMPLE,
    SUBMIT,
    UPDATE_EXAMPLE,
    adapt,
    assert_valid_response,
    claim_of,
    example,
    post,
    reason_texts,
    review_actions,
)

pytestmark = pytest.mark.django_db
client_for = pas.client_for  # the fixture

CANCEL = {
    "url": "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-certificationType",
    "valueCodeableConcept": {
        "coding": [{"system": "https://codesystem.x12.org/005010/1322", "code": "3"}]
    },
}
HOMECARE = "Bundle-HomecareAuthorizationBundleExample.json"


def _submit(client_for, world, name=HOMECARE) -> Tar:
    bundle = adapt(example(name), world, answers=ESI_MEETS)
    response = post(client_for("provider"), SUBMIT, bundle)
    assert review_actions(response.json()) == ["A4"], response.json()
    return Tar.objects.get()


def _inquiry(world, **claim_changes) -> dict:
    bundle = example(INQUIRY_EXAMPLE)
    patient = pas.resource(bundle, "Patient")
    patient["identifier"] = [
        {"system": "urn:oid:2.16.840.1.113883.4.3.6", "value": world.member.cin}
    ]
    claim_of(bundle).update(claim_changes)
    return bundle


def _update(world, *, cancel: bool = False, answers=None) -> dict:
    bundle = adapt(example(UPDATE_EXAMPLE), world, answers=answers)
    claim = claim_of(bundle)
    if cancel:
        claim.setdefault("extension", []).append(copy.deepcopy(CANCEL))
    return bundle


def test_published_inquiry_answers_no_match(client_for):
    response = post(client_for("provider"), INQUIRE, example(INQUIRY_EXAMPLE))
    assert response.status_code == 200
    body = response.json()
    assert_valid_response(body, BundleKind.INQUIRY_RESPONSE)
    assert claim_of(body)["outcome"] == "error"


def test_inquiry_by_claim_identifier_returns_the_pended_request(client_for, world):
    tar = _submit(client_for, world)
    body = post(client_for("provider"), INQUIRE, _inquiry(world)).json()
    assert_valid_response(body, BundleKind.INQUIRY_RESPONSE)
    assert claim_of(body)["preAuthRef"] == tar.number
    assert review_actions(body) == ["A4"]


def test_inquiry_by_member_and_code(client_for, world):
    tar = _submit(client_for, world)
    inquiry = _inquiry(world, identifier=[{"system": "urn:other", "value": "unrelated"}])
    for item in claim_of(inquiry).get("item") or []:
        item["productOrService"] = {"coding": [{"system": pas.CPT, "code": "64483"}]}
        item.pop("servicedDate", None)
        item.pop("servicedPeriod", None)
    body = post(client_for("provider"), INQUIRE, inquiry).json()
    assert claim_of(body)["preAuthRef"] == tar.number


@pytest.mark.parametrize(
    "decide, action",
    [
        (
            lambda tar, w: services.tar_decide(
                tar_id=tar.pk, user=w.users["physician"], outcome=TarStatus.APPROVED
            ),
            "A1",
        ),
        (
            lambda tar, w: services.tar_decide(
                tar_id=tar.pk,
                user=w.users["physician"],
                outcome=TarStatus.DENIED,
                reason_code="medical_necessity",
                rationale="No imaging shows the compression the diagnosis describes.",
                criteria_refs=["esi:2026.1:3"],
            ),
            "A3",
        ),
        (
            lambda tar, w: services.tar_decide(
                tar_id=tar.pk,
                user=w.users["physician"],
                outcome=TarStatus.MODIFIED,
                reason_code="medical_necessity",
                rationale="No imaging shows the compression at the second session.",
                criteria_refs=["esi:2026.1:3"],
                line_decisions=[
                    services.LineDecision(line_number=1, outcome="modified", approved_units=1)
                ],
            ),
            "A6",
        ),
    ],
)
def test_inquiry_after_the_decision(client_for, world, decide, action):
    bundle = adapt(example(HOMECARE), world, answers=ESI_MEETS)
    claim_of(bundle)["item"][0]["quantity"] = {"value": 2}
    post(client_for("provider"), SUBMIT, bundle)
    tar = Tar.objects.get()
    decide(tar, world)
    body = post(client_for("provider"), INQUIRE, _inquiry(world)).json()
    assert_valid_response(body, BundleKind.INQUIRY_RESPONSE)
    assert review_actions(body) == [action]
    if action != "A1":
        [reason] = reason_texts(body)
        assert "compression" in reason and "esi:2026.1:3" in reason
        assert "Does not meet medical-necessity criteria" in reason
    else:
        assert reason_texts(body) == []
        assert claim_of(body)["preAuthPeriod"]


def test_another_organization_cannot_inquire(client_for, world):
    _submit(client_for, world)
    body = post(client_for("provider2"), INQUIRE, _inquiry(world)).json()
    assert claim_of(body)["outcome"] == "error"
    assert "preAuthRef" not in claim_of(body)
    assert world.member.last_name not in str(body)


def test_cancel_withdraws_the_request(client_for, world):
    tar = _submit(client_for, world)
    response = post(client_for("provider"), SUBMIT, _update(world, cancel=True))
    assert response.status_code == 200
    body = response.json()
    assert_valid_response(body)
    assert review_actions(body) == ["C"]
    tar.refresh_from_db()
    assert tar.status == TarStatus.WITHDRAWN
    assert tar.history.filter(to_status=TarStatus.WITHDRAWN).count() == 1


def test_another_organization_cannot_cancel_or_update(client_for, world):
    tar = _submit(client_for, world)
    for bundle in (_update(world, cancel=True), _update(world, answers={"pain_score": 8})):
        body = post(client_for("provider2"), SUBMIT, bundle).json()
        assert claim_of(body)["outcome"] == "error"
    tar.refresh_from_db()
    assert tar.status == TarStatus.SUBMITTED
    assert tar.answers["pain_score"] == ESI_MEETS["pain_score"]


def test_update_answers_the_information_request(client_for, world):
    tar = _submit(client_for, world)
    services.tar_request_info(
        tar_id=tar.pk, user=world.users["nurse"], message="Send the current pain score."
    )
    body = post(client_for("provider"), SUBMIT, _update(world, answers={"pain_score": 8})).json()
    assert_valid_response(body)
    assert review_actions(body) == ["A4"]
    tar.refresh_from_db()
    assert tar.status == TarStatus.SUBMITTED
    assert tar.answers["pain_score"] == 8
    assert tar.information_requests.get().responded_at is not None


def test_update_when_nothing_was_asked_is_an_error_answer_and_changes_nothing(client_for, world):
    tar = _submit(client_for, world)
    body = post(client_for("provider"), SUBMIT, _update(world, answers={"pain_score": 8})).json()
    assert claim_of(body)["outcome"] == "error"
    tar.refresh_from_db()
    assert tar.answers["pain_score"] == ESI_MEETS["pain_score"]


def test_cancel_of_a_decided_request_is_an_error_answer(client_for, world):
    tar = _submit(client_for, world)
    services.tar_decide(tar_id=tar.pk, user=world.users["physician"], outcome=TarStatus.APPROVED)
    body = post(client_for("provider"), SUBMIT, _update(world, cancel=True)).json()
    assert claim_of(body)["outcome"] == "error"
    tar.refresh_from_db()
    assert tar.status == TarStatus.APPROVED
