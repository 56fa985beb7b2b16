"""The appeal extension and exhausted-appeal notices from real events: a denied TAR's appeal
extended through appeals.appeal_extend (42 CFR 438.408(c)(2)), and an appeal the deadline
sweep finds unresolved (438.408(c)(3), 438.402(c)(1)(i)(A)). Letters are read back from the
stored PDFs, in the member's language and format."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from appeals import services as appeals
from appeals.models import Appeal, AppealStatus
from appeals.sweep import appeal_deadline_sweep
from authorizations import clocks
from notifications.context import AppealExtensionInfo, LetterError
from notifications.models import Notice, NoticeKind, NoticeStatus
from notifications.rendering import render_html
from tests.notifications.conftest import ESI_SHORT_CARE, letter_for, letter_pdf
from tests.notifications.contexts import context
from tests.notifications.elements import OMBUDSMAN, day
from tests.notifications.pdf import font_sizes, has, pdf_text

pytestmark = pytest.mark.django_db

MS = settings.PLAN_MEMBER_SERVICES_PHONE
NOTE = "Waiting for the MRI report of January from the imaging center."
# What the TAR's own delay and untimely letters say, which an appeal's notices must not.
OFFERS_AN_APPEAL = {"en": "Ask for an appeal no later than", "es": "Pida la apelación a más tardar"}


@pytest.fixture
def appealed(submit, deny, world, run_hooks, spanish_member):
    """appealed(language) → an appeal, filed by the member, of a TAR `physician` denied."""

    def make(language: str = "en") -> Appeal:
        if language == "es":
            member, referral = spanish_member
            tar_id = submit(answers=ESI_SHORT_CARE, member=member.cin, referral=referral.pk)
            filer = User.objects.get(username="member_es")
        else:
            tar_id = submit(answers=ESI_SHORT_CARE)
            filer = world.users["member"]
        deny(tar_id)
        return run_hooks(
            appeals.appeal_file,
            tar_id=tar_id,
            user=filer,
            reason="My pain runs down my leg every day.",
        )

    return make


def _notices(tar_id: int, event_key: str) -> dict[str, Notice]:
    return {n.audience: n for n in Notice.objects.filter(tar_id=tar_id, event_key=event_key)}


def _pacific_day(instant):
    return timezone.localtime(instant, clocks.PACIFIC).date()


# --- extension --------------------------------------------------------------------------------


def _extend(world, run_hooks, appeal: Appeal, reason: str) -> Appeal:
    return run_hooks(
        appeals.appeal_extend,
        appeal_id=appeal.pk,
        user=world.users["nurse"],
        reason=reason,
        note=NOTE,
    )


def test_appeal_extension_letters_state_new_date_reason_and_the_right_to_a_grievance(
    appealed, world, run_hooks
):
    appeal = _extend(world, run_hooks, appealed("en"), "requested_by_member")
    extension = appeal.extension
    notices = _notices(appeal.tar_id, f"appeal_extension:{extension.pk}")
    assert {a: (n.kind, n.status) for a, n in notices.items()} == {
        "provider": (NoticeKind.DELAY, NoticeStatus.SENT),
        "member": (NoticeKind.DELAY, NoticeStatus.OWED),  # waits for the print batch
    }
    new_day = day(_pacific_day(extension.new_due_at), "en")
    old_day = day(_pacific_day(extension.previous_due_at), "en")

    member = letter_for(appeal.tar_id, "delay", "member")
    assert (member.language, member.large_print) == ("en", False)
    text = pdf_text(letter_pdf(member))
    assert not has(
        text,
        "we need more time to decide your appeal",
        appeal.number,
        f"We will decide the appeal no later than {new_day}",
        old_day,
        "14 calendar days",
        "The member asked us for more time to decide the appeal.",
        NOTE,
        "your right to file a grievance",
        "you have the right to file a grievance",
        f"If we do not decide your appeal by {new_day}",
        "State Hearing right away",
        OMBUDSMAN,
        "Free help in your language",
        "large print, braille or audio",
        MS,
        "TTY 711",
    )
    assert has(text, OFFERS_AN_APPEAL["en"]) == [OFFERS_AN_APPEAL["en"]]

    provider = letter_for(appeal.tar_id, "delay", "provider")
    text = pdf_text(letter_pdf(provider))
    assert not has(
        text,
        "appeal decision delayed",
        f"no later than {new_day}",
        "The member asked us for more time to decide the appeal.",
        NOTE,
        "the right to file a grievance",
        OMBUDSMAN,
        MS,
    )


def test_spanish_large_print_member_gets_the_appeal_extension_in_spanish_at_18_points(
    appealed, world, run_hooks
):
    appeal = _extend(world, run_hooks, appealed("es"), "information_needed")
    notices = _notices(appeal.tar_id, f"appeal_extension:{appeal.extension.pk}")
    assert all(n.status != NoticeStatus.FAILED for n in notices.values())
    member = letter_for(appeal.tar_id, "delay", "member")
    assert (member.language, member.large_print, member.alternate_format) == (
        "es",
        True,
        "large_print",
    )
    pdf = letter_pdf(member)
    text = pdf_text(pdf)
    new_day = day(_pacific_day(appeal.extension.new_due_at), "es")
    assert not has(
        text,
        "necesitamos más tiempo para decidir su apelación",
        f"Decidiremos la apelación a más tardar el {new_day}",
        "Necesitamos más información para decidir la apelación, y esperarla es en beneficio "
        "del miembro.",
        NOTE,
        "su derecho a presentar una queja",
        "tiene derecho a presentarnos una queja",
        "Audiencia Estatal de inmediato",
        OMBUDSMAN,
        "Ayuda gratis en su idioma",
        "letra grande, braille o audio",
        MS,
        "TTY 711",
    )
    assert has(text, OFFERS_AN_APPEAL["es"]) == [OFFERS_AN_APPEAL["es"]]
    assert min(font_sizes(pdf)) >= 18
    provider = letter_for(appeal.tar_id, "delay", "provider")
    assert (provider.language, provider.large_print) == ("en", False)


# --- exhausted --------------------------------------------------------------------------------


def _exhaust(run_hooks, appeal: Appeal):
    """Move past the resolution deadline and run the sweep there; the letter is made then."""
    with time_machine.travel(appeal.resolution_due_at + timedelta(minutes=1), tick=False):
        result = run_hooks(appeal_deadline_sweep, now=timezone.now())
    assert result.exhausted_appeal_ids == [appeal.pk]
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.EXHAUSTED
    return appeal


def _hearing_last_day(letter_date):
    due = clocks.state_hearing_deadline(resolution_date=letter_date).due_at
    last_day = _pacific_day(due)
    assert last_day == letter_date + timedelta(days=120)
    return last_day


def test_exhausted_appeal_letter_offers_a_state_hearing_now_with_the_120_day_date(
    appealed, run_hooks
):
    appeal = _exhaust(run_hooks, appealed("en"))
    notices = _notices(appeal.tar_id, f"appeal_exhausted:{appeal.pk}")
    # The member's notice only (appeals.notices_owed); it is not on the failed list.
    assert {a: (n.kind, n.status) for a, n in notices.items()} == {
        "member": (NoticeKind.UNTIMELY, NoticeStatus.OWED)
    }
    member = letter_for(appeal.tar_id, "untimely", "member")
    assert (member.language, member.large_print) == ("en", False)
    last_day = _hearing_last_day(member.letter_date)
    text = pdf_text(letter_pdf(member))
    assert not has(
        text,
        "we did not decide your appeal in time",
        appeal.number,
        day(_pacific_day(appeal.exhausted_at), "en"),
        "Because we did not decide in time, your appeal with us is treated as finished "
        "(exhausted).",
        "you can ask for a State Hearing now",
        f"no later than {day(last_day, 'en')}",
        "120 calendar days",
        "Keeping your services",
        "10 days of the date of this letter",
        "services to continue",
        "Ombudsman",
        OMBUDSMAN,
        "Free help in your language",
        "large print, braille or audio",
        MS,
        "TTY 711",
    )
    assert has(text, OFFERS_AN_APPEAL["en"]) == [OFFERS_AN_APPEAL["en"]]


def test_spanish_large_print_member_gets_the_exhausted_appeal_notice_in_spanish_at_18_points(
    appealed, world, run_hooks
):
    # Extended first: the missed deadline is the extended one.
    appeal = _extend(world, run_hooks, appealed("es"), "information_needed")
    appeal = _exhaust(run_hooks, appeal)
    notice = Notice.objects.get(tar_id=appeal.tar_id, event_key=f"appeal_exhausted:{appeal.pk}")
    assert notice.status == NoticeStatus.OWED
    member = letter_for(appeal.tar_id, "untimely", "member")
    assert (member.language, member.large_print) == ("es", True)
    last_day = _hearing_last_day(member.letter_date)
    pdf = letter_pdf(member)
    text = pdf_text(pdf)
    assert not has(
        text,
        "no decidimos su apelación a tiempo",
        day(_pacific_day(appeal.exhausted_at), "es"),
        "la fecha hasta la que la habíamos extendido",
        "su apelación con nosotros se considera terminada (agotada)",
        "puede pedir una Audiencia Estatal ahora",
        f"a más tardar el {day(last_day, 'es')}",
        "120 días calendario",
        "seguir recibiendo sus servicios",
        "10 días después de la fecha de esta carta",
        "Ombudsman de Atención Administrada de Medi-Cal",
        OMBUDSMAN,
        "Ayuda gratis en su idioma",
        "letra grande, braille o audio",
        MS,
        "TTY 711",
    )
    assert has(text, OFFERS_AN_APPEAL["es"]) == [OFFERS_AN_APPEAL["es"]]
    assert min(font_sizes(pdf)) >= 18


# --- what is refused --------------------------------------------------------------------------


def test_an_appeal_extension_notice_without_what_is_needed_is_not_printed():
    extension = AppealExtensionInfo(
        reference="APL-2026-000001",
        received_on=date(2026, 2, 25),
        expedited=False,
        reason_code="information_needed",
        reason_text="We need more information to decide the appeal.",
        note="  ",
        previous_due_at=datetime(2026, 3, 28, 6, 59, 59, tzinfo=UTC),
        new_due_at=datetime(2026, 4, 11, 6, 59, 59, tzinfo=UTC),
    )
    ctx = replace(context("delay"), extension=None, appeal_extension=extension)
    with pytest.raises(LetterError, match="the reason for the delay"):
        render_html("delay", ctx)
    # With the note, the appeal's wording is used, not the TAR delay letter's.
    html = render_html("delay", replace(ctx, appeal_extension=replace(extension, note="MRI.")))
    assert "file a grievance" in html
    assert OFFERS_AN_APPEAL["en"] not in html
