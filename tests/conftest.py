"""Fixed personas (PRODUCT §9 roles) and helpers shared by every test."""

from __future__ import annotations

import copy
import os
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from authorizations.clocks import BusinessCalendar
from tar_portal.versioned import versioned_reset
from tests import factories

PACIFIC = ZoneInfo("America/Los_Angeles")

# A plain business morning: Wednesday 14 April 2027, 10:00 Pacific. No holiday for six weeks
# either side (Cesar Chavez Day 31 March, Memorial Day 31 May) and no daylight-saving change
# near it, so every business-day, calendar-day and hour clock started here lands the same way.
BUSINESS_MORNING = datetime(2027, 4, 14, 10, 0, tzinfo=PACIFIC)


def next_business_morning(after: datetime | None = None) -> datetime:
    """10:00 Pacific of the first business day after ``after`` (the real now by default).

    For browser tests, which cannot be moved to a fixed date: Chromium keeps the real clock and
    drops cookies whose expiry (stamped by the server's clock) it thinks has passed. A clock
    moved a few days *ahead* of the browser's is safe; one moved back is not.
    """
    day = (after or datetime.now(PACIFIC)).astimezone(PACIFIC).date()
    calendar = BusinessCalendar.california(years=range(day.year, day.year + 2))
    return datetime.combine(calendar.next_business_day(day), time(10), tzinfo=PACIFIC)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "clock(instant=BUSINESS_MORNING, tick=False): run the test, its fixtures included, at "
        "this wall-clock instant, stopped (tick=True: running on from it). For tests whose "
        "outcome depends on the date, the hour, the weekday, holidays or daylight saving.",
    )


@pytest.fixture(autouse=True)
def _clock(request):
    """Applies ``@pytest.mark.clock``. Autouse, so the clock is set before ``world`` and every
    other fixture builds its data."""
    marker = request.node.get_closest_marker("clock")
    if marker is None:
        yield None
        return
    instant = marker.args[0] if marker.args else BUSINESS_MORNING
    with time_machine.travel(instant, tick=marker.kwargs.get("tick", False)) as traveller:
        yield traveller


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
    # Per-process copies of plan tables are kept under versions in that cache: start afresh.
    versioned_reset()


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
