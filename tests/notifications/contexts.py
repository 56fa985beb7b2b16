"""Letter contexts built by hand, for kinds whose records live elsewhere (appeals, IMR) and
for checking every kind in both languages without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from authorizations.wording import service_description, set_title
from notifications.context import (
    AppealDowngradeInfo,
    AppealInfo,
    CriteriaSetCopy,
    CriterionCitation,
    CriterionText,
    DecisionInfo,
    ExtensionInfo,
    ImrInfo,
    InformationRequestInfo,
    LetterContext,
    Party,
    Reviewer,
    ServiceLineInfo,
    UntimelyInfo,
    plan_info,
)

LETTER_DATE = date(2026, 3, 2)
PHYSICIAN = Reviewer(name="Dr. Paula Okafor, MD", phone="(707) 555-0161")
APPEAL_PHYSICIAN = Reviewer(name="Dr. Samuel Ito, DO", phone="(707) 555-0177")
RATIONALE = {
    "en": "Your records show 2 weeks of pain medicine only; we ask for 4 weeks of two kinds.",
    "es": "Sus registros muestran solo 2 semanas de medicina; pedimos 4 semanas de dos tipos.",
}


def context(kind: str, *, language: str = "en", audience: str = "member", large_print=False):
    outcome = {"modification": "modified", "approval": "approved", "closure": "closed"}.get(
        kind, "denied"
    )
    line = ServiceLineInfo(
        line_number=1,
        code="64483",
        description=service_description("64483", language),
        units=2,
        date_from=date(2026, 3, 10),
        date_to=date(2026, 4, 10),
        diagnosis_codes=("M54.16",),
        outcome="modified" if kind == "modification" else outcome,
        outcome_label="Modified",
        approved_units=1 if kind == "modification" else 2,
        approved_date_from=date(2026, 3, 10),
        approved_date_to=date(2026, 3, 31) if kind == "modification" else date(2026, 4, 10),
    )
    criterion = CriterionCitation(
        criteria_set="esi",
        title=set_title("esi", "Epidural steroid injection", language),
        version="2026.1",
        number=3,
        text="Four weeks of two kinds of care." if language == "en" else "Cuatro semanas.",
        finding="Not met." if language == "en" else "No se cumple.",
    )
    due = datetime(2026, 3, 3, 7, 59, 59, tzinfo=UTC)
    base = LetterContext(
        audience=audience,
        language=language,
        large_print=large_print,
        letter_date=LETTER_DATE,
        plan=plan_info(),
        recipient=Party("Lucía Ramírez", ("12 Oak Street", "Santa Rosa, CA 95401")),
        member_name="Lucía Ramírez",
        member_cin="90000006F",
        tar_number="TAR-2026-000042",
        received_on=date(2026, 2, 24),
        request_type="before the service",
        urgency="Routine",
        requesting_provider="Dr. Ana Redwood",
        servicing_provider="Dr. Ana Redwood",
        lines=(line,),
        reviewer=PHYSICIAN,
        criteria=(criterion,),
    )
    if kind in ("approval", "modification", "denial", "closure"):
        base = replace(
            base,
            decision=DecisionInfo(
                outcome=outcome,
                reason_code="" if kind == "approval" else "medical_necessity",
                reason_text="Reason in plain words.",
                rationale=RATIONALE[language],
                decided_on=date(2026, 3, 1),
                medical_necessity=kind in ("denial", "modification"),
            ),
        )
    if kind == "delay":
        base = replace(
            base,
            extension=ExtensionInfo(
                reason_code="expert_review_needed",
                reason_text="A specialist needs to review it.",
                note="Send the lumbar MRI report.",
                previous_due_at=due,
                new_due_at=datetime(2026, 3, 17, 6, 59, 59, tzinfo=UTC),
            ),
        )
    if kind == "information_request":
        base = replace(
            base,
            information_request=InformationRequestInfo(
                message="Send the physical therapy notes.",
                missing_items=("Weeks of conservative care",),
                requested_on=date(2026, 2, 26),
                decision_due_at=due,
            ),
        )
    if kind == "untimely":
        base = replace(
            base,
            reviewer=None,
            untimely=UntimelyInfo(decision_due_at=due, breached_at=due),
        )
    if kind == "appeal_resolution":
        base = replace(
            base,
            appeal=AppealInfo(
                reference="APL-2026-000007",
                received_on=date(2026, 3, 5),
                resolved_on=date(2026, 3, 30),
                outcome="upheld",
                rationale="The appeal records still show 2 weeks of care.",
                reviewer=APPEAL_PHYSICIAN,
            ),
        )
    if kind == "appeal_downgrade":
        base = replace(
            base,
            appeal_downgrade=AppealDowngradeInfo(
                reference="APL-2026-000008",
                received_on=date(2026, 3, 5),
                reason="Waiting 30 days does not put your health at serious risk."
                if language == "en"
                else "Esperar 30 días no pone su salud en grave riesgo.",
                resolution_due_at=datetime(2026, 4, 5, 6, 59, 59, tzinfo=UTC),
            ),
        )
    if kind == "imr_outcome":
        base = replace(
            base,
            imr=ImrInfo(
                reference="IMR-2026-000003",
                organization="Golden State Independent Review",
                review_type="standard",
                received_on=date(2026, 4, 1),
                decided_on=date(2026, 4, 7),
                determination="upheld",
                analysis="The reviewer agreed that 4 weeks of conservative care come first.",
                reviewer_qualifications=(
                    "Board-certified anesthesiologist with a pain medicine fellowship",
                ),
            ),
        )
    if kind == "criteria_copy":
        base = replace(
            base,
            criteria_requested_on=date(2026, 3, 3),
            criteria_sets=(
                CriteriaSetCopy(
                    criteria_set="esi",
                    title=set_title("esi", "Epidural steroid injection", language),
                    version="2026.1",
                    effective_from=date(2026, 1, 1),
                    effective_to=None,
                    sources=("LCD L39240",),
                    criteria=(
                        CriterionText(1, "Radicular findings."),
                        CriterionText(3, "Four weeks of care.", cited=True),
                    ),
                    disclosure="Guidelines text.",
                ),
            ),
        )
    return base
