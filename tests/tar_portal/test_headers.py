"""Transport and headers (issue 12): a Content-Security-Policy without inline script,
`Cache-Control: no-store` on every PHI response, Referrer-Policy and Permissions-Policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def _csp(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def test_pages_carry_a_strict_content_security_policy(client):
    policy = _csp(client.get("/accounts/login/"))
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in str(policy) and "unsafe-eval" not in str(policy)


def test_no_template_has_an_inline_script_or_style():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    offenders = []
    # Letters and the IMR packet are PDFs rendered by WeasyPrint, never served as pages.
    pages = [
        p
        for p in TEMPLATES.rglob("*.html")
        if p.relative_to(TEMPLATES).parts[0] not in {"notifications", "appeals"}
    ]
    assert pages
    for path in pages:
        text = path.read_text()
        if inline_script.search(text) or handler.search(text):
            offenders.append(str(path))
        if "<style" in text or re.search(r"\sstyle=", text):
            offenders.append(str(path))
    assert offenders == []


def test_api_docs_load_their_script_from_a_file(client, world):
    client.force_login(world.users["nurse"])
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    assert b"<script>" not in page.content
    assert client.get("/api/v1/docs/?script=").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/provider/", "/api/v1/tars/", "/api/v1/members/?cin=90000001A&date_of_birth=1970-01-01"],
)
def test_signed_in_pages_and_api_responses_are_not_stored(client, world, path):
    client.force_login(world.users["provider"])
    response = client.get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_api_errors_are_not_stored_either(client):
    response = client.get("/api/v1/tars/")
    assert response.status_code in (401, 403)
    assert "no-store" in response["Cache-Control"]


def test_referrer_and_permissions_policies(client):
    response = client.get("/accounts/login/")
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
