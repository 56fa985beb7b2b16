"""SMART access tokens on the PAS operations (PRODUCT §11): a client of one organization
submits and inquires with the scope it was granted, sees only its organization's requests,
and hears of the decision through its subscription."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from authorizations.models import Tar
from authorizations.workflow.outbox import events_dispatch
from fhir.auth_models import AccessToken
from fhir.subscriptions import deliveries_send, handshakes_send
from tests.fhir import pas
from tests.fhir.pas import (
    ESI_MEETS,
    INQUIRE,
    SUBMIT,
    adapt,
    claim_of,
    example,
    post,
    review_actions,
)
from tests.fhir.smart_helpers import access_token, receiver, register
from tests.fhir.test_subscription import resource

pytestmark = pytest.mark.django_db
HOMECARE = "Bundle-HomecareAuthorizationBundleExample.json"


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _token(world, organization, scope: str) -> str:
    smart_client, key = register(organization)
    return access_token(Client(), smart_client, key, scope)


def _inquiry(world) -> dict:
    bundle = example(pas.INQUIRY_EXAMPLE)
    pas.resource(bundle, "Patient")["identifier"] = [
        {"system": "urn:oid:2.16.840.1.113883.4.3.6", "value": world.member.cin}
    ]
    return bundle


def test_a_smart_client_submits_and_inquires_for_its_organization(world):
    token = _token(world, world.redwood, "system/Claim.write system/ClaimResponse.read")
    response = post(_client(token), SUBMIT, adapt(example(HOMECARE), world, answers=ESI_MEETS))
    assert response.status_code == 200, response.json()
    assert review_actions(response.json()) == ["A4"]
    tar = Tar.objects.get()
    assert tar.channel == "fhir"
    assert tar.requesting_organization == world.redwood
    assert tar.submitted_by.smart_client.organization == world.redwood
    assert tar.answers == ESI_MEETS
    inquiry = post(_client(token), INQUIRE, _inquiry(world)).json()
    assert claim_of(inquiry)["preAuthRef"] == tar.number


def test_another_organizations_client_cannot_inquire(world):
    token = _token(world, world.redwood, "system/Claim.write")
    post(_client(token), SUBMIT, adapt(example(HOMECARE), world, answers=ESI_MEETS))
    other = _token(world, world.coastal, "system/ClaimResponse.read")
    body = post(_client(other), INQUIRE, _inquiry(world)).json()
    assert claim_of(body)["outcome"] == "error"
    assert "preAuthRef" not in claim_of(body)
    assert world.member.last_name not in json.dumps(body)


def test_the_operation_needs_its_scope(world):
    read_only = _token(world, world.redwood, "system/ClaimResponse.read")
    response = post(_client(read_only), SUBMIT, adapt(example(HOMECARE), world, answers=ESI_MEETS))
    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"
    assert "system/Claim.write" in json.dumps(response.json())
    assert not Tar.objects.exists()
    write_only = _token(world, world.redwood, "system/Claim.write")
    assert post(_client(write_only), INQUIRE, _inquiry(world)).status_code == 403


def test_an_expired_smart_token_gets_401(world):
    token = _token(world, world.redwood, "system/Claim.write")
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = post(_client(token), SUBMIT, adapt(example(HOMECARE), world, answers=ESI_MEETS))
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"
    assert not Tar.objects.exists()


def test_an_invalid_dtr_answer_names_its_question(world):
    token = _token(world, world.redwood, "system/Claim.write")
    answers = dict(ESI_MEETS, pain_score=14)
    response = post(_client(token), SUBMIT, adapt(example(HOMECARE), world, answers=answers))
    assert response.status_code == 400
    assert "pain_score" in json.dumps(response.json())
    assert not Tar.objects.exists()


def test_the_subscriber_hears_the_decision_of_its_smart_submission(world, api):
    token = _token(
        world, world.redwood, "system/Claim.write system/ClaimResponse.read system/Subscription.*"
    )
    with receiver() as server:
        created = Client().post(
            "/fhir/Subscription",
            json.dumps(resource(server.url)),
            content_type="application/fhir+json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert created.status_code == 201
        handshakes_send()
        post(_client(token), SUBMIT, adapt(example(HOMECARE), world, answers=ESI_MEETS))
        tar = Tar.objects.get()
        decided = api("nurse").post(
            f"/api/v1/tars/{tar.pk}/decision", {"outcome": "approved"}, format="json"
        )
        assert decided.status_code == 200, decided.json()
        events_dispatch()
        deliveries_send()
    # The pend was superseded by the decision before the outbox ran: one notification, A1.
    handshake, body = server.bodies
    assert handshake["entry"][0]["resource"]["parameter"][3]["valueCode"] == "handshake"
    response_bundle = body["entry"][1]["resource"]
    assert review_actions(response_bundle) == ["A1"]
    assert claim_of(response_bundle)["preAuthRef"] == tar.number
