"""The shipped criteria sets, the question catalogue and the code map — all plain data.

PRODUCT §6: criteria are data. Every set below is a JSON-serialisable dict; the Django side
loads each one into an immutable, versioned ``CriteriaSet`` row, and ``criteria.engine``
evaluates it. A new criteria version is a new dict with a new ``version`` and effective
dates: thresholds live in the rules, never in code.

Shape of a set::

    {
      "id": "esi", "title": "...", "version": "2026.1",
      "effective_from": "2026-01-01", "effective_to": None,     # ISO dates, to inclusive
      "sources": ["LCD L39240", ...], "family": "esi", "auto_approve": False,
      "disclosure": {"en": "...", "es": "..."},                # H&S 1363.5 (000 footer)
      "criteria": [
        {"number": 1, "id": "esi.1", "text": "...", "text_es": "...",
         "questions": ["radicular_findings"], "rule": {"op": "is_true", ...}},
        ...
      ],
    }

PRODUCT §5: the code → family → criteria set map is ``CODE_RANGES`` (data as well).

The shipped sets and ``QUESTIONS`` are module-level objects shared by every caller: treat
them as read-only (``copy.deepcopy`` before changing one, e.g. to draft a new version).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date
from typing import Any

from criteria.engine import CriteriaError, CriteriaErrorCode, normalize_code, rule_keys
from criteria.wording import staff_text

__all__ = [
    "CODE_RANGES",
    "CRITERIA_SETS",
    "DISCLOSURE",
    "FAMILIES",
    "QUESTIONS",
    "SHIPPED_SETS",
    "criteria_set_effective_on",
    "criteria_set_for",
    "criteria_set_title",
    "criterion_text",
    "family_for_code",
    "get_criteria_set",
    "is_no_tar_code",
    "questions_for",
    "validate_answers",
]

# --------------------------------------------------------------------------------------------
# Statutory disclosure (000 footer; H&S Code 1363.5), in the product's own words.

DISCLOSURE: dict[str, str] = {
    "en": (
        "The plan uses these criteria as guidelines when it decides whether to authorize, "
        "modify or deny care for people with similar illnesses or conditions. The care that "
        "is right for one person may differ, depending on that person's own needs and on "
        "the benefits their coverage includes."
    ),
    "es": (
        "El plan usa estos criterios como pautas cuando decide si autoriza, modifica o niega "
        "la atención para personas con enfermedades o condiciones parecidas. La atención "
        "adecuada para una persona puede ser distinta, según sus propias necesidades y los "
        "beneficios que incluye su cobertura."
    ),
}

# --------------------------------------------------------------------------------------------
# Question catalogue (PRODUCT §6 canonical answers)

MODALITIES = (
    "medications",
    "physical_therapy",
    "activity_modification",
    "home_exercise",
    "chiropractic",
)
IMAGE_GUIDANCE = ("fluoroscopy", "ct", "ultrasound", "none")
APPROACHES = ("interlaminar", "caudal", "transforaminal")
REGIONS = ("cervical", "thoracic", "lumbar", "sacral")
PAIN_ORIGINS = ("malignant", "non_malignant")
CONTRAINDICATIONS = ("infection", "coagulopathy", "body_size", "other")


def _q(
    key: str,
    type_: str,
    label: str,
    help_text: str,
    *,
    choices: tuple[str, ...] | None = None,
    choice_labels: dict[str, str] | None = None,
    min_: int | None = None,
    max_: int | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"key": key, "type": type_, "label": label, "help_text": help_text}
    if choices is not None:
        entry["choices"] = list(choices)
        entry["choice_labels"] = dict(choice_labels or {})
    if type_ in ("int", "int_list"):
        entry["min"] = min_
        entry["max"] = max_
    return entry


# fmt: off
QUESTIONS: dict[str, dict[str, Any]] = {
    q["key"]: q
    for q in (
        _q("pain_duration_weeks", "int", "How many weeks has this pain lasted?",
           "Count from when this pain began, in whole weeks.", min_=0),
        _q("pain_score", "int", "What is the member's baseline pain score, from 0 to 10?",
           "0 means no pain and 10 the worst pain imaginable, before this procedure.",
           min_=0, max_=10),
        _q("function_scale_documented", "bool",
           "Is a baseline functional score documented (for example ODI or NDI)?",
           "A standard scale of how the pain limits daily activities, recorded before "
           "treatment."),
        _q("conservative_care_weeks", "int",
           "How many weeks of conservative care has the member tried without enough relief?",
           "Care such as medicines, physical therapy or activity changes, in whole weeks.",
           min_=0),
        _q("conservative_modalities", "list", "Which conservative treatments were tried?",
           "Select every kind of treatment tried for this pain.", choices=MODALITIES,
           choice_labels={"medications": "Medicines", "physical_therapy": "Physical therapy",
                          "activity_modification": "Activity changes",
                          "home_exercise": "Home exercise program",
                          "chiropractic": "Chiropractic care"}),
        _q("radicular_findings", "bool",
           "Do history, exam and imaging agree on radicular pain, radiculopathy or "
           "neurogenic claudication?",
           "Nerve-root pain spreading into a limb, or leg symptoms on walking from spinal "
           "stenosis, with concordant findings."),
        _q("axial_pain", "bool", "Is the pain mainly axial (neck or back, not spreading)?",
           "Predominantly non-radicular neck or back pain."),
        _q("untreated_radiculopathy", "bool",
           "Does the member have radiculopathy or neurogenic claudication not yet treated?",
           "Answer yes if nerve-root symptoms are present and have not been treated."),
        _q("imaging_guidance", "enum", "Which image guidance will be used?",
           "How the needle placement will be guided and confirmed.", choices=IMAGE_GUIDANCE,
           choice_labels={"fluoroscopy": "Fluoroscopy", "ct": "CT", "ultrasound": "Ultrasound",
                          "none": "No image guidance"}),
        _q("approach", "enum", "Which approach will be used?",
           "The route of the epidural injection.", choices=APPROACHES,
           choice_labels={"interlaminar": "Interlaminar", "caudal": "Caudal",
                          "transforaminal": "Transforaminal"}),
        # A session treats at least one level, so 0 is not a valid answer.
        _q("levels", "int", "How many spinal levels will be treated in this session?",
           "Count each vertebral level treated in this one session.", min_=1),
        _q("spinal_region", "enum", "Which spinal region is treated?",
           "Sessions are counted per region.", choices=REGIONS,
           choice_labels={"cervical": "Cervical (neck)", "thoracic": "Thoracic (mid back)",
                          "lumbar": "Lumbar (low back)", "sacral": "Sacral"}),
        _q("prior_sessions_12mo", "int",
           "How many sessions of this procedure has the member had in this region in the "
           "last 12 months?", "Do not count the session requested now.", min_=0),
        _q("prior_relief_percent", "int",
           "How much pain relief, in percent, followed the last session of this procedure?",
           "0 to 100. Leave blank if there was no earlier session.", min_=0, max_=100),
        _q("prior_relief_weeks", "int", "For how many weeks did that relief last?",
           "Whole weeks. Leave blank if there was no earlier session.", min_=0),
        _q("mbb_relief_percents", "int_list",
           "What pain relief, in percent, followed each diagnostic medial branch block?",
           "One number from 0 to 100 for each block done, in order.", min_=0, max_=100),
        _q("prior_rfa_relief_percent", "int",
           "How much pain relief, in percent, followed the last ablation in this region?",
           "0 to 100. Leave blank if there was no earlier ablation.", min_=0, max_=100),
        _q("prior_rfa_relief_months", "int", "For how many months did that relief last?",
           "Whole months. Leave blank if there was no earlier ablation.", min_=0),
        _q("psych_evaluation_cleared", "bool",
           "Has a behavioral-health evaluation cleared the member for the device?",
           "A psychological evaluation done for this device."),
        _q("untreated_substance_use_disorder", "bool",
           "Does the member have an active, untreated substance-use disorder?",
           "Answer yes only if the disorder is active and not being treated."),
        _q("trial_relief_percent", "int",
           "How much pain relief, in percent, did the device trial give?", "0 to 100.",
           min_=0, max_=100),
        _q("trial_side_effects_acceptable", "bool",
           "Were the side effects during the trial acceptable?",
           "Answer yes if the member tolerated the trial."),
        _q("trial_patient_accepts", "bool", "Does the member want the permanent device?",
           "The member has been told about the device and accepts it."),
        _q("pain_origin", "enum", "Is the pain malignant (cancer-related) or non-malignant?",
           "The origin of the pain being treated.", choices=PAIN_ORIGINS,
           choice_labels={"malignant": "Malignant (cancer-related)",
                          "non_malignant": "Non-malignant"}),
        _q("life_expectancy_months", "int",
           "What is the member's expected survival, in months?",
           "The treating physician's estimate, in whole months.", min_=0),
        _q("contraindications", "list", "Which contraindications to the device are present?",
           "Select every one present; select none if there are none.",
           choices=CONTRAINDICATIONS,
           choice_labels={"infection": "Active infection",
                          "coagulopathy": "Bleeding or clotting disorder",
                          "body_size": "Body size too small for the device",
                          "other": "Other contraindication"}),
        _q("specialist_confirms_alternatives_failed", "bool",
           "Did a specialist find that less invasive treatments failed or were not "
           "tolerated?", "From a specialist evaluation for this device."),
    )
}
# fmt: on


_TYPE_MESSAGES = {
    "int": "Enter a whole number.",
    "bool": "Answer true or false.",
    "enum": "Choose one of the listed options.",
    "list": "Give a list of the listed options.",
    "int_list": "Give a list of whole numbers.",
}


def _range_error(question: Mapping[str, Any], value: int) -> str | None:
    low, high = question.get("min"), question.get("max")
    if low is not None and value < low:
        return f"Must be at least {low}." if high is None else f"Must be {low} to {high}."
    if high is not None and value > high:
        return f"Must be at most {high}." if low is None else f"Must be {low} to {high}."
    return None


def _answer_error(question: Mapping[str, Any], value: Any) -> str | None:
    type_ = question["type"]
    if type_ == "int":
        if type(value) is not int:
            return _TYPE_MESSAGES["int"]
        return _range_error(question, value)
    if type_ == "bool":
        return None if type(value) is bool else _TYPE_MESSAGES["bool"]
    if type_ == "enum":
        if type(value) is not str or value not in question["choices"]:
            return f"Choose one of: {', '.join(question['choices'])}."
        return None
    if type(value) not in (list, tuple):
        return _TYPE_MESSAGES[type_]
    if type_ == "list":
        for item in value:
            if type(item) is not str or item not in question["choices"]:
                return f"{item!r} is not one of: {', '.join(question['choices'])}."
        if len(set(value)) != len(value):
            return "List each option once."
        return None
    for item in value:  # int_list
        if type(item) is not int:
            return _TYPE_MESSAGES["int_list"]
        error = _range_error(question, item)
        if error is not None:
            return f"Each value: {error[0].lower()}{error[1:]}"
    return None


def validate_answers(answers: Any) -> dict[str, str]:
    """Field errors for a questionnaire, ``{}`` when valid (the API turns them into a 400).

    ``None`` means "not answered" and is always accepted: the engine reports the criterion
    as ``unknown`` and the recommendation asks for the information.
    """
    if not isinstance(answers, Mapping):
        return {"answers": "Answers must be an object of answer keys and values."}
    errors: dict[str, str] = {}
    for key, value in answers.items():
        question = QUESTIONS.get(key) if isinstance(key, str) else None
        if question is None:
            errors[str(key)] = "Unknown answer key."
            continue
        if value is None:
            continue
        error = _answer_error(question, value)
        if error is not None:
            errors[key] = error
    return errors


def questions_for(set_def: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The catalogue entries a set asks, in criterion order, each once (copies)."""
    seen: dict[str, None] = {}
    for criterion in set_def["criteria"]:
        for key in criterion["questions"]:
            seen.setdefault(key, None)
    return [copy.deepcopy(QUESTIONS[key]) for key in seen]


# --------------------------------------------------------------------------------------------
# The shipped criteria sets (version 2026.1)

_VERSION = "2026.1"
_EFFECTIVE_FROM = "2026-01-01"
_GUIDED = ["fluoroscopy", "ct"]
# Ultrasound is not accepted for facet procedures: the facet LCDs (L38801/L38803) require
# fluoroscopic or CT guidance. A request with ultrasound goes to a physician, never a denial.


def _criterion(
    set_id: str, number: int, text: str, text_es: str, rule: dict[str, Any]
) -> dict[str, Any]:
    return {
        "number": number,
        "id": f"{set_id}.{number}",
        "text": text,
        "text_es": text_es,
        "questions": list(rule_keys(rule)),
        "rule": rule,
    }


def _set(
    set_id: str,
    title: str,
    family: str,
    sources: list[str],
    criteria: list[tuple[str, str, dict[str, Any]]],
) -> dict[str, Any]:
    return {
        "id": set_id,
        "title": title,
        "version": _VERSION,
        "effective_from": _EFFECTIVE_FROM,
        "effective_to": None,
        "sources": sources,
        "family": family,
        # PRODUCT §2: automated approval only where a set allows it; none does yet.
        "auto_approve": False,
        "disclosure": dict(DISCLOSURE),
        "criteria": [
            _criterion(set_id, number, text, text_es, copy.deepcopy(rule))
            for number, (text, text_es, rule) in enumerate(criteria, start=1)
        ],
    }


_DOCUMENTED = (
    "Your provider recorded how strong your pain is on a 0 to 10 scale and how much it "
    "limits your daily activities.",
    "Su proveedor anotó qué tan fuerte es su dolor en una escala de 0 a 10 y cuánto limita "
    "sus actividades diarias.",
    {
        "op": "all",
        "rules": [
            {"op": "present", "key": "pain_score"},
            {"op": "is_true", "key": "function_scale_documented"},
        ],
    },
)

ESI: dict[str, Any] = _set(
    "esi",
    "Epidural steroid injection",
    "esi",
    ["LCD L39240", "Partnership MCUP3049 (000)", "Pain management billing requirements (004)"],
    [
        (
            "Your history, exam and imaging agree that your pain comes from an irritated "
            "spinal nerve (for example, pain that spreads down an arm or a leg) or from a "
            "narrowed spinal canal that causes leg pain when you walk.",
            "Su historial, su examen y sus imágenes coinciden en que su dolor viene de un "
            "nervio de la columna irritado (por ejemplo, dolor que baja por un brazo o una "
            "pierna) o de un canal de la columna estrecho que causa dolor de piernas al "
            "caminar.",
            {"op": "is_true", "key": "radicular_findings"},
        ),
        (
            "This pain has lasted at least 4 weeks.",
            "Este dolor ha durado por lo menos 4 semanas.",
            {"op": "gte", "key": "pain_duration_weeks", "value": 4},
        ),
        (
            "You have tried other care for at least 4 weeks, using at least 2 kinds (such as "
            "medicine, physical therapy, changing your activities, home exercise or "
            "chiropractic care), and it did not help enough.",
            "Usted ha probado otros cuidados por lo menos 4 semanas, con al menos 2 tipos "
            "(como medicinas, terapia física, cambios en sus actividades, ejercicios en casa "
            "o quiropráctica), y no le ayudaron lo suficiente.",
            {
                "op": "all",
                "rules": [
                    {"op": "gte", "key": "conservative_care_weeks", "value": 4},
                    {
                        "op": "count_in_gte",
                        "key": "conservative_modalities",
                        "values": list(MODALITIES),
                        "value": 2,
                    },
                ],
            },
        ),
        _DOCUMENTED,
        (
            "The injection will be guided by live X-ray (fluoroscopy) or by CT imaging.",
            "La inyección se guiará con rayos X en vivo (fluoroscopia) o con tomografía (CT).",
            {"op": "in", "key": "imaging_guidance", "values": _GUIDED},
        ),
        (
            "The injection treats no more than 2 spinal levels when given from the side of "
            "the spine (transforaminal), or 1 level when given between the bones of the spine "
            "or near the tailbone (interlaminar or caudal).",
            "La inyección trata no más de 2 niveles de la columna cuando se aplica por el "
            "costado de la columna (transforaminal), o 1 nivel cuando se aplica entre los "
            "huesos de la columna o cerca del coxis (interlaminar o caudal).",
            {
                "op": "lte_by",
                "key": "levels",
                "by": "approach",
                "limits": {"transforaminal": 2, "interlaminar": 1, "caudal": 1},
            },
        ),
        (
            "Counting this one, you will have had no more than 4 of these injection sessions "
            "in the same area of your spine in the last 12 months.",
            "Contando esta, usted no habrá tenido más de 4 sesiones de estas inyecciones en "
            "la misma zona de la columna en los últimos 12 meses.",
            {"op": "sessions_within", "limit": 4},
        ),
        (
            "If you had this kind of injection in the last 12 months, it lowered your pain by "
            "at least 50% for at least 3 weeks.",
            "Si le pusieron este tipo de inyección en los últimos 12 meses, le bajó el dolor "
            "por lo menos un 50% durante por lo menos 3 semanas.",
            {
                "op": "when",
                "if": {"op": "is_repeat"},
                "then": {
                    "op": "all",
                    "rules": [
                        {"op": "gte", "key": "prior_relief_percent", "value": 50},
                        {"op": "gte", "key": "prior_relief_weeks", "value": 3},
                    ],
                },
            },
        ),
    ],
)

FACET_MBB: dict[str, Any] = _set(
    "facet_mbb",
    "Facet joint medial branch block",
    "facet_mbb",
    ["LCD L38801", "LCD L38803", "Partnership MCUP3049 (000)"],
    [
        (
            "Your pain is mainly in your neck or back, rather than spreading down an arm or a leg.",
            "Su dolor está sobre todo en el cuello o la espalda, y no se extiende por un brazo "
            "o una pierna.",
            {"op": "is_true", "key": "axial_pain"},
        ),
        (
            "You do not have untreated pain from a pinched spinal nerve, or untreated leg pain "
            "on walking from a narrowed spinal canal.",
            "Usted no tiene dolor sin tratar por un nervio de la columna apretado, ni dolor de "
            "piernas sin tratar al caminar por un canal de la columna estrecho.",
            {"op": "is_false", "key": "untreated_radiculopathy"},
        ),
        (
            "This pain has lasted at least 12 weeks.",
            "Este dolor ha durado por lo menos 12 semanas.",
            {"op": "gte", "key": "pain_duration_weeks", "value": 12},
        ),
        (
            "You have tried other care, such as medicine or physical therapy, for at least "
            "12 weeks, and it did not help enough.",
            "Usted ha probado otros cuidados, como medicinas o terapia física, por lo menos "
            "12 semanas, y no le ayudaron lo suficiente.",
            {"op": "gte", "key": "conservative_care_weeks", "value": 12},
        ),
        _DOCUMENTED,
        (
            "The nerve block will be guided by live X-ray (fluoroscopy) or by CT imaging.",
            "El bloqueo nervioso se guiará con rayos X en vivo (fluoroscopia) o con "
            "tomografía (CT).",
            {"op": "in", "key": "imaging_guidance", "values": _GUIDED},
        ),
        (
            "Counting this one, you will have had no more than 4 of these nerve block "
            "sessions in the same area of your spine in the last 12 months.",
            "Contando esta, usted no habrá tenido más de 4 sesiones de estos bloqueos "
            "nerviosos en la misma zona de la columna en los últimos 12 meses.",
            {"op": "sessions_within", "limit": 4},
        ),
        (
            "If you already had a nerve block in this area in the last 12 months, it lowered "
            "your pain by at least 80%.",
            "Si ya le hicieron un bloqueo nervioso en esta zona en los últimos 12 meses, le "
            "bajó el dolor por lo menos un 80%.",
            {
                "op": "when",
                "if": {"op": "is_repeat"},
                "then": {"op": "gte", "key": "prior_relief_percent", "value": 80},
            },
        ),
        (
            "The request is not for blocks at a third or further spinal level (codes 64492 "
            "and 64495); these criteria cover blocks at 1 or 2 levels.",
            "La solicitud no es para bloqueos en un tercer nivel de la columna o más (códigos "
            "64492 y 64495); estos criterios cubren bloqueos en 1 o 2 niveles.",
            {"op": "code_not_in", "values": ["64492", "64495"]},
        ),
    ],
)

# fmt: off
FACET_RFA: dict[str, Any] = _set(
    "facet_rfa",
    "Facet joint radiofrequency ablation",
    "facet_rfa",
    ["LCD L38801", "LCD L38803", "Partnership MCUP3049 (000)"],
    [
        (
            "You had at least 2 test nerve blocks (medial branch blocks) for this pain, and "
            "each one lowered your pain by at least 80%.",
            "Le hicieron por lo menos 2 bloqueos nerviosos de prueba (de ramo medial) para "
            "este dolor, y cada uno le bajó el dolor por lo menos un 80%.",
            {"op": "list_min_len_all_gte", "key": "mbb_relief_percents", "min_len": 2,
             "value": 80},
        ),
        (
            "The procedure will be guided by live X-ray (fluoroscopy) or by CT imaging.",
            "El procedimiento se guiará con rayos X en vivo (fluoroscopia) o con tomografía "
            "(CT).",
            {"op": "in", "key": "imaging_guidance", "values": _GUIDED},
        ),
        (
            "Counting this one, you will have had no more than 2 of these nerve ablation "
            "sessions in the same area of your spine in the last 12 months.",
            "Contando esta, usted no habrá tenido más de 2 sesiones de ablación de nervios en "
            "la misma zona de la columna en los últimos 12 meses.",
            {"op": "sessions_within", "limit": 2},
        ),
        (
            "If you had this procedure in this area in the last 12 months, it lowered your "
            "pain by at least 50% for at least 6 months.",
            "Si le hicieron este procedimiento en esta zona en los últimos 12 meses, le bajó "
            "el dolor por lo menos un 50% durante por lo menos 6 meses.",
            {
                "op": "when",
                "if": {"op": "is_repeat"},
                "then": {
                    "op": "all",
                    "rules": [
                        {"op": "gte", "key": "prior_rfa_relief_percent", "value": 50},
                        {"op": "gte", "key": "prior_rfa_relief_months", "value": 6},
                    ],
                },
            },
        ),
    ],
)
# fmt: on

_NO_CONTRAINDICATION = {"op": "empty", "key": "contraindications"}

_SCS_TRIAL_CRITERIA: list[tuple[str, str, dict[str, Any]]] = [
    (
        "Your pain has lasted at least 26 weeks (about 6 months).",
        "Su dolor ha durado por lo menos 26 semanas (unos 6 meses).",
        {"op": "gte", "key": "pain_duration_weeks", "value": 26},
    ),
    (
        "You have tried other care for at least 26 weeks, including both medicine and "
        "physical therapy, and it did not help enough.",
        "Usted ha probado otros cuidados por lo menos 26 semanas, incluidas medicinas y "
        "terapia física, y no le ayudaron lo suficiente.",
        {
            "op": "all",
            "rules": [
                {"op": "gte", "key": "conservative_care_weeks", "value": 26},
                {
                    "op": "contains_all",
                    "key": "conservative_modalities",
                    "values": ["medications", "physical_therapy"],
                },
            ],
        },
    ),
    (
        "A behavioral health evaluation found that you are ready for this device.",
        "Una evaluación de salud mental encontró que usted está listo para este aparato.",
        {"op": "is_true", "key": "psych_evaluation_cleared"},
    ),
    (
        "You do not have an active alcohol or drug use problem that is not being treated.",
        "Usted no tiene un problema activo de consumo de alcohol o drogas sin tratamiento.",
        {"op": "is_false", "key": "untreated_substance_use_disorder"},
    ),
    (
        "You have no health condition that makes the device unsafe for you, such as an "
        "infection or a bleeding problem.",
        "Usted no tiene ninguna condición de salud que haga peligroso el aparato, como una "
        "infección o un problema de sangrado.",
        _NO_CONTRAINDICATION,
    ),
]

_PERMANENT_CRITERIA: list[tuple[str, str, dict[str, Any]]] = [
    (
        "During the trial, your pain went down by at least 50%.",
        "Durante la prueba, su dolor bajó por lo menos un 50%.",
        {"op": "gte", "key": "trial_relief_percent", "value": 50},
    ),
    (
        "Any side effects you had during the trial were acceptable.",
        "Los efectos secundarios que tuvo durante la prueba fueron aceptables.",
        {"op": "is_true", "key": "trial_side_effects_acceptable"},
    ),
    (
        "You want to have the permanent device.",
        "Usted quiere que le pongan el aparato permanente.",
        {"op": "is_true", "key": "trial_patient_accepts"},
    ),
]

_SCS_SOURCES = ["NCD 160.7", "Partnership MCUP3049 (000)"]

SCS_TRIAL: dict[str, Any] = _set(
    "scs_trial", "Spinal cord stimulator trial", "scs", _SCS_SOURCES, _SCS_TRIAL_CRITERIA
)
# PRODUCT §6: all of the trial's criteria, plus the trial outcome.
SCS_PERMANENT: dict[str, Any] = _set(
    "scs_permanent",
    "Spinal cord stimulator, permanent implant",
    "scs",
    _SCS_SOURCES,
    _SCS_TRIAL_CRITERIA + _PERMANENT_CRITERIA,
)


def _non_malignant(rule: dict[str, Any]) -> dict[str, Any]:
    # PRODUCT §6: these apply only when the pain is not cancer-related.
    return {
        "op": "when",
        "if": {"op": "in", "key": "pain_origin", "values": ["non_malignant"]},
        "then": rule,
    }


_PUMP_TRIAL_CRITERIA: list[tuple[str, str, dict[str, Any]]] = [
    (
        "You are expected to live at least 3 more months.",
        "Se espera que usted viva por lo menos 3 meses más.",
        {"op": "gte", "key": "life_expectancy_months", "value": 3},
    ),
    (
        "A specialist found that other, less invasive treatments did not work or that you "
        "could not tolerate them.",
        "Un especialista encontró que otros tratamientos menos invasivos no funcionaron o "
        "que usted no los toleró.",
        {"op": "is_true", "key": "specialist_confirms_alternatives_failed"},
    ),
    (
        "You have no health condition that makes the pump unsafe for you, such as an "
        "infection, a bleeding problem, or a body too small to hold the pump.",
        "Usted no tiene ninguna condición de salud que haga peligrosa la bomba, como una "
        "infección, un problema de sangrado o un cuerpo demasiado pequeño para la bomba.",
        _NO_CONTRAINDICATION,
    ),
    (
        "If your pain is not caused by cancer: it has lasted at least 26 weeks (about 6 months).",
        "Si su dolor no es causado por cáncer: ha durado por lo menos 26 semanas (unos 6 meses).",
        _non_malignant({"op": "gte", "key": "pain_duration_weeks", "value": 26}),
    ),
    (
        "If your pain is not caused by cancer: you have tried other care for at least 26 "
        "weeks, and it did not help enough.",
        "Si su dolor no es causado por cáncer: usted ha probado otros cuidados por lo menos "
        "26 semanas, y no le ayudaron lo suficiente.",
        _non_malignant({"op": "gte", "key": "conservative_care_weeks", "value": 26}),
    ),
    (
        "If your pain is not caused by cancer: a behavioral health evaluation found that you "
        "are ready for this device.",
        "Si su dolor no es causado por cáncer: una evaluación de salud mental encontró que "
        "usted está listo para este aparato.",
        _non_malignant({"op": "is_true", "key": "psych_evaluation_cleared"}),
    ),
]

_PUMP_SOURCES = ["NCD 280.14", "Implantable pain pump policy (001)", "Partnership MCUP3049 (000)"]

PUMP_TRIAL: dict[str, Any] = _set(
    "pump_trial", "Intrathecal pain pump trial", "pump", _PUMP_SOURCES, _PUMP_TRIAL_CRITERIA
)
# PRODUCT §6: all of the trial's criteria, plus the trial outcome.
PUMP_PERMANENT: dict[str, Any] = _set(
    "pump_permanent",
    "Intrathecal pain pump, permanent implant",
    "pump",
    _PUMP_SOURCES,
    _PUMP_TRIAL_CRITERIA + _PERMANENT_CRITERIA,
)

# --------------------------------------------------------------------------------------------
# Version 2026.2 (issue 11 row 13): two corrections to PRODUCT §6, each a new version of its
# set; 2026.1 stays published, unchanged, for the requests reviewed under it.

_VERSION_2026_2 = "2026.2"
_EFFECTIVE_FROM_2026_2 = "2026-12-01"


def _revision(
    base: dict[str, Any], number: int, text: str, text_es: str, rule: dict[str, Any]
) -> dict[str, Any]:
    revised = copy.deepcopy(base)
    revised["version"] = _VERSION_2026_2
    revised["effective_from"] = _EFFECTIVE_FROM_2026_2
    revised["criteria"][number - 1] = _criterion(base["id"], number, text, text_es, rule)
    return revised


# PRODUCT §6 facet MBB: a second block needs >= 80 % relief from the first, read from
# `mbb_relief_percents` (one fact, one key). 2026.1 read `prior_relief_percent`, which a
# complete MBB request does not fill in, so it was asked for information.
FACET_MBB_2026_2: dict[str, Any] = _revision(
    FACET_MBB,
    8,
    "If you already had a nerve block in this area in the last 12 months, each one lowered "
    "your pain by at least 80%.",
    "Si ya le hicieron bloqueos nerviosos en esta zona en los últimos 12 meses, cada uno le "
    "bajó el dolor por lo menos un 80%.",
    {
        "op": "when",
        "if": {"op": "is_repeat"},
        "then": {"op": "list_min_len_all_gte", "key": "mbb_relief_percents", "min_len": 1,
                 "value": 80},
    },
)  # fmt: skip

# PRODUCT §6 facet RFA: a repeat RFA (any earlier RFA in this region, however long ago) needs
# >= 50 % relief lasting >= 6 months from the last. 2026.1 only looked at the last 12 months,
# so an ablation 14 months ago with 20 % relief met criteria. An earlier ablation shows as an
# answered relief question ("leave blank if there was no earlier ablation").
FACET_RFA_2026_2: dict[str, Any] = _revision(
    FACET_RFA,
    4,
    "If you had this procedure in this area before, however long ago, the last one lowered "
    "your pain by at least 50% for at least 6 months.",
    "Si ya le hicieron este procedimiento en esta zona, sin importar cuándo, el último le "
    "bajó el dolor por lo menos un 50% durante por lo menos 6 meses.",
    {
        "op": "when",
        "if": {
            "op": "any",
            "rules": [{"op": "is_repeat"}, {"op": "answered", "key": "prior_rfa_relief_percent"}],
        },
        "then": {
            "op": "all",
            "rules": [
                {"op": "gte", "key": "prior_rfa_relief_percent", "value": 50},
                {"op": "gte", "key": "prior_rfa_relief_months", "value": 6},
            ],
        },
    },
)

# Every shipped version (the Django side loads them all), oldest first per id.
SHIPPED_SETS: tuple[dict[str, Any], ...] = (
    ESI,
    FACET_MBB,
    FACET_RFA,
    SCS_TRIAL,
    SCS_PERMANENT,
    PUMP_TRIAL,
    PUMP_PERMANENT,
    FACET_MBB_2026_2,
    FACET_RFA_2026_2,
)
# The newest shipped version of each set, by id.
CRITERIA_SETS: dict[str, dict[str, Any]] = {s["id"]: s for s in SHIPPED_SETS}


def get_criteria_set(set_id: str) -> dict[str, Any]:
    """The newest shipped version of a set (shared: read-only). Raises for an unknown id."""
    try:
        return CRITERIA_SETS[set_id]
    except (KeyError, TypeError):
        raise CriteriaError(
            CriteriaErrorCode.UNKNOWN_CRITERIA_SET,
            f"There is no criteria set {set_id!r}.",
            fields={"criteria_set": f"Choose one of: {', '.join(CRITERIA_SETS)}."},
        ) from None


def criteria_set_effective_on(set_id: str, on: date) -> dict[str, Any] | None:
    """The shipped version of a set in force on a date (effective_to inclusive), or None."""
    get_criteria_set(set_id)  # unknown id → CriteriaError
    day = on.isoformat()
    in_force = [
        s
        for s in SHIPPED_SETS
        if s["id"] == set_id
        and s["effective_from"] <= day
        and (s["effective_to"] is None or day <= s["effective_to"])
    ]
    return max(in_force, key=lambda s: s["effective_from"], default=None)


# --------------------------------------------------------------------------------------------
# Criteria texts for each reader (issue 15)

READERS = ("member", "staff", "provider")


def _shipped_version(set_id: str, version: str | None) -> dict[str, Any]:
    if version is None:
        return get_criteria_set(set_id)
    for set_def in SHIPPED_SETS:
        if set_def["id"] == set_id and set_def["version"] == version:
            return set_def
    raise CriteriaError(
        CriteriaErrorCode.UNKNOWN_CRITERIA_SET,
        f"There is no version {version!r} of criteria set {set_id!r}.",
        fields={"criteria_set": f"No version {version!r} of {set_id!r}."},
    )


def _parse_criterion_key(key: str, version: str | None) -> tuple[str, str | None, int]:
    """``esi:2026.1:3`` (a decision's citation) or ``esi.3`` (a criterion id)."""
    parts = key.split(":") if isinstance(key, str) else []
    if len(parts) == 3 and parts[2].isdigit():
        return parts[0], parts[1], int(parts[2])
    set_id, _, number = key.rpartition(".") if isinstance(key, str) else ("", "", "")
    if set_id and number.isdigit():
        return set_id, version, int(number)
    raise CriteriaError(
        CriteriaErrorCode.INVALID_ARGUMENT,
        f"{key!r} is not a criterion: give 'set.number' or 'set:version:number'.",
    )


def criterion_text(
    key: str, reader: str = "member", language: str = "en", *, version: str | None = None
) -> str:
    """The words of one criterion for one reader (issue 15; PRODUCT §7 "the right voice for
    each reader").

    ``key`` is a criterion id (``"esi.3"``, with ``version`` or the newest shipped one) or a
    decision's citation (``"esi:2026.1:3"``, which names its version). ``reader``:

    - ``"member"``: the member wording, second person, in ``language`` ("en" or "es"; other
      languages fall back to English). Member pages, member letters, criteria copies.
    - ``"staff"``: the clinical wording (``criteria.wording``) for nurse and physician
      screens.
    - ``"provider"``: the same clinical wording, for provider screens and the provider copy of
      a letter (it speaks to the office about the member, never "you").

    Staff and provider wording is English only (the portal does not translate staff or
    provider screens), so ``language`` does not change it. Raises ``CriteriaError`` for an
    unknown reader, set, version or criterion.
    """
    if reader not in READERS:
        raise CriteriaError(
            CriteriaErrorCode.INVALID_ARGUMENT,
            f"Unknown reader {reader!r}: choose one of {', '.join(READERS)}.",
        )
    set_id, set_version, number = _parse_criterion_key(key, version)
    set_def = _shipped_version(set_id, set_version)
    criterion = next((c for c in set_def["criteria"] if c["number"] == number), None)
    if criterion is None:
        raise CriteriaError(
            CriteriaErrorCode.INVALID_ARGUMENT,
            f"Criteria set {set_id!r} {set_def['version']} has no criterion {number}.",
        )
    if reader == "member":
        if language == "es" and criterion.get("text_es"):
            return str(criterion["text_es"])
        return str(criterion["text"])
    return staff_text(criterion["id"], set_def["version"]) or str(criterion["text"])


def criteria_set_title(set_id: str | None) -> str:
    """A set's title in words for staff pages ("Epidural steroid injection"), never its id;
    an id no shipped set has is shown in words."""
    if not set_id:
        return ""
    found = CRITERIA_SETS.get(set_id)
    return str(found["title"]) if found else str(set_id).replace("_", " ")


# --------------------------------------------------------------------------------------------
# Code map (PRODUCT §5)

# Procedure families; sessions are counted per member, family and region.
FAMILIES: dict[str, str] = {
    "esi": "Epidural steroid injection",
    "facet_mbb": "Facet medial branch block",
    "facet_rfa": "Facet radiofrequency ablation",
    "scs": "Spinal cord stimulator",
    "pump": "Intrathecal pain pump",
}

# first, last (inclusive), family, default set, other sets a request may choose, TAR needed.
# A TAR-needing range with no default set has no criteria: a physician reviews it.
# fmt: off
CODE_RANGES: tuple[dict[str, Any], ...] = (
    {"first": "62320", "last": "62321", "family": "esi", "set": "esi", "also": [],
     "tar": True, "what": "Interlaminar or caudal epidural injection"},
    # PRODUCT §5/§8: an ESI unless the request names the pump trial (single-shot trial).
    {"first": "62322", "last": "62323", "family": "esi", "set": "esi", "also": ["pump_trial"],
     "tar": True, "what": "Interlaminar or caudal injection (lumbar/sacral)"},
    {"first": "64479", "last": "64480", "family": "esi", "set": "esi", "also": [],
     "tar": True, "what": "Transforaminal epidural injection, cervical/thoracic"},
    {"first": "64483", "last": "64484", "family": "esi", "set": "esi", "also": [],
     "tar": True, "what": "Transforaminal epidural injection, lumbar/sacral"},
    {"first": "64490", "last": "64495", "family": "facet_mbb", "set": "facet_mbb", "also": [],
     "tar": True, "what": "Facet joint injection or medial branch block"},
    {"first": "64633", "last": "64636", "family": "facet_rfa", "set": "facet_rfa", "also": [],
     "tar": True, "what": "Facet nerve radiofrequency ablation"},
    {"first": "63650", "last": "63650", "family": "scs", "set": "scs_trial",
     "also": ["scs_permanent"], "tar": True, "what": "Spinal cord stimulator electrodes"},
    {"first": "63655", "last": "63655", "family": "scs", "set": "scs_permanent", "also": [],
     "tar": True, "what": "Spinal cord stimulator paddle electrodes"},
    {"first": "63685", "last": "63685", "family": "scs", "set": "scs_permanent", "also": [],
     "tar": True, "what": "Spinal cord stimulator generator"},
    {"first": "63661", "last": "63664", "family": "scs", "set": None, "also": [],
     "tar": True, "what": "Spinal cord stimulator electrode removal or revision"},
    {"first": "63688", "last": "63688", "family": "scs", "set": None, "also": [],
     "tar": True, "what": "Spinal cord stimulator generator removal or revision"},
    {"first": "62324", "last": "62327", "family": "pump", "set": "pump_trial", "also": [],
     "tar": True, "what": "Intrathecal catheter infusion (pump trial)"},
    {"first": "62350", "last": "62351", "family": "pump", "set": "pump_permanent", "also": [],
     "tar": True, "what": "Intrathecal catheter implant"},
    {"first": "62360", "last": "62362", "family": "pump", "set": "pump_permanent", "also": [],
     "tar": True, "what": "Intrathecal pump implant"},
    # 001 I.A.4: no TAR for post-implant analysis, refill and maintenance, removal.
    {"first": "62367", "last": "62370", "family": "pump", "set": None, "also": [],
     "tar": False, "what": "Pump analysis, reprogramming or refill"},
    {"first": "95990", "last": "95991", "family": "pump", "set": None, "also": [],
     "tar": False, "what": "Pump refill and maintenance"},
    {"first": "62355", "last": "62355", "family": "pump", "set": None, "also": [],
     "tar": False, "what": "Intrathecal catheter removal"},
    {"first": "62365", "last": "62365", "family": "pump", "set": None, "also": [],
     "tar": False, "what": "Intrathecal pump removal"},
)
# fmt: on


def _index_codes() -> dict[str, Mapping[str, Any]]:
    index: dict[str, Mapping[str, Any]] = {}
    for entry in CODE_RANGES:
        for number in range(int(entry["first"]), int(entry["last"]) + 1):
            code = f"{number:05d}"
            assert code not in index, f"{code} is mapped twice"
            index[code] = entry
    return index


_CODE_INDEX = _index_codes()


def _code_entry(code: str) -> Mapping[str, Any] | None:
    return _CODE_INDEX.get(code)


def is_no_tar_code(code: str) -> bool:
    """True for the pump codes that never need a TAR (001 I.A.4)."""
    entry = _code_entry(normalize_code(code))
    return entry is not None and not entry["tar"]


def criteria_set_for(code: str, chosen_set: str | None = None) -> str | None:
    """The criteria set id for a code (PRODUCT §5), honouring a chosen set where one code
    serves two purposes (62322-62323: ESI or pump trial; 63650: SCS trial or permanent).

    None when the code has no criteria set (outside the catalogue, SCS revision/removal, or
    a no-TAR pump code). Raises ``CriteriaError`` for a malformed code, an unknown set, or a
    chosen set that does not fit the code.
    """
    code = normalize_code(code)
    if chosen_set is not None:
        get_criteria_set(chosen_set)  # unknown id → CriteriaError
    entry = _code_entry(code)
    default = entry["set"] if entry is not None else None
    if chosen_set is None or chosen_set == default:
        return default
    if entry is not None and chosen_set in entry["also"]:
        return chosen_set
    raise CriteriaError(
        CriteriaErrorCode.CRITERIA_SET_NOT_FOR_CODE,
        f"Criteria set {chosen_set!r} does not apply to code {code}.",
        fields={"criteria_set": f"Criteria set {chosen_set!r} does not apply to code {code}."},
    )


def family_for_code(code: str, *, chosen_set: str | None = None) -> str | None:
    """The procedure family of a code (PRODUCT §5), or None outside the catalogue.

    62322-62323 are an ESI unless ``chosen_set`` is the pump trial.
    """
    set_id = criteria_set_for(code, chosen_set)
    if set_id is not None:
        return str(CRITERIA_SETS[set_id]["family"])
    entry = _code_entry(normalize_code(code))
    return None if entry is None else str(entry["family"])
