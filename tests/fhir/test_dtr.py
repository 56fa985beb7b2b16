"""DTR (PRODUCT §6, §11): each criteria set's questionnaire as an SDC Questionnaire generated
from the catalogue, and a QuestionnaireResponse back into the TAR's answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from criteria import catalog
from criteria.engine import evaluate
from criteria.pa_list import coverage_lookup
from fhir.dtr import (
    NONE_CODE,
    DtrError,
    answer_system,
    answers_from_questionnaire_response,
    criteria_set_of_questionnaire,
    questionnaire_for,
    questionnaire_url,
)
from fhir.dtr_es import QUESTIONS_ES
from tests.conftest import BUSINESS_MORNING
from tests.factories import ESI_MEETS

TYPES = {"int": "integer", "bool": "boolean", "enum": "choice", "list": "choice"}
TYPES["int_list"] = "integer"


def _spanish(element: dict) -> str:
    (translation,) = element["extension"]
    parts = {p["url"]: p for p in translation["extension"]}
    assert parts["lang"]["valueCode"] == "es"
    return parts["content"]["valueString"]


def test_every_catalogue_question_and_option_has_its_spanish():
    assert set(QUESTIONS_ES) == set(catalog.QUESTIONS)
    for key, question in catalog.QUESTIONS.items():
        label, help_text, choices = QUESTIONS_ES[key]
        assert label and help_text
        assert set(choices) == set(question.get("choices") or []), key


@pytest.mark.parametrize("set_id", sorted(catalog.CRITERIA_SETS))
def test_each_sets_questionnaire_is_the_catalogues_questions(set_id):
    set_def = catalog.CRITERIA_SETS[set_id]
    questionnaire = questionnaire_for(set_id)
    assert questionnaire["url"] == questionnaire_url(set_id)
    assert questionnaire["version"] == set_def["version"]
    assert questionnaire["status"] == "active"
    assert "sdc-questionnaire" in questionnaire["meta"]["profile"][0]
    expected = catalog.questions_for(set_def)
    assert [item["linkId"] for item in questionnaire["item"]] == [q["key"] for q in expected]
    for item, question in zip(questionnaire["item"], expected, strict=True):
        assert item["text"] == question["label"]
        assert _spanish(item["_text"]) == QUESTIONS_ES[question["key"]][0]
        assert item["type"] == TYPES[question["type"]]
        assert item["repeats"] is (question["type"] in ("list", "int_list"))
        extensions = {
            e["url"].rsplit("/", 1)[1]: e["valueInteger"] for e in item.get("extension", [])
        }
        if question.get("min") is not None:
            assert extensions["minValue"] == question["min"]
        if question.get("max") is not None:
            assert extensions["maxValue"] == question["max"]
        if question["type"] in ("enum", "list"):
            codes = [o["valueCoding"]["code"] for o in item["answerOption"]]
            extra = [NONE_CODE] if question["type"] == "list" else []
            assert codes == question["choices"] + extra
            for option in item["answerOption"]:
                coding = option["valueCoding"]
                if coding["code"] != NONE_CODE:
                    assert coding["display"] == question["choice_labels"][coding["code"]]
                    assert (
                        _spanish(coding["_display"])
                        == QUESTIONS_ES[question["key"]][2][coding["code"]]
                    )
        else:
            assert "answerOption" not in item
        (help_item,) = item["item"]
        assert help_item["type"] == "display"
        assert help_item["text"] == question["help_text"]
    assert criteria_set_of_questionnaire(questionnaire["url"]) == (set_id, None)
    assert criteria_set_of_questionnaire(f"{questionnaire['url']}|{questionnaire['version']}") == (
        set_id,
        set_def["version"],
    )


def _sample(question: dict[str, Any]) -> Any:
    """A valid answer of the question's type."""
    type_ = question["type"]
    if type_ == "int":
        return question["max"] if question.get("max") is not None else (question["min"] or 0) + 7
    if type_ == "bool":
        return True
    if type_ == "enum":
        return question["choices"][-1]
    if type_ == "list":
        return question["choices"][:2]
    return [80, 90]


def _answer(question: dict[str, Any], value: Any) -> list[dict[str, Any]]:
    values = value if isinstance(value, list) else [value]
    if question["type"] in ("int", "int_list"):
        return [{"valueInteger": v} for v in values]
    if question["type"] == "bool":
        return [{"valueBoolean": v} for v in values]
    if not values:
        values = [NONE_CODE]
    return [{"valueCoding": {"system": answer_system(question["key"]), "code": v}} for v in values]


def response_for(set_id: str, answers: dict[str, Any]) -> dict[str, Any]:
    """A QuestionnaireResponse as a DTR app fills it."""
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire_url(set_id)}|{catalog.CRITERIA_SETS[set_id]['version']}",
        "status": "completed",
        "item": [
            {"linkId": key, "answer": _answer(catalog.QUESTIONS[key], value)}
            for key, value in answers.items()
        ],
    }


@pytest.mark.parametrize("set_id", sorted(catalog.CRITERIA_SETS))
def test_a_filled_questionnaire_becomes_the_same_answers(set_id):
    answers = {q["key"]: _sample(q) for q in catalog.questions_for(catalog.CRITERIA_SETS[set_id])}
    assert catalog.validate_answers(answers) == {}
    assert answers_from_questionnaire_response(response_for(set_id, answers)) == answers


def test_the_esi_answers_that_meet_criteria_still_meet_them_through_dtr():
    qr = response_for("esi", dict(ESI_MEETS))
    answers = answers_from_questionnaire_response(qr)
    assert answers == dict(ESI_MEETS)
    result = evaluate(catalog.CRITERIA_SETS["esi"], code="64483", answers=answers)
    assert result.recommendation == "meets_criteria"


def test_none_of_these_is_an_empty_list_and_unanswered_is_left_out():
    qr = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "item": [
            {"linkId": "contraindications", "answer": [{"valueCoding": {"code": NONE_CODE}}]},
            {"linkId": "pain_origin"},  # shown, not answered
            {
                "linkId": "group",
                "item": [{"linkId": "life_expectancy_months", "answer": [{"valueInteger": 12}]}],
            },
        ],
    }
    assert answers_from_questionnaire_response(qr) == {
        "contraindications": [],
        "life_expectancy_months": 12,
    }


@pytest.mark.parametrize(
    ("item", "field", "words"),
    [
        (
            {"linkId": "favourite_colour", "answer": [{"valueString": "blue"}]},
            "favourite_colour",
            "Not a question",
        ),
        ({"linkId": "pain_score", "answer": [{"valueInteger": 11}]}, "pain_score", "0 to 10"),
        ({"linkId": "pain_score", "answer": [{"valueString": "7"}]}, "pain_score", "valueInteger"),
        (
            {"linkId": "pain_score", "answer": [{"valueInteger": 3}, {"valueInteger": 4}]},
            "pain_score",
            "one answer",
        ),
        ({"linkId": "axial_pain", "answer": [{"valueInteger": 1}]}, "axial_pain", "valueBoolean"),
        (
            {"linkId": "approach", "answer": [{"valueCoding": {"code": "sideways"}}]},
            "approach",
            "Choose one of",
        ),
        (
            {
                "linkId": "approach",
                "answer": [{"valueCoding": {"system": "http://x", "code": "caudal"}}],
            },
            "approach",
            "Use codes",
        ),
        (
            {
                "linkId": "contraindications",
                "answer": [
                    {"valueCoding": {"code": "none"}},
                    {"valueCoding": {"code": "infection"}},
                ],
            },
            "contraindications",
            "alone",
        ),
        (
            {"linkId": "mbb_relief_percents", "answer": [{"valueInteger": 180}]},
            "mbb_relief_percents",
            "0 to 100",
        ),
        ({"linkId": "levels", "answer": [{"valueInteger": 0}]}, "levels", "at least 1"),
    ],
)
def test_an_invalid_answer_names_its_question(item, field, words):
    qr = {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [item]}
    with pytest.raises(DtrError) as caught:
        answers_from_questionnaire_response(qr)
    assert words.lower() in caught.value.fields[field].lower()


@pytest.mark.parametrize(
    "qr",
    [
        None,
        {"resourceType": "Questionnaire"},
        {"resourceType": "QuestionnaireResponse", "status": "stopped", "item": []},
        {"resourceType": "QuestionnaireResponse", "status": "completed", "item": "x"},
        {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [{"answer": []}]},
    ],
)
def test_what_is_not_a_questionnaire_response_is_a_clear_error(qr):
    with pytest.raises(DtrError) as caught:
        answers_from_questionnaire_response(qr)
    assert caught.value.fields


# ---------------------------------------------------------------------------------------------
# $questionnaire-package


def _package(body: Any) -> Any:
    return Client().post(
        "/fhir/Questionnaire/$questionnaire-package",
        json.dumps(body),
        content_type="application/fhir+json",
    )


def _order(code: str) -> dict:
    return {
        "name": "order",
        "resource": {
            "resourceType": "ServiceRequest",
            "id": "o1",
            "status": "draft",
            "intent": "order",
            "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": code}]},
            "subject": {"reference": "Patient/p"},
            "occurrenceDateTime": "2027-05-01",
        },
    }


@pytest.mark.django_db
@pytest.mark.clock(BUSINESS_MORNING)
@pytest.mark.parametrize("entry", catalog.CODE_RANGES, ids=lambda e: e["first"])
def test_the_package_for_an_order_is_its_codes_questionnaire(entry):
    code = entry["first"]
    response = _package({"resourceType": "Parameters", "parameter": [_order(code)]})
    coverage = coverage_lookup(code=code, service_date=BUSINESS_MORNING.date(), member=None)
    if coverage.criteria_set is None:
        assert response.status_code == 422
        assert response.json()["resourceType"] == "OperationOutcome"
        return
    assert response.status_code == 200, response.json()
    assert response["Content-Type"].startswith("application/fhir+json")
    (parameter,) = response.json()["parameter"]
    assert parameter["name"] == "PackageBundle"
    (entry_,) = parameter["resource"]["entry"]
    questionnaire = entry_["resource"]
    assert questionnaire["url"] == questionnaire_url(coverage.criteria_set)
    assert [i["linkId"] for i in questionnaire["item"]] == list(coverage.questions)


@pytest.mark.django_db
def test_the_package_for_a_named_questionnaire():
    canonical = questionnaire_url("pump_trial") + "|2026.1"
    response = _package(
        {
            "resourceType": "Parameters",
            "parameter": [{"name": "questionnaire", "valueCanonical": canonical}],
        }
    )
    assert response.status_code == 200
    questionnaire = response.json()["parameter"][0]["resource"]["entry"][0]["resource"]
    assert questionnaire["id"] == "tar-pump-trial"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("not json", 400),
        ({"resourceType": "Bundle"}, 400),
        ({"resourceType": "Parameters", "parameter": []}, 400),
        ({"resourceType": "Parameters", "parameter": "x"}, 400),
        (
            {
                "resourceType": "Parameters",
                "parameter": [
                    {"name": "questionnaire", "valueCanonical": "http://x/Questionnaire/other"}
                ],
            },
            404,
        ),
        ({"resourceType": "Parameters", "parameter": [_order("99283")]}, 422),
    ],
)
def test_a_bad_package_request_gets_an_operation_outcome(body, status):
    response = Client().post(
        "/fhir/Questionnaire/$questionnaire-package",
        body if isinstance(body, str) else json.dumps(body),
        content_type="application/fhir+json",
    )
    assert response.status_code == status
    assert response.json()["resourceType"] == "OperationOutcome"
