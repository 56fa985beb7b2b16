"""The criteria engine against the shipped 2026.1 sets (PRODUCT §6), boundary by boundary.

Each case starts from answers that meet every criterion of the set, changes one thing, and
checks the one criterion it targets and the recommendation. Pure: no Django.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest

from criteria import catalog
from criteria.engine import (
    OPS,
    CriteriaError,
    CriteriaErrorCode,
    Evaluation,
    Recommendation,
    Result,
    compile_criteria_set,
    evaluate,
    evaluate_no_set,
    normalize_code,
    rule_keys,
)

MET, NOT_MET, UNKNOWN = Result.MET, Result.NOT_MET, Result.UNKNOWN
MEETS = Recommendation.MEETS_CRITERIA
NEEDS = Recommendation.NEEDS_INFORMATION
REFER = Recommendation.REFER_TO_PHYSICIAN
_REC_FOR = {MET: MEETS, UNKNOWN: NEEDS, NOT_MET: REFER}

# Answers that meet every criterion of each set (a first session: no prior sessions).
GOOD: dict[str, dict[str, Any]] = {
    "esi": {
        "radicular_findings": True,
        "pain_duration_weeks": 8,
        "conservative_care_weeks": 8,
        "conservative_modalities": ["medications", "physical_therapy"],
        "pain_score": 7,
        "function_scale_documented": True,
        "imaging_guidance": "fluoroscopy",
        "approach": "transforaminal",
        "levels": 1,
        "spinal_region": "lumbar",
        "prior_sessions_12mo": 0,
    },
    "facet_mbb": {
        "axial_pain": True,
        "untreated_radiculopathy": False,
        "pain_duration_weeks": 20,
        "conservative_care_weeks": 16,
        "pain_score": 6,
        "function_scale_documented": True,
        "imaging_guidance": "fluoroscopy",
        "spinal_region": "lumbar",
        "prior_sessions_12mo": 0,
    },
    "facet_rfa": {
        "mbb_relief_percents": [85, 90],
        "imaging_guidance": "fluoroscopy",
        "spinal_region": "lumbar",
        "prior_sessions_12mo": 0,
    },
    "scs_trial": {
        "pain_duration_weeks": 52,
        "conservative_care_weeks": 40,
        "conservative_modalities": ["medications", "physical_therapy", "home_exercise"],
        "psych_evaluation_cleared": True,
        "untreated_substance_use_disorder": False,
        "contraindications": [],
    },
    "pump_trial": {
        "life_expectancy_months": 24,
        "specialist_confirms_alternatives_failed": True,
        "contraindications": [],
        "pain_origin": "non_malignant",
        "pain_duration_weeks": 52,
        "conservative_care_weeks": 40,
        "psych_evaluation_cleared": True,
    },
}
_TRIAL_OUTCOME = {
    "trial_relief_percent": 70,
    "trial_side_effects_acceptable": True,
    "trial_patient_accepts": True,
}
GOOD["scs_permanent"] = {**GOOD["scs_trial"], **_TRIAL_OUTCOME}
GOOD["pump_permanent"] = {**GOOD["pump_trial"], **_TRIAL_OUTCOME}

CODE = {
    "esi": "64483",
    "facet_mbb": "64493",
    "facet_rfa": "64635",
    "scs_trial": "63650",
    "scs_permanent": "63685",
    "pump_trial": "62324",
    "pump_permanent": "62362",
}


def run(
    set_id: str,
    changes: dict[str, Any] | None = None,
    *,
    code: str | None = None,
    plan: int = 0,
    drop: tuple[str, ...] = (),
) -> Evaluation:
    answers = {**GOOD[set_id], **(changes or {})}
    for key in drop:
        answers.pop(key)
    return evaluate(
        catalog.CRITERIA_SETS[set_id],
        code=code or CODE[set_id],
        answers=answers,
        plan_prior_sessions=plan,
    )


def result_of(evaluation: Evaluation, criterion_id: str) -> Result:
    [criterion] = [c for c in evaluation.criteria if c.id == criterion_id]
    return criterion.result


@pytest.mark.parametrize("set_id", sorted(GOOD))
def test_good_answers_meet_every_criterion(set_id: str) -> None:
    evaluation = run(set_id)
    assert evaluation.recommendation is MEETS
    assert {c.result for c in evaluation.criteria} == {MET}
    assert evaluation.criteria_set == set_id
    assert evaluation.version == catalog.CRITERIA_SETS[set_id]["version"]


# (set, changes, plan count, criterion, expected). The recommendation follows: one criterion
# not_met → refer_to_physician, unknown → needs_information, all met → meets_criteria.
BOUNDARIES: list[tuple[str, dict[str, Any], int, str, Result]] = [
    # ---- ESI: pain >= 4 weeks
    ("esi", {"pain_duration_weeks": 3}, 0, "esi.2", NOT_MET),
    ("esi", {"pain_duration_weeks": 4}, 0, "esi.2", MET),
    ("esi", {"pain_duration_weeks": 5}, 0, "esi.2", MET),
    # conservative care >= 4 weeks with >= 2 modalities
    ("esi", {"conservative_care_weeks": 3}, 0, "esi.3", NOT_MET),
    ("esi", {"conservative_care_weeks": 4}, 0, "esi.3", MET),
    ("esi", {"conservative_care_weeks": 5}, 0, "esi.3", MET),
    ("esi", {"conservative_modalities": []}, 0, "esi.3", NOT_MET),
    ("esi", {"conservative_modalities": ["chiropractic"]}, 0, "esi.3", NOT_MET),
    ("esi", {"conservative_modalities": ["home_exercise", "chiropractic"]}, 0, "esi.3", MET),
    (
        "esi",
        {"conservative_modalities": ["medications", "physical_therapy", "home_exercise"]},
        0,
        "esi.3",
        MET,
    ),
    # the same modality twice is one modality
    ("esi", {"conservative_modalities": ["medications", "medications"]}, 0, "esi.3", NOT_MET),
    # pain score and functional scale documented
    ("esi", {"pain_score": 0}, 0, "esi.4", MET),
    ("esi", {"pain_score": None}, 0, "esi.4", UNKNOWN),
    ("esi", {"function_scale_documented": False}, 0, "esi.4", NOT_MET),
    ("esi", {"function_scale_documented": None}, 0, "esi.4", UNKNOWN),
    # radicular findings
    ("esi", {"radicular_findings": False}, 0, "esi.1", NOT_MET),
    ("esi", {"radicular_findings": None}, 0, "esi.1", UNKNOWN),
    # fluoroscopy or CT
    ("esi", {"imaging_guidance": "ct"}, 0, "esi.5", MET),
    ("esi", {"imaging_guidance": "ultrasound"}, 0, "esi.5", NOT_MET),
    ("esi", {"imaging_guidance": "none"}, 0, "esi.5", NOT_MET),
    # transforaminal <= 2 levels, interlaminar/caudal 1 level
    ("esi", {"approach": "transforaminal", "levels": 1}, 0, "esi.6", MET),
    ("esi", {"approach": "transforaminal", "levels": 2}, 0, "esi.6", MET),
    ("esi", {"approach": "transforaminal", "levels": 3}, 0, "esi.6", NOT_MET),
    ("esi", {"approach": "interlaminar", "levels": 1}, 0, "esi.6", MET),
    ("esi", {"approach": "interlaminar", "levels": 2}, 0, "esi.6", NOT_MET),
    ("esi", {"approach": "caudal", "levels": 1}, 0, "esi.6", MET),
    ("esi", {"approach": "caudal", "levels": 2}, 0, "esi.6", NOT_MET),
    ("esi", {"approach": None}, 0, "esi.6", UNKNOWN),
    ("esi", {"levels": None}, 0, "esi.6", UNKNOWN),
    # <= 4 sessions per region in 12 months, counting this one (prior 2/3/4 = 3rd/4th/5th)
    ("esi", {"prior_sessions_12mo": 2, "prior_relief_percent": 60, "prior_relief_weeks": 4}, 0,
     "esi.7", MET),
    ("esi", {"prior_sessions_12mo": 3, "prior_relief_percent": 60, "prior_relief_weeks": 4}, 0,
     "esi.7", MET),
    ("esi", {"prior_sessions_12mo": 4, "prior_relief_percent": 60, "prior_relief_weeks": 4}, 0,
     "esi.7", NOT_MET),
    # repeat: >= 50 % relief for >= 3 weeks
    ("esi", {"prior_sessions_12mo": 1, "prior_relief_percent": 49, "prior_relief_weeks": 3}, 0,
     "esi.8", NOT_MET),
    ("esi", {"prior_sessions_12mo": 1, "prior_relief_percent": 50, "prior_relief_weeks": 3}, 0,
     "esi.8", MET),
    ("esi", {"prior_sessions_12mo": 1, "prior_relief_percent": 51, "prior_relief_weeks": 3}, 0,
     "esi.8", MET),
    ("esi", {"prior_sessions_12mo": 1, "prior_relief_percent": 50, "prior_relief_weeks": 2}, 0,
     "esi.8", NOT_MET),
    ("esi", {"prior_sessions_12mo": 1, "prior_relief_percent": 50, "prior_relief_weeks": 4}, 0,
     "esi.8", MET),
    ("esi", {"prior_sessions_12mo": 1}, 0, "esi.8", UNKNOWN),
    # first session: the relief rule does not apply
    ("esi", {"prior_sessions_12mo": 0, "prior_relief_percent": 10, "prior_relief_weeks": 0}, 0,
     "esi.8", MET),
    # ---- Facet MBB
    ("facet_mbb", {"axial_pain": False}, 0, "facet_mbb.1", NOT_MET),
    ("facet_mbb", {"axial_pain": None}, 0, "facet_mbb.1", UNKNOWN),
    ("facet_mbb", {"untreated_radiculopathy": True}, 0, "facet_mbb.2", NOT_MET),
    ("facet_mbb", {"untreated_radiculopathy": None}, 0, "facet_mbb.2", UNKNOWN),
    ("facet_mbb", {"pain_duration_weeks": 11}, 0, "facet_mbb.3", NOT_MET),
    ("facet_mbb", {"pain_duration_weeks": 12}, 0, "facet_mbb.3", MET),
    ("facet_mbb", {"pain_duration_weeks": 13}, 0, "facet_mbb.3", MET),
    ("facet_mbb", {"conservative_care_weeks": 11}, 0, "facet_mbb.4", NOT_MET),
    ("facet_mbb", {"conservative_care_weeks": 12}, 0, "facet_mbb.4", MET),
    ("facet_mbb", {"conservative_care_weeks": 13}, 0, "facet_mbb.4", MET),
    ("facet_mbb", {"pain_score": None}, 0, "facet_mbb.5", UNKNOWN),
    ("facet_mbb", {"function_scale_documented": False}, 0, "facet_mbb.5", NOT_MET),
    ("facet_mbb", {"imaging_guidance": "ct"}, 0, "facet_mbb.6", MET),
    ("facet_mbb", {"imaging_guidance": "ultrasound"}, 0, "facet_mbb.6", NOT_MET),
    ("facet_mbb", {"imaging_guidance": "none"}, 0, "facet_mbb.6", NOT_MET),
    ("facet_mbb", {"prior_sessions_12mo": 2, "mbb_relief_percents": [90]}, 0, "facet_mbb.7",
     MET),
    ("facet_mbb", {"prior_sessions_12mo": 3, "mbb_relief_percents": [90]}, 0, "facet_mbb.7",
     MET),
    ("facet_mbb", {"prior_sessions_12mo": 4, "mbb_relief_percents": [90]}, 0, "facet_mbb.7",
     NOT_MET),
    # a second block needs >= 80 % relief from the first
    ("facet_mbb", {"prior_sessions_12mo": 1, "mbb_relief_percents": [79]}, 0, "facet_mbb.8",
     NOT_MET),
    ("facet_mbb", {"prior_sessions_12mo": 1, "mbb_relief_percents": [80]}, 0, "facet_mbb.8",
     MET),
    ("facet_mbb", {"prior_sessions_12mo": 1, "mbb_relief_percents": [81]}, 0, "facet_mbb.8",
     MET),
    ("facet_mbb", {"prior_sessions_12mo": 0, "mbb_relief_percents": [10]}, 0, "facet_mbb.8",
     MET),
    # ---- Facet RFA: two MBBs, each >= 80 %
    ("facet_rfa", {"mbb_relief_percents": [79, 90]}, 0, "facet_rfa.1", NOT_MET),
    ("facet_rfa", {"mbb_relief_percents": [80, 80]}, 0, "facet_rfa.1", MET),
    ("facet_rfa", {"mbb_relief_percents": [81, 81]}, 0, "facet_rfa.1", MET),
    ("facet_rfa", {"mbb_relief_percents": [90, 79]}, 0, "facet_rfa.1", NOT_MET),
    ("facet_rfa", {"mbb_relief_percents": []}, 0, "facet_rfa.1", NOT_MET),
    ("facet_rfa", {"mbb_relief_percents": [95]}, 0, "facet_rfa.1", NOT_MET),
    ("facet_rfa", {"mbb_relief_percents": [95, 90, 85]}, 0, "facet_rfa.1", MET),
    ("facet_rfa", {"mbb_relief_percents": [95, 50, 85]}, 0, "facet_rfa.1", NOT_MET),
    ("facet_rfa", {"mbb_relief_percents": None}, 0, "facet_rfa.1", UNKNOWN),
    ("facet_rfa", {"imaging_guidance": "ct"}, 0, "facet_rfa.2", MET),
    ("facet_rfa", {"imaging_guidance": "ultrasound"}, 0, "facet_rfa.2", NOT_MET),
    ("facet_rfa", {"imaging_guidance": "none"}, 0, "facet_rfa.2", NOT_MET),
    # <= 2 RFA sessions per region in 12 months, counting this one (prior 0/1/2)
    ("facet_rfa", {"prior_sessions_12mo": 0}, 0, "facet_rfa.3", MET),
    ("facet_rfa", {"prior_sessions_12mo": 1, "prior_rfa_relief_percent": 60,
                   "prior_rfa_relief_months": 7}, 0, "facet_rfa.3", MET),
    ("facet_rfa", {"prior_sessions_12mo": 2, "prior_rfa_relief_percent": 60,
                   "prior_rfa_relief_months": 7}, 0, "facet_rfa.3", NOT_MET),
    # repeat: >= 50 % for >= 6 months
    ("facet_rfa", {"prior_sessions_12mo": 1, "prior_rfa_relief_percent": 49,
                   "prior_rfa_relief_months": 6}, 0, "facet_rfa.4", NOT_MET),
    ("facet_rfa", {"prior_sessions_12mo": 1, "prior_rfa_relief_percent": 50,
                   "prior_rfa_relief_months": 6}, 0, "facet_rfa.4", MET),
    ("facet_rfa", {"prior_sessions_12mo": 1, "prior_rfa_relief_percent": 51,
                   "prior_rfa_relief_months": 6}, 0, "facet_rfa.4", MET),
    ("facet_rfa", {"prior_sessions_12mo": 1, "prior_rfa_relief_percent": 50,
                   "prior_rfa_relief_months": 5}, 0, "facet_rfa.4", NOT_MET),
    ("facet_rfa", {"prior_sessions_12mo": 1, "prior_rfa_relief_percent": 50,
                   "prior_rfa_relief_months": 7}, 0, "facet_rfa.4", MET),
    ("facet_rfa", {"prior_sessions_12mo": 1, "prior_rfa_relief_percent": 90}, 0, "facet_rfa.4",
     UNKNOWN),
    # ---- SCS trial: 26 weeks, medications AND physical therapy, psych, SUD, contraindication
    ("scs_trial", {"pain_duration_weeks": 25}, 0, "scs_trial.1", NOT_MET),
    ("scs_trial", {"pain_duration_weeks": 26}, 0, "scs_trial.1", MET),
    ("scs_trial", {"pain_duration_weeks": 27}, 0, "scs_trial.1", MET),
    ("scs_trial", {"conservative_care_weeks": 25}, 0, "scs_trial.2", NOT_MET),
    ("scs_trial", {"conservative_care_weeks": 26}, 0, "scs_trial.2", MET),
    ("scs_trial", {"conservative_care_weeks": 27}, 0, "scs_trial.2", MET),
    ("scs_trial", {"conservative_modalities": ["medications", "home_exercise"]}, 0,
     "scs_trial.2", NOT_MET),
    ("scs_trial", {"conservative_modalities": ["physical_therapy", "chiropractic"]}, 0,
     "scs_trial.2", NOT_MET),
    ("scs_trial", {"conservative_modalities": ["medications", "physical_therapy"]}, 0,
     "scs_trial.2", MET),
    ("scs_trial", {"psych_evaluation_cleared": False}, 0, "scs_trial.3", NOT_MET),
    ("scs_trial", {"untreated_substance_use_disorder": True}, 0, "scs_trial.4", NOT_MET),
    ("scs_trial", {"contraindications": ["infection"]}, 0, "scs_trial.5", NOT_MET),
    ("scs_trial", {"contraindications": None}, 0, "scs_trial.5", UNKNOWN),
    # ---- SCS permanent: the trial's criteria, plus the trial outcome
    ("scs_permanent", {"pain_duration_weeks": 25}, 0, "scs_permanent.1", NOT_MET),
    ("scs_permanent", {"conservative_care_weeks": 26}, 0, "scs_permanent.2", MET),
    ("scs_permanent", {"psych_evaluation_cleared": False}, 0, "scs_permanent.3", NOT_MET),
    ("scs_permanent", {"untreated_substance_use_disorder": True}, 0, "scs_permanent.4",
     NOT_MET),
    ("scs_permanent", {"contraindications": ["coagulopathy"]}, 0, "scs_permanent.5", NOT_MET),
    ("scs_permanent", {"trial_relief_percent": 49}, 0, "scs_permanent.6", NOT_MET),
    ("scs_permanent", {"trial_relief_percent": 50}, 0, "scs_permanent.6", MET),
    ("scs_permanent", {"trial_relief_percent": 51}, 0, "scs_permanent.6", MET),
    ("scs_permanent", {"trial_side_effects_acceptable": False}, 0, "scs_permanent.7", NOT_MET),
    ("scs_permanent", {"trial_patient_accepts": False}, 0, "scs_permanent.8", NOT_MET),
    ("scs_permanent", {"trial_patient_accepts": None}, 0, "scs_permanent.8", UNKNOWN),
    # ---- Pump trial
    ("pump_trial", {"life_expectancy_months": 2}, 0, "pump_trial.1", NOT_MET),
    ("pump_trial", {"life_expectancy_months": 3}, 0, "pump_trial.1", MET),
    ("pump_trial", {"life_expectancy_months": 4}, 0, "pump_trial.1", MET),
    ("pump_trial", {"specialist_confirms_alternatives_failed": False}, 0, "pump_trial.2",
     NOT_MET),
    ("pump_trial", {"contraindications": ["infection"]}, 0, "pump_trial.3", NOT_MET),
    ("pump_trial", {"contraindications": ["coagulopathy"]}, 0, "pump_trial.3", NOT_MET),
    ("pump_trial", {"contraindications": ["body_size"]}, 0, "pump_trial.3", NOT_MET),
    ("pump_trial", {"contraindications": ["other"]}, 0, "pump_trial.3", NOT_MET),
    # non-malignant pain: 26 weeks of pain and of conservative care, psych cleared
    ("pump_trial", {"pain_duration_weeks": 25}, 0, "pump_trial.4", NOT_MET),
    ("pump_trial", {"pain_duration_weeks": 26}, 0, "pump_trial.4", MET),
    ("pump_trial", {"pain_duration_weeks": 27}, 0, "pump_trial.4", MET),
    ("pump_trial", {"conservative_care_weeks": 25}, 0, "pump_trial.5", NOT_MET),
    ("pump_trial", {"conservative_care_weeks": 26}, 0, "pump_trial.5", MET),
    ("pump_trial", {"conservative_care_weeks": 27}, 0, "pump_trial.5", MET),
    ("pump_trial", {"psych_evaluation_cleared": False}, 0, "pump_trial.6", NOT_MET),
    # malignant pain: those three do not apply
    ("pump_trial", {"pain_origin": "malignant", "pain_duration_weeks": 2}, 0, "pump_trial.4",
     MET),
    ("pump_trial", {"pain_origin": "malignant", "conservative_care_weeks": 0}, 0,
     "pump_trial.5", MET),
    ("pump_trial", {"pain_origin": "malignant", "psych_evaluation_cleared": False}, 0,
     "pump_trial.6", MET),
    ("pump_trial", {"pain_origin": "malignant", "psych_evaluation_cleared": None}, 0,
     "pump_trial.6", MET),
    # origin unknown: met only if the non-malignant rule is met anyway
    ("pump_trial", {"pain_origin": None}, 0, "pump_trial.4", MET),
    ("pump_trial", {"pain_origin": None, "pain_duration_weeks": 10}, 0, "pump_trial.4",
     UNKNOWN),
    # ---- Pump permanent: the trial's criteria, plus the trial outcome
    ("pump_permanent", {"life_expectancy_months": 2}, 0, "pump_permanent.1", NOT_MET),
    ("pump_permanent", {"life_expectancy_months": 3}, 0, "pump_permanent.1", MET),
    ("pump_permanent", {"contraindications": ["body_size"]}, 0, "pump_permanent.3", NOT_MET),
    ("pump_permanent", {"pain_duration_weeks": 25}, 0, "pump_permanent.4", NOT_MET),
    ("pump_permanent", {"trial_relief_percent": 49}, 0, "pump_permanent.7", NOT_MET),
    ("pump_permanent", {"trial_relief_percent": 50}, 0, "pump_permanent.7", MET),
    ("pump_permanent", {"trial_relief_percent": 51}, 0, "pump_permanent.7", MET),
    ("pump_permanent", {"trial_side_effects_acceptable": False}, 0, "pump_permanent.8",
     NOT_MET),
    ("pump_permanent", {"trial_patient_accepts": False}, 0, "pump_permanent.9", NOT_MET),
]  # fmt: skip


@pytest.mark.parametrize(
    ("set_id", "changes", "plan", "criterion_id", "expected"),
    BOUNDARIES,
    ids=[f"{c[3]}-{json.dumps(c[1], sort_keys=True)}-plan{c[2]}" for c in BOUNDARIES],
)
def test_threshold_boundary(
    set_id: str, changes: dict[str, Any], plan: int, criterion_id: str, expected: Result
) -> None:
    evaluation = run(set_id, changes, plan=plan)
    assert result_of(evaluation, criterion_id) is expected
    # Every other criterion stays met, so the recommendation is this criterion's.
    others = {c.result for c in evaluation.criteria if c.id != criterion_id}
    assert others == {MET}
    assert evaluation.recommendation is _REC_FOR[expected]


# ---- repeat sessions: the larger of the reported count and the plan's own count


def test_plan_count_wins_when_the_provider_reports_fewer_sessions() -> None:
    evaluation = run(
        "esi", {"prior_sessions_12mo": 1, "prior_relief_percent": 60, "prior_relief_weeks": 4},
        plan=4,
    )  # fmt: skip
    assert result_of(evaluation, "esi.7") is NOT_MET
    assert evaluation.recommendation is REFER


def test_reported_count_wins_when_the_plan_knows_fewer_sessions() -> None:
    evaluation = run(
        "esi", {"prior_sessions_12mo": 4, "prior_relief_percent": 60, "prior_relief_weeks": 4},
        plan=1,
    )  # fmt: skip
    assert result_of(evaluation, "esi.7") is NOT_MET


def test_plan_count_makes_a_repeat_even_when_the_provider_reports_none() -> None:
    evaluation = run("esi", {"prior_sessions_12mo": 0}, plan=1)
    assert result_of(evaluation, "esi.7") is MET
    # a repeat now: the relief after the last session is needed
    assert result_of(evaluation, "esi.8") is UNKNOWN
    assert evaluation.recommendation is NEEDS
    assert evaluation.missing_answers == ("prior_relief_percent", "prior_relief_weeks")

    poor = run("esi", {"prior_sessions_12mo": 0, "prior_relief_percent": 30,
                       "prior_relief_weeks": 8}, plan=1)  # fmt: skip
    assert result_of(poor, "esi.8") is NOT_MET
    assert poor.recommendation is REFER


def test_missing_report_and_no_plan_sessions_leaves_the_count_unknown() -> None:
    evaluation = run("esi", drop=("prior_sessions_12mo",))
    assert result_of(evaluation, "esi.7") is UNKNOWN
    assert result_of(evaluation, "esi.8") is UNKNOWN
    assert evaluation.recommendation is NEEDS
    assert "prior_sessions_12mo" in evaluation.missing_answers


def test_missing_report_the_plan_count_is_a_lower_bound() -> None:
    # The plan's count alone breaks the limit (2 + this one > 2): settled without the report.
    evaluation = run("facet_rfa", {"prior_sessions_12mo": None}, plan=2)
    assert result_of(evaluation, "facet_rfa.3") is NOT_MET
    facts = next(c.facts for c in evaluation.criteria if c.id == "facet_rfa.3")
    assert dict(facts) == {"prior_sessions_12mo": None, "plan_prior_sessions": 2}
    assert evaluation.recommendation is REFER

    # Within the limit by the plan's count, but the member may have had more elsewhere.
    within = run("facet_rfa", {"prior_sessions_12mo": None, "prior_rfa_relief_percent": 60,
                               "prior_rfa_relief_months": 8}, plan=1)  # fmt: skip
    assert result_of(within, "facet_rfa.3") is UNKNOWN
    # ... yet the plan's count proves a repeat, so the repeat rule applies (and is met)
    assert result_of(within, "facet_rfa.4") is MET
    assert within.recommendation is NEEDS
    assert within.missing_answers == ("prior_sessions_12mo",)

    poor = run("facet_rfa", {"prior_sessions_12mo": None, "prior_rfa_relief_percent": 30,
                             "prior_rfa_relief_months": 8}, plan=1)  # fmt: skip
    assert result_of(poor, "facet_rfa.4") is NOT_MET


def test_relief_given_with_unknown_count_is_still_met() -> None:
    # Kleene logic: good relief satisfies the repeat rule whether or not this is a repeat.
    evaluation = run(
        "esi", {"prior_sessions_12mo": None, "prior_relief_percent": 80,
                "prior_relief_weeks": 6},
    )  # fmt: skip
    assert result_of(evaluation, "esi.8") is MET
    assert result_of(evaluation, "esi.7") is UNKNOWN


@pytest.mark.parametrize(
    ("reported", "plan", "expected"),
    [(3, 0, MET), (0, 3, MET), (3, 4, NOT_MET), (4, 3, NOT_MET), (None, 4, NOT_MET)],
)
def test_session_limit_uses_the_larger_count(
    reported: int | None, plan: int, expected: Result
) -> None:
    evaluation = run("facet_mbb", {"prior_sessions_12mo": reported, "prior_relief_percent": 90},
                     plan=plan)  # fmt: skip
    assert result_of(evaluation, "facet_mbb.7") is expected


# ---- facet add-on codes


@pytest.mark.parametrize(
    ("code", "expected"),
    [("64490", MET), ("64491", MET), ("64492", NOT_MET), ("64493", MET), ("64494", MET),
     ("64495", NOT_MET)],
)  # fmt: skip
def test_three_and_four_level_facet_add_on_codes_do_not_meet_criteria(
    code: str, expected: Result
) -> None:
    evaluation = run("facet_mbb", code=code)
    assert result_of(evaluation, "facet_mbb.9") is expected
    assert evaluation.recommendation is _REC_FOR[expected]
    facts = next(c.facts for c in evaluation.criteria if c.id == "facet_mbb.9")
    assert dict(facts) == {"code": code}


# ---- recommendation precedence


def test_not_met_wins_over_unknown_but_the_unknowns_are_kept() -> None:
    evaluation = run("esi", {"pain_duration_weeks": 2, "imaging_guidance": None})
    assert evaluation.recommendation is REFER
    assert [c.id for c in evaluation.not_met] == ["esi.2"]
    assert [c.id for c in evaluation.unknown] == ["esi.5"]
    assert evaluation.missing_answers == ("imaging_guidance",)


def test_empty_answers_need_information() -> None:
    evaluation = evaluate(catalog.ESI, code="64483", answers={})
    assert evaluation.recommendation is NEEDS
    # first session facts unknown; the MBB add-on rule does not exist here, so no not_met
    assert {c.result for c in evaluation.criteria} == {UNKNOWN}
    assert evaluation.missing_answers == tuple(q["key"] for q in catalog.questions_for(
        catalog.ESI))  # fmt: skip


def test_never_a_denial() -> None:
    worst = evaluate(
        catalog.FACET_MBB,
        code="64495",
        answers={"axial_pain": False, "untreated_radiculopathy": True},
        plan_prior_sessions=9,
    )
    assert worst.recommendation is REFER
    assert set(Recommendation) == {MEETS, NEEDS, REFER}


# ---- output shape


def test_as_dict_is_the_api_json_shape() -> None:
    evaluation = run("esi", {"prior_sessions_12mo": 1, "prior_relief_percent": 60,
                             "prior_relief_weeks": 4}, plan=2)  # fmt: skip
    data = json.loads(json.dumps(evaluation.as_dict()))
    assert set(data) == {"criteria_set", "version", "recommendation", "criteria"}
    assert data["criteria_set"] == "esi"
    assert data["version"] == "2026.1"
    assert data["recommendation"] == "meets_criteria"
    assert [c["number"] for c in data["criteria"]] == list(range(1, 9))
    for criterion in data["criteria"]:
        assert set(criterion) == {"id", "number", "text", "result", "facts"}
    assert data["criteria"][2]["facts"] == {
        "conservative_care_weeks": 8,
        "conservative_modalities": ["medications", "physical_therapy"],
    }
    assert data["criteria"][7]["facts"] == {
        "prior_sessions_12mo": 1,
        "prior_relief_percent": 60,
        "prior_relief_weeks": 4,
        "plan_prior_sessions": 2,
    }


def test_facts_are_read_only_and_detached_from_the_answers() -> None:
    answers = {**GOOD["esi"]}
    answers["conservative_modalities"] = ["medications", "physical_therapy"]
    evaluation = evaluate(catalog.ESI, code="64483", answers=answers)
    answers["conservative_modalities"].append("chiropractic")
    facts = evaluation.criteria[2].facts
    assert facts["conservative_modalities"] == ("medications", "physical_therapy")
    with pytest.raises(TypeError):
        facts["conservative_care_weeks"] = 1  # type: ignore[index]


def test_texts_are_the_plain_language_of_the_set() -> None:
    evaluation = run("scs_trial")
    assert [c.text for c in evaluation.criteria] == [
        c["text"] for c in catalog.SCS_TRIAL["criteria"]
    ]


# ---- no criteria set


@pytest.mark.parametrize("code", ["63661", "63662", "63663", "63664", "63688", "99213"])
def test_evaluate_no_set_refers_to_a_physician(code: str) -> None:
    evaluation = evaluate_no_set(code)
    assert evaluation.recommendation is REFER
    assert evaluation.criteria == ()
    assert evaluation.as_dict() == {
        "criteria_set": None,
        "version": None,
        "recommendation": "refer_to_physician",
        "criteria": [],
    }


def test_evaluate_no_set_refuses_a_bad_code() -> None:
    with pytest.raises(CriteriaError) as caught:
        evaluate_no_set("6366")
    assert caught.value.code is CriteriaErrorCode.INVALID_CODE


# ---- input errors: a 400, never a crash


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pain_duration_weeks": "4"}, "pain_duration_weeks"),
        ({"pain_duration_weeks": True}, "pain_duration_weeks"),
        ({"pain_duration_weeks": 4.0}, "pain_duration_weeks"),
        ({"radicular_findings": 1}, "radicular_findings"),
        ({"imaging_guidance": 3}, "imaging_guidance"),
        ({"conservative_modalities": "medications"}, "conservative_modalities"),
        ({"conservative_modalities": [1, 2]}, "conservative_modalities"),
        ({"prior_sessions_12mo": -1}, "prior_sessions_12mo"),
        ({"levels": [1]}, "levels"),
    ],
)
def test_wrong_answer_types_raise_a_field_error(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(CriteriaError) as caught:
        run("esi", changes)
    assert caught.value.code is CriteriaErrorCode.INVALID_ANSWERS
    assert set(caught.value.fields) == {field}


def test_a_wrong_int_list_raises() -> None:
    with pytest.raises(CriteriaError) as caught:
        run("facet_rfa", {"mbb_relief_percents": [80, "90"]})
    assert caught.value.fields == {"mbb_relief_percents": "Give a list of whole numbers."}


def test_answers_of_other_sets_are_ignored() -> None:
    evaluation = run("esi", {"trial_relief_percent": "whatever", "not_a_key": object()})
    assert evaluation.recommendation is MEETS


@pytest.mark.parametrize("plan", [-1, "2", 1.5, True, None])
def test_plan_prior_sessions_must_be_a_count(plan: Any) -> None:
    with pytest.raises(CriteriaError) as caught:
        evaluate(catalog.ESI, code="64483", answers={}, plan_prior_sessions=plan)
    assert caught.value.code is CriteriaErrorCode.INVALID_ARGUMENT


def test_answers_must_be_a_mapping() -> None:
    with pytest.raises(CriteriaError) as caught:
        evaluate(catalog.ESI, code="64483", answers=[("levels", 1)])  # type: ignore[arg-type]
    assert caught.value.code is CriteriaErrorCode.INVALID_ANSWERS


@pytest.mark.parametrize("code", ["6448", "644833", "ABCDE", "", "64483A", None, 64483, "J10400"])
def test_invalid_codes_raise(code: Any) -> None:
    with pytest.raises(CriteriaError) as caught:
        evaluate(catalog.ESI, code=code, answers={})
    assert caught.value.code is CriteriaErrorCode.INVALID_CODE
    assert "code" in caught.value.fields


@pytest.mark.parametrize(("raw", "normal"), [("64483", "64483"), (" j1040 ", "J1040")])
def test_normalize_code(raw: str, normal: str) -> None:
    assert normalize_code(raw) == normal


# ---- data drives behaviour


def test_a_new_version_changes_behaviour_by_data_alone() -> None:
    draft = copy.deepcopy(catalog.ESI)
    draft["version"] = "2026.2"
    draft["criteria"][1]["rule"]["value"] = 6
    answers = {**GOOD["esi"], "pain_duration_weeks": 5}
    assert evaluate(catalog.ESI, code="64483", answers=answers).recommendation is MEETS
    changed = evaluate(draft, code="64483", answers=answers)
    assert changed.version == "2026.2"
    assert result_of(changed, "esi.2") is NOT_MET
    # the published version is untouched
    assert evaluate(catalog.ESI, code="64483", answers=answers).recommendation is MEETS


def test_a_compiled_set_evaluates_like_its_definition() -> None:
    compiled = compile_criteria_set(catalog.PUMP_PERMANENT)
    answers = {**GOOD["pump_permanent"], "trial_relief_percent": 40}
    assert (
        evaluate(compiled, code="62362", answers=answers).as_dict()
        == evaluate(catalog.PUMP_PERMANENT, code="62362", answers=answers).as_dict()
    )


# ---- every operator, on its own


def one(rule: dict[str, Any], answers: dict[str, Any], *, code: str = "64483",
        plan: int = 0) -> Result:  # fmt: skip
    set_def = {
        "id": "t",
        "version": "1",
        "criteria": [{"number": 1, "id": "t.1", "text": "t", "questions": list(rule_keys(rule)),
                      "rule": rule}],
    }  # fmt: skip
    return (
        evaluate(set_def, code=code, answers=answers, plan_prior_sessions=plan).criteria[0].result
    )


OP_CASES: list[tuple[dict[str, Any], dict[str, Any], int, Result]] = [
    ({"op": "is_true", "key": "b"}, {"b": True}, 0, MET),
    ({"op": "is_true", "key": "b"}, {"b": False}, 0, NOT_MET),
    ({"op": "is_true", "key": "b"}, {}, 0, UNKNOWN),
    ({"op": "is_false", "key": "b"}, {"b": False}, 0, MET),
    ({"op": "is_false", "key": "b"}, {"b": True}, 0, NOT_MET),
    ({"op": "is_false", "key": "b"}, {"b": None}, 0, UNKNOWN),
    ({"op": "present", "key": "p"}, {"p": 0}, 0, MET),
    ({"op": "present", "key": "p"}, {"p": False}, 0, MET),
    ({"op": "present", "key": "p"}, {}, 0, UNKNOWN),
    ({"op": "answered", "key": "p"}, {"p": 0}, 0, MET),
    ({"op": "answered", "key": "p"}, {"p": None}, 0, NOT_MET),
    ({"op": "answered", "key": "p"}, {}, 0, NOT_MET),
    ({"op": "gte", "key": "n", "value": 4}, {"n": 4}, 0, MET),
    ({"op": "gte", "key": "n", "value": 4}, {"n": 3}, 0, NOT_MET),
    ({"op": "gte", "key": "n", "value": 4}, {}, 0, UNKNOWN),
    ({"op": "lte", "key": "n", "value": 4}, {"n": 4}, 0, MET),
    ({"op": "lte", "key": "n", "value": 4}, {"n": 5}, 0, NOT_MET),
    ({"op": "lte", "key": "n", "value": 4}, {}, 0, UNKNOWN),
    ({"op": "in", "key": "e", "values": ["a", "b"]}, {"e": "b"}, 0, MET),
    ({"op": "in", "key": "e", "values": ["a", "b"]}, {"e": "c"}, 0, NOT_MET),
    ({"op": "in", "key": "e", "values": ["a", "b"]}, {}, 0, UNKNOWN),
    ({"op": "count_in_gte", "key": "l", "values": ["a", "b", "c"], "value": 2},
     {"l": ["a", "c", "x"]}, 0, MET),
    ({"op": "count_in_gte", "key": "l", "values": ["a", "b", "c"], "value": 2},
     {"l": ["a", "x"]}, 0, NOT_MET),
    ({"op": "count_in_gte", "key": "l", "values": ["a", "b", "c"], "value": 2}, {}, 0,
     UNKNOWN),
    ({"op": "contains_all", "key": "l", "values": ["a", "b"]}, {"l": ["b", "a", "c"]}, 0, MET),
    ({"op": "contains_all", "key": "l", "values": ["a", "b"]}, {"l": ["a"]}, 0, NOT_MET),
    ({"op": "contains_all", "key": "l", "values": ["a", "b"]}, {}, 0, UNKNOWN),
    ({"op": "empty", "key": "l"}, {"l": []}, 0, MET),
    ({"op": "empty", "key": "l"}, {"l": ["a"]}, 0, NOT_MET),
    ({"op": "empty", "key": "l"}, {}, 0, UNKNOWN),
    ({"op": "list_min_len_all_gte", "key": "r", "min_len": 2, "value": 80}, {"r": [80, 99]}, 0,
     MET),
    ({"op": "list_min_len_all_gte", "key": "r", "min_len": 2, "value": 80}, {"r": [99]}, 0,
     NOT_MET),
    ({"op": "list_min_len_all_gte", "key": "r", "min_len": 2, "value": 80}, {"r": [99, 1]}, 0,
     NOT_MET),
    ({"op": "list_min_len_all_gte", "key": "r", "min_len": 2, "value": 80}, {}, 0, UNKNOWN),
    ({"op": "lte_by", "key": "n", "by": "e", "limits": {"a": 2, "b": 1}}, {"e": "a", "n": 2},
     0, MET),
    ({"op": "lte_by", "key": "n", "by": "e", "limits": {"a": 2, "b": 1}}, {"e": "b", "n": 2},
     0, NOT_MET),
    ({"op": "lte_by", "key": "n", "by": "e", "limits": {"a": 2, "b": 1}}, {"e": "z", "n": 0},
     0, NOT_MET),
    ({"op": "lte_by", "key": "n", "by": "e", "limits": {"a": 2, "b": 1}}, {"e": "z"}, 0,
     NOT_MET),
    ({"op": "lte_by", "key": "n", "by": "e", "limits": {"a": 2, "b": 1}}, {"n": 1}, 0,
     UNKNOWN),
    ({"op": "lte_by", "key": "n", "by": "e", "limits": {"a": 2, "b": 1}}, {"e": "a"}, 0,
     UNKNOWN),
    ({"op": "sessions_within", "limit": 2}, {"prior_sessions_12mo": 1}, 0, MET),
    ({"op": "sessions_within", "limit": 2}, {"prior_sessions_12mo": 2}, 0, NOT_MET),
    ({"op": "sessions_within", "limit": 2}, {"prior_sessions_12mo": 0}, 2, NOT_MET),
    ({"op": "sessions_within", "limit": 2}, {"prior_sessions_12mo": 2}, 1, NOT_MET),
    ({"op": "sessions_within", "limit": 2}, {"prior_sessions_12mo": 1}, 1, MET),
    # report missing: the plan's count is a lower bound
    ({"op": "sessions_within", "limit": 2}, {}, 0, UNKNOWN),
    ({"op": "sessions_within", "limit": 2}, {}, 1, UNKNOWN),
    ({"op": "sessions_within", "limit": 2}, {}, 2, NOT_MET),
    ({"op": "is_repeat"}, {"prior_sessions_12mo": 1}, 0, MET),
    ({"op": "is_repeat"}, {"prior_sessions_12mo": 0}, 0, NOT_MET),
    ({"op": "is_repeat"}, {"prior_sessions_12mo": 0}, 1, MET),
    ({"op": "is_repeat"}, {}, 0, UNKNOWN),
    ({"op": "is_repeat"}, {}, 1, MET),
    # all: worst wins; any: best wins (Kleene)
    ({"op": "all", "rules": [{"op": "is_true", "key": "a"}, {"op": "is_true", "key": "b"}]},
     {"a": True, "b": True}, 0, MET),
    ({"op": "all", "rules": [{"op": "is_true", "key": "a"}, {"op": "is_true", "key": "b"}]},
     {"a": True}, 0, UNKNOWN),
    ({"op": "all", "rules": [{"op": "is_true", "key": "a"}, {"op": "is_true", "key": "b"}]},
     {"b": False}, 0, NOT_MET),
    ({"op": "any", "rules": [{"op": "is_true", "key": "a"}, {"op": "is_true", "key": "b"}]},
     {"a": False, "b": True}, 0, MET),
    ({"op": "any", "rules": [{"op": "is_true", "key": "a"}, {"op": "is_true", "key": "b"}]},
     {"b": True}, 0, MET),
    ({"op": "any", "rules": [{"op": "is_true", "key": "a"}, {"op": "is_true", "key": "b"}]},
     {"a": False}, 0, UNKNOWN),
    ({"op": "any", "rules": [{"op": "is_true", "key": "a"}, {"op": "is_true", "key": "b"}]},
     {"a": False, "b": False}, 0, NOT_MET),
    # when: not applicable → met; applies → then; unknown condition → unknown unless then met
    ({"op": "when", "if": {"op": "is_true", "key": "a"}, "then": {"op": "is_true", "key": "b"}},
     {"a": False, "b": False}, 0, MET),
    ({"op": "when", "if": {"op": "is_true", "key": "a"}, "then": {"op": "is_true", "key": "b"}},
     {"a": True, "b": False}, 0, NOT_MET),
    ({"op": "when", "if": {"op": "is_true", "key": "a"}, "then": {"op": "is_true", "key": "b"}},
     {"a": True, "b": True}, 0, MET),
    ({"op": "when", "if": {"op": "is_true", "key": "a"}, "then": {"op": "is_true", "key": "b"}},
     {"a": True}, 0, UNKNOWN),
    ({"op": "when", "if": {"op": "is_true", "key": "a"}, "then": {"op": "is_true", "key": "b"}},
     {"b": False}, 0, UNKNOWN),
    ({"op": "when", "if": {"op": "is_true", "key": "a"}, "then": {"op": "is_true", "key": "b"}},
     {"b": True}, 0, MET),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "answers", "plan", "expected"),
    OP_CASES,
    ids=[f"{i}-{c[0]['op']}" for i, c in enumerate(OP_CASES)],
)
def test_operator(rule: dict[str, Any], answers: dict[str, Any], plan: int,
                  expected: Result) -> None:  # fmt: skip
    assert one(rule, answers, plan=plan) is expected


@pytest.mark.parametrize(
    ("op", "code", "expected"),
    [("code_in", "64492", MET), ("code_in", "64490", NOT_MET),
     ("code_not_in", "64492", NOT_MET), ("code_not_in", "64490", MET)],
)  # fmt: skip
def test_code_operators(op: str, code: str, expected: Result) -> None:
    assert one({"op": op, "values": ["64492", "64495"]}, {}, code=code) is expected


def test_every_operator_is_covered_by_a_test() -> None:
    tested = {rule["op"] for rule, *_ in OP_CASES} | {"code_in", "code_not_in"}
    assert tested == OPS


def test_rule_keys_lists_the_selector_before_the_number() -> None:
    rule = {"op": "lte_by", "key": "levels", "by": "approach", "limits": {"caudal": 1}}
    assert rule_keys(rule) == ("approach", "levels")
    assert rule_keys({"op": "sessions_within", "limit": 4}) == ("prior_sessions_12mo",)
    assert rule_keys({"op": "code_not_in", "values": ["64492"]}) == ()


# ---- malformed set definitions are refused with the path at fault


def _set_with(rule: Any, **criterion: Any) -> dict[str, Any]:
    keys = list(rule_keys(rule)) if isinstance(rule, dict) else []
    return {
        "id": "t",
        "version": "1",
        "criteria": [{"number": 1, "id": "t.1", "text": "t", "questions": keys, "rule": rule,
                      **criterion}],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("set_def", "path"),
    [
        (_set_with({"op": "nope", "key": "a"}), "criteria[0].rule.op"),
        (_set_with({"op": "gte", "key": "a"}), "criteria[0].rule.value"),
        (_set_with({"op": "gte", "key": "a", "value": "4"}), "criteria[0].rule.value"),
        (_set_with({"op": "gte", "key": "a", "value": True}), "criteria[0].rule.value"),
        (_set_with({"op": "gte", "value": 4}), "criteria[0].rule.key"),
        (_set_with({"op": "in", "key": "a", "values": []}), "criteria[0].rule.values"),
        (_set_with({"op": "code_not_in", "values": ["6449"]}), "criteria[0].rule.values"),
        (_set_with({"op": "lte_by", "key": "a", "by": "b", "limits": {"x": "1"}}),
         "criteria[0].rule.limits"),
        (_set_with({"op": "all", "rules": []}), "criteria[0].rule.rules"),
        (_set_with({"op": "when", "if": {"op": "is_repeat"}}), "criteria[0].rule.then"),
        (_set_with("gte"), "criteria[0].rule"),
        (_set_with({"op": "all", "rules": [{"op": "is_true", "key": "a"},
                                           {"op": "gte", "key": "a", "value": 1}]}),
         "criteria[0].rule.rules[1].key"),
        (_set_with({"op": "is_true", "key": "a"}, questions=["b"]), "criteria[0].questions"),
        (_set_with({"op": "is_true", "key": "a"}, questions=[["a"]]), "criteria[0].questions"),
        (_set_with({"op": "is_true", "key": "a"}, number=2), "criteria[0].number"),
        (_set_with({"op": "is_true", "key": "a"}, text=" "), "criteria[0].text"),
        (_set_with({"op": "is_true", "key": "a"}, id=""), "criteria[0].id"),
        ({"id": "t", "version": "1", "criteria": []}, "criteria"),
        ({"id": "", "version": "1", "criteria": []}, "id"),
        ({"id": "t", "criteria": []}, "version"),
    ],
)  # fmt: skip
def test_malformed_sets_are_refused(set_def: dict[str, Any], path: str) -> None:
    with pytest.raises(CriteriaError) as caught:
        compile_criteria_set(set_def)
    assert caught.value.code is CriteriaErrorCode.INVALID_CRITERIA_SET
    assert set(caught.value.fields) == {path}


def test_a_session_count_may_also_be_compared() -> None:
    rule = {"op": "all", "rules": [{"op": "gte", "key": "prior_sessions_12mo", "value": 1},
                                   {"op": "sessions_within", "limit": 3}]}  # fmt: skip
    assert one(rule, {"prior_sessions_12mo": 1}) is MET
    assert one(rule, {"prior_sessions_12mo": 0}) is NOT_MET
    with pytest.raises(CriteriaError) as caught:
        one(rule, {"prior_sessions_12mo": -1})
    assert caught.value.fields == {"prior_sessions_12mo": "Enter a whole number, 0 or more."}


def test_duplicate_criterion_ids_are_refused() -> None:
    set_def = _set_with({"op": "is_true", "key": "a"})
    set_def["criteria"].append({**set_def["criteria"][0], "number": 2})
    with pytest.raises(CriteriaError) as caught:
        compile_criteria_set(set_def)
    assert set(caught.value.fields) == {"criteria[1].id"}


# ---- issue 11 row 13 (PRODUCT §6), criteria version 2026.2


def test_a_complete_second_mbb_request_meets_criteria_from_mbb_relief_percents() -> None:
    """The first block's relief is in `mbb_relief_percents` (one fact, one key); 2026.1 read
    `prior_relief_percent` and asked for information the request had already given."""
    evaluation = run("facet_mbb", {"prior_sessions_12mo": 1, "mbb_relief_percents": [85]})
    assert evaluation.version == "2026.2"
    assert result_of(evaluation, "facet_mbb.8") is MET
    assert evaluation.recommendation is MEETS
    assert "prior_relief_percent" not in evaluation.missing_answers
    old = evaluate(
        catalog.criteria_set_effective_on("facet_mbb", date(2026, 6, 1)),
        code="64490",
        answers={**GOOD["facet_mbb"], "prior_sessions_12mo": 1, "mbb_relief_percents": [85]},
        plan_prior_sessions=0,
    )
    assert old.version == "2026.1" and old.recommendation is NEEDS  # the defect, kept as published


def test_a_second_mbb_after_a_first_below_80_percent_goes_to_a_physician() -> None:
    evaluation = run("facet_mbb", {"prior_sessions_12mo": 1, "mbb_relief_percents": [60]})
    assert result_of(evaluation, "facet_mbb.8") is NOT_MET
    assert evaluation.recommendation is REFER


def test_a_repeat_rfa_over_12_months_after_the_last_with_20_percent_relief_does_not_meet() -> None:
    """PRODUCT §6: any earlier RFA in this region, however long ago, needs >= 50 % relief
    lasting >= 6 months. 2026.1 only counted the last 12 months and said meets_criteria."""
    evaluation = run(
        "facet_rfa",
        {"prior_sessions_12mo": 0, "prior_rfa_relief_percent": 20, "prior_rfa_relief_months": 2},
    )
    assert result_of(evaluation, "facet_rfa.4") is NOT_MET
    assert evaluation.recommendation is REFER
    good = run(
        "facet_rfa",
        {"prior_sessions_12mo": 0, "prior_rfa_relief_percent": 70, "prior_rfa_relief_months": 9},
    )
    assert good.recommendation is MEETS
    # A first RFA (relief left blank, no session in 12 months) is not a repeat.
    assert run("facet_rfa").recommendation is MEETS
