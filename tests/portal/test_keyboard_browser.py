"""The key steps of the journey with the keyboard alone: only keyboard.press and keyboard.type
drive the pages (Tab to move, Enter/Space to act, arrows and type-ahead in radios and
selects). Reaching every control with Tab, and seeing where the focus is, is the point."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from authorizations.models import Tar, TarStatus
from tests.portal.browser import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_FOCUSED = """(sel) => {
  const el = document.activeElement;
  if (!el || !el.matches(sel)) return null;
  const style = getComputedStyle(el);
  return {outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
          shadow: style.boxShadow !== 'none'};
}"""


def tab_to(page: Page, selector: str, *, limit: int = 150) -> None:
    """Press Tab until the focus is on `selector`; the focus must be visibly marked."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = page.evaluate(_FOCUSED, selector)
        if state is not None:
            assert state["outline"] or state["shadow"], f"no visible focus on {selector}"
            return
    raise AssertionError(f"Tab never reached {selector} on {page.url}")


def keyboard_sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    tab_to(page, "#id_username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()


def test_journey_with_the_keyboard_alone(browser, live_server, world):
    base = live_server.url
    start = timezone.localdate() + timedelta(days=14)
    contexts = []

    def new_page() -> Page:
        context = browser.new_context(locale="en-US", timezone_id="America/Los_Angeles")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    try:
        # --- provider: a new request, start to finish ------------------------------------------
        page = new_page()
        keyboard_sign_in(page, base, "provider")
        tab_to(page, "form[action$='/provider/drafts/new'] button")
        page.keyboard.press("Enter")

        expect(page.get_by_role("heading", name="New request: find the member")).to_be_visible()
        tab_to(page, "#id_cin")
        page.keyboard.type(world.member.cin)
        page.keyboard.press("Tab")
        page.keyboard.type(world.member.date_of_birth.strftime("%m%d%Y"))
        tab_to(page, "button[value=lookup]")
        page.keyboard.press("Enter")
        expect(page.get_by_text("Eligible for Medi-Cal with the plan")).to_be_visible()
        tab_to(page, "button[value=continue]")
        page.keyboard.press("Enter")

        expect(
            page.get_by_role("heading", name="New request: request and services")
        ).to_be_visible()
        tab_to(page, "#id_referral")
        page.keyboard.press("ArrowDown")  # from "No referral" to the member's RAF
        tab_to(page, "#id_line-0-code")
        page.keyboard.type("64483")
        tab_to(page, "#id_line-0-diagnosis_codes")
        page.keyboard.type("M54.16")
        tab_to(page, "#id_line-0-spinal_region")
        page.keyboard.type("Lumbar")
        tab_to(page, "#id_line-0-service_date_from")
        page.keyboard.type(start.strftime("%m%d%Y"))
        tab_to(page, "#id_line-0-service_date_to")
        page.keyboard.type((start + timedelta(days=30)).strftime("%m%d%Y"))
        tab_to(page, "button[value=continue]")
        page.keyboard.press("Enter")

        expect(page.get_by_role("heading", name="New request: clinical questions")).to_be_visible()
        tab_to(page, "input[name=radicular_findings]")
        page.keyboard.press("ArrowDown")  # "Not known yet" → wraps round to "Yes"
        tab_to(page, "#id_pain_duration_weeks")
        page.keyboard.type("10")
        tab_to(page, "form[data-autosave] button[type=submit]")
        page.keyboard.press("Enter")

        expect(page.get_by_role("heading", name="New request: documents")).to_be_visible()
        tab_to(page, "button[value=continue]")
        page.keyboard.press("Enter")

        expect(page.get_by_role("heading", name="New request: review and submit")).to_be_visible()
        tab_to(page, "form[action$='/submit'] button")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Request submitted")).to_be_visible()
        tar = Tar.objects.get()
        assert tar.answers == {"radicular_findings": True, "pain_duration_weeks": 10}
        assert tar.referral_id == world.referral.pk

        # --- nurse: claim, then refer -----------------------------------------------------------
        page = new_page()
        keyboard_sign_in(page, base, "nurse")
        tab_to(page, f"form[action$='/review/tars/{tar.pk}/claim'] button")
        page.keyboard.press("Enter")
        expect(page.get_by_text(f"You are reviewing {tar.number}.")).to_be_visible()
        tab_to(page, "details:has(form[action$='/refer']) > summary")
        page.keyboard.press("Enter")
        tab_to(page, "#id_refer-note")
        page.keyboard.type("Most criteria are unanswered; please review.")
        tab_to(page, "form[action$='/refer'] button")
        page.keyboard.press("Enter")
        expect(page.get_by_text("referred to a physician reviewer")).to_be_visible()

        # --- physician: deny, citing a criterion --------------------------------------------------
        page = new_page()
        keyboard_sign_in(page, base, "physician")
        tab_to(page, f"a[href$='/physician/tars/{tar.pk}/']")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name=f"Decide {tar.number}")).to_be_visible()
        tab_to(page, "input[name=outcome]")  # nothing chosen yet: the first option
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")  # Approve → Modify → Deny
        tab_to(page, "#id_reason_code")
        page.keyboard.type("Does not meet")
        tab_to(page, "#id_rationale")
        page.keyboard.type("The records do not show that care was tried for 4 weeks.")
        tab_to(page, "#id_criteria_refs_2")
        page.keyboard.press("Space")
        tab_to(page, "#decide button[type=submit]")
        page.keyboard.press("Enter")
        expect(page.get_by_text("Your decision was recorded")).to_be_visible()
        tar.refresh_from_db()
        assert tar.status == TarStatus.DENIED
        assert [ref["ref"] for ref in tar.decisions.get().criteria_refs] == ["esi:2026.1:3"]
    finally:
        for context in contexts:
            context.close()
