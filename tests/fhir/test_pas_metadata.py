"""GET /fhir/metadata names exactly what this server serves (PRODUCT §11)."""

from __future__ import annotations

import pytest
from django.urls import Resolver404, resolve
from rest_framework.test import APIClient

from fhir.responses import pas_response_bundle
from fhir.validation import BundleKind
from tests.fhir.pas import assert_valid_response, review_actions

pytestmark = pytest.mark.django_db


def test_capability_statement_is_public_r4_and_pas():
    response = APIClient().get("/fhir/metadata")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    statement = response.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    [rest] = statement["rest"]
    operations = {
        (r["type"], o["name"]) for r in rest["resource"] for o in r.get("operation") or []
    }
    assert operations == {
        ("Claim", "submit"),
        ("Claim", "inquire"),
        ("Questionnaire", "questionnaire-package"),
        ("Subscription", "status"),  # instance level: Subscription/{id}/$status
    }
    interactions = {
        (r["type"], i["code"]) for r in rest["resource"] for i in r.get("interaction") or []
    }
    assert interactions == {
        ("Subscription", "create"),
        ("Subscription", "read"),
        ("Subscription", "delete"),
        ("Subscription", "search-type"),
    }


def test_every_named_operation_is_routed_here():
    # The PAS operations are this branch's; the Subscription and Questionnaire routes are
    # fhir-auth's, present once both branches are merged.
    for path in ("/fhir/Claim/$submit", "/fhir/Claim/$inquire", "/fhir/metadata"):
        resolve(path)
    resolve("/fhir/Subscription/1/$status")
    with pytest.raises(Resolver404):
        resolve("/fhir/Claim/$validate")


def test_response_bundle_for_a_portal_request_is_valid(world, submit):
    from authorizations.models import Tar

    tar = Tar.objects.get(pk=submit())
    body = pas_response_bundle(tar)
    assert_valid_response(body, BundleKind.RESPONSE)
    assert review_actions(body) == ["A4"]
    assert body["identifier"]["value"] == tar.number
