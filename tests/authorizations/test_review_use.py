"""Criteria in review (PRODUCT §6): stored evaluations with their version, nurse approval
limits, optional auto-approval, public criteria, coverage and questionnaire APIs."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from authorizations import services
from authorizations.models import Decision, HistoryEntry, ServiceLine, Tar
from authorizations.services import tar_evaluate_lines
from criteria.models import CriteriaSet, CriteriaSetSetting
from tar_portal.errors import DomainError, ErrorCode
from tests.factories import ESI_MEETS

pytestmark = pytest.mark.django_db

WEAK = {**ESI_MEETS, "conservative_care_weeks": 2}


def test_submission_stores_each_line_evaluation_with_the_set_version(submit):
    line = ServiceLine.objects.get(tar_id=submit())
    assert line.criteria_set.set_id == "esi"
    assert line.criteria_set.version == "2026.1"
    assert line.evaluation["version"] == "2026.1"
    assert line.recommendation == "meets_criteria"
    assert {c["result"] for c in line.evaluation["criteria"]} == {"met"}


def test_missing_answers_ask_for_information_and_name_the_keys(submit):
    answers = {k: v for k, v in ESI_MEETS.items() if k != "pain_score"}
    line = ServiceLine.objects.get(tar_id=submit(answers=answers))
    assert line.recommendation == "needs_information"
    assert line.evaluation["missing_answers"] == ["pain_score"]


def test_nurse_cannot_approve_a_line_that_does_not_meet_criteria(api, submit):
    tar_id = submit(answers=WEAK)
    response = api("nurse").post(
        f"/api/v1/tars/{tar_id}/decision", {"outcome": "approved"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "physician_required"
    assert (
        api("physician")
        .post(f"/api/v1/tars/{tar_id}/decision", {"outcome": "approved"}, format="json")
        .status_code
        == 200
    )


def test_auto_approval_is_off_by_default(submit):
    assert Tar.objects.get(pk=submit()).status == "submitted"


def test_auto_approval_when_the_set_allows_it_is_recorded_as_automated(submit):
    CriteriaSetSetting.objects.create(set_id="esi", auto_approve=True)
    tar = Tar.objects.get(pk=submit())
    assert tar.status == "approved"
    assert tar.decided_by is None
    decision = Decision.objects.get(tar=tar)
    assert decision.automated is True
    entry = HistoryEntry.objects.get(tar=tar, action="decided")
    assert entry.actor is None
    assert entry.actor_role == "system"
    assert entry.detail["automated"] is True


def test_auto_approval_never_acts_on_a_request_that_fails_a_criterion(submit):
    CriteriaSetSetting.objects.create(set_id="esi", auto_approve=True)
    assert Tar.objects.get(pk=submit(answers=WEAK)).status == "submitted"


@pytest.mark.parametrize("outcome", ["denied", "modified", "closed"])
def test_automated_rules_can_never_deny_modify_or_close(submit, outcome):
    tar_id = submit(answers=WEAK)
    with pytest.raises(DomainError) as excinfo:
        services.tar_decide(
            tar_id=tar_id,
            user=None,
            outcome=outcome,
            reason_code="medical_necessity",
            rationale="Automated.",
            criteria_refs=["esi:2026.1:3"],
            automated=True,
        )
    assert excinfo.value.code == ErrorCode.PERMISSION_DENIED
    assert Tar.objects.get(pk=tar_id).status == "submitted"


def test_a_newer_criteria_version_does_not_change_what_an_earlier_decision_cites(
    api, submit, world
):
    tar_id = submit(answers=WEAK)
    services.tar_refer(tar_id=tar_id, user=world.users["nurse"])
    services.tar_decide(
        tar_id=tar_id,
        user=world.users["physician"],
        outcome="denied",
        reason_code="medical_necessity",
        rationale="Two weeks of therapy; four are needed first.",
        criteria_refs=["esi:2026.1:3"],
    )
    old = CriteriaSet.objects.get(set_id="esi", version="2026.1")
    cited_text = old.criteria[2]["text"]
    newer = dict(old.definition, version="2027.1")
    newer["criteria"] = [dict(c) for c in old.definition["criteria"]]
    newer["criteria"][2] = dict(newer["criteria"][2], text="Six weeks of other care.")
    CriteriaSet.objects.create(
        set_id="esi",
        version="2027.1",
        title=old.title,
        family=old.family,
        effective_from=timezone.localdate() - timedelta(days=1),
        sources=old.sources,
        definition=newer,
    )
    tar = Tar.objects.get(pk=tar_id)
    tar_evaluate_lines(tar=tar, lines=list(tar.lines.all()), actor=None)

    line = ServiceLine.objects.get(tar_id=tar_id)
    assert line.evaluation["version"] == "2027.1"  # a new evaluation uses the new version
    cited = Decision.objects.get(tar_id=tar_id).criteria_refs
    assert cited == [
        {
            "ref": "esi:2026.1:3",
            "criteria_set": "esi",
            "version": "2026.1",
            "title": old.title,
            "number": 3,
            "text": cited_text,
            "text_es": old.criteria[2]["text_es"],
        }
    ]
    old.refresh_from_db()
    assert old.criteria[2]["text"] == cited_text
    with pytest.raises(RuntimeError):
        old.save()


def test_public_criteria_pages_need_no_login():
    client = Client()
    index = client.get("/criteria/")
    assert index.status_code == 200
    assert b"Epidural steroid injection" in index.content
    detail = client.get("/criteria/esi/2026.1/")
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "similar illnesses or conditions" in page or "similar" in page
    spanish = client.get("/criteria/esi/2026.1/?lang=es")
    assert 'lang="es"' in spanish.content.decode()
    assert client.get("/criteria/esi/1999.1/").status_code == 404


def test_public_criteria_api_lists_sets_with_disclosure():
    body = Client().get("/api/v1/criteria/sets").json()
    ids = {s["id"] for s in body}
    assert ids == {
        "esi",
        "facet_mbb",
        "facet_rfa",
        "scs_trial",
        "scs_permanent",
        "pump_trial",
        "pump_permanent",
    }
    assert all(s["disclosure"]["en"] and s["disclosure"]["es"] for s in body)


def test_coverage_requirements_api_applies_member_exemptions(api, world):
    world.member.hospice = True
    world.member.save()
    response = api("provider").get(
        "/api/v1/coverage-requirements",
        {"member": world.member.cin, "code": "62350", "date": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["tar_required"] is False
    assert body["status"] == "not_required"
    assert "001" in body["source"]


def test_coverage_requirements_for_a_pain_code_lists_questions(api):
    body = (
        api("provider")
        .get("/api/v1/coverage-requirements", {"code": "64483", "date": "2026-12-01"})
        .json()
    )
    assert body["tar_required"] is True
    assert body["criteria_set"] == {"id": "esi", "version": "2026.1"}
    assert "radicular_findings" in body["questions"]


def test_coverage_requirements_hide_members_outside_the_callers_scope(api, world):
    response = api("provider2").get(
        "/api/v1/coverage-requirements", {"member": world.member.cin, "code": "62350"}
    )
    assert response.status_code == 404


def test_coverage_requirements_bad_code_is_a_400(api):
    response = api("provider").get("/api/v1/coverage-requirements", {"code": "12"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_evaluate_api_counts_the_plans_own_approved_sessions(api, submit, world):
    first = submit()
    api("nurse").post(f"/api/v1/tars/{first}/decision", {"outcome": "approved"}, format="json")
    later = (timezone.localdate() + timedelta(days=60)).isoformat()
    body = (
        api("provider")
        .post(
            "/api/v1/criteria/evaluate",
            {"code": "64483", "answers": ESI_MEETS, "member": world.member.cin, "date": later},
            format="json",
        )
        .json()
    )
    assert body["plan_prior_sessions"] == 1
    # Reported 0 prior sessions, but the plan approved one: the repeat rule now applies and
    # the relief after the last session is unknown.
    assert body["recommendation"] == "needs_information"
    assert "prior_relief_percent" in body["missing_answers"]


def test_evaluate_api_refuses_bad_answers_with_field_errors(api):
    response = api("provider").post(
        "/api/v1/criteria/evaluate",
        {"code": "64483", "answers": {"pain_score": 42}},
        format="json",
    )
    assert response.status_code == 400
    assert "answers.pain_score" in response.json()["fields"]


@pytest.mark.parametrize(
    ("code", "chosen", "expected_set"),
    [
        ("62322", None, "esi"),
        ("62322", "pump_trial", "pump_trial"),
        ("63650", None, "scs_trial"),
        ("63688", None, None),
    ],
)
def test_questionnaire_asks_what_the_chosen_set_needs(api, code, chosen, expected_set):
    params = {"code": code, "date": "2026-12-01"}
    if chosen:
        params["criteria_set"] = chosen
    body = api("provider").get("/api/v1/criteria/questionnaire", params).json()
    assert (body["criteria_set"] or {}).get("id") == expected_set
    keys = [q["key"] for q in body["questions"]]
    assert len(keys) == len(set(keys))
    if expected_set == "pump_trial":
        assert "life_expectancy_months" in keys and "radicular_findings" not in keys
    if expected_set is None:
        assert keys == []
    assert all(q["label"] for q in body["questions"])


def test_questionnaire_refuses_a_set_that_does_not_fit_the_code(api):
    response = api("provider").get(
        "/api/v1/criteria/questionnaire", {"code": "64483", "criteria_set": "pump_trial"}
    )
    assert response.status_code == 400


def test_dates_before_any_criteria_version_get_no_set(api):
    body = (
        api("provider")
        .get(
            "/api/v1/criteria/questionnaire",
            {"code": "64483", "date": date(2025, 6, 1).isoformat()},
        )
        .json()
    )
    assert body["criteria_set"] is None
