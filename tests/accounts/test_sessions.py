"""Browser sessions (issue 12): an idle timeout for every role (plan staff 15 minutes,
providers and members 30) and an absolute lifetime of 12 hours however active."""

from __future__ import annotations

import time

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

HOMES = {"nurse": "/review/", "provider": "/provider/", "member": "/member/"}


def _signed_in(world, persona: str) -> Client:
    client = Client()
    client.force_login(world.users[persona])
    assert client.get(HOMES[persona]).status_code == 200
    return client


def _age(client: Client, *, idle_minutes: float = 0, since_login_hours: float = 0) -> None:
    session = client.session
    now = time.time()
    session["last_activity"] = now - idle_minutes * 60
    session["session_started"] = now - since_login_hours * 3600
    session.save()


def _timed_out(client: Client, persona: str) -> bool:
    response = client.get(HOMES[persona], follow=True)
    if response.redirect_chain and response.redirect_chain[-1][0].startswith("/accounts/login/"):
        assert b"Your session timed out" in response.content
        return True
    assert response.status_code == 200
    return False


@pytest.mark.parametrize(
    ("persona", "still_in", "out"), [("nurse", 14, 16), ("provider", 29, 31), ("member", 29, 31)]
)
def test_idle_sessions_time_out_by_role(world, persona, still_in, out):
    client = _signed_in(world, persona)
    _age(client, idle_minutes=still_in)
    assert not _timed_out(client, persona)
    _age(client, idle_minutes=out)
    assert _timed_out(client, persona)


@pytest.mark.parametrize("persona", ["nurse", "provider", "member"])
def test_sessions_end_after_twelve_hours_however_active(world, persona):
    client = _signed_in(world, persona)
    _age(client, idle_minutes=1, since_login_hours=11.9)
    assert not _timed_out(client, persona)
    _age(client, idle_minutes=1, since_login_hours=12.1)
    assert _timed_out(client, persona)


def test_the_session_cookie_lasts_no_longer_than_the_session(settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert settings.SESSION_COOKIE_HTTPONLY is True
