"""What PRODUCT §7 requires a letter to carry, as the words to look for in the PDF, per
language and copy. Dates are formatted here independently of the product's formatter."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings

_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
}
OMBUDSMAN = "1-888-452-8609"


def day(value: date, language: str) -> str:
    month = _MONTHS[language][value.month - 1]
    return (
        f"{value.day} de {month} de {value.year}"
        if language == "es"
        else (f"{month} {value.day}, {value.year}")
    )


def adverse_elements(
    *,
    language: str,
    member_copy: bool,
    letter_date: date,
    code: str,
    service: str,
    date_from: date,
    rationale: str | None,
    citations: list[tuple[str, str, int]],
    physician: tuple[str, str] | None,
) -> dict[str, list[str]]:
    """Every §7 element of an adverse notice (denial, modification, delay, untimely).
    `citations` are (set title as printed, set id, version, number)."""
    ms = settings.PLAN_MEMBER_SERVICES_PHONE
    um = settings.PLAN_UM_PHONE
    appeal_by = day(letter_date + timedelta(days=60), language)
    en = language == "en"
    elements: dict[str, list[str]] = {
        "service": [code, service, day(date_from, language)],
        "criteria": [
            (f"{title} criteria ({set_id}), version {version}, criterion {number}")
            if en
            else f"Criterios de {title} ({set_id}), versión {version}, criterio {number}"
            for title, set_id, version, number in citations
        ],
        "clinical_reasons": [
            (f"Criterion {number} ({set_id}, version {version})")
            if en
            else f"Criterio {number} ({set_id}, versión {version})"
            for _title, set_id, version, number in citations
        ],
        "peer_to_peer": [um, "peer-to-peer" if en else "conversación entre médicos"],
        "appeal_60_days": [appeal_by, "60 calendar days" if en else "60 días calendario"],
        "expedited_appeal": ["72 hours" if en else "72 horas"],
        "state_hearing": [
            "State Hearing" if en else "Audiencia Estatal",
            "120 calendar days" if en else "120 días calendario",
        ],
        "continued_benefits": ["10 days of the date of this letter"]
        if en
        else ["10 días después de la fecha de esta carta"],
        "free_copies": ["free copies" if en else "copias gratis"],
        "ombudsman": ["Ombudsman", OMBUDSMAN],
        "language_assistance": [ms, "TTY 711"],
    }
    if rationale:
        elements["reason"] = [rationale]
    if member_copy:
        elements["how_to_appeal"] = ["How to appeal" if en else "Cómo apelar", ms]
        elements["expedited_appeal"].append(
            "Fast (expedited) appeals" if en else "Apelación rápida (acelerada)"
        )
        elements["continued_benefits"].append(
            "Keeping your services while you appeal"
            if en
            else "Cómo seguir recibiendo sus servicios mientras apela"
        )
        elements["language_assistance"].append(
            "Free help in your language" if en else "Ayuda gratis en su idioma"
        )
    else:
        elements["how_to_appeal"] = ["written permission" if en else "permiso por escrito"]
        elements["expedited_appeal"].append("Expedited appeal" if en else "Apelación acelerada")
        elements["continued_benefits"].append("Continued benefits" if en else "Continuación")
    if physician is not None:
        name, phone = physician
        elements["deciding_physician"] = (
            [f"Deciding physician: {name}. Direct telephone: {phone}."]
            if en
            else [f"Médico que decidió: {name}. Teléfono directo: {phone}."]
        )
    return elements


def missing(text_or_pdf, elements: dict[str, list[str]]) -> dict[str, list[str]]:
    from tests.notifications.pdf import has

    found_missing = {name: has(text_or_pdf, *needles) for name, needles in elements.items()}
    return {name: needles for name, needles in found_missing.items() if needles}
