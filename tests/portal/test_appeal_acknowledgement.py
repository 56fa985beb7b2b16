"""The appeal acknowledgement (issue 15; 42 CFR 438.406(b)(1); 28 CCR 1300.68(d)(1)): filing
an appeal makes, once, a PDF letter in the member's language and format, due within 5
calendar days; the member's appeal page shows the acknowledgement and only the member can
download the letter."""

from __future__ import annotations

from datetime import timedelta

import pytest

from authorizations.workflow import outbox
from notifications.models import AppealLetter
from tests.conftest import BUSINESS_MORNING
from tests.notifications.pdf import font_sizes, has, pdf_text
from tests.portal.casework import denied_tar, member_appeal

pytestmark = [pytest.mark.django_db, pytest.mark.clock(BUSINESS_MORNING)]


def _pdf(letter: AppealLetter) -> bytes:
    with letter.file.open("rb") as handle:
        return handle.read()


def test_filing_an_appeal_sends_the_acknowledgement_once(world, submit, client_for):
    tar_id = denied_tar(world, submit)
    appeal = member_appeal(world, tar_id)
    page = client_for("member").get(f"/member/tars/{tar_id}/").content.decode()
    assert "We received your appeal on" in page and appeal.number in page
    assert "A letter confirming your appeal is on its way." in page
    outbox.events_dispatch()
    outbox.events_dispatch()  # a second run makes nothing new
    letter = AppealLetter.objects.get(appeal=appeal)
    assert letter.kind == "appeal_ack" and letter.language == "en"
    assert letter.due_at == appeal.received_at + timedelta(days=5) and letter.sent_on_time
    text = pdf_text(_pdf(letter))
    assert not has(
        text,
        "We received your appeal",
        appeal.number,
        appeal.tar.number,
        "We will send you our written decision by",
        "took no part in the first decision",
        "State Hearing",
        "Medi-Cal Managed Care Ombudsman",
    )
    page = client_for("member").get(f"/member/tars/{tar_id}/").content.decode()
    url = f"/member/appeal-letters/{letter.pk}/download"
    assert url in page and "Letter confirming your appeal" in page
    response = client_for("member").get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == _pdf(letter)


def test_nobody_else_downloads_the_members_acknowledgement(world, submit, client_for):
    appeal = member_appeal(world, denied_tar(world, submit))
    outbox.events_dispatch()
    letter = AppealLetter.objects.get(appeal=appeal)
    url = f"/member/appeal-letters/{letter.pk}/download"
    for persona in ("other_member", "provider", "nurse"):
        assert client_for(persona).get(url).status_code in (403, 404), persona
    assert client_for("member").get("/member/appeal-letters/999999/download").status_code == 404


def test_a_spanish_large_print_member_gets_the_acknowledgement_in_spanish(world, submit):
    world.member.written_language = "es"
    world.member.alternate_format = "large_print"
    world.member.save()
    appeal = member_appeal(world, denied_tar(world, submit))
    outbox.events_dispatch()
    letter = AppealLetter.objects.get(appeal=appeal)
    assert letter.language == "es" and letter.large_print
    pdf = _pdf(letter)
    assert not has(pdf, "Recibimos su apelación", appeal.number, "Audiencia Estatal")
    assert "We received your appeal" not in pdf_text(pdf)
    assert min(font_sizes(pdf)) >= 18
