"""The public CMS-0057-F metrics (PRODUCT §10, methodology version 1) on a hand-built year whose
expected figures are worked out below, line by line. Every test runs twice: from the
pre-aggregates (what the pages read) and from scratch over the decisions."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports import aggregates
from reports.metrics import prior_authorization_metrics
from tests.reports.builders import appeal, decide, hours_after, make_tar, pt

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=[aggregates.AGGREGATES, aggregates.RECORDS])
def source(request, monkeypatch):
    monkeypatch.setattr(aggregates, "DEFAULT_SOURCE", request.param)
    return request.param


@pytest.fixture
def year_2026(world):
    """Standard (routine) requests decided in 2026 and what each counts as:

    S1  approved, 24 h                       determined, approved
    S2  approved, extended, 48 h             determined, approved, extended-and-approved
    S3  denied (medical necessity), extended, 72 h   determined, denied (extended, not approved)
    S4  modified, 96 h                       determined, denied, modified
    S5  closed not eligible, 12 h            determined, denied
    S6  closed duplicate                     not a determination
    S7  closed no authorization required     not a determination
    S8  withdrawn                            not a determination
    S9  post-service, approved               not prior authorization
    S10 decided 2025-12-31 23:30 Pacific     another year
    S11 received and decided 2026-12-31 (23:30 Pacific = 2027-01-01 UTC), 12 h: in 2026
    S12 denied 36 h, then overturned on appeal (a second decision): counted as denied once

    standard: determined 7 (S1 S2 S3 S4 S5 S11 S12), approved 3 (S1 S2 S11), denied 4
    (S3 S4 S5 S12), modified 1; 3/7 = 42.857 → 42.9 %, 4/7 = 57.143 → 57.1 %.
    hours 24 48 72 96 12 12 36: mean 300/7 = 42.857 → 42.9; sorted 12 12 24 36 48 72 96 →
    median 36.0 (odd count).

    Expedited (urgent): E1 approved 10 h, E2 denied 20 h, E3 approved and extended 30 h, E4
    approved 60 h: determined 4, approved 3 (75.0 %), denied 1 (25.0 %), modified 0; mean
    120/4 = 30.0; median (20 + 30) / 2 = 25.0 (even count).

    Extended and approved: S2 and E3 of 11 determinations = 18.18 → 18.2 %.

    Appeals of standard requests resolved in 2026: S12 overturned, S3 upheld → 1 of 2 = 50.0 %.
    Not counted: S4's appeal (partly overturned, resolved in 2027), E2's appeal (an expedited
    request), S5's appeal (still open).
    """
    physician = world.users["physician"]
    nurse = world.users["nurse"]

    def standard(received, outcome, hours, **kw):
        reason = kw.pop("reason", "")
        tar = make_tar(world, received_at=received, **kw)
        return tar, decide(
            tar, outcome, at=hours_after(tar, hours), reason_code=reason, by=physician
        )

    s1 = standard(pt(2026, 3, 2), "approved", 24)
    s2 = standard(pt(2026, 3, 3), "approved", 48, extension_count=1)
    s3 = standard(pt(2026, 3, 4), "denied", 72, extension_count=1, reason="medical_necessity")
    s4 = standard(
        pt(2026, 3, 5), "modified", 96, reason="medical_necessity", request_type="concurrent"
    )
    s5 = standard(pt(2026, 3, 6), "closed", 12, reason="not_eligible")
    standard(pt(2026, 3, 9), "closed", 5, reason="duplicate")
    standard(pt(2026, 3, 10), "closed", 5, reason="no_authorization_required")
    make_tar(world, received_at=pt(2026, 3, 11), status="withdrawn")
    standard(pt(2026, 3, 12), "approved", 5, request_type="post_service")
    standard(pt(2025, 12, 30, 23, 30), "approved", 24)
    standard(pt(2026, 12, 31, 11, 30), "approved", 12)
    s12_tar, s12 = standard(pt(2026, 5, 1), "denied", 36, reason="medical_necessity")
    decide(s12_tar, "approved", at=pt(2026, 6, 1), by=world.users["physician2"])

    def expedited(outcome, hours, **kw):
        tar = make_tar(world, received_at=pt(2026, 7, 1 + hours // 10), urgency="urgent", **kw)
        reason = "medical_necessity" if outcome == "denied" else ""
        return tar, decide(tar, outcome, at=hours_after(tar, hours), reason_code=reason, by=nurse)

    expedited("approved", 10)
    e2 = expedited("denied", 20)
    expedited("approved", 30, extension_count=1)
    expedited("approved", 60)

    appeal(world, s12_tar, s12, outcome="overturned", resolved_at=pt(2026, 6, 1))
    appeal(world, *s3, outcome="upheld", resolved_at=pt(2026, 4, 1))
    appeal(world, *s4, outcome="partially_overturned", resolved_at=pt(2027, 1, 5))
    appeal(world, *e2, outcome="overturned", resolved_at=pt(2026, 8, 1))
    appeal(world, *s5)
    return s1, s2


@pytest.mark.clock(pt(2027, 4, 14))
def test_each_definition_on_a_hand_built_year(year_2026):
    data = prior_authorization_metrics(2026).data
    assert data["year"] == 2026
    assert data["methodology_version"] == 1
    assert data["standard"] == {
        "determined": 7,
        "approved": 3,
        "denied": 4,
        "modified": 1,
        "approved_percent": 42.9,
        "denied_percent": 57.1,
        "decision_hours_mean": 42.9,
        "decision_hours_median": 36.0,
        "appeals_resolved": 2,
        "approved_after_appeal": 1,
        "approved_after_appeal_percent": 50.0,
    }
    assert data["expedited"] == {
        "determined": 4,
        "approved": 3,
        "denied": 1,
        "modified": 0,
        "approved_percent": 75.0,
        "denied_percent": 25.0,
        "decision_hours_mean": 30.0,
        "decision_hours_median": 25.0,
    }
    assert data["extended_and_approved"] == {"determined": 11, "count": 2, "percent": 18.2}
    services = data["services_requiring_pa"]
    assert {
        "codes": "64483-64484",
        "family": "Epidural steroid injection",
        "description": "Transforaminal epidural injection, lumbar/sacral",
    } in services
    # 001 I.A.4: pump refills need no TAR and are not listed.
    assert not any(s["codes"].startswith("95990") for s in services)


@pytest.mark.clock(pt(2027, 4, 14))
def test_the_year_before_holds_only_its_own_decision(year_2026):
    data = prior_authorization_metrics(2025).data
    assert data["standard"]["determined"] == 1
    assert data["standard"]["approved_percent"] == 100.0
    assert data["standard"]["decision_hours_median"] == 24.0


@pytest.mark.clock(pt(2027, 4, 14))
def test_an_empty_year_gives_null_never_a_division_error(world):
    result = prior_authorization_metrics(2024)
    data = result.data
    assert not result.year_to_date
    for group in ("standard", "expedited"):
        assert data[group]["determined"] == 0
        for key in (
            "approved_percent",
            "denied_percent",
            "decision_hours_mean",
            "decision_hours_median",
        ):
            assert data[group][key] is None
    assert data["standard"]["approved_after_appeal_percent"] is None
    assert data["extended_and_approved"] == {"determined": 0, "count": 0, "percent": None}


@pytest.mark.clock(pt(2026, 8, 1))
def test_an_open_year_is_year_to_date(world):
    assert prior_authorization_metrics(2026).year_to_date
    assert not prior_authorization_metrics(2025).year_to_date


@pytest.mark.clock(pt(2027, 4, 14))
def test_the_query_count_does_not_grow_with_the_data(year_2026, world):
    with CaptureQueriesContext(connection) as small:
        prior_authorization_metrics(2026)
    for day in range(1, 25):
        tar = make_tar(world, received_at=pt(2026, 9, day))
        decide(tar, "approved", at=hours_after(tar, 5), by=world.users["nurse"])
    with CaptureQueriesContext(connection) as large:
        data = prior_authorization_metrics(2026).data
    assert data["standard"]["determined"] == 7 + 24
    assert len(large.captured_queries) == len(small.captured_queries) <= 5
