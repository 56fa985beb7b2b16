"""The TAR workflow as one table: which action moves a request from which statuses to which,
and which roles may take it. `services.tar_transition` is the only code that applies it."""

from dataclasses import dataclass
from enum import StrEnum

from accounts.models import Role
from authorizations.models import OPEN_STATUSES, TarStatus


class Action(StrEnum):
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
    # Appeals (authorizations/appeals.py; 42 CFR 438.408): a physician who took no part in the
    # adverse decision resolves the member's appeal.
    APPEAL_OVERTURN = "appeal_overturn"  # overturned: the TAR becomes an approval
    APPEAL_PARTIAL = "appeal_partial"  # partly overturned: the TAR becomes a modification
    APPEAL_UPHOLD = "appeal_uphold"  # upheld: the TAR's status stays, a decision is recorded
    # Final coverage decision after an independent medical review (003 F.4) of a decided TAR
    # that is not under appeal.
    IMR_OVERTURN = "imr_overturn"
    IMR_PARTIAL = "imr_partial"
    IMR_UPHOLD = "imr_uphold"


# The status the request returns to after RECEIVE_INFO is the one it was pended from.
RETURN_FROM_PEND = "return_from_pend"
SAME = "same"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    roles: frozenset[str]


_DECIDABLE = frozenset(
    {TarStatus.SUBMITTED, TarStatus.IN_REVIEW, TarStatus.PENDED, TarStatus.REFERRED}
)

# An appeal is against a denial or a modification (42 CFR 438.400(b)); an IMR may also review a
# closure as not a covered benefit when the service is experimental (003 §C).
_APPEALABLE = frozenset({TarStatus.DENIED, TarStatus.MODIFIED})
_IMR_REVIEWABLE = frozenset({TarStatus.DENIED, TarStatus.MODIFIED, TarStatus.CLOSED})
_PHYSICIAN = frozenset({Role.PHYSICIAN})

TRANSITIONS: dict[Action, Transition] = {
    Action.CLAIM: Transition(
        frozenset({TarStatus.SUBMITTED}), TarStatus.IN_REVIEW, frozenset({Role.NURSE})
    ),
    Action.RELEASE: Transition(
        frozenset({TarStatus.IN_REVIEW}), TarStatus.SUBMITTED, frozenset({Role.NURSE, Role.MANAGER})
    ),
    Action.REQUEST_INFO: Transition(
        frozenset({TarStatus.SUBMITTED, TarStatus.IN_REVIEW, TarStatus.REFERRED}),
        TarStatus.PENDED,
        frozenset({Role.NURSE, Role.PHYSICIAN}),
    ),
    Action.RECEIVE_INFO: Transition(
        frozenset({TarStatus.PENDED}), RETURN_FROM_PEND, frozenset({Role.PROVIDER, Role.INTAKE})
    ),
    Action.REFER: Transition(
        frozenset({TarStatus.SUBMITTED, TarStatus.IN_REVIEW, TarStatus.PENDED}),
        TarStatus.REFERRED,
        frozenset({Role.NURSE}),
    ),
    # Nurses approve only when criteria are met; the service checks that.
    Action.APPROVE: Transition(
        _DECIDABLE, TarStatus.APPROVED, frozenset({Role.NURSE, Role.PHYSICIAN})
    ),
    # Nurses may modify or deny only on non-medical grounds; the service checks the reason.
    Action.MODIFY: Transition(
        _DECIDABLE, TarStatus.MODIFIED, frozenset({Role.NURSE, Role.PHYSICIAN})
    ),
    Action.DENY: Transition(_DECIDABLE, TarStatus.DENIED, frozenset({Role.NURSE, Role.PHYSICIAN})),
    Action.CLOSE: Transition(_DECIDABLE, TarStatus.CLOSED, frozenset({Role.NURSE, Role.PHYSICIAN})),
    Action.WITHDRAW: Transition(
        frozenset(OPEN_STATUSES), TarStatus.WITHDRAWN, frozenset({Role.PROVIDER})
    ),
    Action.EXTEND: Transition(
        frozenset(OPEN_STATUSES), SAME, frozenset({Role.NURSE, Role.PHYSICIAN})
    ),
    Action.APPEAL_OVERTURN: Transition(_APPEALABLE, TarStatus.APPROVED, _PHYSICIAN),
    Action.APPEAL_PARTIAL: Transition(_APPEALABLE, TarStatus.MODIFIED, _PHYSICIAN),
    Action.APPEAL_UPHOLD: Transition(_APPEALABLE, SAME, _PHYSICIAN),
    Action.IMR_OVERTURN: Transition(_IMR_REVIEWABLE, TarStatus.APPROVED, _PHYSICIAN),
    Action.IMR_PARTIAL: Transition(_IMR_REVIEWABLE, TarStatus.MODIFIED, _PHYSICIAN),
    Action.IMR_UPHOLD: Transition(_IMR_REVIEWABLE, SAME, _PHYSICIAN),
}

DECISION_ACTIONS = {
    TarStatus.APPROVED: Action.APPROVE,
    TarStatus.MODIFIED: Action.MODIFY,
    TarStatus.DENIED: Action.DENY,
    TarStatus.CLOSED: Action.CLOSE,
}
