"""Grievances in Chromium (issue 11 row 10): the member files one and the coordinator resolves
it; the member's and the coordinator's pages have no serious axe-core violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from grievances.models import Grievance
from tests import factories
from tests.portal.browser import check_accessibility, sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_files_and_coordinator_resolves(page: Page, live_server, world, axe_js):
    page.set_default_timeout(15_000)
    factories.UserFactory(username="grievances", role="grievances")
    base = live_server.url

    sign_in(page, base, "member")
    page.get_by_role("link", name="My grievances").click()
    check_accessibility(page, axe_js)
    page.get_by_role("link", name="File a grievance").click()
    check_accessibility(page, axe_js)
    page.get_by_label("What is it about?").select_option("access")
    page.get_by_label("Tell us what happened").fill("No appointment for six weeks.")
    page.get_by_role("button", name="Send my grievance").click()
    grievance = Grievance.objects.get()
    expect(page.get_by_role("heading", name=f"Grievance {grievance.number}")).to_be_visible()
    check_accessibility(page, axe_js)
    sign_out(page)

    sign_in(page, base, "grievances")
    expect(page.get_by_role("heading", name="Grievances")).to_be_visible()
    check_accessibility(page, axe_js)
    page.get_by_role("link", name=grievance.number).click()
    page.get_by_role("button", name="Acknowledge (send the letter)").click()
    page.get_by_label("Resolution (goes into the member's letter)").fill(
        "We found an appointment for you on April 20."
    )
    check_accessibility(page, axe_js)
    page.get_by_role("button", name="Resolve (send the letter)").click()
    expect(page.locator("main")).to_contain_text("We found an appointment for you on April 20.")
    grievance.refresh_from_db()
    assert grievance.status == "resolved"
