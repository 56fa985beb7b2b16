"""The appeal, peer-to-peer and IMR workflows as tables on the workflow kernel's machine type
(authorizations.workflow): the same `perform` and `start` apply them as the TAR's."""

from __future__ import annotations

from enum import StrEnum

from accounts.models import Role, User
from appeals.models import (
    Appeal,
    AppealStatus,
    ImrCase,
    ImrStatus,
    PeerToPeer,
    PeerToPeerStatus,
)
from authorizations.models import OPEN_STATUSES, EventKind, HistoryAction, Tar, TarStatus
from authorizations.transitions import APPEALABLE, involved_in_care
from authorizations.workflow import SAME, SYSTEM, Machine, transition


class AppealAction(StrEnum):
    FILE = "file"  # the member, a provider with consent, or member services files it
    EXTEND = "extend"  # one extension of up to 14 days (42 CFR 438.408(c))
    RESOLVE = "resolve"  # a physician not involved in the decision resolves it
    EXHAUST = "exhaust"  # the sweep: the deadline passed unresolved (438.408(c)(3))
    WITHDRAW = "withdraw"  # the member, or someone for them, withdraws it


class PeerToPeerAction(StrEnum):
    REQUEST = "request"  # the requesting provider's office asks for a talk (002)
    SCHEDULE = "schedule"  # set (or move) the time and the physician
    RECORD_OUTCOME = "record_outcome"  # the talk was held: what came of it
    LINK = "link"  # link the decision (or appeal) the talk led to
    CANCEL = "cancel"


class ImrAction(StrEnum):
    REFER = "refer"  # 003 §B, §F: a physician refers the case
    EXTEND = "extend"  # 003 G.2.b: expedited only, once, by 24 hours
    RECORD_DETERMINATION = "record_determination"  # the reviewer's written determination
    DECIDE = "decide"  # 003 F.4: the plan physician decides coverage
    WITHDRAW = "withdraw"


APPEAL_OPEN = frozenset({AppealStatus.RECEIVED, AppealStatus.EXHAUSTED})
_PHYSICIAN = frozenset({Role.PHYSICIAN})
# A peer-to-peer talk is about a pending request or a denial or modification (002).
PEER_TO_PEER_TAR_STATUSES = frozenset({*OPEN_STATUSES, TarStatus.DENIED, TarStatus.MODIFIED})
# An IMR has a medical question to review unless the request was approved or withdrawn; the
# service refuses closures that are not decisions (duplicate, no TAR needed, not eligible).
IMR_TAR_STATUSES = frozenset(set(TarStatus.values) - {TarStatus.APPROVED, TarStatus.WITHDRAWN})


def deciders_of(tar: Tar, appeal: Appeal | None = None) -> set[int]:
    """Who took part in a decision on the request (42 CFR 438.406(b)(2)(i)); an appeal's own
    resolution, once made, does not count against re-deciding that appeal."""
    decisions = tar.decisions.filter(decided_by__isnull=False)
    if appeal is not None and appeal.resolution_decision_id is not None:
        decisions = decisions.exclude(pk=appeal.resolution_decision_id)
    deciders = set(decisions.values_list("decided_by_id", flat=True))
    if tar.decided_by_id is not None and (appeal is None or appeal.resolution_decision_id is None):
        deciders.add(tar.decided_by_id)
    return deciders


def independent_of(appeal: Appeal, user: User) -> bool:
    """The physician took no part in the decision appealed and is not involved in the care."""
    return user.pk not in deciders_of(appeal.tar, appeal) and not involved_in_care(appeal.tar, user)


APPEAL = Machine(
    name="appeal",
    noun="an appeal",
    model=Appeal,
    lock_related=("tar__member", "member"),
    transitions=(
        transition(
            AppealAction.FILE,
            APPEALABLE,
            AppealStatus.RECEIVED,
            {Role.MEMBER, Role.PROVIDER, Role.MEMBER_SERVICES},
            HistoryAction.APPEAL_FILED,
            EventKind.APPEAL_FILED,
            "File an appeal",
            creates=True,
            # One appeal per decision; after a resolution the next step is a State Hearing.
            offered=lambda tar, user: (
                not tar.appeals.exclude(status=AppealStatus.WITHDRAWN).exists()
            ),
            refusal="Only a denial or a modification can be appealed; this request is {status}.",
        ),
        transition(
            AppealAction.EXTEND,
            {AppealStatus.RECEIVED},
            SAME,
            {Role.NURSE, Role.PHYSICIAN, Role.MANAGER, Role.MEMBER_SERVICES},
            HistoryAction.APPEAL_EXTENDED,
            EventKind.APPEAL_EXTENDED,
            "Extend the appeal",
            # 42 CFR 438.408(c): one extension.
            offered=lambda appeal, user: not hasattr(appeal, "extension"),
        ),
        transition(
            AppealAction.RESOLVE,
            APPEAL_OPEN,
            AppealStatus.RESOLVED,
            _PHYSICIAN,
            HistoryAction.APPEAL_RESOLVED,
            EventKind.APPEAL_RESOLVED,
            "Decide the appeal",
            offered=independent_of,
        ),
        transition(
            AppealAction.EXHAUST,
            {AppealStatus.RECEIVED},
            AppealStatus.EXHAUSTED,
            {SYSTEM},
            HistoryAction.APPEAL_EXHAUSTED,
            EventKind.APPEAL_EXHAUSTED,
            "Exhaust",
        ),
        transition(
            AppealAction.WITHDRAW,
            APPEAL_OPEN,
            AppealStatus.WITHDRAWN,
            {Role.MEMBER, Role.PROVIDER, Role.MEMBER_SERVICES},
            HistoryAction.APPEAL_WITHDRAWN,
            EventKind.APPEAL_WITHDRAWN,
            "Withdraw the appeal",
        ),
    ),
)

PEER_TO_PEER = Machine(
    name="p2p",
    noun="a peer-to-peer talk",
    model=PeerToPeer,
    lock_related=("tar__member",),
    transitions=(
        transition(
            PeerToPeerAction.REQUEST,
            PEER_TO_PEER_TAR_STATUSES,
            PeerToPeerStatus.REQUESTED,
            {Role.PROVIDER},
            HistoryAction.PEER_TO_PEER_REQUESTED,
            EventKind.PEER_TO_PEER_REQUESTED,
            "Ask for a peer-to-peer talk",
            creates=True,
            offered=lambda tar, user: (
                not tar.peer_to_peers.filter(
                    status__in=[PeerToPeerStatus.REQUESTED, PeerToPeerStatus.SCHEDULED]
                ).exists()
            ),
            refusal="A peer-to-peer talk is about a pending request or a denial or "
            "modification; this request is {status}.",
        ),
        # 002: the UM office coordinates peer-to-peer requests for the physicians.
        transition(
            PeerToPeerAction.SCHEDULE,
            {PeerToPeerStatus.REQUESTED, PeerToPeerStatus.SCHEDULED},
            PeerToPeerStatus.SCHEDULED,
            {Role.PHYSICIAN, Role.NURSE, Role.MANAGER},
            HistoryAction.PEER_TO_PEER_SCHEDULED,
            EventKind.PEER_TO_PEER_SCHEDULED,
            "Schedule",
        ),
        transition(
            PeerToPeerAction.RECORD_OUTCOME,
            {PeerToPeerStatus.SCHEDULED},
            PeerToPeerStatus.HELD,
            _PHYSICIAN,
            HistoryAction.PEER_TO_PEER_HELD,
            EventKind.PEER_TO_PEER_HELD,
            "Record the outcome",
            # The physician who held the talk records it.
            offered=lambda talk, user: talk.physician_id == user.pk,
        ),
        transition(
            PeerToPeerAction.LINK,
            {PeerToPeerStatus.HELD},
            SAME,
            _PHYSICIAN,
            HistoryAction.PEER_TO_PEER_LINKED,
            EventKind.PEER_TO_PEER_LINKED,
            "Link the changed decision",
        ),
        transition(
            PeerToPeerAction.CANCEL,
            {PeerToPeerStatus.REQUESTED, PeerToPeerStatus.SCHEDULED},
            PeerToPeerStatus.CANCELLED,
            {Role.PROVIDER, Role.PHYSICIAN, Role.NURSE, Role.MANAGER},
            HistoryAction.PEER_TO_PEER_CANCELLED,
            EventKind.PEER_TO_PEER_CANCELLED,
            "Cancel the talk",
        ),
    ),
)

IMR = Machine(
    name="imr",
    noun="an IMR",
    model=ImrCase,
    lock_related=("tar__member",),
    transitions=(
        transition(
            ImrAction.REFER,
            IMR_TAR_STATUSES,
            ImrStatus.REFERRED,
            _PHYSICIAN,
            HistoryAction.IMR_REFERRED,
            EventKind.IMR_REFERRED,
            "Refer to independent medical review",
            creates=True,
            refusal="There is no medical question to review: this request is {status}.",
            offered=lambda tar, user: not involved_in_care(tar, user),
        ),
        transition(
            ImrAction.EXTEND,
            {ImrStatus.REFERRED},
            SAME,
            _PHYSICIAN,
            HistoryAction.IMR_EXTENDED,
            EventKind.IMR_EXTENDED,
            "Extend the review",
            # 003 G.2.b: an expedited review, once.
            offered=lambda imr, user: imr.review_type == "expedited" and imr.extended_at is None,
        ),
        # 003 F.3: UM staff keep contact with the reviewer and file what comes back.
        transition(
            ImrAction.RECORD_DETERMINATION,
            {ImrStatus.REFERRED},
            ImrStatus.DETERMINATION_RECEIVED,
            {Role.NURSE, Role.PHYSICIAN, Role.INTAKE},
            HistoryAction.IMR_DETERMINATION,
            EventKind.IMR_DETERMINATION,
            "Record the determination",
        ),
        transition(
            ImrAction.DECIDE,
            {ImrStatus.DETERMINATION_RECEIVED},
            ImrStatus.DECIDED,
            _PHYSICIAN,
            HistoryAction.IMR_DECIDED,
            EventKind.IMR_DECIDED,
            "Make the final decision",
            offered=lambda imr, user: not involved_in_care(imr.tar, user),
        ),
        transition(
            ImrAction.WITHDRAW,
            {ImrStatus.REFERRED},
            ImrStatus.WITHDRAWN,
            _PHYSICIAN,
            HistoryAction.IMR_WITHDRAWN,
            EventKind.IMR_WITHDRAWN,
            "Withdraw the referral",
        ),
    ),
)
