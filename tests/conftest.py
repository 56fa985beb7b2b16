"""Fixed personas (PRODUCT §9 roles) and helpers shared by every test."""

from __future__ import annotations

import copy
import os
import uuid
from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from tests import factories


@pytest.fixture(scope="session", autouse=True)
def _record_database_vendor(django_db_setup, django_db_blocker):
    """CI reads this file to prove the suite ran on PostgreSQL (.ci/run)."""
    path = os.environ.get("TAR_TEST_DB_VENDOR_FILE")
    if path:
        with django_db_blocker.unblock(), open(path, "w") as handle:
            handle.write(connection.vendor)
    yield


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Throttle counts live in the cache (Redis in tests, shared by the xdist workers): a key
    prefix of its own gives every test fresh counts without flushing anyone else's."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture
def world(db):
    """Two provider organizations, a PCP office, the plan's physicians, two members."""
    return factories.build_world()


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def api(world):
    """api("nurse") → an APIClient authenticated as that persona."""
    return lambda persona: _client_for(world.users[persona])


@pytest.fixture
def tar_payload(world):
    """A valid ESI TAR body for member 1 at Redwood (meets every ESI criterion)."""

    def build(**overrides):
        start = timezone.localdate() + timedelta(days=10)
        body = {
            "member": world.member.cin,
            "servicing_provider": world.redwood_specialist.npi,
            "referral": world.referral.pk,
            "request_type": "pre_service",
            "urgency": "routine",
            "place_of_service": "24",
            "lines": [
                {
                    "code": "64483",
                    "diagnosis_codes": ["M54.16"],
                    "units": 1,
                    "spinal_region": "lumbar",
                    "service_date_from": start.isoformat(),
                    "service_date_to": (start + timedelta(days=30)).isoformat(),
                }
            ],
            "answers": dict(factories.ESI_MEETS),
        }
        body.update(overrides)
        return body

    return build


@pytest.fixture
def submit(api, tar_payload):
    """submit(**overrides) → a TAR id submitted by the Redwood provider through the API."""

    def do(persona: str = "provider", **overrides) -> int:
        response = api(persona).post("/api/v1/tars/", tar_payload(**overrides), format="json")
        assert response.status_code == 201, response.json()
        return response.json()["id"]

    return do


__all__ = ["Role", "date"]
