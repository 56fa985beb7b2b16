"""The UM manager's dashboard and the public metrics page in Chromium: the manager signs in
with the second factor and lands on the dashboard; both pages are axe-core clean (WCAG 2.1
A/AA), charts are images with text alternatives beside data tables, and a figure opens the
requests behind it. The public page needs no sign-in."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests.portal.browser import PASSWORD, check_accessibility
from tests.reports.builders import decide, hours_after, make_tar, pt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _history(world) -> None:
    for day in range(1, 6):
        tar = make_tar(
            world,
            received_at=pt(2026, 1, day + 4),
            organization=world.coastal if day % 2 else world.redwood,
        )
        decide(
            tar,
            "approved" if day != 3 else "denied",
            at=hours_after(tar, 20 + day),
            by=world.users["physician"],
            reason_code="medical_necessity" if day == 3 else "",
        )
    make_tar(world, received_at=pt(2026, 1, 12), due_hours=2)  # open and overdue


def _manager_sign_in(page: Page, base: str, world) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    device = TOTPDevice.objects.get(user=world.users["manager"], confirmed=True)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    page.get_by_label("Verification code").fill(f"{code:06d}")
    page.get_by_role("button", name="Verify").click()


def test_the_dashboard_in_chromium_is_accessible(page: Page, live_server, world, axe_js):
    _history(world)
    _manager_sign_in(page, live_server.url, world)
    expect(page.get_by_role("heading", name="Utilization management dashboard")).to_be_visible()
    assert page.url.rstrip("/").endswith("/reports")
    page.goto(f"{live_server.url}/reports/?from=2026-01-01&to=2026-01-31")
    charts = page.locator("img.chart")
    assert charts.count() == 4
    for i in range(charts.count()):
        assert charts.nth(i).get_attribute("alt")
        # The SVG was drawn and decoded by the browser.
        assert charts.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
    check_accessibility(page, axe_js)
    page.locator(".figure-card", has_text="First decisions").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Requests first decided in the period"
    )
    expect(page.locator("tbody tr")).to_have_count(5)
    check_accessibility(page, axe_js)
    page.goto(f"{live_server.url}/reports/timeliness/?from=2026-01-01&to=2026-01-31")
    check_accessibility(page, axe_js)


def test_the_public_page_in_chromium_without_signing_in(page: Page, live_server, world, axe_js):
    _history(world)
    page.goto(f"{live_server.url}/transparency/prior-authorization/?year=2026")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Prior-authorization metrics, 2026"
    )
    expect(
        page.get_by_role("rowheader", name="Standard requests approved", exact=True)
    ).to_be_visible()
    check_accessibility(page, axe_js)
