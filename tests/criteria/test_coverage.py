"""Is a TAR required? Every rule of PRODUCT §5, with its source and stable rule id."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest

from criteria import catalog
from criteria.coverage import (
    DEFAULT_PA_LIST,
    PAIN_REQUIREMENTS,
    Coverage,
    CoverageRule,
    CoverageStatus,
    MemberFacts,
    PaListRow,
    coverage_requirement,
)
from criteria.engine import CriteriaError, CriteriaErrorCode

DAY = date(2026, 3, 2)
ORDINARY = MemberFacts(eligible_on_date=True)
HOSPICE = MemberFacts(eligible_on_date=True, hospice=True)
TERMINAL = MemberFacts(eligible_on_date=True, terminal_condition=True)
CANCER = MemberFacts(eligible_on_date=True, cancer=True)
NOT_ELIGIBLE = MemberFacts(eligible_on_date=False)

PUMP_TAR_CODES = ["62324", "62325", "62326", "62327", "62350", "62351", "62360", "62361",
                  "62362"]  # fmt: skip
_REFILL, _REMOVAL = CoverageRule.PUMP_ANALYSIS_REFILL, CoverageRule.PUMP_REMOVAL
PUMP_NO_TAR = {
    **dict.fromkeys(("62367", "62368", "62369", "62370", "95990", "95991"), _REFILL),
    **dict.fromkeys(("62355", "62365"), _REMOVAL),
}
PAIN_CODES = {"62320": "esi", "62322": "esi", "64480": "esi", "64483": "esi",
              "64490": "facet_mbb", "64495": "facet_mbb", "64633": "facet_rfa",
              "64636": "facet_rfa", "63650": "scs_trial", "63655": "scs_permanent",
              "63685": "scs_permanent"}  # fmt: skip


def check(code: str, member: MemberFacts | None = ORDINARY, *, chosen: str | None = None,
          on: date = DAY) -> Coverage:  # fmt: skip
    return coverage_requirement(code=code, service_date=on, member=member, chosen_set=chosen)


def assert_not_required(coverage: Coverage, rule: CoverageRule, source: str) -> None:
    assert coverage.status is CoverageStatus.NOT_REQUIRED
    assert coverage.tar_required is False
    assert coverage.rule is rule
    assert coverage.source == source
    assert coverage.criteria_set is None
    assert coverage.questions == ()
    assert coverage.reason


# ---- pain procedures: TAR + RAF + credentialed specialist (000)


@pytest.mark.parametrize(("code", "set_id"), sorted(PAIN_CODES.items()))
def test_pain_procedures_need_a_tar_a_raf_and_a_credentialed_specialist(
    code: str, set_id: str
) -> None:
    coverage = check(code)
    assert coverage.status is CoverageStatus.REQUIRED
    assert coverage.tar_required is True
    assert coverage.rule is CoverageRule.PAIN_PROCEDURE_TAR
    assert coverage.source == "000 VI.E.1"
    assert coverage.criteria_set == set_id
    assert coverage.criteria_set_version == "2026.1"
    assert coverage.questions == tuple(
        q["key"] for q in catalog.questions_for(catalog.criteria_set_effective_on(set_id, DAY))
    )
    assert coverage.requirements == PAIN_REQUIREMENTS
    assert any("RAF" in r and "000 VI.C" in r for r in coverage.requirements)
    assert any("credentialed" in r and "000" in r for r in coverage.requirements)


@pytest.mark.parametrize("member", [HOSPICE, TERMINAL, CANCER])
def test_pump_exemptions_do_not_apply_to_other_pain_procedures(member: MemberFacts) -> None:
    for code in ("64483", "62322", "63650", "64490"):
        assert check(code, member).status is CoverageStatus.REQUIRED


@pytest.mark.parametrize("code", ["63661", "63662", "63663", "63664", "63688"])
def test_scs_revision_and_removal_need_a_tar_with_no_criteria_set(code: str) -> None:
    coverage = check(code)
    assert coverage.status is CoverageStatus.REQUIRED
    assert coverage.rule is CoverageRule.SCS_REVISION_REMOVAL_TAR
    assert coverage.criteria_set is None
    assert coverage.questions == ()
    assert coverage.requirements == PAIN_REQUIREMENTS
    assert "physician" in coverage.reason


# ---- implantable pain pump (001)


@pytest.mark.parametrize("code", PUMP_TAR_CODES)
def test_pump_trial_and_implant_need_a_tar(code: str) -> None:
    coverage = check(code)
    assert coverage.status is CoverageStatus.REQUIRED
    assert coverage.rule is CoverageRule.PUMP_PROCEDURE_TAR
    assert coverage.source == "001 I.A; 000 VI.E.1"
    assert coverage.criteria_set == catalog.criteria_set_for(code)
    assert coverage.requirements == PAIN_REQUIREMENTS


@pytest.mark.parametrize("code", PUMP_TAR_CODES)
@pytest.mark.parametrize(
    ("member", "rule", "source"),
    [
        (HOSPICE, CoverageRule.PUMP_HOSPICE_MEMBER, "001 I.A.1"),
        (TERMINAL, CoverageRule.PUMP_TERMINAL_CONDITION, "001 I.A.2"),
        (CANCER, CoverageRule.PUMP_CANCER, "001 I.A.3"),
    ],
)
def test_pump_exemptions(code: str, member: MemberFacts, rule: CoverageRule, source: str) -> None:
    assert_not_required(check(code, member), rule, source)


def test_pump_exemptions_follow_the_source_order() -> None:
    everything = MemberFacts(eligible_on_date=True, hospice=True, terminal_condition=True,
                             cancer=True)  # fmt: skip
    assert check("62360", everything).rule is CoverageRule.PUMP_HOSPICE_MEMBER
    both = MemberFacts(eligible_on_date=True, terminal_condition=True, cancer=True)
    assert check("62360", both).rule is CoverageRule.PUMP_TERMINAL_CONDITION


@pytest.mark.parametrize("code", ["62322", "62323"])
def test_single_shot_pump_trial_is_exempt_only_when_chosen(code: str) -> None:
    assert check(code, HOSPICE).status is CoverageStatus.REQUIRED  # an ESI
    assert check(code, HOSPICE, chosen="esi").criteria_set == "esi"
    assert_not_required(
        check(code, HOSPICE, chosen="pump_trial"), CoverageRule.PUMP_HOSPICE_MEMBER, "001 I.A.1"
    )
    assert_not_required(
        check(code, CANCER, chosen="pump_trial"), CoverageRule.PUMP_CANCER, "001 I.A.3"
    )
    coverage = check(code, ORDINARY, chosen="pump_trial")
    assert coverage.status is CoverageStatus.REQUIRED
    assert coverage.rule is CoverageRule.PUMP_PROCEDURE_TAR
    assert coverage.criteria_set == "pump_trial"
    assert "life_expectancy_months" in coverage.questions


def test_scs_electrodes_follow_the_chosen_set() -> None:
    assert check("63650").criteria_set == "scs_trial"
    permanent = check("63650", chosen="scs_permanent")
    assert permanent.criteria_set == "scs_permanent"
    assert "trial_relief_percent" in permanent.questions
    with pytest.raises(CriteriaError) as caught:
        check("63685", chosen="scs_trial")
    assert caught.value.code is CriteriaErrorCode.CRITERIA_SET_NOT_FOR_CODE


@pytest.mark.parametrize(("code", "rule"), sorted(PUMP_NO_TAR.items()))
@pytest.mark.parametrize("member", [ORDINARY, HOSPICE, None])
def test_pump_care_after_implant_needs_no_tar(
    code: str, rule: CoverageRule, member: MemberFacts | None
) -> None:
    source = "001 I.A.4.d" if rule is CoverageRule.PUMP_REMOVAL else "001 I.A.4.b-c"
    assert_not_required(check(code, member), rule, source)


def test_without_member_facts_pump_exemptions_are_not_applied() -> None:
    coverage = check("62360", None)
    assert coverage.status is CoverageStatus.REQUIRED
    assert "not checked" in coverage.reason


# ---- emergency room, mental health (002)


@pytest.mark.parametrize("code", ["99281", "99282", "99283", "99284", "99285"])
def test_emergency_room_visits_need_no_tar(code: str) -> None:
    assert_not_required(check(code), CoverageRule.EMERGENCY_ROOM_VISIT, "002 Emergency Room Visits")
    assert check(code, None).status is CoverageStatus.NOT_REQUIRED


@pytest.mark.parametrize("code", ["90791", "90792"])
def test_the_initial_mental_health_assessment_needs_no_tar(code: str) -> None:
    assert_not_required(check(code), CoverageRule.MENTAL_HEALTH_INITIAL_ASSESSMENT,
                        "002 Mental Health Parity (42 CFR 438.910)")  # fmt: skip


@pytest.mark.parametrize(
    "code",
    ["90785", "90832", "90833", "90834", "90836", "90837", "90838", "90839", "90840", "90845",
     "90846", "90847", "90849", "90853", "90899"],
)  # fmt: skip
def test_mental_health_services_need_no_tar(code: str) -> None:
    assert_not_required(check(code), CoverageRule.MENTAL_HEALTH_SERVICE,
                        "002 Mental Health Parity (42 CFR 438.910)")  # fmt: skip


@pytest.mark.parametrize("code", ["99280", "99286", "99291", "90784", "90900"])
def test_neighbouring_codes_are_not_on_the_list(code: str) -> None:
    coverage = check(code)
    assert coverage.rule is CoverageRule.NOT_ON_PA_LIST
    assert coverage.status is CoverageStatus.NOT_REQUIRED


# ---- not covered: the member is not eligible on the date


@pytest.mark.parametrize("code", ["64483", "62360", "62370", "99283", "90834", "99213"])
def test_an_ineligible_member_is_not_covered(code: str) -> None:
    coverage = check(code, NOT_ELIGIBLE)
    assert coverage.status is CoverageStatus.NOT_COVERED
    assert coverage.tar_required is False
    assert coverage.rule is CoverageRule.MEMBER_NOT_ELIGIBLE
    assert coverage.criteria_set is None
    assert "not eligible" in coverage.reason


def test_ineligibility_wins_over_the_pump_exemptions() -> None:
    member = MemberFacts(eligible_on_date=False, hospice=True, cancer=True)
    assert check("62360", member).status is CoverageStatus.NOT_COVERED


# ---- everything else


@pytest.mark.parametrize("code", ["99213", "J1040", "27447", "64481"])
def test_codes_not_on_the_pa_list_need_no_tar(code: str) -> None:
    """PRODUCT §5 (issue 11 row 12): a code not on the plan's list needs no TAR; today's
    code required a TAR for every code outside the catalogue."""
    coverage = check(code)
    assert coverage.status is CoverageStatus.NOT_REQUIRED
    assert coverage.tar_required is False
    assert coverage.rule is CoverageRule.NOT_ON_PA_LIST
    assert coverage.source == "PRODUCT §5: the plan's prior-authorization list"
    assert "not on the plan's prior-authorization list" in coverage.reason


@pytest.mark.parametrize(
    ("code", "rule", "source"),
    [
        ("E0783", CoverageRule.DEVICE_WITH_AUTHORIZED_PROCEDURE, "001 I.A.4.a"),
        ("C1772", CoverageRule.DEVICE_WITH_AUTHORIZED_PROCEDURE, "001 I.A.4.a"),
        ("L8685", CoverageRule.DEVICE_WITH_AUTHORIZED_PROCEDURE, "001 I.A.4.a"),
        ("H0031", CoverageRule.MENTAL_HEALTH_INITIAL_ASSESSMENT,
         "002 Mental Health Parity (42 CFR 438.910)"),
        ("96130", CoverageRule.MENTAL_HEALTH_SERVICE, "002 Mental Health Parity (42 CFR 438.910)"),
        ("A0427", CoverageRule.EMERGENCY_SERVICE, "002 Emergency Room Visits; 42 CFR 438.114"),
        ("58300", CoverageRule.FAMILY_PLANNING, "42 CFR 431.51"),
    ],
)  # fmt: skip
def test_devices_mental_health_emergency_and_family_planning_need_no_tar(
    code: str, rule: CoverageRule, source: str
) -> None:
    """Issue 11 row 12: these "required a TAR" because every code outside the catalogue did."""
    assert_not_required(check(code), rule, source)


def _row(first: str, last: str, required: bool, **kwargs: Any) -> PaListRow:
    return PaListRow(
        code_from=first,
        code_to=last,
        effective_from=kwargs.get("effective_from", date(2026, 1, 1)),
        effective_to=kwargs.get("effective_to"),
        tar_required=required,
        rule=kwargs.get("rule", CoverageRule.PA_LIST_REQUIRED.value),
        source=kwargs.get("source", "UM committee 2026-04"),
        description=kwargs.get("description", "Knee replacement"),
    )


def test_a_code_the_plan_adds_to_its_list_needs_a_tar_reviewed_by_a_physician() -> None:
    pa_list = [*DEFAULT_PA_LIST, _row("27447", "27447", True)]
    coverage = coverage_requirement(
        code="27447", service_date=DAY, member=ORDINARY, pa_list=pa_list
    )
    assert coverage.status is CoverageStatus.REQUIRED
    assert coverage.rule is CoverageRule.PA_LIST_REQUIRED
    assert coverage.source == "UM committee 2026-04"
    assert coverage.criteria_set is None
    assert "Knee replacement" in coverage.reason and "physician" in coverage.reason


def test_pa_list_entries_apply_only_within_their_effective_dates() -> None:
    pa_list = [_row("27447", "27447", True, effective_from=date(2026, 4, 1),
                    effective_to=date(2026, 6, 30))]  # fmt: skip

    def on(day: date) -> CoverageStatus:
        return coverage_requirement(
            code="27447", service_date=day, member=ORDINARY, pa_list=pa_list
        ).status

    assert on(date(2026, 3, 31)) is CoverageStatus.NOT_REQUIRED
    assert on(date(2026, 4, 1)) is CoverageStatus.REQUIRED
    assert on(date(2026, 6, 30)) is CoverageStatus.REQUIRED
    assert on(date(2026, 7, 1)) is CoverageStatus.NOT_REQUIRED


def test_the_narrowest_entry_wins_and_letter_ranges_hold_only_their_letter() -> None:
    pa_list = [
        _row("90785", "90899", False, rule="mental_health_service"),
        _row("90791", "90791", True, description="Evaluation"),
        _row("E0100", "E9999", True, description="Durable medical equipment"),
    ]
    assert coverage_requirement(
        code="90791", service_date=DAY, member=ORDINARY, pa_list=pa_list
    ).tar_required
    assert not coverage_requirement(
        code="90834", service_date=DAY, member=ORDINARY, pa_list=pa_list
    ).tar_required
    assert coverage_requirement(
        code="E0783", service_date=DAY, member=ORDINARY, pa_list=pa_list
    ).tar_required
    # A HCPCS code never falls in a CPT range, nor a J code in an E range.
    assert not coverage_requirement(
        code="J1040", service_date=DAY, member=ORDINARY, pa_list=pa_list
    ).tar_required


def test_before_any_criteria_version_is_in_force_a_physician_reviews() -> None:
    coverage = check("64483", on=date(2025, 12, 31))
    assert coverage.status is CoverageStatus.REQUIRED
    assert coverage.criteria_set is None
    assert coverage.criteria_set_version is None
    assert coverage.questions == ()
    assert "physician" in coverage.reason
    assert check("64483", on=date(2026, 1, 1)).criteria_set == "esi"


# ---- errors and shape


@pytest.mark.parametrize("code", ["6448", "ABCDE", "", None, 64483])
def test_invalid_code_format_is_refused(code: Any) -> None:
    with pytest.raises(CriteriaError) as caught:
        check(code)
    assert caught.value.code is CriteriaErrorCode.INVALID_CODE


@pytest.mark.parametrize("on", ["2026-03-02", datetime(2026, 3, 2, 9, 0), None])
def test_service_date_must_be_a_date(on: Any) -> None:
    with pytest.raises(CriteriaError) as caught:
        check("64483", on=on)
    assert caught.value.code is CriteriaErrorCode.INVALID_ARGUMENT


def test_member_must_be_member_facts() -> None:
    with pytest.raises(CriteriaError):
        check("64483", {"eligible_on_date": True})  # type: ignore[arg-type]


def test_a_chosen_set_that_does_not_fit_is_refused_even_when_exempt() -> None:
    for code in ("62370", "99283", "90834"):
        with pytest.raises(CriteriaError) as caught:
            check(code, HOSPICE, chosen="pump_trial")
        assert caught.value.code is CriteriaErrorCode.CRITERIA_SET_NOT_FOR_CODE


def test_as_dict_is_json() -> None:
    data = json.loads(json.dumps(check("64483").as_dict()))
    assert data["status"] == "required"
    assert data["tar_required"] is True
    assert data["rule"] == "pain_procedure_tar"
    assert data["criteria_set"] == "esi"
    assert data["questions"][0] == "radicular_findings"
    assert set(data) == {"status", "tar_required", "reason", "source", "rule", "criteria_set",
                         "criteria_set_version", "questions", "requirements"}  # fmt: skip


def test_member_facts_and_coverage_are_frozen() -> None:
    with pytest.raises(AttributeError):
        ORDINARY.hospice = True  # type: ignore[misc]
    with pytest.raises(AttributeError):
        check("64483").status = CoverageStatus.NOT_REQUIRED  # type: ignore[misc]
