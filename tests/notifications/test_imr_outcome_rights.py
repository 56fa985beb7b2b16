"""Issue 11 row 11 (PRODUCT §7 "Rights that fit the notice"): the IMR outcome letter for a
case not under appeal keeps the member's right to appeal, and explains the State Hearing
only after the appeal (42 CFR 438.402(c)(1)(i)(A), 438.408(f)); under an appeal the next step
is the State Hearing. Real letters, read back from the PDF."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from appeals.models import Appeal
from notifications.models import NoticeKind
from notifications.rendering import render_letter
from tests.appeals.conftest import pdf_text
from tests.conftest import BUSINESS_MORNING
from tests.notifications.conftest import ESI_SHORT_CARE, letter_for, letter_pdf
from tests.notifications.contexts import context

pytestmark = [pytest.mark.django_db, pytest.mark.clock(BUSINESS_MORNING)]

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
REFERRAL = {
    "referral_reason": "medical_necessity_denial",
    "treating_physician_certified": True,
    "reviewer_kind": "imro",
    "reviewer_name": "Pacific Independent Review",
    "reviewer_specialty": "Pain medicine",
    "review_type": "standard",
    "questions": ["Is a transforaminal ESI at L5-S1 likely to help?"],
    "pertinent_history": "Six months of left leg pain.",
    "clinical_data": "Two weeks of NSAIDs; pain 7/10.",
}


def test_the_imr_outcome_letter_for_a_case_not_under_appeal_keeps_the_appeal_right(
    api, submit, deny, django_capture_on_commit_callbacks
):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    imr_id = (
        api("physician2").post(f"/api/v1/tars/{tar_id}/imr", REFERRAL, format="json").json()["id"]
    )
    uploaded = api("nurse").post(
        f"/api/v1/imr/{imr_id}/determination",
        {
            "file": SimpleUploadedFile("determination.pdf", PDF, "application/pdf"),
            "determination": "upheld",
            "analysis": "Four weeks of two kinds of conservative care come first.",
            "reviewer_qualifications": ["Board-certified in anesthesiology and pain medicine."],
        },
        format="multipart",
    )
    assert uploaded.status_code == 200, uploaded.json()
    with django_capture_on_commit_callbacks(execute=True):
        decided = api("physician2").post(
            f"/api/v1/imr/{imr_id}/final-decision",
            {
                "outcome": "upheld",
                "rationale": "We follow the independent reviewer.",
                "criteria_refs": ["esi:2026.1:3"],
            },
            format="json",
        )
    assert decided.status_code == 200, decided.json()

    text = pdf_text(letter_pdf(letter_for(tar_id, NoticeKind.IMR_OUTCOME, "member")))
    assert "Your right to appeal" in text
    assert "Ask for an appeal no later than June 13, 2027" in text  # 60 days after the letter
    # The hearing comes after the plan's appeal decision, not instead of it.
    assert text.index("Your right to appeal") < text.index("State Hearing")
    assert "If you still disagree after our appeal decision" in text

    # And the right is real: the member can appeal the decision made after the review.
    filed = api("member").post(
        f"/api/v1/tars/{tar_id}/appeals", {"reason": "I still need it."}, format="json"
    )
    assert filed.status_code == 201, filed.json()
    assert Appeal.objects.get(pk=filed.json()["id"]).basis == "decision"


def test_the_imr_outcome_letter_under_an_appeal_offers_the_state_hearing_next():
    ctx = context("imr_outcome")
    ctx = replace(ctx, imr=replace(ctx.imr, under_appeal=True))
    text = pdf_text(render_letter(NoticeKind.IMR_OUTCOME, ctx))
    assert "may ask for a State Hearing no later than" in text
    assert "Your right to appeal" not in text
