"""Grievance letters (issue 11 row 10; H&S 1368(a)(4)-(5); 28 CCR 1300.68(d)): the
acknowledgement and the resolution are real PDFs in the member's language, made once by the
outbox consumer from the kernel's events, and read back here."""

from __future__ import annotations

import pytest

from authorizations.workflow import outbox
from grievances import services
from notifications.models import GrievanceLetter
from tests import factories
from tests.conftest import BUSINESS_MORNING
from tests.notifications.pdf import font_sizes, has, pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.clock(BUSINESS_MORNING)]


@pytest.fixture
def coordinator(world):
    return factories.UserFactory(username="grievances", role="grievances")


def _pdf(letter: GrievanceLetter) -> bytes:
    with letter.file.open("rb") as handle:
        return handle.read()


def _file(world, member=None):
    return services.grievance_file(
        user=world.users["memberservices"],
        member_cin=(member or world.member).cin,
        kind="access",
        description="Could not get an appointment for 6 weeks.",
    )


def test_acknowledgement_and_resolution_letters_in_english(world, coordinator):
    grievance = _file(world)
    services.grievance_acknowledge(grievance_id=grievance.pk, user=coordinator)
    outbox.events_dispatch()
    ack = GrievanceLetter.objects.get(grievance=grievance, kind="grievance_ack")
    text = pdf_text(_pdf(ack))
    assert not has(
        text,
        "We received your grievance",
        grievance.number,
        "getting care, or getting it in time",
        "We will send you our written answer by",
        "May 14, 2027",
        "Department of Managed Health Care",
    )
    assert ack.sha256 and ack.page_count >= 1 and ack.sent_on_time
    services.grievance_resolve(
        grievance_id=grievance.pk,
        user=coordinator,
        resolution="We found an appointment for you with Dr. Lee on April 20.",
    )
    outbox.events_dispatch()
    outbox.events_dispatch()  # a second run makes nothing new
    resolution = GrievanceLetter.objects.get(grievance=grievance, kind="grievance_resolution")
    assert not has(
        pdf_text(_pdf(resolution)),
        "Our answer to your grievance",
        "We found an appointment for you with Dr. Lee on April 20.",
        "State Hearing",
    )
    assert GrievanceLetter.objects.filter(grievance=grievance).count() == 2


def test_a_spanish_large_print_member_gets_spanish_letters(world, coordinator):
    member = factories.MemberFactory(
        pcp=world.pcp, written_language="es", alternate_format="large_print"
    )
    grievance = _file(world, member)
    services.grievance_acknowledge(grievance_id=grievance.pk, user=coordinator)
    outbox.events_dispatch()
    letter = GrievanceLetter.objects.get(grievance=grievance)
    assert (letter.language, letter.large_print) == ("es", True)
    pdf = _pdf(letter)
    assert not has(pdf_text(pdf), "Recibimos su queja", "obtener atención, u obtenerla a tiempo")
    assert min(font_sizes(pdf)) >= 18
