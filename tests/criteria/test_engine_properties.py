"""Properties of the criteria engine over random questionnaires (hypothesis).

1. An evaluation with any ``unknown`` criterion never recommends ``meets_criteria``.
2. Making one fact worse (less relief, fewer weeks, more prior sessions, a modality removed,
   a contraindication added, a good answer flipped) never turns a criterion from ``not_met``
   into ``met`` - indeed never raises any criterion's result - and never improves the
   recommendation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from criteria import catalog
from criteria.engine import Evaluation, Recommendation, Result, evaluate

_RESULT_RANK = {Result.NOT_MET: 0, Result.UNKNOWN: 1, Result.MET: 2}
_REC_RANK = {
    Recommendation.REFER_TO_PHYSICIAN: 0,
    Recommendation.NEEDS_INFORMATION: 1,
    Recommendation.MEETS_CRITERIA: 2,
}
# A code for each set; facet MBB also draws the add-on codes.
_CODES = {
    "esi": ["62321", "64479", "64483", "64484"],
    "facet_mbb": ["64490", "64492", "64493", "64495"],
    "facet_rfa": ["64633", "64635"],
    "scs_trial": ["63650"],
    "scs_permanent": ["63650", "63655", "63685"],
    "pump_trial": ["62324", "62322"],
    "pump_permanent": ["62350", "62362"],
}
# Keep numbers near the thresholds so boundaries are exercised often.
_NUMBER_CAP = 60


def _value(question: dict[str, Any]) -> st.SearchStrategy[Any]:
    type_ = question["type"]
    low = question["min"] if question.get("min") is not None else 0
    high = question["max"] if question.get("max") is not None else _NUMBER_CAP
    if type_ == "int":
        return st.integers(min_value=low, max_value=high)
    if type_ == "bool":
        return st.booleans()
    if type_ == "enum":
        return st.sampled_from(question["choices"])
    if type_ == "list":
        return st.lists(st.sampled_from(question["choices"]), unique=True)
    return st.lists(st.integers(min_value=low, max_value=high), max_size=4)


def _answers_for(set_def: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    keys = [q["key"] for q in catalog.questions_for(set_def)]
    # Each answer is given most of the time; None (unanswered) or left out otherwise.
    return st.fixed_dictionaries(
        {},
        optional={key: st.none() | _value(catalog.QUESTIONS[key]) for key in keys},
    )


@st.composite
def requests(draw: st.DrawFn) -> tuple[dict[str, Any], str, dict[str, Any], int]:
    set_def = draw(st.sampled_from(catalog.SHIPPED_SETS))
    code = draw(st.sampled_from(_CODES[set_def["id"]]))
    answers = draw(_answers_for(set_def))
    plan = draw(st.integers(min_value=0, max_value=5))
    return set_def, code, answers, plan


_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(requests())
def test_generated_answers_are_valid(request: tuple[dict[str, Any], str, dict, int]) -> None:
    _, _, answers, _ = request
    assert catalog.validate_answers(answers) == {}


@_SETTINGS
@given(requests())
def test_any_unknown_never_meets_criteria(request: tuple[dict[str, Any], str, dict, int]) -> None:
    set_def, code, answers, plan = request
    evaluation = evaluate(set_def, code=code, answers=answers, plan_prior_sessions=plan)
    results = {c.result for c in evaluation.criteria}
    if Result.UNKNOWN in results:
        assert evaluation.recommendation is not Recommendation.MEETS_CRITERIA
    # and the recommendation is exactly the worst criterion's
    expected = (
        Recommendation.REFER_TO_PHYSICIAN
        if Result.NOT_MET in results
        else Recommendation.NEEDS_INFORMATION
        if Result.UNKNOWN in results
        else Recommendation.MEETS_CRITERIA
    )
    assert evaluation.recommendation is expected


# ---- worsening one fact


def _lower(amount: int) -> Callable[[Any], Any]:
    def worse(value: Any) -> Any:
        return max(0, value - amount) if isinstance(value, int) else value

    return worse


def _higher(amount: int) -> Callable[[Any], Any]:
    def worse(value: Any) -> Any:
        return value + amount if isinstance(value, int) else value

    return worse


# key -> strategy of functions that make that answer no better for the member's request.
_HIGHER_IS_BETTER = (
    "pain_duration_weeks",
    "conservative_care_weeks",
    "prior_relief_percent",
    "prior_relief_weeks",
    "prior_rfa_relief_percent",
    "prior_rfa_relief_months",
    "trial_relief_percent",
    "life_expectancy_months",
)
_GOOD_TRUE = (
    "radicular_findings",
    "axial_pain",
    "function_scale_documented",
    "psych_evaluation_cleared",
    "trial_side_effects_acceptable",
    "trial_patient_accepts",
    "specialist_confirms_alternatives_failed",
)
_GOOD_FALSE = ("untreated_radiculopathy", "untreated_substance_use_disorder")


@st.composite
def worsening(draw: st.DrawFn, key: str, value: Any) -> Any:
    """A worse value for ``key`` than ``value`` (or the same, where nothing is worse)."""
    if key in _HIGHER_IS_BETTER:
        return _lower(draw(st.integers(min_value=1, max_value=30)))(value)
    if key in ("prior_sessions_12mo", "levels"):
        return _higher(draw(st.integers(min_value=1, max_value=4)))(value)
    if key in _GOOD_TRUE:
        return False
    if key in _GOOD_FALSE:
        return True
    if key == "conservative_modalities":
        if not value:
            return value
        dropped = draw(st.sampled_from(value))
        return [m for m in value if m != dropped]
    if key == "contraindications":
        return sorted({*value, draw(st.sampled_from(catalog.CONTRAINDICATIONS))})
    if key == "mbb_relief_percents":
        if not value:
            return value
        index = draw(st.integers(min_value=0, max_value=len(value) - 1))
        lowered = list(value)
        lowered[index] = max(0, lowered[index] - draw(st.integers(min_value=1, max_value=40)))
        return lowered
    if key == "imaging_guidance":
        return "none"
    return value  # pain_score, approach, spinal_region, pain_origin: no "worse" value


def _assert_no_better(before: Evaluation, after: Evaluation) -> None:
    for old, new in zip(before.criteria, after.criteria, strict=True):
        assert old.id == new.id
        assert not (old.result is Result.NOT_MET and new.result is Result.MET), old.id
        assert _RESULT_RANK[new.result] <= _RESULT_RANK[old.result], old.id
    assert _REC_RANK[after.recommendation] <= _REC_RANK[before.recommendation]


@_SETTINGS
@given(requests(), st.data())
def test_a_worse_fact_never_helps(
    request: tuple[dict[str, Any], str, dict[str, Any], int], data: st.DataObject
) -> None:
    set_def, code, answers, plan = request
    given_keys = sorted(k for k, v in answers.items() if v is not None)
    if not given_keys:
        return
    key = data.draw(st.sampled_from(given_keys))
    worse = {**answers, key: data.draw(worsening(key, answers[key]))}
    before = evaluate(set_def, code=code, answers=answers, plan_prior_sessions=plan)
    after = evaluate(set_def, code=code, answers=worse, plan_prior_sessions=plan)
    _assert_no_better(before, after)


@_SETTINGS
@given(requests(), st.integers(min_value=1, max_value=4))
def test_more_plan_sessions_never_help(
    request: tuple[dict[str, Any], str, dict[str, Any], int], extra: int
) -> None:
    set_def, code, answers, plan = request
    before = evaluate(set_def, code=code, answers=answers, plan_prior_sessions=plan)
    after = evaluate(set_def, code=code, answers=answers, plan_prior_sessions=plan + extra)
    _assert_no_better(before, after)


@_SETTINGS
@given(requests())
def test_evaluation_is_deterministic_and_json_ready(
    request: tuple[dict[str, Any], str, dict[str, Any], int],
) -> None:
    import json

    set_def, code, answers, plan = request
    first = evaluate(set_def, code=code, answers=answers, plan_prior_sessions=plan)
    second = evaluate(set_def, code=code, answers=dict(answers), plan_prior_sessions=plan)
    assert first == second
    assert json.loads(json.dumps(first.as_dict())) == first.as_dict()
