"""Every letter, read as its reader gets it (issue 15): each kind in the registries
(NoticeKind, the appeal variants of the delay and untimely kinds, GrievanceLetterKind,
AppealLetterKind) × English
and Spanish × standard and large print for the member, and the provider copy, rendered once in
this process (one font configuration) with realistic wording: the catalogue's criteria and a
physician's rationale as written for the member.

Read back from the PDF: the page count within bounds, no near-empty last page, no first page
less than half used, no line stranded at a page break, the sign-off (PRODUCT §7: the
Utilization Management department, the deciding physician on an adverse decision, never a role
label), the Ombudsman and appeal rights where the letter owes them, and the provider copy in
the clinical third person."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import cache

import pytest

from criteria.catalog import criterion_text, get_criteria_set
from notifications.appeal_letters import AppealLetterContext, render_appeal_letter
from notifications.context import AppealExhaustedInfo, AppealExtensionInfo, LetterContext
from notifications.grievance_letters import GrievanceLetterContext, render_grievance_letter
from notifications.models import ADVERSE_KINDS, AppealLetterKind, GrievanceLetterKind, NoticeKind
from notifications.rendering import render_letter_document, template_name
from tests.notifications import layout
from tests.notifications.contexts import LETTER_DATE, PHYSICIAN, context
from tests.notifications.pdf import has, pdf_text, squash

# The delay and untimely kinds print their own template for an appeal (rendering.template_name).
APPEAL_VARIANTS = {"appeal_extension": NoticeKind.DELAY, "appeal_exhausted": NoticeKind.UNTIMELY}
TAR_LETTERS = [*NoticeKind.values, *APPEAL_VARIANTS]
GRIEVANCE_LETTERS = list(GrievanceLetterKind.values)
APPEAL_LETTERS = list(AppealLetterKind.values)
# Signed by Grievance and Appeals, like the grievance letters.
DEPARTMENT_LETTERS = GRIEVANCE_LETTERS + APPEAL_LETTERS
LETTERS = TAR_LETTERS + DEPARTMENT_LETTERS

# The demo's denial rationale (portal seed_demo), written to the member.
RATIONALE = {
    "en": "Your records show 2 weeks of physical therapy and medicines for your lower back. "
    "The plan's rule asks for at least 4 weeks of such care before this injection.",
    "es": "Sus registros muestran 2 semanas de terapia física y medicinas para la parte baja de "
    "su espalda. La regla del plan pide por lo menos 4 semanas de ese cuidado antes de esta "
    "inyección.",
}
ESI = get_criteria_set("esi")
# Cited: the radicular findings (1) and the conservative care (3), as in the catalogue.
CITED = [c for c in ESI["criteria"] if c["number"] in (1, 3)]

MAX_PAGES = {False: 4, True: 7}  # standard, large print
MIN_LAST_PAGE_LINES = {False: 8, True: 6}
DUE = datetime(2026, 3, 17, 6, 59, 59, tzinfo=UTC)


def _tar_context(letter: str, language: str, audience: str, large_print: bool) -> LetterContext:
    kind = APPEAL_VARIANTS.get(letter, letter)
    ctx = context(kind, language=language, audience=audience, large_print=large_print)
    criteria = tuple(
        replace(
            ctx.criteria[0],
            number=c["number"],
            text=c["text_es"] if language == "es" else c["text"],
        )
        for c in CITED
    )
    ctx = replace(ctx, criteria=criteria)
    if ctx.decision is not None and kind != NoticeKind.APPROVAL:
        ctx = replace(ctx, decision=replace(ctx.decision, rationale=RATIONALE[language]))
    if ctx.appeal is not None:
        ctx = replace(ctx, appeal=replace(ctx.appeal, rationale=RATIONALE[language]))
    if letter == "appeal_extension":
        ctx = replace(
            ctx,
            extension=None,
            appeal_extension=AppealExtensionInfo(
                reference="APL-2026-000007",
                received_on=date(2026, 3, 5),
                expedited=False,
                reason_code="member_requested",
                reason_text="You asked for more time to send records."
                if language == "en"
                else "Usted pidió más tiempo para enviar registros.",
                note="Send the physical therapy notes." if language == "en" else "Envíe las notas.",
                previous_due_at=datetime(2026, 4, 4, 6, 59, 59, tzinfo=UTC),
                new_due_at=datetime(2026, 4, 18, 6, 59, 59, tzinfo=UTC),
            ),
        )
    if letter == "appeal_exhausted":
        ctx = replace(
            ctx,
            untimely=None,
            appeal_exhausted=AppealExhaustedInfo(
                reference="APL-2026-000007",
                received_on=date(2026, 3, 5),
                expedited=False,
                resolution_due_at=DUE,
            ),
        )
    return ctx


def _grievance_context(letter: str, language: str, large_print: bool) -> GrievanceLetterContext:
    base = context("approval", language=language)
    return GrievanceLetterContext(
        language=language,
        large_print=large_print,
        plan=base.plan,
        letter_date=LETTER_DATE,
        recipient=base.recipient,
        member_name=base.member_name,
        member_cin=base.member_cin,
        tar_number="GRV-2026-000004",
        grievance_number="GRV-2026-000004",
        kind_words="the quality of the care you received"
        if language == "en"
        else "la calidad de la atención que recibió",
        received_at=datetime(2026, 2, 27, 18, 0, tzinfo=UTC),
        expedited=False,
        resolution_due_at=datetime(2026, 3, 30, 6, 59, 59, tzinfo=UTC),
        about_request="TAR-2026-000042",
        resolution="We spoke with the clinic; the visit will be rescheduled at no cost."
        if language == "en"
        else "Hablamos con la clínica; la cita se cambiará sin costo.",
    )


def _appeal_letter_context(language: str, large_print: bool) -> AppealLetterContext:
    base = context("approval", language=language)
    return AppealLetterContext(
        language=language,
        large_print=large_print,
        plan=base.plan,
        letter_date=LETTER_DATE,
        recipient=base.recipient,
        member_name=base.member_name,
        member_cin=base.member_cin,
        tar_number="TAR-2026-000042",
        appeal_number="APL-2026-000007",
        received_at=datetime(2026, 3, 5, 18, 0, tzinfo=UTC),
        expedited=False,
        resolution_due_at=datetime(2026, 4, 4, 6, 59, 59, tzinfo=UTC),
        continued_care=True,
    )


@cache
def rendered(letter: str, language: str, audience: str, large_print: bool):
    """(context, PDF bytes, page count), each letter rendered once per test session."""
    if letter in GRIEVANCE_LETTERS:
        ctx = _grievance_context(letter, language, large_print)
        out = render_grievance_letter(letter, ctx)
    elif letter in APPEAL_LETTERS:
        ctx = _appeal_letter_context(language, large_print)
        out = render_appeal_letter(letter, ctx)
    else:
        ctx = _tar_context(letter, language, audience, large_print)
        out = render_letter_document(APPEAL_VARIANTS.get(letter, letter), ctx)
    return ctx, out.pdf, out.page_count


# The member's copy in both languages and print sizes; the provider's copy (English, standard
# print: tar_letter_context) of every TAR letter.
COPIES = [
    pytest.param(letter, language, "member", large, id=f"{letter}-{language}-member-{size}")
    for letter in LETTERS
    for language in ("en", "es")
    for large, size in ((False, "standard"), (True, "large"))
] + [
    pytest.param(letter, "en", "provider", False, id=f"{letter}-en-provider-standard")
    for letter in TAR_LETTERS
]


def test_the_matrix_covers_every_registered_kind_and_template():
    covered = {APPEAL_VARIANTS.get(letter, letter) for letter in LETTERS}
    assert covered >= (
        set(NoticeKind.values) | set(GrievanceLetterKind.values) | set(AppealLetterKind.values)
    )
    for letter in APPEAL_VARIANTS:
        ctx, _, _ = rendered(letter, "en", "member", False)
        assert template_name(APPEAL_VARIANTS[letter], ctx).endswith(f"/{letter}.html")


@pytest.mark.parametrize(("letter", "language", "audience", "large"), COPIES)
def test_the_pages_are_laid_out_for_reading(letter, language, audience, large):
    _, pdf, count = rendered(letter, language, audience, large)
    pages = layout.pages(pdf)
    assert len(pages) == count
    assert 1 <= count <= MAX_PAGES[large], f"{count} pages"
    if count > 1:
        last = pages[-1]
        assert len(last.lines) >= MIN_LAST_PAGE_LINES[large], (
            f"near-empty last page: {[line.text for line in last.lines]}"
        )
        first = pages[0]
        assert first.lines[-1].y < first.height / 2, "first page less than half used"
    assert layout.stranded_lines(pages) == []
    # No line broken right after its first word (the stray break before "Medi-Cal Managed
    # Care Ombudsman"): a paragraph line of one short word is followed by more of it.
    for page in pages:
        for line, after in zip(page.lines, page.lines[1:], strict=False):
            assert not (re.fullmatch(r"(The|La|El)", line.text) and after.text[:1].isupper()), (
                f"stray line break after {line.text!r} before {after.text!r}"
            )


SIGN_OFF = {
    "en": ("Sincerely,", "Utilization Management"),
    "es": ("Atentamente,", "Administración de Utilización"),
}
GRIEVANCE_SIGN_OFF = {
    "en": ("Sincerely,", "Grievance and Appeals"),
    "es": ("Atentamente,", "Quejas y Apelaciones"),
}
# A physician's adverse decision is signed by that physician (PRODUCT §7).
PHYSICIAN_SIGNS = {NoticeKind.DENIAL, NoticeKind.MODIFICATION, NoticeKind.APPEAL_RESOLUTION}
OMBUDSMAN = {"en": "Medi-Cal Managed Care Ombudsman", "es": "Ombudsman de Atención Administrada"}
# Letters that owe the Ombudsman: every adverse notice (§7) and the appeal, IMR and grievance
# letters, which carry the member's next steps.
OWE_OMBUDSMAN = {
    *ADVERSE_KINDS,
    *APPEAL_VARIANTS,
    NoticeKind.APPEAL_RESOLUTION,
    NoticeKind.APPEAL_DOWNGRADE,
    NoticeKind.IMR_OUTCOME,
    *DEPARTMENT_LETTERS,
}
# Letters that state the 60-day appeal right and its last day.
OWE_APPEAL_RIGHT = {NoticeKind.DENIAL, NoticeKind.MODIFICATION, NoticeKind.UNTIMELY}
APPEAL_DEADLINE = {"en": "May 1, 2026", "es": "1 de mayo de 2026"}


@pytest.mark.parametrize(("letter", "language", "audience", "large"), COPIES)
def test_the_letter_carries_its_required_parts(letter, language, audience, large):
    ctx, pdf, _ = rendered(letter, language, audience, large)
    text = pdf_text(pdf)
    sign_off = GRIEVANCE_SIGN_OFF if letter in DEPARTMENT_LETTERS else SIGN_OFF
    assert not has(text, *sign_off[language])
    if letter in PHYSICIAN_SIGNS:
        signer = ctx.appeal.reviewer if letter == NoticeKind.APPEAL_RESOLUTION else PHYSICIAN
        closing = squash(text)[squash(text).rindex(squash(sign_off[language][0])) :]
        assert squash(signer.name) in closing, "the deciding physician signs"
    assert not re.search(r"\b(Reviewed|Revisado|Closed|Cerrada) (by|por)\b", text)
    assert not re.search(r"\bNurse\b|\bEnfermer[oa]\b", text)
    if letter in OWE_OMBUDSMAN:
        assert not has(text, OMBUDSMAN[language])
    if letter in OWE_APPEAL_RIGHT:
        assert not has(text, APPEAL_DEADLINE[language])


def test_a_role_label_is_never_printed_as_the_reviewer():
    """The demo nurse has no provider record and no last name: the approval is signed by the
    department, and no "Reviewed by Nurse" line is left."""
    from notifications.context import Reviewer

    ctx = replace(
        context("approval"), reviewer=Reviewer(name="Nurse", phone="", is_physician=False)
    )
    text = pdf_text(render_letter_document("approval", ctx).pdf)
    assert "Nurse" not in text
    assert not has(text, "Sincerely,", "Utilization Management", ctx.plan.name)


MEMBER_ADDRESSED = re.compile(r"\b(your|you)\b", re.IGNORECASE)


@pytest.mark.parametrize("letter", TAR_LETTERS)
def test_the_provider_copy_speaks_about_the_member(letter):
    """The criteria and the rationale, written to the member, reach the office in the
    clinical third person; the member's copy keeps them as written."""
    ctx, pdf, _ = rendered(letter, "en", "provider", False)
    text = squash(pdf_text(pdf))
    _, member_pdf, _ = rendered(letter, "en", "member", False)
    member_text = squash(pdf_text(member_pdf))
    member_voiced = [RATIONALE["en"]] + [c["text"] for c in CITED]
    for written in member_voiced:
        assert squash(written) not in text
    if ctx.decision is not None and letter in (NoticeKind.DENIAL, NoticeKind.MODIFICATION):
        assert squash("The patient's records show 2 weeks") in text
        assert squash("for the patient's lower back") in text
        assert squash(RATIONALE["en"]) in member_text
    if ctx.criteria and letter in (NoticeKind.DENIAL, NoticeKind.MODIFICATION):
        # The office reads the catalogue's clinical wording of the cited criterion.
        clinical = criterion_text(f"esi:{ESI['version']}:3", "provider")
        assert squash(clinical) in text
        assert squash(CITED[1]["text"]) in member_text
    # Nothing on the provider copy addresses the member's body or records.
    for phrase in ("your pain", "your spine", "your records", "your lower back", "your health"):
        assert squash(phrase) not in text.lower(), phrase


def test_every_catalogue_criterion_reads_in_the_third_person_for_the_provider():
    from criteria.catalog import CRITERIA_SETS
    from notifications.context import CriterionCitation
    from notifications.letter_contexts import criterion_text_for_reader

    sets = CRITERIA_SETS.values() if isinstance(CRITERIA_SETS, dict) else CRITERIA_SETS
    for criteria_set in sets:
        for c in criteria_set["criteria"]:
            citation = CriterionCitation(
                criteria_set=criteria_set["id"],
                title=criteria_set["title"],
                version=criteria_set["version"],
                number=c["number"],
                text=c["text"],
            )
            provider = criterion_text_for_reader(citation, audience="provider", language="en")
            member = criterion_text_for_reader(citation, audience="member", language="en")
            assert member == c["text"]
            assert not MEMBER_ADDRESSED.search(provider), provider
