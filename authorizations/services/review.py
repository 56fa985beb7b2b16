"""The review of an open request: claim, release, pend for information and the provider's
answer, referral to a physician, withdrawal, and extension of the decision deadline. Every
one is an action of the TAR machine (authorizations/transitions.py), applied by the workflow
kernel; what each owes (an information-request notice, a delay notice) follows from its
domain event (notifications.policy)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.models import User
from authorizations import clocks
from authorizations.calendar import plan_calendar
from authorizations.models import Extension, ExtensionReason, InformationRequest, Tar
from authorizations.services.evaluation import tar_evaluate_lines
from authorizations.transitions import TAR, Action
from authorizations.workflow import perform
from criteria import catalog
from tar_portal.errors import DomainError, ErrorCode, invalid


def tar_claim(*, tar_id: int, user: User) -> Tar:
    def apply(tar: Tar) -> None:
        tar.assigned_to = user
        tar.claimed_at = timezone.now()

    return perform(TAR, Action.CLAIM, record_id=tar_id, user=user, apply=apply)


def tar_release(*, tar_id: int, user: User) -> Tar:
    def apply(tar: Tar) -> None:
        tar.assigned_to = None
        tar.claimed_at = None

    return perform(TAR, Action.RELEASE, record_id=tar_id, user=user, apply=apply)


def tar_request_info(
    *, tar_id: int, user: User, message: str, missing_keys: list[str] | None = None
) -> Tar:
    """Pend for information. 002: the clock does not stop while information is missing."""
    message = (message or "").strip()

    def apply(tar: Tar) -> dict[str, Any]:
        if not message:
            raise invalid("Say what information is needed.", message="This field is required.")
        tar.status_before_pend = tar.status
        request = InformationRequest.objects.create(
            tar=tar, message=message, missing_keys=missing_keys or [], requested_by=user
        )
        return {"information_request": request.pk, "requested_at": request.requested_at.isoformat()}

    return perform(
        TAR,
        Action.REQUEST_INFO,
        record_id=tar_id,
        user=user,
        reason=message,
        detail={"missing_keys": missing_keys or []},
        apply=apply,
    )


def _provider_notice_after_extension(tar: Tar) -> None:
    """An urgent request's provider notice follows its extended deadline (PRODUCT §4)."""
    notice = clocks.provider_notice_deadline(
        received_at=tar.received_at,
        request_type=tar.request_type,
        urgency=tar.urgency,
        decided_at=None,
        calendar=plan_calendar(),
        extended_due_at=tar.decision_due_at,
    )
    tar.provider_notice_due_at = notice.due_at if notice else None
    tar.provider_notice_rule = notice.rule if notice else ""


def _deadline_after_information(tar: Tar, *, arrived_at: datetime) -> None:
    """H&S 1367.01(h)(5); PRODUCT §4: information that arrives after an extension brings the
    deadline back to the original window from its arrival, within the extended deadline."""
    last = tar.extensions.order_by("-extended_at", "-pk").first()
    extended_due_at = last.new_due_at if last is not None else tar.decision_due_at
    deadline = clocks.deadline_after_information(
        received_at=tar.received_at,
        request_type=tar.request_type,
        urgency=tar.urgency,
        original_due_at=tar.original_decision_due_at,
        extended_due_at=extended_due_at,
        arrived_at=arrived_at,
        calendar=plan_calendar(),
    )
    # Information answering a second request after the deadline was already brought back
    # never pushes it out again.
    if deadline.due_at < tar.decision_due_at:
        tar.decision_due_at = deadline.due_at
        tar.decision_due_rule = deadline.rule
        _provider_notice_after_extension(tar)


def tar_receive_info(
    *,
    tar_id: int,
    user: User,
    response: str,
    answers: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Tar:
    """The provider answers an information request: new answers merge into the TAR and the
    lines are evaluated again against the same criteria versions' current publication, in
    the same transaction as the answer."""
    now = now or timezone.now()
    answers = answers or {}
    response = (response or "").strip()

    def apply(tar: Tar) -> dict[str, Any]:
        answer_errors = catalog.validate_answers(answers)
        if answer_errors:
            raise DomainError(
                ErrorCode.INVALID,
                "Some answers are not valid; see fields.",
                fields={f"answers.{k}": [v] for k, v in answer_errors.items()},
            )
        if not response and not answers:
            raise invalid("Give a response or answers.", response="This field is required.")
        open_request = tar.information_requests.filter(responded_at__isnull=True).last()
        if open_request is not None:
            open_request.response = response
            open_request.responded_by = user
            open_request.responded_at = now
            open_request.save(update_fields=["response", "responded_by", "responded_at"])
        if answers:
            tar.answers = {**tar.answers, **answers}
            tar_evaluate_lines(tar=tar, lines=list(tar.lines.all()), actor=user)
        tar.status_before_pend = ""
        if tar.extension_count:
            _deadline_after_information(tar, arrived_at=now)
        return {"decision_due_at": tar.decision_due_at.isoformat(), "rule": tar.decision_due_rule}

    return perform(
        TAR,
        Action.RECEIVE_INFO,
        record_id=tar_id,
        user=user,
        reason=response,
        detail={"answer_keys": sorted(answers)},
        apply=apply,
        now=now,
    )


def tar_refer(*, tar_id: int, user: User, note: str = "") -> Tar:
    return perform(TAR, Action.REFER, record_id=tar_id, user=user, reason=(note or "").strip())


def tar_withdraw(*, tar_id: int, user: User, reason: str = "") -> Tar:
    return perform(TAR, Action.WITHDRAW, record_id=tar_id, user=user, reason=(reason or "").strip())


def tar_extend(
    *,
    tar_id: int,
    user: User,
    reason: str,
    new_due_at: datetime,
    note: str = "",
    now: datetime | None = None,
) -> Tar:
    """Extend the decision deadline within the caps of PRODUCT §4; a delay notice goes to the
    provider and the member (H&S 1367.01(h)(5); 42 CFR 438.404(c)(4))."""
    now = now or timezone.now()
    note = (note or "").strip()

    def apply(tar: Tar) -> dict[str, Any]:
        if reason not in ExtensionReason.values:
            raise invalid(
                "Unknown extension reason.",
                reason=f"Use one of: {', '.join(ExtensionReason.values)}.",
            )
        if not note:
            raise invalid(
                "Say what is needed and why.",
                note="The delay notice states what is needed to decide.",
            )
        if tar.decision_due_at <= now:
            raise DomainError(
                ErrorCode.CLOCK_RULE,
                "The decision deadline has already passed; an extension must be taken before it.",
            )
        policy = clocks.extension_policy(
            received_at=tar.received_at,
            request_type=tar.request_type,
            urgency=tar.urgency,
            calendar=plan_calendar(),
        )
        try:
            clocks.check_extension(
                policy=policy,
                extensions_used=tar.extension_count,
                current_due_at=tar.decision_due_at,
                new_due_at=new_due_at,
            )
        except clocks.ClockError as exc:
            raise DomainError(
                ErrorCode.CLOCK_RULE, str(exc), fields={"new_due_at": [exc.code]}
            ) from exc
        extension = Extension.objects.create(
            tar=tar,
            reason=reason,
            note=note,
            previous_due_at=tar.decision_due_at,
            new_due_at=new_due_at,
            extended_by=user,
            extended_at=now,
        )
        tar.decision_due_at = new_due_at
        tar.decision_due_rule = f"extension_{tar.extension_count + 1}"
        tar.extension_count += 1
        _provider_notice_after_extension(tar)
        # The delay notice must go out before the old deadline passes (H&S 1367.01(h)(5)).
        return {
            "extension": extension.pk,
            "previous_due_at": extension.previous_due_at.isoformat(),
        }

    return perform(
        TAR,
        Action.EXTEND,
        record_id=tar_id,
        user=user,
        reason=note,
        detail={"extension_reason": reason, "new_due_at": new_due_at.isoformat()},
        apply=apply,
        now=now,
    )
