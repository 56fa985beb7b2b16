"""The short bilingual words letters print for codes: outcomes, reasons, services, dates.

Letters speak the member's written language (PRODUCT §3, §7); the stored codes stay English
identifiers. Everything here is the product's own wording. Pure data and pure functions.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from criteria import catalog

PACIFIC = ZoneInfo("America/Los_Angeles")
LANGUAGES = ("en", "es")

# Phone lines printed on adverse notices besides the plan's own (PRODUCT §7).
OMBUDSMAN_PHONE = "1-888-452-8609"  # Medi-Cal Managed Care Ombudsman (DHCS)
# California Department of Social Services, State Hearings; confirm against DHCS's current
# notice inserts before go-live (they change rarely).
STATE_HEARING_PHONE = "1-855-795-0634"
STATE_HEARING_TTY = "1-800-952-8349"
# California Department of Managed Health Care Help Center (independent medical review).
DMHC_PHONE = "1-888-466-2219"
DMHC_TTY = "1-877-688-9891"
TTY = "711"

_MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
}


def format_date(day: date | datetime | None, language: str) -> str:
    """`March 5, 2026` / `5 de marzo de 2026`; a datetime is shown on its Pacific date."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = day.astimezone(PACIFIC).date()
    month = _MONTHS[_lang(language)][day.month - 1]
    if _lang(language) == "es":
        return f"{day.day} de {month} de {day.year}"
    return f"{month} {day.day}, {day.year}"


def format_datetime(instant: datetime | None, language: str) -> str:
    """A deadline as people read it, in Pacific time."""
    if instant is None:
        return ""
    local = instant.astimezone(PACIFIC)
    day = format_date(local, language)
    if _lang(language) == "es":
        return f"{day}, a las {local:%H:%M} (hora del Pacífico)"
    hour = local.hour % 12 or 12
    meridian = "a.m." if local.hour < 12 else "p.m."
    return f"{day}, at {hour}:{local:%M} {meridian} Pacific time"


def _lang(language: str) -> str:
    return language if language in LANGUAGES else "en"


def pick(table: dict[str, dict[str, str]], key: str, language: str) -> str:
    entry = table.get(key)
    if entry is None:
        return key
    return entry[_lang(language)]


OUTCOMES: dict[str, dict[str, str]] = {
    "approved": {"en": "Approved", "es": "Aprobado"},
    "modified": {"en": "Approved with changes", "es": "Aprobado con cambios"},
    "denied": {"en": "Denied", "es": "Negado"},
    "closed": {"en": "Closed", "es": "Cerrado"},
    "pending": {"en": "Not yet decided", "es": "Aún sin decidir"},
}

# Decision reason codes (authorizations.models.ReasonCode), in plain words.
REASONS: dict[str, dict[str, str]] = {
    "medical_necessity": {
        "en": "The medical records we received do not show that the service meets the plan's "
        "medical-necessity criteria.",
        "es": "Los registros médicos que recibimos no muestran que el servicio cumpla los "
        "criterios de necesidad médica del plan.",
    },
    "not_a_benefit": {
        "en": "The service is not a benefit that Medi-Cal covers through this plan.",
        "es": "El servicio no es un beneficio que Medi-Cal cubra por medio de este plan.",
    },
    "not_eligible": {
        "en": "Our records show no Medi-Cal coverage with this plan on the date of service.",
        "es": "Nuestros registros no muestran cobertura de Medi-Cal con este plan en la fecha "
        "del servicio.",
    },
    "duplicate": {
        "en": "The same service was already requested in another request.",
        "es": "El mismo servicio ya se había pedido en otra solicitud.",
    },
    "no_authorization_required": {
        "en": "This service does not need approval before it is given.",
        "es": "Este servicio no necesita aprobación antes de darse.",
    },
    "requirements_not_met": {
        "en": "The plan covers this service from a pain management specialist only with a "
        "referral (RAF) from the member's primary care provider, given by a specialist the "
        "plan has credentialed; the request did not meet that requirement.",
        "es": "El plan cubre este servicio de un especialista en manejo del dolor solo con una "
        "remisión (RAF) del proveedor de atención primaria del miembro, dado por un "
        "especialista acreditado por el plan; la solicitud no cumplió ese requisito.",
    },
}

# Extension reasons (authorizations.models.ExtensionReason).
EXTENSION_REASONS: dict[str, dict[str, str]] = {
    "information_not_received": {
        "en": "We asked for medical information and have not received it yet.",
        "es": "Pedimos información médica y todavía no la hemos recibido.",
    },
    "expert_review_needed": {
        "en": "A specialist or expert needs to review the request.",
        "es": "Un especialista o experto necesita revisar la solicitud.",
    },
    "additional_exam_needed": {
        "en": "Another examination or test is needed before we can decide.",
        "es": "Se necesita otro examen o prueba antes de poder decidir.",
    },
    "requested_by_member_or_provider": {
        "en": "The member or the provider asked us for more time.",
        "es": "El miembro o el proveedor nos pidió más tiempo.",
    },
}

# Appeal extension reasons (authorizations.models.AppealExtensionReason; 42 CFR
# 438.408(c)(1)(i) and (ii)).
APPEAL_EXTENSION_REASONS: dict[str, dict[str, str]] = {
    "requested_by_member": {
        "en": "The member asked us for more time to decide the appeal.",
        "es": "El miembro nos pidió más tiempo para decidir la apelación.",
    },
    "information_needed": {
        "en": "We need more information to decide the appeal, and waiting for it is in the "
        "member's interest.",
        "es": "Necesitamos más información para decidir la apelación, y esperarla es en "
        "beneficio del miembro.",
    },
}

REQUEST_TYPES: dict[str, dict[str, str]] = {
    "pre_service": {"en": "before the service", "es": "antes del servicio"},
    "concurrent": {"en": "during ongoing care", "es": "durante la atención en curso"},
    "post_service": {"en": "after the service was given", "es": "después de dar el servicio"},
}

URGENCIES: dict[str, dict[str, str]] = {
    "urgent": {"en": "Urgent", "es": "Urgente"},
    "routine": {"en": "Routine", "es": "De rutina"},
}

REGIONS: dict[str, dict[str, str]] = {
    "cervical": {"en": "neck (cervical)", "es": "cuello (cervical)"},
    "thoracic": {"en": "mid back (thoracic)", "es": "parte media de la espalda (torácica)"},
    "lumbar": {"en": "lower back (lumbar)", "es": "parte baja de la espalda (lumbar)"},
    "sacral": {"en": "base of the spine (sacral)", "es": "base de la columna (sacra)"},
}

# Spanish for the catalogue's short service descriptions (criteria.catalog.CODE_RANGES "what").
_SERVICES_ES: dict[str, str] = {
    "Interlaminar or caudal epidural injection": "Inyección epidural interlaminar o caudal",
    "Interlaminar or caudal injection (lumbar/sacral)": (
        "Inyección interlaminar o caudal (lumbar/sacra)"
    ),
    "Transforaminal epidural injection, cervical/thoracic": (
        "Inyección epidural transforaminal, cervical/torácica"
    ),
    "Transforaminal epidural injection, lumbar/sacral": (
        "Inyección epidural transforaminal, lumbar/sacra"
    ),
    "Facet joint injection or medial branch block": (
        "Inyección en articulación facetaria o bloqueo de rama medial"
    ),
    "Facet nerve radiofrequency ablation": "Ablación por radiofrecuencia de nervios facetarios",
    "Spinal cord stimulator electrodes": "Electrodos de estimulador de la médula espinal",
    "Spinal cord stimulator paddle electrodes": (
        "Electrodos de paleta de estimulador de la médula espinal"
    ),
    "Spinal cord stimulator generator": "Generador de estimulador de la médula espinal",
    "Spinal cord stimulator electrode removal or revision": (
        "Retiro o revisión de electrodos de estimulador de la médula espinal"
    ),
    "Spinal cord stimulator generator removal or revision": (
        "Retiro o revisión del generador de estimulador de la médula espinal"
    ),
    "Intrathecal catheter infusion (pump trial)": (
        "Infusión por catéter intratecal (prueba de bomba)"
    ),
    "Intrathecal catheter implant": "Implante de catéter intratecal",
    "Intrathecal pump implant": "Implante de bomba intratecal",
    "Pump analysis, reprogramming or refill": "Análisis, reprogramación o recarga de la bomba",
    "Pump refill and maintenance": "Recarga y mantenimiento de la bomba",
    "Intrathecal catheter removal": "Retiro del catéter intratecal",
    "Intrathecal pump removal": "Retiro de la bomba intratecal",
}


def service_description(code: str, language: str) -> str:
    """The product's short wording for a CPT/HCPCS code (PRODUCT §5), or a neutral phrase."""
    for entry in catalog.CODE_RANGES:
        if entry["first"] <= code <= entry["last"] and len(code) == len(entry["first"]):
            what = str(entry["what"])
            return _SERVICES_ES.get(what, what) if _lang(language) == "es" else what
    return "Servicio solicitado" if _lang(language) == "es" else "Requested service"


# What an information request asks for, by answer key (PRODUCT §6 questionnaire).
_QUESTION_ES: dict[str, str] = {
    "pain_duration_weeks": "Cuántas semanas ha durado este dolor",
    "pain_score": "Puntuación de dolor inicial (0 a 10)",
    "function_scale_documented": "Escala funcional inicial documentada (por ejemplo ODI o NDI)",
    "conservative_care_weeks": "Semanas de tratamiento conservador probado",
    "conservative_modalities": "Tipos de tratamiento conservador probados",
    "radicular_findings": "Hallazgos radiculares concordantes (historia, examen e imágenes)",
    "axial_pain": "Si el dolor es principalmente axial (cuello o espalda)",
    "untreated_radiculopathy": "Radiculopatía o claudicación neurogénica sin tratar",
    "imaging_guidance": "Guía por imágenes del procedimiento",
    "approach": "Vía de acceso de la inyección",
    "levels": "Niveles de la columna en esta sesión",
    "spinal_region": "Región de la columna",
    "prior_sessions_12mo": "Sesiones previas de este procedimiento en 12 meses",
    "prior_relief_percent": "Porcentaje de alivio después de la última sesión",
    "prior_relief_weeks": "Semanas de alivio después de la última sesión",
    "mbb_relief_percents": "Alivio de cada bloqueo de rama medial",
    "prior_rfa_relief_percent": "Porcentaje de alivio después de la última ablación",
    "prior_rfa_relief_months": "Meses de alivio después de la última ablación",
    "psych_evaluation_cleared": "Evaluación de salud conductual que autoriza el dispositivo",
    "untreated_substance_use_disorder": "Trastorno por uso de sustancias activo sin tratar",
    "trial_relief_percent": "Alivio del dolor durante la prueba del dispositivo",
    "trial_side_effects_acceptable": "Efectos secundarios aceptables durante la prueba",
    "trial_patient_accepts": "Si el miembro acepta el dispositivo",
    "pain_origin": "Origen del dolor (maligno o no maligno)",
    "life_expectancy_months": "Expectativa de vida en meses",
    "contraindications": "Contraindicaciones",
    "specialist_confirms_alternatives_failed": (
        "Evaluación de especialista de que otros tratamientos fallaron o no son adecuados"
    ),
}


def question_label(key: str, language: str) -> str:
    if _lang(language) == "es" and key in _QUESTION_ES:
        return _QUESTION_ES[key]
    question = catalog.QUESTIONS.get(key)
    return str(question["label"]) if question else key.replace("_", " ")


CRITERION_RESULTS: dict[str, dict[str, str]] = {
    "not_met": {
        "en": "Not met, based on the medical records we received.",
        "es": "No se cumple, según los registros médicos que recibimos.",
    },
    "unknown": {
        "en": "We could not tell: the information was missing from the records we received.",
        "es": "No pudimos saberlo: la información faltaba en los registros que recibimos.",
    },
    "met": {
        "en": "Met, based on the medical records we received.",
        "es": "Se cumple, según los registros médicos que recibimos.",
    },
    "": {
        "en": "Applied by the physician reviewer to the medical records we received.",
        "es": "El médico revisor lo aplicó a los registros médicos que recibimos.",
    },
}

APPEAL_OUTCOMES: dict[str, dict[str, str]] = {
    "upheld": {"en": "The plan's decision is upheld", "es": "Se mantiene la decisión del plan"},
    "overturned": {"en": "Decision overturned: approved", "es": "Decisión revocada: aprobado"},
    "partially_overturned": {
        "en": "Decision partly overturned",
        "es": "Decisión revocada en parte",
    },
}

IMR_TYPES: dict[str, dict[str, str]] = {
    "standard": {"en": "standard", "es": "estándar"},
    "expedited": {"en": "expedited", "es": "acelerada"},
    "retrospective": {"en": "retrospective", "es": "retrospectiva"},
}

# Spanish titles of the shipped criteria sets (the set id and version identify the exact text).
_SET_TITLES_ES: dict[str, str] = {
    "esi": "inyección epidural de esteroides",
    "facet_mbb": "bloqueo de rama medial de articulación facetaria",
    "facet_rfa": "ablación por radiofrecuencia de articulación facetaria",
    "scs_trial": "prueba de estimulador de la médula espinal",
    "scs_permanent": "implante permanente de estimulador de la médula espinal",
    "pump_trial": "prueba de bomba intratecal para el dolor",
    "pump_permanent": "implante permanente de bomba intratecal para el dolor",
}


def set_title(set_id: str, title: str, language: str) -> str:
    if _lang(language) == "es":
        return _SET_TITLES_ES.get(set_id, title)
    return title
