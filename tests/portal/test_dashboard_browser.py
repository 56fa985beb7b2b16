"""The provider dashboard in Chromium (issue 15): status tabs with their counts, the search,
and axe-core clean on each view."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from authorizations.models import Tar, TarStatus
from tests.portal.browser import check_accessibility, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tabs_counts_and_search(page: Page, live_server, submit, world, axe_js):
    page.set_default_timeout(15_000)
    first = Tar.objects.get(pk=submit())
    pended = Tar.objects.get(pk=submit())
    Tar.objects.filter(pk=pended.pk).update(status=TarStatus.PENDED)
    sign_in(page, live_server.url, "provider")
    page.goto(f"{live_server.url}/provider/")
    tabs = page.get_by_role("navigation", name="Requests by status")
    expect(tabs.get_by_role("link", name="All requests (2)")).to_have_attribute(
        "aria-current", "page"
    )
    check_accessibility(page, axe_js)

    tabs.get_by_role("link", name="Needs your action (1)").click()
    expect(page.locator("tbody")).to_contain_text(pended.number)
    expect(page.locator("tbody")).not_to_contain_text(first.number)
    check_accessibility(page, axe_js)

    page.get_by_label("Search by TAR number, CIN, member name or NPI").fill(first.number)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("No requests match")).to_be_visible()  # not pended
    tabs = page.get_by_role("navigation", name="Requests by status")
    tabs.get_by_role("link", name="In review (1)").click()
    expect(page.locator("tbody")).to_contain_text(first.number)
    expect(page.get_by_label("Search by TAR number, CIN, member name or NPI")).to_have_value(
        first.number
    )
    check_accessibility(page, axe_js)
