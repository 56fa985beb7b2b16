"""API tokens (issue 12): expiring, revocable, one per client, revoked on a password change
and on lockout; `POST /api/v1/auth/token/` keeps `username`, `password` → `token` (+ expiry)
and `Authorization: Token <key>` keeps working."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"
PASSWORD = "pw-for-tests-1"


def _token(username: str = "nurse") -> dict:
    response = APIClient().post(URL, {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def _status(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/tars/").status_code


def test_token_expires_after_its_lifetime(world, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        body = _token()
        expiry = parse_datetime(body["expiry"])
        assert expiry - start == timedelta(hours=12)
        assert _status(body["token"]) == 200
    with time_machine.travel(start + timedelta(hours=11, minutes=59), tick=False):
        assert _status(body["token"]) == 200  # no silent refresh either
    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        assert _status(body["token"]) == 401


def test_tokens_are_stored_as_digests_only(world):
    key = _token()["token"]
    assert not AuthToken.objects.filter(digest=key).exists()
    assert AuthToken.objects.get(user__username="nurse").digest != key


def test_each_client_gets_its_own_token_and_old_ones_are_dropped(world, settings):
    settings.API_TOKENS_PER_USER = 3
    keys = [_token()["token"] for _ in range(4)]
    assert len(set(keys)) == 4
    assert AuthToken.objects.filter(user__username="nurse").count() == 3
    assert _status(keys[0]) == 401  # the oldest client was signed out
    assert [_status(k) for k in keys[1:]] == [200, 200, 200]


def test_a_password_change_revokes_every_token(world):
    keys = [_token()["token"] for _ in range(2)]
    other = _token("nurse2")["token"]
    user = User.objects.get(username="nurse")
    user.set_password("a-new-password-2026")
    user.save()
    assert [_status(k) for k in keys] == [401, 401]
    assert _status(other) == 200


def test_a_password_hash_upgrade_is_not_a_change(world, settings):
    key = _token()["token"]
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    user = User.objects.get(username="nurse")
    assert user.check_password(PASSWORD)  # rehashes with PBKDF2 and saves
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_")
    assert _status(key) == 200


def test_lockout_revokes_every_token(world):
    key = _token()["token"]
    for _ in range(5):
        APIClient().post(URL, {"username": "nurse", "password": "wrong"}, format="json")
    assert _status(key) == 401


def test_a_deactivated_user_token_stops_working(world):
    key = _token()["token"]
    User.objects.filter(username="nurse").update(is_active=False)
    assert _status(key) == 401
