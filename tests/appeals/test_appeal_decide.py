"""Deciding an appeal (42 CFR 438.406(b)(2), 438.408; PRODUCT §2, §4, §7): only a physician
who took no part in the decision and is not involved in the member's care; the result goes
through the TAR's transition table with a new Decision; the member and provider are owed the
resolution notice, which carries the State Hearing rights and the 120-day date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from appeals import services as appeals
from appeals.models import Appeal, AppealStatus
from authorizations.models import Decision, HistoryEntry, ServiceLine, Tar, TarStatus
from authorizations.wording import APPEAL_OUTCOMES, format_date, pick
from notifications.context import LetterContext
from notifications.models import Letter, Notice, NoticeKind
from notifications.rendering import render_letter
from tar_portal.errors import DomainError
from tests.appeals.conftest import ESI_REF, PACIFIC, error, pdf_text
from tests.conftest import BUSINESS_MORNING

pytestmark = pytest.mark.django_db

OVERTURN = {"outcome": "overturned", "rationale": "The new MRI shows L5 root compression."}
UPHOLD = {
    "outcome": "upheld",
    "rationale": "The records still show no radicular findings on examination.",
    "criteria_refs": [ESI_REF],
}


def _decide(api, appeal_id: int, body: dict, persona: str = "physician2"):
    return api(persona).post(f"/api/v1/appeals/{appeal_id}/decide", body, format="json")


def _tar_of(appeal_id: int) -> Tar:
    return Appeal.objects.get(pk=appeal_id).tar


# --- independence: 403 ------------------------------------------------------------------------


def test_the_physician_who_made_the_decision_cannot_decide_its_appeal(api, appeal_id):
    error(_decide(api, appeal_id, OVERTURN, "physician"), 403, "conflict_of_interest")
    appeal = Appeal.objects.get(pk=appeal_id)
    assert appeal.status == AppealStatus.RECEIVED
    assert appeal.tar.status == TarStatus.DENIED


def test_a_physician_involved_in_the_members_care_cannot_decide_the_appeal(api, world, appeal_id):
    # physician2 is also the member's requesting specialist here: 002 conflict of interest.
    tar = _tar_of(appeal_id)
    Tar.objects.filter(pk=tar.pk).update(requesting_provider=world.users["physician2"].provider)
    error(_decide(api, appeal_id, OVERTURN), 403, "conflict_of_interest")
    assert Appeal.objects.get(pk=appeal_id).status == AppealStatus.RECEIVED


def test_a_nurse_cannot_decide_an_appeal(api, appeal_id):
    error(_decide(api, appeal_id, OVERTURN, "nurse"), 403, "physician_required")
    error(_decide(api, appeal_id, OVERTURN, "manager"), 403, "physician_required")
    error(_decide(api, appeal_id, OVERTURN, "member"), 403, "physician_required")


def test_a_physician_who_made_any_earlier_decision_on_the_tar_is_not_independent(world, appeal_id):
    tar = _tar_of(appeal_id)
    # An earlier, superseded decision by physician2 on the same request.
    Decision.objects.create(
        tar=tar,
        outcome="denied",
        reason_code="medical_necessity",
        rationale="First look.",
        decided_by=world.users["physician2"],
        decided_at=timezone.now() - timedelta(days=1),
    )
    with pytest.raises(DomainError) as caught:
        appeals.appeal_decide(appeal_id=appeal_id, user=world.users["physician2"], **OVERTURN)
    assert caught.value.http_status == 403


# --- outcomes ----------------------------------------------------------------------------------


def test_an_overturned_appeal_approves_the_tar_and_owes_the_resolution_notice(
    api, appeal_id, django_capture_on_commit_callbacks
):
    tar = _tar_of(appeal_id)
    with django_capture_on_commit_callbacks(execute=True):
        response = _decide(api, appeal_id, OVERTURN)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "resolved"
    assert body["outcome"] == "overturned"
    assert body["state_hearing_due_at"] is None

    tar.refresh_from_db()
    assert tar.status == TarStatus.APPROVED
    line = ServiceLine.objects.get(tar=tar)
    assert line.outcome == "approved"
    assert line.approved_units == line.units
    decision = Decision.objects.get(pk=body["resolution_decision"])
    assert decision.outcome == "approved"
    assert decision.decided_by.username == "physician2"
    assert Decision.objects.filter(tar=tar).count() == 2
    history = HistoryEntry.objects.filter(tar=tar, action="status_changed").last()
    assert (history.from_status, history.to_status) == ("denied", "approved")
    assert history.detail["action"] == "appeal_overturn"
    assert HistoryEntry.objects.filter(tar=tar, action="appeal_resolved").count() == 1

    notices = Notice.objects.filter(tar=tar, kind=NoticeKind.APPEAL_RESOLUTION)
    assert {n.audience for n in notices} == {"member", "provider"}
    assert {n.event_key for n in notices} == {f"appeal_resolution:{appeal_id}"}
    letters = Letter.objects.filter(tar=tar, kind=NoticeKind.APPEAL_RESOLUTION)
    assert {letter.audience for letter in letters} == {"member", "provider"}
    provider_text = pdf_text(letters.get(audience="provider").file.read())
    assert pick(APPEAL_OUTCOMES, "overturned", "en") in provider_text
    assert Appeal.objects.get(pk=appeal_id).number in provider_text


# The service dates the hearing from the day it decides; the test takes "today" after the letter
# is rendered. A run across midnight would have them a day apart.
@pytest.mark.clock(BUSINESS_MORNING)
def test_an_upheld_appeal_leaves_the_tar_and_its_notice_carries_the_120_day_state_hearing_date(
    api, appeal_id, django_capture_on_commit_callbacks
):
    tar = _tar_of(appeal_id)
    with django_capture_on_commit_callbacks(execute=True):
        response = _decide(api, appeal_id, UPHOLD)
    assert response.status_code == 200, response.json()
    tar.refresh_from_db()
    assert tar.status == TarStatus.DENIED
    assert Decision.objects.filter(tar=tar).count() == 2
    assert Decision.objects.get(pk=response.json()["resolution_decision"]).outcome == "denied"

    today = timezone.localdate(timezone=PACIFIC)
    hearing_day = today + timedelta(days=120)
    appeal = Appeal.objects.get(pk=appeal_id)
    assert timezone.localtime(appeal.state_hearing_due_at, PACIFIC).date() == hearing_day

    letter = Letter.objects.get(tar=tar, kind=NoticeKind.APPEAL_RESOLUTION, audience="member")
    text = pdf_text(letter.file.read())
    assert "State Hearing" in text
    assert format_date(hearing_day, "en") in text  # e.g. "March 22, 2027"
    assert pick(APPEAL_OUTCOMES, "upheld", "en") in text


def test_a_partly_overturned_appeal_modifies_the_tar_with_the_given_lines(api, appeal_id):
    tar = _tar_of(appeal_id)
    line = ServiceLine.objects.get(tar=tar)
    body = {
        "outcome": "partially_overturned",
        "rationale": "One session now; a repeat needs documented relief.",
        "criteria_refs": [ESI_REF],
        "lines": [
            {
                "line_number": 1,
                "outcome": "modified",
                "approved_units": 1,
                "approved_date_from": line.service_date_from.isoformat(),
                "approved_date_to": (line.service_date_from + timedelta(days=7)).isoformat(),
            }
        ],
    }
    response = _decide(api, appeal_id, body)
    assert response.status_code == 200, response.json()
    tar.refresh_from_db()
    assert tar.status == TarStatus.MODIFIED
    line.refresh_from_db()
    assert line.outcome == "modified"
    assert line.approved_date_to == line.service_date_from + timedelta(days=7)
    assert response.json()["state_hearing_due_at"] is not None


def test_a_partial_overturn_needs_line_decisions_and_an_upheld_one_cites_criteria(api, appeal_id):
    body = error(
        _decide(api, appeal_id, {"outcome": "partially_overturned", "rationale": "Some."}),
        400,
        "invalid",
    )
    assert "lines" in body["fields"]
    body = error(
        _decide(api, appeal_id, {"outcome": "upheld", "rationale": "Still no."}), 400, "invalid"
    )
    assert "criteria_refs" in body["fields"]


def test_a_resolved_appeal_cannot_be_decided_again(api, appeal_id):
    assert _decide(api, appeal_id, UPHOLD).status_code == 200
    error(_decide(api, appeal_id, OVERTURN), 409, "invalid_transition")


# --- filing rules ------------------------------------------------------------------------------


def test_a_provider_appeals_for_the_member_only_with_written_consent(denied, file_appeal):
    tar_id = denied()
    body = error(file_appeal(tar_id, "provider"), 400, "invalid")
    assert "member_consent" in body["fields"]
    response = file_appeal(tar_id, "provider", member_consent=True)
    assert response.status_code == 201, response.json()
    assert response.json()["filer"] == "provider"


def test_plan_clinical_staff_do_not_file_appeals(denied, file_appeal):
    error(file_appeal(denied(), "nurse"), 403, "permission_denied")


def test_only_a_denial_or_modification_can_be_appealed(submit, file_appeal):
    tar_id = submit("provider")  # still pending
    error(file_appeal(tar_id), 409, "invalid_transition")


def test_one_open_appeal_per_request(appeal_id, file_appeal):
    error(file_appeal(_tar_of(appeal_id).pk), 409, "invalid_transition")


def test_the_result_of_an_appeal_cannot_be_appealed_again(api, appeal_id, file_appeal):
    assert _decide(api, appeal_id, UPHOLD).status_code == 200
    body = error(file_appeal(_tar_of(appeal_id).pk), 409, "invalid_transition")
    assert "State Hearing" in body["message"]


def test_the_member_may_withdraw_an_appeal(api, appeal_id):
    response = api("member").post(f"/api/v1/appeals/{appeal_id}/withdraw", {}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "withdrawn"
    error(_decide(api, appeal_id, OVERTURN), 409, "invalid_transition")


def test_an_appeal_letter_context_renders_for_the_spanish_large_print_member(world, appeal_id):
    """The member copy follows the member's language and format (PRODUCT §7)."""
    from notifications.letter_contexts import appeal_letter_context as letter_context

    appeals.appeal_decide(appeal_id=appeal_id, user=world.users["physician2"], **UPHOLD)
    notice = Notice(
        tar=_tar_of(appeal_id),
        kind=NoticeKind.APPEAL_RESOLUTION,
        audience="member",
        event_key=f"appeal_resolution:{appeal_id}",
        due_at=timezone.now(),
        due_rule="x",
    )
    context = letter_context(notice)
    assert isinstance(context, LetterContext)
    assert context.appeal is not None and context.appeal.adverse
    assert context.criteria[0].criteria_set == "esi"
    assert render_letter(NoticeKind.APPEAL_RESOLUTION, context).startswith(b"%PDF")
