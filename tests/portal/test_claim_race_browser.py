"""Two nurses, two browsers, one request: the row lock lets one claim it; the other sees why
not, and cannot act on it while the first holds the claim."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from authorizations.models import Tar, TarStatus
from tests.portal.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_nurses_cannot_work_the_same_request(
    browser: Browser, live_server, submit, world, screenshots
):
    tar_id = submit()
    number = Tar.objects.get(pk=tar_id).number
    base = live_server.url
    first_context, second_context = browser.new_context(), browser.new_context()
    try:
        first, second = first_context.new_page(), second_context.new_page()
        for page in (first, second):
            page.set_default_timeout(15_000)
        sign_in(first, base, "nurse")
        sign_in(second, base, "nurse2")
        # Each nurse also has the request's page open from before the race (a stale page).
        stale = [context.new_page() for context in (first_context, second_context)]
        for page in stale:
            page.set_default_timeout(15_000)
            page.goto(f"{base}/review/tars/{tar_id}/")
        rows = [page.get_by_role("row").filter(has_text=number) for page in (first, second)]
        buttons = [row.get_by_role("button", name=re.compile("Claim")) for row in rows]
        for button in buttons:
            expect(button).to_be_visible()

        # Both click "Claim" at (nearly) the same time: the two posts are in flight together.
        for button in buttons:
            button.evaluate("button => button.form.requestSubmit(button)")
        outcomes = []
        for page in (first, second):
            success = page.get_by_text(f"You are reviewing {number}.")
            refused = page.locator(".message-error")
            expect(success.or_(refused)).to_be_visible()
            outcomes.append("won" if success.is_visible() else "refused")
        assert sorted(outcomes) == ["refused", "won"], outcomes

        loser = (first, second)[outcomes.index("refused")]
        winner_name = ("nurse", "nurse2")[outcomes.index("won")]
        expect(loser.locator(".message-error")).to_contain_text(f"It is now with {winner_name}.")
        loser.screenshot(path=str(screenshots / "17-nurse-claim-refused.png"), full_page=True)
        tar = Tar.objects.get(pk=tar_id)
        assert tar.status == TarStatus.IN_REVIEW
        assert tar.assigned_to.username == winner_name

        # Opened now, the request offers the loser nothing to do (the machine's offer)...
        loser.goto(f"{base}/review/tars/{tar_id}/")
        expect(loser.get_by_role("heading", name=re.compile(number))).to_be_visible()
        expect(loser.locator("summary", has_text="Pend for information")).to_have_count(0)
        # ...and from the page opened before the race, the claim stops them.
        loser_stale = stale[outcomes.index("refused")]
        loser_stale.locator("summary", has_text="Pend for information").click()
        loser_stale.get_by_label("What is needed from the provider").fill("Need the MRI report.")
        loser_stale.get_by_role("button", name="Pend and ask the provider").click()
        expect(loser_stale.locator(".error-summary")).to_contain_text(
            "Another nurse is reviewing this request."
        )
        assert Tar.objects.get(pk=tar_id).status == TarStatus.IN_REVIEW
    finally:
        first_context.close()
        second_context.close()
