"""DTR: the criteria sets' questionnaires as SDC Questionnaires, and a QuestionnaireResponse
back into a TAR's answers (PRODUCT §6, §11; Da Vinci DTR without CQL).

The Questionnaire is generated from the criteria catalogue, never kept beside it: item
linkIds are the §6 answer keys, item types and answer options the catalogue's question types
and choices, English text the catalogue's, Spanish text `fhir.dtr_es` (translation extension).

Types: int → integer (min/max from the catalogue as minValue/maxValue), bool → boolean,
enum → choice, list → choice repeating, with a "none" option for "none of these" (an empty
list is an answer: `contraindications` empty means none), int_list → integer repeating.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.conf import settings

from criteria import catalog
from criteria.catalog import QUESTIONS, criteria_set_effective_on, get_criteria_set, questions_for
from criteria.engine import CriteriaError, CriteriaErrorCode
from fhir.dtr_es import NONE_OF_THESE_ES, QUESTIONS_ES

__all__ = [
    "NONE_CODE",
    "DtrError",
    "answers_from_questionnaire_response",
    "criteria_set_of_questionnaire",
    "questionnaire_for",
    "questionnaire_url",
]

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
SDC_QUESTIONNAIRE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire"
DTR_QUESTIONNAIRE = "http://hl7.org/fhir/us/davinci-dtr/StructureDefinition/dtr-std-questionnaire"
NONE_CODE = "none"  # "none of these" on a list question: the answer is []
_ACCEPTED_STATUSES = ("completed", "amended", "in-progress")
_TYPES = {"int": "integer", "bool": "boolean", "enum": "choice", "list": "choice"}
_TYPES["int_list"] = "integer"


class DtrError(ValueError):
    """A QuestionnaireResponse that cannot become answers: `fields` maps each linkId (or
    "QuestionnaireResponse") to what is wrong, in plain words."""

    def __init__(self, message: str, fields: Mapping[str, str]) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields)


def canonical_base() -> str:
    return getattr(settings, "FHIR_CANONICAL_BASE", "") or (
        settings.PORTAL_BASE_URL.rstrip("/") + "/fhir"
    )


def questionnaire_url(set_id: str) -> str:
    """The canonical URL of a criteria set's questionnaire (versioned by `|version`)."""
    return f"{canonical_base()}/Questionnaire/tar-{set_id.replace('_', '-')}"


def answer_system(key: str) -> str:
    return f"{canonical_base()}/CodeSystem/tar-answer-{key.replace('_', '-')}"


_CANONICAL = re.compile(r"/Questionnaire/tar-([a-z-]+)(?:\|([\w.]+))?$")


def criteria_set_of_questionnaire(canonical: str) -> tuple[str, str | None] | None:
    """(set id, version or None) named by a questionnaire canonical of ours, else None."""
    match = _CANONICAL.search(canonical or "")
    if match is None:
        return None
    set_id = match.group(1).replace("-", "_")
    if set_id not in catalog.CRITERIA_SETS:
        return None
    return set_id, match.group(2)


def _es(text: str) -> dict[str, Any]:
    return {
        "extension": [
            {
                "url": TRANSLATION,
                "extension": [
                    {"url": "lang", "valueCode": "es"},
                    {"url": "content", "valueString": text},
                ],
            }
        ]
    }


def _item(question: Mapping[str, Any]) -> dict[str, Any]:
    key = question["key"]
    label_es, help_es, choices_es = QUESTIONS_ES[key]
    type_ = question["type"]
    item: dict[str, Any] = {
        "linkId": key,
        "text": question["label"],
        "_text": _es(label_es),
        "type": _TYPES[type_],
        # Unanswered is allowed: the criterion is "unknown" and the nurse asks (PRODUCT §6).
        "required": False,
        "repeats": type_ in ("list", "int_list"),
    }
    extensions = []
    if question.get("min") is not None:
        extensions.append({"url": MIN_VALUE, "valueInteger": question["min"]})
    if question.get("max") is not None:
        extensions.append({"url": MAX_VALUE, "valueInteger": question["max"]})
    if extensions:
        item["extension"] = extensions
    if type_ in ("enum", "list"):
        labels = question.get("choice_labels") or {}
        options = [
            _option(key, choice, labels.get(choice, choice), choices_es[choice])
            for choice in question["choices"]
        ]
        if type_ == "list":
            options.append(_option(key, NONE_CODE, "None of these", NONE_OF_THESE_ES))
        item["answerOption"] = options
    item["item"] = [
        {
            "linkId": f"{key}.help",
            "text": question["help_text"],
            "_text": _es(help_es),
            "type": "display",
            "extension": [
                {
                    "url": ITEM_CONTROL,
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": "http://hl7.org/fhir/questionnaire-item-control",
                                "code": "help",
                            }
                        ]
                    },
                }
            ],
        }
    ]
    return item


def _option(key: str, code: str, display: str, display_es: str) -> dict[str, Any]:
    return {
        "valueCoding": {
            "system": answer_system(key),
            "code": code,
            "display": display,
            "_display": _es(display_es),
        }
    }


def questionnaire_for(set_id: str, on: date | None = None) -> dict[str, Any]:
    """The SDC Questionnaire of a criteria set: the version in force on `on`, else the newest.
    Raises CriteriaError for an unknown set, or when no version is in force on `on`."""
    set_def = get_criteria_set(set_id) if on is None else criteria_set_effective_on(set_id, on)
    if set_def is None:
        raise CriteriaError(
            CriteriaErrorCode.UNKNOWN_CRITERIA_SET,
            f"No version of criteria set {set_id!r} is in force on {on}.",
            fields={"criteria_set": f"No version of {set_id!r} is in force on {on}."},
        )
    return _questionnaire(set_def)


def _questionnaire(set_def: Mapping[str, Any]) -> dict[str, Any]:
    set_id = set_def["id"]
    return {
        "resourceType": "Questionnaire",
        "id": f"tar-{set_id.replace('_', '-')}",
        "meta": {"profile": [SDC_QUESTIONNAIRE, DTR_QUESTIONNAIRE]},
        "language": "en",
        "url": questionnaire_url(set_id),
        "version": set_def["version"],
        "name": "Tar" + "".join(part.title() for part in set_id.split("_")),
        "title": set_def["title"],
        "status": "active",
        "subjectType": ["Patient"],
        "date": set_def["effective_from"],
        "effectivePeriod": {
            k: v
            for k, v in (("start", set_def["effective_from"]), ("end", set_def["effective_to"]))
            if v
        },
        "description": (
            f"The plan's questions for {set_def['title']} (criteria set {set_id} "
            f"{set_def['version']}; {'; '.join(set_def['sources'])}). "
            + set_def["disclosure"]["en"]
        ),
        "_description": _es(set_def["disclosure"]["es"]),
        "item": [_item(question) for question in questions_for(set_def)],
    }


# --------------------------------------------------------------------------------------------
# QuestionnaireResponse → answers


def _flatten(items: Any, path: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    if items is None:
        return
    if not isinstance(items, list):
        raise DtrError("QuestionnaireResponse.item must be a list.", {path: "Must be a list."})
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("linkId"), str):
            raise DtrError("Every item needs a linkId.", {where: "Every item needs a linkId."})
        yield item["linkId"], item
        yield from _flatten(item.get("item"), f"{where}.item")
        for answer in item.get("answer") or []:
            if isinstance(answer, Mapping):
                yield from _flatten(answer.get("item"), f"{where}.answer.item")


def _value(question: Mapping[str, Any], answer: Any) -> tuple[Any, str | None]:
    """One answer's value in the catalogue's type, or an error message."""
    if not isinstance(answer, Mapping):
        return None, "Each answer must be an object with one value[x]."
    values = {k: v for k, v in answer.items() if k.startswith("value")}
    if len(values) != 1:
        return None, "Each answer must carry exactly one value[x]."
    ((kind, value),) = values.items()
    type_ = question["type"]
    if type_ in ("int", "int_list"):
        if kind == "valueInteger" and type(value) is int:
            return value, None
        return None, "Answer with valueInteger (a whole number)."
    if type_ == "bool":
        if kind == "valueBoolean" and type(value) is bool:
            return value, None
        return None, "Answer with valueBoolean (true or false)."
    # enum and list: a coding of our code system, or the bare code as a string
    if kind == "valueCoding" and isinstance(value, Mapping):
        system = value.get("system")
        if system not in (None, answer_system(question["key"])):
            return None, f"Use codes of {answer_system(question['key'])}."
        code = value.get("code")
    elif kind == "valueString":
        code = value
    else:
        return None, "Answer with valueCoding (one of the listed options)."
    allowed = list(question["choices"]) + ([NONE_CODE] if type_ == "list" else [])
    if not isinstance(code, str) or code not in allowed:
        return None, f"Choose one of: {', '.join(allowed)}."
    return code, None


def answers_from_questionnaire_response(qr: Any) -> dict[str, Any]:
    """The TAR's answers (PRODUCT §6 keys) from a QuestionnaireResponse, as found in a PAS
    Claim's supportingInfo. Unanswered items are left out (the criterion stays unknown).
    Raises DtrError with a message per linkId for anything that is not a valid answer, so the
    caller can answer with an OperationOutcome that names each."""
    if not isinstance(qr, Mapping) or qr.get("resourceType") != "QuestionnaireResponse":
        raise DtrError(
            "Expected a QuestionnaireResponse.",
            {"QuestionnaireResponse": "Expected a QuestionnaireResponse resource."},
        )
    status = qr.get("status")
    if status not in _ACCEPTED_STATUSES:
        raise DtrError(
            "The QuestionnaireResponse is not completed.",
            {"QuestionnaireResponse.status": f"Must be one of: {', '.join(_ACCEPTED_STATUSES)}."},
        )
    errors: dict[str, str] = {}
    answers: dict[str, Any] = {}
    for link_id, item in _flatten(qr.get("item"), "QuestionnaireResponse.item"):
        raw = item.get("answer")
        if link_id.endswith(".help") or (not raw and item.get("item")):
            continue  # a display item or a group
        question = QUESTIONS.get(link_id)
        if question is None:
            errors[link_id] = "Not a question of the plan's questionnaire."
            continue
        if link_id in answers:
            errors[link_id] = "Answered twice."
            continue
        if not raw:
            continue  # unanswered
        if not isinstance(raw, list):
            errors[link_id] = "answer must be a list."
            continue
        repeats = question["type"] in ("list", "int_list")
        if not repeats and len(raw) > 1:
            errors[link_id] = "Give one answer."
            continue
        values = []
        for answer in raw:
            value, error = _value(question, answer)
            if error is not None:
                errors[link_id] = error
                break
            values.append(value)
        else:
            if question["type"] == "list" and NONE_CODE in values:
                if len(values) > 1:
                    errors[link_id] = "Choose “none” alone, or the ones that apply."
                    continue
                values = []
            answers[link_id] = values if repeats else values[0]
    # The catalogue's own checks (ranges, duplicates): one rule, the same as the portal's.
    for key, message in catalog.validate_answers(answers).items():
        errors.setdefault(key, message)
    if errors:
        raise DtrError("Some answers in the QuestionnaireResponse are not valid.", errors)
    return answers
