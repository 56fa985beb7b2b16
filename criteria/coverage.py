"""Is a TAR required? (PRODUCT §5) - a pure function of the code, the date, member facts and
the plan's prior-authorization (PA) list.

The PA list is the plan's data (criteria.models.PaListEntry, kept by the UM manager): codes and
code ranges with effective dates, each saying whether a TAR is required, with its rule and
source. Callers with a database use ``criteria.selectors.coverage_lookup`` (same arguments),
which loads the list in force; ``coverage_requirement`` takes the rows as ``pa_list`` and,
given none, uses the shipped seed list ``DEFAULT_PA_LIST``.

The rules are checked in a fixed order, and the first that applies answers:

1. member not eligible on the date of service → ``not_covered`` (no TAR can pay for it);
2. the code is not on the PA list → ``not_required`` ("not on the plan's prior-authorization
   list", PRODUCT §5);
3. the list entry says no TAR → ``not_required`` with the entry's rule and source (emergency
   services, mental health, family planning, pump maintenance and removal, devices billed
   with an authorized procedure);
4. pump trial or implant for a hospice member, a member with a terminal condition, or with
   cancer → ``not_required`` (001 I.A.1, I.A.2, I.A.3, in that order);
5. pain-management procedure (ESI, facet, RFA, SCS, pump) → ``required``, with a RAF from the
   PCP and a credentialed pain specialist (000), and the criteria set's questions;
6. any other code on the list → ``required``, no criteria set (a physician reviews).

Without member facts (``member=None``) rules 1 and 4 cannot be checked; the answer is what
the code alone requires, and the reason says the exemptions were not checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from criteria.catalog import (
    CODE_RANGES,
    CRITERIA_SETS,
    criteria_set_effective_on,
    criteria_set_for,
    family_for_code,
    questions_for,
)
from criteria.engine import CriteriaError, CriteriaErrorCode, normalize_code

__all__ = [
    "DEFAULT_PA_LIST",
    "Coverage",
    "CoverageRule",
    "CoverageStatus",
    "MemberFacts",
    "PaListRow",
    "coverage_requirement",
    "pa_list_entry",
]


class CoverageStatus(StrEnum):
    REQUIRED = "required"  # a TAR must be approved before the service
    NOT_REQUIRED = "not_required"  # no TAR needed (an exemption or a no-TAR service)
    NOT_COVERED = "not_covered"  # the plan cannot pay for it on that date (not eligible)


class CoverageRule(StrEnum):
    """Stable ids of the rule that answered. A retired id is never reused (STYLE 4)."""

    # 001 policy statement: eligibility on the date of service; PRODUCT §2 non-medical closure
    MEMBER_NOT_ELIGIBLE = "member_not_eligible"
    # 002 "Emergency Room Visits": never prior authorization
    EMERGENCY_ROOM_VISIT = "emergency_room_visit"
    # 002 parity: direct access to an initial mental-health assessment
    MENTAL_HEALTH_INITIAL_ASSESSMENT = "mental_health_initial_assessment"
    # 002 parity: no referral or prior authorization for any mental-health service
    MENTAL_HEALTH_SERVICE = "mental_health_service"
    # 001 I.A.4.b-c: analysis after implantation, refilling and maintenance
    PUMP_ANALYSIS_REFILL = "pump_analysis_refill"
    # 001 I.A.4.d: removal or revision of the implanted device
    PUMP_REMOVAL = "pump_removal"
    # 001 I.A.1: hospice patient
    PUMP_HOSPICE_MEMBER = "pump_hospice_member"
    # 001 I.A.2: terminal condition, not in hospice
    PUMP_TERMINAL_CONDITION = "pump_terminal_condition"
    # 001 I.A.3: cancer or a condition associated with it
    PUMP_CANCER = "pump_cancer"
    # 000 VI.E.1: the pain specialist submits a TAR for ESI, facet, RFA and SCS procedures
    PAIN_PROCEDURE_TAR = "pain_procedure_tar"
    # 000 VI.E.1: SCS revision/removal needs a TAR; no criteria set, a physician reviews
    SCS_REVISION_REMOVAL_TAR = "scs_revision_removal_tar"
    # 001 I.A: pump trial, permanent placement and single-shot intrathecal injection
    PUMP_PROCEDURE_TAR = "pump_procedure_tar"
    # Retired (issue 11 row 12): every code outside the catalogue used to require a TAR
    OUTSIDE_CATALOGUE = "outside_catalogue"
    # PRODUCT §5: a code not on the plan's prior-authorization list needs no TAR
    NOT_ON_PA_LIST = "not_on_pa_list"
    # PRODUCT §5: on the plan's PA list outside the pain catalogue; a physician reviews
    PA_LIST_REQUIRED = "pa_list_required"
    # 002 "Emergency Room Visits"; 42 CFR 438.114: emergency services (e.g. ambulance)
    EMERGENCY_SERVICE = "emergency_service"
    # 42 CFR 431.51: family-planning and sensitive services, free choice, no TAR
    FAMILY_PLANNING = "family_planning"
    # 001 I.A.4.a: a device billed with an authorized procedure needs no separate TAR
    DEVICE_WITH_AUTHORIZED_PROCEDURE = "device_with_authorized_procedure"


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberFacts:
    """What the plan knows of the member on the date of service (PRODUCT §3 clinical flags)."""

    eligible_on_date: bool
    hospice: bool = False
    terminal_condition: bool = False
    cancer: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    status: CoverageStatus
    tar_required: bool
    reason: str  # plain words, fit for a provider or a member
    source: str  # citation, e.g. "001 I.A.1"
    rule: CoverageRule
    criteria_set: str | None = None
    criteria_set_version: str | None = None
    questions: tuple[str, ...] = ()  # answer keys the criteria set needs
    requirements: tuple[str, ...] = ()  # what the TAR must carry besides the answers

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "tar_required": self.tar_required,
            "reason": self.reason,
            "source": self.source,
            "rule": self.rule.value,
            "criteria_set": self.criteria_set,
            "criteria_set_version": self.criteria_set_version,
            "questions": list(self.questions),
            "requirements": list(self.requirements),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PaListRow:
    """One entry of the plan's prior-authorization list: a code or an inclusive range of
    codes of one kind (CPT 5 digits, or HCPCS letter + 4 digits), in force from
    ``effective_from`` to ``effective_to`` (inclusive; None = open)."""

    code_from: str
    code_to: str
    effective_from: date
    effective_to: date | None
    tar_required: bool
    rule: str  # a CoverageRule value
    source: str
    description: str

    def covers(self, code: str, on: date) -> bool:
        if on < self.effective_from or (self.effective_to is not None and on > self.effective_to):
            return False
        return _same_kind(code, self.code_from) and self.code_from <= code <= self.code_to

    @property
    def span(self) -> int:
        digits = 0 if self.code_from[0].isdigit() else 1
        return int(self.code_to[digits:]) - int(self.code_from[digits:])


def _same_kind(a: str, b: str) -> bool:
    # "E0783" and "90785" never compare: a HCPCS letter range holds only codes of its letter.
    return (
        len(a) == len(b) and (a[0].isdigit() == b[0].isdigit()) and (a[0].isdigit() or a[0] == b[0])
    )


def pa_list_entry(code: str, on: date, rows: Iterable[PaListRow]) -> PaListRow | None:
    """The list entry in force on ``on`` for ``code``: the narrowest range wins (a single
    code inside a broader range), then the latest effective date."""
    matches = [row for row in rows if row.covers(code, on)]
    if not matches:
        return None
    return min(matches, key=lambda row: (row.span, -row.effective_from.toordinal()))


_SEED_FROM = date(2020, 1, 1)


def _seed_row(
    first: str, last: str, required: bool, rule: CoverageRule, source: str, what: str
) -> PaListRow:
    return PaListRow(
        code_from=first,
        code_to=last,
        effective_from=_SEED_FROM,
        effective_to=None,
        tar_required=required,
        rule=rule.value,
        source=source,
        description=what,
    )


def _catalogue_rows() -> list[PaListRow]:
    rows = []
    for entry in CODE_RANGES:
        if not entry["tar"]:
            continue
        if entry["family"] == "pump":
            rule, source = CoverageRule.PUMP_PROCEDURE_TAR, "001 I.A; 000 VI.E.1"
        elif entry["set"] is None:
            rule, source = CoverageRule.SCS_REVISION_REMOVAL_TAR, "000 VI.E.1"
        else:
            rule, source = CoverageRule.PAIN_PROCEDURE_TAR, "000 VI.E.1"
        rows.append(_seed_row(entry["first"], entry["last"], True, rule, source, entry["what"]))
    return rows


_MH = "002 Mental Health Parity (42 CFR 438.910)"
_ER = "002 Emergency Room Visits; 42 CFR 438.114"
_FP = "42 CFR 431.51"
_DEVICE = "001 I.A.4.a"
_R = CoverageRule
# The exemptions of PRODUCT §5, listed so the published list says them (a code not on the
# list needs no TAR either way).
# fmt: off
_EXEMPTION_ROWS = [
    _seed_row("62367", "62370", False, _R.PUMP_ANALYSIS_REFILL, "001 I.A.4.b-c",
              "Pump analysis, reprogramming or refill"),
    _seed_row("95990", "95991", False, _R.PUMP_ANALYSIS_REFILL, "001 I.A.4.b-c",
              "Pump refill and maintenance"),
    _seed_row("62355", "62355", False, _R.PUMP_REMOVAL, "001 I.A.4.d",
              "Intrathecal catheter removal"),
    _seed_row("62365", "62365", False, _R.PUMP_REMOVAL, "001 I.A.4.d",
              "Intrathecal pump removal"),
    _seed_row("99281", "99285", False, _R.EMERGENCY_ROOM_VISIT, "002 Emergency Room Visits",
              "Emergency department visits"),
    _seed_row("A0427", "A0427", False, _R.EMERGENCY_SERVICE, _ER,
              "Ambulance, advanced life support, emergency"),
    _seed_row("A0429", "A0429", False, _R.EMERGENCY_SERVICE, _ER,
              "Ambulance, basic life support, emergency"),
    _seed_row("A0433", "A0433", False, _R.EMERGENCY_SERVICE, _ER,
              "Ambulance, advanced life support level 2"),
    _seed_row("90785", "90899", False, _R.MENTAL_HEALTH_SERVICE, _MH,
              "Psychiatric services (CPT Psychiatry section)"),
    _seed_row("90791", "90792", False, _R.MENTAL_HEALTH_INITIAL_ASSESSMENT, _MH,
              "Psychiatric diagnostic evaluation (initial assessment)"),
    _seed_row("96130", "96139", False, _R.MENTAL_HEALTH_SERVICE, _MH,
              "Psychological and neuropsychological testing"),
    _seed_row("H0031", "H0031", False, _R.MENTAL_HEALTH_INITIAL_ASSESSMENT, _MH,
              "Mental health assessment by a non-physician"),
    _seed_row("11981", "11983", False, _R.FAMILY_PLANNING, _FP,
              "Contraceptive implant insertion or removal"),
    _seed_row("55250", "55250", False, _R.FAMILY_PLANNING, _FP, "Vasectomy"),
    _seed_row("58300", "58301", False, _R.FAMILY_PLANNING, _FP,
              "Intrauterine device insertion or removal"),
    _seed_row("58600", "58615", False, _R.FAMILY_PLANNING, _FP, "Tubal ligation or occlusion"),
    _seed_row("58670", "58671", False, _R.FAMILY_PLANNING, _FP,
              "Laparoscopic tubal sterilization"),
    _seed_row("J7296", "J7301", False, _R.FAMILY_PLANNING, _FP, "Intrauterine devices"),
    _seed_row("J7307", "J7307", False, _R.FAMILY_PLANNING, _FP, "Contraceptive implant"),
    _seed_row("E0782", "E0786", False, _R.DEVICE_WITH_AUTHORIZED_PROCEDURE, _DEVICE,
              "Implantable infusion pump or its replacement, with an authorized procedure"),
    _seed_row("C1772", "C1772", False, _R.DEVICE_WITH_AUTHORIZED_PROCEDURE, _DEVICE,
              "Infusion pump, programmable, with an authorized procedure"),
    _seed_row("C1891", "C1891", False, _R.DEVICE_WITH_AUTHORIZED_PROCEDURE, _DEVICE,
              "Infusion pump, non-programmable, with an authorized procedure"),
    _seed_row("L8680", "L8688", False, _R.DEVICE_WITH_AUTHORIZED_PROCEDURE, _DEVICE,
              "Neurostimulator electrodes and generators, with an authorized SCS procedure"),
    _seed_row("C1767", "C1767", False, _R.DEVICE_WITH_AUTHORIZED_PROCEDURE, _DEVICE,
              "Neurostimulator generator, non-rechargeable, with an authorized SCS procedure"),
    _seed_row("C1778", "C1778", False, _R.DEVICE_WITH_AUTHORIZED_PROCEDURE, _DEVICE,
              "Neurostimulator lead, with an authorized SCS procedure"),
    _seed_row("C1820", "C1820", False, _R.DEVICE_WITH_AUTHORIZED_PROCEDURE, _DEVICE,
              "Neurostimulator generator, rechargeable, with an authorized SCS procedure"),
    _seed_row("C1822", "C1822", False, _R.DEVICE_WITH_AUTHORIZED_PROCEDURE, _DEVICE,
              "Neurostimulator generator, high frequency, with an authorized SCS procedure"),
]
# fmt: on

# The list the plan starts from (seeded into criteria.models.PaListEntry by a migration).
DEFAULT_PA_LIST: tuple[PaListRow, ...] = tuple(_catalogue_rows() + _EXEMPTION_ROWS)

# What each exemption tells the provider and the member, by rule.
_NOT_REQUIRED_REASONS: dict[str, str] = {
    _R.EMERGENCY_ROOM_VISIT: "Emergency room visits never need prior authorization.",
    _R.EMERGENCY_SERVICE: "Emergency services never need prior authorization.",
    _R.MENTAL_HEALTH_INITIAL_ASSESSMENT: (
        "Members may get an initial mental health assessment without a referral or prior "
        "authorization."
    ),
    _R.MENTAL_HEALTH_SERVICE: "Mental health services need no referral or prior authorization.",
    _R.PUMP_REMOVAL: ("Removing or revising an implanted pain pump needs no prior authorization."),
    _R.PUMP_ANALYSIS_REFILL: (
        "Checking, reprogramming, refilling and maintaining an implanted pain pump need no "
        "prior authorization."
    ),
    _R.FAMILY_PLANNING: (
        "Family planning services need no prior authorization, from any qualified provider."
    ),
    _R.DEVICE_WITH_AUTHORIZED_PROCEDURE: (
        "A device billed with an authorized procedure needs no separate prior authorization."
    ),
}

# 000 VI.B and VI.C, carried by every pain-management TAR.
PAIN_REQUIREMENTS: tuple[str, ...] = (
    "A valid RAF from the member's PCP to the pain management specialist (000 VI.C)",
    "Servicing provider credentialed as a pain management specialist (000 VI.B)",
)

_MEMBER_UNKNOWN = (
    " No member facts were given, so eligibility and the hospice, terminal-condition and "
    "cancer exemptions were not checked."
)
_PUMP_SETS = frozenset({"pump_trial", "pump_permanent"})


def coverage_requirement(
    *,
    code: str,
    service_date: date,
    member: MemberFacts | None,
    chosen_set: str | None = None,
    pa_list: Sequence[PaListRow] | None = None,
) -> Coverage:
    """Answer "is a TAR required?" for one code on one date (PRODUCT §5, §8).

    ``pa_list`` is the plan's prior-authorization list (every row; the ones in force on
    ``service_date`` apply); None uses the shipped seed ``DEFAULT_PA_LIST``. With a database,
    call ``criteria.selectors.coverage_lookup``, which passes the plan's current list.

    ``chosen_set`` names the purpose where one code serves two (62322-62323 as a pump trial,
    63650 as an SCS permanent implant). Raises ``CriteriaError`` for a malformed code, a
    date that is not a date, or a chosen set that does not fit the code.
    """
    code = normalize_code(code)
    if not isinstance(service_date, date) or isinstance(service_date, datetime):
        raise CriteriaError(
            CriteriaErrorCode.INVALID_ARGUMENT,
            "service_date must be a date.",
            fields={"date": "Enter a date as YYYY-MM-DD."},
        )
    if member is not None and not isinstance(member, MemberFacts):
        raise CriteriaError(
            CriteriaErrorCode.INVALID_ARGUMENT,
            "member must be MemberFacts or None.",
            fields={"member": "Unknown member facts."},
        )
    set_id = criteria_set_for(code, chosen_set)  # refuses a chosen set that does not fit
    no_member = _MEMBER_UNKNOWN if member is None else ""

    if member is not None and not member.eligible_on_date:
        return Coverage(
            status=CoverageStatus.NOT_COVERED,
            tar_required=False,
            reason=(
                "The member is not eligible with the plan on the date of service, so the "
                "plan cannot cover this service on that date."
            ),
            source="001 Reimbursement Policy Statement (eligibility on the date of service)",
            rule=CoverageRule.MEMBER_NOT_ELIGIBLE,
        )

    entry = pa_list_entry(code, service_date, DEFAULT_PA_LIST if pa_list is None else pa_list)
    if entry is None:
        return _not_required(
            CoverageRule.NOT_ON_PA_LIST,
            "This service is not on the plan's prior-authorization list, so it needs no TAR.",
            "PRODUCT §5: the plan's prior-authorization list",
        )
    if not entry.tar_required:
        rule = _rule(entry.rule, CoverageRule.NOT_ON_PA_LIST)
        return _not_required(
            rule,
            _NOT_REQUIRED_REASONS.get(
                rule,
                f"The plan's prior-authorization list says {entry.description or 'this service'}"
                " needs no TAR.",
            ),
            entry.source,
        )

    if set_id in _PUMP_SETS and member is not None:
        # 001 I.A.1-3, checked in the source's order.
        if member.hospice:
            return _not_required(
                CoverageRule.PUMP_HOSPICE_MEMBER,
                "A pain pump for a member in hospice care needs no prior authorization.",
                "001 I.A.1",
            )
        if member.terminal_condition:
            return _not_required(
                CoverageRule.PUMP_TERMINAL_CONDITION,
                "A pain pump for a member with a terminal condition needs no prior authorization.",
                "001 I.A.2",
            )
        if member.cancer:
            return _not_required(
                CoverageRule.PUMP_CANCER,
                "A pain pump for a member with cancer, or a condition linked to their cancer, "
                "needs no prior authorization.",
                "001 I.A.3",
            )

    family = family_for_code(code, chosen_set=chosen_set)
    if family is None:
        return Coverage(
            status=CoverageStatus.REQUIRED,
            tar_required=True,
            reason=(
                "This service is on the plan's prior-authorization list"
                + (f" ({entry.description})" if entry.description else "")
                + ". No criteria set applies, so a physician reviews the request."
                + no_member
            ),
            source=entry.source,
            rule=_rule(entry.rule, CoverageRule.PA_LIST_REQUIRED),
        )

    if set_id is None:
        # SCS revision/removal: a TAR, but nothing to check automatically.
        return Coverage(
            status=CoverageStatus.REQUIRED,
            tar_required=True,
            reason=(
                "Revising or removing a spinal cord stimulator needs prior authorization from "
                "a pain management specialist. No criteria set applies, so a physician "
                "reviews the request." + no_member
            ),
            source="000 VI.E.1",
            rule=CoverageRule.SCS_REVISION_REMOVAL_TAR,
            requirements=PAIN_REQUIREMENTS,
        )

    title = CRITERIA_SETS[set_id]["title"]
    in_force = criteria_set_effective_on(set_id, service_date)
    is_pump = set_id in _PUMP_SETS
    reason = (
        f"{title} needs prior authorization, requested by a credentialed pain management "
        "specialist on a referral from the member's primary care provider."
    )
    if in_force is None:
        reason += (
            " No version of its criteria is in force on the date of service, so a physician "
            "reviews the request."
        )
    return Coverage(
        status=CoverageStatus.REQUIRED,
        tar_required=True,
        reason=reason + no_member,
        source="001 I.A; 000 VI.E.1" if is_pump else "000 VI.E.1",
        rule=CoverageRule.PUMP_PROCEDURE_TAR if is_pump else CoverageRule.PAIN_PROCEDURE_TAR,
        criteria_set=None if in_force is None else set_id,
        criteria_set_version=None if in_force is None else in_force["version"],
        questions=()
        if in_force is None
        else tuple(question["key"] for question in questions_for(in_force)),
        requirements=PAIN_REQUIREMENTS,
    )


def _not_required(rule: CoverageRule, reason: str, source: str) -> Coverage:
    return Coverage(
        status=CoverageStatus.NOT_REQUIRED,
        tar_required=False,
        reason=reason,
        source=source,
        rule=rule,
    )


_RULES: dict[str, CoverageRule] = {member.value: member for member in CoverageRule}


def _rule(value: str, default: CoverageRule) -> CoverageRule:
    return _RULES.get(value, default)
