"""The appeal, peer-to-peer and IMR workflows as tables on the workflow kernel's machine type
(authorizations.workflow): the same `perform` and `start` apply them as the TAR's."""

from __future__ import annotations

from enum import StrEnum

from accounts.models import Role, User
from appeals.determinations import adverse_determination, independence_conflict
from appeals.models import (
    Appeal,
    AppealExtensionReason,
    AppealFiler,
    AppealStatus,
    ImrCase,
    ImrStatus,
    PeerToPeer,
    PeerToPeerStatus,
)
from authorizations.models import (
    OPEN_STATUSES,
    EventKind,
    HistoryAction,
    OralNoticeSubject,
    Tar,
    TarStatus,
)
from authorizations.transitions import APPEALABLE, involved_in_care
from authorizations.workflow import SAME, SYSTEM, Machine, transition


class AppealAction(StrEnum):
    FILE = "file"  # the member, a provider with consent, or member services files it
    EXTEND = "extend"  # one extension of up to 14 days (42 CFR 438.408(c))
    RESOLVE = "resolve"  # a physician not involved in the decision resolves it
    EXHAUST = "exhaust"  # the sweep: the deadline passed unresolved (438.408(c)(3))
    WITHDRAW = "withdraw"  # the member, or someone for them, withdraws it
    # 42 CFR 438.410(c): a request for an expedited appeal the plan refuses is moved to the
    # standard timeframe, with oral notice attempted and written notice within 2 days.
    DOWNGRADE = "downgrade"
    RECORD_ORAL_NOTICE = "record_oral_notice"  # a telephone notice attempt on the appeal


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


def _appealed_already(tar: Tar) -> bool:
    """The determination on offer was appealed (and not withdrawn), or is itself an appeal's
    resolution: the next step is a State Hearing (42 CFR 438.408(f))."""
    determination = adverse_determination(tar)
    if determination is None:
        return False
    appeals = tar.appeals.exclude(status=AppealStatus.WITHDRAWN)
    if determination.decision is not None:
        return (
            appeals.filter(decision=determination.decision).exists()
            or Appeal.objects.filter(resolution_decision=determination.decision).exists()
        )
    if determination.extension is not None:
        return appeals.filter(tar_extension=determination.extension).exists()
    return appeals.filter(basis="deemed_denial").exists()


# A peer-to-peer talk is about a pending request or a denial or modification (002).
PEER_TO_PEER_TAR_STATUSES = frozenset({*OPEN_STATUSES, TarStatus.DENIED, TarStatus.MODIFIED})
# An IMR has a medical question to review unless the request was approved or withdrawn; the
# service refuses closures that are not decisions (duplicate, no TAR needed, not eligible).
IMR_TAR_STATUSES = frozenset(set(TarStatus.values) - {TarStatus.APPROVED, TarStatus.WITHDRAWN})


def independent_of(appeal: Appeal, user: User) -> bool:
    """The physician took no part in any earlier level of review, is no subordinate of anyone
    who did (42 CFR 438.406(b)(2)(i)), and is not involved in the care (002)."""
    conflict = independence_conflict(appeal.tar, user, appeal.resolution_decision_id)
    return not conflict and not involved_in_care(appeal.tar, user)


def appeal_oral_notice_subjects(appeal: Appeal) -> list[str]:
    """Where a rule asks the plan to try to tell the member by telephone about the appeal:
    a downgrade (438.410(c)(2)), an extension the member did not ask for (438.408(c)(2)(i)),
    the resolution of an expedited appeal (438.408(d)(2)(ii))."""
    subjects: list[str] = []
    if appeal.downgraded_at is not None:
        subjects.append(OralNoticeSubject.APPEAL_DOWNGRADE)
    extension = getattr(appeal, "extension", None)
    if extension is not None and extension.reason != AppealExtensionReason.REQUESTED_BY_MEMBER:
        subjects.append(OralNoticeSubject.APPEAL_EXTENSION)
    if appeal.expedited and appeal.status == AppealStatus.RESOLVED:
        subjects.append(OralNoticeSubject.EXPEDITED_APPEAL_RESOLUTION)
    return subjects


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
                adverse_determination(tar) is not None
                and not tar.appeals.filter(status__in=APPEAL_OPEN).exists()
                and not _appealed_already(tar)
            ),
            refusal="There is no adverse determination to appeal on this request; it is {status}.",
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
        transition(
            AppealAction.DOWNGRADE,
            {AppealStatus.RECEIVED},
            SAME,
            {Role.NURSE, Role.PHYSICIAN},
            HistoryAction.APPEAL_DOWNGRADED,
            EventKind.APPEAL_DOWNGRADED,
            "Move to the standard timeframe",
            # 438.410(a): a provider's request (or support) for an expedited appeal binds the
            # plan; only the member's own request may be refused.
            offered=lambda appeal, user: appeal.expedited and appeal.filer != AppealFiler.PROVIDER,
        ),
        transition(
            AppealAction.RECORD_ORAL_NOTICE,
            set(AppealStatus.values),
            SAME,
            {Role.NURSE, Role.PHYSICIAN, Role.MEMBER_SERVICES, Role.MANAGER},
            HistoryAction.ORAL_NOTICE,
            EventKind.TAR_ORAL_NOTICE,
            "Record a telephone notice",
            offered=lambda appeal, user: bool(appeal_oral_notice_subjects(appeal)),
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
