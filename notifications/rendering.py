"""Letters as PDF: a Django template per kind and language, printed by WeasyPrint.

`render_letter(kind, context)` is a function of its inputs only (no database): the templates
under templates/notifications/<language>/<kind>.html and a `LetterContext`. Before printing it
checks that an adverse notice has every element PRODUCT §7 requires, so a letter missing one is
never produced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation

from notifications.context import LetterContext, LetterError
from notifications.letter_contexts import in_reader_voice
from notifications.models import ADVERSE_KINDS, Audience, NoticeKind

logger = logging.getLogger(__name__)
# WeasyPrint logs every layout step at INFO; at hundreds of letters a batch that drowns the
# logs. Its warnings (missing fonts, bad CSS) still show.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

_HERE = Path(__file__).resolve().parent
_DECISION_KINDS = (
    NoticeKind.APPROVAL,
    NoticeKind.MODIFICATION,
    NoticeKind.DENIAL,
    NoticeKind.CLOSURE,
)


@dataclass(frozen=True)
class RenderedLetter:
    pdf: bytes
    page_count: int


@lru_cache(maxsize=1)
def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    # One per process: building it loads fontconfig, which costs more than a whole letter.
    return FontConfiguration()


# The large-print second try keeps every size and tightens only what large print set.
_LARGE_PRINT_COMPACT = "@page { margin: 0.5in 0.55in 0.7in 0.55in; } html { line-height: 1.2; }"


@lru_cache(maxsize=4)
def _stylesheets(large_print: bool, compact: bool = False) -> tuple:
    from weasyprint import CSS

    sheets = [CSS(filename=str(_HERE / "letter.css"), font_config=_font_config())]
    if large_print:
        sheets.append(CSS(filename=str(_HERE / "large_print.css"), font_config=_font_config()))
    if compact:
        sheets.append(CSS(filename=str(_HERE / "compact.css"), font_config=_font_config()))
        if large_print:
            sheets.append(CSS(string=_LARGE_PRINT_COMPACT, font_config=_font_config()))
    return tuple(sheets)


# A last page filled less than this (a fraction of its text area) is "near empty": the letter
# is laid out again, tighter, and the tighter layout kept if it saves that page.
LAST_PAGE_MIN_FILL = 0.3


def page_fill(page) -> float:
    """How far down its text area a laid-out WeasyPrint page is used, 0 to 1 (footers, in the
    page margins, do not count)."""
    from weasyprint.formatting_structure import boxes

    page_box = page._page_box
    top = page_box.content_box_y()
    bottom = top
    for child in page_box.children:
        if isinstance(child, boxes.MarginBox):
            continue
        for box in child.descendants():
            if isinstance(box, boxes.LineBox):
                bottom = max(bottom, box.position_y + box.height)
    return (bottom - top) / page_box.height if page_box.height else 1.0


def lay_out(html: str, *, large_print: bool):
    """The WeasyPrint document of a letter's HTML. A letter whose last page would hold only a
    few lines is laid out again with tighter spacing (compact.css, same type sizes) and that
    layout kept when it needs one page less; otherwise the first layout stands."""
    from weasyprint import HTML

    def layout(compact: bool):
        return HTML(string=html, base_url=str(_HERE)).render(
            stylesheets=list(_stylesheets(large_print, compact)), font_config=_font_config()
        )

    document = layout(compact=False)
    if len(document.pages) > 1 and page_fill(document.pages[-1]) < LAST_PAGE_MIN_FILL:
        tighter = layout(compact=True)
        if len(tighter.pages) < len(document.pages):
            return tighter
    return document


def check_elements(kind: str, context: LetterContext) -> None:
    """Refuse to print a letter that would lack a required element (PRODUCT §7)."""
    if kind not in NoticeKind.values:
        raise LetterError(f"unknown letter kind {kind!r}")
    missing: list[str] = []
    if kind in _DECISION_KINDS and context.decision is None:
        missing.append("decision")
    if kind in ADVERSE_KINDS:
        if not context.lines:
            missing.append("the service concerned")
        if kind in (NoticeKind.DENIAL, NoticeKind.MODIFICATION):
            decision = context.decision
            if decision is not None and not decision.rationale.strip():
                missing.append("the reason in plain words")
            if decision is not None and decision.medical_necessity and not context.criteria:
                missing.append("the criteria used (set, version, number)")
            # PRODUCT §7: a physician's decision names them and their direct line. A
            # non-medical closure by a nurse names the nurse when the account has a name
            # (never a role label: context.reviewer_for); the department signs either way.
            reviewer = context.reviewer
            if context.audience == Audience.PROVIDER and (
                reviewer is None
                or (reviewer.is_physician and (not reviewer.name or not reviewer.phone))
            ):
                missing.append("the deciding physician's name and direct telephone")
        if kind == NoticeKind.DELAY:
            # A TAR's extension, or an appeal's (42 CFR 438.408(c)(2)(ii): the reason).
            delay = context.appeal_extension or context.extension
            if delay is None or not delay.reason_text.strip() or not delay.note.strip():
                missing.append("the reason for the delay and what is needed")
        if kind == NoticeKind.UNTIMELY:
            # A TAR's missed decision deadline, or an appeal's missed resolution deadline.
            missed = context.appeal_exhausted or context.untimely
            if missed is None:
                missing.append("the missed deadline")
    if kind == NoticeKind.INFORMATION_REQUEST and context.information_request is None:
        missing.append("what information is needed")
    if kind == NoticeKind.APPEAL_RESOLUTION and context.appeal is None:
        missing.append("the appeal resolution")
    if kind == NoticeKind.APPEAL_DOWNGRADE and (
        context.appeal_downgrade is None or not context.appeal_downgrade.reason.strip()
    ):
        missing.append("why the appeal is not expedited, and its new date")
    if kind == NoticeKind.IMR_OUTCOME and (
        context.imr is None or not context.imr.analysis or not context.imr.reviewer_qualifications
    ):
        missing.append("the IMR determination, analysis and reviewer qualifications")
    if kind == NoticeKind.CRITERIA_COPY and not context.criteria_sets:
        missing.append("the criteria set versions")
    if missing:
        raise LetterError(f"{kind} letter for {context.tar_number} lacks: {', '.join(missing)}")


def template_name(kind: str, context: LetterContext) -> str:
    """The template for a letter: one per kind, except that an appeal's extension and its
    exhaustion, which share the delay and untimely kinds (and their clocks and reports) with a
    TAR's, say what an appeal needs: a grievance right, and a State Hearing right now."""
    name = kind
    if kind == NoticeKind.DELAY and context.appeal_extension is not None:
        name = "appeal_extension"
    elif kind == NoticeKind.UNTIMELY and context.appeal_exhausted is not None:
        name = "appeal_exhausted"
    return f"notifications/{context.language}/{name}.html"


def render_html(kind: str, context: LetterContext) -> str:
    check_elements(kind, context)
    template = template_name(kind, context)
    # The provider copy speaks about the member, not to them (PRODUCT §7).
    context = in_reader_voice(context)
    with translation.override(context.language):
        return render_to_string(template, {"ctx": context})


def render_letter_document(kind: str, context: LetterContext) -> RenderedLetter:
    document = lay_out(render_html(kind, context), large_print=context.large_print)
    return RenderedLetter(pdf=document.write_pdf(), page_count=len(document.pages))


def render_letter(kind: str, context: LetterContext) -> bytes:
    """The PDF bytes of a letter of `kind` saying what `context` says."""
    return render_letter_document(kind, context).pdf
