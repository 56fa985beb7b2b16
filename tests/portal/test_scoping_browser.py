"""Scoping, seen from the browser: another organization's or member's request is neither
listed nor reachable by typing its address."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from authorizations.models import Tar
from tests.portal.browser import sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_other_organizations_and_members_see_nothing(page: Page, live_server, submit, world):
    page.set_default_timeout(15_000)
    base = live_server.url
    tar = Tar.objects.get(pk=submit())

    sign_in(page, base, "provider2")
    expect(
        page.get_by_role("heading", name="Requests of Coastal Spine & Pain Center")
    ).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(tar.number)
    expect(page.locator("main")).not_to_contain_text(world.member.cin)
    response = page.goto(f"{base}/provider/tars/{tar.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found.")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(world.member.full_name)
    page.goto(f"{base}/provider/")
    sign_out(page)

    sign_in(page, base, "other_member")
    expect(page.locator("main")).not_to_contain_text(tar.number)
    response = page.goto(f"{base}/member/tars/{tar.pk}/")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text(world.member.full_name)
    response = page.goto(f"{base}/review/tars/{tar.pk}/")
    assert response.status == 403
