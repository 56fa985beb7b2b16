"""Inter-rater reliability audits (seed 002; PRODUCT §10): sample sizes, a reproducible draw,
eligible second reviewers, the blind review (page and API), agreement scoring, the corrective
action plan under 90 %, the summary, and that an audit never changes the request."""

from __future__ import annotations

import csv
import io

import pytest
from pypdf import PdfReader

from accounts.models import Role
from authorizations.models import HistoryEntry, Tar
from reports import irr
from reports.models import CorrectiveActionPlan, IrrCase
from tar_portal.errors import DomainError
from tests.factories import UserFactory
from tests.reports.builders import decide, hours_after, make_tar, pt

pytestmark = pytest.mark.django_db
NOW = pt(2027, 2, 3)


@pytest.mark.parametrize(
    ("decisions", "expected"),
    [(0, 0), (1, 1), (10, 1), (20, 1), (21, 2), (100, 5), (999, 50), (1000, 50), (2000, 50)],
)
def test_sample_is_50_or_5_percent_whichever_is_less_at_least_one(decisions, expected):
    # 10 → 5 % is 0.5: at least one; 100 → 5; 2,000 → 5 % is 100, so 50.
    assert irr.sample_size(decisions) == expected


def _decided(world, n, *, by, start_day=1, outcome="approved"):
    tars = []
    for i in range(n):
        tar = make_tar(world, received_at=pt(2026, 1 + (start_day + i) % 12, 1 + i % 27))
        refs = [{"ref": "esi:2026.1:3"}] if outcome == "denied" else []
        decide(
            tar,
            outcome,
            at=hours_after(tar, 5),
            by=by,
            reason_code="medical_necessity" if outcome == "denied" else "",
            criteria_refs=refs,
        )
        tars.append(tar)
    return tars


@pytest.mark.clock(NOW)
def test_the_audit_draws_each_reviewers_sample_reproducibly(world):
    nurse = world.users["nurse"]
    _decided(world, 30, by=nurse)  # 5 % of 30 = 1.5 → 2
    _decided(world, 10, by=world.users["physician"])  # 1
    audit = irr.irr_audit_open(year=2026, user=world.users["manager"], seed=424242)
    sizes = {s.reviewer.username: (s.decisions_in_year, s.sample_size) for s in audit.samples.all()}
    assert sizes == {"nurse": (30, 2), "physician": (10, 1)}
    drawn = sorted(audit.cases.values_list("decision_id", flat=True))
    assert len(drawn) == 3
    # The same seed draws the same cases (the audit of another year with the same data).
    IrrCase.objects.all().delete()
    audit.samples.all().delete()
    audit.delete()
    again = irr.irr_audit_open(year=2026, user=world.users["manager"], seed=424242)
    assert sorted(again.cases.values_list("decision_id", flat=True)) == drawn
    assert again.seed == 424242


@pytest.mark.clock(NOW)
def test_second_reviewers_are_eligible_and_never_the_original(world):
    _decided(world, 40, by=world.users["nurse"])
    _decided(world, 40, by=world.users["physician"])
    audit = irr.irr_audit_open(year=2026, user=world.users["manager"], seed=7)
    for case in audit.cases.select_related("second_reviewer", "original_reviewer"):
        assert case.second_reviewer_id != case.original_reviewer_id
        if case.original_reviewer.role == Role.PHYSICIAN:
            # The same kind or higher: a physician's case goes to another physician.
            assert case.second_reviewer.role == Role.PHYSICIAN
        else:
            assert case.second_reviewer.role in (Role.NURSE, Role.PHYSICIAN)


@pytest.mark.clock(NOW)
def test_one_audit_a_year_and_only_the_manager_opens_it(world):
    _decided(world, 3, by=world.users["nurse"])
    with pytest.raises(DomainError) as refused:
        irr.irr_audit_open(year=2026, user=world.users["nurse"])
    assert refused.value.http_status == 403
    irr.irr_audit_open(year=2026, user=world.users["manager"])
    with pytest.raises(DomainError) as twice:
        irr.irr_audit_open(year=2026, user=world.users["manager"])
    assert twice.value.http_status == 409


@pytest.fixture
def audited(world):
    """Physician2 decided 4 requests (sample 1); nurse decided 2 (1). Seeded draw."""
    _decided(world, 4, by=world.users["physician2"], outcome="denied")
    _decided(world, 2, by=world.users["nurse"])
    return irr.irr_audit_open(year=2026, user=world.users["manager"], seed=99)


def _case_of(audit, original):
    return audit.cases.get(original_reviewer__username=original)


@pytest.mark.clock(NOW)
def test_the_second_reviewer_sees_the_case_blind_on_the_page_and_the_api(
    audited, world, client_for, api
):
    case = _case_of(audited, "physician2")
    reviewer = case.second_reviewer.username
    assert reviewer == "physician"
    decision = case.decision
    decision.rationale = "UNIQUE-RATIONALE-TEXT conservative care too short"
    decision.save(update_fields=["rationale"])
    page = client_for(reviewer).get(f"/irr/cases/{case.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    body = api(reviewer).get(f"/api/v1/irr/cases/{case.pk}/")
    assert body.status_code == 200
    text = body.content.decode()
    for shown in (html, text):
        assert "UNIQUE-RATIONALE-TEXT" not in shown
        assert case.tar.number not in shown
        assert world.member.last_name not in shown and world.member.cin not in shown
        assert "64483" in shown  # the service asked for
    data = body.json()
    assert "status" in data and data["status"] == "assigned"  # the case's, not the request's
    assert not {
        "outcome",
        "rationale",
        "decision",
        "line_outcome",
        "approved_units",
        "history",
        "letters",
    } & set(data)
    assert all(
        set(line)
        == {
            "line_number",
            "code",
            "modifiers",
            "diagnosis_codes",
            "units",
            "spinal_region",
            "service_date_from",
            "service_date_to",
            "criteria_set",
        }
        for line in data["lines"]
    )


@pytest.mark.clock(NOW)
def test_a_case_exists_only_for_its_assigned_reviewer(audited, world, api, client_for):
    case = _case_of(audited, "physician2")
    assert api("physician2").get(f"/api/v1/irr/cases/{case.pk}/").status_code == 404
    assert api("nurse2").get(f"/api/v1/irr/cases/{case.pk}/").status_code in (403, 404)
    assert api("provider").get(f"/api/v1/irr/cases/{case.pk}/").status_code == 403
    assert client_for("physician2").get(f"/irr/cases/{case.pk}/").status_code == 404
    refused = api("physician2").post(
        f"/api/v1/irr/cases/{case.pk}/review",
        {"lines": [{"line_number": 1, "outcome": "denied"}]},
        format="json",
    )
    assert refused.status_code == 404


@pytest.mark.clock(NOW)
def test_agreement_needs_the_same_line_outcomes_and_the_same_criteria_not_met(audited, world):
    from criteria.models import CriteriaSet

    esi = CriteriaSet.objects.filter(set_id="esi").order_by("-effective_from").first()
    case = _case_of(audited, "physician2")
    # Give the case's line its criteria set, as submission would have.
    case.tar.lines.update(criteria_set=esi)
    ref = f"esi:{esi.version}:3"
    case.decision.criteria_refs = [{"ref": ref}]
    case.decision.save(update_fields=["criteria_refs"])
    tar_before = Tar.objects.values().get(pk=case.tar_id)
    lines_before = list(case.tar.lines.values("outcome", "approved_units"))
    reviewed = irr.irr_review(
        case_id=case.pk,
        user=world.users["physician"],
        lines=[irr.LineReview(1, "denied")],
        criteria_not_met=[ref],
    )
    assert reviewed.agrees is True and reviewed.status == "reviewed"
    # Recorded in the request's history; the request itself is untouched.
    entry = HistoryEntry.objects.filter(tar_id=case.tar_id, action="irr_reviewed").get()
    assert entry.actor == world.users["physician"]
    assert "denied" not in str(
        entry.detail
    )  # the history says a review happened, not what it found
    after = Tar.objects.values().get(pk=case.tar_id)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in tar_before.items() if k != "updated_at"
    }
    assert list(case.tar.lines.values("outcome", "approved_units")) == lines_before
    # A second recording is refused (409), and a wrong criterion is a 400.
    with pytest.raises(DomainError) as again:
        irr.irr_review(
            case_id=case.pk,
            user=world.users["physician"],
            lines=[irr.LineReview(1, "denied")],
            criteria_not_met=[ref],
        )
    assert again.value.http_status == 409


@pytest.mark.clock(NOW)
def test_a_reviewer_under_90_percent_gets_a_corrective_action_plan(world):
    physician2 = world.users["physician2"]
    _decided(world, 40, by=physician2, outcome="approved")  # 5 % of 40 = 2 cases
    audit = irr.irr_audit_open(year=2026, user=world.users["manager"], seed=5)
    cases = list(audit.cases.filter(original_reviewer=physician2))
    assert len(cases) == 2
    # One agrees (approved, no criteria not met), one does not: 50 % < 90 %.
    irr.irr_review(
        case_id=cases[0].pk, user=cases[0].second_reviewer, lines=[irr.LineReview(1, "approved")]
    )
    assert not CorrectiveActionPlan.objects.exists()  # the sample is not finished yet
    irr.irr_review(
        case_id=cases[1].pk, user=cases[1].second_reviewer, lines=[irr.LineReview(1, "denied")]
    )
    plan = CorrectiveActionPlan.objects.get(reviewer=physician2)
    assert float(plan.score_percent) == 50.0
    assert (
        plan.owner == world.users["manager"] and plan.actions and plan.re_audit_date > plan.due_date
    )
    summary = irr.audit_summary(audit)
    row = next(r for r in summary["reviewers"] if r["reviewer"] == "physician2")
    assert row["score_percent"] == 50.0 and row["below_target"] and row["plan"] == plan


@pytest.mark.clock(NOW)
def test_a_reviewer_at_target_gets_no_plan(world):
    nurse = world.users["nurse"]
    _decided(world, 10, by=nurse)
    audit = irr.irr_audit_open(year=2026, user=world.users["manager"], seed=5)
    (case,) = audit.cases.filter(original_reviewer=nurse)
    irr.irr_review(
        case_id=case.pk, user=case.second_reviewer, lines=[irr.LineReview(1, "approved")]
    )
    assert not CorrectiveActionPlan.objects.exists()


@pytest.mark.clock(NOW)
def test_a_review_missing_a_line_or_naming_a_foreign_criterion_is_a_400(audited, world, api):
    case = _case_of(audited, "nurse")
    reviewer = case.second_reviewer.username
    missing = api(reviewer).post(
        f"/api/v1/irr/cases/{case.pk}/review", {"lines": []}, format="json"
    )
    assert missing.status_code == 400
    foreign = api(reviewer).post(
        f"/api/v1/irr/cases/{case.pk}/review",
        {
            "lines": [{"line_number": 1, "outcome": "approved"}],
            "criteria_not_met": ["scs_trial:2026.1:1"],
        },
        format="json",
    )
    assert foreign.status_code == 400 and "criteria_not_met" in foreign.json()["fields"]
    nonsense = api(reviewer).post(
        f"/api/v1/irr/cases/{case.pk}/review",
        {"lines": [{"line_number": 9, "outcome": "approved"}]},
        format="json",
    )
    assert nonsense.status_code == 400
    assert IrrCase.objects.get(pk=case.pk).status == "assigned"  # nothing saved


@pytest.mark.clock(NOW)
def test_the_summary_is_a_page_a_csv_and_a_pdf(audited, world, client_for):
    case = _case_of(audited, "nurse")
    irr.irr_review(
        case_id=case.pk, user=case.second_reviewer, lines=[irr.LineReview(1, "approved")]
    )
    client = client_for("manager")
    page = client.get("/reports/irr/2026/")
    assert page.status_code == 200 and "By criteria set" in page.content.decode()
    rows = list(csv.reader(io.StringIO(client.get("/reports/irr/2026.csv").content.decode())))
    assert ["By reviewer"] in rows
    start = rows.index(["By reviewer"])
    nurse_row = next(r for r in rows[start:] if r and r[0] == "nurse")
    assert nurse_row[4:7] == ["1", "1", "100.0"]
    pdf = client.get("/reports/irr/2026.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Inter-rater reliability audit 2026" in text and "Seed 99" in text


@pytest.mark.clock(NOW)
def test_the_manager_opens_the_audit_from_the_page_and_a_bad_year_is_a_400(world, client_for):
    _decided(world, 3, by=world.users["nurse"])
    client = client_for("manager")
    assert client.post("/reports/irr/open", {"year": "abc"}).status_code == 400
    response = client.post("/reports/irr/open", {"year": "2026"})
    assert response.status_code == 302 and response["Location"] == "/reports/irr/2026/"
    assert client.post("/reports/irr/open", {"year": "2026"}).status_code == 409


@pytest.mark.clock(NOW)
def test_the_second_reviewer_records_the_review_on_the_page(audited, client_for):
    case = _case_of(audited, "nurse")
    client = client_for(case.second_reviewer.username)
    listing = client.get("/irr/cases/")
    assert case.reference in listing.content.decode()
    bad = client.post(f"/irr/cases/{case.pk}/", {})
    assert bad.status_code == 400
    done = client.post(f"/irr/cases/{case.pk}/", {"line_1": "approved"})
    assert done.status_code == 302
    assert IrrCase.objects.get(pk=case.pk).agrees is True


@pytest.mark.clock(NOW)
def test_no_eligible_second_reviewer_is_noted_not_a_crash(world):
    lone = UserFactory(username="lonephysician", role=Role.PHYSICIAN)
    _decided(world, 3, by=lone)
    for username in ("physician", "physician2"):
        world.users[username].is_active = False
        world.users[username].save(update_fields=["is_active"])
    audit = irr.irr_audit_open(year=2026, user=world.users["manager"], seed=1)
    sample = audit.samples.get(reviewer=lone)
    assert sample.sample_size == 1 and "no eligible second reviewer" in sample.note
