"""Property-based API check (issue 12): schemathesis generates requests from the OpenAPI
schema (`/api/v1/schema/`) for every operation, as a provider, a nurse, a physician and a
member, with a fixed seed and a bounded number of examples, and none may answer with a
server error (PRODUCT §8: never a 500 for bad input)."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings

from accounts.tokens import token_issue

pytestmark = pytest.mark.django_db

PERSONAS = ("provider", "nurse", "physician", "member")
EXAMPLES_PER_OPERATION = 10
SKIP = {"/api/v1/schema/"}  # the schema itself


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
        with _keep_the_test_connection():
            response = case.call(headers=headers)
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            failures.append(
                f"{headers['X-Persona']} {case.method} {case.formatted_path} "
                f"query={case.query} body={str(case.body)[:200]} -> "
                f"{response.status_code} {response.text[:200]}"
            )

    run()


def test_no_operation_answers_with_a_server_error(schema, world, submit):
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
