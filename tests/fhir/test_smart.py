"""SMART Backend Services (PRODUCT §11): client_credentials with a private_key_jwt assertion
signed with a real RS384 or ES384 key, checked by the portal; OAuth errors, never a 500."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from accounts.models import Role, User
from fhir.admin import SmartClientForm
from fhir.auth_models import AccessToken, SmartClient
from fhir.smart import TOKEN_PREFIX, client_register, organization_for_access_token
from tests.fhir.smart_helpers import (
    TOKEN_URL,
    assertion,
    new_key,
    public_jwks,
    receiver,
    register,
    token_request,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def http():
    return Client()


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_a_client_gets_a_short_lived_token_with_its_signed_assertion(world, http, alg):
    client, key = register(world.redwood, alg)
    response = token_request(
        http,
        assertion(client.client_id, key),
        scope="system/Claim.write system/Subscription.*",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 300
    assert body["scope"].split() == [
        "system/Claim.write",
        "system/Subscription.read",
        "system/Subscription.write",
    ]
    assert body["access_token"].startswith(TOKEN_PREFIX)
    assert response["Cache-Control"] == "no-store"
    # Only the digest is stored.
    stored = AccessToken.objects.get(client=client)
    assert body["access_token"] not in stored.digest
    assert stored.expires_at - stored.issued_at == timedelta(seconds=300)
    # And the token works on a FHIR endpoint, as the client's organization.
    listed = http.get("/fhir/Subscription", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert listed.status_code == 200
    assert listed.json()["resourceType"] == "Bundle"


def test_the_token_resolves_to_the_clients_organization(world, http, rf):
    client, key = register(world.coastal, "ES384")
    token = token_request(http, assertion(client.client_id, key)).json()["access_token"]
    request = rf.get("/fhir/Claim/$inquire", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert organization_for_access_token(request) == world.coastal
    assert organization_for_access_token(rf.get("/", HTTP_AUTHORIZATION="Bearer knoxkey")) is None


def _refused(response, error: str, status: int = 401) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    assert not AccessToken.objects.exists()
    return body


def test_a_signature_by_another_key_is_refused(world, http):
    client, key = register(world.redwood)
    impostor = new_key("RS384")
    impostor_kid = impostor.as_dict(private=True)
    impostor_kid["kid"] = key.kid  # same kid, different key
    forged = assertion(client.client_id, RSAKey.import_key(impostor_kid))
    _refused(token_request(http, forged), "invalid_client")


def test_an_expired_assertion_is_refused(world, http):
    client, key = register(world.redwood)
    old = assertion(client.client_id, key, now=time.time() - 600, lifetime=240)
    _refused(token_request(http, old), "invalid_client")


def test_an_assertion_valid_longer_than_five_minutes_is_refused(world, http):
    client, key = register(world.redwood)
    _refused(token_request(http, assertion(client.client_id, key, lifetime=3600)), "invalid_client")


def test_a_replayed_assertion_is_refused(world, http):
    client, key = register(world.redwood)
    once = assertion(client.client_id, key, jti="the-same-jti")
    assert token_request(http, once).status_code == 200
    again = token_request(http, once)
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_client"
    assert "jti" in again.json()["error_description"]
    assert AccessToken.objects.count() == 1


def test_an_assertion_for_another_audience_is_refused(world, http):
    client, key = register(world.redwood)
    wrong = assertion(client.client_id, key, aud="https://other.example/token")
    _refused(token_request(http, wrong), "invalid_client")


def test_an_unknown_client_is_refused(world, http):
    key = new_key("RS384")
    _refused(token_request(http, assertion("no-such-client", key)), "invalid_client")


def test_sub_must_be_the_client(world, http):
    client, key = register(world.redwood)
    _refused(
        token_request(http, assertion(client.client_id, key, sub="someone-else")),
        "invalid_client",
    )


def test_an_inactive_client_is_refused_and_its_tokens_stop_working(world, http):
    client, key = register(world.redwood)
    token = token_request(
        http, assertion(client.client_id, key), scope="system/Subscription.read"
    ).json()["access_token"]
    SmartClient.objects.filter(pk=client.pk).update(is_active=False)
    used = http.get("/fhir/Subscription", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert used.status_code == 401
    assert 'error="invalid_token"' in used["WWW-Authenticate"]
    assert used.json()["resourceType"] == "OperationOutcome"
    AccessToken.objects.all().delete()
    _refused(token_request(http, assertion(client.client_id, key)), "invalid_client")


def test_a_scope_not_granted_is_refused(world, http):
    client, key = register(world.redwood, scopes=["system/Claim.write"])
    _refused(
        token_request(http, assertion(client.client_id, key), scope="system/Subscription.write"),
        "invalid_scope",
        400,
    )
    _refused(
        token_request(http, assertion(client.client_id, key), scope="system/Patient.read"),
        "invalid_scope",
        400,
    )


def test_a_token_without_the_scope_gets_403_insufficient_scope(world, http):
    client, key = register(world.redwood)
    token = token_request(http, assertion(client.client_id, key), scope="system/Claim.write")
    response = http.get(
        "/fhir/Subscription", HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}"
    )
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]


def test_an_expired_access_token_gets_401(world, http):
    client, key = register(world.redwood)
    token = token_request(
        http, assertion(client.client_id, key), scope="system/Subscription.read"
    ).json()["access_token"]
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = http.get("/fhir/Subscription", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


@pytest.mark.parametrize(
    "change",
    [
        {"grant_type": "password"},
        {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"},
        {"client_assertion": ""},
        {"client_assertion": "not.a.jwt"},
        {"client_assertion": "garbage"},
        {"client_assertion": "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."},
        {"scope": ""},
    ],
)
def test_malformed_token_requests_get_an_oauth_error_not_a_500(world, http, change):
    client, key = register(world.redwood)
    form = {"scope": "system/Claim.write"} | change
    client_assertion = form.pop("client_assertion", assertion(client.client_id, key))
    response = token_request(http, client_assertion, **form)
    assert response.status_code in (400, 401)
    assert response.json()["error"] in (
        "unsupported_grant_type",
        "invalid_request",
        "invalid_client",
        "invalid_scope",
    )


def test_an_unsigned_or_hmac_assertion_is_refused(world, http):
    client, _key = register(world.redwood)
    secret = OctKey.generate_key(256)
    claims = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": TOKEN_URL,
        "exp": int(time.time()) + 60,
        "jti": "h",
    }
    hmac = jwt.encode({"alg": "HS256"}, claims, secret, algorithms=["HS256"])
    _refused(token_request(http, hmac), "invalid_client")


def test_a_json_token_request_is_refused(world, http):
    response = http.post("/oauth/token", {"grant_type": "client_credentials"}, "application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_keys_published_at_a_jwks_uri_are_fetched(world, http):
    key = new_key("ES384")
    with receiver(document=public_jwks(key)) as server:
        client = client_register(
            name="Hosted keys", organization=world.redwood, jwks_uri=server.url
        )
        response = token_request(http, assertion(client.client_id, key))
    assert response.status_code == 200, response.json()


def test_smart_configuration_names_the_token_endpoint_and_algorithms(http):
    for path in ("/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"):
        body = http.get(path).json()
        assert body["token_endpoint"] == TOKEN_URL
        assert body["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
        assert body["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384"]
        assert "client-confidential-asymmetric" in body["capabilities"]
        assert "system/Subscription.*" in body["scopes_supported"]


def test_a_client_acts_as_a_provider_user_of_its_one_organization(world):
    client, _key = register(world.coastal)
    user = client.service_user
    assert user.role == "provider"
    assert user.organization == world.coastal
    assert not user.has_usable_password()


def test_the_admin_form_refuses_a_private_key_and_a_client_without_keys(world):
    key = new_key("RS384")
    form = SmartClientForm(
        data={
            "name": "EHR",
            "organization": world.redwood.pk,
            "jwks": json.dumps({"keys": [key.as_dict(private=True)]}),
            "scopes": ["system/Claim.write"],
            "is_active": True,
        }
    )
    assert not form.is_valid()
    assert "private part" in str(form.errors["jwks"])
    empty = SmartClientForm(
        data={
            "name": "EHR",
            "organization": world.redwood.pk,
            "scopes": ["system/Claim.write"],
            "is_active": True,
        }
    )
    assert not empty.is_valid()
    good = SmartClientForm(
        data={
            "name": "EHR",
            "organization": world.redwood.pk,
            "jwks": json.dumps(public_jwks(key)),
            "scopes": ["system/Claim.write"],
            "is_active": True,
        }
    )
    assert good.is_valid(), good.errors


def test_a_superuser_registers_a_client_in_the_admin(world):
    admin_user = User.objects.create_superuser("root", "root@example.org", "pw", role=Role.INTAKE)
    browser = Client()
    browser.force_login(admin_user)
    key = new_key("ES384")
    response = browser.post(
        "/admin/fhir/smartclient/add/",
        {
            "name": "Coastal EHR",
            "organization": world.coastal.pk,
            "jwks": json.dumps(public_jwks(key)),
            "jwks_uri": "",
            "scopes": ["system/Claim.write", "system/ClaimResponse.read"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client = SmartClient.objects.get(name="Coastal EHR")
    assert client.organization == world.coastal
    assert client.service_user.organization == world.coastal
    assert client.scopes == ["system/Claim.write", "system/ClaimResponse.read"]
    assert browser.get(f"/admin/fhir/smartclient/{client.pk}/change/").status_code == 200
    assert (
        Client().post("/oauth/token", "x", "application/x-www-form-urlencoded").status_code == 400
    )


def test_what_the_capability_statement_names_is_routed(http):
    statement = http.get("/fhir/metadata").json()
    for resource in statement["rest"][0]["resource"]:
        if resource["type"] == "Subscription":
            assert http.get("/fhir/Subscription").status_code == 401  # routed, needs a token
        for operation in resource.get("operation") or []:
            if resource["type"] == "Subscription":  # instance level
                assert http.get(f"/fhir/Subscription/1/${operation['name']}").status_code == 401
                continue
            path = f"/fhir/{resource['type']}/${operation['name']}"
            assert http.post(path, "{}", "application/fhir+json").status_code != 404, path
    assert http.get("/.well-known/smart-configuration").status_code == 200


def test_the_command_registers_a_client(world, tmp_path):
    key = new_key("ES384")
    jwks = tmp_path / "public.jwks.json"
    jwks.write_text(json.dumps(public_jwks(key)))
    out = StringIO()
    call_command(
        "fhir_client_register",
        organization=world.redwood.name,
        name="Redwood EHR",
        jwks=str(jwks),
        scope=["system/Claim.write"],
        stdout=out,
    )
    client = SmartClient.objects.get(client_id=out.getvalue().strip())
    assert client.organization == world.redwood
    assert client.scopes == ["system/Claim.write"]
    with pytest.raises(CommandError):
        call_command("fhir_client_register", organization="Nobody", name="x", jwks=str(jwks))
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=True)]}))
    with pytest.raises(CommandError, match="public key only"):
        call_command(
            "fhir_client_register", organization=world.redwood.name, name="x", jwks=str(jwks)
        )


def test_an_assertion_whose_algorithm_does_not_fit_the_key_is_refused(world, http):
    client, key = register(world.redwood, "RS384")
    other = new_key("ES384")
    as_dict = other.as_dict(private=True)
    as_dict["kid"] = key.kid  # the registered RSA key's kid, an EC signature
    forged = assertion(client.client_id, ECKey.import_key(as_dict), alg="ES384")
    _refused(token_request(http, forged), "invalid_client")
