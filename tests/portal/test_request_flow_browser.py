"""The provider's request flow in Chromium (issue 15): every field error shown at its field at
its own step, in plain words, the ICD-10-CM look-up, then a clean submission and the printable
receipt. axe-core checks each page the flow adds or changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from authorizations.models import Tar
from tests.portal.browser import check_accessibility, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _error_at(page: Page, field_id: str):
    """The error paragraph the field's own description points to."""
    field = page.locator(f"#{field_id}")
    expect(field).to_be_visible()
    return page.locator(f"#{field_id}_error")


def test_a_provider_sees_each_error_at_its_step_then_submits(
    page: Page, live_server, world, axe_js
):
    page.set_default_timeout(20_000)
    base = live_server.url
    start = timezone.localdate() + timedelta(days=10)
    sign_in(page, base, "provider")
    page.get_by_role("button", name="Start a new request (TAR)").click()

    # --- member step: a malformed CIN is refused at the field ---------------------------------
    page.get_by_label("Member CIN").fill("1234")
    page.get_by_label("Date of birth").fill(world.member.date_of_birth.isoformat())
    page.get_by_role("button", name="Find member").click()
    expect(_error_at(page, "id_cin")).to_contain_text("A CIN is 8 digits followed by 1 letter")
    check_accessibility(page, axe_js)
    page.get_by_label("Member CIN").fill(world.member.cin)
    page.get_by_role("button", name="Find member").click()
    expect(page.get_by_text("Eligible for Medi-Cal with the plan")).to_be_visible()
    page.get_by_role("button", name="Continue with this member").click()

    # --- request step: the member's only valid RAF is already chosen --------------------------
    expect(page.get_by_label("Referral (RAF) from the member's PCP")).to_have_value(
        str(world.referral.pk)
    )
    page.get_by_role("radio", name="Urgent").check()  # and no reason given
    page.get_by_label("Place of service").select_option("24")
    page.get_by_label("Procedure code (CPT/HCPCS)").fill("99999")
    page.get_by_label("Diagnosis codes (ICD-10-CM)").fill("X99.999")
    page.get_by_label("Spinal region").select_option("lumbar")
    page.get_by_label("Service from").fill((start + timedelta(days=5)).isoformat())
    page.get_by_label("Service to").fill(start.isoformat())  # before the first day
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="New request: request and services")).to_be_visible()
    expect(_error_at(page, "id_urgency_reason")).to_contain_text("An urgent request states why")
    expect(_error_at(page, "id_line-0-code")).to_contain_text(
        "99999 is not in the plan's code table"
    )
    expect(_error_at(page, "id_line-0-diagnosis_codes")).to_contain_text(
        "'X99.999' is not an ICD-10-CM code."
    )
    expect(_error_at(page, "id_line-0-service_date_to")).to_have_text(
        "The last day of service must be on or after the first day."
    )
    expect(page.locator("main")).not_to_contain_text("lines[0]")
    expect(page.locator("main")).not_to_contain_text("service_date_from")
    # Each field is described by its error, for screen readers.
    code = page.locator("#id_line-0-code")
    assert "id_line-0-code_error" in (code.get_attribute("aria-describedby") or "")
    expect(code).to_have_attribute("aria-invalid", "true")
    check_accessibility(page, axe_js)

    # --- the look-up fills the diagnosis ------------------------------------------------------
    diagnosis = page.get_by_label("Diagnosis codes (ICD-10-CM)")
    diagnosis.fill("")
    diagnosis.press_sequentially("M54.1")
    suggestion = page.get_by_role("button", name="M54.16 Radiculopathy, lumbar region")
    expect(suggestion).to_be_visible()
    check_accessibility(page, axe_js)
    suggestion.click()
    expect(diagnosis).to_have_value("M54.16, ")

    page.get_by_label("Why is it urgent?").fill("Progressive weakness of the left foot.")
    page.get_by_label("Procedure code (CPT/HCPCS)").fill("64483")
    page.get_by_label("Service to").fill((start + timedelta(days=30)).isoformat())
    page.get_by_label("Service from").fill(start.isoformat())
    page.get_by_role("button", name="Save and continue").click()

    # --- questions step: an answer out of range, at its question ------------------------------
    expect(page.get_by_role("heading", name="New request: clinical questions")).to_be_visible()
    score = page.get_by_label("What is the member's baseline pain score, from 0 to 10?")
    score.fill("15")
    page.get_by_label("How many weeks has this pain lasted?", exact=True).fill("10")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", name="New request: clinical questions")).to_be_visible()
    expect(page.locator(f"#{score.get_attribute('id')}_error")).to_contain_text("10")
    check_accessibility(page, axe_js)
    page.get_by_label("What is the member's baseline pain score, from 0 to 10?").fill("7")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="New request: documents")).to_be_visible()
    page.get_by_role("button", name="Continue to review").click()

    # --- review: the place by its name, the diagnosis by its title -----------------------------
    expect(page.get_by_text("Ambulatory Surgical Center (POS 24)")).to_be_visible()
    expect(page.get_by_text("Radiculopathy, lumbar region")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Place of service 24")
    check_accessibility(page, axe_js)
    page.get_by_role("button", name="Submit the request").click()

    # --- the receipt ---------------------------------------------------------------------------
    expect(page.get_by_role("heading", name="Request submitted")).to_be_visible()
    tar = Tar.objects.get()
    receipt = page.locator(".receipt")
    expect(receipt).to_contain_text(tar.number)
    expect(receipt).to_contain_text("Radiculopathy, lumbar region")
    expect(receipt).to_contain_text("Ambulatory Surgical Center (POS 24)")
    expect(receipt).to_contain_text(world.referral.number)
    expect(receipt).to_contain_text(" PT")
    expect(page.get_by_role("button", name="Print this receipt")).to_be_visible()
    check_accessibility(page, axe_js)
    page.emulate_media(media="print")
    expect(page.locator("header").first).to_be_hidden()
    expect(page.get_by_role("button", name="Print this receipt")).to_be_hidden()
    expect(receipt).to_be_visible()
    page.emulate_media(media="screen")

    # --- the request's page: complete, and the receipt again -----------------------------------
    page.get_by_role("link", name=f"Open request {tar.number}").click()
    main = page.locator("main")
    expect(main).to_contain_text("Radiculopathy, lumbar region")
    expect(main).to_contain_text("Answers submitted")
    expect(main).to_contain_text("Progressive weakness of the left foot.")
    check_accessibility(page, axe_js)
    page.get_by_role("link", name="Printable submission receipt").click()
    expect(page.get_by_role("heading", name=f"Submission receipt for {tar.number}")).to_be_visible()
    check_accessibility(page, axe_js)
