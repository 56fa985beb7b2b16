"""The whole journey in Chromium: provider submits → nurse pends → provider answers → nurse
refers → physician denies citing criteria → member sees the notice and asks for the criteria.
Every main page is screenshot (artifacts/screenshots/) and checked with axe-core."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from authorizations.models import Tar, TarStatus
from tests.portal.browser import TINY_PDF, checked_page, sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# ESI answers that leave the functional scale unknown and fail the conservative-care weeks:
# the nurse asks for the scale, and a physician must look at the rest (PRODUCT §6).
ANSWERS_TEXT = {
    "How many weeks has this pain lasted?": "10",
    "What is the member's baseline pain score, from 0 to 10?": "7",
    "How many weeks of conservative care has the member tried without enough relief?": "2",
    "How many spinal levels will be treated in this session?": "1",
    "How many sessions of this procedure has the member had in this region in the last "
    "12 months?": "0",
}


def _fieldset(page: Page, legend: str):
    return page.locator("fieldset").filter(has=page.locator("legend", has_text=legend))


def test_full_journey(page: Page, live_server, world, axe_js, screenshots):
    page.set_default_timeout(15_000)
    base = live_server.url
    member = world.member
    start = timezone.localdate() + timedelta(days=10)

    # --- provider submits -------------------------------------------------------------------
    page.goto(f"{base}/accounts/login/")
    checked_page(page, axe_js, screenshots, "01-login")
    sign_in(page, base, "provider")
    expect(page).to_have_url(f"{base}/provider/")
    checked_page(page, axe_js, screenshots, "02-provider-dashboard")

    page.get_by_role("button", name="Start a new request (TAR)").click()
    page.get_by_label("Member CIN").fill(member.cin)
    page.get_by_label("Date of birth").fill(member.date_of_birth.isoformat())
    page.get_by_role("button", name="Find member").click()
    expect(page.get_by_text("Eligible for Medi-Cal with the plan")).to_be_visible()
    checked_page(page, axe_js, screenshots, "03-new-tar-member")
    page.get_by_role("button", name="Continue with this member").click()

    page.get_by_label("Referral (RAF) from the member's PCP").select_option(str(world.referral.pk))
    page.get_by_label("Place of service").select_option("24")
    page.get_by_label("Procedure code (CPT/HCPCS)").fill("64483")
    page.get_by_label("Diagnosis codes (ICD-10-CM)").fill("M54.16")
    page.get_by_label("Spinal region").select_option("lumbar")
    page.get_by_label("Service from").fill(start.isoformat())
    page.get_by_label("Service to").fill((start + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Check whether a TAR is needed").click()
    expect(page.locator(".coverage")).to_contain_text("TAR required")
    checked_page(page, axe_js, screenshots, "04-new-tar-request")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="New request: clinical questions")).to_be_visible()
    for label, value in ANSWERS_TEXT.items():
        page.get_by_label(label, exact=True).fill(value)
    _fieldset(page, "Do history, exam and imaging agree").get_by_label("Yes").check()
    modalities = _fieldset(page, "Which conservative treatments were tried?")
    modalities.get_by_label("Medicines").check()
    modalities.get_by_label("Physical therapy").check()
    _fieldset(page, "Which image guidance will be used?").get_by_label("Fluoroscopy").check()
    _fieldset(page, "Which approach will be used?").get_by_label("Transforaminal").check()
    checked_page(page, axe_js, screenshots, "05-new-tar-questions")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="New request: documents")).to_be_visible()
    page.get_by_label("Document").set_input_files(
        {"name": "clinic-note.pdf", "mimeType": "application/pdf", "buffer": TINY_PDF}
    )
    page.get_by_label("Description").fill("Clinic note")
    page.get_by_role("button", name="Add document").click()
    expect(page.get_by_text("clinic-note.pdf was added.")).to_be_visible()
    checked_page(page, axe_js, screenshots, "06-new-tar-documents")
    page.get_by_role("button", name="Continue to review").click()

    expect(page.get_by_text("If you submit now, the plan's decision is due by")).to_be_visible()
    checked_page(page, axe_js, screenshots, "07-new-tar-review")
    page.get_by_role("button", name="Submit the request").click()

    expect(page.get_by_role("heading", name="Request submitted")).to_be_visible()
    tar = Tar.objects.get()
    expect(page.locator(".confirmation")).to_contain_text(tar.number)
    checked_page(page, axe_js, screenshots, "08-provider-confirmation")
    assert tar.channel == "portal"
    assert tar.attachments.count() == 1
    sign_out(page)

    # --- nurse claims and pends ---------------------------------------------------------------
    sign_in(page, base, "nurse")
    expect(page).to_have_url(f"{base}/review/")
    row = page.get_by_role("row").filter(has_text=tar.number)
    expect(row.locator(".due")).to_contain_text("On time")
    checked_page(page, axe_js, screenshots, "09-nurse-queue")
    row.get_by_role("button", name=re.compile("Claim")).click()
    expect(page.get_by_text(f"You are reviewing {tar.number}.")).to_be_visible()
    expect(page.locator("table.criteria").first).to_contain_text("Not met")
    checked_page(page, axe_js, screenshots, "10-nurse-review")
    page.locator("summary", has_text="Pend for information").click()
    page.get_by_label("What is needed from the provider").fill(
        "Please send the baseline functional score (ODI)."
    )
    functional = page.get_by_label(
        "Is a baseline functional score documented (for example ODI or NDI)?"
    )
    expect(functional).to_be_checked()  # the evaluation's missing answer, preselected
    page.get_by_role("button", name="Pend and ask the provider").click()
    expect(page.get_by_text("The request is pended")).to_be_visible()
    sign_out(page)

    # --- provider answers ---------------------------------------------------------------------
    sign_in(page, base, "provider")
    row = page.get_by_role("row").filter(has_text=tar.number)
    expect(row).to_contain_text("Please send the baseline functional score")
    row.get_by_role("link", name=re.compile("Answer")).click()
    checked_page(page, axe_js, screenshots, "11-provider-answer")
    _fieldset(page, "Is a baseline functional score documented").get_by_label("Yes").check()
    page.get_by_label("Your response").fill("ODI 46% at baseline, see the clinic note.")
    page.get_by_role("button", name="Send the answers").click()
    expect(page.get_by_text("your answers were sent to the reviewer")).to_be_visible()
    sign_out(page)

    # --- nurse refers -------------------------------------------------------------------------
    sign_in(page, base, "nurse")
    page.get_by_role("link", name=tar.number).click()
    page.locator("summary", has_text="Refer to a physician").click()
    page.get_by_label("Note for the physician").fill("Conservative care is short of 4 weeks.")
    page.get_by_role("button", name="Refer to a physician").click()
    expect(page.get_by_text("referred to a physician reviewer")).to_be_visible()
    sign_out(page)

    # --- physician denies, citing the criteria ------------------------------------------------
    sign_in(page, base, "physician")
    expect(page).to_have_url(f"{base}/physician/")
    checked_page(page, axe_js, screenshots, "12-physician-queue")
    page.get_by_role("link", name=tar.number).click()
    cited = page.get_by_label(
        re.compile(r"Epidural steroid injection 2026\.1, criterion 3 \(not met\)")
    )
    expect(cited).to_be_checked()
    checked_page(page, axe_js, screenshots, "13-physician-decision")
    _fieldset(page, "Decision").get_by_label("Deny").check()
    page.get_by_label("Reason code").select_option("medical_necessity")
    page.get_by_label("Rationale in plain language").fill(
        "You have had 2 weeks of physical therapy and medicines; the plan's criteria ask for "
        "at least 4 weeks before an injection."
    )
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Your decision was recorded")).to_be_visible()
    tar.refresh_from_db()
    assert tar.status == TarStatus.DENIED
    assert [ref["ref"] for ref in tar.decisions.get().criteria_refs] == ["esi:2026.1:3"]
    sign_out(page)

    # --- member sees the notice and asks for the criteria -------------------------------------
    sign_in(page, base, "member")
    expect(page).to_have_url(f"{base}/member/")
    checked_page(page, axe_js, screenshots, "14-member-requests")
    page.get_by_role("link", name=tar.number).click()
    expect(page.get_by_text("Denied", exact=True)).to_be_visible()
    expect(page.locator("#notices")).to_contain_text("Denial notice")
    checked_page(page, axe_js, screenshots, "15-member-request")
    page.get_by_role("button", name="Send me the criteria used").click()
    expect(page.get_by_text("We will send you a free copy of the criteria")).to_be_visible()

    # --- the same page in Spanish, through the language switch ----------------------------------
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("heading", name=f"Solicitud {tar.number}")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    # Issue 15: the copy asked for is on its way, so it is shown instead of the button.
    expect(page.get_by_text("Ya le estamos enviando una copia de los criterios")).to_be_visible()
    checked_page(page, axe_js, screenshots, "16-member-request-es")
