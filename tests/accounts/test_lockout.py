"""Login lockout (README): after five wrong passwords in a row an account is locked for 15
minutes, on every login path; a locked account gets 429 `locked`, even with the right
password, until the lock expires."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"
PASSWORD = "pw-for-tests-1"  # tests/factories.py UserFactory


def _login(username: str, password: str):
    return APIClient().post(URL, {"username": username, "password": password}, format="json")


def _shape(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert body["fields"] == {} or isinstance(body["fields"], dict)
    assert "token" not in body
    return body


def _fail(username: str, times: int) -> list:
    return [_login(username, "wrong-password") for _ in range(times)]


def test_limits_are_the_documented_ones(settings):
    assert settings.LOGIN_MAX_FAILURES == 5
    assert settings.LOGIN_LOCKOUT_MINUTES == 15


def test_good_login_gives_a_token_that_authenticates(world):
    response = _login("nurse", PASSWORD)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["username"] == "nurse"
    assert body["role"] == "nurse"
    assert body["expiry"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert client.get("/api/v1/tars/").status_code == 200
    # Each login is its own client with its own token (accounts/tokens.py); both work.
    second = _login("nurse", PASSWORD).json()["token"]
    assert second != body["token"]
    assert AuthToken.objects.filter(user=world.users["nurse"]).count() == 2


def test_wrong_password_is_401_in_the_error_shape(world):
    body = _shape(_login("nurse", "nope"), 401, "not_authenticated")
    assert body["fields"] == {}


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(world):
    unknown = _shape(_login("nobody-here", "nope"), 401, "not_authenticated")
    wrong = _shape(_login("nurse", "nope"), 401, "not_authenticated")
    assert unknown == wrong


def test_lockout_answers_the_same_for_unknown_and_known_usernames(world):
    """Issue 12: after five tries an unknown username is "locked" too, so the 429 does not
    tell which usernames have an account."""
    known = [(r.status_code, r.json()) for r in _fail("nurse", 7)]
    unknown = [(r.status_code, r.json()) for r in _fail("nobody-here", 7)]
    assert known == unknown
    assert [status for status, _ in known] == [401] * 4 + [429] * 3
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        _shape(_login("nobody-here", "nope"), 401, "not_authenticated")


def test_missing_password_is_a_400_naming_the_field(world):
    response = APIClient().post(URL, {"username": "nurse"}, format="json")
    body = _shape(response, 400, "invalid")
    assert "password" in body["fields"]


def test_bad_token_is_401(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    _shape(client.get("/api/v1/tars/"), 401, "not_authenticated")


def test_five_wrong_passwords_lock_the_account(world):
    responses = _fail("nurse", 5)
    for response in responses[:4]:
        _shape(response, 401, "not_authenticated")
    body = _shape(responses[4], 429, "locked")
    assert "15 minutes" in body["message"]
    user = User.objects.get(username="nurse")
    assert user.locked_until is not None
    remaining = user.locked_until - timezone.now()
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)


def test_the_right_password_is_refused_while_locked(world):
    _fail("nurse", 5)
    _shape(_login("nurse", PASSWORD), 429, "locked")
    _shape(_login("nurse", "still-wrong"), 429, "locked")
    assert not AuthToken.objects.filter(user__username="nurse").exists()


def test_the_lock_holds_until_it_expires(world):
    _fail("nurse", 5)
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=14, seconds=50), tick=False):
        _shape(_login("nurse", PASSWORD), 429, "locked")
    with time_machine.travel(start + timedelta(minutes=15, seconds=5), tick=False):
        response = _login("nurse", PASSWORD)
        assert response.status_code == 200, response.json()
        assert response.json()["token"]
    user = User.objects.get(username="nurse")
    assert user.locked_until is None
    assert user.failed_login_count == 0


def test_after_the_lock_expires_the_count_starts_again(world):
    _fail("nurse", 5)
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        for response in _fail("nurse", 4):
            _shape(response, 401, "not_authenticated")
        _shape(_login("nurse", "wrong-again"), 429, "locked")


def test_a_good_login_resets_the_count(world):
    _fail("nurse", 4)
    assert _login("nurse", PASSWORD).status_code == 200
    for response in _fail("nurse", 4):
        _shape(response, 401, "not_authenticated")
    assert _login("nurse", PASSWORD).status_code == 200


def test_the_lock_is_per_account(world):
    _fail("nurse", 5)
    assert _login("nurse2", PASSWORD).status_code == 200
    assert _login("provider", PASSWORD).status_code == 200


def test_a_locked_account_cannot_log_in_to_the_browser_either(world):
    """The lockout backend serves every login path: admin, portal and API token."""
    _fail("manager", 5)
    assert Client().login(username="manager", password=PASSWORD) is False
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        assert Client().login(username="manager", password=PASSWORD) is True


def test_browser_login_failures_count_towards_the_lock(world):
    for _ in range(5):
        assert Client().login(username="physician", password="wrong") is False
    _shape(_login("physician", PASSWORD), 429, "locked")


def test_inactive_user_cannot_get_a_token(world):
    User.objects.filter(username="nurse2").update(is_active=False)
    _shape(_login("nurse2", PASSWORD), 401, "not_authenticated")
