"""Appeals (42 CFR 438.402-438.410; 002): filed by the member, by a provider for the member
with written consent, or entered by member services; extended once; resolved by a physician
who took no part in the decision (appeals.services.redetermination); withdrawn. Every status
change is an action of the appeal machine (appeals/machines.py)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import Role, User
from appeals.determinations import Determination, adverse_determination
from appeals.machines import APPEAL, APPEAL_OPEN, AppealAction
from appeals.models import (
    AdverseNoticeDate,
    Appeal,
    AppealBasis,
    AppealExtension,
    AppealExtensionReason,
    AppealFiler,
)
from appeals.services.common import end_of_calendar_day, pacific_date
from appeals.services.redetermination import appeal_resolve
from authorizations import clocks
from authorizations.models import Decision, OralNoticeSubject, ServiceReduction, Tar
from authorizations.numbering import next_number
from authorizations.services import LineDecision
from authorizations.services.notice_calls import (
    OralNoticeInput,
    oral_notice_validate,
    oral_notice_write,
)
from authorizations.transitions import TAR, Action
from authorizations.workflow import perform, start
from tar_portal.errors import DomainError, ErrorCode, invalid

logger = logging.getLogger(__name__)

_FILER_BY_ROLE: dict[str, str] = {
    Role.MEMBER: AppealFiler.MEMBER,
    Role.PROVIDER: AppealFiler.PROVIDER,
    Role.MEMBER_SERVICES: AppealFiler.MEMBER_SERVICES,
}


def appeal_window(tar: Tar, determination: Determination) -> tuple[date, clocks.RuledDeadline]:
    """The date the 60-day window counts from, and its end (42 CFR 438.402(c)(2)(ii)): the
    date on the latest member notice of this determination (a corrected letter restarts the
    window); a deemed denial from the day the deadline passed (PRODUCT §4); before any letter
    is made, the determination's own date."""
    if determination.basis == AppealBasis.DEEMED_DENIAL:
        missed = pacific_date(determination.since)
        return missed, clocks.appeal_filing_window(deadline_missed_date=missed)
    dated = (
        AdverseNoticeDate.objects.filter(tar=tar, recorded_at__gte=determination.since)
        .exclude(event_key__startswith="appeal_")
        .order_by("-letter_date", "-version", "-id")
        .first()
    )
    if dated is not None:
        return dated.letter_date, clocks.appeal_filing_window(notice_date=dated.letter_date)
    day = pacific_date(determination.since)
    return day, clocks.appeal_filing_window(determination_date=day)


def continued_care_applies(
    tar: Tar, decision: Decision | None, notice_date: date, received: datetime
) -> bool:
    """42 CFR 438.420: an appeal of a reduction or termination of authorized services, filed
    on or before the later of 10 days after the notice and the effective date, keeps the
    services going until the resolution (aid paid pending)."""
    if decision is None:
        return False
    reduction = ServiceReduction.objects.filter(decision=decision).first()
    if reduction is None:
        return False
    window = clocks.continued_care_deadline(
        notice_date=notice_date, effective_on=reduction.effective_on
    )
    return received <= window.due_at


def deemed_denial_record(*, tar_id: int, user: User, since: datetime, now: datetime) -> None:
    """Record on the request that its deadline passed without a decision (42 CFR
    438.404(c)(5)): once; a repeated appeal (after a withdrawal) finds it recorded."""

    def apply(tar: Tar) -> dict[str, Any]:
        tar.deemed_denied_at = since
        return {"deemed_denied_at": since.isoformat(), "decision_due_at": str(tar.decision_due_at)}

    if Tar.objects.filter(pk=tar_id, deemed_denied_at__isnull=False).exists():
        return
    perform(TAR, Action.DEEM_DENIED, record_id=tar_id, user=user, apply=apply, now=now)


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
    filer = _FILER_BY_ROLE.get(user.role)

    def build(tar: Tar | None) -> Appeal:
        assert tar is not None and filer is not None
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
        determination = adverse_determination(tar, now)
        if determination is None:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION, "There is no adverse determination to appeal."
            )
        decision = determination.decision
        if decision is not None and Appeal.objects.filter(resolution_decision=decision).exists():
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "This decision is the result of an appeal. The next step is a State Hearing, "
                "which the resolution notice explains.",
            )
        if Appeal.objects.filter(tar=tar, status__in=APPEAL_OPEN).exists():
            raise DomainError(
                ErrorCode.INVALID_TRANSITION, "An appeal of this request is already open."
            )
        if decision is not None and (
            Appeal.objects.filter(decision=decision).exclude(status="withdrawn").exists()
        ):
            raise DomainError(
                ErrorCode.INVALID_TRANSITION, "This decision has already been appealed."
            )
        if received < determination.since:
            raise invalid(
                "The appeal cannot be received before the determination it appeals.",
                received_at="On or after the decision date.",
            )
        notice_date, filing = appeal_window(tar, determination)
        resolution = clocks.appeal_resolution_deadline(received_at=received, expedited=expedited)
        continued = continued_care_applies(tar, decision, notice_date, received)
        if determination.basis == AppealBasis.DEEMED_DENIAL:
            # The deemed denial is recorded on the request, through the TAR machine, in the
            # appeal's own transaction; a later decision on the request never clears it.
            deemed_denial_record(tar_id=tar.pk, user=user, since=determination.since, now=now)
        appeal = Appeal(
            number=next_number("APL", pacific_date(received).year),
            tar=tar,
            member=tar.member,
            basis=determination.basis,
            decision=decision,
            tar_extension=determination.extension,
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
            filing_deadline_rule=filing.rule,
            late=received > filing.due_at,
            continued_care=continued,
            resolution_due_at=resolution.due_at,
            resolution_due_rule=resolution.rule,
            original_resolution_due_at=resolution.due_at,
            created_at=now,
        )
        appeal.full_clean(
            exclude=["tar", "member", "decision", "tar_extension", "filed_by", "filing_provider"]
        )
        return appeal

    appeal = start(
        APPEAL,
        AppealAction.FILE,
        user=user,
        tar_id=tar_id,
        build=build,
        # Two filings raced; the one-open-appeal constraint let one through.
        conflict="An appeal of this request is already open.",
        reason=(reason or "").strip(),
        detail=lambda appeal: {
            "number": appeal.number,
            "filer": appeal.filer,
            "expedited": appeal.expedited,
            "late": appeal.late,
            "basis": appeal.basis,
            "notice_date": appeal.notice_date.isoformat(),
            "filing_deadline_at": appeal.filing_deadline_at.isoformat(),
            "filing_deadline_rule": appeal.filing_deadline_rule,
            "continued_care": appeal.continued_care,
            "resolution_due_at": appeal.resolution_due_at.isoformat(),
            "resolution_due_rule": appeal.resolution_due_rule,
        },
        now=now,
    )
    if appeal.late:
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
    note = (note or "").strip()

    def apply(appeal: Appeal) -> dict[str, Any]:
        if reason not in AppealExtensionReason.values:
            raise invalid(
                "Unknown extension reason.",
                reason=f"Use one of: {', '.join(AppealExtensionReason.values)}.",
            )
        if not note:
            raise invalid("Say why and what is needed.", note="The notice states it.")
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
            note=note,
            previous_due_at=previous,
            new_due_at=target,
            extended_by=user,
            extended_at=now,
            # 42 CFR 438.408(c)(2)(ii): written notice of the reason within 2 calendar days.
            notice_due_at=end_of_calendar_day(pacific_date(now) + timedelta(days=2)),
        )
        appeal.resolution_due_at = target
        appeal.resolution_due_rule = cap.rule
        return {
            "extension": extension.pk,
            "extension_reason": reason,
            "previous_due_at": previous.isoformat(),
            "new_due_at": target.isoformat(),
            "notice_due_at": extension.notice_due_at.isoformat(),
        }

    return perform(
        APPEAL,
        AppealAction.EXTEND,
        record_id=appeal_id,
        user=user,
        apply=apply,
        reason=note,
        now=now,
    )


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
    return appeal_resolve(
        appeal_id=appeal_id,
        user=user,
        outcome=outcome,
        rationale=rationale,
        reason_code=reason_code,
        criteria_refs=criteria_refs,
        line_decisions=line_decisions,
        detail={"appeal": appeal_id, "appeal_outcome": outcome},
        now=now or timezone.now(),
    )


def appeal_withdraw(
    *, appeal_id: int, user: User, reason: str = "", now: datetime | None = None
) -> Appeal:
    now = now or timezone.now()

    def apply(appeal: Appeal) -> None:
        appeal.withdrawn_at = now

    return perform(
        APPEAL,
        AppealAction.WITHDRAW,
        record_id=appeal_id,
        user=user,
        apply=apply,
        reason=(reason or "").strip(),
        now=now,
    )


def adverse_notice_dated(
    *, tar_id: int, event_key: str, kind: str, letter_date: date, version: int
) -> None:
    """The notifications app made a member's adverse letter (or a corrected version of one):
    its printed date starts the 60-day appeal window (42 CFR 438.402(c)(2)(ii)). Idempotent:
    a repeated letter task records nothing new."""
    AdverseNoticeDate.objects.get_or_create(
        tar_id=tar_id,
        event_key=event_key,
        kind=kind,
        version=version,
        defaults={"letter_date": letter_date},
    )


def appeal_downgrade(
    *,
    appeal_id: int,
    user: User,
    reason: str,
    oral_notice: OralNoticeInput | None = None,
    now: datetime | None = None,
) -> Appeal:
    """42 CFR 438.410(c): the plan refuses the member's request for an expedited appeal. The
    appeal moves to the standard timeframe (30 calendar days from its receipt, 438.408(b)(2)),
    the plan makes reasonable efforts at prompt oral notice (the attempt is recorded here,
    or later with `appeal_oral_notice_record`) and sends written notice within 2 calendar
    days, which tells the member of the right to file a grievance (438.410(c)(2))."""
    now = now or timezone.now()
    reason = (reason or "").strip()

    def apply(appeal: Appeal) -> dict[str, Any]:
        if not appeal.expedited:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION, "This appeal already runs on the standard timeframe."
            )
        if appeal.filer == AppealFiler.PROVIDER:
            # 42 CFR 438.410(a): the plan expedites when the provider asks for it or
            # indicates that the standard timeframe could seriously jeopardize the member.
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "The member's provider asked for the expedited appeal; the plan must expedite "
                "it (42 CFR 438.410(a)).",
            )
        errors: dict[str, list[str]] = {}
        if not reason:
            errors.setdefault("reason", []).append(
                "Say why waiting for a standard appeal would not seriously jeopardize the "
                "member's life, health or ability to function; the notice states it."
            )
        if errors:
            raise DomainError(
                ErrorCode.INVALID, "The downgrade is not valid; see fields.", fields=errors
            )
        resolution, notice = clocks.appeal_downgrade_deadlines(
            received_at=appeal.received_at, downgraded_at=now
        )
        call: dict[str, Any] = {}
        if oral_notice is not None:
            valid = oral_notice_validate(
                replace(oral_notice, subject=OralNoticeSubject.APPEAL_DOWNGRADE),
                subjects=[OralNoticeSubject.APPEAL_DOWNGRADE],
                now=now,
            )
            call = oral_notice_write(
                tar=appeal.tar, data=valid, user=user, appeal_ref=appeal.pk, now=now
            )
        previous = appeal.resolution_due_at
        appeal.expedited = False
        appeal.downgraded_at = now
        appeal.downgraded_by = user
        appeal.downgrade_reason = reason
        appeal.downgrade_notice_due_at = notice.due_at
        appeal.resolution_due_at = resolution.due_at
        appeal.original_resolution_due_at = resolution.due_at
        appeal.resolution_due_rule = resolution.rule
        return {
            "previous_due_at": previous.isoformat(),
            "resolution_due_at": resolution.due_at.isoformat(),
            "resolution_due_rule": resolution.rule,
            "notice_due_at": notice.due_at.isoformat(),
            "notice_rule": notice.rule,
            **call,
        }

    return perform(
        APPEAL,
        AppealAction.DOWNGRADE,
        record_id=appeal_id,
        user=user,
        apply=apply,
        reason=reason,
        now=now,
    )
