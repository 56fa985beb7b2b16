"""Grievance letters (PRODUCT §4, §7): the acknowledgement (H&S 1368(a)(4); 28 CCR
1300.68(d)(1): within 5 calendar days) and the resolution (H&S 1368(a)(5); 42 CFR
438.408(d)(1)), PDFs by WeasyPrint in the member's language and format, made once by the
`grievance_letters` consumer of the outbox from GRIEVANCE_ACKNOWLEDGED / GRIEVANCE_RESOLVED."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.template.loader import render_to_string
from django.utils import timezone, translation

from authorizations.models import DomainEvent, EventKind
from grievances.models import Grievance
from members.models import AlternateFormat
from notifications.context import Party, PlanInfo, member_letter_language, member_party, plan_info
from notifications.models import GrievanceLetter, GrievanceLetterKind
from notifications.rendering import RenderedLetter, lay_out

# The grievance kinds in the member's words (grievances.models.GrievanceKind).
KIND_WORDS: dict[str, dict[str, str]] = {
    "extension": {
        "en": "you disagree with our taking more time to decide a request",
        "es": "no está de acuerdo con que tomemos más tiempo para decidir una solicitud",
    },
    "not_expedited": {
        "en": "you disagree with our decision not to handle your appeal as urgent",
        "es": "no está de acuerdo con nuestra decisión de no tratar su apelación como urgente",
    },
    "quality_of_care": {
        "en": "the quality of the care you received",
        "es": "la calidad de la atención que recibió",
    },
    "access": {
        "en": "getting care, or getting it in time",
        "es": "obtener atención, u obtenerla a tiempo",
    },
    "conduct": {
        "en": "how a provider or plan staff treated you",
        "es": "cómo lo trató un proveedor o el personal del plan",
    },
    "communication": {
        "en": "language, interpreter or communication help",
        "es": "ayuda de idioma, intérprete o comunicación",
    },
    "rights": {
        "en": "your rights as a member (privacy or discrimination)",
        "es": "sus derechos como miembro (privacidad o discriminación)",
    },
    "other": {"en": "your concern", "es": "su inquietud"},
}
_EVENT_LETTER: dict[str, str] = {
    EventKind.GRIEVANCE_ACKNOWLEDGED: GrievanceLetterKind.ACKNOWLEDGEMENT,
    EventKind.GRIEVANCE_RESOLVED: GrievanceLetterKind.RESOLUTION,
}


@dataclass(frozen=True)
class GrievanceLetterContext:
    language: str
    large_print: bool
    plan: PlanInfo
    letter_date: date
    recipient: Party
    member_name: str
    member_cin: str
    tar_number: str  # the reference printed in the title: the grievance number
    grievance_number: str
    kind_words: str
    received_at: datetime
    expedited: bool
    resolution_due_at: datetime
    about_request: str
    resolution: str
    is_member_copy: bool = True
    version: int = 1


def letter_context(grievance: Grievance, *, now: datetime) -> GrievanceLetterContext:
    member = grievance.member
    language = member_letter_language(member)
    return GrievanceLetterContext(
        language=language,
        large_print=member.alternate_format == AlternateFormat.LARGE_PRINT,
        plan=plan_info(),
        letter_date=timezone.localdate(now),
        recipient=member_party(member),
        member_name=member.full_name,
        member_cin=member.cin,
        tar_number=grievance.number,
        grievance_number=grievance.number,
        kind_words=KIND_WORDS.get(grievance.kind, KIND_WORDS["other"])[language],
        received_at=grievance.received_at,
        expedited=grievance.expedited,
        resolution_due_at=grievance.resolution_due_at,
        about_request=grievance.tar.number if grievance.tar is not None else "",
        resolution=grievance.resolution,
    )


def render_grievance_letter(kind: str, context: GrievanceLetterContext) -> RenderedLetter:
    """The PDF of a grievance letter: a function of its inputs (no database)."""
    if kind == GrievanceLetterKind.RESOLUTION and not context.resolution.strip():
        raise ValueError("a resolution letter needs the resolution")
    with translation.override(context.language):
        html = render_to_string(f"notifications/{context.language}/{kind}.html", {"ctx": context})
    document = lay_out(html, large_print=context.large_print)
    return RenderedLetter(pdf=document.write_pdf(), page_count=len(document.pages))


def grievance_letters_for_event(event: DomainEvent) -> GrievanceLetter | None:
    """The consumer: make the letter the event owes, once (unique per grievance and kind)."""
    kind = _EVENT_LETTER.get(event.kind)
    if kind is None or event.subject_type != "grievance":
        return None
    grievance = Grievance.objects.select_related("member", "tar").get(pk=event.subject_id)
    if GrievanceLetter.objects.filter(grievance=grievance, kind=kind).exists():
        return None
    context = letter_context(grievance, now=event.created_at)
    rendered = render_grievance_letter(kind, context)
    due = (
        grievance.acknowledgement_due_at
        if kind == GrievanceLetterKind.ACKNOWLEDGEMENT
        else grievance.resolution_due_at
    )
    letter = GrievanceLetter(
        grievance=grievance,
        kind=kind,
        language=context.language,
        large_print=context.large_print,
        letter_date=context.letter_date,
        due_at=due,
    )
    filename = f"{grievance.number}-{kind}-{context.language}.pdf"
    return letter if letter.store_once(rendered.pdf, rendered.page_count, filename) else None
