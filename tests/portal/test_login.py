"""Signing in: lockout with a clear message, role homes, the staff session timeout, POST-only
sign-out."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from tests.portal.browser import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "home"),
    [
        ("provider", "/provider/"),
        ("nurse", "/review/"),
        ("manager", "/accounts/verify/"),  # the second step first (tests/accounts/test_totp.py)
        ("physician", "/physician/"),
        ("member", "/member/"),
        ("coordinator", "/intake/"),
        ("memberservices", "/member-services/"),
    ],
)
def test_signing_in_leads_to_the_roles_home(client, world, persona, home):
    response = client.post("/accounts/login/", {"username": persona, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == home


def test_a_member_reads_in_their_written_language(client, world):
    world.member.written_language = "es"
    world.member.save()
    response = client.post("/accounts/login/", {"username": "member", "password": PASSWORD})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"


def test_a_wrong_password_says_so(client, world):
    response = client.post("/accounts/login/", {"username": "nurse", "password": "nope"})
    assert response.status_code == 400
    assert b"Wrong username or password." in response.content


def test_repeated_failures_lock_the_account_with_a_clear_message(client, world):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        client.post("/accounts/login/", {"username": "nurse", "password": "nope"})
    response = client.post("/accounts/login/", {"username": "nurse", "password": PASSWORD})
    assert response.status_code == 429
    assert b"this account is locked for 15 minutes" in response.content


def test_next_is_followed_only_within_the_site(client, world):
    ok = client.post(
        "/accounts/login/?next=/review/tars/1/", {"username": "nurse", "password": PASSWORD}
    )
    assert ok["Location"] == "/review/tars/1/"
    client.logout()
    evil = client.post(
        "/accounts/login/?next=https://evil.example/", {"username": "nurse", "password": PASSWORD}
    )
    assert evil["Location"] == "/review/"


def test_sign_out_is_a_post(client_for):
    client = client_for("nurse")
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/", follow=True)
    assert b"You are signed out." in response.content
    assert client.get("/review/").status_code == 302


def test_an_idle_staff_session_times_out_with_a_message(client_for):
    client = client_for("nurse")
    assert client.get("/review/").status_code == 200
    session = client.session
    session["last_activity"] = time.time() - (settings.STAFF_SESSION_IDLE_MINUTES + 1) * 60
    session.save()
    response = client.get("/review/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert b"Your session timed out" in response.content


def test_the_start_page_invites_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b'href="/accounts/login/"' in response.content
