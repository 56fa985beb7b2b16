"""Property-based API check (issue 12): schemathesis generates requests from the OpenAPI
schema (`/api/v1/schema/`) for every operation, as a provider, a nurse, a physician and a
member, with a fixed seed and a bounded number of examples. None may answer with a server
error (PRODUCT §8: never a 500 for bad input), and every answer must conform to the schema:
a documented status code, the documented content type and headers, a body that validates
against the documented response schema.

Two of schemathesis' checks are left out, for reasons that are the API's, not the fuzzer's:
- `positive_data_acceptance` expects schema-valid data to be accepted; the API's rules go
  beyond a schema (an NPI's check digit, a billable ICD-10-CM code, the caller's scope, the
  record's workflow state), so schema-valid requests are rightly refused with 400/404/409.
- `ignored_auth` corrupts one of the two declared schemes (cookie) while the valid token this
  test sends stays, so a 200 is right; refusing bad credentials is tested directly below
  (every operation answers 401 to a bad token)."""

from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from accounts.tokens import token_issue

pytestmark = pytest.mark.django_db

PERSONAS = ("provider", "nurse", "physician", "member")
EXAMPLES_PER_OPERATION = 10
SKIP = {"/api/v1/schema/"}  # the schema itself
EXCLUDED_CHECKS = [positive_data_acceptance, ignored_auth]  # why: the module docstring


@contextmanager
def _keep_the_test_connection():
    """As Django's test client does around each request: a WSGI request must not close the
    connection that holds the test's transaction. (The test client reconnects the signal
    after each of its own requests, so this wraps every schemathesis call.)"""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def schema(world):
    # Loaded and called in process through WSGI: the same test database, no server.
    with _keep_the_test_connection():
        return schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())


def _check(operation, headers: dict[str, str], failures: list[str], statuses: Counter) -> None:
    @seed(20261201)
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case):
        case.headers = {**(case.headers or {}), **headers}
        with _keep_the_test_connection():
            response = case.call()
        statuses[response.status_code] += 1
        where = (
            f"{headers['X-Persona']} {case.method} {case.formatted_path} "
            f"query={case.query} body={str(case.body)[:200]} -> {response.status_code}"
        )
        if response.status_code >= 500:
            failures.append(f"{where} {response.text[:200]}")
        try:
            with _keep_the_test_connection():
                case.validate_response(response, excluded_checks=EXCLUDED_CHECKS)
        except FailureGroup as group:
            failures.extend(f"{where}: {failure.title}" for failure in group.exceptions)

    run()


def test_no_operation_answers_with_a_server_error_or_off_its_schema(schema, world, submit):
    submit("provider")  # one request in the world for the ids to land on
    failures: list[str] = []
    statuses: Counter = Counter()
    checked = 0
    for persona in PERSONAS:
        key, _ = token_issue(user=world.users[persona])
        headers = {"Authorization": f"Token {key}", "X-Persona": persona}
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path in SKIP:
                continue
            _check(operation, headers, failures, statuses)
            checked += 1
    assert checked > 100
    assert sum(statuses.values()) >= checked  # every operation was really called
    assert {200, 400, 404} <= set(statuses), statuses  # and reached the views
    assert failures == []


def test_every_operation_refuses_a_bad_token(schema, world):
    """What `ignored_auth` would check: a made-up token is refused (401) on every operation
    that needs credentials (the token endpoint and the public criteria pages do not)."""
    client = Client(HTTP_AUTHORIZATION="Token not-a-real-token")
    refused = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIP or operation.definition.raw.get("security") == [{}]:
            continue
        path = re.sub(r"\{[a-z0-9_]+\}", "1", operation.path)
        response = getattr(client, operation.method.lower())(path)
        assert response.status_code == 401, (operation.method, path, response.status_code)
        refused += 1
    assert refused > 40
