"""Bad input inside a structurally valid Bundle gets a clear answer, never a 500, and loses
nothing already saved (developers' guide: bad input)."""

from __future__ import annotations

import pytest

from authorizations.models import Tar
from fhir.validation import BundleKind
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
    resource,
)

pytestmark = pytest.mark.django_db
client_for = pas.client_for  # the fixture


def _item(bundle):
    return claim_of(bundle)["item"][0]


MUTATIONS = {
    "impossible date": lambda b: _item(b).update(servicedDate="2027-02-30"),
    "date in the past": lambda b: _item(b).update(servicedDate="2020-01-01"),
    "period without start": lambda b: (
        _item(b).pop("servicedDate"),
        _item(b).update(servicedPeriod={"end": "2027-05-01"}),
    ),
    "zero units": lambda b: _item(b).update(quantity={"value": 0}),
    "fractional units": lambda b: _item(b).update(quantity={"value": 1.5}),
    "huge units": lambda b: _item(b).update(quantity={"value": 10**9}),
    "code outside the catalogue": lambda b: _item(b).update(
        productOrService={"coding": [{"system": pas.CPT, "code": "00000"}]}
    ),
    "no code": lambda b: _item(b).update(productOrService={"text": "an injection"}),
    "not ICD-10": lambda b: claim_of(b)["diagnosis"][0].update(
        diagnosisCodeableConcept={"coding": [{"system": pas.ICD10, "code": "NOT-A-CODE"}]}
    ),
    "category code": lambda b: claim_of(b)["diagnosis"][0].update(
        diagnosisCodeableConcept={"coding": [{"system": pas.ICD10, "code": "M54"}]}
    ),
    "unknown place of service": lambda b: _item(b).update(
        locationCodeableConcept={"coding": [{"code": "99"}]}
    ),
    "patient points at the insurer": lambda b: claim_of(b).update(
        patient={"reference": "Organization/InsurerExample"}
    ),
    "CIN in lower case with spaces": lambda b: resource(b, "Patient")["identifier"][0].update(
        value=" " + resource(b, "Patient")["identifier"][0]["value"].lower() + " "
    ),
    "requestor NPI of another office": lambda b: resource(b, "Organization")["identifier"][
        0
    ].update(value="1234567893"),
    "answers out of range": lambda b: resource(b, "QuestionnaireResponse")["item"][1].update(
        answer=[{"valueInteger": 99}]
    ),
    "answer of the wrong type": lambda b: resource(b, "QuestionnaireResponse")["item"][0].update(
        answer=[{"valueString": "yes"}]
    ),
    "unknown answer key": lambda b: resource(b, "QuestionnaireResponse")["item"].append(
        {"linkId": "no_such_question", "answer": [{"valueBoolean": True}]}
    ),
}


# Read as meant: the CIN normalized; a requestor NPI outside the caller's office is not
# trusted, the caller's own provider is the requester.
# A code on no entry of the plan's PA list needs no TAR (PRODUCT §5; criteria.pa_list): the
# answer says so (NA) and no request is made.
ACCEPTED = {
    "CIN in lower case with spaces",
    "requestor NPI of another office",
}
NO_TAR_NEEDED = {"code outside the catalogue"}
REFUSED = {"fractional units", "zero units", "huge units", "no code", "not ICD-10"}


@pytest.mark.parametrize("name", MUTATIONS)
def test_never_a_500(client_for, world, name):
    bundle = adapt(example(REQUEST_EXAMPLES[0]), world, answers=ESI_MEETS)
    MUTATIONS[name](bundle)
    response = post(client_for("provider"), SUBMIT, bundle)
    assert response.status_code in (200, 400), response.content
    body = response.json()
    if response.status_code == 400:
        assert body["resourceType"] == "OperationOutcome"
        assert not Tar.objects.exists()
        return
    assert_valid_response(body, BundleKind.RESPONSE)
    if name in REFUSED:
        assert claim_of(body)["outcome"] == "error"
    if name in ACCEPTED:
        assert pas.review_actions(body) == ["A4"], body
        assert Tar.objects.get().requesting_provider == world.redwood_specialist
    if name in NO_TAR_NEEDED:
        assert pas.review_actions(body) == ["NA"], body
        assert not Tar.objects.exists()
    if claim_of(body)["outcome"] == "error":
        assert not Tar.objects.exists()
        assert all(e["code"]["text"] for e in claim_of(body)["error"])
