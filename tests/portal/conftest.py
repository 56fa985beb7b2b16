"""Portal tests: Django test-client tests and Playwright tests (marked `browser`) that drive
Debian's Chromium against a live server."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.otp import otp_device_get

# pytest-playwright runs an event loop in the main thread while the tests touch the ORM there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("TAR_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-sync",
    "--disable-component-update",
]
PO_FILE = ROOT / "portal" / "locale" / "es" / "LC_MESSAGES" / "django.po"


def _missing(what: str) -> None:
    """CI installs Chromium and axe-core (.ci/run); elsewhere a missing one skips the test."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: CI must install it (see .ci/run and `make install`).")
    pytest.skip(f"{what} is missing: `apt-get install chromium` and `npm ci` (make install).")


@pytest.fixture(scope="session", autouse=True)
def _spanish_catalogue():
    """`make install` compiles the Spanish catalogue; compile it here too when it is stale so
    that a plain `pytest` run after editing the .po tests the new words."""
    mo_file = PO_FILE.with_suffix(".mo")
    stale = not mo_file.exists() or mo_file.stat().st_mtime < PO_FILE.stat().st_mtime
    if stale and shutil.which("msgfmt"):
        subprocess.run(["msgfmt", "-o", str(mo_file), str(PO_FILE)], check=True)  # noqa: S603, S607
        from django.utils import translation

        translation.trans_real._translations = {}
        translation.trans_real._default = None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        _missing(f"Chromium ({CHROMIUM})")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-US", "timezone_id": "America/Los_Angeles"}


@pytest.fixture(scope="session")
def axe_js() -> Path:
    if not AXE_JS.exists():
        _missing(f"axe-core ({AXE_JS})")
    return AXE_JS


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def client_for(world, client):
    """client_for("nurse") → the Django test client signed in as that persona, with the
    second step passed for a persona with an authenticator (the manager; accounts.otp)."""

    def login(persona: str):
        client.logout()
        user = world.users[persona]
        client.force_login(user)
        device = otp_device_get(user=user)
        if device is not None:
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        return client

    return login
