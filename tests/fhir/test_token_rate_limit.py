"""The SMART token endpoint is rate limited per client and per client address (issue 14):
429 with Retry-After, counted in the shared cache, granted and refused requests alike."""

from __future__ import annotations

import pytest
from django.test import Client

from fhir.throttles import requested_client_id
from tests.fhir.smart_helpers import assertion, register, token_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    settings.TAR_THROTTLE_RATES = {
        **settings.TAR_THROTTLE_RATES,
        "fhir_token_client": "3/min",
        "fhir_token_address": "5/min",
    }


def _client(address: str = "198.51.100.7") -> Client:
    return Client(REMOTE_ADDR=address)


def test_a_client_over_its_limit_gets_429_with_retry_after(world, rates):
    client, key = register(world.redwood)
    http = _client()
    for _ in range(3):
        assert token_request(http, assertion(client.client_id, key)).status_code == 200
    refused = token_request(http, assertion(client.client_id, key))
    assert refused.status_code == 429
    assert refused.json()["error"] == "temporarily_unavailable"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["Cache-Control"] == "no-store"
    # The limit is the client's, from any address; another client is not held back.
    assert token_request(_client("203.0.113.9"), assertion(client.client_id, key)).status_code == (
        429
    )
    other, other_key = register(world.coastal)
    assert token_request(http, assertion(other.client_id, other_key)).status_code == 200


def test_refused_requests_count_too(world, rates):
    client, key = register(world.redwood)
    http = _client()
    for _ in range(3):
        bad = token_request(http, assertion(client.client_id, key, aud="https://elsewhere/token"))
        assert bad.status_code == 401
    assert token_request(http, assertion(client.client_id, key)).status_code == 429


def test_an_address_over_its_limit_gets_429_whatever_client_it_names(world, rates):
    http = _client("192.0.2.44")
    clients = [register(world.redwood) for _ in range(6)]
    answers = [token_request(http, assertion(c.client_id, k)).status_code for c, k in clients]
    assert answers == [200] * 5 + [429]
    # Another address is not held back.
    client, key = clients[5]
    assert token_request(_client("192.0.2.45"), assertion(client.client_id, key)).status_code == (
        200
    )


def test_garbage_assertions_are_limited_per_address_not_a_500(world, rates):
    http = _client("192.0.2.50")
    answers = [token_request(http, "not.a.jwt").status_code for _ in range(6)]
    assert all(answer in (400, 401) for answer in answers[:5]), answers
    assert answers[5] == 429


def test_the_counting_key_is_the_named_client(rf):
    request = rf.post("/oauth/token", {"client_id": "abc"})
    assert requested_client_id(request) == "abc"
    assert requested_client_id(rf.post("/oauth/token", {"client_assertion": "x.!!.y"})) == ""
