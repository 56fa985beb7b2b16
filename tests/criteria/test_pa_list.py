"""The PA list is the plan's data (issue 11 row 12; PRODUCT §5): seeded from the catalogue
plus the exemptions, kept by the UM manager in the admin with history, read by the coverage
API, the provider's draft form and the submission."""

import json
from datetime import date
from pathlib import Path

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

import criteria.migrations
from criteria.coverage import DEFAULT_PA_LIST
from criteria.models import PaListChange, PaListEntry
from criteria.pa_list import pa_list_rows

pytestmark = pytest.mark.django_db

URL = "/api/v1/coverage-requirements"


def _manager_admin(world) -> Client:
    manager = world.users["manager"]
    manager.is_staff = manager.is_superuser = True
    manager.save(update_fields=["is_staff", "is_superuser"])
    client = Client()
    client.force_login(manager)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=manager).persistent_id
    session.save()
    return client


def _coverage(api, code):
    response = api("provider").get(URL, {"code": code, "date": "2027-04-14"})
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_seeded_list_is_the_catalogue_plus_the_exemptions(world):
    assert sorted(pa_list_rows(), key=repr) == sorted(DEFAULT_PA_LIST, key=repr)
    frozen = Path(criteria.migrations.__file__).with_name("pa_list_seed.json")
    assert len(json.loads(frozen.read_text(encoding="utf-8"))) == len(DEFAULT_PA_LIST)


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("E0783", "device_with_authorized_procedure"),
        ("C1772", "device_with_authorized_procedure"),
        ("H0031", "mental_health_initial_assessment"),
        ("96130", "mental_health_service"),
        ("99283", "emergency_room_visit"),
        ("A0429", "emergency_service"),
        ("58300", "family_planning"),
        ("27447", "not_on_pa_list"),
    ],
)
def test_the_coverage_api_says_no_tar_for_exempt_and_unlisted_codes(api, world, code, rule):
    """Today's code said these "require a TAR" because every code outside the catalogue did."""
    body = _coverage(api, code)
    assert (body["tar_required"], body["status"], body["rule"]) == (False, "not_required", rule)


def test_a_pa_list_entry_the_manager_adds_in_the_admin_applies_at_once_and_is_recorded(api, world):
    client = _manager_admin(world)
    assert _coverage(api, "27447")["tar_required"] is False
    response = client.post(
        "/admin/criteria/palistentry/add/",
        {
            "code_from": "27447",
            "code_to": "27447",
            "effective_from": "2027-01-01",
            "effective_to": "",
            "tar_required": "on",
            "rule": "pa_list_required",
            "source": "UM committee minutes 2026-12",
            "description": "Total knee replacement",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    body = _coverage(api, "27447")
    assert (body["tar_required"], body["rule"], body["source"]) == (
        True,
        "pa_list_required",
        "UM committee minutes 2026-12",
    )
    added = PaListChange.objects.get()
    assert (added.action, added.changed_by) == ("added", world.users["manager"])
    assert added.after["code_from"] == "27447" and added.before is None

    entry = PaListEntry.objects.get(code_from="27447")
    response = client.post(f"/admin/criteria/palistentry/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert _coverage(api, "27447")["tar_required"] is False
    removed = PaListChange.objects.get(action="removed")
    assert removed.before["description"] == "Total knee replacement"


def test_the_manager_can_end_an_exemption_and_the_history_keeps_before_and_after(api, world):
    client = _manager_admin(world)
    entry = PaListEntry.objects.get(code_from="H0031")
    response = client.post(
        f"/admin/criteria/palistentry/{entry.pk}/change/",
        {
            "code_from": "H0031",
            "code_to": "H0031",
            "effective_from": "2020-01-01",
            "effective_to": "2027-03-31",
            "tar_required": "",
            "rule": "mental_health_initial_assessment",
            "source": entry.source,
            "description": entry.description,
        },
    )
    assert response.status_code == 302
    # From 2027-04-01 H0031 is on no entry: still no TAR, now "not on the list".
    assert _coverage(api, "H0031")["rule"] == "not_on_pa_list"
    change = PaListChange.objects.get(action="changed")
    assert change.before["effective_to"] is None
    assert change.after["effective_to"] == "2027-03-31"


def test_a_bad_range_is_refused_with_a_clear_error_and_nothing_saved(world):
    client = _manager_admin(world)
    count = PaListEntry.objects.count()
    response = client.post(
        "/admin/criteria/palistentry/add/",
        {
            "code_from": "E0786",
            "code_to": "90785",
            "effective_from": "2027-01-01",
            "tar_required": "on",
            "rule": "pa_list_required",
            "source": "x",
            "description": "x",
        },
    )
    assert response.status_code == 200
    assert "A range runs within one kind of code" in response.content.decode()
    assert PaListEntry.objects.count() == count
    assert not PaListChange.objects.exists()


@pytest.mark.clock(date(2027, 4, 14))
def test_a_device_line_needs_no_raf_on_submission(api, world, tar_payload):
    """The submission asks for a RAF only for the lines the PA list requires a TAR for."""
    payload = tar_payload(referral=None)
    payload["lines"][0]["code"] = "62367"  # pump analysis: on the list as no TAR
    response = api("provider").post("/api/v1/tars/", payload, format="json")
    assert "referral" not in response.json().get("fields", {}), response.json()
