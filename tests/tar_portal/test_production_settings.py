"""Production settings (issue 12): `manage.py check --deploy` passes with no warning, a real
mail backend is required, and the HTTPS redirect goes with the trusted proxy header."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    "DJANGO_SETTINGS_MODULE": "tar_portal.settings.production",
    "DJANGO_SECRET_KEY": "k3Jd9-vQz!p2Lw8#xT4m@Yc7Rb1&Ns6^Hf0*Ge5(Ua9)Zq2+Vo8=Ei3",
    "DJANGO_ALLOWED_HOSTS": "tar.example.org",
    "DATABASE_URL": "postgres://tar:secret@db.example.org:5432/tar_portal",
    "REDIS_URL": "redis://redis.example.org:6379/0",
    "TAR_PORTAL_URL": "https://tar.example.org",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "smtp.example.org",
    "DEFAULT_FROM_EMAIL": "um-notices@example.org",
    "TAR_VAR_DIR": "/tmp/tar_prod_check_var",
}


def _run(*args: str, **overrides: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EMAIL_"))}
    env.update(ENV)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_passes_with_no_warning():
    result = _run("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "no.such.Backend",
    ],
)
def test_production_refuses_a_mail_backend_that_delivers_nothing(backend):
    result = _run("check", EMAIL_BACKEND=backend)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "EMAIL_BACKEND" in result.stderr


def test_production_needs_the_mail_settings():
    result = _run("check", EMAIL_BACKEND=None)
    assert result.returncode != 0
    assert "Set the EMAIL_BACKEND environment variable" in result.stderr
    result = _run("check", EMAIL_HOST=None)
    assert "Set the EMAIL_HOST environment variable" in result.stderr


def test_https_redirect_cannot_be_turned_off_while_trusting_the_proxy_header():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER[0],"
        " s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.LANGUAGE_COOKIE_SECURE)"
    )
    result = _run("shell", "--no-imports", "-c", code, DJANGO_SECURE_SSL_REDIRECT="false")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "HTTP_X_FORWARDED_PROTO",
        "True",
        "True",
        "True",
        "True",
    ]


def test_docker_compose_does_not_turn_the_redirect_off():
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "DJANGO_SECURE_SSL_REDIRECT" not in compose
    assert "EMAIL_HOST: ${EMAIL_HOST:?" in compose
    assert "console.EmailBackend" not in compose
