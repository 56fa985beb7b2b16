"""Spanish display of the criteria questionnaire (PRODUCT §6 answer keys), for the DTR
Questionnaire's translation extensions (Medi-Cal threshold language; PRODUCT §3).

The questions themselves (keys, types, options, English wording) are the criteria catalogue's;
this table only translates them, key by key. tests/fhir/test_dtr.py fails when a catalogue
question or option has no Spanish here, so a new question cannot ship English-only.
"""

from __future__ import annotations

# key: (label, help text, {choice: label})
QUESTIONS_ES: dict[str, tuple[str, str, dict[str, str]]] = {
    "pain_duration_weeks": (
        "¿Cuántas semanas ha durado este dolor?",
        "Cuente desde que empezó este dolor, en semanas completas.",
        {},
    ),
    "pain_score": (
        "¿Cuál es el nivel de dolor inicial del miembro, de 0 a 10?",
        "0 significa sin dolor y 10 el peor dolor imaginable, antes de este procedimiento.",
        {},
    ),
    "function_scale_documented": (
        "¿Está documentada una escala funcional inicial (por ejemplo ODI o NDI)?",
        "Una escala estándar de cuánto limita el dolor las actividades diarias, anotada antes "
        "del tratamiento.",
        {},
    ),
    "conservative_care_weeks": (
        "¿Cuántas semanas de atención conservadora ha probado el miembro sin suficiente alivio?",
        "Atención como medicinas, fisioterapia o cambios de actividad, en semanas completas.",
        {},
    ),
    "conservative_modalities": (
        "¿Qué tratamientos conservadores se probaron?",
        "Seleccione cada tipo de tratamiento probado para este dolor.",
        {
            "medications": "Medicinas",
            "physical_therapy": "Fisioterapia",
            "activity_modification": "Cambios de actividad",
            "home_exercise": "Programa de ejercicio en casa",
            "chiropractic": "Atención quiropráctica",
        },
    ),
    "radicular_findings": (
        "¿Coinciden la historia, el examen y las imágenes en dolor radicular, radiculopatía o "
        "claudicación neurogénica?",
        "Dolor de raíz nerviosa que se extiende a una extremidad, o síntomas en las piernas al "
        "caminar por estenosis espinal, con hallazgos concordantes.",
        {},
    ),
    "axial_pain": (
        "¿El dolor es principalmente axial (cuello o espalda, sin extenderse)?",
        "Dolor de cuello o espalda predominantemente no radicular.",
        {},
    ),
    "untreated_radiculopathy": (
        "¿Tiene el miembro radiculopatía o claudicación neurogénica aún sin tratar?",
        "Responda sí si hay síntomas de raíz nerviosa que no se han tratado.",
        {},
    ),
    "imaging_guidance": (
        "¿Qué guía por imágenes se usará?",
        "Cómo se guiará y confirmará la colocación de la aguja.",
        {
            "fluoroscopy": "Fluoroscopia",
            "ct": "Tomografía (CT)",
            "ultrasound": "Ultrasonido",
            "none": "Sin guía por imágenes",
        },
    ),
    "approach": (
        "¿Qué vía de acceso se usará?",
        "La vía de la inyección epidural.",
        {
            "interlaminar": "Interlaminar",
            "caudal": "Caudal",
            "transforaminal": "Transforaminal",
        },
    ),
    "levels": (
        "¿Cuántos niveles de la columna se tratarán en esta sesión?",
        "Cuente cada nivel vertebral tratado en esta sola sesión.",
        {},
    ),
    "spinal_region": (
        "¿Qué región de la columna se trata?",
        "Las sesiones se cuentan por región.",
        {
            "cervical": "Cervical (cuello)",
            "thoracic": "Torácica (parte media de la espalda)",
            "lumbar": "Lumbar (parte baja de la espalda)",
            "sacral": "Sacra",
        },
    ),
    "prior_sessions_12mo": (
        "¿Cuántas sesiones de este procedimiento ha tenido el miembro en esta región en los "
        "últimos 12 meses?",
        "No cuente la sesión que se pide ahora.",
        {},
    ),
    "prior_relief_percent": (
        "¿Cuánto alivio del dolor, en porcentaje, siguió a la última sesión de este procedimiento?",
        "De 0 a 100. Déjelo en blanco si no hubo una sesión anterior.",
        {},
    ),
    "prior_relief_weeks": (
        "¿Por cuántas semanas duró ese alivio?",
        "Semanas completas. Déjelo en blanco si no hubo una sesión anterior.",
        {},
    ),
    "mbb_relief_percents": (
        "¿Qué alivio del dolor, en porcentaje, siguió a cada bloqueo diagnóstico de rama medial?",
        "Un número de 0 a 100 por cada bloqueo hecho, en orden.",
        {},
    ),
    "prior_rfa_relief_percent": (
        "¿Cuánto alivio del dolor, en porcentaje, siguió a la última ablación en esta región?",
        "De 0 a 100. Déjelo en blanco si no hubo una ablación anterior.",
        {},
    ),
    "prior_rfa_relief_months": (
        "¿Por cuántos meses duró ese alivio?",
        "Meses completos. Déjelo en blanco si no hubo una ablación anterior.",
        {},
    ),
    "psych_evaluation_cleared": (
        "¿Una evaluación de salud del comportamiento aprobó al miembro para el dispositivo?",
        "Una evaluación psicológica hecha para este dispositivo.",
        {},
    ),
    "untreated_substance_use_disorder": (
        "¿Tiene el miembro un trastorno por uso de sustancias activo y sin tratar?",
        "Responda sí solo si el trastorno está activo y no se está tratando.",
        {},
    ),
    "trial_relief_percent": (
        "¿Cuánto alivio del dolor, en porcentaje, dio la prueba del dispositivo?",
        "De 0 a 100.",
        {},
    ),
    "trial_side_effects_acceptable": (
        "¿Fueron aceptables los efectos secundarios durante la prueba?",
        "Responda sí si el miembro toleró la prueba.",
        {},
    ),
    "trial_patient_accepts": (
        "¿Quiere el miembro el dispositivo permanente?",
        "Se le explicó el dispositivo al miembro y lo acepta.",
        {},
    ),
    "pain_origin": (
        "¿El dolor es maligno (relacionado con cáncer) o no maligno?",
        "El origen del dolor que se trata.",
        {
            "malignant": "Maligno (relacionado con cáncer)",
            "non_malignant": "No maligno",
        },
    ),
    "life_expectancy_months": (
        "¿Cuál es la supervivencia esperada del miembro, en meses?",
        "El cálculo del médico tratante, en meses completos.",
        {},
    ),
    "contraindications": (
        "¿Qué contraindicaciones para el dispositivo están presentes?",
        "Seleccione cada una presente; seleccione ninguna si no hay.",
        {
            "infection": "Infección activa",
            "coagulopathy": "Trastorno de sangrado o coagulación",
            "body_size": "Tamaño corporal demasiado pequeño para el dispositivo",
            "other": "Otra contraindicación",
        },
    ),
    "specialist_confirms_alternatives_failed": (
        "¿Encontró un especialista que los tratamientos menos invasivos fallaron o no se "
        "toleraron?",
        "De una evaluación de especialista para este dispositivo.",
        {},
    ),
}

NONE_OF_THESE_ES = "Ninguno de estos"
YES_ES = "Sí"
