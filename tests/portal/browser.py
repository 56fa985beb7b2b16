"""Helpers for the Playwright tests: sign in, accessibility checks, screenshots, a tiny PDF."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page, expect

PASSWORD = "pw-for-tests-1"  # tests/factories.py UserFactory
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# A one-page PDF: enough for the content sniffing of the attachment service.
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

_UNLABELLED_FIELDS_JS = """
() => Array.from(document.querySelectorAll(
        'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea'))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id || el.outerHTML.slice(0, 80))
"""


def sign_in(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {username}", exact=False)).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def check_accessibility(page: Page, axe_js: Path) -> None:
    """axe-core finds no serious or critical WCAG 2.1 A/AA violation, and every form field
    has a label."""
    unlabelled = page.evaluate(_UNLABELLED_FIELDS_JS)
    assert unlabelled == [], f"{page.url}: fields without a label: {unlabelled}"
    # Evaluated through the DevTools protocol, not as a <script> tag: the portal's CSP
    # (script-src 'self', no inline script) rightly blocks an injected inline script.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_js.read_text() + "\n;undefined")
    results = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_TAGS,
    )
    serious = [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"{page.url}: {json.dumps(serious, indent=2)}"


def shot(page: Page, directory: Path, name: str) -> Path:
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def checked_page(page: Page, axe_js: Path, directory: Path, name: str) -> None:
    """A main page: screenshot it and check its accessibility."""
    shot(page, directory, name)
    check_accessibility(page, axe_js)
