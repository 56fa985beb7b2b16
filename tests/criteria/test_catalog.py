"""The shipped criteria sets, the question catalogue and the code map (PRODUCT §5, §6)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import criteria.migrations
from criteria import catalog
from criteria.engine import CriteriaError, CriteriaErrorCode, compile_criteria_set, rule_keys

SET_IDS = ["esi", "facet_mbb", "facet_rfa", "scs_trial", "scs_permanent", "pump_trial",
           "pump_permanent"]  # fmt: skip


def thresholds(rule: Any) -> list[tuple[str, str, str, int]]:
    """Every number in a rule, as (op, key or selector value, parameter, number)."""
    found: list[tuple[str, str, str, int]] = []
    if isinstance(rule, dict):
        op = rule.get("op", "")
        for param in ("value", "limit", "min_len"):
            if isinstance(rule.get(param), int):
                found.append((op, rule.get("key", ""), param, rule[param]))
        for choice, limit in (rule.get("limits") or {}).items():
            found.append((op, rule["key"], choice, limit))
        for name in ("rules", "if", "then"):
            child = rule.get(name)
            for item in child if isinstance(child, list) else [child]:
                found.extend(thresholds(item))
    return found


# PRODUCT §6, number by number. A change here is a new criteria version, never a quiet edit.
EXPECTED_THRESHOLDS: dict[str, list[tuple[str, str, str, int]]] = {
    "esi.1": [],
    "esi.2": [("gte", "pain_duration_weeks", "value", 4)],
    "esi.3": [("gte", "conservative_care_weeks", "value", 4),
              ("count_in_gte", "conservative_modalities", "value", 2)],
    "esi.4": [],
    "esi.5": [],
    "esi.6": [("lte_by", "levels", "transforaminal", 2), ("lte_by", "levels", "interlaminar", 1),
              ("lte_by", "levels", "caudal", 1)],
    "esi.7": [("sessions_within", "", "limit", 4)],
    "esi.8": [("gte", "prior_relief_percent", "value", 50),
              ("gte", "prior_relief_weeks", "value", 3)],
    "facet_mbb.1": [],
    "facet_mbb.2": [],
    "facet_mbb.3": [("gte", "pain_duration_weeks", "value", 12)],
    "facet_mbb.4": [("gte", "conservative_care_weeks", "value", 12)],
    "facet_mbb.5": [],
    "facet_mbb.6": [],
    "facet_mbb.7": [("sessions_within", "", "limit", 4)],
    # 2026.2: read from the list of each block's relief (PRODUCT §6, one fact, one key)
    "facet_mbb.8": [("list_min_len_all_gte", "mbb_relief_percents", "value", 80),
                    ("list_min_len_all_gte", "mbb_relief_percents", "min_len", 1)],
    "facet_mbb.9": [],
    "facet_rfa.1": [("list_min_len_all_gte", "mbb_relief_percents", "value", 80),
                    ("list_min_len_all_gte", "mbb_relief_percents", "min_len", 2)],
    "facet_rfa.2": [],
    "facet_rfa.3": [("sessions_within", "", "limit", 2)],
    "facet_rfa.4": [("gte", "prior_rfa_relief_percent", "value", 50),
                    ("gte", "prior_rfa_relief_months", "value", 6)],
    "scs_trial.1": [("gte", "pain_duration_weeks", "value", 26)],
    "scs_trial.2": [("gte", "conservative_care_weeks", "value", 26)],
    "scs_trial.3": [],
    "scs_trial.4": [],
    "scs_trial.5": [],
    "scs_permanent.1": [("gte", "pain_duration_weeks", "value", 26)],
    "scs_permanent.2": [("gte", "conservative_care_weeks", "value", 26)],
    "scs_permanent.3": [],
    "scs_permanent.4": [],
    "scs_permanent.5": [],
    "scs_permanent.6": [("gte", "trial_relief_percent", "value", 50)],
    "scs_permanent.7": [],
    "scs_permanent.8": [],
    "pump_trial.1": [("gte", "life_expectancy_months", "value", 3)],
    "pump_trial.2": [],
    "pump_trial.3": [],
    "pump_trial.4": [("gte", "pain_duration_weeks", "value", 26)],
    "pump_trial.5": [("gte", "conservative_care_weeks", "value", 26)],
    "pump_trial.6": [],
    "pump_permanent.1": [("gte", "life_expectancy_months", "value", 3)],
    "pump_permanent.2": [],
    "pump_permanent.3": [],
    "pump_permanent.4": [("gte", "pain_duration_weeks", "value", 26)],
    "pump_permanent.5": [("gte", "conservative_care_weeks", "value", 26)],
    "pump_permanent.6": [],
    "pump_permanent.7": [("gte", "trial_relief_percent", "value", 50)],
    "pump_permanent.8": [],
    "pump_permanent.9": [],
}  # fmt: skip


def all_criteria() -> list[dict[str, Any]]:
    """The criteria of the newest version of each set."""
    return [c for s in catalog.CRITERIA_SETS.values() for c in s["criteria"]]


# ---- the sets


# Version 2026.2 revises two sets (issue 11 row 13); the others stay at 2026.1.
REVISED_2026_2 = ["facet_mbb", "facet_rfa"]


def test_the_seven_sets_of_product_6_ship() -> None:
    assert [s["id"] for s in catalog.SHIPPED_SETS] == SET_IDS + REVISED_2026_2
    assert list(catalog.CRITERIA_SETS) == SET_IDS
    assert {s["id"]: s["version"] for s in catalog.CRITERIA_SETS.values()} == {
        set_id: "2026.2" if set_id in REVISED_2026_2 else "2026.1" for set_id in SET_IDS
    }


@pytest.mark.parametrize(
    "set_def",
    catalog.SHIPPED_SETS,
    ids=[f"{s['id']}-{s['version']}" for s in catalog.SHIPPED_SETS],
)
def test_set_header(set_def: dict[str, Any]) -> None:
    assert (set_def["version"], set_def["effective_from"]) in {
        ("2026.1", "2026-01-01"),
        ("2026.2", "2026-12-01"),
    }
    assert set_def["effective_to"] is None
    assert set_def["title"]
    assert set_def["sources"]
    assert set_def["family"] in catalog.FAMILIES
    assert set_def["auto_approve"] is False
    assert set_def["disclosure"] == catalog.DISCLOSURE
    numbers = [c["number"] for c in set_def["criteria"]]
    assert numbers == list(range(1, len(numbers) + 1))
    assert [c["id"] for c in set_def["criteria"]] == [f"{set_def['id']}.{n}" for n in numbers]
    compile_criteria_set(set_def)  # well-formed


def test_sets_are_plain_json() -> None:
    for set_def in catalog.SHIPPED_SETS:
        assert json.loads(json.dumps(set_def)) == set_def


def test_every_threshold_is_exactly_product_6() -> None:
    actual = {c["id"]: thresholds(c["rule"]) for c in all_criteria()}
    assert {k: sorted(v) for k, v in actual.items()} == {
        k: sorted(v) for k, v in EXPECTED_THRESHOLDS.items()
    }


def test_criterion_texts_state_their_numbers() -> None:
    # A member reading the letter sees the same number the engine applied.
    for criterion in all_criteria():
        for _, _, param, number in thresholds(criterion["rule"]):
            assert str(number) in criterion["text"], (criterion["id"], param)
            assert str(number) in criterion["text_es"], (criterion["id"], param)


def test_criterion_texts_are_plain_and_bilingual() -> None:
    for criterion in all_criteria():
        for text in (criterion["text"], criterion["text_es"]):
            assert text.strip() == text and text.endswith(".")
            assert "{" not in text
        assert criterion["text"] != criterion["text_es"]


def test_questions_are_the_keys_each_rule_reads() -> None:
    for criterion in all_criteria():
        assert criterion["questions"] == list(rule_keys(criterion["rule"]))
        assert set(criterion["questions"]) <= set(catalog.QUESTIONS)


@pytest.mark.parametrize("set_id", ["esi", "facet_mbb", "facet_rfa"])
def test_image_guidance_is_fluoroscopy_or_ct(set_id: str) -> None:
    rules = [c["rule"] for c in catalog.CRITERIA_SETS[set_id]["criteria"]]
    assert {"op": "in", "key": "imaging_guidance", "values": ["fluoroscopy", "ct"]} in rules


def test_esi_counts_any_two_of_the_five_modalities() -> None:
    rule = catalog.ESI["criteria"][2]["rule"]["rules"][1]
    assert rule["values"] == list(catalog.MODALITIES)


@pytest.mark.parametrize("set_id", ["scs_trial", "scs_permanent"])
def test_scs_needs_medications_and_physical_therapy(set_id: str) -> None:
    rule = catalog.CRITERIA_SETS[set_id]["criteria"][1]["rule"]["rules"][1]
    assert rule == {"op": "contains_all", "key": "conservative_modalities",
                    "values": ["medications", "physical_therapy"]}  # fmt: skip


def test_facet_add_on_codes_are_excluded_by_data() -> None:
    assert catalog.FACET_MBB["criteria"][8]["rule"] == {
        "op": "code_not_in",
        "values": ["64492", "64495"],
    }


@pytest.mark.parametrize("set_id", ["pump_trial", "pump_permanent"])
def test_pump_chronicity_and_psych_apply_to_non_malignant_pain_only(set_id: str) -> None:
    for criterion in catalog.CRITERIA_SETS[set_id]["criteria"][3:6]:
        assert criterion["rule"]["if"] == {
            "op": "in",
            "key": "pain_origin",
            "values": ["non_malignant"],
        }


@pytest.mark.parametrize(("trial", "permanent"), [("scs_trial", "scs_permanent"),
                                                  ("pump_trial", "pump_permanent")])  # fmt: skip
def test_permanent_sets_carry_every_trial_criterion(trial: str, permanent: str) -> None:
    trial_rules = [c["rule"] for c in catalog.CRITERIA_SETS[trial]["criteria"]]
    permanent_rules = [c["rule"] for c in catalog.CRITERIA_SETS[permanent]["criteria"]]
    assert permanent_rules[: len(trial_rules)] == trial_rules
    assert [r.get("key") for r in permanent_rules[len(trial_rules) :]] == [
        "trial_relief_percent",
        "trial_side_effects_acceptable",
        "trial_patient_accepts",
    ]


def test_disclosure_is_english_and_spanish() -> None:
    assert set(catalog.DISCLOSURE) == {"en", "es"}
    english = catalog.DISCLOSURE["en"]
    for words in ("guidelines", "authorize", "modify", "deny", "similar illnesses", "needs",
                  "benefits"):  # fmt: skip
        assert words in english
    spanish = catalog.DISCLOSURE["es"]
    for words in ("pautas", "autoriza", "modifica", "niega", "enfermedades", "beneficios"):
        assert words in spanish


def test_get_criteria_set() -> None:
    assert catalog.get_criteria_set("esi") is catalog.ESI
    with pytest.raises(CriteriaError) as caught:
        catalog.get_criteria_set("nope")
    assert caught.value.code is CriteriaErrorCode.UNKNOWN_CRITERIA_SET


@pytest.mark.parametrize(
    ("on", "found"),
    [(date(2025, 12, 31), False), (date(2026, 1, 1), True), (date(2030, 6, 1), True)],
)
def test_criteria_set_effective_on(on: date, found: bool) -> None:
    result = catalog.criteria_set_effective_on("esi", on)
    assert (result is catalog.ESI) if found else (result is None)


# ---- question catalogue

PRODUCT_KEYS = {
    "pain_duration_weeks": "int", "pain_score": "int", "function_scale_documented": "bool",
    "conservative_care_weeks": "int", "conservative_modalities": "list",
    "radicular_findings": "bool", "axial_pain": "bool", "untreated_radiculopathy": "bool",
    "imaging_guidance": "enum", "approach": "enum", "levels": "int", "spinal_region": "enum",
    "prior_sessions_12mo": "int", "prior_relief_percent": "int", "prior_relief_weeks": "int",
    "mbb_relief_percents": "int_list", "prior_rfa_relief_percent": "int",
    "prior_rfa_relief_months": "int", "psych_evaluation_cleared": "bool",
    "untreated_substance_use_disorder": "bool", "trial_relief_percent": "int",
    "trial_side_effects_acceptable": "bool", "trial_patient_accepts": "bool",
    "pain_origin": "enum", "life_expectancy_months": "int", "contraindications": "list",
    "specialist_confirms_alternatives_failed": "bool",
}  # fmt: skip
PERCENT_KEYS = {"prior_relief_percent", "mbb_relief_percents", "prior_rfa_relief_percent",
                "trial_relief_percent"}  # fmt: skip


def test_one_question_per_canonical_key() -> None:
    assert {k: q["type"] for k, q in catalog.QUESTIONS.items()} == PRODUCT_KEYS
    for key, question in catalog.QUESTIONS.items():
        assert question["key"] == key
        assert question["label"].endswith("?")
        assert question["help_text"]
    assert json.loads(json.dumps(catalog.QUESTIONS)) == catalog.QUESTIONS


def test_question_ranges() -> None:
    for key, question in catalog.QUESTIONS.items():
        if question["type"] not in ("int", "int_list"):
            assert "min" not in question and "max" not in question
        elif key == "pain_score":
            assert (question["min"], question["max"]) == (0, 10)
        elif key in PERCENT_KEYS:
            assert (question["min"], question["max"]) == (0, 100)
        elif key == "levels":
            assert (question["min"], question["max"]) == (1, None)
        else:
            assert (question["min"], question["max"]) == (0, None)


def test_question_choices() -> None:
    choices = {k: q["choices"] for k, q in catalog.QUESTIONS.items() if "choices" in q}
    assert choices == {
        "conservative_modalities": ["medications", "physical_therapy", "activity_modification",
                                    "home_exercise", "chiropractic"],
        "imaging_guidance": ["fluoroscopy", "ct", "ultrasound", "none"],
        "approach": ["interlaminar", "caudal", "transforaminal"],
        "spinal_region": ["cervical", "thoracic", "lumbar", "sacral"],
        "pain_origin": ["malignant", "non_malignant"],
        "contraindications": ["infection", "coagulopathy", "body_size", "other"],
    }  # fmt: skip
    for question in catalog.QUESTIONS.values():
        if "choices" in question:
            assert set(question["choice_labels"]) == set(question["choices"])


def test_questions_for_lists_each_needed_key_once_in_criterion_order() -> None:
    keys = {s["id"]: [q["key"] for q in catalog.questions_for(s)] for s in catalog.SHIPPED_SETS}
    assert keys == {
        "esi": ["radicular_findings", "pain_duration_weeks", "conservative_care_weeks",
                "conservative_modalities", "pain_score", "function_scale_documented",
                "imaging_guidance", "approach", "levels", "prior_sessions_12mo",
                "prior_relief_percent", "prior_relief_weeks"],
        "facet_mbb": ["axial_pain", "untreated_radiculopathy", "pain_duration_weeks",
                      "conservative_care_weeks", "pain_score", "function_scale_documented",
                      "imaging_guidance", "prior_sessions_12mo", "mbb_relief_percents"],
        "facet_rfa": ["mbb_relief_percents", "imaging_guidance", "prior_sessions_12mo",
                      "prior_rfa_relief_percent", "prior_rfa_relief_months"],
        "scs_trial": ["pain_duration_weeks", "conservative_care_weeks",
                      "conservative_modalities", "psych_evaluation_cleared",
                      "untreated_substance_use_disorder", "contraindications"],
        "scs_permanent": ["pain_duration_weeks", "conservative_care_weeks",
                          "conservative_modalities", "psych_evaluation_cleared",
                          "untreated_substance_use_disorder", "contraindications",
                          "trial_relief_percent", "trial_side_effects_acceptable",
                          "trial_patient_accepts"],
        "pump_trial": ["life_expectancy_months", "specialist_confirms_alternatives_failed",
                       "contraindications", "pain_origin", "pain_duration_weeks",
                       "conservative_care_weeks", "psych_evaluation_cleared"],
        "pump_permanent": ["life_expectancy_months", "specialist_confirms_alternatives_failed",
                           "contraindications", "pain_origin", "pain_duration_weeks",
                           "conservative_care_weeks", "psych_evaluation_cleared",
                           "trial_relief_percent", "trial_side_effects_acceptable",
                           "trial_patient_accepts"],
    }  # fmt: skip


def test_questions_for_returns_copies() -> None:
    questions = catalog.questions_for(catalog.ESI)
    questions[0]["label"] = "changed"
    assert catalog.QUESTIONS["radicular_findings"]["label"] != "changed"


# ---- validate_answers


def test_valid_answers_have_no_errors() -> None:
    answers = {
        "pain_duration_weeks": 0,
        "pain_score": 10,
        "function_scale_documented": False,
        "conservative_modalities": ["medications", "chiropractic"],
        "imaging_guidance": "ultrasound",
        "levels": 1,
        "mbb_relief_percents": [0, 100],
        "contraindications": [],
        "trial_relief_percent": None,  # unanswered is allowed
        "prior_sessions_12mo": 0,
    }
    assert catalog.validate_answers(answers) == {}
    assert catalog.validate_answers({}) == {}


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"pain_level": 5}, "pain_level", "Unknown answer key."),
        ({"pain_score": 11}, "pain_score", "Must be 0 to 10."),
        ({"pain_score": -1}, "pain_score", "Must be 0 to 10."),
        ({"pain_score": "7"}, "pain_score", "Enter a whole number."),
        ({"pain_score": 7.5}, "pain_score", "Enter a whole number."),
        ({"pain_duration_weeks": True}, "pain_duration_weeks", "Enter a whole number."),
        ({"pain_duration_weeks": -1}, "pain_duration_weeks", "Must be at least 0."),
        ({"levels": 0}, "levels", "Must be at least 1."),
        ({"prior_relief_percent": 101}, "prior_relief_percent", "Must be 0 to 100."),
        ({"trial_relief_percent": -5}, "trial_relief_percent", "Must be 0 to 100."),
        ({"prior_sessions_12mo": -1}, "prior_sessions_12mo", "Must be at least 0."),
        ({"radicular_findings": "yes"}, "radicular_findings", "Answer true or false."),
        ({"radicular_findings": 1}, "radicular_findings", "Answer true or false."),
        ({"imaging_guidance": "mri"}, "imaging_guidance",
         "Choose one of: fluoroscopy, ct, ultrasound, none."),
        ({"approach": ["caudal"]}, "approach",
         "Choose one of: interlaminar, caudal, transforaminal."),
        ({"conservative_modalities": "medications"}, "conservative_modalities",
         "Give a list of the listed options."),
        ({"conservative_modalities": ["yoga"]}, "conservative_modalities",
         "'yoga' is not one of: medications, physical_therapy, activity_modification, "
         "home_exercise, chiropractic."),
        ({"conservative_modalities": ["medications", "medications"]}, "conservative_modalities",
         "List each option once."),
        ({"contraindications": ["none"]}, "contraindications",
         "'none' is not one of: infection, coagulopathy, body_size, other."),
        ({"mbb_relief_percents": 80}, "mbb_relief_percents", "Give a list of whole numbers."),
        ({"mbb_relief_percents": [80, "90"]}, "mbb_relief_percents",
         "Give a list of whole numbers."),
        ({"mbb_relief_percents": [80, 120]}, "mbb_relief_percents",
         "Each value: must be 0 to 100."),
    ],
)  # fmt: skip
def test_validate_answers_errors(answers: dict[str, Any], field: str, message: str) -> None:
    assert catalog.validate_answers(answers) == {field: message}


def test_validate_answers_reports_every_field() -> None:
    errors = catalog.validate_answers({"pain_score": 12, "levels": 0, "x": 1, "axial_pain": None})
    assert set(errors) == {"pain_score", "levels", "x"}


@pytest.mark.parametrize("answers", [None, [], "pain_score=3", 3])
def test_validate_answers_needs_an_object(answers: Any) -> None:
    assert catalog.validate_answers(answers) == {
        "answers": "Answers must be an object of answer keys and values."
    }


# ---- code map (PRODUCT §5)

FAMILY_OF = {
    **{c: "esi" for c in ("62320", "62321", "62322", "62323", "64479", "64480", "64483",
                          "64484")},
    **{str(c): "facet_mbb" for c in range(64490, 64496)},
    **{str(c): "facet_rfa" for c in range(64633, 64637)},
    **{c: "scs" for c in ("63650", "63655", "63685", "63661", "63662", "63663", "63664",
                          "63688")},
    **{str(c): "pump" for c in (*range(62324, 62328), 62350, 62351, 62360, 62361, 62362,
                                *range(62367, 62371), 95990, 95991, 62355, 62365)},
}  # fmt: skip
SET_OF = {
    **{c: "esi" for c in ("62320", "62321", "62322", "62323", "64479", "64480", "64483",
                          "64484")},
    **{str(c): "facet_mbb" for c in range(64490, 64496)},
    **{str(c): "facet_rfa" for c in range(64633, 64637)},
    "63650": "scs_trial", "63655": "scs_permanent", "63685": "scs_permanent",
    **{c: None for c in ("63661", "63662", "63663", "63664", "63688")},
    **{str(c): "pump_trial" for c in range(62324, 62328)},
    **{c: "pump_permanent" for c in ("62350", "62351", "62360", "62361", "62362")},
    **{str(c): None for c in (*range(62367, 62371), 95990, 95991, 62355, 62365)},
}  # fmt: skip


@pytest.mark.parametrize(("code", "family"), sorted(FAMILY_OF.items()))
def test_family_for_code(code: str, family: str) -> None:
    assert catalog.family_for_code(code) == family


@pytest.mark.parametrize(("code", "set_id"), sorted(SET_OF.items()))
def test_default_criteria_set_for_code(code: str, set_id: str | None) -> None:
    assert catalog.criteria_set_for(code) == set_id


@pytest.mark.parametrize("code", ["99213", "J1040", "64481", "62319", "62328", "63651", "62352"])
def test_codes_outside_the_catalogue(code: str) -> None:
    assert catalog.family_for_code(code) is None
    assert catalog.criteria_set_for(code) is None


@pytest.mark.parametrize("code", ["62322", "62323"])
def test_single_shot_injection_is_an_esi_unless_the_pump_trial_is_chosen(code: str) -> None:
    assert catalog.criteria_set_for(code) == "esi"
    assert catalog.criteria_set_for(code, "esi") == "esi"
    assert catalog.criteria_set_for(code, "pump_trial") == "pump_trial"
    assert catalog.family_for_code(code, chosen_set="pump_trial") == "pump"
    for wrong in ("pump_permanent", "scs_trial", "facet_mbb"):
        with pytest.raises(CriteriaError) as caught:
            catalog.criteria_set_for(code, wrong)
        assert caught.value.code is CriteriaErrorCode.CRITERIA_SET_NOT_FOR_CODE
        assert "criteria_set" in caught.value.fields


@pytest.mark.parametrize("code", ["62320", "62321", "64483"])
def test_pump_trial_cannot_be_chosen_for_other_esi_codes(code: str) -> None:
    with pytest.raises(CriteriaError) as caught:
        catalog.criteria_set_for(code, "pump_trial")
    assert caught.value.code is CriteriaErrorCode.CRITERIA_SET_NOT_FOR_CODE


def test_scs_electrodes_are_a_trial_unless_permanent_is_chosen() -> None:
    assert catalog.criteria_set_for("63650") == "scs_trial"
    assert catalog.criteria_set_for("63650", "scs_trial") == "scs_trial"
    assert catalog.criteria_set_for("63650", "scs_permanent") == "scs_permanent"
    assert catalog.criteria_set_for("63685", "scs_permanent") == "scs_permanent"
    for code in ("63655", "63685"):
        with pytest.raises(CriteriaError):
            catalog.criteria_set_for(code, "scs_trial")


@pytest.mark.parametrize(("code", "chosen"), [("63662", "scs_permanent"), ("62370", "pump_trial"),
                                              ("99213", "esi")])  # fmt: skip
def test_no_set_codes_refuse_a_chosen_set(code: str, chosen: str) -> None:
    with pytest.raises(CriteriaError) as caught:
        catalog.criteria_set_for(code, chosen)
    assert caught.value.code is CriteriaErrorCode.CRITERIA_SET_NOT_FOR_CODE


def test_an_unknown_chosen_set_is_refused() -> None:
    with pytest.raises(CriteriaError) as caught:
        catalog.criteria_set_for("62322", "pump")
    assert caught.value.code is CriteriaErrorCode.UNKNOWN_CRITERIA_SET


@pytest.mark.parametrize("code", ["6232", "623220", "A123", "AB123", "", " ", None, 62322])
def test_invalid_codes_are_refused(code: Any) -> None:
    for call in (catalog.criteria_set_for, catalog.family_for_code, catalog.is_no_tar_code):
        with pytest.raises(CriteriaError) as caught:
            call(code)
        assert caught.value.code is CriteriaErrorCode.INVALID_CODE


def test_codes_are_trimmed_and_upper_cased() -> None:
    assert catalog.criteria_set_for(" 64483 ") == "esi"
    assert catalog.family_for_code("j1040") is None


@pytest.mark.parametrize(
    ("code", "no_tar"),
    [("62367", True), ("62368", True), ("62369", True), ("62370", True), ("95990", True),
     ("95991", True), ("62355", True), ("62365", True), ("62360", False), ("63688", False),
     ("99213", False)],
)  # fmt: skip
def test_no_tar_pump_codes(code: str, no_tar: bool) -> None:
    assert catalog.is_no_tar_code(code) is no_tar


def test_code_ranges_are_data() -> None:
    assert json.loads(json.dumps(catalog.CODE_RANGES)) == list(catalog.CODE_RANGES)
    for entry in catalog.CODE_RANGES:
        assert entry["family"] in catalog.FAMILIES
        for set_id in [entry["set"], *entry["also"]]:
            assert set_id is None or set_id in catalog.CRITERIA_SETS
        if not entry["tar"]:
            assert entry["set"] is None


def test_the_catalogue_still_ships_exactly_what_migration_0002_published():
    """A published version never changes: a changed set is a new version, not an edit."""
    frozen = Path(criteria.migrations.__file__).with_name("published_2026_1.json")
    published = json.loads(frozen.read_text(encoding="utf-8"))
    shipped = [s for s in catalog.SHIPPED_SETS if s["version"] == "2026.1"]
    assert json.loads(json.dumps(shipped)) == published


def test_the_catalogue_still_ships_exactly_what_migration_0003_published():
    frozen = Path(criteria.migrations.__file__).with_name("published_2026_2.json")
    published = json.loads(frozen.read_text(encoding="utf-8"))
    shipped = [s for s in catalog.SHIPPED_SETS if s["version"] == "2026.2"]
    assert json.loads(json.dumps(shipped)) == published
