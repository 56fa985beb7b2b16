"""The new-TAR flow over a `TarDraft`: which forms each step shows, binding them to what the
draft holds, the per-code coverage answer, and turning a complete draft into a `TarInput`.

A draft keeps what was typed, step by step. Nothing is trusted: submitting binds every form
to the stored values again and hands the result to `tar_submit`, which decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from accounts.models import User
from authorizations import icd10, selectors
from authorizations.member_lookup import LookupResult, provider_member_lookup
from authorizations.models import Referral
from authorizations.services import LineInput, TarInput, tar_input_problems
from authorizations.validators import is_procedure_code
from criteria import catalog
from criteria.coverage import Coverage, CoverageStatus, MemberFacts
from criteria.engine import CriteriaError
from criteria.pa_list import coverage_lookup, pa_list_rows
from members.models import Member
from portal import selectors as portal_selectors
from portal.forms import LineForm, MemberLookupForm, QuestionsForm, RequestForm, split_codes
from portal.models import TarDraft
from tar_portal.errors import DomainError

STEPS = (
    ("member", "Member"),
    ("request", "Request and services"),
    ("questions", "Clinical questions"),
    ("documents", "Documents"),
    ("review", "Review and submit"),
)
MAX_LINES = 5


def raw_values(form: forms.Form, data) -> dict[str, Any]:
    """The form's fields as typed (strings; lists for multiple choices), unprefixed."""
    values: dict[str, Any] = {}
    for name, form_field in form.fields.items():
        key = form.add_prefix(name)
        if getattr(form_field.widget, "allow_multiple_selected", False):
            values[name] = [_text(v, 200) for v in data.getlist(key)][:20]
        elif not isinstance(form_field, forms.FileField):
            values[name] = _text(data.get(key, ""), 8000)
    return values


def _text(value: Any, limit: int) -> str:
    # PostgreSQL's JSON cannot hold NUL; the forms refuse it anyway when they validate.
    return str(value).replace("\x00", "")[:limit]


def bind_data(raw: dict[str, Any] | None, prefix: str | None = None) -> MultiValueDict:
    """Stored raw values → data a form can be bound to."""
    data = MultiValueDict()
    for name, value in (raw or {}).items():
        key = f"{prefix}-{name}" if prefix else name
        if isinstance(value, list):
            data.setlist(key, [str(v) for v in value])
        else:
            data[key] = "" if value is None else str(value)
    return data


def stored(draft: TarDraft, step: str) -> dict[str, Any]:
    value = draft.data.get(step)
    return value if isinstance(value, dict) else {}


def stored_lines(draft: TarDraft) -> list[dict[str, Any]]:
    lines = draft.data.get("lines")
    if not isinstance(lines, list) or not lines:
        return [{}]
    return [line if isinstance(line, dict) else {} for line in lines[:MAX_LINES]]


# --- member ---------------------------------------------------------------------------------


def find_member(user: User, draft: TarDraft) -> Member | None:
    """The member the draft names, once the provider has looked them up (CIN + date of
    birth) and only if the office cares for them (authorizations.member_lookup): the later
    steps show the member's record, which an eligibility-only lookup does not open."""
    form = MemberLookupForm(bind_data(stored(draft, "member")))
    if not form.is_valid():
        return None
    try:
        member = selectors.member_get(user=user, cin=form.cleaned_data["cin"])
    except DomainError:
        return None
    return member if member.date_of_birth == form.cleaned_data["date_of_birth"] else None


def lookup_member(
    user: User, cin: str, date_of_birth: date, request: HttpRequest | None = None
) -> LookupResult | None:
    """The provider's lookup at the member step, written to the lookup audit: the member
    only if the CIN and the date of birth both match (a mistyped CIN must not land on
    another member); eligibility only unless the office cares for the member."""
    return provider_member_lookup(
        user=user, cin=cin, date_of_birth=date_of_birth, channel="portal", request=request
    )


def member_summary(result: LookupResult) -> dict[str, Any]:
    """What the draft keeps of a lookup. No name for an eligibility-only lookup."""
    member = result.member
    today = timezone.localdate()
    summary: dict[str, Any] = {
        "cin": member.cin,
        "eligible_today": member.is_eligible_on(today),
        "related": result.related,
    }
    if result.related:
        summary["name"] = member.full_name
        summary["date_of_birth"] = member.date_of_birth.isoformat()
    return summary


# --- request and lines ----------------------------------------------------------------------


def request_form(user: User, member: Member | None, data=None, initial=None) -> RequestForm:
    providers = portal_selectors.organization_providers(user=user)
    referrals = (
        portal_selectors.member_referrals(user=user, member=member) if member is not None else []
    )
    return RequestForm(data, initial=initial, providers=providers, referrals=referrals)


def line_forms(draft: TarDraft, data=None) -> list[LineForm]:
    lines = stored_lines(draft)
    if data is not None:
        count = max(1, min(int(data.get("line_count") or len(lines) or 1), MAX_LINES))
        return [LineForm(data, prefix=f"line-{i}") for i in range(count)]
    return [LineForm(initial=line or None, prefix=f"line-{i}") for i, line in enumerate(lines)]


def preselected_referral(referrals) -> Referral | None:
    """The member's RAF to the office when exactly one is valid today: the provider then has
    nothing to choose (issue 15). With two or none, the provider chooses."""
    today = timezone.localdate()
    valid = [r for r in referrals if r.is_valid_on(today)]
    return valid[0] if len(valid) == 1 else None


def _line_input(form: LineForm) -> LineInput:
    cleaned = form.cleaned_data
    return LineInput(
        code=cleaned["code"],
        units=cleaned["units"],
        service_date_from=cleaned["service_date_from"],
        service_date_to=cleaned["service_date_to"],
        diagnosis_codes=cleaned["diagnosis_codes"],
        modifiers=cleaned["modifiers"],
        spinal_region=cleaned["spinal_region"],
        criteria_set=cleaned["criteria_set"],
    )


def plan_code(code: str) -> str | None:
    """What the plan's code table says a CPT/HCPCS code is (the PA list's description, or the
    criteria family it belongs to), or None for a code the plan does not know (issue 15)."""
    code = code.strip().upper()
    for row in pa_list_rows():
        same_kind = row.code_from[:1].isdigit() == code[:1].isdigit()
        if same_kind and len(row.code_from) == len(code) and row.code_from <= code <= row.code_to:
            return row.description or code
    family = catalog.family_for_code(code)
    return str(family) if family else None


UNKNOWN_CODE = (
    "{code} is not in the plan's code table (its prior-authorization list and criteria). "
    "Check the code: the plan authorizes pain-management procedures."
)


def check_request_step(
    form: RequestForm, lines: list[LineForm], line_coverages: list[LineCoverage | None]
) -> bool:
    """The request step's checks when the provider continues, each error on its field: the
    forms' parsing first, then the same checks `tar_submit` makes (authorizations.services
    tar_input_problems), the plan's code table, and whether the code needs a TAR at all.
    True when the step is complete."""
    request_ok = form.is_valid()
    valid_lines = [(index, line) for index, line in enumerate(lines) if line.is_valid()]
    line_inputs = [_line_input(line) for _, line in valid_lines]
    for index, line in valid_lines:
        code = line.cleaned_data["code"]
        item = line_coverages[index] if index < len(line_coverages) else None
        if is_procedure_code(code) and plan_code(code) is None:
            line.add_error("code", UNKNOWN_CODE.format(code=code))
        elif item is not None and item.coverage is not None and item.blocks:
            line.add_error("code", f"No TAR is needed for {item.code}: {item.coverage.reason}")
    cleaned = form.cleaned_data if request_ok else {}
    data = TarInput(
        member="",
        servicing_provider="",
        request_type=cleaned.get("request_type", ""),
        urgency=cleaned.get("urgency", ""),
        urgency_reason=cleaned.get("urgency_reason", ""),
        place_of_service=cleaned.get("place_of_service", ""),
        date_of_service=cleaned.get("date_of_service"),
        primary_denial_date=cleaned.get("primary_denial_date"),
        retro_eligibility_date=cleaned.get("retro_eligibility_date"),
        lines=line_inputs,
    )
    for key, messages in tar_input_problems(data=data).items():
        if key == "lines":  # no line parsed: the lines' own errors say why
            continue
        target_form: forms.Form | None = form if request_ok else None
        name = key
        if key.startswith("lines["):
            position, _, name = key.removeprefix("lines[").partition("].")
            if not position.isdigit() or int(position) >= len(valid_lines):
                continue
            target_form = valid_lines[int(position)][1]
        if target_form is None:
            continue
        for message in messages:
            target_form.add_error(name if name in target_form.fields else None, message)
    return form.is_valid() and all(not line.errors for line in lines)


def diagnosis_titles(codes) -> list[tuple[str, str]]:
    """(code, title) for each code; the title is empty for a code ICD-10-CM does not have."""
    if isinstance(codes, str):
        codes = split_codes(codes)
    found = []
    for code in codes or []:
        item = icd10.describe(str(code))
        found.append((item.code, item.title) if item else (str(code), ""))
    return found


def ordered_answers(answers: dict[str, Any] | None) -> list[tuple[str, Any]]:
    """The answers in the questionnaire's order (PRODUCT §6 catalogue), unknown keys last."""
    answers = answers or {}
    order = {key: index for index, key in enumerate(catalog.QUESTIONS)}
    return sorted(answers.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))


@dataclass
class LineCoverage:
    code: str
    coverage: Coverage | None = None
    error: str = ""
    known: bool = True  # in the plan's code table (plan_code)

    @property
    def blocks(self) -> bool:
        """No TAR is needed: there is nothing to submit. A member not eligible on the date
        does not block: the plan receives the request and closes it with its notice, and the
        confirm step warns first (PRODUCT §4 "received, not refused")."""
        return self.coverage is not None and self.coverage.status == CoverageStatus.NOT_REQUIRED


def member_facts(member: Member, day: date) -> MemberFacts:
    return MemberFacts(
        eligible_on_date=member.is_eligible_on(day),
        hospice=member.hospice,
        terminal_condition=member.terminal_condition,
        cancer=member.cancer_diagnosis,
    )


def line_coverage(member: Member | None, line: dict[str, Any]) -> LineCoverage | None:
    """PRODUCT §5 for one typed line: is a TAR required for this code, member and date?"""
    code = str(line.get("code") or "").strip().upper()
    if not code:
        return None
    if is_procedure_code(code) and plan_code(code) is None:
        return LineCoverage(code=code, error=UNKNOWN_CODE.format(code=code), known=False)
    try:
        day = date.fromisoformat(str(line.get("service_date_from") or ""))
    except ValueError:
        day = timezone.localdate()
    try:
        coverage = coverage_lookup(
            code=code,
            service_date=day,
            member=member_facts(member, day) if member is not None else None,
            chosen_set=str(line.get("criteria_set") or "") or None,
        )
    except CriteriaError as exc:
        return LineCoverage(code=code, error=exc.message)
    return LineCoverage(code=code, coverage=coverage)


def coverages(draft: TarDraft, member: Member | None) -> list[LineCoverage | None]:
    return [line_coverage(member, line) for line in stored_lines(draft)]


def question_keys(line_coverages: list[LineCoverage | None]) -> list[str]:
    """The answer keys the lines' criteria sets need, each once, in criterion order."""
    keys: dict[str, None] = {}
    for item in line_coverages:
        if item is not None and item.coverage is not None:
            for key in item.coverage.questions:
                keys.setdefault(key, None)
    return list(keys)


# --- submission -----------------------------------------------------------------------------


@dataclass
class Collected:
    data: TarInput | None
    # step → messages that keep the draft from being submitted
    problems: dict[str, list[str]] = field(default_factory=dict)


def collect(user: User, draft: TarDraft) -> Collected:
    """Bind every step to the draft and build the TarInput, or say which steps need work."""
    problems: dict[str, list[str]] = {}
    member = find_member(user, draft)
    if member is None:
        problems.setdefault("member", []).append("Find the member by CIN and date of birth.")
    req = request_form(user, member, data=bind_data(stored(draft, "request")))
    if not req.is_valid():
        problems.setdefault("request", []).append("Complete the request details.")
    lines = [LineForm(bind_data(raw)) for raw in stored_lines(draft)]
    if not all(form.is_valid() for form in lines):
        problems.setdefault("request", []).append("Complete every service line.")
    line_coverages = coverages(draft, member)
    for item in line_coverages:
        if item is not None and item.blocks:
            problems.setdefault("request", []).append(f"{item.code}: {item.coverage.reason}")
        if item is not None and not item.known:
            problems.setdefault("request", []).append(item.error)
    questions = QuestionsForm(
        bind_data(stored(draft, "questions")), keys=question_keys(line_coverages)
    )
    answers = questions.validated_answers() if questions.is_valid() else None
    if answers is None:
        problems.setdefault("questions", []).append("Correct the answers to the questions.")
    if problems:
        return Collected(data=None, problems=problems)
    assert member is not None and answers is not None
    cleaned = req.cleaned_data
    data = TarInput(
        member=member.cin,
        servicing_provider=cleaned["servicing_provider"],
        request_type=cleaned["request_type"],
        urgency=cleaned["urgency"],
        urgency_reason=cleaned["urgency_reason"],
        place_of_service=cleaned["place_of_service"],
        servicing_facility=cleaned["servicing_facility"],
        referral=int(cleaned["referral"]) if cleaned["referral"] else None,
        date_of_service=cleaned["date_of_service"],
        primary_denial_date=cleaned["primary_denial_date"],
        retro_eligibility_date=cleaned["retro_eligibility_date"],
        answers=answers,
        lines=[
            LineInput(
                code=form.cleaned_data["code"],
                units=form.cleaned_data["units"],
                service_date_from=form.cleaned_data["service_date_from"],
                service_date_to=form.cleaned_data["service_date_to"],
                diagnosis_codes=form.cleaned_data["diagnosis_codes"],
                modifiers=form.cleaned_data["modifiers"],
                spinal_region=form.cleaned_data["spinal_region"],
                criteria_set=form.cleaned_data["criteria_set"],
            )
            for form in lines
        ],
    )
    return Collected(data=data)


def step_for_error_field(key: str) -> str:
    """Which step fixes a `tar_submit` field error."""
    if key == "member":
        return "member"
    if key.startswith("answers"):
        return "questions"
    return "request"


def error_field_label(key: str) -> str:
    """A `tar_submit` field key in the provider's words: `lines[0].diagnosis_codes` →
    "Service line 1: Diagnosis codes (ICD-10-CM)"."""
    if key.startswith("lines["):
        position, _, name = key.removeprefix("lines[").partition("].")
        field = LineForm.base_fields.get(name)
        number = int(position) + 1 if position.isdigit() else position
        return f"Service line {number}: {field.label}" if field else f"Service line {number}"
    if key.startswith("answers."):
        question = catalog.QUESTIONS.get(key.removeprefix("answers."))
        return str(question["label"]) if question else "Clinical questions"
    field = RequestForm.base_fields.get(key)
    if field is not None:
        return str(field.label)
    return {"member": "Member"}.get(key, key.replace("_", " ").capitalize())
