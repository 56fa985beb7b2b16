"""The TAR workflow (STYLE §3; PRODUCT §2): one transition table, checked in one place.

Order of checks: role (403), scope (404), the action's own authority (403: physician
required, conflict of interest), possible from this status (409 invalid_transition), claim
(409 claimed_by_other). Every change writes an append-only history row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from accounts.models import Role
from authorizations import services
from authorizations.models import Decision, HistoryEntry, LineOutcome, ServiceLine, Tar, TarStatus
from criteria.models import CriteriaSet
from tar_portal.errors import DomainError, ErrorCode
from tests import factories

pytestmark = pytest.mark.django_db

ESI_REF = "esi:2026.1:1"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def _status(tar_id: int) -> str:
    return Tar.objects.get(pk=tar_id).status


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:400])
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code, body
    return body


def _post(client, tar_id: int, action: str, body: dict | None = None):
    return client.post(f"/api/v1/tars/{tar_id}/{action}", body or {}, format="json")


DENY_MEDICAL = {
    "outcome": "denied",
    "reason_code": "medical_necessity",
    "rationale": "Conservative care has not been tried for long enough.",
    "criteria_refs": [ESI_REF],
}
CLOSE_DUPLICATE = {
    "outcome": "closed",
    "reason_code": "duplicate",
    "rationale": "Same request as TAR-2026-000001.",
}
APPROVE = {"outcome": "approved"}


@pytest.fixture
def tar(submit) -> int:
    """A routine ESI TAR from Redwood whose one line meets the criteria."""
    return submit("provider")


@pytest.fixture
def close_duplicate(submit, tar) -> dict:
    """A duplicate closure of `tar` that names the earlier request it repeats (PRODUCT §2):
    the same member, code and dates, submitted again."""
    again = submit("provider")
    return {**CLOSE_DUPLICATE, "duplicate_of": Tar.objects.get(pk=again).number}


@pytest.fixture
def tar_not_met(submit) -> int:
    """A TAR whose line does not meet the criteria (no radicular findings): physician only."""
    answers = {**factories.ESI_MEETS, "radicular_findings": False}
    tar_id = submit("provider", answers=answers)
    assert ServiceLine.objects.get(tar_id=tar_id).recommendation == "refer_to_physician"
    return tar_id


@pytest.fixture
def act(api):
    """act(persona, tar_id, action, body) → the API response."""
    return lambda persona, tar_id, action, body=None: _post(api(persona), tar_id, action, body)


def _decided(act, tar_id: int) -> int:
    assert act("nurse", tar_id, "decision", APPROVE).status_code == 200
    assert _status(tar_id) == TarStatus.APPROVED
    return tar_id


def _withdrawn(act, tar_id: int) -> int:
    assert act("provider", tar_id, "withdraw", {"reason": "Patient moved."}).status_code == 200
    return tar_id


# --- illegal transitions: 409 invalid_transition -------------------------------------------


def test_nurse_cannot_claim_an_approved_tar(act, tar):
    _decided(act, tar)
    _error(act("nurse2", tar, "claim"), 409, "invalid_transition")
    assert _status(tar) == TarStatus.APPROVED


@pytest.mark.parametrize(
    ("persona", "body"),
    [
        pytest.param("physician", APPROVE, id="physician-approve"),
        pytest.param("physician", DENY_MEDICAL, id="physician-deny"),
        pytest.param("nurse", CLOSE_DUPLICATE, id="nurse-close"),
        pytest.param("nurse", APPROVE, id="nurse-approve"),
    ],
)
def test_nobody_can_decide_a_withdrawn_tar(act, tar, persona, body):
    _withdrawn(act, tar)
    _error(act(persona, tar, "decision", body), 409, "invalid_transition")
    assert _status(tar) == TarStatus.WITHDRAWN
    assert not Decision.objects.filter(tar_id=tar).exists()


def test_physician_cannot_decide_an_already_decided_tar(act, tar):
    _decided(act, tar)
    _error(act("physician", tar, "decision", DENY_MEDICAL), 409, "invalid_transition")
    assert Decision.objects.filter(tar_id=tar).count() == 1


def test_provider_cannot_respond_when_not_pended(act, tar):
    _error(
        act("provider", tar, "respond", {"response": "MRI attached."}), 409, "invalid_transition"
    )
    assert _status(tar) == TarStatus.SUBMITTED


def test_nurse_cannot_release_an_unclaimed_tar(act, tar):
    _error(act("nurse", tar, "release"), 409, "invalid_transition")


def test_provider_cannot_withdraw_a_decided_tar(act, tar):
    _decided(act, tar)
    _error(act("provider", tar, "withdraw"), 409, "invalid_transition")
    assert _status(tar) == TarStatus.APPROVED


def test_nurse_cannot_refer_an_already_referred_tar(act, tar):
    assert act("nurse", tar, "refer", {"note": "Needs a physician."}).status_code == 200
    _error(act("nurse", tar, "refer"), 409, "invalid_transition")


def test_nurse_cannot_pend_a_pended_tar(act, tar):
    assert act("nurse", tar, "request-info", {"message": "Send the MRI."}).status_code == 200
    _error(act("nurse", tar, "request-info", {"message": "Again."}), 409, "invalid_transition")


def test_refused_transition_writes_no_history(act, tar):
    before = HistoryEntry.objects.filter(tar_id=tar).count()
    _error(act("nurse", tar, "release"), 409, "invalid_transition")
    _error(act("provider", tar, "decision", APPROVE), 403, "permission_denied")
    assert HistoryEntry.objects.filter(tar_id=tar).count() == before


def test_unknown_tar_is_404_for_staff(act):
    _error(act("nurse", 999999, "claim"), 404, "not_found")


# --- authority: 403 ------------------------------------------------------------------------


def test_nurse_cannot_deny_for_medical_necessity(world, tar):
    """002: only the CMO or a physician designee denies for lack of medical necessity."""
    with pytest.raises(DomainError) as caught:
        services.tar_decide(
            tar_id=tar,
            user=world.users["nurse"],
            outcome="denied",
            reason_code="medical_necessity",
            rationale="Not enough conservative care.",
            criteria_refs=[ESI_REF],
        )
    assert caught.value.code == ErrorCode.PHYSICIAN_REQUIRED
    assert caught.value.http_status == 403
    assert _status(tar) == TarStatus.SUBMITTED
    assert not Decision.objects.filter(tar_id=tar).exists()


def test_nurse_cannot_modify_for_medical_necessity(world, tar):
    with pytest.raises(DomainError) as caught:
        services.tar_decide(
            tar_id=tar,
            user=world.users["nurse"],
            outcome="modified",
            reason_code="medical_necessity",
            rationale="One level only.",
            criteria_refs=[ESI_REF],
            line_decisions=[
                services.LineDecision(line_number=1, outcome="approved", approved_units=1)
            ],
        )
    assert caught.value.code == ErrorCode.PHYSICIAN_REQUIRED
    assert _status(tar) == TarStatus.SUBMITTED


def test_nurse_cannot_deny_for_medical_necessity_through_the_api(act, tar):
    _error(act("nurse", tar, "decision", DENY_MEDICAL), 403, "physician_required")
    assert _status(tar) == TarStatus.SUBMITTED
    assert not Decision.objects.filter(tar_id=tar).exists()


def test_nurse_cannot_modify_for_medical_necessity_through_the_api(act, world, tar):
    line = ServiceLine.objects.get(tar_id=tar)
    body = {
        "outcome": "modified",
        "reason_code": "medical_necessity",
        "rationale": "A shorter window is enough.",
        "criteria_refs": [ESI_REF],
        "lines": [
            {
                "line_number": 1,
                "outcome": "modified",
                "approved_date_from": line.service_date_from.isoformat(),
                "approved_date_to": (line.service_date_from + timedelta(days=5)).isoformat(),
            }
        ],
    }
    _error(act("nurse", tar, "decision", body), 403, "physician_required")
    assert _status(tar) == TarStatus.SUBMITTED


def test_nurse_cannot_approve_a_line_that_does_not_meet_criteria(act, tar_not_met):
    _error(act("nurse", tar_not_met, "decision", APPROVE), 403, "physician_required")
    assert _status(tar_not_met) == TarStatus.SUBMITTED


def test_nurse_cannot_approve_a_line_that_needs_information(act, submit):
    answers = dict(factories.ESI_MEETS)
    del answers["pain_score"]
    tar_id = submit("provider", answers=answers)
    assert ServiceLine.objects.get(tar_id=tar_id).recommendation == "needs_information"
    _error(act("nurse", tar_id, "decision", APPROVE), 403, "physician_required")


def test_physician_can_approve_a_line_that_does_not_meet_criteria(act, tar_not_met):
    response = act("physician", tar_not_met, "decision", APPROVE)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved"


def test_nurse_can_approve_a_line_that_meets_criteria(act, world, tar):
    response = act("nurse", tar, "decision", APPROVE)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved"
    assert response.json()["lines"][0]["outcome"] == "approved"
    decision = Decision.objects.get(tar_id=tar)
    assert decision.decided_by == world.users["nurse"]


def test_nurse_can_close_on_non_medical_grounds(act, world, tar, close_duplicate):
    response = act("nurse", tar, "decision", close_duplicate)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "closed"
    assert body["reason_code"] == "duplicate"
    assert body["lines"][0]["outcome"] == LineOutcome.CLOSED
    decision = Decision.objects.get(tar_id=tar)
    assert (decision.outcome, decision.reason_code) == ("closed", "duplicate")
    assert decision.decided_by == world.users["nurse"]


def test_nurse_can_close_a_tar_that_does_not_meet_criteria(act, submit, tar_not_met):
    """A closure decides nothing medical, so the criteria result does not matter."""
    first = Tar.objects.get(pk=submit("provider")).number
    body = {**CLOSE_DUPLICATE, "duplicate_of": first}
    response = act("nurse", tar_not_met, "decision", body)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "closed"


def test_closure_for_medical_necessity_is_refused(act, tar):
    body = {**CLOSE_DUPLICATE, "reason_code": "medical_necessity"}
    body_json = _error(act("physician", tar, "decision", body), 400, "invalid")
    assert "reason_code" in body_json["fields"]


@pytest.mark.parametrize("persona", ["provider", "pcp", "coordinator", "memberservices", "member"])
def test_non_reviewers_cannot_decide(act, tar, persona):
    _error(act(persona, tar, "decision", APPROVE), 403, "permission_denied")
    assert _status(tar) == TarStatus.SUBMITTED


def test_provider_cannot_decide_at_the_service_level(world, tar):
    with pytest.raises(DomainError) as caught:
        services.tar_decide(tar_id=tar, user=world.users["provider"], outcome="approved")
    assert caught.value.code == ErrorCode.PERMISSION_DENIED


@pytest.fixture
def tar_with_separate_servicing(world, submit) -> tuple[int, object]:
    """Requested by the Redwood login's own clinician, serviced by another Redwood doctor."""
    servicing = factories.ProviderFactory(organization=world.redwood)
    tar_id = submit("provider", servicing_provider=servicing.npi)
    tar = Tar.objects.get(pk=tar_id)
    assert tar.requesting_provider == world.redwood_specialist
    assert tar.servicing_provider == servicing
    return tar_id, servicing


@pytest.mark.parametrize("involvement", ["requesting", "servicing", "members_pcp"])
def test_physician_involved_in_the_case_cannot_decide(
    world, tar_with_separate_servicing, involvement
):
    """002 conflict of interest: not the requesting or servicing provider, nor the PCP."""
    tar_id, servicing = tar_with_separate_servicing
    provider = {
        "requesting": world.redwood_specialist,
        "servicing": servicing,
        "members_pcp": world.pcp,
    }[involvement]
    physician = factories.UserFactory(role=Role.PHYSICIAN, provider=provider)
    client = _client(physician)
    for body in (APPROVE, DENY_MEDICAL):
        _error(_post(client, tar_id, "decision", body), 403, "conflict_of_interest")
    with pytest.raises(DomainError) as caught:
        services.tar_decide(
            tar_id=tar_id,
            user=physician,
            outcome="denied",
            **{k: v for k, v in DENY_MEDICAL.items() if k != "outcome"},
        )
    assert caught.value.code == ErrorCode.CONFLICT_OF_INTEREST
    assert _status(tar_id) == TarStatus.SUBMITTED
    # An uninvolved physician decides the same case.
    response = _post(_client(world.users["physician"]), tar_id, "decision", DENY_MEDICAL)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "denied"


def test_physician_can_deny_for_medical_necessity(act, world, tar):
    response = act("physician", tar, "decision", DENY_MEDICAL)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "denied"
    assert body["reason_code"] == "medical_necessity"
    assert body["lines"][0]["outcome"] == "denied"
    assert body["member_notice_due_at"] is not None
    assert Tar.objects.get(pk=tar).decided_by == world.users["physician"]


def test_physician_can_modify_for_medical_necessity(act, tar):
    body = {
        "outcome": "modified",
        "reason_code": "medical_necessity",
        "rationale": "Fewer days are enough.",
        "criteria_refs": [ESI_REF],
        "lines": [{"line_number": 1, "outcome": "approved", "approved_units": 1}],
    }
    line = ServiceLine.objects.get(tar_id=tar)
    body["lines"][0]["approved_date_to"] = (line.service_date_from + timedelta(1)).isoformat()
    response = act("physician", tar, "decision", body)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "modified"
    assert response.json()["lines"][0]["outcome"] == "modified"


# --- claims --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "body"),
    [
        pytest.param("release", None, id="release"),
        pytest.param("refer", {"note": "For a physician."}, id="refer"),
        pytest.param("request-info", {"message": "Send the MRI."}, id="request-info"),
        pytest.param("decision", APPROVE, id="approve"),
        pytest.param("decision", "close", id="close"),
    ],
)
def test_claimed_tar_cannot_be_acted_on_by_another_nurse(
    act, world, tar, action, body, close_duplicate
):
    body = close_duplicate if body == "close" else body
    assert act("nurse", tar, "claim").status_code == 200
    _error(act("nurse2", tar, action, body), 409, "claimed_by_other")
    reloaded = Tar.objects.get(pk=tar)
    assert reloaded.status == TarStatus.IN_REVIEW
    assert reloaded.assigned_to == world.users["nurse"]


def test_claimed_tar_cannot_be_extended_by_another_nurse(act, tar):
    assert act("nurse", tar, "claim").status_code == 200
    due = Tar.objects.get(pk=tar).decision_due_at
    body = {
        "reason": "information_not_received",
        "new_due_at": (due + timedelta(days=3)).isoformat(),
        "note": "Waiting for the MRI report.",
    }
    _error(act("nurse2", tar, "extend", body), 409, "claimed_by_other")
    assert Tar.objects.get(pk=tar).decision_due_at == due


def test_claimed_tar_cannot_be_claimed_again(act, world, tar):
    assert act("nurse", tar, "claim").status_code == 200
    _error(act("nurse2", tar, "claim"), 409, "claimed_by_other")
    assert Tar.objects.get(pk=tar).assigned_to == world.users["nurse"]


def test_claim_assigns_and_release_unassigns(act, world, tar):
    claimed = act("nurse", tar, "claim").json()
    assert claimed["status"] == "in_review"
    assert claimed["assigned_to"] == "nurse"
    released = act("nurse", tar, "release").json()
    assert released["status"] == "submitted"
    assert released["assigned_to"] is None
    # Once released, another nurse may take it.
    assert act("nurse2", tar, "claim").json()["assigned_to"] == "nurse2"


def test_manager_can_release_another_nurses_claim(act, tar):
    assert act("nurse", tar, "claim").status_code == 200
    response = act("manager", tar, "release")
    assert response.status_code == 200, response.json()
    assert response.json()["assigned_to"] is None


def test_physician_may_act_on_a_tar_a_nurse_has_claimed(act, tar):
    assert act("nurse", tar, "claim").status_code == 200
    response = act("physician", tar, "decision", DENY_MEDICAL)
    assert response.status_code == 200, response.json()
    assert response.json()["assigned_to"] is None


# --- pend and respond ----------------------------------------------------------------------


def _to_in_review(act, tar_id):
    assert act("nurse", tar_id, "claim").status_code == 200


def _to_referred(act, tar_id):
    assert act("nurse", tar_id, "refer", {"note": "Physician review."}).status_code == 200


@pytest.mark.parametrize(
    ("prepare", "pender", "status"),
    [
        pytest.param(None, "nurse", TarStatus.SUBMITTED, id="from-submitted"),
        pytest.param(_to_in_review, "nurse", TarStatus.IN_REVIEW, id="from-in-review"),
        pytest.param(_to_referred, "physician", TarStatus.REFERRED, id="from-referred"),
    ],
)
def test_respond_returns_to_the_status_it_was_pended_from(act, tar, prepare, pender, status):
    if prepare is not None:
        prepare(act, tar)
    assert _status(tar) == status
    pended = act(pender, tar, "request-info", {"message": "Send the imaging report."})
    assert pended.status_code == 200, pended.json()
    assert pended.json()["status"] == "pended"
    response = act("provider", tar, "respond", {"response": "Report uploaded."})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == status
    reloaded = Tar.objects.get(pk=tar)
    assert reloaded.status_before_pend == ""
    info = reloaded.information_requests.get()
    assert info.response == "Report uploaded."
    assert info.responded_at is not None


def test_pending_does_not_move_the_decision_deadline(act, tar):
    due = Tar.objects.get(pk=tar).decision_due_at
    act("nurse", tar, "request-info", {"message": "Send the imaging report."})
    assert Tar.objects.get(pk=tar).decision_due_at == due


def test_new_answers_re_evaluate_the_lines(act, world, submit):
    answers = dict(factories.ESI_MEETS)
    del answers["pain_score"]
    tar_id = submit("provider", answers=answers)
    line = ServiceLine.objects.get(tar_id=tar_id)
    assert line.recommendation == "needs_information"
    assert "pain_score" in line.evaluation["missing_answers"]
    pend = {"message": "What is the baseline pain score?", "missing_keys": ["pain_score"]}
    assert act("nurse", tar_id, "request-info", pend).status_code == 200
    response = act("provider", tar_id, "respond", {"answers": {"pain_score": 6}})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "submitted"
    assert body["answers"]["pain_score"] == 6
    assert body["answers"]["radicular_findings"] is True  # merged, not replaced
    line.refresh_from_db()
    assert line.recommendation == "meets_criteria"
    assert line.evaluation["missing_answers"] == []
    assert body["lines"][0]["recommendation"] == "meets_criteria"
    evaluations = HistoryEntry.objects.filter(tar_id=tar_id, action="evaluated")
    assert evaluations.count() == 2
    # And the nurse may now approve it.
    assert act("nurse", tar_id, "decision", APPROVE).status_code == 200


def test_respond_with_invalid_answers_is_refused_and_stays_pended(act, tar):
    act("nurse", tar, "request-info", {"message": "Pain score?"})
    body = _error(act("provider", tar, "respond", {"answers": {"pain_score": 11}}), 400, "invalid")
    assert "answers.pain_score" in body["fields"]
    assert _status(tar) == TarStatus.PENDED


def test_empty_response_is_refused(act, tar):
    act("nurse", tar, "request-info", {"message": "Pain score?"})
    _error(act("provider", tar, "respond", {}), 400, "invalid")
    assert _status(tar) == TarStatus.PENDED


# --- history -------------------------------------------------------------------------------


def _workflow_rows(tar_id: int) -> list[tuple]:
    return [
        (h.action, h.detail.get("action", ""), h.actor.username, h.from_status, h.to_status)
        for h in HistoryEntry.objects.filter(tar_id=tar_id)
        .exclude(action__in=["evaluated", "clinical_read", "attachment_read"])
        .select_related("actor")
        .order_by("at", "id")
    ]


def test_every_change_writes_a_history_row(act, tar):
    due = Tar.objects.get(pk=tar).decision_due_at
    steps = [
        ("nurse", "claim", None),
        ("nurse", "release", None),
        ("nurse", "claim", None),
        ("nurse", "request-info", {"message": "Send the MRI report."}),
        ("provider", "respond", {"response": "Uploaded."}),
        (
            "nurse",
            "extend",
            {
                "reason": "expert_review_needed",
                "new_due_at": (due + timedelta(days=5)).isoformat(),
                "note": "A spine specialist will review the imaging.",
            },
        ),
        ("nurse", "refer", {"note": "Physician review."}),
        ("physician", "decision", DENY_MEDICAL),
    ]
    for persona, action, body in steps:
        response = act(persona, tar, action, body)
        assert response.status_code == 200, (action, response.json())
    assert _workflow_rows(tar) == [
        ("created", "submit", "provider", "", "submitted"),
        ("status_changed", "claim", "nurse", "submitted", "in_review"),
        ("status_changed", "release", "nurse", "in_review", "submitted"),
        ("status_changed", "claim", "nurse", "submitted", "in_review"),
        ("information_requested", "request_info", "nurse", "in_review", "pended"),
        ("information_received", "receive_info", "provider", "pended", "in_review"),
        ("extended", "extend", "nurse", "in_review", "in_review"),
        ("status_changed", "refer", "nurse", "in_review", "referred"),
        ("decided", "deny", "physician", "referred", "denied"),
    ]
    rows = HistoryEntry.objects.filter(tar_id=tar)
    assert all(row.actor_role for row in rows)
    decided = rows.get(action="decided")
    assert decided.actor_role == "physician"
    assert decided.reason == DENY_MEDICAL["rationale"]
    assert decided.detail["reason_code"] == "medical_necessity"
    extended = rows.get(action="extended")
    assert extended.detail["extension_reason"] == "expert_review_needed"


def test_withdrawal_writes_a_history_row(act, tar):
    _withdrawn(act, tar)
    assert _workflow_rows(tar)[-1] == (
        "status_changed",
        "withdraw",
        "provider",
        "submitted",
        "withdrawn",
    )
    row = HistoryEntry.objects.filter(tar_id=tar).order_by("-id").first()
    assert row.reason == "Patient moved."


def test_history_rows_cannot_be_changed_through_the_model(tar):
    row = HistoryEntry.objects.filter(tar_id=tar).first()
    row.reason = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        row.save()
    with pytest.raises(RuntimeError, match="append-only"):
        row.delete()
    assert HistoryEntry.objects.get(pk=row.pk).reason == ""


def test_history_rows_cannot_be_changed_by_queryset_or_sql(tar):
    """The PostgreSQL trigger (migration 0003) refuses UPDATE and DELETE of any history row."""
    assert connection.vendor == "postgresql"
    row = HistoryEntry.objects.filter(tar_id=tar).first()
    table = HistoryEntry._meta.db_table
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        HistoryEntry.objects.filter(pk=row.pk).update(reason="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        HistoryEntry.objects.filter(pk=row.pk).delete()
    update = f"UPDATE {table} SET reason = %s WHERE id = %s"  # noqa: S608
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(update, ["x", row.pk])
    delete = f"DELETE FROM {table} WHERE id = %s"  # noqa: S608
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(delete, [row.pk])
    assert HistoryEntry.objects.get(pk=row.pk).reason == ""


# --- decisions cite criteria ---------------------------------------------------------------


def test_decision_stores_resolved_criteria_refs(act, tar):
    refs = ["esi:2026.1:1", "esi:2026.1:3"]
    response = act("physician", tar, "decision", {**DENY_MEDICAL, "criteria_refs": refs})
    assert response.status_code == 200, response.json()
    decision = Decision.objects.get(tar_id=tar)
    published = CriteriaSet.objects.get(set_id="esi", version="2026.1")
    texts = {c["number"]: c["text"] for c in published.criteria}
    assert [r["ref"] for r in decision.criteria_refs] == refs
    for ref, number in zip(decision.criteria_refs, (1, 3), strict=True):
        assert ref["criteria_set"] == "esi"
        assert ref["version"] == "2026.1"
        assert ref["number"] == number
        assert ref["text"] == texts[number]
        assert ref["text"]
        assert ref["title"] == published.title
    assert decision.outcome == "denied"
    assert decision.reason_code == "medical_necessity"
    assert decision.rationale == DENY_MEDICAL["rationale"]
    assert decision.line_outcomes[0]["outcome"] == "denied"


@pytest.mark.parametrize(
    "ref",
    [
        pytest.param("esi:2026.1:99", id="no-such-number"),
        pytest.param("esi:1999.1:1", id="no-such-version"),
        pytest.param("astrology:2026.1:1", id="no-such-set"),
        pytest.param("esi-1", id="malformed"),
    ],
)
def test_denial_citing_an_unknown_criterion_is_refused(act, tar, ref):
    body = _error(
        act("physician", tar, "decision", {**DENY_MEDICAL, "criteria_refs": [ref]}),
        400,
        "invalid",
    )
    assert "criteria_refs" in body["fields"]
    assert _status(tar) == TarStatus.SUBMITTED
    assert not Decision.objects.filter(tar_id=tar).exists()


def test_medical_necessity_denial_must_cite_criteria(act, tar):
    body = _error(
        act("physician", tar, "decision", {**DENY_MEDICAL, "criteria_refs": []}), 400, "invalid"
    )
    assert "criteria_refs" in body["fields"]


def test_denial_needs_a_rationale(act, tar):
    body = _error(
        act("physician", tar, "decision", {**DENY_MEDICAL, "rationale": ""}), 400, "invalid"
    )
    assert "rationale" in body["fields"]
