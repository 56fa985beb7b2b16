"""Claim/$submit (PRODUCT §11): the official examples as published, adapted to the world, and
what the plan answers for each state of the TAR."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from authorizations import selectors, services
from authorizations.models import Channel, Referral, Tar, TarStatus
from criteria.models import CriteriaSetSetting
from fhir.models import PasRequest
from fhir.responses import pas_response_bundle
from tests.factories import MemberFactory
from tests.fhir import pas
from tests.fhir.pas import (
    ESI_MEETS,
    REQUEST_EXAMPLES,
    SUBMIT,
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


@pytest.mark.parametrize("name", REQUEST_EXAMPLES)
def test_official_example_as_published_gets_member_not_found(client_for, name):
    response = post(client_for("provider"), SUBMIT, example(name))
    assert response.status_code == 200, response.content
    body = response.json()
    assert_valid_response(body)
    claim_response = claim_of(body)
    assert claim_response["outcome"] == "error"
    codes = [e["code"]["coding"][0]["code"] for e in claim_response["error"]]
    assert codes == ["75"]  # X12 901: Subscriber/Insured Not Found
    assert not Tar.objects.exists()


@pytest.mark.parametrize("name", REQUEST_EXAMPLES)
def test_adapted_example_creates_a_tar_in_the_nurse_queue(client_for, world, name):
    before = timezone.now()
    response = post(client_for("provider"), SUBMIT, adapt(example(name), world, answers=ESI_MEETS))
    assert response.status_code == 200, response.content
    body = response.json()
    assert_valid_response(body)
    tar = Tar.objects.get()
    assert tar.channel == Channel.FHIR
    assert tar.received_at >= before  # the server's receipt time, not the Bundle's 2005 stamp
    assert tar.answers["approach"] == ESI_MEETS["approach"]
    assert tar.answers["conservative_modalities"] == ESI_MEETS["conservative_modalities"]
    assert tar.referral == world.referral  # the member's valid RAF to Redwood, preselected
    assert tar.lines.get().recommendation == "meets_criteria"  # evaluated at once
    queue = selectors.tar_list(user=world.users["nurse"], filters={"status": "submitted"})
    assert tar in queue
    claim_response = claim_of(body)
    assert claim_response["preAuthRef"] == tar.number
    assert review_actions(body) == ["A4"]
    notes = " ".join(n["text"] for n in claim_response["processNote"])
    assert (
        "expected-decision-date "
        + timezone.localtime(tar.decision_due_at).isoformat(timespec="seconds")
        in notes
    )


def test_auto_approved_request_answers_a1_with_the_period(client_for, world):
    CriteriaSetSetting.objects.create(set_id="esi", auto_approve=True)
    bundle = adapt(example(REQUEST_EXAMPLES[0]), world, answers=ESI_MEETS)
    body = post(client_for("provider"), SUBMIT, bundle).json()
    assert_valid_response(body)
    assert review_actions(body) == ["A1"]
    tar = Tar.objects.get()
    assert tar.status == TarStatus.APPROVED
    day = claim_of(bundle)["item"][0]["servicedDate"]
    assert claim_of(body)["preAuthPeriod"] == {"start": day, "end": day}


def test_a_retried_submit_returns_the_same_request(client_for, world):
    bundle = adapt(example(REQUEST_EXAMPLES[1]), world, answers=ESI_MEETS)
    client = client_for("provider")
    first = post(client, SUBMIT, bundle).json()
    second = post(client, SUBMIT, bundle).json()
    assert Tar.objects.count() == 1
    assert claim_of(first)["preAuthRef"] == claim_of(second)["preAuthRef"]
    assert PasRequest.objects.get().bundle_value == bundle["identifier"]["value"]


def test_claim_referral_names_the_raf_by_number(client_for, world):
    bundle = adapt(example(REQUEST_EXAMPLES[0]), world, answers=ESI_MEETS)
    claim_of(bundle)["referral"] = {"identifier": {"value": world.referral.number}}
    body = post(client_for("provider"), SUBMIT, bundle).json()
    assert claim_of(body)["outcome"] == "complete", body
    assert Tar.objects.get().referral == world.referral


def test_member_with_no_raf_to_the_office_gets_the_unknown_member_answer(client_for, world):
    # A member of the PCP's panel with no RAF to Redwood: Redwood has no relationship, so
    # the answer is the one for an unknown member; the PCP office has no pain specialist.
    member = MemberFactory(pcp=world.pcp)
    bundle = adapt(example(REQUEST_EXAMPLES[0]), world, answers=ESI_MEETS, member=member)
    body = post(client_for("provider"), SUBMIT, bundle).json()
    assert claim_of(body)["outcome"] == "error"
    assert [e["code"]["coding"][0]["code"] for e in claim_of(body)["error"]] == ["75"]
    assert not Tar.objects.exists()


def test_raf_not_valid_on_the_service_date_is_received_flagged_not_refused(client_for, world):
    """Issue 11 row 8 (seed 002: timeliness runs from receipt): a request whose RAF does not
    cover the service date is received, pended and flagged for the nurse, as from the portal
    and the REST API; never a 500, never silently dropped."""
    Referral.objects.filter(pk=world.referral.pk).update(
        valid_to=timezone.localdate() + timedelta(days=5)
    )
    bundle = adapt(example(REQUEST_EXAMPLES[0]), world, answers=ESI_MEETS)
    response = post(client_for("provider"), SUBMIT, bundle)
    assert response.status_code == 200
    body = response.json()
    assert_valid_response(body)
    assert review_actions(body) == ["A4"], body
    tar = Tar.objects.get()
    assert tar.channel == "fhir"
    assert any("referral" in flag["message"].lower() for flag in tar.intake_flags), tar.intake_flags


def test_member_not_eligible_answers_like_an_unknown_member(client_for, world):
    bundle = adapt(
        example(REQUEST_EXAMPLES[0]),
        world,
        answers=ESI_MEETS,
        start=timezone.localdate() + timedelta(days=10),
    )
    world.member.eligibility_spans.update(end_date=timezone.localdate())
    body = post(client_for("provider"), SUBMIT, bundle).json()
    assert claim_of(body)["outcome"] == "error"
    assert [e["code"]["coding"][0]["code"] for e in claim_of(body)["error"]] == ["75"]
    assert not Tar.objects.exists()


def test_a_code_that_needs_no_tar_answers_na_and_makes_no_tar(client_for, world):
    bundle = adapt(example(REQUEST_EXAMPLES[2]), world, code="99283", dx="R07.9")
    body = post(client_for("provider"), SUBMIT, bundle).json()
    assert_valid_response(body)
    assert claim_of(body)["outcome"] == "complete"
    assert review_actions(body) == ["NA"]
    assert "002" in reason_texts(body)[0]
    assert not Tar.objects.exists()


def test_parameters_wrapper_is_accepted(client_for, world):
    bundle = adapt(example(REQUEST_EXAMPLES[0]), world, answers=ESI_MEETS)
    wrapped = {
        "resourceType": "Parameters",
        "parameter": [{"name": "resource", "resource": bundle}],
    }
    response = post(client_for("provider"), SUBMIT, wrapped)
    assert response.status_code == 200
    assert review_actions(response.json()) == ["A4"]


def _submitted(client_for, world, units: int = 1) -> Tar:
    bundle = adapt(example(REQUEST_EXAMPLES[0]), world, answers=ESI_MEETS)
    claim_of(bundle)["item"][0]["quantity"] = {"value": units}
    post(client_for("provider"), SUBMIT, bundle)
    return Tar.objects.get()


def test_denial_answers_a3_with_the_reason_and_the_criteria(client_for, world):
    tar = _submitted(client_for, world)
    services.tar_decide(
        tar_id=tar.pk,
        user=world.users["physician"],
        outcome=TarStatus.DENIED,
        reason_code="medical_necessity",
        rationale="Imaging does not show the nerve-root compression the records describe.",
        criteria_refs=["esi:2026.1:3"],
    )
    body = pas_response_bundle(tar)
    assert_valid_response(body)
    assert review_actions(body) == ["A3"]
    [reason] = reason_texts(body)
    assert "nerve-root compression" in reason
    assert "esi:2026.1:3" in reason
    assert "preAuthPeriod" not in claim_of(body)


def test_modification_answers_a6_with_the_reason(client_for, world):
    tar = _submitted(client_for, world, units=2)
    services.tar_decide(
        tar_id=tar.pk,
        user=world.users["physician"],
        outcome=TarStatus.MODIFIED,
        reason_code="medical_necessity",
        rationale="One session is supported; the second is not.",
        criteria_refs=["esi:2026.1:3"],
        line_decisions=[services.LineDecision(line_number=1, outcome="modified", approved_units=1)],
    )
    body = pas_response_bundle(tar)
    assert_valid_response(body)
    assert review_actions(body) == ["A6"]
    assert "second is not" in reason_texts(body)[0]
    [detail] = [
        e for e in claim_of(body)["item"][0]["extension"] if e["url"].endswith("AuthorizedDetail")
    ]
    assert detail["extension"][1] == {"url": "quantity", "valueQuantity": {"value": 1}}


def test_unchanged_published_example_is_not_mutated(world, client_for):
    original = example(REQUEST_EXAMPLES[0])
    copied = copy.deepcopy(original)
    post(client_for("provider"), SUBMIT, original)
    assert original == copied
