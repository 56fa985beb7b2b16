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
from authorizations import selectors
from authorizations.member_lookup import LookupResult, provider_member_lookup
from authorizations.services import LineInput, TarInput
from criteria.coverage import Coverage, CoverageStatus, MemberFacts
from criteria.engine import CriteriaError
from criteria.pa_list import coverage_lookup
from members.models import Member
from portal import selectors as portal_selectors
from portal.forms import LineForm, MemberLookupForm, QuestionsForm, RequestForm
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


@dataclass
class LineCoverage:
    code: str
    coverage: Coverage | None = None
    error: str = ""

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
