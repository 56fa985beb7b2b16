"""CDS Hooks 2.0 "Trusting CDS Clients": every hook call carries a JWT the EHR signs with a
registered key (RS384 or ES384); anything else is refused with 401 and a plain JSON error.
The discovery endpoint stays open."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest
from django.test import Client
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from authorizations.models import OrganizationKind, ProviderOrganization
from tests.conftest import BUSINESS_MORNING
from tests.fhir.smart_helpers import (
    TOKEN_URL,
    access_token,
    assertion,
    hook_jwt,
    hook_url,
    new_key,
    public_jwks,
    receiver,
    register_ehr,
)

pytestmark = [pytest.mark.django_db, pytest.mark.clock(BUSINESS_MORNING)]

ORDER = {
    "resourceType": "ServiceRequest",
    "id": "o1",
    "status": "draft",
    "intent": "order",
    "subject": {"reference": "Patient/p1"},
    "occurrenceDateTime": "2027-05-03",
    "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "64483"}]},
}
BODY = {
    "hook": "order-sign",
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "context": {
        "userId": "Practitioner/x",
        "patientId": "p1",
        "draftOrders": {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": ORDER}],
        },
    },
}


@pytest.fixture
def organization():
    return ProviderOrganization.objects.create(
        name="Valley Clinic", kind=OrganizationKind.PRIMARY_CARE
    )


def _post(token: str | None, service_id: str = "tar-order-sign") -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    body = BODY | {"hook": service_id.removeprefix("tar-")}
    if service_id == "tar-order-select":
        body = body | {"context": BODY["context"] | {"selections": ["ServiceRequest/o1"]}}
    return Client().post(
        f"/cds-services/{service_id}", json.dumps(body), content_type="application/json", **headers
    )


def _refused(response) -> dict[str, str]:
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"].startswith("Bearer ")
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == "invalid_token"
    assert "Traceback" not in body["message"]
    return body


def _b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _claims(client, **change: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": client.cds_issuer,
        "aud": hook_url(),
        "exp": now + 240,
        "iat": now,
        "jti": uuid.uuid4().hex,
    } | change


@pytest.mark.parametrize("alg", ["ES384", "RS384"])
@pytest.mark.parametrize("service_id", ["tar-order-sign", "tar-order-select"])
def test_a_call_signed_with_a_registered_key_is_answered(organization, alg, service_id):
    client, key = register_ehr(organization, alg)
    response = _post(hook_jwt(client, key, service_id=service_id), service_id)
    assert response.status_code == 200, response.content
    assert response.json()["cards"][0]["summary"].startswith("TAR needed")


def test_discovery_needs_no_token():
    assert Client().get("/cds-services").status_code == 200


def test_a_call_without_a_jwt_is_refused(organization):
    assert "Authorization: Bearer" in _refused(_post(None))["message"]
    _refused(_post("not-a-jwt"))
    _refused(_post("a.b.c"))


@pytest.mark.parametrize(
    "aud",
    [
        hook_url("tar-order-select"),
        TOKEN_URL,
        "http://elsewhere.example/cds-services/tar-order-sign",
    ],
)
def test_a_jwt_for_another_audience_is_refused(organization, aud):
    client, key = register_ehr(organization)
    assert "aud" in _refused(_post(hook_jwt(client, key, aud=aud)))["message"]


def test_an_expired_jwt_is_refused(organization):
    client, key = register_ehr(organization)
    token = hook_jwt(client, key, now=time.time() - 600, lifetime=300)
    assert "expired" in _refused(_post(token))["message"]


def test_a_jwt_living_more_than_five_minutes_is_refused(organization):
    client, key = register_ehr(organization)
    token = hook_jwt(client, key, lifetime=3600)
    assert "five minutes" in _refused(_post(token))["message"]


def test_a_jwt_without_iat_or_jti_is_refused(organization):
    client, key = register_ehr(organization)
    header = {"alg": "ES384", "kid": key.kid, "typ": "JWT"}
    for missing in ("iat", "jti"):
        claims = _claims(client)
        del claims[missing]
        token = jwt.encode(header, claims, key, algorithms=["ES384"])
        assert missing in _refused(_post(token))["message"]


def test_a_replayed_jti_is_refused(organization):
    client, key = register_ehr(organization)
    token = hook_jwt(client, key, jti="once")
    assert _post(token).status_code == 200
    assert "already used" in _refused(_post(token))["message"]
    # A new jti is answered again.
    assert _post(hook_jwt(client, key)).status_code == 200


def test_an_unknown_issuer_or_an_inactive_client_is_refused(organization):
    client, key = register_ehr(organization)
    _refused(_post(assertion("https://someone-else.example", key, aud=hook_url())))
    client.is_active = False
    client.save()
    assert "inactive" in _refused(_post(hook_jwt(client, key)))["message"]


def test_a_key_that_is_not_registered_is_refused(organization):
    client, key = register_ehr(organization)
    stranger = new_key("ES384")  # another kid
    _refused(_post(assertion(client.cds_issuer, stranger, aud=hook_url())))
    # The registered kid, signed by another key: the signature does not verify.
    forged = new_key("ES384")
    header = {"alg": "ES384", "kid": key.kid, "typ": "JWT"}
    _refused(_post(jwt.encode(header, _claims(client), forged, algorithms=["ES384"])))
    # No kid at all.
    token = jwt.encode({"alg": "ES384"}, _claims(client), key, algorithms=["ES384"])
    assert "kid" in _refused(_post(token))["message"]


def test_a_jku_is_never_fetched(organization):
    """The header's jku names keys the plan never registered: they are not fetched."""
    client, _key = register_ehr(organization)
    attacker = new_key("ES384")
    with receiver(document=public_jwks(attacker)) as published:
        header = {"alg": "ES384", "kid": attacker.kid, "jku": published.url, "typ": "JWT"}
        token = jwt.encode(header, _claims(client), attacker, algorithms=["ES384"])
        _refused(_post(token))
        assert published.gets == 0  # the jku was never fetched


@pytest.mark.parametrize("alg", ["none", "HS256", "HS384", "RS256", "ES256"])
def test_other_algorithms_are_refused(organization, alg):
    client, key = register_ehr(organization, "RS384")
    claims = _claims(client)
    if alg == "none":
        token = f"{_b64({'alg': 'none', 'kid': key.kid})}.{_b64(claims)}."
    elif alg.startswith("HS"):
        # The classic confusion: the RSA public key used as an HMAC secret.
        secret = OctKey.import_key(json.dumps(key.as_dict(private=False)).encode())
        header = {"alg": alg, "kid": key.kid}
        token = jwt.encode(header, claims, secret, algorithms=[alg])
    else:
        other = RSAKey.generate_key(2048) if alg == "RS256" else ECKey.generate_key("P-256")
        token = jwt.encode({"alg": alg, "kid": key.kid}, claims, other, algorithms=[alg])
    assert "RS384 or ES384" in _refused(_post(token))["message"]


def test_a_smart_access_token_is_not_a_hook_jwt(organization):
    """The Authorization of a hook call is the EHR's signed JWT, not an API access token."""
    client, key = register_ehr(organization, "RS384")
    token = access_token(Client(), client, key, "system/ClaimResponse.read")
    _refused(_post(token))
