"""The TAR workflow as one table: which action moves a request from which statuses to which,
who may take it, and what it writes. `authorizations.workflow.perform` is the only code that
applies it; `available_actions(TAR, tar, user)` tells pages and the API what is on offer."""

from __future__ import annotations

from enum import StrEnum

from accounts.models import Role, User
from authorizations.models import (
    OPEN_STATUSES,
    EventKind,
    HistoryAction,
    OralNoticeSubject,
    ReasonCode,
    Recommendation,
    RequestType,
    ServiceLine,
    Tar,
    TarStatus,
    Urgency,
)
from authorizations.workflow import SAME, SYSTEM, Machine, Transition, transition
from authorizations.workflow.machine import TAR_LOCK_RELATED
from criteria.coverage import CoverageStatus, MemberFacts, coverage_requirement
from criteria.engine import CriteriaError
from criteria.models import BenefitExclusion
from tar_portal.errors import DomainError, ErrorCode


class Action(StrEnum):
    SUBMIT = "submit"  # the request is received (portal, API, or intake from fax/mail/phone)
    CLAIM = "claim"  # a nurse takes the request into review
    RELEASE = "release"  # the nurse puts it back in the queue
    REQUEST_INFO = "request_info"  # pend for information; the clock runs on (002)
    RECEIVE_INFO = "receive_info"  # the provider answered; back to where it was
    REFER = "refer"  # send to a physician reviewer
    APPROVE = "approve"
    MODIFY = "modify"
    DENY = "deny"
    CLOSE = "close"  # non-medical closure
    WITHDRAW = "withdraw"  # the requesting provider withdraws it
    EXTEND = "extend"  # extend the decision deadline; the status stays
    # Issue 14: the requesting provider adds, changes or cancels lines before the decision
    # (a PAS Claim update); the status and the clock stay (services.amendment).
    AMEND_LINES = "amend_lines"
    # Issue 11 (appeals branch)
    DEEM_DENIED = "deem_denied"  # an appeal of a breached request records the deemed denial
    RECORD_ORAL_NOTICE = "record_oral_notice"  # a telephone notice attempt (who, when, outcome)
    REDUCE_SERVICES = "reduce_services"  # reduce or end authorized concurrent services
    # Appeals (appeals app; 42 CFR 438.408): a physician who took no part in the adverse
    # decision resolves the member's appeal.
    APPEAL_OVERTURN = "appeal_overturn"  # overturned: the TAR becomes an approval
    APPEAL_PARTIAL = "appeal_partial"  # partly overturned: the TAR becomes a modification
    APPEAL_UPHOLD = "appeal_uphold"  # upheld: the TAR's status stays, a decision is recorded
    # Final coverage decision after an independent medical review (003 F.4) of a decided TAR
    # that is not under appeal.
    IMR_OVERTURN = "imr_overturn"
    IMR_PARTIAL = "imr_partial"
    IMR_UPHOLD = "imr_uphold"


DECIDABLE = frozenset(
    {TarStatus.SUBMITTED, TarStatus.IN_REVIEW, TarStatus.PENDED, TarStatus.REFERRED}
)
# An appeal is against any adverse benefit determination (42 CFR 438.400(b), 438.402(c)):
# a denial or a modification; a closure as not eligible or not a benefit (a non-medical
# denial); and, while the request is still open, a delay (an extension) or a decision not made
# in time (a deemed denial, 438.400(b)(5), 438.404(c)(5)). These are the statuses an appeal
# may be filed from; `appealable_now` says whether the request carries such a determination.
APPEALABLE = frozenset({TarStatus.DENIED, TarStatus.MODIFIED, TarStatus.CLOSED, *OPEN_STATUSES})
# A closure is adverse when it says no to the service (438.400(b)(1)); a duplicate or a
# "no authorization needed" closure is not.
ADVERSE_CLOSURE_REASONS = frozenset({ReasonCode.NOT_ELIGIBLE, ReasonCode.NOT_A_BENEFIT})
# An appeal's resolution decides the request again: from any appealable status, and from an
# approval the request reached while the appeal was open (the appeal is not erased by it).
APPEAL_REDECIDABLE = frozenset({*APPEALABLE, TarStatus.APPROVED})
IMR_REVIEWABLE = frozenset({TarStatus.DENIED, TarStatus.MODIFIED, TarStatus.CLOSED})
_NURSE = frozenset({Role.NURSE})
_PHYSICIAN = frozenset({Role.PHYSICIAN})
_REVIEWERS = frozenset({Role.NURSE, Role.PHYSICIAN})


def involved_in_care(tar: Tar, user: User) -> bool:
    """002: a physician who is the requesting or servicing provider, or the member's PCP.
    A physician account with no linked provider record cannot be shown not to be involved,
    so it counts as involved (fail closed; issue 11 row 14)."""
    if user.role == Role.PHYSICIAN and user.provider_id is None:
        return True
    return user.provider_id is not None and user.provider_id in {
        tar.requesting_provider_id,
        tar.servicing_provider_id,
        tar.member.pcp_id,
    }


def check_conflict_of_interest(*, tar: Tar, user: User) -> None:
    """002: a physician may not decide a case in which they are the requesting or servicing
    provider, or the member's own PCP (involved in the member's care)."""
    if user.role == Role.PHYSICIAN and user.provider_id is None:
        raise DomainError(
            ErrorCode.CONFLICT_OF_INTEREST,
            "Your account is not linked to a provider record, so the conflict-of-interest "
            "check (002) cannot be made; ask the UM manager to link it before deciding.",
        )
    if user.role == Role.PHYSICIAN and involved_in_care(tar, user):
        raise DomainError(
            ErrorCode.CONFLICT_OF_INTEREST,
            "You are involved in this member's care for this request (requesting, servicing "
            "or primary-care provider), so another physician must decide it.",
        )


def oral_notice_subjects(tar: Tar) -> list[str]:
    """The request's own events a rule asks to be told by telephone (H&S 1367.01(h)(3):
    urgent decisions; 42 CFR 438.404(c)(4), 438.210(d): extensions). Appeal subjects are the
    appeal machine's (appeals.machines)."""
    subjects: list[str] = []
    if tar.urgency == Urgency.URGENT and tar.decided_at is not None:
        subjects.append(OralNoticeSubject.URGENT_DECISION)
    if tar.extension_count:
        subjects.append(OralNoticeSubject.EXTENSION)
    return subjects


def lines_meet_criteria(tar: Tar) -> list[int]:
    """The line numbers that do not meet their criteria (a nurse may approve none of them)."""
    return [
        line.line_number
        for line in tar.lines.all()
        if line.recommendation != Recommendation.MEETS_CRITERIA
    ]


# PRODUCT §2: the non-medical grounds a nurse may close (or deny) on, each only when the record
# supports it; anything else is a physician's decision (002: only a physician denies for
# medical necessity, and a label is not a reason).
RECORD_GROUNDS = (
    ReasonCode.NOT_ELIGIBLE,
    ReasonCode.NOT_A_BENEFIT,
    ReasonCode.DUPLICATE,
    ReasonCode.NO_AUTHORIZATION_REQUIRED,
    ReasonCode.REQUIREMENTS_NOT_MET,
)
# The intake flags a `requirements_not_met` closure rests on (000 VI.B-C; services.submission).
REQUIREMENT_FLAGS = frozenset({"referral", "servicing_provider"})
# What a request may duplicate: one still open or decided (a closed or withdrawn one is gone).
_DUPLICABLE = (*OPEN_STATUSES, TarStatus.APPROVED, TarStatus.MODIFIED, TarStatus.DENIED)


def _overlaps(a: ServiceLine, b: ServiceLine) -> bool:
    return a.service_date_from <= b.service_date_to and b.service_date_from <= a.service_date_to


def duplicate_candidates(tar: Tar) -> list[Tar]:
    """The member's other open or decided requests that ask for every line of this one again
    (same code, overlapping dates): what a `duplicate` closure may name."""
    lines = list(tar.lines.all())
    if not lines:
        return []
    others = (
        Tar.objects.filter(
            member_id=tar.member_id,
            status__in=_DUPLICABLE,
            lines__code__in={line.code for line in lines},
        )
        .exclude(pk=tar.pk)
        .distinct()
        .prefetch_related("lines")
        .order_by("received_at", "pk")
    )
    return [
        other
        for other in others
        if all(
            any(o.code == line.code and _overlaps(o, line) for o in other.lines.all())
            for line in lines
        )
    ]


def non_medical_ground_problem(tar: Tar, reason_code: str, duplicate_of: Tar | None) -> str:
    """'' when the record supports closing the whole request on `reason_code`, otherwise why
    it does not (PRODUCT §2). Every line must be covered: a closure closes every line."""
    lines = list(tar.lines.all())
    if reason_code == ReasonCode.NOT_ELIGIBLE:
        # The member's eligibility spans on each line's date of service.
        covered = [line for line in lines if tar.member.is_eligible_on(line.service_date_from)]
        if covered:
            return (
                "The member is eligible on "
                f"{covered[0].service_date_from:%Y-%m-%d}, the date of service of line "
                f"{covered[0].line_number}."
            )
    elif reason_code == ReasonCode.NOT_A_BENEFIT:
        # The plan's benefit table (criteria.BenefitExclusion) on each date of service.
        exclusions = list(BenefitExclusion.objects.filter(code__in={x.code for x in lines}))
        for line in lines:
            if not any(
                e.code == line.code and e.covers(line.service_date_from) for e in exclusions
            ):
                return (
                    f"The plan's benefit table does not exclude {line.code} on "
                    f"{line.service_date_from:%Y-%m-%d} (line {line.line_number})."
                )
    elif reason_code == ReasonCode.DUPLICATE:
        if duplicate_of is None:
            return "Name the open or decided request this one duplicates."
        if duplicate_of not in duplicate_candidates(tar):
            return (
                f"{duplicate_of.number} is not an open or decided request of this member for "
                "the same services on overlapping dates."
            )
    elif reason_code == ReasonCode.REQUIREMENTS_NOT_MET:
        # As received: no valid RAF, or a servicing provider not credentialed (000 VI.B-C).
        if not any(flag.get("field") in REQUIREMENT_FLAGS for flag in tar.intake_flags or []):
            return "The request was received with a valid RAF and a credentialed specialist."
    elif reason_code == ReasonCode.NO_AUTHORIZATION_REQUIRED:
        # The coverage lookup (PRODUCT §5) on each date of service.
        member = tar.member
        for line in lines:
            facts = MemberFacts(
                eligible_on_date=member.is_eligible_on(line.service_date_from),
                hospice=member.hospice,
                terminal_condition=member.terminal_condition,
                cancer=member.cancer_diagnosis,
            )
            try:
                coverage = coverage_requirement(
                    code=line.code,
                    service_date=line.service_date_from,
                    member=facts,
                    chosen_set=line.criteria_set_choice or None,
                )
            except CriteriaError:
                coverage = None
            if coverage is None or coverage.status != CoverageStatus.NOT_REQUIRED:
                return (
                    f"The coverage lookup says {line.code} needs authorization on "
                    f"{line.service_date_from:%Y-%m-%d} (line {line.line_number})."
                )
    return ""


def check_non_medical_ground(
    *, tar: Tar, user: User | None, reason_code: str, duplicate_of: Tar | None = None
) -> None:
    """403 `physician_decision_required` when a nurse closes or denies on a non-medical ground
    the record does not support (PRODUCT §2). A physician may decide on any ground."""
    if user is not None and user.role == Role.PHYSICIAN:
        return
    if reason_code not in RECORD_GROUNDS or tar.status not in DECIDABLE:
        # A request that cannot be decided any more is answered by the state check (409).
        return
    problem = non_medical_ground_problem(tar, reason_code, duplicate_of)
    if problem:
        raise DomainError(
            ErrorCode.PHYSICIAN_DECISION_REQUIRED,
            f"The record does not support closing this request as "
            f"{ReasonCode(reason_code).label.lower()}: {problem} A physician must decide it.",
            fields={"reason_code": [problem]},
        )


def supported_grounds(tar: Tar) -> list[str]:
    """The non-medical grounds the record supports now (what the nurse's close form offers)."""
    grounds: list[str] = []
    for code in RECORD_GROUNDS:
        if code == ReasonCode.DUPLICATE:
            supported = bool(duplicate_candidates(tar))
        else:
            supported = not non_medical_ground_problem(tar, code, None)
        if supported:
            grounds.append(code)
    return grounds


def _may_close(tar: Tar, user: User) -> bool:
    if not (_nurse_holds_claim(tar, user) and _may_decide(tar, user)):
        return False
    return user.role != Role.NURSE or bool(supported_grounds(tar))


def _may_decide(tar: Tar, user: User) -> bool:
    return not (user.role == Role.PHYSICIAN and involved_in_care(tar, user))


def _may_approve(tar: Tar, user: User) -> bool:
    # PRODUCT §6: a nurse approves only what meets the criteria.
    if user.role == Role.NURSE:
        return not lines_meet_criteria(tar)
    return _may_decide(tar, user)


def _nurse_holds_claim(tar: Tar, user: User) -> bool:
    # A claimed request is worked by the nurse who claimed it (or by a physician).
    return user.role != Role.NURSE or tar.assigned_to_id in (None, user.pk)


def _claim_guard(tar: Tar, transition: Transition, user: User | None) -> None:
    """409 when another nurse holds the claim: claiming it, or a nurse acting on it."""
    if tar.status != TarStatus.IN_REVIEW or tar.assigned_to_id is None or user is None:
        return
    if tar.assigned_to_id == user.pk:
        return
    if transition.action == Action.CLAIM or user.role == Role.NURSE:
        raise DomainError(ErrorCode.CLAIMED_BY_OTHER, "Another nurse is reviewing this request.")


def _resolve_target(tar: Tar, transition: Transition) -> str:
    if transition.action == Action.RECEIVE_INFO:
        # Back to where it was pended from.
        return tar.status_before_pend or TarStatus.SUBMITTED
    if transition.action == Action.APPEAL_UPHOLD and tar.status in OPEN_STATUSES:
        # An appeal of a delay or a deemed denial upheld: the request is denied now.
        return TarStatus.DENIED
    return tar.status if transition.target == SAME else transition.target


TAR = Machine(
    name="tar",
    noun="a request",
    model=Tar,
    lock_related=TAR_LOCK_RELATED,
    guards=(_claim_guard,),
    resolve_target=_resolve_target,
    transitions=(
        transition(
            Action.SUBMIT,
            set(),
            TarStatus.SUBMITTED,
            {Role.PROVIDER, Role.INTAKE},
            HistoryAction.CREATED,
            EventKind.TAR_SUBMITTED,
            "Submit",
            creates=True,
        ),
        transition(
            Action.CLAIM,
            {TarStatus.SUBMITTED},
            TarStatus.IN_REVIEW,
            _NURSE,
            HistoryAction.STATUS_CHANGED,
            EventKind.TAR_CLAIMED,
            "Claim",
        ),
        transition(
            Action.RELEASE,
            {TarStatus.IN_REVIEW},
            TarStatus.SUBMITTED,
            {Role.NURSE, Role.MANAGER},
            HistoryAction.STATUS_CHANGED,
            EventKind.TAR_RELEASED,
            "Release",
        ),
        transition(
            Action.REQUEST_INFO,
            {TarStatus.SUBMITTED, TarStatus.IN_REVIEW, TarStatus.REFERRED},
            TarStatus.PENDED,
            _REVIEWERS,
            HistoryAction.INFORMATION_REQUESTED,
            EventKind.TAR_INFO_REQUESTED,
            "Request information",
            offered=_nurse_holds_claim,
        ),
        transition(
            Action.RECEIVE_INFO,
            {TarStatus.PENDED},
            SAME,  # resolved to the status it was pended from
            {Role.PROVIDER, Role.INTAKE},
            HistoryAction.INFORMATION_RECEIVED,
            EventKind.TAR_INFO_RECEIVED,
            "Send the information",
        ),
        transition(
            Action.REFER,
            {TarStatus.SUBMITTED, TarStatus.IN_REVIEW, TarStatus.PENDED},
            TarStatus.REFERRED,
            _NURSE,
            HistoryAction.STATUS_CHANGED,
            EventKind.TAR_REFERRED,
            "Refer to a physician",
            offered=_nurse_holds_claim,
        ),
        # Nurses approve only when criteria are met; the service checks that.
        transition(
            Action.APPROVE,
            DECIDABLE,
            TarStatus.APPROVED,
            _REVIEWERS | {SYSTEM},
            HistoryAction.DECIDED,
            EventKind.TAR_DECIDED,
            "Approve",
            offered=lambda tar, user: _nurse_holds_claim(tar, user) and _may_approve(tar, user),
        ),
        # Nurses may modify or deny only on non-medical grounds; the service checks the reason.
        transition(
            Action.MODIFY,
            DECIDABLE,
            TarStatus.MODIFIED,
            _REVIEWERS,
            HistoryAction.DECIDED,
            EventKind.TAR_DECIDED,
            "Modify",
            offered=lambda tar, user: _nurse_holds_claim(tar, user) and _may_approve(tar, user),
        ),
        transition(
            Action.DENY,
            DECIDABLE,
            TarStatus.DENIED,
            _REVIEWERS,
            HistoryAction.DECIDED,
            EventKind.TAR_DECIDED,
            "Deny",
            offered=lambda tar, user: _nurse_holds_claim(tar, user) and _may_decide(tar, user),
        ),
        transition(
            Action.CLOSE,
            DECIDABLE,
            TarStatus.CLOSED,
            _REVIEWERS,
            HistoryAction.DECIDED,
            EventKind.TAR_DECIDED,
            "Close",
            offered=_may_close,
        ),
        transition(
            Action.WITHDRAW,
            OPEN_STATUSES,
            TarStatus.WITHDRAWN,
            {Role.PROVIDER},
            HistoryAction.STATUS_CHANGED,
            EventKind.TAR_WITHDRAWN,
            "Withdraw",
        ),
        # Before a decision only: a decided request is changed by an appeal, a reduction or a
        # new request, never by the provider rewriting what was decided.
        transition(
            Action.AMEND_LINES,
            OPEN_STATUSES,
            SAME,
            {Role.PROVIDER, Role.INTAKE},
            HistoryAction.LINES_AMENDED,
            EventKind.TAR_LINES_AMENDED,
            "Change the service lines",
            refusal="Service lines can be changed only before the decision; this request is "
            "{status}.",
        ),
        transition(
            Action.EXTEND,
            OPEN_STATUSES,
            SAME,
            _REVIEWERS,
            HistoryAction.EXTENDED,
            EventKind.TAR_EXTENDED,
            "Extend the deadline",
            offered=_nurse_holds_claim,
        ),
        transition(
            Action.DEEM_DENIED,
            OPEN_STATUSES,
            SAME,
            {Role.MEMBER, Role.PROVIDER, Role.MEMBER_SERVICES},
            HistoryAction.DEEMED_DENIED,
            EventKind.TAR_DEEMED_DENIED,
            "Record the deemed denial",
            # Taken only by filing an appeal of the breached request (appeals.services).
            offered=lambda tar, user: False,
        ),
        transition(
            Action.RECORD_ORAL_NOTICE,
            set(TarStatus.values),
            SAME,
            {Role.NURSE, Role.PHYSICIAN, Role.MEMBER_SERVICES, Role.MANAGER},
            HistoryAction.ORAL_NOTICE,
            EventKind.TAR_ORAL_NOTICE,
            "Record a telephone notice",
            offered=lambda tar, user: bool(oral_notice_subjects(tar)),
        ),
        # 42 CFR 431.211, 438.404(c)(1): a reduction or termination of authorized concurrent
        # services is an adverse determination; a physician makes it (002), with the notice at
        # least 10 days before it takes effect (the service checks the date).
        transition(
            Action.REDUCE_SERVICES,
            {TarStatus.APPROVED, TarStatus.MODIFIED},
            TarStatus.MODIFIED,
            _PHYSICIAN,
            HistoryAction.SERVICES_REDUCED,
            EventKind.TAR_SERVICES_REDUCED,
            "Reduce or end the authorized services",
            offered=lambda tar, user: (
                tar.request_type == RequestType.CONCURRENT and _may_decide(tar, user)
            ),
            refusal="Only authorized services can be reduced or ended; this request is {status}.",
        ),
        transition(
            Action.APPEAL_OVERTURN,
            APPEAL_REDECIDABLE,
            TarStatus.APPROVED,
            _PHYSICIAN,
            HistoryAction.STATUS_CHANGED,
            EventKind.TAR_REDECIDED,
            "Overturn on appeal",
        ),
        transition(
            Action.APPEAL_PARTIAL,
            APPEALABLE,
            TarStatus.MODIFIED,
            _PHYSICIAN,
            HistoryAction.STATUS_CHANGED,
            EventKind.TAR_REDECIDED,
            "Partly overturn on appeal",
        ),
        transition(
            Action.APPEAL_UPHOLD,
            APPEALABLE,
            SAME,
            _PHYSICIAN,
            HistoryAction.STATUS_CHANGED,
            EventKind.TAR_REDECIDED,
            "Uphold on appeal",
        ),
        transition(
            Action.IMR_OVERTURN,
            IMR_REVIEWABLE,
            TarStatus.APPROVED,
            _PHYSICIAN,
            HistoryAction.STATUS_CHANGED,
            EventKind.TAR_REDECIDED,
            "Overturn after IMR",
        ),
        transition(
            Action.IMR_PARTIAL,
            IMR_REVIEWABLE,
            TarStatus.MODIFIED,
            _PHYSICIAN,
            HistoryAction.STATUS_CHANGED,
            EventKind.TAR_REDECIDED,
            "Partly overturn after IMR",
        ),
        transition(
            Action.IMR_UPHOLD,
            IMR_REVIEWABLE,
            SAME,
            _PHYSICIAN,
            HistoryAction.STATUS_CHANGED,
            EventKind.TAR_REDECIDED,
            "Uphold after IMR",
        ),
    ),
)

DECISION_ACTIONS: dict[str, Action] = {
    TarStatus.APPROVED: Action.APPROVE,
    TarStatus.MODIFIED: Action.MODIFY,
    TarStatus.DENIED: Action.DENY,
    TarStatus.CLOSED: Action.CLOSE,
}
