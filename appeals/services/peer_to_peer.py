"""Peer-to-peer talks (002 "Denial Determinations"): the practitioner may discuss a denial or a
potential denial with the physician reviewer. Asked for by the requesting provider's office,
scheduled by the UM office, held and recorded by the physician, linked to the decision it led
to. Every status change is an action of the peer-to-peer machine (appeals/machines.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import Role, User
from appeals.machines import PEER_TO_PEER, PeerToPeerAction
from appeals.models import Appeal, PeerToPeer, PeerToPeerOutcome, PeerToPeerStatus
from appeals.services.common import latest_adverse_decision
from authorizations.models import Decision, Tar
from authorizations.transitions import check_conflict_of_interest
from authorizations.workflow import perform, start
from tar_portal.errors import DomainError, ErrorCode, invalid

MAX_PROPOSED_TIMES = 5


def peer_to_peer_request(
    *,
    tar_id: int,
    user: User,
    contact_phone: str,
    proposed_times: list[datetime],
    topic: str = "",
    now: datetime | None = None,
) -> PeerToPeer:
    now = now or timezone.now()

    def build(tar: Tar | None) -> PeerToPeer:
        assert tar is not None
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
        if tar.peer_to_peers.filter(
            status__in=[PeerToPeerStatus.REQUESTED, PeerToPeerStatus.SCHEDULED]
        ).exists():
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "A peer-to-peer talk about this request is already asked for.",
            )
        return PeerToPeer(
            tar=tar,
            decision=None if tar.is_open else latest_adverse_decision(tar),
            requested_by=user,
            requesting_provider=user.provider,
            requested_at=now,
            proposed_times=[t.isoformat() for t in sorted(proposed_times)],
            contact_phone=contact_phone.strip(),
            topic=(topic or "").strip(),
        )

    return start(
        PEER_TO_PEER,
        PeerToPeerAction.REQUEST,
        user=user,
        tar_id=tar_id,
        build=build,
        reason=(topic or "").strip(),
        detail=lambda p2p: {"decision": p2p.decision_id},
        now=now,
    )


def peer_to_peer_schedule(
    *,
    p2p_id: int,
    user: User,
    scheduled_at: datetime,
    physician_id: int | None = None,
    now: datetime | None = None,
) -> PeerToPeer:
    now = now or timezone.now()

    def apply(p2p: PeerToPeer) -> dict[str, Any]:
        chosen = physician_id
        if chosen is None and user.role == Role.PHYSICIAN:
            chosen = user.pk
        physician = (
            User.objects.filter(pk=chosen, role=Role.PHYSICIAN, is_active=True).first()
            if chosen is not None
            else None
        )
        if physician is None:
            raise invalid("Name the physician reviewer.", physician="No such physician.")
        if scheduled_at <= now:
            raise invalid("The talk must be in the future.", scheduled_at="A future time.")
        # 002: the physician may not be involved in the member's care for this request.
        check_conflict_of_interest(tar=p2p.tar, user=physician)
        p2p.physician = physician
        p2p.scheduled_at = scheduled_at
        p2p.scheduled_by = user
        return {"physician": physician.pk, "scheduled_at": scheduled_at.isoformat()}

    return perform(
        PEER_TO_PEER, PeerToPeerAction.SCHEDULE, record_id=p2p_id, user=user, apply=apply, now=now
    )


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
    summary = (summary or "").strip()

    def authorize(p2p: PeerToPeer) -> None:
        if p2p.physician_id != user.pk:
            raise DomainError(
                ErrorCode.PERMISSION_DENIED,
                "The physician who held the talk records its outcome.",
            )

    def apply(p2p: PeerToPeer) -> dict[str, Any]:
        if outcome not in PeerToPeerOutcome.values:
            raise invalid(
                "Unknown outcome.", outcome=f"Use one of: {', '.join(PeerToPeerOutcome)}."
            )
        if not summary:
            raise invalid("Summarise the talk.", summary="This field is required.")
        held = held_at or now
        if held > now + timedelta(minutes=1):
            raise invalid("The talk cannot be in the future.", held_at="Not in the future.")
        decision, appeal = _check_link(p2p=p2p, decision_id=decision_id, appeal_id=appeal_id)
        p2p.held_at = held
        p2p.outcome = outcome
        p2p.summary = summary
        p2p.recorded_by = user
        p2p.changed_decision = decision
        p2p.changed_by_appeal = appeal
        return {
            "outcome": outcome,
            "decision": decision.pk if decision else None,
            "appeal": appeal.pk if appeal else None,
        }

    return perform(
        PEER_TO_PEER,
        PeerToPeerAction.RECORD_OUTCOME,
        record_id=p2p_id,
        user=user,
        authorize=authorize,
        apply=apply,
        reason=summary,
        now=now,
    )


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

    def apply(p2p: PeerToPeer) -> dict[str, Any]:
        if decision_id is None and appeal_id is None:
            raise invalid("Name the decision or the appeal.", decision="This field is required.")
        decision, appeal = _check_link(p2p=p2p, decision_id=decision_id, appeal_id=appeal_id)
        if decision is not None:
            p2p.changed_decision = decision
        if appeal is not None:
            p2p.changed_by_appeal = appeal
        p2p.outcome = PeerToPeerOutcome.DECISION_CHANGED
        return {"decision": p2p.changed_decision_id, "appeal": p2p.changed_by_appeal_id}

    return perform(
        PEER_TO_PEER, PeerToPeerAction.LINK, record_id=p2p_id, user=user, apply=apply, now=now
    )


def peer_to_peer_cancel(
    *, p2p_id: int, user: User, reason: str = "", now: datetime | None = None
) -> PeerToPeer:
    now = now or timezone.now()
    reason = (reason or "").strip()

    def apply(p2p: PeerToPeer) -> None:
        p2p.cancelled_at = now
        p2p.cancel_reason = reason

    return perform(
        PEER_TO_PEER,
        PeerToPeerAction.CANCEL,
        record_id=p2p_id,
        user=user,
        apply=apply,
        reason=reason,
        now=now,
    )
