"""Is a TAR required? (PRODUCT §5) - a pure function of the code, the date and member facts.

The rules are checked in a fixed order, and the first that applies answers:

1. member not eligible on the date of service → ``not_covered`` (no TAR can pay for it);
2. emergency-room visit → ``not_required`` (002 "Emergency Room Visits");
3. mental-health service, incl. the initial assessment → ``not_required`` (002 parity,
   42 CFR 438.910);
4. pump analysis, refill and maintenance, removal → ``not_required`` (001 I.A.4);
5. pump trial or implant for a hospice member, a member with a terminal condition, or with
   cancer → ``not_required`` (001 I.A.1, I.A.2, I.A.3, in that order);
6. pain-management procedure (ESI, facet, RFA, SCS, pump) → ``required``, with a RAF from the
   PCP and a credentialed pain specialist (000), and the criteria set's questions;
7. any other code → ``required``: the plan reviews services outside this catalogue case by
   case, with no criteria set (a physician reviews).

Without member facts (``member=None``) rules 1 and 5 cannot be checked; the answer is what
the code alone requires, and the reason says the exemptions were not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from criteria.catalog import (
    CRITERIA_SETS,
    criteria_set_effective_on,
    criteria_set_for,
    family_for_code,
    is_no_tar_code,
    questions_for,
)
from criteria.engine import CriteriaError, CriteriaErrorCode, normalize_code

__all__ = [
    "Coverage",
    "CoverageRule",
    "CoverageStatus",
    "MemberFacts",
    "coverage_requirement",
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
    # Not in this catalogue: the plan reviews it case by case
    OUTSIDE_CATALOGUE = "outside_catalogue"


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


# 002 "Emergency Room Visits" (99291 critical care is not limited to the ED, so it is not here).
_ER_VISITS = range(99281, 99286)
# 002 parity: the CPT Psychiatry section (90785-90899): diagnostic evaluations,
# psychotherapy, crisis, family and group therapy and the other psychiatric services.
_MENTAL_HEALTH = range(90785, 90900)
# The initial mental-health assessment (psychiatric diagnostic evaluation).
_MENTAL_HEALTH_ASSESSMENT = frozenset({"90791", "90792"})
# 001 I.A.4.d: removal of the pump or catheter; every other no-TAR pump code is
# analysis, reprogramming, refill or maintenance (001 I.A.4.b-c).
_PUMP_REMOVAL = frozenset({"62355", "62365"})

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


def _cpt_in(code: str, codes: range) -> bool:
    return code.isdigit() and int(code) in codes


def coverage_requirement(
    *,
    code: str,
    service_date: date,
    member: MemberFacts | None,
    chosen_set: str | None = None,
) -> Coverage:
    """Answer "is a TAR required?" for one code on one date (PRODUCT §5, §8).

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

    if _cpt_in(code, _ER_VISITS):
        return _not_required(
            CoverageRule.EMERGENCY_ROOM_VISIT,
            "Emergency room visits never need prior authorization.",
            "002 Emergency Room Visits",
        )

    if _cpt_in(code, _MENTAL_HEALTH):
        if code in _MENTAL_HEALTH_ASSESSMENT:
            return _not_required(
                CoverageRule.MENTAL_HEALTH_INITIAL_ASSESSMENT,
                "Members may get an initial mental health assessment without a referral or "
                "prior authorization.",
                "002 Mental Health Parity (42 CFR 438.910)",
            )
        return _not_required(
            CoverageRule.MENTAL_HEALTH_SERVICE,
            "Mental health services need no referral or prior authorization.",
            "002 Mental Health Parity (42 CFR 438.910)",
        )

    if is_no_tar_code(code):
        if code in _PUMP_REMOVAL:
            return _not_required(
                CoverageRule.PUMP_REMOVAL,
                "Removing or revising an implanted pain pump needs no prior authorization.",
                "001 I.A.4.d",
            )
        return _not_required(
            CoverageRule.PUMP_ANALYSIS_REFILL,
            "Checking, reprogramming, refilling and maintaining an implanted pain pump need "
            "no prior authorization.",
            "001 I.A.4.b-c",
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
                "This service is outside the plan's pain-management catalogue. The plan "
                "reviews it case by case; no criteria set applies, so a physician reviews "
                "the request." + no_member
            ),
            source="002 Utilization Management Process",
            rule=CoverageRule.OUTSIDE_CATALOGUE,
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
