"""After the decision, in Chromium: the member appeals a denial → the physician who denied it is
refused → another physician overturns it → member and provider see the appeal's letter and the
approved request. Then the provider's, physician's and staff's new pages (peer-to-peer, IMR,
withdrawal, intake, member services). Every new page is screenshot (artifacts/screenshots/)
and checked with axe-core."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from appeals.models import Appeal, ImrCase, PeerToPeer
from authorizations.models import Decision, Tar, TarStatus
from tests.conftest import next_business_morning
from tests.portal.browser import TINY_PDF, checked_page, sign_in, sign_out
from tests.portal.casework import denied_tar, local_input

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fieldset(page: Page, legend: str):
    return page.locator("fieldset").filter(has=page.locator("legend", has_text=legend))


def _nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def test_member_appeals_and_another_physician_overturns(
    page: Page, live_server, world, submit, axe_js, screenshots
):
    page.set_default_timeout(15_000)
    base = live_server.url
    tar = Tar.objects.get(pk=denied_tar(world, submit))

    # --- the member appeals ---------------------------------------------------------------------
    sign_in(page, base, "member")
    page.get_by_role("link", name=tar.number).click()
    expect(page.get_by_text("Denied", exact=True)).to_be_visible()
    checked_page(page, axe_js, screenshots, "20-member-request-denied")
    page.get_by_role("link", name="Appeal this decision").click()
    expect(
        page.get_by_role("heading", name=f"Appeal the decision on request {tar.number}")
    ).to_be_visible()
    page.get_by_role("button", name="Send my appeal").click()  # nothing typed: errors
    expect(page.locator(".error-summary")).to_contain_text("Why should the decision change?")
    checked_page(page, axe_js, screenshots, "21-member-appeal-form-errors")
    page.get_by_label("Why should the decision change?").fill(
        "The pain runs down my left leg every day and I cannot work."
    )
    _fieldset(page, "Do you need a fast (expedited) appeal?").get_by_label("No").check()
    page.get_by_role("button", name="Send my appeal").click()
    expect(page.locator(".message-success")).to_contain_text("We received your appeal")
    # Issue 15: the acknowledgement stays on the member's appeal.
    expect(page.locator("[data-appeal-ack]")).to_contain_text("We received your appeal on")
    appeal = Appeal.objects.get(tar=tar)
    section = page.locator("#appeals")
    expect(section).to_contain_text(appeal.number)
    expect(section).to_contain_text("We will decide by")
    expect(page.get_by_role("link", name="Appeal this decision")).to_have_count(0)
    checked_page(page, axe_js, screenshots, "22-member-appeal-received")
    _nav(page, "My appeals")
    expect(page.get_by_role("row").filter(has_text=appeal.number)).to_be_visible()
    checked_page(page, axe_js, screenshots, "23-member-appeals")
    sign_out(page)

    # --- the physician who denied it may not decide it ------------------------------------------
    sign_in(page, base, "physician")
    _nav(page, "Appeals")
    checked_page(page, axe_js, screenshots, "24-physician-appeals-queue")
    page.get_by_role("link", name=appeal.number).click()
    # The decision form is not offered (available actions = possible actions): the page says
    # why instead.
    expect(page.get_by_text("You took part in the decision under appeal")).to_be_visible()
    expect(page.get_by_role("button", name="Record the appeal decision")).to_have_count(0)
    checked_page(page, axe_js, screenshots, "26-physician-appeal-refused")
    appeal.refresh_from_db()
    assert appeal.status == "received"
    sign_out(page)

    # --- another physician overturns it ---------------------------------------------------------
    sign_in(page, base, "physician2")
    _nav(page, "Appeals")
    page.get_by_role("link", name=appeal.number).click()
    _fieldset(page, "Appeal decision").get_by_label("Overturn: approve as requested").check()
    page.get_by_label("Rationale in plain language").fill(
        "The new MRI shows compression of the L5 nerve root that matches your leg pain."
    )
    page.get_by_role("button", name="Record the appeal decision").click()
    expect(page.get_by_text(f"Appeal {appeal.number} was resolved")).to_be_visible()
    tar.refresh_from_db()
    assert tar.status == TarStatus.APPROVED
    sign_out(page)

    # --- the member sees the result and the letter ----------------------------------------------
    sign_in(page, base, "member")
    page.get_by_role("link", name=tar.number).click()
    expect(page.locator(".summary")).to_contain_text("Approved")
    expect(page.locator("#appeals")).to_contain_text("The decision was changed: approved")
    expect(page.get_by_role("link", name="Appeal decision letter (PDF)")).to_be_visible()
    expect(page.locator("#notices")).to_contain_text("Appeal decision")
    checked_page(page, axe_js, screenshots, "27-member-appeal-decided")
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("#appeals")).to_contain_text("La decisión cambió: aprobada")
    expect(
        page.get_by_role("link", name="Carta con la decisión de la apelación (PDF)")
    ).to_be_visible()
    checked_page(page, axe_js, screenshots, "28-member-appeal-decided-es")
    page.get_by_label("Idioma").select_option("en")
    page.get_by_role("button", name="Cambiar").click()
    sign_out(page)

    # --- the provider sees it too ---------------------------------------------------------------
    sign_in(page, base, "provider")
    page.get_by_role("link", name=tar.number).first.click()
    expect(page.locator(".summary .status")).to_have_text("Approved")
    appeals_table = page.locator("#appeals")
    expect(appeals_table).to_contain_text("Overturned")
    expect(appeals_table.get_by_role("link", name="Resolution letter (PDF)")).to_be_visible()
    expect(page.locator("#notices")).to_contain_text("Appeal decision")
    checked_page(page, axe_js, screenshots, "29-provider-request-after-appeal")


# Times are typed as Pacific wall-clock minutes (a talk two days ahead); where that lands in the
# hour that repeats as daylight saving ends, the form refuses the ambiguous time. Run on a
# business morning, moved forward only: Chromium keeps the real clock (see
# next_business_morning).
@pytest.mark.clock(next_business_morning(), tick=True)
def test_provider_talks_withdraws_and_staff_track_the_imr(
    page: Page, live_server, world, submit, axe_js, screenshots
):
    page.set_default_timeout(15_000)
    base = live_server.url
    denied = Tar.objects.get(pk=denied_tar(world, submit))
    open_tar = Tar.objects.get(pk=submit())
    soon = timezone.now() + timedelta(days=2)

    # --- provider: appeal form, peer-to-peer, withdraw -----------------------------------------
    sign_in(page, base, "provider")
    page.goto(f"{base}/provider/tars/{denied.pk}/")
    checked_page(page, axe_js, screenshots, "30-provider-request-denied")
    page.get_by_role("link", name="Appeal for the member").click()
    page.get_by_label("Why the decision should change").fill("The MRI shows L5 compression.")
    page.get_by_role("button", name="File the appeal").click()  # no consent: refused
    expect(page.locator(".error-summary")).to_contain_text("written consent")
    checked_page(page, axe_js, screenshots, "31-provider-appeal-form")
    page.get_by_role("link", name="Back to the request").click()

    page.get_by_role("link", name="Ask for a peer-to-peer talk").click()
    page.get_by_label("Phone number the physician reviewer can call").fill("(707) 555-0100")
    page.get_by_label("First proposed time (Pacific)").fill(local_input(soon))
    page.get_by_label("What you would like to discuss").fill("The new MRI.")
    checked_page(page, axe_js, screenshots, "32-provider-peer-to-peer-form")
    page.get_by_role("button", name="Ask for the talk").click()
    expect(page.get_by_text("Your request for a peer-to-peer talk was sent.")).to_be_visible()
    expect(page.locator("#peer-to-peer")).to_contain_text("Requested")
    _nav(page, "Appeals and talks")
    checked_page(page, axe_js, screenshots, "33-provider-appeals-and-talks")

    page.goto(f"{base}/provider/tars/{open_tar.pk}/")
    page.get_by_role("link", name="Withdraw this request").click()
    page.get_by_label("Why is the request withdrawn?").fill("The member moved out of the area.")
    checked_page(page, axe_js, screenshots, "34-provider-withdraw")
    page.get_by_role("button", name="Withdraw the request").click()
    expect(page.get_by_text(f"{open_tar.number} was withdrawn.")).to_be_visible()
    open_tar.refresh_from_db()
    assert open_tar.status == TarStatus.WITHDRAWN
    sign_out(page)

    # --- physician2 schedules and holds the talk ------------------------------------------------
    talk = PeerToPeer.objects.get(tar=denied)
    sign_in(page, base, "physician2")
    _nav(page, "Peer-to-peer")
    checked_page(page, axe_js, screenshots, "35-physician-peer-to-peer-list")
    page.get_by_role("link", name=f"Talk {talk.pk}").click()
    page.get_by_label("Time of the talk (Pacific)").fill(local_input(soon + timedelta(hours=1)))
    checked_page(page, axe_js, screenshots, "36-physician-peer-to-peer")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_text("The talk is scheduled.")).to_be_visible()
    _fieldset(page, "Outcome of the talk").get_by_label("The decision stands").check()
    page.get_by_label("Summary of the talk").fill("Discussed the MRI; the criteria are not met.")
    page.get_by_role("button", name="Record the outcome").click()
    expect(page.get_by_text("The outcome of the talk was recorded.")).to_be_visible()
    talk.refresh_from_db()
    assert talk.status == "held"
    sign_out(page)

    # --- physician refers the case to independent medical review --------------------------------
    sign_in(page, base, "physician")
    page.goto(f"{base}/physician/tars/{denied.pk}/")
    page.get_by_role("link", name="Refer this case to independent medical review").click()
    reasons = _fieldset(page, "Why the case goes to independent review")
    reasons.get_by_label(
        re.compile("denied, modified or delayed as not medically necessary")
    ).check()
    page.get_by_label(re.compile("The treating physician certified")).check()
    _fieldset(page, "Independent reviewer").get_by_label(
        "Contracted independent medical review organization"
    ).check()
    page.get_by_label("Reviewer's name or organization").fill("MAXIMUS Federal Services")
    _fieldset(page, "Type of review").get_by_label("Standard").check()
    page.get_by_label("Relevant medical history (item f)").fill("Radicular pain for 10 weeks.")
    page.get_by_label("Treatment and clinical findings (item g)").fill("8 weeks of PT; NSAIDs.")
    page.get_by_label("Questions for the independent reviewer (item i)").fill(
        "Is a transforaminal ESI medically necessary for this member?"
    )
    checked_page(page, axe_js, screenshots, "37-physician-imr-refer")
    page.get_by_role("button", name="Refer the case").click()
    imr = ImrCase.objects.get(tar=denied)
    expect(page.get_by_text(f"{imr.number} was referred")).to_be_visible()
    expect(page.get_by_role("link", name="Download the referral packet (PDF)")).to_be_visible()
    checked_page(page, axe_js, screenshots, "38-imr-case")
    _nav(page, "IMR tracking")
    expect(page.get_by_role("row").filter(has_text=imr.number)).to_contain_text("Referred")
    checked_page(page, axe_js, screenshots, "39-imr-tracking")
    sign_out(page)

    # --- a nurse files the determination; physician2 decides -------------------------------------
    sign_in(page, base, "nurse")
    page.goto(f"{base}/imr/{imr.pk}/")
    page.get_by_label("The reviewer's written determination (PDF)").set_input_files(
        {"name": "determination.pdf", "mimeType": "application/pdf", "buffer": TINY_PDF}
    )
    _fieldset(page, "Determination").get_by_label("The plan's decision is overturned").check()
    page.get_by_label("The reviewer's analysis").fill("Radicular findings are documented.")
    page.get_by_label("Qualifications of each reviewer").fill("Board-certified pain medicine")
    page.get_by_role("button", name="File the determination").click()
    expect(page.get_by_text("The determination was filed")).to_be_visible()
    sign_out(page)

    sign_in(page, base, "physician2")
    page.goto(f"{base}/imr/{imr.pk}/")
    checked_page(page, axe_js, screenshots, "40-imr-final-decision")
    _fieldset(page, "Final coverage decision").get_by_label(
        "Overturn: approve as requested"
    ).check()
    page.get_by_label("Rationale in plain language").fill("The reviewer found it necessary.")
    page.get_by_role("button", name="Record the final decision").click()
    expect(page.get_by_text("The final coverage decision was recorded")).to_be_visible()
    denied.refresh_from_db()
    assert denied.status == TarStatus.APPROVED


# Member services enters an appeal at the time the form proposes, now to the minute in Pacific
# time: in the hour that repeats as daylight saving ends that time is ambiguous and refused.
# Run on a business morning, moved forward only (see next_business_morning).
@pytest.mark.clock(next_business_morning(), tick=True)
def test_intake_and_member_services_pages(
    page: Page, live_server, world, submit, axe_js, screenshots
):
    page.set_default_timeout(15_000)
    base = live_server.url
    denied = Tar.objects.get(pk=denied_tar(world, submit))
    # Decided an hour ago, so that a call "now" (to the minute) comes after the decision.
    earlier = timezone.now() - timedelta(hours=1)
    Decision.objects.filter(tar=denied).update(decided_at=earlier)
    Tar.objects.filter(pk=denied.pk).update(decided_at=earlier)
    received = (timezone.localtime() - timedelta(days=1)).replace(hour=18, minute=5)
    start = timezone.localdate() + timedelta(days=10)

    # --- intake coordinator: a fax with its true receipt time -----------------------------------
    sign_in(page, base, "coordinator")
    expect(page).to_have_url(f"{base}/intake/")
    _nav(page, "New intake entry")
    _fieldset(page, "How it came in").get_by_label("Fax").check()
    page.get_by_label("Received at (Pacific time)").fill(local_input(received))
    page.get_by_label("Member CIN").fill(world.member.cin)
    page.get_by_label("Referral (RAF) number").fill(world.referral.number)
    page.get_by_label("Requesting provider's NPI").fill(world.redwood_specialist.npi)
    page.get_by_label("Servicing provider's NPI").fill(world.redwood_specialist.npi)
    page.get_by_label("Place of service").select_option("24")
    first_line = _fieldset(page, "Service line 1")
    first_line.get_by_label("Procedure code (CPT/HCPCS)").fill("64483")
    first_line.get_by_label("Diagnosis codes (ICD-10-CM)").fill("M54.16")
    first_line.get_by_label("Spinal region").select_option("lumbar")
    first_line.get_by_label("Service from").fill(start.isoformat())
    first_line.get_by_label("Service to").fill((start + timedelta(days=30)).isoformat())
    page.get_by_label("Scanned pages").set_input_files(
        [{"name": "fax.pdf", "mimeType": "application/pdf", "buffer": TINY_PDF}]
    )
    checked_page(page, axe_js, screenshots, "41-intake-new")
    page.get_by_role("button", name="Enter the request").click()
    entry = Tar.objects.exclude(pk=denied.pk).get()
    expect(page.get_by_text(f"{entry.number} was entered")).to_be_visible()
    assert entry.channel == "fax"
    assert timezone.localtime(entry.received_at).replace(
        second=0, microsecond=0
    ) == received.replace(second=0, microsecond=0)
    # Intake sees that the pages arrived, not what they say (least privilege, issue 12).
    expect(page.locator("#documents")).to_contain_text("1 document attached.")
    expect(page.locator("#documents")).not_to_contain_text("fax.pdf")
    checked_page(page, axe_js, screenshots, "42-intake-entry")
    _nav(page, "Intake entries")
    expect(page.get_by_role("row").filter(has_text=entry.number)).to_contain_text("Fax")
    checked_page(page, axe_js, screenshots, "43-intake-home")
    sign_out(page)

    # --- member services: find the caller, act for them -----------------------------------------
    sign_in(page, base, "memberservices")
    expect(page).to_have_url(f"{base}/member-services/")
    checked_page(page, axe_js, screenshots, "44-member-services-find")
    page.get_by_label("Member CIN").fill(world.member.cin)
    page.get_by_role("button", name="Find the member").click()
    expect(page.get_by_role("heading", name=world.member.full_name)).to_be_visible()
    checked_page(page, axe_js, screenshots, "45-member-services-member")
    page.get_by_role("link", name=denied.number).click()
    expect(page.locator("#notices")).to_contain_text("Denial notice")
    checked_page(page, axe_js, screenshots, "46-member-services-request")
    page.get_by_role("button", name="Mail the member a copy of the criteria used").click()
    expect(page.get_by_text("A free copy of the criteria used will be mailed")).to_be_visible()
    page.get_by_role("link", name="Enter the member's appeal").click()
    page.get_by_label("The member's reason, in their words").fill("The pain is worse.")
    _fieldset(page, "Did the member ask for a fast (expedited) appeal?").get_by_label("No").check()
    checked_page(page, axe_js, screenshots, "47-member-services-appeal")
    page.get_by_role("button", name="Enter the appeal").click()
    expect(page.get_by_text("was entered for the member")).to_be_visible()
    appeal = Appeal.objects.get(tar=denied)
    assert appeal.filer == "member_services"
    expect(page.locator("#appeals")).to_contain_text(appeal.number)
