"""First run (issue 15): a refused request is logged as one line without a traceback, and
development mail goes to files under var/ rather than flooding the console."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_a_403_is_logged_on_one_line_without_a_traceback(client, world):
    client.force_login(world.users["member"])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = client.get("/review/")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 403
    text = stream.getvalue()
    assert "Forbidden" in text and "/review/" in text
    assert "Traceback" not in text and text.strip().count("\n") == 0, text


def test_other_errors_keep_their_traceback():
    from tar_portal.logging import ForbiddenOneLineFilter

    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("django.request", logging.ERROR, "", 0, "x", (), sys.exc_info())
    record.status_code = 500
    assert ForbiddenOneLineFilter().filter(record) and record.exc_info is not None
    assert "forbidden_one_line" in settings.LOGGING["loggers"]["django.request"]["filters"]


def test_development_mail_goes_to_files_under_var(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("EMAIL_BACKEND", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        {"TAR_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "tar_portal.settings.development"}
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings as s; "
            "print(s.EMAIL_BACKEND); print(s.EMAIL_FILE_PATH)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["django.core.mail.backends.filebased.EmailBackend", str(tmp_path / "mail")]
