"""Letters from real events: submit through the API, then decide, extend, request
information or miss the deadline through authorizations.services (PRODUCT §4, §7)."""

from __future__ import annotations

import statistics
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from authorizations import clocks
from authorizations import services as tar_services
from authorizations.deadlines import deadline_sweep
from authorizations.models import Tar
from notifications.letter_contexts import provider_voice
from notifications.models import Letter, Notice
from tests.notifications.conftest import (
    DENIAL_RATIONALE,
    ESI_SHORT_CARE,
    letter_for,
    letter_pdf,
)
from tests.notifications.elements import adverse_elements, day, missing
from tests.notifications.pdf import font_sizes, has, pdf_text

pytestmark = pytest.mark.django_db

ESI_CITATION = ("Epidural steroid injection", "esi", "2026.1", 3)
ESI_CITATION_ES = ("inyección epidural de esteroides", "esi", "2026.1", 3)


def _physician(world) -> tuple[str, str]:
    user = world.users["physician"]
    return f"{user.provider.name}, {user.provider.credentials}", user.direct_phone


def _expected(letter: Letter, tar: Tar, *, rationale, citations, physician=None):
    line = tar.lines.get(line_number=1)
    return adverse_elements(
        language=letter.language,
        member_copy=letter.audience == "member",
        letter_date=letter.letter_date,
        code=line.code,
        service="Transforaminal epidural injection, lumbar/sacral"
        if letter.language == "en"
        else "Inyección epidural transforaminal, lumbar/sacra",
        date_from=line.service_date_from,
        # The English provider copy carries the rationale in the third person (PRODUCT §7).
        rationale=provider_voice(rationale)
        if rationale and letter.audience == "provider" and letter.language == "en"
        else rationale,
        citations=citations,
        physician=physician,
    )


def test_physician_denial_produces_provider_and_member_letters_with_every_element(
    submit, deny, world
):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    tar = Tar.objects.get(pk=tar_id)
    provider = letter_for(tar_id, "denial", "provider")
    member = letter_for(tar_id, "denial", "member")

    provider_text = pdf_text(letter_pdf(provider))
    assert (
        missing(
            provider_text,
            _expected(
                provider,
                tar,
                rationale=DENIAL_RATIONALE,
                citations=[ESI_CITATION],
                physician=_physician(world),
            ),
        )
        == {}
    )
    member_text = pdf_text(letter_pdf(member))
    assert (
        missing(
            member_text,
            _expected(member, tar, rationale=DENIAL_RATIONALE, citations=[ESI_CITATION]),
        )
        == {}
    )
    # The member copy is addressed to the member, in their (English, standard) format.
    assert not has(member_text, tar.member.full_name, tar.member.address_line1)
    assert (member.language, member.large_print) == ("en", False)
    # What the review found for criterion 3, from the evaluation recorded at submission.
    assert not has(member_text, "Not met, based on the medical records we received.")


def test_appeal_deadline_printed_is_60_calendar_days_after_the_letter_date(submit, deny):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    letter = letter_for(tar_id, "denial", "member")
    due = clocks.appeal_filing_deadline(notice_date=letter.letter_date).due_at
    last_day = due.astimezone(clocks.PACIFIC).date()
    assert last_day == letter.letter_date + timedelta(days=60)
    assert not has(letter_pdf(letter), f"no later than {day(last_day, 'en')}")


def test_spanish_large_print_member_gets_a_spanish_letter_at_18_points(
    submit, deny, spanish_member, world
):
    member, referral = spanish_member
    tar_id = submit(answers=ESI_SHORT_CARE, member=member.cin, referral=referral.pk)
    deny(tar_id)
    tar = Tar.objects.get(pk=tar_id)
    letter = letter_for(tar_id, "denial", "member")
    assert (letter.language, letter.large_print, letter.alternate_format) == (
        "es",
        True,
        "large_print",
    )
    pdf = letter_pdf(letter)
    text = pdf_text(pdf)
    assert (
        missing(
            text, _expected(letter, tar, rationale=DENIAL_RATIONALE, citations=[ESI_CITATION_ES])
        )
        == {}
    )
    assert not has(text, "Aviso de acción: negamos una solicitud para su atención")
    # The criterion's Spanish wording from the published set.
    spanish_text = tar.decisions.get().criteria_refs[0]["text_es"]
    assert spanish_text and not has(text, spanish_text)
    sizes = font_sizes(pdf)
    assert min(sizes) >= 18
    # The provider copy stays English, standard print, and names the physician.
    provider = letter_for(tar_id, "denial", "provider")
    assert (provider.language, provider.large_print) == ("en", False)
    assert statistics.median(font_sizes(letter_pdf(provider))) < 13
    name, phone = _physician(world)
    assert not has(letter_pdf(provider), name, phone)


def test_modification_letters_show_the_approved_part(submit, world, run_hooks):
    tar_id = submit(
        answers=ESI_SHORT_CARE,
        lines=[
            {
                "code": "64483",
                "diagnosis_codes": ["M54.16"],
                "units": 2,
                "spinal_region": "lumbar",
                "service_date_from": (timezone.localdate() + timedelta(days=10)).isoformat(),
                "service_date_to": (timezone.localdate() + timedelta(days=40)).isoformat(),
            }
        ],
    )
    run_hooks(
        tar_services.tar_decide,
        tar_id=tar_id,
        user=world.users["physician"],
        outcome="modified",
        reason_code="medical_necessity",
        rationale="One injection now; a second only if the first relieves your pain.",
        criteria_refs=["esi:2026.1:8"],
        line_decisions=[
            tar_services.LineDecision(line_number=1, outcome="modified", approved_units=1)
        ],
    )
    tar = Tar.objects.get(pk=tar_id)
    for audience in ("provider", "member"):
        letter = letter_for(tar_id, "modification", audience)
        text = pdf_text(letter_pdf(letter))
        expected = _expected(
            letter,
            tar,
            rationale="One injection now; a second only if the first relieves your pain.",
            citations=[("Epidural steroid injection", "esi", "2026.1", 8)],
            physician=_physician(world) if audience == "provider" else None,
        )
        assert missing(text, expected) == {}
        assert not has(text, "Approved with changes: 1 unit")


def test_extension_sends_delay_letters_with_reason_need_and_new_date(submit, world, run_hooks):
    tar_id = submit(answers=ESI_SHORT_CARE)
    tar = Tar.objects.get(pk=tar_id)
    new_due = tar.received_at + timedelta(days=12)
    run_hooks(
        tar_services.tar_extend,
        tar_id=tar_id,
        user=world.users["physician"],
        reason="expert_review_needed",
        new_due_at=new_due,
        note="A spine specialist will review the MRI before we decide.",
    )
    for audience in ("provider", "member"):
        letter = letter_for(tar_id, "delay", audience)
        text = pdf_text(letter_pdf(letter))
        expected = _expected(
            letter,
            tar,
            rationale=None,
            # The criterion not yet met under the set version the line was evaluated with.
            citations=[ESI_CITATION],
            physician=_physician(world) if audience == "provider" else None,
        )
        expected["delay"] = [
            "A specialist or expert needs to review the request.",
            "A spine specialist will review the MRI before we decide.",
            f"We now expect to decide by {day(new_due.astimezone(clocks.PACIFIC).date(), 'en')}",
        ]
        assert missing(text, expected) == {}
    notice = Notice.objects.get(tar_id=tar_id, kind="delay", audience="provider")
    assert notice.status == "sent" and notice.sent_on_time is True


def test_information_request_letter_goes_to_the_provider(submit, world, run_hooks):
    tar_id = submit(answers=ESI_SHORT_CARE)
    run_hooks(
        tar_services.tar_request_info,
        tar_id=tar_id,
        user=world.users["nurse"],
        message="Send the physical therapy notes from the last 8 weeks.",
        missing_keys=["conservative_care_weeks"],
    )
    letters = Letter.objects.filter(tar_id=tar_id, kind="information_request")
    assert list(letters.values_list("audience", flat=True)) == ["provider"]
    text = pdf_text(letter_pdf(letters.get()))
    assert not has(
        text,
        "Send the physical therapy notes from the last 8 weeks.",
        "How many weeks of conservative care has the member tried without enough relief?",
        "The time limit does not stop",
        "version 2026.1, criterion 3",
    )


def test_missed_deadline_sends_the_member_an_untimely_notice(submit, run_hooks):
    tar_id = submit(answers=ESI_SHORT_CARE)
    due = timezone.now() - timedelta(minutes=5)
    Tar.objects.filter(pk=tar_id).update(decision_due_at=due)
    run_hooks(deadline_sweep, now=timezone.now())
    tar = Tar.objects.get(pk=tar_id)
    assert tar.breached_at is not None
    letter = letter_for(tar_id, "untimely", "member")
    text = pdf_text(letter_pdf(letter))
    # No decision yet: the criteria under review are cited, every one of the set.
    citations = [("Epidural steroid injection", "esi", "2026.1", n) for n in range(1, 9)]
    expected = _expected(letter, tar, rationale=None, citations=citations)
    expected["untimely"] = ["A decision that is not made in time counts as a denial"]
    assert missing(text, expected) == {}


def test_approval_letters_go_to_provider_and_member(submit, world, run_hooks):
    tar_id = submit()
    run_hooks(tar_services.tar_decide, tar_id=tar_id, user=world.users["nurse"], outcome="approved")
    kinds = set(Letter.objects.filter(tar_id=tar_id).values_list("kind", "audience"))
    assert kinds == {("approval", "provider"), ("approval", "member")}
    text = pdf_text(letter_pdf(letter_for(tar_id, "approval", "member")))
    assert not has(text, "We approved a request for your care", "64483", "Approved: 1 unit")


def test_non_medical_closure_as_not_eligible_is_a_denial_without_criteria(submit, world, run_hooks):
    tar_id = submit()
    # The State ended the member's coverage after the request came in (PRODUCT §2: the
    # eligibility spans must show no coverage on the date of service).
    world.member.eligibility_spans.update(end_date=timezone.localdate())
    run_hooks(
        tar_services.tar_decide,
        tar_id=tar_id,
        user=world.users["nurse"],
        outcome="closed",
        reason_code="not_eligible",
        rationale="Your Medi-Cal with this plan ended before the date of the injection.",
    )
    letter = letter_for(tar_id, "denial", "member")
    text = pdf_text(letter_pdf(letter))
    assert not has(
        text,
        "Our records show no Medi-Cal coverage with this plan on the date of service.",
        "No medical-necessity criteria were used",
        "This decision was not about medical necessity",
        settings.PLAN_MEMBER_SERVICES_PHONE,
        "1-888-452-8609",
    )


def test_duplicate_closure_tells_only_the_provider(submit, world, run_hooks):
    earlier = Tar.objects.get(pk=submit()).number
    tar_id = submit()
    run_hooks(
        tar_services.tar_decide,
        tar_id=tar_id,
        user=world.users["nurse"],
        outcome="closed",
        reason_code="duplicate",
        duplicate_of=earlier,
        rationale="Same injection already requested as another request.",
    )
    assert list(Letter.objects.filter(tar_id=tar_id).values_list("kind", "audience")) == [
        ("closure", "provider")
    ]
