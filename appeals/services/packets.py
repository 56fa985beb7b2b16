"""The IMR documents (003 F.2, F.6): the referral packet, frozen at referral and rendered
as sent, and the case summary attached to the request with the final resolution."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string

from accounts.models import PLAN_STAFF_ROLES, User
from appeals.models import Appeal, ImrCase, ImrDetermination, ImrReferralReason
from appeals.services.common import pacific_date
from authorizations import icd10, wording
from authorizations.models import Attachment, HistoryAction, ReasonCode, RequestType, Tar, Urgency
from authorizations.services import attachment_add, history_record
from criteria import catalog

# The engine's result words, for a clinical reader (the letters use plainer ones).
_RESULT_LABELS = {"met": "Met", "not_met": "Not met", "unknown": "Unknown (not answered)"}


def _answer_text(key: str, value: Any) -> str:

    question = catalog.QUESTIONS.get(key) or {}
    labels = question.get("choice_labels") or {}
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(labels.get(v, v)) for v in value) or "None"
    return str(labels.get(value, value))


def packet_snapshot(*, tar: Tar, appeal: Appeal | None, now: datetime) -> dict[str, Any]:
    """003 F.2.b-e, frozen at referral. No member name, CIN, address or date of birth: the
    reviewer sees the review's own patient identifier (F.2.a) and the member's age."""
    lines = list(tar.lines.select_related("criteria_set").order_by("line_number"))
    diagnoses: dict[str, str] = {}
    for line in lines:
        for code in line.diagnosis_codes or []:
            try:
                diagnoses.setdefault(code, icd10.description(code))
            except ValueError:
                diagnoses.setdefault(code, "")
    dob = tar.member.date_of_birth
    today = pacific_date(now)
    age = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
    decisions = [
        {
            "date": pacific_date(d.decided_at).isoformat(),
            "outcome": wording.pick(wording.OUTCOMES, d.outcome, "en"),
            "reason": ReasonCode(d.reason_code).label if d.reason_code else "",
            "rationale": d.rationale,
            "criteria": [ref.get("ref", "") for ref in d.criteria_refs or []],
        }
        for d in tar.decisions.order_by("decided_at", "id")
    ]
    criteria = []
    for line in lines:
        evaluation = line.evaluation or {}
        if not evaluation.get("criteria_set"):
            continue
        criteria.append(
            {
                "line_number": line.line_number,
                "criteria_set": evaluation.get("criteria_set"),
                "version": evaluation.get("version"),
                "recommendation": line.recommendation,
                "criteria": [
                    {
                        "number": c.get("number"),
                        "text": c.get("text", ""),
                        "result": _RESULT_LABELS.get(c["result"], c["result"]),
                    }
                    for c in evaluation.get("criteria", [])
                ],
            }
        )
    return {
        "service": [
            {
                "line_number": line.line_number,
                "code": line.code,
                "description": wording.service_description(line.code, "en"),
                "modifiers": list(line.modifiers or []),
                "units": line.units,
                "spinal_region": line.spinal_region,
                "date_from": line.service_date_from.isoformat(),
                "date_to": line.service_date_to.isoformat(),
            }
            for line in lines
        ],
        "diagnoses": [{"code": code, "description": text} for code, text in diagnoses.items()],
        "request": {
            "request_type": RequestType(tar.request_type).label,
            "urgency": Urgency(tar.urgency).label,
            "urgency_reason": tar.urgency_reason,
            "place_of_service": tar.get_place_of_service_display(),
            "received_on": pacific_date(tar.received_at).isoformat(),
            "age": age,
            "requesting_provider": tar.requesting_provider.name,
            "requesting_specialty": tar.requesting_provider.get_specialty_display(),
            "servicing_provider": tar.servicing_provider.name,
            "servicing_specialty": tar.servicing_provider.get_specialty_display(),
            "status": tar.get_status_display(),
            "decisions": decisions,
            "appeal_reason": appeal.reason if appeal else "",
        },
        "answers": [
            {"label": catalog.QUESTIONS.get(k, {}).get("label", k), "value": _answer_text(k, v)}
            for k, v in sorted((tar.answers or {}).items())
        ],
        "criteria": criteria,
        "practitioner": {
            "documents": [
                {
                    "name": a.original_name,
                    "content_type": a.content_type,
                    "uploaded_on": pacific_date(a.uploaded_at).isoformat(),
                    "description": a.description,
                    "sha256": a.sha256,
                }
                for a in tar.attachments.order_by("uploaded_at", "id")
            ],
            "responses": [
                {
                    "requested_on": pacific_date(r.requested_at).isoformat(),
                    "message": r.message,
                    "response": r.response,
                    "responded_on": pacific_date(r.responded_at).isoformat()
                    if r.responded_at
                    else "",
                }
                for r in tar.information_requests.order_by("requested_at", "id")
            ],
        },
    }


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    # Imported here for its cost, not for a cycle: WeasyPrint is ~100 MB and a second to
    # import, and only the processes that render a document need it.
    from weasyprint import HTML

    html = render_to_string(template, context)
    return HTML(string=html).write_pdf()


PACKET_ITEMS: tuple[tuple[str, str], ...] = (
    # 003 F.2 a-i, in the product's words.
    ("a", "Patient identifier for this review"),
    ("b", "Service requested, with CPT/HCPCS codes"),
    ("c", "Diagnoses (ICD-10-CM)"),
    ("d", "Information received about the requested service"),
    ("e", "What the treating practitioner submitted in support"),
    ("f", "Relevant medical history"),
    ("g", "Treatment and clinical findings"),
    ("h", "Response needed by"),
    ("i", "Questions for the independent reviewer"),
)


def imr_packet_context(imr: ImrCase) -> dict[str, Any]:
    return {
        "imr": imr,
        "items": dict(PACKET_ITEMS),
        "packet": imr.packet,
        "plan_name": settings.PLAN_NAME,
        "response_needed": wording.format_datetime(imr.due_at, "en"),
        "target": wording.format_datetime(imr.target_at, "en")
        if imr.target_at != imr.due_at
        else "",
        "referred_on": wording.format_date(imr.referred_at, "en"),
    }


def imr_packet_pdf(imr: ImrCase) -> bytes:
    """The referral packet (003 F.2 a-i) as sent: rendered from the frozen snapshot."""
    return render_pdf("appeals/imr_packet.html", imr_packet_context(imr))


def imr_packet_record_read(*, imr: ImrCase, user: User) -> None:
    """PRODUCT §3: plan staff reading a member's clinical record is recorded."""
    if user.role in PLAN_STAFF_ROLES:
        history_record(
            tar=imr.tar,
            member=imr.tar.member,
            actor=user,
            action=HistoryAction.IMR_PACKET_READ,
            detail={"imr": imr.pk},
        )


def case_summary_attach(*, imr: ImrCase, user: User, now: datetime) -> Attachment:
    """003 F.6: a summary of the case with its final resolution, attached to the TAR."""
    pdf = render_pdf(
        "appeals/imr_case_summary.html",
        {
            "imr": imr,
            "plan_name": settings.PLAN_NAME,
            "decided_on": wording.format_date(now, "en"),
            "referred_on": wording.format_date(imr.referred_at, "en"),
            "received_on": wording.format_date(imr.determination_received_at, "en"),
            "due": wording.format_datetime(imr.due_at, "en"),
            "decided_by": user.clinician_name(),
            "determination_label": ImrDetermination(imr.determination).label,
            "final_outcome_label": wording.pick(
                {**wording.OUTCOMES, **wording.APPEAL_OUTCOMES}, imr.final_outcome, "en"
            ),
            "reason_label": ImrReferralReason(imr.referral_reason).label,
        },
    )
    upload = SimpleUploadedFile(
        f"{imr.number}-case-summary.pdf", pdf, content_type="application/pdf"
    )
    return attachment_add(
        tar_id=imr.tar_id,
        user=user,
        upload=upload,
        description=f"Independent medical review case summary {imr.number}",
    )
