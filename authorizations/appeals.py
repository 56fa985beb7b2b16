"""Every write for appeals, peer-to-peer talks and independent medical review (IMR).

Same shape as authorizations/services.py (STYLE §2, §3): keyword-only typed functions, one
transaction each, the row locked before it changes, checks in the order scope (404), role
(403), the action's own authority (403), possible from this status (409); a history row on the
TAR for every change; notices owed only after commit.

Lock order, everywhere: IMR case → appeal → TAR. (Filing an appeal or referring to IMR locks
only the TAR and inserts the new row; the one-open-per-TAR constraints settle any race.)

Sources: 42 CFR 438.402-438.410 (appeals), APL 21-011, 002 "Denial Determinations"
(peer-to-peer), 003 MCUP3138 (IMR).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import PLAN_STAFF_ROLES, Role, User
from authorizations import clocks
from authorizations.calendar import plan_calendar
from authorizations.models import (
    EXPERIMENTAL_REASONS,
    OPEN_STATUSES,
    Appeal,
    AppealExtension,
    AppealExtensionReason,
    AppealFiler,
    AppealHistoryAction,
    AppealOutcome,
    AppealStatus,
    Attachment,
    Decision,
    HistoryEntry,
    ImrCase,
    ImrDetermination,
    ImrExpeditedBasis,
    ImrReferralReason,
    ImrReviewerKind,
    ImrReviewType,
    ImrSeriousCondition,
    ImrStatus,
    LineOutcome,
    PeerToPeer,
    PeerToPeerOutcome,
    PeerToPeerStatus,
    ReasonCode,
    RequestType,
    Tar,
    TarStatus,
    Urgency,
)
from authorizations.numbering import next_number
from authorizations.selectors import tar_scope_q
from authorizations.services import (
    LineDecision,
    _apply_line_decisions,
    _check_conflict_of_interest,
    _lock_tar,
    attachment_add,
    history_record,
    sniff_content_type,
    tar_decide,
    tar_transition,
)
from authorizations.transitions import SAME, Action
from tar_portal.errors import DomainError, ErrorCode, invalid

logger = logging.getLogger(__name__)

PACIFIC = clocks.PACIFIC
BATCH_SIZE = 1000
SYSTEM = "system"  # the deadline sweep, in the transition tables' role sets

# Non-medical closures that are not decisions a reviewer can look at again.
_NON_REVIEWABLE_CLOSURES = (
    ReasonCode.DUPLICATE,
    ReasonCode.NO_AUTHORIZATION_REQUIRED,
    ReasonCode.NOT_ELIGIBLE,
)


# --- transition tables -----------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str
    roles: frozenset[str]


class AppealAction(StrEnum):
    EXTEND = "extend"  # one extension of up to 14 days (42 CFR 438.408(c))
    RESOLVE = "resolve"  # a physician not involved in the decision resolves it
    EXHAUST = "exhaust"  # the sweep: the deadline passed unresolved (438.408(c)(3))
    WITHDRAW = "withdraw"  # the member, or someone for them, withdraws it


class PeerToPeerAction(StrEnum):
    SCHEDULE = "schedule"  # set (or move) the time and the physician
    RECORD_OUTCOME = "record_outcome"  # the talk was held: what came of it
    LINK = "link"  # link the decision (or appeal) the talk led to
    CANCEL = "cancel"


class ImrAction(StrEnum):
    EXTEND = "extend"  # 003 G.2.b: expedited only, once, by 24 hours
    RECORD_DETERMINATION = "record_determination"  # the reviewer's written determination
    DECIDE = "decide"  # 003 F.4: the plan physician decides coverage
    WITHDRAW = "withdraw"


_APPEAL_OPEN = frozenset({AppealStatus.RECEIVED, AppealStatus.EXHAUSTED})
_PHYSICIAN = frozenset({Role.PHYSICIAN})

APPEAL_TRANSITIONS: dict[AppealAction, Move] = {
    AppealAction.EXTEND: Move(
        frozenset({AppealStatus.RECEIVED}),
        SAME,
        frozenset({Role.NURSE, Role.PHYSICIAN, Role.MANAGER, Role.MEMBER_SERVICES}),
    ),
    AppealAction.RESOLVE: Move(_APPEAL_OPEN, AppealStatus.RESOLVED, _PHYSICIAN),
    AppealAction.EXHAUST: Move(
        frozenset({AppealStatus.RECEIVED}), AppealStatus.EXHAUSTED, frozenset({SYSTEM})
    ),
    AppealAction.WITHDRAW: Move(
        _APPEAL_OPEN,
        AppealStatus.WITHDRAWN,
        frozenset({Role.MEMBER, Role.PROVIDER, Role.MEMBER_SERVICES}),
    ),
}

PEER_TO_PEER_TRANSITIONS: dict[PeerToPeerAction, Move] = {
    # 002: the UM office coordinates peer-to-peer requests for the physicians.
    PeerToPeerAction.SCHEDULE: Move(
        frozenset({PeerToPeerStatus.REQUESTED, PeerToPeerStatus.SCHEDULED}),
        PeerToPeerStatus.SCHEDULED,
        frozenset({Role.PHYSICIAN, Role.NURSE, Role.MANAGER}),
    ),
    PeerToPeerAction.RECORD_OUTCOME: Move(
        frozenset({PeerToPeerStatus.SCHEDULED}), PeerToPeerStatus.HELD, _PHYSICIAN
    ),
    PeerToPeerAction.LINK: Move(frozenset({PeerToPeerStatus.HELD}), SAME, _PHYSICIAN),
    PeerToPeerAction.CANCEL: Move(
        frozenset({PeerToPeerStatus.REQUESTED, PeerToPeerStatus.SCHEDULED}),
        PeerToPeerStatus.CANCELLED,
        frozenset({Role.PROVIDER, Role.PHYSICIAN, Role.NURSE, Role.MANAGER}),
    ),
}

IMR_TRANSITIONS: dict[ImrAction, Move] = {
    ImrAction.EXTEND: Move(frozenset({ImrStatus.REFERRED}), SAME, _PHYSICIAN),
    # 003 F.3: UM staff keep contact with the reviewer and file what comes back.
    ImrAction.RECORD_DETERMINATION: Move(
        frozenset({ImrStatus.REFERRED}),
        ImrStatus.DETERMINATION_RECEIVED,
        frozenset({Role.NURSE, Role.PHYSICIAN, Role.INTAKE}),
    ),
    ImrAction.DECIDE: Move(
        frozenset({ImrStatus.DETERMINATION_RECEIVED}), ImrStatus.DECIDED, _PHYSICIAN
    ),
    ImrAction.WITHDRAW: Move(frozenset({ImrStatus.REFERRED}), ImrStatus.WITHDRAWN, _PHYSICIAN),
}


def _check_move(
    table: dict[Any, Move], action: StrEnum, *, status: str, user: User | None, noun: str
) -> str:
    """Role (403), then possible from this status (409). Returns the target status."""
    move = table[action]
    role = user.role if user is not None else SYSTEM
    if role not in move.roles:
        if move.roles == _PHYSICIAN:
            raise DomainError(
                ErrorCode.PHYSICIAN_REQUIRED,
                f"Only a physician reviewer may {action.value.replace('_', ' ')} {noun}.",
            )
        raise DomainError(
            ErrorCode.PERMISSION_DENIED,
            f"Your role may not {action.value.replace('_', ' ')} {noun}.",
        )
    if status not in move.sources:
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            f"Cannot {action.value.replace('_', ' ')} {noun} that is {status}.",
        )
    return status if move.target == SAME else move.target


# --- shared helpers --------------------------------------------------------------------------


def _not_found() -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, "Not found.")


def _check_scope(*, user: User, tar_id: int) -> None:
    """404 unless the user may see the TAR (the same rule as TARs: PRODUCT §2)."""
    scope = tar_scope_q(user)
    if scope is None or not Tar.objects.filter(scope, pk=tar_id).exists():
        raise _not_found()


def _pacific_date(instant: datetime) -> date:
    return instant.astimezone(PACIFIC).date()


def _end_of_calendar_day(day: date) -> datetime:
    # PRODUCT §4 "N calendar days": 23:59:59 Pacific of that day, stored in UTC.
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=PACIFIC).astimezone(UTC)


def _history(
    *, tar: Tar, user: User | None, action: str, reason: str = "", detail: dict, at: datetime
) -> None:
    history_record(
        tar=tar, member=tar.member, actor=user, action=action, reason=reason, detail=detail, at=at
    )


def _owe_notices(tar_id: int, event: str) -> Callable[[], None]:
    """After commit: ask the notices machinery for the notices this event owes."""

    def owe() -> None:
        from notifications.services import notices_for_event

        notices_for_event(tar_id=tar_id, event=event)

    return owe


def _resolve_refs(refs: list[str] | None, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    from criteria.services import criteria_refs_resolve

    resolved, ref_errors = criteria_refs_resolve(list(refs or []))
    if ref_errors:
        errors.setdefault("criteria_refs", []).extend(ref_errors)
    return resolved


def _latest_adverse_decision(tar: Tar) -> Decision | None:
    return (
        tar.decisions.filter(outcome__in=[LineOutcome.DENIED, LineOutcome.MODIFIED])
        .order_by("-decided_at", "-id")
        .first()
    )


def _line_snapshot(tar: Tar) -> list[dict[str, Any]]:
    """The lines as they stand (an upheld decision records them unchanged)."""
    return [
        {
            "line_number": line.line_number,
            "code": line.code,
            "outcome": line.outcome,
            "approved_units": line.approved_units,
            "approved_date_from": str(line.approved_date_from or ""),
            "approved_date_to": str(line.approved_date_to or ""),
        }
        for line in tar.lines.order_by("line_number")
    ]


def _check_independent(*, tar: Tar, user: User, appeal: Appeal | None = None) -> None:
    """42 CFR 438.406(b)(2)(i): the appeal is decided by someone who took no part in the
    decision appealed (nor in any other decision on the request); 002: nor by a physician
    involved in the member's care. The appeal's own resolution, once made, does not count."""
    decisions = Decision.objects.filter(tar=tar, decided_by__isnull=False)
    if appeal is not None and appeal.resolution_decision_id is not None:
        decisions = decisions.exclude(pk=appeal.resolution_decision_id)
    deciders = set(decisions.values_list("decided_by_id", flat=True))
    if tar.decided_by_id is not None and (appeal is None or appeal.resolution_decision_id is None):
        deciders.add(tar.decided_by_id)
    if user.pk in deciders:
        raise DomainError(
            ErrorCode.CONFLICT_OF_INTEREST,
            "You took part in the decision under appeal; a physician who did not must decide "
            "the appeal (42 CFR 438.406(b)(2)).",
        )
    _check_conflict_of_interest(tar=tar, user=user)


@dataclass
class _Redetermination:
    """What a re-decision of a decided TAR (appeal or IMR) asks for."""

    outcome: str  # an AppealOutcome value
    rationale: str
    reason_code: str
    criteria_refs: list[dict[str, Any]]
    line_decisions: list[LineDecision]


_REDETERMINE_ACTIONS = {
    "appeal": {
        AppealOutcome.OVERTURNED: Action.APPEAL_OVERTURN,
        AppealOutcome.PARTIALLY_OVERTURNED: Action.APPEAL_PARTIAL,
        AppealOutcome.UPHELD: Action.APPEAL_UPHOLD,
    },
    "imr": {
        AppealOutcome.OVERTURNED: Action.IMR_OVERTURN,
        AppealOutcome.PARTIALLY_OVERTURNED: Action.IMR_PARTIAL,
        AppealOutcome.UPHELD: Action.IMR_UPHOLD,
    },
}


def _validate_redetermination(
    *,
    outcome: str,
    rationale: str,
    reason_code: str,
    criteria_refs: list[str] | None,
    line_decisions: list[LineDecision] | None,
    current_reason: str,
) -> _Redetermination:
    errors: dict[str, list[str]] = {}
    if outcome not in AppealOutcome.values:
        errors.setdefault("outcome", []).append(f"Use one of: {', '.join(AppealOutcome.values)}.")
    if not (rationale or "").strip():
        errors.setdefault("rationale", []).append(
            "Explain the result in plain words; it goes into the member's letter."
        )
    reason = ""
    if outcome != AppealOutcome.OVERTURNED:
        reason = reason_code or current_reason or ReasonCode.MEDICAL_NECESSITY
        if reason not in ReasonCode.values:
            errors.setdefault("reason_code", []).append("Unknown reason code.")
        if reason == ReasonCode.MEDICAL_NECESSITY and not criteria_refs:
            # PRODUCT §7: an adverse notice cites the criteria by set, version and number.
            errors.setdefault("criteria_refs", []).append(
                "Cite the criteria used (set, version and criterion number)."
            )
    if outcome == AppealOutcome.PARTIALLY_OVERTURNED and not line_decisions:
        errors.setdefault("lines", []).append(
            "Give the line decisions: what is approved, and how much."
        )
    resolved = _resolve_refs(criteria_refs, errors)
    if errors:
        raise DomainError(
            ErrorCode.INVALID, "The decision is not valid; see fields.", fields=errors
        )
    return _Redetermination(
        outcome=outcome,
        rationale=rationale.strip(),
        reason_code=reason,
        criteria_refs=resolved,
        line_decisions=list(line_decisions or []),
    )


def _redetermine(
    *,
    tar_id: int,
    user: User,
    path: str,
    change: _Redetermination,
    authorize: Callable[[Tar], None],
    detail: dict[str, Any],
    now: datetime,
) -> Decision:
    """Apply an appeal's or an IMR's result to a decided TAR through the transition table:
    overturned → approved (every line approved as asked); partly overturned → modified with
    the given lines; upheld → status unchanged. Each writes a new Decision row."""
    action = _REDETERMINE_ACTIONS[path][change.outcome]
    written: dict[str, Decision] = {}

    def apply(tar: Tar) -> None:
        if change.outcome == AppealOutcome.OVERTURNED:
            line_outcomes = _apply_line_decisions(tar=tar, outcome=TarStatus.APPROVED, decisions=[])
            outcome = LineOutcome.APPROVED
        elif change.outcome == AppealOutcome.PARTIALLY_OVERTURNED:
            line_outcomes = _apply_line_decisions(
                tar=tar, outcome=TarStatus.MODIFIED, decisions=change.line_decisions
            )
            outcome = LineOutcome.MODIFIED
        else:
            line_outcomes = _line_snapshot(tar)
            outcome = tar.status  # denied, modified or closed: the same word for a decision
        if change.outcome != AppealOutcome.UPHELD:
            # The authorization changed: the TAR shows who decided it now and why.
            tar.decided_at = now
            tar.decided_by = user
            tar.reason_code = change.reason_code
        written["decision"] = Decision.objects.create(
            tar=tar,
            outcome=outcome,
            reason_code=change.reason_code,
            rationale=change.rationale,
            criteria_refs=change.criteria_refs,
            line_outcomes=line_outcomes,
            decided_by=user,
            decided_at=now,
        )

    tar_transition(
        tar_id=tar_id,
        user=user,
        action=action,
        reason=change.rationale,
        detail=detail,
        authorize=authorize,
        apply=apply,
        now=now,
    )
    return written["decision"]


# --- appeals ---------------------------------------------------------------------------------

_FILER_BY_ROLE = {
    Role.MEMBER: AppealFiler.MEMBER,
    Role.PROVIDER: AppealFiler.PROVIDER,
    Role.MEMBER_SERVICES: AppealFiler.MEMBER_SERVICES,
}


def _lock_appeal(appeal_id: int) -> Appeal:
    appeal = (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("tar", "member")
        .filter(pk=appeal_id)
        .first()
    )
    if appeal is None:
        raise _not_found()
    return appeal


def appeal_file(
    *,
    tar_id: int,
    user: User,
    reason: str,
    expedited: bool = False,
    expedited_reason: str = "",
    member_consent: bool = False,
    received_at: datetime | None = None,
    now: datetime | None = None,
) -> Appeal:
    """File an appeal of the TAR's adverse decision: by the member, by a provider for the
    member with written consent, or entered by member services. A late appeal (after the
    60-day window) is accepted, logged and flagged, never lost."""
    now = now or timezone.now()
    with transaction.atomic():
        tar = _lock_tar(tar_id)
        _check_scope(user=user, tar_id=tar.pk)
        filer = _FILER_BY_ROLE.get(user.role)
        if filer is None:
            raise DomainError(
                ErrorCode.PERMISSION_DENIED,
                "Appeals are filed by the member, by a provider for the member, or by member "
                "services for a member who called or wrote.",
            )
        errors: dict[str, list[str]] = {}
        if not (reason or "").strip():
            errors.setdefault("reason", []).append("Say why the decision should change.")
        if expedited and not (expedited_reason or "").strip():
            errors.setdefault("expedited_reason", []).append(
                "Say why waiting 30 days could seriously harm the member's life, health or "
                "ability to function (42 CFR 438.410)."
            )
        if filer == AppealFiler.PROVIDER and not member_consent:
            errors.setdefault("member_consent", []).append(
                "A provider may appeal for the member only with the member's written consent "
                "(42 CFR 438.402(c)(1)(ii))."
            )
        if received_at is not None and filer != AppealFiler.MEMBER_SERVICES:
            errors.setdefault("received_at", []).append(
                "Only member services may enter the receipt time of a call or letter."
            )
        received = received_at or now
        if received > now + timedelta(minutes=1):
            errors.setdefault("received_at", []).append("The receipt time cannot be in the future.")
        if errors:
            raise DomainError(
                ErrorCode.INVALID, "The appeal is not valid; see fields.", fields=errors
            )
        if tar.status not in (TarStatus.DENIED, TarStatus.MODIFIED):
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"Only a denial or a modification can be appealed; this request is {tar.status}.",
            )
        decision = _latest_adverse_decision(tar)
        if decision is None:
            raise DomainError(ErrorCode.INVALID_TRANSITION, "There is no decision to appeal.")
        if Appeal.objects.filter(resolution_decision=decision).exists():
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "This decision is the result of an appeal. The next step is a State Hearing, "
                "which the resolution notice explains.",
            )
        if Appeal.objects.filter(tar=tar, status__in=_APPEAL_OPEN).exists():
            raise DomainError(
                ErrorCode.INVALID_TRANSITION, "An appeal of this request is already open."
            )
        if Appeal.objects.filter(decision=decision).exclude(status="withdrawn").exists():
            raise DomainError(
                ErrorCode.INVALID_TRANSITION, "This decision has already been appealed."
            )
        if received < decision.decided_at:
            raise invalid(
                "The appeal cannot be received before the decision.",
                received_at="On or after the decision date.",
            )
        notice_date = _pacific_date(decision.decided_at)
        filing = clocks.appeal_filing_deadline(notice_date=notice_date)
        resolution = clocks.appeal_resolution_deadline(received_at=received, expedited=expedited)
        late = received > filing.due_at
        appeal = Appeal(
            number=next_number("APL", _pacific_date(received).year),
            tar=tar,
            member=tar.member,
            decision=decision,
            filer=filer,
            filed_by=user,
            filing_provider=user.provider if filer == AppealFiler.PROVIDER else None,
            member_consent=bool(member_consent),
            reason=reason.strip(),
            expedited=expedited,
            expedited_reason=(expedited_reason or "").strip() if expedited else "",
            received_at=received,
            notice_date=notice_date,
            filing_deadline_at=filing.due_at,
            late=late,
            status=AppealStatus.RECEIVED,
            resolution_due_at=resolution.due_at,
            resolution_due_rule=resolution.rule,
            original_resolution_due_at=resolution.due_at,
            created_at=now,
        )
        appeal.full_clean(exclude=["tar", "member", "decision", "filed_by", "filing_provider"])
        try:
            with transaction.atomic():
                appeal.save()
        except IntegrityError as exc:
            # Two filings raced; the one-open-appeal constraint let one through.
            raise DomainError(
                ErrorCode.INVALID_TRANSITION, "An appeal of this request is already open."
            ) from exc
        _history(
            tar=tar,
            user=user,
            action=AppealHistoryAction.APPEAL_FILED,
            reason=appeal.reason,
            detail={
                "appeal": appeal.pk,
                "number": appeal.number,
                "filer": filer,
                "expedited": expedited,
                "late": late,
                "filing_deadline_at": filing.due_at.isoformat(),
                "resolution_due_at": resolution.due_at.isoformat(),
                "resolution_due_rule": resolution.rule,
            },
            at=now,
        )
    if late:
        # Logged with the appeal number only (no PHI); reports count late appeals.
        logger.info("late appeal accepted: %s", appeal.number)
    return appeal


def appeal_extend(
    *,
    appeal_id: int,
    user: User,
    reason: str,
    note: str,
    new_due_at: datetime | None = None,
    now: datetime | None = None,
) -> Appeal:
    """42 CFR 438.408(c): one extension of up to 14 calendar days, asked by the member or
    needed by the plan in the member's interest, with written notice within 2 days."""
    now = now or timezone.now()
    if reason not in AppealExtensionReason.values:
        raise invalid(
            "Unknown extension reason.",
            reason=f"Use one of: {', '.join(AppealExtensionReason.values)}.",
        )
    if not (note or "").strip():
        raise invalid("Say why and what is needed.", note="The notice states it.")
    with transaction.atomic():
        appeal = _lock_appeal(appeal_id)
        _check_scope(user=user, tar_id=appeal.tar_id)
        _check_move(
            APPEAL_TRANSITIONS,
            AppealAction.EXTEND,
            status=appeal.status,
            user=user,
            noun="an appeal",
        )
        if AppealExtension.objects.filter(appeal=appeal).exists():
            raise DomainError(
                ErrorCode.CLOCK_RULE,
                "This appeal was already extended; only one extension is allowed "
                "(42 CFR 438.408(c)).",
                fields={"new_due_at": ["extension_limit_reached"]},
            )
        if appeal.resolution_due_at <= now:
            raise DomainError(
                ErrorCode.CLOCK_RULE,
                "The resolution deadline has passed; an extension must be taken before it.",
            )
        cap = clocks.appeal_extension_cap(resolution_due_at=appeal.original_resolution_due_at)
        target = new_due_at or cap.due_at
        if target <= appeal.resolution_due_at:
            raise DomainError(
                ErrorCode.CLOCK_RULE,
                "The new due date must be after the current one.",
                fields={"new_due_at": ["extension_not_later"]},
            )
        if target > cap.due_at:
            raise DomainError(
                ErrorCode.CLOCK_RULE,
                f"An appeal may be extended by at most 14 calendar days, to "
                f"{cap.due_at.isoformat()} ({cap.rule}).",
                fields={"new_due_at": ["extension_beyond_cap"]},
            )
        previous = appeal.resolution_due_at
        extension = AppealExtension.objects.create(
            appeal=appeal,
            reason=reason,
            note=note.strip(),
            previous_due_at=previous,
            new_due_at=target,
            extended_by=user,
            extended_at=now,
            # 42 CFR 438.408(c)(2)(ii): written notice of the reason within 2 calendar days.
            notice_due_at=_end_of_calendar_day(_pacific_date(now) + timedelta(days=2)),
        )
        Appeal.objects.filter(pk=appeal.pk).update(
            resolution_due_at=target, resolution_due_rule=cap.rule
        )
        _history(
            tar=appeal.tar,
            user=user,
            action=AppealHistoryAction.APPEAL_EXTENDED,
            reason=note.strip(),
            detail={
                "appeal": appeal.pk,
                "extension": extension.pk,
                "extension_reason": reason,
                "previous_due_at": previous.isoformat(),
                "new_due_at": target.isoformat(),
            },
            at=now,
        )
        transaction.on_commit(_owe_notices(appeal.tar_id, "appeal_extension"))
    appeal.refresh_from_db()
    return appeal


def appeal_decide(
    *,
    appeal_id: int,
    user: User,
    outcome: str,
    rationale: str,
    reason_code: str = "",
    criteria_refs: list[str] | None = None,
    line_decisions: list[LineDecision] | None = None,
    now: datetime | None = None,
) -> Appeal:
    """Resolve an appeal: upheld (the TAR stays), overturned (the TAR becomes an approval) or
    partly overturned (the TAR becomes a modification with the given lines). A new Decision
    row records it; the member and the provider are owed the resolution notice, which for an
    adverse result carries the State Hearing rights and the 120-day date."""
    now = now or timezone.now()
    with transaction.atomic():
        appeal = _lock_appeal(appeal_id)
        _check_scope(user=user, tar_id=appeal.tar_id)
        if user.role != Role.PHYSICIAN:
            # 42 CFR 438.406(b)(2)(ii): a medical-necessity appeal is decided by a physician.
            raise DomainError(
                ErrorCode.PHYSICIAN_REQUIRED, "Only a physician reviewer may decide an appeal."
            )
        tar = Tar.objects.select_related("member").get(pk=appeal.tar_id)
        _check_independent(tar=tar, user=user, appeal=appeal)
        _appeal_resolve_locked(
            appeal=appeal,
            tar=tar,
            user=user,
            outcome=outcome,
            rationale=rationale,
            reason_code=reason_code,
            criteria_refs=criteria_refs,
            line_decisions=line_decisions,
            detail={"appeal": appeal.pk, "appeal_outcome": outcome},
            now=now,
        )
    return appeal


def _appeal_resolve_locked(
    *,
    appeal: Appeal,
    tar: Tar,
    user: User,
    outcome: str,
    rationale: str,
    reason_code: str,
    criteria_refs: list[str] | None,
    line_decisions: list[LineDecision] | None,
    detail: dict,
    now: datetime,
) -> Decision:
    """Resolve an open appeal (the caller holds the appeal lock and has checked the decider's
    independence): the move, the new decision on the TAR, and the appeal's side."""
    _check_move(
        APPEAL_TRANSITIONS,
        AppealAction.RESOLVE,
        status=appeal.status,
        user=user,
        noun="an appeal",
    )
    change = _validate_redetermination(
        outcome=outcome,
        rationale=rationale,
        reason_code=reason_code,
        criteria_refs=criteria_refs,
        line_decisions=line_decisions,
        current_reason=tar.reason_code,
    )
    decision = _redetermine(
        tar_id=tar.pk,
        user=user,
        path="appeal",
        change=change,
        # Checked again under the TAR's lock: the decision history cannot change now.
        authorize=lambda locked: _check_independent(tar=locked, user=user),
        detail=detail,
        now=now,
    )
    _appeal_mark_resolved(appeal=appeal, user=user, change=change, decision=decision, now=now)
    return decision


def _appeal_mark_resolved(
    *, appeal: Appeal, user: User, change: _Redetermination, decision: Decision, now: datetime
) -> None:
    """The appeal side of a resolution (the TAR side is done): status, notice and State
    Hearing dates, history, and the notices owed after commit. Called under the appeal lock."""
    from_status = appeal.status
    if now <= appeal.resolution_due_at:
        # 42 CFR 438.408(b), (d)(2): the written resolution notice within the time frame.
        notice_due = appeal.resolution_due_at
    else:
        # Already late: the notice is due the day of the resolution.
        notice_due = _end_of_calendar_day(_pacific_date(now))
    appeal.status = AppealStatus.RESOLVED
    appeal.outcome = change.outcome
    appeal.rationale = change.rationale
    appeal.criteria_refs = change.criteria_refs
    appeal.decided_by = user
    appeal.resolved_at = now
    appeal.resolution_decision = decision
    appeal.notice_due_at = notice_due
    appeal.state_hearing_due_at = (
        None
        if change.outcome == AppealOutcome.OVERTURNED
        # 42 CFR 438.408(f)(2): 120 calendar days from the adverse resolution notice.
        else clocks.state_hearing_deadline(resolution_date=_pacific_date(now)).due_at
    )
    appeal.save()
    _history(
        tar=appeal.tar,
        user=user,
        action=AppealHistoryAction.APPEAL_RESOLVED,
        reason=change.rationale,
        detail={
            "appeal": appeal.pk,
            "from": from_status,
            "outcome": change.outcome,
            "decision": decision.pk,
            "on_time": now <= appeal.resolution_due_at,
        },
        at=now,
    )
    transaction.on_commit(_owe_notices(appeal.tar_id, "appeal_resolution"))


def appeal_withdraw(
    *, appeal_id: int, user: User, reason: str = "", now: datetime | None = None
) -> Appeal:
    now = now or timezone.now()
    with transaction.atomic():
        appeal = _lock_appeal(appeal_id)
        _check_scope(user=user, tar_id=appeal.tar_id)
        target = _check_move(
            APPEAL_TRANSITIONS,
            AppealAction.WITHDRAW,
            status=appeal.status,
            user=user,
            noun="an appeal",
        )
        from_status = appeal.status
        appeal.status = target
        appeal.withdrawn_at = now
        appeal.save(update_fields=["status", "withdrawn_at"])
        _history(
            tar=appeal.tar,
            user=user,
            action=AppealHistoryAction.APPEAL_WITHDRAWN,
            reason=(reason or "").strip(),
            detail={"appeal": appeal.pk, "from": from_status},
            at=now,
        )
    return appeal


# --- peer-to-peer ----------------------------------------------------------------------------

_PEER_TO_PEER_TAR_STATUSES = (*OPEN_STATUSES, TarStatus.DENIED, TarStatus.MODIFIED)
MAX_PROPOSED_TIMES = 5


def _lock_peer_to_peer(p2p_id: int) -> PeerToPeer:
    p2p = (
        PeerToPeer.objects.select_for_update(of=("self",))
        .select_related("tar__member")
        .filter(pk=p2p_id)
        .first()
    )
    if p2p is None:
        raise _not_found()
    return p2p


def peer_to_peer_request(
    *,
    tar_id: int,
    user: User,
    contact_phone: str,
    proposed_times: list[datetime],
    topic: str = "",
    now: datetime | None = None,
) -> PeerToPeer:
    """002 "Denial Determinations": the practitioner may discuss a denial or a potential
    denial with the physician reviewer. Asked by the requesting provider's office."""
    now = now or timezone.now()
    with transaction.atomic():
        tar = _lock_tar(tar_id)
        _check_scope(user=user, tar_id=tar.pk)
        if user.role != Role.PROVIDER:
            raise DomainError(
                ErrorCode.PERMISSION_DENIED,
                "A peer-to-peer talk is asked for by the requesting provider's office.",
            )
        errors: dict[str, list[str]] = {}
        if not (contact_phone or "").strip():
            errors.setdefault("contact_phone", []).append("A number the physician can call.")
        if not proposed_times:
            errors.setdefault("proposed_times", []).append("Propose at least one time.")
        elif len(proposed_times) > MAX_PROPOSED_TIMES:
            errors.setdefault("proposed_times", []).append(
                f"Propose at most {MAX_PROPOSED_TIMES} times."
            )
        elif any(t <= now for t in proposed_times):
            errors.setdefault("proposed_times", []).append("Propose times in the future.")
        if errors:
            raise DomainError(
                ErrorCode.INVALID, "The request is not valid; see fields.", fields=errors
            )
        if tar.status not in _PEER_TO_PEER_TAR_STATUSES:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "A peer-to-peer talk is about a pending request or a denial or modification; "
                f"this request is {tar.status}.",
            )
        if tar.peer_to_peers.filter(
            status__in=[PeerToPeerStatus.REQUESTED, PeerToPeerStatus.SCHEDULED]
        ).exists():
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "A peer-to-peer talk about this request is already asked for.",
            )
        p2p = PeerToPeer.objects.create(
            tar=tar,
            decision=None if tar.is_open else _latest_adverse_decision(tar),
            requested_by=user,
            requesting_provider=user.provider,
            requested_at=now,
            proposed_times=[t.isoformat() for t in sorted(proposed_times)],
            contact_phone=contact_phone.strip(),
            topic=(topic or "").strip(),
        )
        _history(
            tar=tar,
            user=user,
            action=AppealHistoryAction.PEER_TO_PEER_REQUESTED,
            reason=p2p.topic,
            detail={"peer_to_peer": p2p.pk, "decision": p2p.decision_id},
            at=now,
        )
    return p2p


def peer_to_peer_schedule(
    *,
    p2p_id: int,
    user: User,
    scheduled_at: datetime,
    physician_id: int | None = None,
    now: datetime | None = None,
) -> PeerToPeer:
    now = now or timezone.now()
    with transaction.atomic():
        p2p = _lock_peer_to_peer(p2p_id)
        _check_scope(user=user, tar_id=p2p.tar_id)
        target = _check_move(
            PEER_TO_PEER_TRANSITIONS,
            PeerToPeerAction.SCHEDULE,
            status=p2p.status,
            user=user,
            noun="a peer-to-peer talk",
        )
        if physician_id is None and user.role == Role.PHYSICIAN:
            physician_id = user.pk
        physician = User.objects.filter(
            pk=physician_id, role=Role.PHYSICIAN, is_active=True
        ).first()
        if physician is None:
            raise invalid("Name the physician reviewer.", physician="No such physician.")
        if scheduled_at <= now:
            raise invalid("The talk must be in the future.", scheduled_at="A future time.")
        # 002: the physician may not be involved in the member's care for this request.
        _check_conflict_of_interest(tar=p2p.tar, user=physician)
        p2p.status = target
        p2p.physician = physician
        p2p.scheduled_at = scheduled_at
        p2p.scheduled_by = user
        p2p.save(update_fields=["status", "physician", "scheduled_at", "scheduled_by"])
        _history(
            tar=p2p.tar,
            user=user,
            action=AppealHistoryAction.PEER_TO_PEER_SCHEDULED,
            detail={
                "peer_to_peer": p2p.pk,
                "physician": physician.pk,
                "scheduled_at": scheduled_at.isoformat(),
            },
            at=now,
        )
    return p2p


def _check_link(
    *, p2p: PeerToPeer, decision_id: int | None, appeal_id: int | None
) -> tuple[Decision | None, Appeal | None]:
    decision = appeal = None
    if decision_id is not None:
        decision = Decision.objects.filter(pk=decision_id, tar_id=p2p.tar_id).first()
        if decision is None or decision.decided_at < p2p.requested_at:
            raise invalid(
                "Link a decision on this request made after the talk was asked for.",
                decision="No such decision on this request after the talk was asked for.",
            )
    if appeal_id is not None:
        appeal = Appeal.objects.filter(pk=appeal_id, tar_id=p2p.tar_id).first()
        if appeal is None:
            raise invalid("No such appeal of this request.", appeal="No such appeal.")
    return decision, appeal


def peer_to_peer_record_outcome(
    *,
    p2p_id: int,
    user: User,
    outcome: str,
    summary: str,
    held_at: datetime | None = None,
    decision_id: int | None = None,
    appeal_id: int | None = None,
    now: datetime | None = None,
) -> PeerToPeer:
    """The physician who held the talk records what came of it. A changed decision is made
    through tar_decide (pending request) or the appeal path, and linked here or later."""
    now = now or timezone.now()
    if outcome not in PeerToPeerOutcome.values:
        raise invalid("Unknown outcome.", outcome=f"Use one of: {', '.join(PeerToPeerOutcome)}.")
    if not (summary or "").strip():
        raise invalid("Summarise the talk.", summary="This field is required.")
    held = held_at or now
    if held > now + timedelta(minutes=1):
        raise invalid("The talk cannot be in the future.", held_at="Not in the future.")
    with transaction.atomic():
        p2p = _lock_peer_to_peer(p2p_id)
        _check_scope(user=user, tar_id=p2p.tar_id)
        target = _check_move(
            PEER_TO_PEER_TRANSITIONS,
            PeerToPeerAction.RECORD_OUTCOME,
            status=p2p.status,
            user=user,
            noun="a peer-to-peer talk",
        )
        if p2p.physician_id != user.pk:
            raise DomainError(
                ErrorCode.PERMISSION_DENIED,
                "The physician who held the talk records its outcome.",
            )
        decision, appeal = _check_link(p2p=p2p, decision_id=decision_id, appeal_id=appeal_id)
        p2p.status = target
        p2p.held_at = held
        p2p.outcome = outcome
        p2p.summary = summary.strip()
        p2p.recorded_by = user
        p2p.changed_decision = decision
        p2p.changed_by_appeal = appeal
        p2p.save()
        _history(
            tar=p2p.tar,
            user=user,
            action=AppealHistoryAction.PEER_TO_PEER_HELD,
            reason=p2p.summary,
            detail={
                "peer_to_peer": p2p.pk,
                "outcome": outcome,
                "decision": decision.pk if decision else None,
                "appeal": appeal.pk if appeal else None,
            },
            at=now,
        )
    return p2p


def peer_to_peer_link(
    *,
    p2p_id: int,
    user: User,
    decision_id: int | None = None,
    appeal_id: int | None = None,
    now: datetime | None = None,
) -> PeerToPeer:
    """Link the decision (or the appeal) a talk led to, once it is made."""
    now = now or timezone.now()
    if decision_id is None and appeal_id is None:
        raise invalid("Name the decision or the appeal.", decision="This field is required.")
    with transaction.atomic():
        p2p = _lock_peer_to_peer(p2p_id)
        _check_scope(user=user, tar_id=p2p.tar_id)
        _check_move(
            PEER_TO_PEER_TRANSITIONS,
            PeerToPeerAction.LINK,
            status=p2p.status,
            user=user,
            noun="a peer-to-peer talk",
        )
        decision, appeal = _check_link(p2p=p2p, decision_id=decision_id, appeal_id=appeal_id)
        if decision is not None:
            p2p.changed_decision = decision
        if appeal is not None:
            p2p.changed_by_appeal = appeal
        p2p.outcome = PeerToPeerOutcome.DECISION_CHANGED
        p2p.save(update_fields=["changed_decision", "changed_by_appeal", "outcome"])
        _history(
            tar=p2p.tar,
            user=user,
            action=AppealHistoryAction.PEER_TO_PEER_LINKED,
            detail={
                "peer_to_peer": p2p.pk,
                "decision": p2p.changed_decision_id,
                "appeal": p2p.changed_by_appeal_id,
            },
            at=now,
        )
    return p2p


def peer_to_peer_cancel(
    *, p2p_id: int, user: User, reason: str = "", now: datetime | None = None
) -> PeerToPeer:
    now = now or timezone.now()
    with transaction.atomic():
        p2p = _lock_peer_to_peer(p2p_id)
        _check_scope(user=user, tar_id=p2p.tar_id)
        target = _check_move(
            PEER_TO_PEER_TRANSITIONS,
            PeerToPeerAction.CANCEL,
            status=p2p.status,
            user=user,
            noun="a peer-to-peer talk",
        )
        p2p.status = target
        p2p.cancelled_at = now
        p2p.cancel_reason = (reason or "").strip()
        p2p.save(update_fields=["status", "cancelled_at", "cancel_reason"])
        _history(
            tar=p2p.tar,
            user=user,
            action=AppealHistoryAction.PEER_TO_PEER_CANCELLED,
            reason=p2p.cancel_reason,
            detail={"peer_to_peer": p2p.pk},
            at=now,
        )
    return p2p


# --- independent medical review --------------------------------------------------------------


_IMR_OPEN = (ImrStatus.REFERRED, ImrStatus.DETERMINATION_RECEIVED)


def _lock_imr(imr_id: int) -> ImrCase:
    imr = (
        ImrCase.objects.select_for_update(of=("self",))
        .select_related("tar__member")
        .filter(pk=imr_id)
        .first()
    )
    if imr is None:
        raise _not_found()
    return imr


@dataclass
class ImrReferralInput:
    referral_reason: str
    reviewer_kind: str
    reviewer_name: str
    review_type: str
    questions: list[str]
    pertinent_history: str
    clinical_data: str
    reviewer_specialty: str = ""
    expedited_basis: str = ""
    serious_condition: str = ""
    treating_physician_certified: bool = False
    experimental_investigational: bool = False
    appeal_id: int | None = None


def _validate_referral(data: ImrReferralInput, tar: Tar) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data.referral_reason not in ImrReferralReason.values:
        errors.setdefault("referral_reason", []).append(
            f"Use one of: {', '.join(ImrReferralReason.values)} (003 §B)."
        )
    if data.reviewer_kind not in ImrReviewerKind.values:
        errors.setdefault("reviewer_kind", []).append("imro or specialist.")
    if not (data.reviewer_name or "").strip():
        errors.setdefault("reviewer_name", []).append(
            "Name the review organization or the independent specialist."
        )
    if data.review_type not in ImrReviewType.values:
        errors.setdefault("review_type", []).append("standard, expedited or retrospective.")
    elif data.review_type == ImrReviewType.EXPEDITED:
        if data.expedited_basis not in ImrExpeditedBasis.values:
            errors.setdefault("expedited_basis", []).append(
                "An expedited review states its basis (003 G.2.a): "
                f"{', '.join(ImrExpeditedBasis.values)}."
            )
    elif data.expedited_basis:
        errors.setdefault("expedited_basis", []).append("Only for an expedited review.")
    if data.review_type in ImrReviewType.values:
        retro_request = tar.request_type == RequestType.POST_SERVICE
        if retro_request != (data.review_type == ImrReviewType.RETROSPECTIVE):
            errors.setdefault("review_type", []).append(
                "A post-service request gets a retrospective review (003 G.3), and only it."
            )
    if data.referral_reason == ImrReferralReason.EXPERIMENTAL_DENIAL_SERIOUS_CONDITION and (
        data.serious_condition not in ImrSeriousCondition.values
    ):
        errors.setdefault("serious_condition", []).append(
            "003 B.4: state whether the condition is life-threatening or seriously debilitating."
        )
    if (
        data.referral_reason == ImrReferralReason.MEDICAL_NECESSITY_DENIAL
        and not data.treating_physician_certified
    ):
        errors.setdefault("treating_physician_certified", []).append(
            "003 B.5: the treating physician must certify that standard therapies failed and "
            "recommend in writing a therapy that would be more beneficial."
        )
    questions = [q.strip() for q in data.questions if q and q.strip()]
    if not questions:
        errors.setdefault("questions", []).append(
            "Ask the reviewer at least one specific question (003 F.2.i)."
        )
    if not (data.pertinent_history or "").strip():
        errors.setdefault("pertinent_history", []).append("Required (003 F.2.f).")
    if not (data.clinical_data or "").strip():
        errors.setdefault("clinical_data", []).append("Required (003 F.2.g).")
    return errors


# The engine's result words, for a clinical reader (the letters use plainer ones).
_RESULT_LABELS = {"met": "Met", "not_met": "Not met", "unknown": "Unknown (not answered)"}


def _answer_text(key: str, value: Any) -> str:
    from criteria import catalog

    question = catalog.QUESTIONS.get(key) or {}
    labels = question.get("choice_labels") or {}
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(labels.get(v, v)) for v in value) or "None"
    return str(labels.get(value, value))


def _packet_snapshot(*, tar: Tar, appeal: Appeal | None, now: datetime) -> dict[str, Any]:
    """003 F.2.b-e, frozen at referral. No member name, CIN, address or date of birth: the
    reviewer sees the review's own patient identifier (F.2.a) and the member's age."""
    import simple_icd_10_cm as icd

    from criteria import catalog
    from notifications import wording

    lines = list(tar.lines.select_related("criteria_set").order_by("line_number"))
    diagnoses: dict[str, str] = {}
    for line in lines:
        for code in line.diagnosis_codes or []:
            try:
                diagnoses.setdefault(code, icd.get_description(code))
            except ValueError:
                diagnoses.setdefault(code, "")
    dob = tar.member.date_of_birth
    today = _pacific_date(now)
    age = today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
    decisions = [
        {
            "date": _pacific_date(d.decided_at).isoformat(),
            "outcome": wording.pick(wording.OUTCOMES, d.outcome, "en"),
            "reason": ReasonCode(d.reason_code).label if d.reason_code else "",
            "rationale": d.rationale,
            "criteria": [ref.get("ref", "") for ref in d.criteria_refs or []],
        }
        for d in tar.decisions.order_by("decided_at", "id")
    ]
    criteria = []
    for line in lines:
        evaluation = line.evaluation or {}
        if not evaluation.get("criteria_set"):
            continue
        criteria.append(
            {
                "line_number": line.line_number,
                "criteria_set": evaluation.get("criteria_set"),
                "version": evaluation.get("version"),
                "recommendation": line.recommendation,
                "criteria": [
                    {
                        "number": c.get("number"),
                        "text": c.get("text", ""),
                        "result": _RESULT_LABELS.get(c["result"], c["result"]),
                    }
                    for c in evaluation.get("criteria", [])
                ],
            }
        )
    return {
        "service": [
            {
                "line_number": line.line_number,
                "code": line.code,
                "description": wording.service_description(line.code, "en"),
                "modifiers": list(line.modifiers or []),
                "units": line.units,
                "spinal_region": line.spinal_region,
                "date_from": line.service_date_from.isoformat(),
                "date_to": line.service_date_to.isoformat(),
            }
            for line in lines
        ],
        "diagnoses": [{"code": code, "description": text} for code, text in diagnoses.items()],
        "request": {
            "request_type": RequestType(tar.request_type).label,
            "urgency": Urgency(tar.urgency).label,
            "urgency_reason": tar.urgency_reason,
            "place_of_service": tar.get_place_of_service_display(),
            "received_on": _pacific_date(tar.received_at).isoformat(),
            "age": age,
            "requesting_provider": tar.requesting_provider.name,
            "requesting_specialty": tar.requesting_provider.get_specialty_display(),
            "servicing_provider": tar.servicing_provider.name,
            "servicing_specialty": tar.servicing_provider.get_specialty_display(),
            "status": tar.get_status_display(),
            "decisions": decisions,
            "appeal_reason": appeal.reason if appeal else "",
        },
        "answers": [
            {"label": catalog.QUESTIONS.get(k, {}).get("label", k), "value": _answer_text(k, v)}
            for k, v in sorted((tar.answers or {}).items())
        ],
        "criteria": criteria,
        "practitioner": {
            "documents": [
                {
                    "name": a.original_name,
                    "content_type": a.content_type,
                    "uploaded_on": _pacific_date(a.uploaded_at).isoformat(),
                    "description": a.description,
                    "sha256": a.sha256,
                }
                for a in tar.attachments.order_by("uploaded_at", "id")
            ],
            "responses": [
                {
                    "requested_on": _pacific_date(r.requested_at).isoformat(),
                    "message": r.message,
                    "response": r.response,
                    "responded_on": _pacific_date(r.responded_at).isoformat()
                    if r.responded_at
                    else "",
                }
                for r in tar.information_requests.order_by("requested_at", "id")
            ],
        },
    }


def imr_refer(
    *, tar_id: int, user: User, data: ImrReferralInput, now: datetime | None = None
) -> ImrCase:
    """003 §B, §F: a physician refers the case to the contracted IMRO or a case-matched
    independent specialist; the packet (items a-i) is frozen and the IMR clock starts."""
    now = now or timezone.now()
    with transaction.atomic():
        tar = _lock_tar(tar_id)
        _check_scope(user=user, tar_id=tar.pk)
        if user.role != Role.PHYSICIAN:
            # 003 F.1: the CMO or a physician designee refers a case.
            raise DomainError(
                ErrorCode.PHYSICIAN_REQUIRED,
                "Only a physician reviewer may refer a case to independent medical review.",
            )
        _check_conflict_of_interest(tar=tar, user=user)
        errors = _validate_referral(data, tar)
        if errors:
            raise DomainError(
                ErrorCode.INVALID, "The referral is not valid; see fields.", fields=errors
            )
        experimental = data.experimental_investigational or (
            data.referral_reason in EXPERIMENTAL_REASONS
        )
        if tar.status in (TarStatus.APPROVED, TarStatus.WITHDRAWN) or (
            tar.status == TarStatus.CLOSED and tar.reason_code in _NON_REVIEWABLE_CLOSURES
        ):
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"There is no medical question to review: this request is {tar.status}.",
            )
        if tar.reason_code == ReasonCode.NOT_A_BENEFIT and not experimental:
            # 003 §C: a benefit exclusion is not eligible, unless experimental/investigational.
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "This request was decided as not a covered benefit. A benefit exclusion cannot "
                "go to independent medical review unless the service is experimental or "
                "investigational (003 §C).",
                fields={
                    "experimental_investigational": [
                        "Required for a benefit-exclusion decision (003 §C)."
                    ]
                },
            )
        appeal = None
        open_appeals = Appeal.objects.filter(tar=tar, status__in=_APPEAL_OPEN)
        if data.appeal_id is not None:
            appeal = open_appeals.filter(pk=data.appeal_id).first()
            if appeal is None:
                raise invalid("No open appeal of this request.", appeal="No such open appeal.")
        else:
            appeal = open_appeals.first()
        if data.referral_reason == ImrReferralReason.APPEAL and appeal is None:
            raise invalid(
                "There is no open appeal of this request.",
                referral_reason="003 B.3 needs an open appeal.",
            )
        if ImrCase.objects.filter(tar=tar, status__in=list(_IMR_OPEN)).exists():
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "This request is already with an independent reviewer.",
            )
        deadline = clocks.imr_deadline(
            received_at=now, kind=data.review_type, calendar=plan_calendar()
        )
        imr = ImrCase(
            number=next_number("IMR", _pacific_date(now).year),
            tar=tar,
            member=tar.member,
            appeal=appeal,
            decision=None if tar.is_open else tar.decisions.order_by("-decided_at", "-id").first(),
            status=ImrStatus.REFERRED,
            referral_reason=data.referral_reason,
            serious_condition=data.serious_condition or "",
            treating_physician_certified=bool(data.treating_physician_certified),
            experimental_investigational=experimental,
            reviewer_kind=data.reviewer_kind,
            reviewer_name=data.reviewer_name.strip(),
            reviewer_specialty=(data.reviewer_specialty or "").strip(),
            review_type=data.review_type,
            expedited_basis=data.expedited_basis or "",
            patient_reference=f"R-{secrets.token_hex(5).upper()}",
            questions=[q.strip() for q in data.questions if q and q.strip()],
            pertinent_history=data.pertinent_history.strip(),
            clinical_data=data.clinical_data.strip(),
            packet=_packet_snapshot(tar=tar, appeal=appeal, now=now),
            referred_by=user,
            referred_at=now,
            # The packet goes to the reviewer electronically at referral.
            received_at=now,
            due_at=deadline.due_at,
            target_at=deadline.target_at,
            due_rule=deadline.rule,
            original_due_at=deadline.due_at,
        )
        try:
            with transaction.atomic():
                imr.save()
        except IntegrityError as exc:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "This request is already with an independent reviewer.",
            ) from exc
        _history(
            tar=tar,
            user=user,
            action=AppealHistoryAction.IMR_REFERRED,
            detail={
                "imr": imr.pk,
                "number": imr.number,
                "referral_reason": imr.referral_reason,
                "review_type": imr.review_type,
                "reviewer_kind": imr.reviewer_kind,
                "appeal": appeal.pk if appeal else None,
                "due_at": imr.due_at.isoformat(),
                "due_rule": imr.due_rule,
            },
            at=now,
        )
    return imr


def imr_extend(*, imr_id: int, user: User, reason: str, now: datetime | None = None) -> ImrCase:
    """003 G.2.b: an expedited review's 24 hours may be extended once, by 24 hours, for good
    cause in the member's interest, and only while the plan's own deadline stays intact."""
    now = now or timezone.now()
    if not (reason or "").strip():
        raise invalid("State the good cause.", reason="This field is required.")
    with transaction.atomic():
        imr = _lock_imr(imr_id)
        _check_scope(user=user, tar_id=imr.tar_id)
        _check_move(IMR_TRANSITIONS, ImrAction.EXTEND, status=imr.status, user=user, noun="an IMR")
        if imr.extended_at is not None:
            raise DomainError(
                ErrorCode.CLOCK_RULE, "This review was already extended once (003 G.2.b)."
            )
        if imr.due_at <= now:
            raise DomainError(
                ErrorCode.CLOCK_RULE, "The determination is already overdue; extend before it."
            )
        try:
            deadline = clocks.imr_deadline(
                received_at=imr.received_at,
                kind=imr.review_type,
                extended=True,
                calendar=plan_calendar(),
            )
        except clocks.ClockError as exc:
            raise DomainError(
                ErrorCode.CLOCK_RULE,
                "Only an expedited review can be extended (003 G.2.b).",
                fields={"review_type": [exc.code]},
            ) from exc
        plan_due = _plan_deadline(imr)
        if plan_due is not None and deadline.due_at >= plan_due:
            raise DomainError(
                ErrorCode.CLOCK_RULE,
                "Extending the review would leave no time to resolve the case by the plan's own "
                f"deadline ({plan_due.isoformat()}); 003 G.2.b keeps that deadline intact.",
            )
        previous = imr.due_at
        imr.due_at = deadline.due_at
        imr.target_at = deadline.target_at
        imr.due_rule = deadline.rule
        imr.extended_at = now
        imr.extended_by = user
        imr.extension_reason = reason.strip()
        imr.save(
            update_fields=[
                "due_at",
                "target_at",
                "due_rule",
                "extended_at",
                "extended_by",
                "extension_reason",
            ]
        )
        _history(
            tar=imr.tar,
            user=user,
            action=AppealHistoryAction.IMR_EXTENDED,
            reason=imr.extension_reason,
            detail={
                "imr": imr.pk,
                "previous_due_at": previous.isoformat(),
                "new_due_at": imr.due_at.isoformat(),
            },
            at=now,
        )
    return imr


def _plan_deadline(imr: ImrCase) -> datetime | None:
    """The plan's own deadline the review must leave room for: the open appeal's
    resolution, else the open request's decision."""
    if imr.appeal_id is not None:
        appeal = Appeal.objects.get(pk=imr.appeal_id)
        if appeal.is_open:
            return appeal.resolution_due_at
    tar = imr.tar
    return tar.decision_due_at if tar.is_open else None


def imr_record_determination(
    *,
    imr_id: int,
    user: User,
    upload: UploadedFile,
    determination: str,
    analysis: str,
    reviewer_qualifications: list[str],
    received_at: datetime | None = None,
    now: datetime | None = None,
) -> ImrCase:
    """File the reviewer's written determination (a PDF, checked by its content) with its
    analysis and the reviewers' qualifications (003 G.4), attached to the TAR."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if determination not in ImrDetermination.values:
        errors.setdefault("determination", []).append(
            f"Use one of: {', '.join(ImrDetermination.values)}."
        )
    if not (analysis or "").strip():
        errors.setdefault("analysis", []).append("The reviewer's analysis (003 G.4).")
    qualifications = [q.strip() for q in reviewer_qualifications or [] if q and q.strip()]
    if not qualifications:
        errors.setdefault("reviewer_qualifications", []).append(
            "Describe the qualifications of each reviewer (003 G.4)."
        )
    received = received_at or now
    if received > now + timedelta(minutes=1):
        errors.setdefault("received_at", []).append("Cannot be in the future.")
    upload.seek(0)
    if sniff_content_type(upload.read(8192)) != "application/pdf":
        errors.setdefault("file", []).append(
            "The determination must be a PDF (checked by its content, not its name)."
        )
    upload.seek(0)
    if errors:
        raise DomainError(
            ErrorCode.INVALID, "The determination is not valid; see fields.", fields=errors
        )
    with transaction.atomic():
        imr = _lock_imr(imr_id)
        _check_scope(user=user, tar_id=imr.tar_id)
        target = _check_move(
            IMR_TRANSITIONS,
            ImrAction.RECORD_DETERMINATION,
            status=imr.status,
            user=user,
            noun="an IMR",
        )
        if received < imr.referred_at:
            raise invalid(
                "The determination cannot precede the referral.",
                received_at="On or after the referral.",
            )
        attachment = attachment_add(
            tar_id=imr.tar_id,
            user=user,
            upload=upload,
            description=f"Independent medical review determination {imr.number}",
        )
        imr.status = target
        imr.determination = determination
        imr.analysis = analysis.strip()
        imr.reviewer_qualifications = qualifications
        imr.determination_received_at = received
        imr.determination_late = received > imr.due_at
        imr.determination_attachment = attachment
        imr.determination_recorded_by = user
        imr.save()
        _history(
            tar=imr.tar,
            user=user,
            action=AppealHistoryAction.IMR_DETERMINATION,
            detail={
                "imr": imr.pk,
                "determination": determination,
                "attachment": attachment.pk,
                "late": imr.determination_late,
            },
            at=now,
        )
    return imr


_OPEN_TAR_OUTCOMES = (TarStatus.APPROVED, TarStatus.MODIFIED, TarStatus.DENIED)


def imr_final_decision(
    *,
    imr_id: int,
    user: User,
    outcome: str,
    rationale: str,
    reason_code: str = "",
    criteria_refs: list[str] | None = None,
    line_decisions: list[LineDecision] | None = None,
    now: datetime | None = None,
) -> ImrCase:
    """003 F.4-F.6: after the determination, the physician decides coverage; it applies to
    the TAR through the transitions. Under appeal it is the appeal's resolution (so decided by
    a physician not involved in the decision); on an open request it is the decision
    (approved, modified, denied); on a decided one it upholds, overturns or partly overturns.
    The case summary is attached to the TAR; member and practitioner are owed the outcome."""
    now = now or timezone.now()
    with transaction.atomic():
        imr = _lock_imr(imr_id)
        _check_scope(user=user, tar_id=imr.tar_id)
        target = _check_move(
            IMR_TRANSITIONS, ImrAction.DECIDE, status=imr.status, user=user, noun="an IMR"
        )
        appeal = _lock_appeal(imr.appeal_id) if imr.appeal_id is not None else None
        tar = Tar.objects.select_related("member").get(pk=imr.tar_id)
        _check_conflict_of_interest(tar=tar, user=user)
        if appeal is not None and appeal.is_open:
            _check_independent(tar=tar, user=user)
            decision = _appeal_resolve_locked(
                appeal=appeal,
                tar=tar,
                user=user,
                outcome=outcome,
                rationale=rationale,
                reason_code=reason_code,
                criteria_refs=criteria_refs,
                line_decisions=line_decisions,
                detail={"appeal": appeal.pk, "appeal_outcome": outcome, "imr": imr.pk},
                now=now,
            )
        elif tar.is_open:
            if outcome not in _OPEN_TAR_OUTCOMES:
                raise invalid(
                    "The request has no decision yet: decide it.",
                    outcome="Use approved, modified or denied.",
                )
            tar_decide(
                tar_id=tar.pk,
                user=user,
                outcome=outcome,
                reason_code=reason_code,
                rationale=rationale,
                criteria_refs=criteria_refs,
                line_decisions=line_decisions,
                now=now,
            )
            decision = tar.decisions.order_by("-decided_at", "-id").first()
            assert decision is not None
        else:
            change = _validate_redetermination(
                outcome=outcome,
                rationale=rationale,
                reason_code=reason_code,
                criteria_refs=criteria_refs,
                line_decisions=line_decisions,
                current_reason=tar.reason_code,
            )
            decision = _redetermine(
                tar_id=tar.pk,
                user=user,
                path="imr",
                change=change,
                authorize=lambda locked: _check_conflict_of_interest(tar=locked, user=user),
                detail={"imr": imr.pk, "imr_outcome": outcome},
                now=now,
            )
        calendar = plan_calendar()
        imr.status = target
        imr.final_outcome = outcome
        imr.final_rationale = (rationale or "").strip()
        imr.final_decision = decision
        imr.decided_by = user
        imr.decided_at = now
        # 003 G.4: the member and the treating practitioner get the analysis, determination
        # and qualifications: the provider copy within 24 hours of the decision (002 table),
        # the member's mailed within 2 business days (002 footnote; H&S 1367.01).
        imr.provider_notice_due_at = now + timedelta(hours=24)
        imr.member_notice_due_at = clocks.member_notice_deadline(
            decided_at=now, calendar=calendar
        ).due_at
        imr.case_summary = _attach_case_summary(imr=imr, user=user, now=now)
        imr.save()
        _history(
            tar=tar,
            user=user,
            action=AppealHistoryAction.IMR_DECIDED,
            reason=imr.final_rationale,
            detail={
                "imr": imr.pk,
                "outcome": outcome,
                "decision": decision.pk,
                "appeal": appeal.pk if appeal else None,
                "case_summary": imr.case_summary_id,
            },
            at=now,
        )
        transaction.on_commit(_owe_notices(tar.pk, "imr_outcome"))
    return imr


def imr_withdraw(*, imr_id: int, user: User, reason: str, now: datetime | None = None) -> ImrCase:
    now = now or timezone.now()
    if not (reason or "").strip():
        raise invalid("Say why.", reason="This field is required.")
    with transaction.atomic():
        imr = _lock_imr(imr_id)
        _check_scope(user=user, tar_id=imr.tar_id)
        target = _check_move(
            IMR_TRANSITIONS, ImrAction.WITHDRAW, status=imr.status, user=user, noun="an IMR"
        )
        imr.status = target
        imr.withdrawn_at = now
        imr.save(update_fields=["status", "withdrawn_at"])
        _history(
            tar=imr.tar,
            user=user,
            action=AppealHistoryAction.IMR_WITHDRAWN,
            reason=reason.strip(),
            detail={"imr": imr.pk},
            at=now,
        )
    return imr


# --- PDFs: the referral packet and the case summary -----------------------------------------

PACKET_ITEMS: tuple[tuple[str, str], ...] = (
    # 003 F.2 a-i, in the product's words.
    ("a", "Patient identifier for this review"),
    ("b", "Service requested, with CPT/HCPCS codes"),
    ("c", "Diagnoses (ICD-10-CM)"),
    ("d", "Information received about the requested service"),
    ("e", "What the treating practitioner submitted in support"),
    ("f", "Relevant medical history"),
    ("g", "Treatment and clinical findings"),
    ("h", "Response needed by"),
    ("i", "Questions for the independent reviewer"),
)


def _render_pdf(template: str, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, context)
    return HTML(string=html).write_pdf()


def imr_packet_context(imr: ImrCase) -> dict[str, Any]:
    from notifications import wording

    return {
        "imr": imr,
        "items": dict(PACKET_ITEMS),
        "packet": imr.packet,
        "plan_name": _plan_name(),
        "response_needed": wording.format_datetime(imr.due_at, "en"),
        "target": wording.format_datetime(imr.target_at, "en")
        if imr.target_at != imr.due_at
        else "",
        "referred_on": wording.format_date(imr.referred_at, "en"),
    }


def imr_packet_pdf(imr: ImrCase) -> bytes:
    """The referral packet (003 F.2 a-i) as sent: rendered from the frozen snapshot."""
    return _render_pdf("appeals/imr_packet.html", imr_packet_context(imr))


def imr_packet_record_read(*, imr: ImrCase, user: User) -> None:
    """PRODUCT §3: plan staff reading a member's clinical record is recorded."""
    if user.role in PLAN_STAFF_ROLES:
        history_record(
            tar=imr.tar,
            member=imr.tar.member,
            actor=user,
            action=AppealHistoryAction.IMR_PACKET_READ,
            detail={"imr": imr.pk},
        )


def _plan_name() -> str:
    from django.conf import settings

    return settings.PLAN_NAME


def _attach_case_summary(*, imr: ImrCase, user: User, now: datetime) -> Attachment:
    """003 F.6: a summary of the case with its final resolution, attached to the TAR."""
    from notifications import wording

    pdf = _render_pdf(
        "appeals/imr_case_summary.html",
        {
            "imr": imr,
            "plan_name": _plan_name(),
            "decided_on": wording.format_date(now, "en"),
            "referred_on": wording.format_date(imr.referred_at, "en"),
            "received_on": wording.format_date(imr.determination_received_at, "en"),
            "due": wording.format_datetime(imr.due_at, "en"),
            "decided_by": _reviewer_name(user),
            "determination_label": ImrDetermination(imr.determination).label,
            "final_outcome_label": wording.pick(
                {**wording.OUTCOMES, **wording.APPEAL_OUTCOMES}, imr.final_outcome, "en"
            ),
            "reason_label": ImrReferralReason(imr.referral_reason).label,
        },
    )
    upload = SimpleUploadedFile(
        f"{imr.number}-case-summary.pdf", pdf, content_type="application/pdf"
    )
    return attachment_add(
        tar_id=imr.tar_id,
        user=user,
        upload=upload,
        description=f"Independent medical review case summary {imr.number}",
    )


def _reviewer_name(user: User) -> str:
    from notifications.context import reviewer_for

    return reviewer_for(user).name


# --- the deadline engine ---------------------------------------------------------------------


@dataclass
class AppealSweepResult:
    exhausted: int = 0
    imr_overdue: int = 0
    exhausted_appeal_ids: list[int] = field(default_factory=list)


def appeal_deadline_sweep(*, now: datetime) -> AppealSweepResult:
    """Called from deadlines.deadline_sweep. Exactly once, by the database (the same
    techniques as TAR breaches): candidates locked FOR UPDATE SKIP LOCKED, each update filtered
    on the state it read, so a second or overlapping sweep changes nothing."""
    result = AppealSweepResult()
    while True:
        batch = _exhaust_batch(now=now)
        result.exhausted += len(batch)
        result.exhausted_appeal_ids.extend(batch)
        if len(batch) < BATCH_SIZE:
            break
    while True:
        flagged = _flag_overdue_imr_batch(now=now)
        result.imr_overdue += flagged
        if flagged < BATCH_SIZE:
            break
    return result


def _exhaust_batch(*, now: datetime) -> list[int]:
    """42 CFR 438.408(c)(3): an appeal not resolved in time is exhausted; the member may ask
    for a State Hearing at once and is owed a notice (an untimely resolution is itself an
    adverse benefit determination, 438.400(b)(5))."""
    move = APPEAL_TRANSITIONS[AppealAction.EXHAUST]
    with transaction.atomic():
        rows = list(
            Appeal.objects.filter(status__in=move.sources, resolution_due_at__lte=now)
            .order_by("resolution_due_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", "tar_id", "member_id", "resolution_due_at", "resolution_due_rule")[
                :BATCH_SIZE
            ]
        )
        if not rows:
            return []
        ids = [row[0] for row in rows]
        # Still open and unresolved: the conditional update is the guard.
        Appeal.objects.filter(pk__in=ids, status__in=move.sources).update(
            status=move.target, exhausted_at=F("resolution_due_at")
        )
        HistoryEntry.objects.bulk_create(
            [
                HistoryEntry(
                    tar_id=tar_id,
                    member_id=member_id,
                    actor=None,
                    actor_role=SYSTEM,
                    action=AppealHistoryAction.APPEAL_EXHAUSTED,
                    reason="The appeal was not resolved by its deadline; the member may ask for "
                    "a State Hearing now.",
                    detail={"appeal": pk, "due_at": due.isoformat(), "rule": rule},
                    at=now,
                )
                for pk, tar_id, member_id, due, rule in rows
            ]
        )
        tar_ids = sorted({row[1] for row in rows})

        def owe() -> None:
            for tar_id in tar_ids:
                _owe_notices(tar_id, "appeal_exhausted")()

        transaction.on_commit(owe)
    return ids


def _flag_overdue_imr_batch(*, now: datetime) -> int:
    """003 F.3, F.7: UM staff track every case; a determination not in by its due time is
    flagged once (shown on the tracking list and written to the TAR history)."""
    with transaction.atomic():
        rows = list(
            ImrCase.objects.filter(
                status=ImrStatus.REFERRED, overdue_at__isnull=True, due_at__lte=now
            )
            .order_by("due_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", "tar_id", "member_id", "due_at", "due_rule")[:BATCH_SIZE]
        )
        if not rows:
            return 0
        ImrCase.objects.filter(
            pk__in=[row[0] for row in rows], status=ImrStatus.REFERRED, overdue_at__isnull=True
        ).update(overdue_at=now)
        HistoryEntry.objects.bulk_create(
            [
                HistoryEntry(
                    tar_id=tar_id,
                    member_id=member_id,
                    actor=None,
                    actor_role=SYSTEM,
                    action=AppealHistoryAction.IMR_OVERDUE,
                    reason="The independent reviewer's determination is overdue.",
                    detail={"imr": pk, "due_at": due.isoformat(), "rule": rule},
                    at=now,
                )
                for pk, tar_id, member_id, due, rule in rows
            ]
        )
    return len(rows)


# --- notices (called by notifications.services.notices_for_event) ----------------------------

APPEAL_NOTICE_EVENTS = ("appeal_resolution", "appeal_extension", "appeal_exhausted", "imr_outcome")


def notices_owed(*, tar: Tar, event: str) -> list[dict[str, Any]]:
    """The notices an appeal or IMR event owes on this TAR, as keyword arguments for the
    notices machinery: one per record, kind and audience; the event key names the record, so
    owing them again is a no-op."""
    from notifications.models import Audience, NoticeKind

    both = (Audience.PROVIDER, Audience.MEMBER)
    owed: list[dict[str, Any]] = []
    if event == "appeal_resolution":
        for appeal in tar.appeals.filter(status=AppealStatus.RESOLVED, notice_due_at__isnull=False):
            owed += [
                {
                    "event_key": f"appeal_resolution:{appeal.pk}",
                    "kind": NoticeKind.APPEAL_RESOLUTION,
                    "audience": audience,
                    "due_at": appeal.notice_due_at,
                    "rule": appeal.resolution_due_rule,
                }
                for audience in both
            ]
    elif event == "appeal_extension":
        for extension in AppealExtension.objects.filter(appeal__tar=tar):
            owed += [
                {
                    "event_key": f"appeal_extension:{extension.pk}",
                    "kind": NoticeKind.DELAY,
                    "audience": audience,
                    "due_at": extension.notice_due_at,
                    "rule": "appeal_extension_notice_2_calendar_days",
                }
                for audience in both
            ]
    elif event == "appeal_exhausted":
        for appeal in tar.appeals.filter(exhausted_at__isnull=False):
            # Due the day the miss is recorded (this runs right after the sweep's commit): a
            # deadline ending at 23:59:59 is only seen missed the next minute.
            due = clocks.untimely_notice_deadline(
                breached_at=max(appeal.exhausted_at, timezone.now())
            )
            owed.append(
                {
                    "event_key": f"appeal_exhausted:{appeal.pk}",
                    "kind": NoticeKind.UNTIMELY,
                    "audience": Audience.MEMBER,
                    "due_at": due.due_at,
                    "rule": due.rule,
                }
            )
    elif event == "imr_outcome":
        for imr in tar.imr_cases.filter(status=ImrStatus.DECIDED):
            owed += [
                {
                    "event_key": f"imr_outcome:{imr.pk}",
                    "kind": NoticeKind.IMR_OUTCOME,
                    "audience": Audience.PROVIDER,
                    "due_at": imr.provider_notice_due_at,
                    "rule": clocks.Rule.PROVIDER_NOTICE_24_HOURS_AFTER_DECISION,
                },
                {
                    "event_key": f"imr_outcome:{imr.pk}",
                    "kind": NoticeKind.IMR_OUTCOME,
                    "audience": Audience.MEMBER,
                    "due_at": imr.member_notice_due_at,
                    "rule": clocks.Rule.MEMBER_NOTICE_2_BUSINESS_DAYS,
                },
            ]
    else:
        raise ValueError(f"unknown appeal notice event {event!r}")
    return owed


def letter_context(
    notice: Any, *, letter_date: date | None = None, version: int = 1, correction_reason: str = ""
) -> Any:
    """The LetterContext for a notice this module owes (appeal resolution, appeal extension,
    exhausted appeal, IMR outcome), for notifications.rendering (the notices machinery calls
    it for event keys of this module).

    An appeal's extension and exhaustion use the delay and untimely kinds, with their own
    wording (rendering picks it from `appeal_extension` / `appeal_exhausted`): the TAR's delay
    and untimely letters offer an appeal, while an extended appeal's right is a grievance
    (42 CFR 438.408(c)(2)(ii)) and an exhausted appeal's next step is a State Hearing now
    (438.408(c)(3), 438.402(c)(1)(i)(A))."""
    from notifications import wording
    from notifications.context import (
        AppealExhaustedInfo,
        AppealExtensionInfo,
        AppealInfo,
        CriterionCitation,
        ImrInfo,
        LetterError,
        reviewer_for,
        tar_letter_context,
    )

    head, _, tail = notice.event_key.partition(":")
    if head not in APPEAL_NOTICE_EVENTS or not tail.isdigit():
        raise LetterError(f"notice {notice.pk} ({notice.event_key!r}) is not an appeal notice")
    record_id = int(tail)
    tar = Tar.objects.select_related(
        "member", "requesting_provider__organization", "servicing_provider__organization"
    ).get(pk=notice.tar_id)
    base = tar_letter_context(
        tar=tar,
        audience=notice.audience,
        letter_date=letter_date,
        version=version,
        correction_reason=correction_reason,
    )
    language = base.language

    if head == "appeal_extension":
        extension = AppealExtension.objects.select_related("appeal").get(
            pk=record_id, appeal__tar=tar
        )
        appeal = extension.appeal
        return replace(
            base,
            appeal_extension=AppealExtensionInfo(
                reference=appeal.number,
                received_on=_pacific_date(appeal.received_at),
                expedited=appeal.expedited,
                reason_code=extension.reason,
                reason_text=wording.pick(
                    wording.APPEAL_EXTENSION_REASONS, extension.reason, language
                ),
                note=extension.note,
                previous_due_at=extension.previous_due_at,
                new_due_at=extension.new_due_at,
            ),
        )
    if head == "appeal_exhausted":
        appeal = Appeal.objects.get(pk=record_id, tar=tar)
        if appeal.exhausted_at is None:
            raise LetterError(f"appeal {appeal.number} is not exhausted")
        # The State Hearing date is ctx.state_hearing_deadline: 120 calendar days from this
        # notice's date (clocks.state_hearing_deadline), the notice that stands in for the
        # resolution notice the plan did not send in time (42 CFR 438.408(f)(2)).
        return replace(
            base,
            appeal_exhausted=AppealExhaustedInfo(
                reference=appeal.number,
                received_on=_pacific_date(appeal.received_at),
                expedited=appeal.expedited,
                resolution_due_at=appeal.exhausted_at,
                extended=AppealExtension.objects.filter(appeal=appeal).exists(),
            ),
        )
    if head == "appeal_resolution":
        appeal = Appeal.objects.select_related("decided_by__provider").get(pk=record_id, tar=tar)
        if appeal.resolved_at is None:
            raise LetterError(f"appeal {appeal.number} is not resolved")
        reviewer = reviewer_for(appeal.decided_by)
        return replace(
            base,
            appeal=AppealInfo(
                reference=appeal.number,
                received_on=_pacific_date(appeal.received_at),
                resolved_on=_pacific_date(appeal.resolved_at),
                outcome=appeal.outcome,
                rationale=appeal.rationale,
                reviewer=reviewer,
                expedited=appeal.expedited,
            ),
            reviewer=reviewer,
            criteria=tuple(
                CriterionCitation(
                    criteria_set=ref["criteria_set"],
                    title=ref.get("title") or ref["criteria_set"],
                    version=ref["version"],
                    number=int(ref["number"]),
                    text=(ref.get("text_es") if language == "es" else None) or ref["text"],
                )
                for ref in appeal.criteria_refs or []
            ),
        )
    imr = ImrCase.objects.select_related("decided_by__provider").get(pk=record_id, tar=tar)
    if imr.decided_at is None or imr.determination_received_at is None:
        raise LetterError(f"IMR {imr.number} has no final decision yet")
    return replace(
        base,
        imr=ImrInfo(
            reference=imr.number,
            organization=imr.reviewer_name,
            review_type=imr.review_type,
            received_on=_pacific_date(imr.received_at),
            decided_on=_pacific_date(imr.determination_received_at),
            determination=imr.determination,
            analysis=imr.analysis,
            reviewer_qualifications=tuple(imr.reviewer_qualifications),
        ),
        reviewer=reviewer_for(imr.decided_by),
        extra={
            "imr_final_outcome": imr.final_outcome,
            "imr_final_outcome_label": wording.pick(wording.OUTCOMES, imr.final_outcome, language),
        },
    )
