"""The appeal acknowledgement (issue 15): the member is told in writing, within 5 calendar
days of receipt, that their appeal arrived, its number and the date they will have the answer
(42 CFR 438.406(b)(1): each appeal acknowledged; 28 CCR 1300.68(d)(1): within 5 calendar
days; PRODUCT §4). A PDF by WeasyPrint in the member's language and format, made once by the
`appeal_letters` consumer of the outbox from APPEAL_FILED."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.template.loader import render_to_string
from django.utils import timezone, translation

from appeals.models import Appeal
from authorizations.models import DomainEvent, EventKind
from members.models import AlternateFormat
from notifications.context import Party, PlanInfo, member_letter_language, member_party, plan_info
from notifications.models import AppealLetter, AppealLetterKind
from notifications.rendering import RenderedLetter, lay_out

# 28 CCR 1300.68(d)(1): written acknowledgement within 5 calendar days of receipt.
ACKNOWLEDGEMENT_WINDOW = timedelta(days=5)
APPEAL_LETTER_EVENTS = (EventKind.APPEAL_FILED,)


@dataclass(frozen=True)
class AppealLetterContext:
    language: str
    large_print: bool
    plan: PlanInfo
    letter_date: date
    recipient: Party
    member_name: str
    member_cin: str
    tar_number: str  # the request appealed, printed in the reference
    appeal_number: str
    received_at: datetime
    expedited: bool
    resolution_due_at: datetime
    continued_care: bool
    is_member_copy: bool = True
    version: int = 1


def acknowledgement_due_at(appeal: Appeal) -> datetime:
    return appeal.received_at + ACKNOWLEDGEMENT_WINDOW


def letter_context(appeal: Appeal, *, now: datetime) -> AppealLetterContext:
    member = appeal.member
    language = member_letter_language(member)
    return AppealLetterContext(
        language=language,
        large_print=member.alternate_format == AlternateFormat.LARGE_PRINT,
        plan=plan_info(),
        letter_date=timezone.localdate(now),
        recipient=member_party(member),
        member_name=member.full_name,
        member_cin=member.cin,
        tar_number=appeal.tar.number,
        appeal_number=appeal.number,
        received_at=appeal.received_at,
        expedited=appeal.expedited,
        resolution_due_at=appeal.resolution_due_at,
        continued_care=appeal.continued_care,
    )


def render_appeal_letter(kind: str, context: AppealLetterContext) -> RenderedLetter:
    """The PDF of an appeal letter: a function of its inputs (no database)."""
    with translation.override(context.language):
        html = render_to_string(f"notifications/{context.language}/{kind}.html", {"ctx": context})
    document = lay_out(html, large_print=context.large_print)
    return RenderedLetter(pdf=document.write_pdf(), page_count=len(document.pages))


def appeal_letters_for_event(event: DomainEvent) -> AppealLetter | None:
    """The consumer: make the acknowledgement once (unique per appeal and kind), so a
    repeated or replayed event is a no-op."""
    if event.kind != EventKind.APPEAL_FILED or event.subject_type != "appeal":
        return None
    kind = AppealLetterKind.ACKNOWLEDGEMENT
    appeal = Appeal.objects.select_related("member", "tar").get(pk=event.subject_id)
    if AppealLetter.objects.filter(appeal=appeal, kind=kind).exists():
        return None
    context = letter_context(appeal, now=event.created_at)
    rendered = render_appeal_letter(kind, context)
    letter = AppealLetter(
        appeal=appeal,
        kind=kind,
        language=context.language,
        large_print=context.large_print,
        letter_date=context.letter_date,
        due_at=acknowledgement_due_at(appeal),
    )
    filename = f"{appeal.number}-{kind}-{context.language}.pdf"
    return letter if letter.store_once(rendered.pdf, rendered.page_count, filename) else None
