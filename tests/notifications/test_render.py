"""render_letter(kind, context): every kind in English and Spanish, the §7 elements, the
print sizes, and the refusal to print a letter that lacks a required element."""

from __future__ import annotations

import statistics
from dataclasses import replace
from datetime import date

import pytest

from authorizations import clocks
from notifications.context import LetterContext, LetterError
from notifications.letter_contexts import provider_voice
from notifications.models import NoticeKind
from notifications.rendering import render_letter
from tests.notifications.contexts import APPEAL_PHYSICIAN, LETTER_DATE, PHYSICIAN, context
from tests.notifications.elements import adverse_elements, day, missing
from tests.notifications.pdf import font_sizes, has, pdf_text

ADVERSE = ["denial", "modification", "delay", "untimely"]
ALL_KINDS = [kind.value for kind in NoticeKind]


def _adverse_expected(kind: str, ctx: LetterContext) -> dict[str, list[str]]:
    line = ctx.lines[0]
    with_physician = kind in ("denial", "modification", "delay") and not ctx.is_member_copy
    return adverse_elements(
        language=ctx.language,
        member_copy=ctx.is_member_copy,
        letter_date=ctx.letter_date,
        code=line.code,
        service=line.description,
        date_from=line.date_from,
        rationale=(
            ctx.decision.rationale
            if ctx.is_member_copy or ctx.language != "en"
            else provider_voice(ctx.decision.rationale)
        )
        if ctx.decision
        else None,
        citations=[(c.title, c.criteria_set, c.version, c.number) for c in ctx.criteria],
        physician=(PHYSICIAN.name, PHYSICIAN.phone) if with_physician else None,
    )


@pytest.mark.parametrize("audience", ["member", "provider"])
@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("kind", ADVERSE)
def test_adverse_letters_carry_every_required_element(kind, language, audience):
    ctx = context(kind, language=language, audience=audience)
    text = pdf_text(render_letter(kind, ctx))
    assert missing(text, _adverse_expected(kind, ctx)) == {}


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_kind_renders_in_both_languages(kind, language):
    pdf = render_letter(kind, context(kind, language=language))
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    # The letter speaks the member's language: a word only that language's letter uses.
    marker = {"en": "Member Services", "es": "Servicios para Miembros"}[language]
    assert not has(text, marker, "TAR-2026-000042", "Lucía Ramírez")


def test_delay_letter_states_reason_what_is_needed_and_new_date():
    ctx = context("delay", language="en")
    text = pdf_text(render_letter("delay", ctx))
    assert not has(
        text,
        "A specialist needs to review it.",
        "Send the lumbar MRI report.",
        "We now expect to decide by March 16, 2026",
    )


def test_spanish_delay_letter_states_the_new_date_in_spanish():
    text = pdf_text(render_letter("delay", context("delay", language="es")))
    assert not has(text, "Ahora esperamos decidir a más tardar el 16 de marzo de 2026")


def test_untimely_letter_says_a_late_decision_counts_as_a_denial():
    en = pdf_text(render_letter("untimely", context("untimely", language="en")))
    es = pdf_text(render_letter("untimely", context("untimely", language="es")))
    assert not has(en, "counts as a denial of the request", "March 2, 2026")
    assert not has(es, "cuenta como una negación de la solicitud")


def test_modification_letter_shows_what_was_approved():
    text = pdf_text(render_letter("modification", context("modification")))
    assert not has(text, "1 unit, March 10, 2026 to March 31, 2026")


def test_appeal_resolution_gives_state_hearing_right_and_120_day_date():
    for language, words in (
        ("en", ["State Hearing", "no later than", "120 calendar days"]),
        ("es", ["Audiencia Estatal", "a más tardar el", "120 días calendario"]),
    ):
        for audience in ("member", "provider"):
            ctx = context("appeal_resolution", language=language, audience=audience)
            due = clocks.state_hearing_deadline(resolution_date=LETTER_DATE).due_at
            deadline = due.astimezone(clocks.PACIFIC).date()
            assert deadline == date(2026, 6, 30)  # 120 calendar days after March 2
            text = pdf_text(render_letter("appeal_resolution", ctx))
            assert not has(text, *words, day(deadline, language), APPEAL_PHYSICIAN.name)
            assert not has(text, "1-888-452-8609")


def test_overturned_appeal_letter_has_no_hearing_deadline():
    ctx = context("appeal_resolution")
    ctx = replace(ctx, appeal=replace(ctx.appeal, outcome="overturned"))
    text = pdf_text(render_letter("appeal_resolution", ctx))
    assert not has(text, "We approved the service")
    assert has(text, "120 calendar days") == ["120 calendar days"]


@pytest.mark.parametrize("language", ["en", "es"])
def test_imr_outcome_carries_determination_analysis_and_reviewer_qualifications(language):
    ctx = context("imr_outcome", language=language)
    # Under an appeal the next step is the State Hearing, 120 days from this letter; a case
    # not under appeal keeps its appeal right (tests/notifications/test_imr_outcome_rights.py).
    ctx = replace(ctx, imr=replace(ctx.imr, under_appeal=True))
    text = pdf_text(render_letter("imr_outcome", ctx))
    assert not has(
        text,
        "IMR-2026-000003",
        "Golden State Independent Review",
        ctx.imr.analysis,
        "Board-certified anesthesiologist with a pain medicine fellowship",
        "The plan's decision is upheld" if language == "en" else "Se mantiene la decisión del plan",
        day(date(2026, 6, 30), language),
    )


def test_criteria_copy_lists_the_set_version_every_criterion_and_the_disclosure():
    text = pdf_text(render_letter("criteria_copy", context("criteria_copy")))
    assert not has(
        text,
        "Epidural steroid injection criteria (esi), version 2026.1",
        "Criterion 1: Radicular findings.",
        "Criterion 3 (cited in the decision): Four weeks of care.",
        "Sources: LCD L39240",
        "Guidelines text.",
    )


def test_large_print_is_at_least_18_points_everywhere():
    for kind in ("denial", "delay", "criteria_copy"):
        for language in ("en", "es"):
            pdf = render_letter(kind, context(kind, language=language, large_print=True))
            sizes = font_sizes(pdf)
            assert sizes and min(sizes) >= 18, (kind, language, min(sizes))


def test_standard_print_is_about_11_points():
    sizes = font_sizes(render_letter("denial", context("denial")))
    assert 10.5 <= statistics.median(sizes) <= 12
    assert min(sizes) >= 8


def test_a_medical_necessity_denial_without_criteria_is_not_printed():
    ctx = replace(context("denial"), criteria=())
    with pytest.raises(LetterError, match="criteria used"):
        render_letter("denial", ctx)


def test_a_provider_denial_without_the_physicians_phone_is_not_printed():
    ctx = replace(context("denial", audience="provider"), reviewer=None)
    with pytest.raises(LetterError, match="direct telephone"):
        render_letter("denial", ctx)


def test_a_denial_without_a_reason_is_not_printed():
    ctx = context("denial")
    ctx = replace(ctx, decision=replace(ctx.decision, rationale="  "))
    with pytest.raises(LetterError, match="plain words"):
        render_letter("denial", ctx)


def test_unknown_kind_is_refused():
    with pytest.raises(LetterError):
        render_letter("postcard", context("denial"))


def test_user_text_is_escaped_not_interpreted():
    ctx = context("denial")
    ctx = replace(ctx, decision=replace(ctx.decision, rationale="<b>x</b> & <script>y</script>"))
    assert not has(pdf_text(render_letter("denial", ctx)), "<b>x</b> & <script>y</script>")
