"""Independent medical review (003 MCUP3138): who refers and why (§B), the benefit-exclusion
rule (§C), the packet a-i (§F.2), the clocks (§G), the determination, the final coverage
decision through the transitions, the case summary on the TAR (§F.6), the outcome notices
(§G.4) and the staff tracking list (§F.7)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from appeals import services as appeals
from appeals.models import Appeal, ImrCase, ImrStatus
from appeals.sweep import appeal_deadline_sweep as deadline_sweep
from authorizations.calendar import plan_calendar
from authorizations.clocks import imr_deadline
from authorizations.models import Attachment, HistoryEntry, Tar, TarStatus
from authorizations.wording import format_datetime
from criteria.models import BenefitExclusion
from notifications.models import Letter, Notice, NoticeKind
from tar_portal.errors import DomainError
from tests.appeals.conftest import (
    DENY_MEDICAL,
    ESI_REF,
    NOT_MET,
    PACIFIC,
    end_of_day,
    error,
    pacific,
    pdf_text,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
QUESTION = "Is a transforaminal ESI at L5-S1 likely to help given six months of leg pain?"
REFERRAL = {
    "referral_reason": "medical_necessity_denial",
    "treating_physician_certified": True,
    "reviewer_kind": "imro",
    "reviewer_name": "Pacific Independent Review",
    "reviewer_specialty": "Pain medicine (anesthesiology)",
    "review_type": "standard",
    "questions": [QUESTION, "Are there contraindications we have missed?"],
    "pertinent_history": "Six months of left leg pain; L5-S1 disc protrusion on MRI.",
    "clinical_data": "Eight weeks of physical therapy and NSAIDs; pain 7/10; ODI 48.",
}


def _refer(api, tar_id: int, persona: str = "physician2", **changes):
    body = {**REFERRAL, **changes}
    return api(persona).post(f"/api/v1/tars/{tar_id}/imr", body, format="json")


def _referral(**changes) -> appeals.ImrReferralInput:
    body = {**REFERRAL, **changes}
    return appeals.ImrReferralInput(**body)


def _upload(api, imr_id: int, persona: str = "nurse", content: bytes = PDF, **fields):
    data = {
        "file": SimpleUploadedFile("determination.pdf", content, "application/pdf"),
        "determination": "overturned",
        "analysis": "The radicular findings are documented on the MRI and exam.",
        "reviewer_qualifications": [
            "Board-certified in anesthesiology and pain medicine; 15 years in practice.",
        ],
    }
    data.update(fields)
    return api(persona).post(f"/api/v1/imr/{imr_id}/determination", data, format="multipart")


@pytest.fixture
def closed_not_a_benefit(submit, api):
    """A TAR closed by a nurse as not a covered benefit (the benefit table excludes it)."""
    tar_id = submit("provider")
    BenefitExclusion.objects.create(
        code="64483",
        start_date=date(2020, 1, 1),
        reason="Excluded by the plan's contract (test).",
        source="test benefit table",
    )
    response = api("nurse").post(
        f"/api/v1/tars/{tar_id}/decision",
        {"outcome": "closed", "reason_code": "not_a_benefit", "rationale": "Excluded."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return tar_id


# --- who refers, and which cases (003 §B, §C) -------------------------------------------------


def test_a_physician_refers_a_denied_case_and_the_clock_starts(api, denied):
    tar_id = denied()
    response = _refer(api, tar_id)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "referred"
    assert body["due_rule"] == "imr_standard_5_business_days"
    assert body["patient_reference"].startswith("R-")
    assert HistoryEntry.objects.filter(tar_id=tar_id, action="imr_referred").count() == 1


def test_nurses_cannot_refer_to_imr(api, denied):
    error(_refer(api, denied(), "nurse"), 403, "physician_required")


def test_a_benefit_exclusion_is_refused(api, closed_not_a_benefit):
    body = error(_refer(api, closed_not_a_benefit), 409, "invalid_transition")
    assert "not a covered benefit" in body["message"]
    assert "003 §C" in body["message"]
    assert "experimental_investigational" in body["fields"]
    assert not ImrCase.objects.exists()


def test_an_experimental_or_investigational_benefit_exclusion_is_accepted(
    api, closed_not_a_benefit
):
    response = _refer(
        api,
        closed_not_a_benefit,
        referral_reason="experimental_denial_serious_condition",
        serious_condition="seriously_debilitating",
        treating_physician_certified=False,
    )
    assert response.status_code == 201, response.json()
    assert response.json()["experimental_investigational"] is True


def test_referral_reasons_state_what_003_asks_for(api, denied):
    tar_id = denied()
    body = error(_refer(api, tar_id, treating_physician_certified=False), 400, "invalid")
    assert "treating_physician_certified" in body["fields"]
    body = error(
        _refer(api, tar_id, referral_reason="experimental_denial_serious_condition"),
        400,
        "invalid",
    )
    assert "serious_condition" in body["fields"]
    body = error(_refer(api, tar_id, questions=[]), 400, "invalid")
    assert "questions" in body["fields"]
    body = error(_refer(api, tar_id, review_type="expedited"), 400, "invalid")
    assert "expedited_basis" in body["fields"]


def test_an_approved_request_has_nothing_to_review(api, submit, decide):
    tar_id = submit("provider")
    decide(tar_id, {"outcome": "approved"}, "nurse")
    error(_refer(api, tar_id), 409, "invalid_transition")


def test_one_open_review_per_request(api, denied):
    tar_id = denied()
    assert _refer(api, tar_id).status_code == 201
    error(_refer(api, tar_id), 409, "invalid_transition")


# --- clocks (003 §G) ---------------------------------------------------------------------------

# Wednesday before Thanksgiving: Thursday 2026-11-26 and Friday 2026-11-27 are California
# holidays, so the business days are Mon 11/30 (1) … Fri 12/4 (5) … Tue 12/8 (7).
WEDNESDAY = date(2026, 11, 25)


def test_a_standard_review_is_due_at_the_end_of_the_5th_business_day(world, denied):
    imr = appeals.imr_refer(
        tar_id=denied(),
        user=world.users["physician2"],
        data=_referral(),
        now=pacific(WEDNESDAY, 10),
    )
    assert imr.due_at == end_of_day(date(2026, 12, 4))
    assert imr.target_at == imr.due_at
    assert imr.due_rule == "imr_standard_5_business_days"


def test_an_expedited_review_is_due_in_24_hours_and_extends_once_by_24_more(world, denied):
    tar_id = denied()
    referred = timezone.now().replace(microsecond=0)
    imr = appeals.imr_refer(
        tar_id=tar_id,
        user=world.users["physician2"],
        data=_referral(review_type="expedited", expedited_basis="imminent_serious_threat"),
        now=referred,
    )
    assert imr.due_at == referred + timedelta(hours=24)
    assert imr.due_rule == "imr_expedited_24_hours"
    imr = appeals.imr_extend(
        imr_id=imr.pk,
        user=world.users["physician2"],
        reason="The reviewer needs the operative report.",
        now=referred + timedelta(hours=23),
    )
    assert imr.due_at == referred + timedelta(hours=48)
    assert imr.due_rule == "imr_expedited_extended_48_hours"
    with pytest.raises(DomainError) as caught:
        appeals.imr_extend(
            imr_id=imr.pk,
            user=world.users["physician2"],
            reason="Again.",
            now=referred + timedelta(hours=30),
        )
    assert caught.value.http_status == 409


def test_a_standard_review_cannot_be_extended(api, denied):
    imr_id = _refer(api, denied()).json()["id"]
    response = api("physician2").post(
        f"/api/v1/imr/{imr_id}/extend", {"reason": "Busy."}, format="json"
    )
    error(response, 409, "clock_rule")


def test_an_expedited_extension_must_leave_the_appeals_72_hours_intact(world, denied, file_appeal):
    tar_id = denied()
    appeal_response = file_appeal(tar_id, expedited=True, expedited_reason="Cannot walk.")
    appeal_id = appeal_response.json()["id"]
    appeal_due = Appeal.objects.get(pk=appeal_id).resolution_due_at
    # Referred 30 hours before the appeal is due: 24 h fits, 48 h would not.
    referred = appeal_due - timedelta(hours=30)
    imr = appeals.imr_refer(
        tar_id=tar_id,
        user=world.users["physician2"],
        data=_referral(
            referral_reason="appeal",
            review_type="expedited",
            expedited_basis="less_effective_if_delayed",
        ),
        now=referred,
    )
    assert imr.appeal_id == appeal_id
    with pytest.raises(DomainError) as caught:
        appeals.imr_extend(
            imr_id=imr.pk,
            user=world.users["physician2"],
            reason="Reviewer asked for more time.",
            now=referred + timedelta(hours=1),
        )
    assert caught.value.http_status == 409
    assert "72" in caught.value.message or "deadline" in caught.value.message


def test_a_retrospective_review_is_due_on_the_7th_business_day_with_a_5th_day_target(
    world, submit, decide
):
    today = timezone.localdate(timezone=PACIFIC)
    service_day = today - timedelta(days=3)
    tar_id = submit(
        "provider",
        request_type="post_service",
        date_of_service=service_day.isoformat(),
        answers=NOT_MET,
        lines=[
            {
                "code": "64483",
                "diagnosis_codes": ["M54.16"],
                "units": 1,
                "spinal_region": "lumbar",
                "service_date_from": service_day.isoformat(),
                "service_date_to": service_day.isoformat(),
            }
        ],
    )
    decide(
        tar_id,
        {
            "outcome": "denied",
            "reason_code": "medical_necessity",
            "rationale": "No radicular findings.",
            "criteria_refs": [ESI_REF],
        },
    )
    imr = appeals.imr_refer(
        tar_id=tar_id,
        user=world.users["physician2"],
        data=_referral(review_type="retrospective"),
        now=pacific(WEDNESDAY, 10),
    )
    assert imr.due_at == end_of_day(date(2026, 12, 8))
    assert imr.target_at == end_of_day(date(2026, 12, 4))
    assert imr.due_rule == "imr_retrospective_7_business_days"
    # A post-service request gets a retrospective review, and only it.
    with pytest.raises(DomainError):
        appeals.imr_refer(
            tar_id=tar_id, user=world.users["physician2"], data=_referral(review_type="standard")
        )


def test_the_clock_module_agrees(world, denied):
    received = pacific(WEDNESDAY, 10)
    expected = imr_deadline(received_at=received, kind="standard", calendar=plan_calendar())
    imr = appeals.imr_refer(
        tar_id=denied(), user=world.users["physician2"], data=_referral(), now=received
    )
    assert (imr.due_at, imr.due_rule) == (expected.due_at, expected.rule)


def test_an_overdue_response_is_flagged_exactly_once(api, denied):
    imr_id = _refer(api, denied()).json()["id"]
    imr = ImrCase.objects.get(pk=imr_id)
    assert deadline_sweep(now=imr.due_at - timedelta(seconds=1)).imr_overdue == 0
    assert deadline_sweep(now=imr.due_at).imr_overdue == 1
    assert deadline_sweep(now=imr.due_at + timedelta(hours=1)).imr_overdue == 0
    imr.refresh_from_db()
    assert imr.overdue_at == imr.due_at
    assert HistoryEntry.objects.filter(tar_id=imr.tar_id, action="imr_overdue").count() == 1
    overdue = api("nurse").get("/api/v1/imr/", {"overdue": "true"}).json()["results"]
    assert [row["id"] for row in overdue] == [imr_id]


# --- the packet (003 §F.2 a-i) -----------------------------------------------------------------


def test_the_packet_pdf_carries_items_a_to_i_and_the_response_needed_date(
    api, world, submit, decide
):
    tar_id = submit("provider", answers=NOT_MET)
    attached = api("provider").post(
        f"/api/v1/tars/{tar_id}/attachments",
        {"file": SimpleUploadedFile("mri.pdf", PDF, "application/pdf"), "description": "MRI"},
        format="multipart",
    )
    assert attached.status_code == 201, attached.json()
    decide(tar_id, DENY_MEDICAL)
    imr_id = _refer(api, tar_id).json()["id"]
    response = api("nurse").get(f"/api/v1/imr/{imr_id}/packet")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    imr = ImrCase.objects.get(pk=imr_id)
    for letter, label in appeals.PACKET_ITEMS:
        assert f"{letter}. {label}" in text, (letter, label)
    assert imr.patient_reference in text  # a
    assert "64483" in text  # b
    assert "M54.16" in text and "Radiculopathy, lumbar region" in text  # c
    assert "Criteria" in text or "criteria" in text  # d: the plan's review
    assert "mri.pdf" in text  # e: what the practitioner sent
    assert "disc protrusion" in text  # f
    assert "ODI 48" in text  # g
    assert format_datetime(imr.due_at, "en") in text  # h: the date the response is needed
    assert QUESTION in text  # i
    # De-identified: the member's name and Medi-Cal ID stay with the plan.
    assert world.member.cin not in text
    assert world.member.last_name not in text
    assert HistoryEntry.objects.filter(tar_id=tar_id, action="imr_packet_read").count() == 1


def test_members_do_not_download_the_packet(api, denied):
    imr_id = _refer(api, denied()).json()["id"]
    error(api("member").get(f"/api/v1/imr/{imr_id}/packet"), 404, "not_found")
    assert api("member").get(f"/api/v1/imr/{imr_id}/").status_code == 200


# --- determination and final decision ----------------------------------------------------------


def test_the_determination_must_be_a_pdf_by_its_content(api, denied):
    imr_id = _refer(api, denied()).json()["id"]
    body = error(_upload(api, imr_id, content=b"GIF89a not really a pdf"), 400, "invalid")
    assert "file" in body["fields"]
    error(_upload(api, imr_id, "provider"), 403, "permission_denied")


def test_the_final_decision_after_an_overturning_review_approves_the_tar(
    api, denied, django_capture_on_commit_callbacks
):
    tar_id = denied()
    imr_id = _refer(api, tar_id).json()["id"]
    uploaded = _upload(api, imr_id)
    assert uploaded.status_code == 200, uploaded.json()
    assert uploaded.json()["status"] == "determination_received"
    assert uploaded.json()["determination_document"].startswith("/api/v1/attachments/")

    with django_capture_on_commit_callbacks(execute=True):
        response = api("physician2").post(
            f"/api/v1/imr/{imr_id}/final-decision",
            {"outcome": "overturned", "rationale": "We follow the independent reviewer."},
            format="json",
        )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "decided"
    assert Tar.objects.get(pk=tar_id).status == TarStatus.APPROVED
    history = HistoryEntry.objects.filter(tar_id=tar_id, action="status_changed").last()
    assert history.detail["action"] == "imr_overturn"

    # 003 F.6: the case summary is attached to the TAR.
    summary = Attachment.objects.get(pk=int(body["case_summary"].split("/")[-2]))
    assert summary.tar_id == tar_id
    summary_text = pdf_text(summary.file.read())
    assert "case summary" in summary_text.lower()
    assert "We follow the independent reviewer." in summary_text

    # 003 G.4: member and practitioner receive analysis, determination, qualifications.
    notices = Notice.objects.filter(tar_id=tar_id, kind=NoticeKind.IMR_OUTCOME)
    assert {n.audience for n in notices} == {"member", "provider"}
    letter = Letter.objects.get(tar_id=tar_id, kind=NoticeKind.IMR_OUTCOME, audience="member")
    text = pdf_text(letter.file.read())
    assert "Board-certified in anesthesiology" in text
    assert "radicular findings are documented" in text


def test_the_final_decision_on_a_pending_request_is_its_decision(api, submit):
    tar_id = submit("provider", answers=NOT_MET)
    imr_id = _refer(api, tar_id, referral_reason="treatment_efficacy").json()["id"]
    assert _upload(api, imr_id, determination="upheld").status_code == 200
    error(
        api("physician2").post(
            f"/api/v1/imr/{imr_id}/final-decision",
            {"outcome": "overturned", "rationale": "x"},
            format="json",
        ),
        400,
        "invalid",
    )
    response = api("physician2").post(
        f"/api/v1/imr/{imr_id}/final-decision",
        {
            "outcome": "denied",
            "reason_code": "medical_necessity",
            "rationale": "The independent reviewer found no radicular findings.",
            "criteria_refs": [ESI_REF],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert Tar.objects.get(pk=tar_id).status == TarStatus.DENIED


def test_the_final_decision_under_appeal_resolves_the_appeal_by_an_independent_physician(
    api, appeal_id
):
    tar_id = Appeal.objects.get(pk=appeal_id).tar_id
    imr_id = _refer(api, tar_id, referral_reason="appeal").json()["id"]
    assert _upload(api, imr_id, determination="upheld").status_code == 200
    body = {
        "outcome": "upheld",
        "rationale": "The reviewer agrees the criteria are not met.",
        "criteria_refs": [ESI_REF],
    }
    # The original decider may not resolve the appeal, even through the IMR path.
    error(
        api("physician").post(f"/api/v1/imr/{imr_id}/final-decision", body, format="json"),
        403,
        "conflict_of_interest",
    )
    response = api("physician2").post(f"/api/v1/imr/{imr_id}/final-decision", body, format="json")
    assert response.status_code == 200, response.json()
    appeal = Appeal.objects.get(pk=appeal_id)
    assert appeal.status == "resolved"
    assert appeal.outcome == "upheld"
    assert appeal.resolution_decision_id == response.json()["final_decision"]


# --- the tracking list (003 §F.7) -------------------------------------------------------------


def test_staff_track_reviews_by_status_and_due_date(api, denied):
    first = _refer(api, denied()).json()["id"]
    second = _refer(api, denied()).json()["id"]
    assert _upload(api, second).status_code == 200
    rows = api("nurse").get("/api/v1/imr/", {"status": "referred"}).json()["results"]
    assert [row["id"] for row in rows] == [first]
    due = ImrCase.objects.get(pk=first).due_at
    rows = (
        api("nurse")
        .get("/api/v1/imr/", {"due_before": (due + timedelta(minutes=1)).isoformat()})
        .json()["results"]
    )
    assert {row["id"] for row in rows} == {first, second}
    rows = (
        api("nurse")
        .get("/api/v1/imr/", {"due_after": (due + timedelta(days=30)).isoformat()})
        .json()["results"]
    )
    assert rows == []
    error(api("nurse").get("/api/v1/imr/", {"status": "lost"}), 400, "invalid")
    error(api("nurse").get("/api/v1/imr/", {"due_before": "soon"}), 400, "invalid")


def test_withdrawn_reviews_stop_the_clock(api, denied):
    imr_id = _refer(api, denied()).json()["id"]
    response = api("physician2").post(
        f"/api/v1/imr/{imr_id}/withdraw", {"reason": "Appeal withdrawn."}, format="json"
    )
    assert response.json()["status"] == ImrStatus.WITHDRAWN
    imr = ImrCase.objects.get(pk=imr_id)
    assert deadline_sweep(now=imr.due_at + timedelta(hours=1)).imr_overdue == 0
