"""Issue 11 (appeals rows): every adverse benefit determination is appealable (42 CFR
438.400(b), 438.402(c)); the 60-day window counts from the date on the notice
(438.402(c)(2)(ii)); an IMR under an expedited appeal fits its deadline (003 F.9, G.2.b);
appeal independence covers every earlier level and the reviewers' subordinates
(438.406(b)(2)); a physician account without a provider record fails closed (002)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from appeals import services as appeals
from appeals.models import Appeal, AppealStatus
from authorizations.deadlines import deadline_sweep
from authorizations.models import HistoryEntry, Tar, TarStatus
from authorizations.services import tar_extend
from authorizations.workflow.outbox import events_dispatch
from members.models import EligibilitySpan
from notifications.models import Letter, NoticeKind
from notifications.services import letter_reissue
from tar_portal.errors import DomainError
from tests import factories
from tests.appeals.conftest import DENY_MEDICAL, ESI_REF, NOT_MET, error
from tests.conftest import BUSINESS_MORNING

pytestmark = [pytest.mark.django_db, pytest.mark.clock(BUSINESS_MORNING)]

REASON = "My pain runs down my leg every day; I need this injection."
UPHOLD = {
    "outcome": "upheld",
    "rationale": "The records still show no radicular findings on examination.",
    "criteria_refs": [ESI_REF],
}


def _file(api, tar_id: int, persona: str = "member", **body):
    return api(persona).post(
        f"/api/v1/tars/{tar_id}/appeals", {"reason": REASON, **body}, format="json"
    )


def _close(api, tar_id: int, reason_code: str, persona: str = "physician"):
    response = api(persona).post(
        f"/api/v1/tars/{tar_id}/decision",
        {"outcome": "closed", "reason_code": reason_code, "rationale": "Closed on the record."},
        format="json",
    )
    assert response.status_code == 200, response.json()


# --- rows 1 and 2: every adverse benefit determination ----------------------------------------


def test_a_not_eligible_closure_can_be_appealed(api, world, submit):
    tar_id = submit("provider")
    # The member's coverage ends before the requested dates: the record supports the closure.
    EligibilitySpan.objects.filter(member=world.member).update(
        end_date=timezone.localdate() + timedelta(days=1)
    )
    _close(api, tar_id, "not_eligible")
    response = _file(api, tar_id)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["basis"] == "decision"
    assert body["decision"] == Tar.objects.get(pk=tar_id).decisions.get().pk


def test_a_not_a_benefit_closure_can_be_appealed(api, submit):
    tar_id = submit("provider")
    _close(api, tar_id, "not_a_benefit")
    response = _file(api, tar_id)
    assert response.status_code == 201, response.json()
    assert response.json()["basis"] == "decision"


def test_a_duplicate_closure_is_not_an_adverse_determination(api, submit):
    tar_id = submit("provider")
    _close(api, tar_id, "duplicate")
    error(_file(api, tar_id), 409, "invalid_transition")


def test_a_breached_open_request_is_appealed_as_a_deemed_denial_that_a_later_decision_keeps(
    api, world, submit, decide
):
    tar_id = submit("provider", answers=NOT_MET)
    Tar.objects.filter(pk=tar_id).update(decision_due_at=timezone.now() - timedelta(minutes=5))
    deadline_sweep(now=timezone.now())
    response = _file(api, tar_id)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["basis"] == "deemed_denial"
    assert body["decision"] is None
    tar = Tar.objects.get(pk=tar_id)
    # Recorded on the request through the TAR machine (history row + the field).
    assert tar.deemed_denied_at == tar.breached_at
    entry = HistoryEntry.objects.get(tar=tar, action="deemed_denied")
    assert entry.actor == world.users["member"]
    assert tar.status == TarStatus.SUBMITTED  # still open: the plan still owes a decision

    # A later decision on the request does not erase the appeal or the deemed denial.
    decide(tar_id, DENY_MEDICAL)
    appeal = Appeal.objects.get(pk=body["id"])
    assert appeal.status == AppealStatus.RECEIVED
    assert Tar.objects.get(pk=tar_id).deemed_denied_at is not None
    resolved = api("physician2").post(
        f"/api/v1/appeals/{appeal.pk}/decide",
        {"outcome": "overturned", "rationale": "The new MRI shows L5 root compression."},
        format="json",
    )
    assert resolved.status_code == 200, resolved.json()
    assert Tar.objects.get(pk=tar_id).status == TarStatus.APPROVED


def test_an_appeal_of_a_deemed_denial_upheld_denies_the_open_request(api, submit):
    tar_id = submit("provider", answers=NOT_MET)
    Tar.objects.filter(pk=tar_id).update(decision_due_at=timezone.now() - timedelta(minutes=5))
    appeal_id = _file(api, tar_id).json()["id"]
    resolved = api("physician2").post(f"/api/v1/appeals/{appeal_id}/decide", UPHOLD, format="json")
    assert resolved.status_code == 200, resolved.json()
    tar = Tar.objects.get(pk=tar_id)
    assert tar.status == TarStatus.DENIED
    assert {line.outcome for line in tar.lines.all()} == {"denied"}


def test_a_delayed_request_can_be_appealed(api, world, submit):
    tar_id = submit("provider", answers=NOT_MET)
    tar = Tar.objects.get(pk=tar_id)
    tar_extend(
        tar_id=tar_id,
        user=world.users["nurse"],
        reason="expert_review_needed",
        new_due_at=tar.decision_due_at + timedelta(days=3),
        note="A spine specialist reviews the imaging.",
    )
    response = _file(api, tar_id)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["basis"] == "delay"
    assert body["tar_extension"] == tar.extensions.get().pk


def test_an_open_request_without_delay_or_breach_has_nothing_to_appeal(api, submit):
    error(_file(api, submit("provider")), 409, "invalid_transition")


# --- row 6: the window counts from the date on the notice -------------------------------------


def _deny_now_letter_later(api, submit, decide, django_capture_on_commit_callbacks, days: int):
    """Deny today; the member's letter is made `days` later (its printed date)."""
    tar_id = submit("provider", answers=NOT_MET)
    decide(tar_id, DENY_MEDICAL)  # the letter is not made yet: nothing ran after commit
    with (
        time_machine.travel(BUSINESS_MORNING + timedelta(days=days), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        events_dispatch()
    letter = Letter.objects.get(tar_id=tar_id, kind=NoticeKind.DENIAL, audience="member")
    assert letter.letter_date == BUSINESS_MORNING.date() + timedelta(days=days)
    return tar_id, letter


def test_an_appeal_60_days_after_the_notice_date_is_not_late(
    api, world, submit, decide, django_capture_on_commit_callbacks
):
    tar_id, letter = _deny_now_letter_later(
        api, submit, decide, django_capture_on_commit_callbacks, days=3
    )
    # 61 days after the decision, 58 after the letter's date: inside the window.
    appeal = appeals.appeal_file(
        tar_id=tar_id,
        user=world.users["member"],
        reason=REASON,
        now=BUSINESS_MORNING + timedelta(days=61),
    )
    assert appeal.notice_date == letter.letter_date
    assert appeal.filing_deadline_rule == "appeal_60_days_from_notice_date"
    assert not appeal.late


def test_a_corrected_letter_restarts_the_window(
    api, world, submit, decide, django_capture_on_commit_callbacks
):
    tar_id, letter = _deny_now_letter_later(
        api, submit, decide, django_capture_on_commit_callbacks, days=1
    )
    corrected_on = BUSINESS_MORNING + timedelta(days=30)
    with (
        time_machine.travel(corrected_on, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        letter_reissue(
            letter_id=letter.pk, user=world.users["nurse"], reason="The service date was wrong."
        )
    # 80 days after the first letter, 50 after the corrected one.
    appeal = appeals.appeal_file(
        tar_id=tar_id,
        user=world.users["member"],
        reason=REASON,
        now=BUSINESS_MORNING + timedelta(days=81),
    )
    assert appeal.notice_date == corrected_on.date()
    assert not appeal.late


def test_an_appeal_after_the_window_is_still_flagged_late(
    api, world, submit, decide, django_capture_on_commit_callbacks
):
    tar_id, _ = _deny_now_letter_later(
        api, submit, decide, django_capture_on_commit_callbacks, days=1
    )
    appeal = appeals.appeal_file(
        tar_id=tar_id,
        user=world.users["member"],
        reason=REASON,
        now=BUSINESS_MORNING + timedelta(days=63),
    )
    assert appeal.late


# --- row 7: an IMR under an expedited appeal fits its deadline --------------------------------

IMR_REFERRAL = {
    "referral_reason": "appeal",
    "treating_physician_certified": True,
    "reviewer_kind": "imro",
    "reviewer_name": "Pacific Independent Review",
    "reviewer_specialty": "Pain medicine",
    "review_type": "standard",
    "questions": ["Is a transforaminal ESI at L5-S1 likely to help?"],
    "pertinent_history": "Six months of left leg pain.",
    "clinical_data": "Eight weeks of physical therapy; pain 7/10.",
}


def test_an_imr_under_an_expedited_appeal_must_be_expedited(api, denied):
    tar_id = denied()
    filed = _file(api, tar_id, expedited=True, expedited_reason="I cannot walk.")
    assert filed.status_code == 201, filed.json()
    refused = api("physician2").post(f"/api/v1/tars/{tar_id}/imr", IMR_REFERRAL, format="json")
    body = error(refused, 409, "clock_rule")
    assert body["fields"]["review_type"] == ["imr_must_be_expedited_under_expedited_appeal"]
    expedited = {
        **IMR_REFERRAL,
        "review_type": "expedited",
        "expedited_basis": "less_effective_if_delayed",
    }
    accepted = api("physician2").post(f"/api/v1/tars/{tar_id}/imr", expedited, format="json")
    assert accepted.status_code == 201, accepted.json()
    appeal = Appeal.objects.get(pk=filed.json()["id"])
    assert accepted.json()["appeal"] == appeal.pk
    assert timezone.datetime.fromisoformat(accepted.json()["due_at"]) <= appeal.resolution_due_at


def test_an_imr_due_after_the_appeal_is_refused(api, world, denied):
    tar_id = denied()
    filed = _file(api, tar_id, expedited=True, expedited_reason="I cannot walk.")
    appeal = Appeal.objects.get(pk=filed.json()["id"])
    # 20 hours before the appeal is due, a 24-hour review would end after it.
    with pytest.raises(DomainError) as caught:
        appeals.imr_refer(
            tar_id=tar_id,
            user=world.users["physician2"],
            data=appeals.ImrReferralInput(
                **{
                    **IMR_REFERRAL,
                    "review_type": "expedited",
                    "expedited_basis": "less_effective_if_delayed",
                }
            ),
            now=appeal.resolution_due_at - timedelta(hours=20),
        )
    assert caught.value.http_status == 409
    assert caught.value.fields == {"review_type": ["imr_due_after_appeal"]}


# --- row 14: independence and the conflict-of-interest check ----------------------------------


def test_a_physician_account_without_a_provider_record_cannot_decide(api, world, submit):
    unlinked = factories.UserFactory(
        username="unlinked_md", role="physician", direct_phone="(707) 555-0170"
    )
    world.users["unlinked_md"] = unlinked
    tar_id = submit("provider", answers=NOT_MET)
    error(
        api("unlinked_md").post(f"/api/v1/tars/{tar_id}/decision", DENY_MEDICAL, format="json"),
        403,
        "conflict_of_interest",
    )
    assert Tar.objects.get(pk=tar_id).status == TarStatus.SUBMITTED
    assert "deny" not in api("unlinked_md").get(f"/api/v1/tars/{tar_id}/").json()["actions"]


def test_a_physician_who_pended_the_request_cannot_decide_its_appeal(api, world, submit, decide):
    tar_id = submit("provider", answers=NOT_MET)
    pended = api("physician2").post(
        f"/api/v1/tars/{tar_id}/request-info",
        {"message": "Please send the MRI report."},
        format="json",
    )
    assert pended.status_code == 200, pended.json()
    decide(tar_id, DENY_MEDICAL)
    appeal_id = _file(api, tar_id).json()["id"]
    error(
        api("physician2").post(f"/api/v1/appeals/{appeal_id}/decide", UPHOLD, format="json"),
        403,
        "conflict_of_interest",
    )
    detail = api("physician2").get(f"/api/v1/appeals/{appeal_id}/").json()
    assert "resolve" not in detail["actions"]


def test_a_subordinate_of_the_deciding_physician_cannot_decide_the_appeal(api, world, denied):
    chief = world.users["physician"]  # made the decision under appeal
    junior = factories.UserFactory(
        username="junior_md",
        role="physician",
        provider=factories.ProviderFactory(organization=world.physician_provider.organization),
        direct_phone="(707) 555-0171",
        supervisor=world.users["physician2"],
    )
    world.users["physician2"].supervisor = chief
    world.users["physician2"].save()
    world.users["junior_md"] = junior
    tar_id = denied()
    appeal_id = _file(api, tar_id).json()["id"]
    # physician2 reports to the decider, junior_md to physician2: both are subordinates.
    for persona in ("physician2", "junior_md"):
        body = error(
            api(persona).post(f"/api/v1/appeals/{appeal_id}/decide", UPHOLD, format="json"),
            403,
            "conflict_of_interest",
        )
        assert "438.406(b)(2)" in body["message"]
    # Outside the reporting line, the appeal can be decided.
    world.users["physician2"].supervisor = None
    world.users["physician2"].save()
    decided = api("physician2").post(f"/api/v1/appeals/{appeal_id}/decide", UPHOLD, format="json")
    assert decided.status_code == 200, decided.json()


def test_superiors_stop_at_a_cycle_in_the_reporting_data(world):
    a, b = world.users["physician"], world.users["physician2"]
    a.supervisor, b.supervisor = b, a
    a.save()
    b.save()
    assert a.superiors() == {b.pk}  # the walk ends instead of looping
