"""The staff wording of every shipped criterion (issue 15: criteria texts for each reader).

Each criterion carries two voices. The member wording lives on the criterion itself
(``text`` / ``text_es`` in ``criteria.catalog``): second person, plain words, the words
letters and criteria copies print. This module holds the clinical wording a nurse, a
physician or a provider office reads: third person, the thresholds as numbers, the policy
cited where it helps (PRODUCT §6; LCD L39240, L38801/L38803, NCD 160.7, NCD 280.14; seeds
000, 001, 004).

Provider screens and provider letter copies use the staff wording too: the office reading
them is clinical staff writing about the member, so the member's "you" would be wrong there
and a third, second-person office voice ("your patient has…") would say nothing the clinical
wording does not. Staff and provider screens are English only today (the portal translates
member pages), so the staff wording is English only; ``criteria.catalog.criterion_text``
says what a Spanish staff or provider reader gets.

Keys are criterion ids (``esi.3``). A criterion whose rule changed in a later version has
its own wording under ``(id, version)`` in ``STAFF_TEXT_REVISIONS``; every other version
uses ``STAFF_TEXTS``. Plain data: read-only, no imports.
"""

from __future__ import annotations

_DOCUMENTED = "Baseline pain score (0-10) and a functional scale (e.g. ODI, NDI) documented (004)."
_GUIDED = "Image guidance by fluoroscopy or CT."
_SCS_TRIAL = (
    "Pain ≥ 26 weeks (6 months) (NCD 160.7).",
    "Conservative care ≥ 26 weeks including medications and physical therapy, documented "
    "and failed.",
    "Behavioral-health (psychological) evaluation cleared the member for the device.",
    "No active, untreated substance-use disorder.",
    "No contraindication to the device (infection, coagulopathy, other).",
)
_PUMP_TRIAL = (
    "Life expectancy ≥ 3 months (NCD 280.14).",
    "A specialist confirms less invasive treatment failed or was not tolerated (001).",
    "No contraindication to the pump (infection, coagulopathy, body size, other).",
    "Non-malignant pain only: pain ≥ 26 weeks (6 months).",
    "Non-malignant pain only: conservative care ≥ 26 weeks documented and failed.",
    "Non-malignant pain only: psychological evaluation cleared the member for the device.",
)
_PERMANENT = (
    "Trial relief ≥ 50 %.",
    "Side effects during the trial acceptable.",
    "The member accepts the permanent device.",
)


def _numbered(set_id: str, texts: tuple[str, ...]) -> dict[str, str]:
    return {f"{set_id}.{number}": text for number, text in enumerate(texts, start=1)}


# fmt: off
STAFF_TEXTS: dict[str, str] = {
    **_numbered("esi", (
        "Radicular pain, radiculopathy or neurogenic claudication with concordant history, "
        "exam and imaging (LCD L39240).",
        "Pain ≥ 4 weeks.",
        "Conservative care ≥ 4 weeks with ≥ 2 modalities (medications, PT, activity "
        "modification, home exercise, chiropractic) documented and failed.",
        _DOCUMENTED,
        _GUIDED,
        "Levels this session: transforaminal ≤ 2; interlaminar or caudal 1.",
        "≤ 4 sessions in this region in a rolling 12 months, this one included.",
        "Repeat within 12 months: the last session gave ≥ 50 % relief lasting ≥ 3 weeks.",
    )),
    **_numbered("facet_mbb", (
        "Predominantly axial (non-radicular) neck or back pain (LCD L38801/L38803).",
        "No untreated radiculopathy or neurogenic claudication.",
        "Pain ≥ 12 weeks (3 months).",
        "Conservative care ≥ 12 weeks documented and failed.",
        _DOCUMENTED,
        "Image guidance by fluoroscopy or CT (ultrasound not accepted for facet procedures).",
        "≤ 4 sessions in this region in a rolling 12 months, this one included.",
        "Repeat block within 12 months: the last session gave ≥ 80 % relief.",
        "Not a 3rd- or 4th-level add-on code (64492, 64495): the criteria cover 1-2 levels.",
    )),
    **_numbered("facet_rfa", (
        "≥ 2 diagnostic medial branch blocks, each with ≥ 80 % relief (LCD L38801/L38803).",
        _GUIDED,
        "≤ 2 RFA sessions in this region in a rolling 12 months, this one included.",
        "Repeat RFA within 12 months: the last gave ≥ 50 % relief lasting ≥ 6 months.",
    )),
    **_numbered("scs_trial", _SCS_TRIAL),
    **_numbered("scs_permanent", _SCS_TRIAL + _PERMANENT),
    **_numbered("pump_trial", _PUMP_TRIAL),
    **_numbered("pump_permanent", _PUMP_TRIAL + _PERMANENT),
}
# fmt: on

# Version 2026.2 changed these rules (criteria.catalog, issue 11 row 13); the wording follows.
STAFF_TEXT_REVISIONS: dict[tuple[str, str], str] = {
    ("facet_mbb.8", "2026.2"): (
        "Repeat block within 12 months: each earlier medial branch block gave ≥ 80 % relief."
    ),
    ("facet_rfa.4", "2026.2"): (
        "Repeat RFA (any earlier RFA in this region, however long ago): the last gave ≥ 50 % "
        "relief lasting ≥ 6 months."
    ),
}


def staff_text(criterion_id: str, version: str | None = None) -> str | None:
    """The staff wording of a criterion in a version, or None for an unknown criterion."""
    if version is not None:
        revised = STAFF_TEXT_REVISIONS.get((criterion_id, version))
        if revised is not None:
            return revised
    return STAFF_TEXTS.get(criterion_id)
