"""The TOTP second factor (issue 12, accounts.otp): required for the UM manager, optional for
other plan staff, none for providers and members; portal pages and API tokens alike. Codes
are computed from the device key at a pinned time, as an authenticator app would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.otp import API_LOGIN_REFUSED

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"  # tests/factories.py UserFactory
TOKEN_URL = "/api/v1/auth/token/"
NOW = datetime(2026, 3, 2, 17, 0, 10, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def code_for(device: TOTPDevice) -> str:
    """The code the user's app shows now."""
    device.refresh_from_db()
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{value:0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    return f"{(int(code_for(device)) + 1) % 1_000_000:06d}"


def next_window(clock) -> None:
    """Half a minute later: a new code, and past the throttle delay after a wrong one."""
    clock.shift(timedelta(seconds=31))


def sign_in(username: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    client.first_location = response["Location"]
    return client


def _device(world, persona: str) -> TOTPDevice:
    return TOTPDevice.objects.get(user=world.users[persona], confirmed=True)


def test_a_manager_without_a_device_must_enrol_before_any_page(world, clock):
    TOTPDevice.objects.filter(user=world.users["manager"]).delete()
    client = sign_in("manager")
    assert client.first_location == "/accounts/two-step/"
    for url in ("/review/", "/imr/", "/accounts/", "/admin/", "/accounts/verify/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/two-step/"), url
    page = client.get("/accounts/two-step/")
    device = TOTPDevice.objects.get(user=world.users["manager"], confirmed=False)
    secret = page.context["secret"]
    assert secret in page.content.decode()
    assert page.context["otpauth_uri"].startswith("otpauth://totp/TAR%20Portal%3Amanager?")
    assert client.get("/accounts/two-step/").context["secret"] == secret  # stable on reload

    refused = client.post("/accounts/two-step/", {"code": wrong_code(device)})
    assert refused.status_code == 400
    assert b"That code is not right" in refused.content
    assert client.get("/review/").status_code == 302

    next_window(clock)
    confirmed = client.post("/accounts/two-step/?next=/imr/", {"code": code_for(device)})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/imr/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/review/").status_code == 200
    assert client.get("/accounts/").status_code == 200


def test_a_manager_with_a_device_must_give_the_code(world, clock):
    device = _device(world, "manager")
    client = sign_in("manager")
    assert client.first_location == "/accounts/verify/"
    redirected = client.get("/review/tars/1/")
    assert redirected["Location"] == "/accounts/verify/?next=%2Freview%2Ftars%2F1%2F"
    # The API, through the same browser session, is closed too.
    api = client.get("/api/v1/tars/")
    assert api.status_code == 403
    assert api.json()["code"] == "permission_denied"
    # A password alone does not let anyone enrol another app in place of the manager's.
    assert client.get("/accounts/two-step/")["Location"].startswith("/accounts/verify/")

    refused = client.post("/accounts/verify/", {"code": wrong_code(device)})
    assert refused.status_code == 400
    assert b"That code is not right" in refused.content
    assert client.post("/accounts/verify/", {"code": "12ab"}).status_code == 400
    assert client.get("/review/").status_code == 302

    next_window(clock)
    verified = client.post("/accounts/verify/", {"code": code_for(device)})
    assert verified.status_code == 302
    assert verified["Location"] == "/reports/"  # the manager's home: the dashboard (issue 13)
    assert client.get("/review/").status_code == 200
    assert client.get("/api/v1/tars/").status_code == 200


def test_a_code_is_accepted_only_once(world, clock):
    device = _device(world, "manager")
    code = code_for(device)
    first = sign_in("manager")
    assert first.post("/accounts/verify/", {"code": code}).status_code == 302
    second = sign_in("manager")
    assert second.post("/accounts/verify/", {"code": code}).status_code == 400


def test_staff_enrol_from_their_account_page_and_then_must_verify(world, clock):
    client = sign_in("nurse")
    assert client.first_location == "/review/"  # optional: off until they turn it on
    account = client.get("/accounts/")
    assert account.status_code == 200
    assert b"Set up two-step sign-in" in account.content
    client.get("/accounts/two-step/")
    device = TOTPDevice.objects.get(user=world.users["nurse"], confirmed=False)
    done = client.post("/accounts/two-step/", {"code": code_for(device)})
    assert done["Location"] == "/review/"
    assert b"Replace your authenticator app" in client.get("/accounts/").content

    next_window(clock)
    again = sign_in("nurse")
    assert again.first_location == "/accounts/verify/"
    assert again.get("/review/")["Location"].startswith("/accounts/verify/")
    assert again.post("/accounts/verify/", {"code": code_for(device)})["Location"] == "/review/"
    assert again.get("/review/").status_code == 200


def test_staff_without_a_device_and_providers_are_not_asked(world, clock):
    nurse = sign_in("nurse")
    assert nurse.get("/review/").status_code == 200
    provider = sign_in("provider")
    assert provider.first_location == "/provider/"
    assert provider.get("/provider/").status_code == 200
    # Providers and members have no second factor to set up.
    assert provider.get("/accounts/two-step/").status_code == 403


def test_wrong_codes_count_towards_the_lockout(world, clock, settings):
    device = _device(world, "manager")
    client = sign_in("manager")
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        assert client.post("/accounts/verify/", {"code": wrong_code(device)}).status_code == 400
        next_window(clock)
    locked = client.post("/accounts/verify/", {"code": wrong_code(device)})
    assert locked["Location"] == "/accounts/login/"
    assert client.get("/review/")["Location"].startswith("/accounts/login/")


# --- API tokens --------------------------------------------------------------------------


def _token(username: str, password: str = PASSWORD, **extra):
    body = {"username": username, "password": password, **extra}
    return APIClient().post(TOKEN_URL, body, format="json")


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert "token" not in body
    return body


def test_an_api_token_for_the_manager_needs_the_code(world, clock):
    device = _device(world, "manager")
    missing = _error(_token("manager"), 401, "not_authenticated")
    wrong = _error(_token("manager", otp=wrong_code(device)), 401, "not_authenticated")
    next_window(clock)
    # A right code with a wrong password: the same answer, so a missing or wrong code never
    # tells whether the password was right.
    bad_password = _error(
        _token("manager", password="wrong-password", otp=code_for(device)), 401, "not_authenticated"
    )
    assert missing == wrong == bad_password
    assert missing["message"] == API_LOGIN_REFUSED
    unknown = _error(_token("nobody", otp="123456"), 401, "not_authenticated")
    assert unknown == missing

    next_window(clock)
    ok = _token("manager", otp=code_for(device))
    assert ok.status_code == 200, ok.content
    assert ok.json()["role"] == "manager"
    token = ok.json()["token"]
    assert APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/tars/").status_code == 200


def test_a_manager_without_a_device_gets_no_api_token(world, clock):
    TOTPDevice.objects.filter(user=world.users["manager"]).delete()
    body = _error(_token("manager", otp="123456"), 403, "permission_denied")
    assert "portal" in body["message"]
    _error(_token("manager", password="wrong-password"), 401, "not_authenticated")


def test_api_tokens_for_staff_with_a_device_need_the_code(world, clock):
    device = TOTPDevice.objects.create(user=world.users["nurse"], name="app", confirmed=True)
    _error(_token("nurse"), 401, "not_authenticated")
    assert _token("nurse", otp=code_for(device)).status_code == 200
    # No device, no code: as before.
    assert _token("nurse2").status_code == 200
    assert _token("provider").status_code == 200
    assert _token("provider", otp="").status_code == 200


def test_wrong_api_codes_lock_the_account(world, clock, settings):
    device = _device(world, "manager")
    for _ in range(settings.LOGIN_MAX_FAILURES):
        _error(_token("manager", otp=wrong_code(device)), 401, "not_authenticated")
        next_window(clock)
    _error(_token("manager", otp=code_for(device)), 429, "locked")
