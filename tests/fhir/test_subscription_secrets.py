"""Subscription header secrets are encrypted at rest (issue 14; fhir.secrets): the database
holds a Fernet token and the header names, never the values; the API and the admin show the
names only; a key rotation through SECRET_KEY_FALLBACKS keeps them readable; the migration
seals rows written before it."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from fhir.auth_models import Subscription
from fhir.secrets import SealError, reseal, seal, unseal
from tests.fhir.smart_helpers import access_token, register
from tests.fhir.test_subscription import ALL, resource

SECRET = "Bearer receiver-secret"


def _create(world) -> tuple[str, dict]:
    client, key = register(world.redwood)
    token = access_token(Client(), client, key, ALL)
    response = Client().post(
        "/fhir/Subscription",
        json.dumps(resource("http://127.0.0.1:9/notify")),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201, response.json()
    return token, response.json()


@pytest.mark.django_db
def test_the_secret_is_not_stored_in_the_clear(world):
    token, body = _create(world)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM fhir_subscription WHERE id = %s", [int(body["id"])])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert "receiver-secret" not in row
    stored = Subscription.objects.get(pk=body["id"])
    assert stored.header_names == ["Authorization"]
    assert stored.headers == [f"Authorization: {SECRET}"]
    # Never shown back: the API answers the names only.
    shown = (
        Client()
        .get(f"/fhir/Subscription/{body['id']}", HTTP_AUTHORIZATION=f"Bearer {token}")
        .json()
    )
    assert shown["channel"]["header"] == ["Authorization: ***"]
    assert "receiver-secret" not in json.dumps(shown)


@pytest.mark.django_db
def test_the_admin_never_shows_the_secret(world, admin_client):
    _, body = _create(world)
    page = admin_client.get(f"/admin/fhir/subscription/{body['id']}/change/")
    assert page.status_code == 200
    assert b"receiver-secret" not in page.content
    assert Subscription.objects.get(pk=body["id"]).headers_sealed.encode() not in page.content


def test_a_rotated_key_still_opens_and_reseals(settings):
    settings.SECRET_KEY = "old-key"
    token = seal(["X-Key: 1"])
    settings.SECRET_KEY = "new-key"
    with pytest.raises(SealError):
        unseal(token)
    settings.SECRET_KEY_FALLBACKS = ["old-key"]
    assert unseal(token) == ["X-Key: 1"]
    fresh = reseal(token)
    settings.SECRET_KEY_FALLBACKS = []
    assert unseal(fresh) == ["X-Key: 1"]


def test_a_dedicated_key_may_be_configured(settings):
    settings.FHIR_HEADER_SECRET = "a-key-of-its-own"
    token = seal(["X-Key: 2"])
    settings.SECRET_KEY = "changed"
    assert unseal(token) == ["X-Key: 2"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_existing_plaintext_rows(world):
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = [("fhir", "0002_smart_clients_subscriptions_fhir_auth")]
    after = [("fhir", "0003_subscription_headers_encrypted")]
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps.get_model("fhir", "Subscription")
        row = old.objects.create(
            organization_id=world.redwood.pk,
            created_by_id=world.users["provider"].pk,
            topic="t",
            endpoint="https://receiver.example/notify",
            headers=[f"Authorization: {SECRET}", "X-Tenant: 7"],
        )
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps.get_model("fhir", "Subscription")
        stored = new.objects.get(pk=row.pk)
        assert stored.header_names == ["Authorization", "X-Tenant"]
        assert unseal(stored.headers_sealed) == [f"Authorization: {SECRET}", "X-Tenant: 7"]
        assert "receiver-secret" not in stored.headers_sealed
        # And back: the plaintext is restored by the reverse migration.
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        again = executor.loader.project_state(before).apps.get_model("fhir", "Subscription")
        assert again.objects.get(pk=row.pk).headers[0] == f"Authorization: {SECRET}"
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)
    assert Subscription.objects.get(pk=row.pk).headers[1] == "X-Tenant: 7"
