"""The grievance workflow as one table (STYLE §3): `authorizations.workflow.perform` and
`start` are the only code that change a grievance's status."""

from __future__ import annotations

from enum import StrEnum

from accounts.models import Role, User
from authorizations.models import EventKind, HistoryAction
from authorizations.workflow import SAME, SYSTEM, Machine, transition
from grievances.models import OPEN_GRIEVANCE_STATUSES, Grievance, GrievanceStatus
from grievances.selectors import grievance_visible_to


class GrievanceAction(StrEnum):
    FILE = "file"  # the member, member services or a provider for the member files one
    ACKNOWLEDGE = "acknowledge"  # the written acknowledgement (H&S 1368(a)(4))
    RESOLVE = "resolve"  # the written resolution (H&S 1368(a)(5))
    WITHDRAW = "withdraw"  # the member withdraws it
    # The deadline engine (grievances.sweep): a missed deadline, escalated.
    ACK_OVERDUE = "ack_overdue"
    BREACH = "breach"


_COORDINATOR = frozenset({Role.GRIEVANCE_COORDINATOR})


def _acknowledged_not_yet(grievance: Grievance, user: User) -> bool:
    return grievance.acknowledged_at is None


GRIEVANCE = Machine(
    name="grievance",
    noun="a grievance",
    model=Grievance,
    lock_related=("member",),
    visible_to=grievance_visible_to,
    transitions=(
        transition(
            GrievanceAction.FILE,
            set(),
            GrievanceStatus.RECEIVED,
            {Role.MEMBER, Role.MEMBER_SERVICES, Role.PROVIDER, Role.GRIEVANCE_COORDINATOR},
            HistoryAction.GRIEVANCE_FILED,
            EventKind.GRIEVANCE_FILED,
            "File a grievance",
            creates=True,
        ),
        transition(
            GrievanceAction.ACKNOWLEDGE,
            {GrievanceStatus.RECEIVED},
            GrievanceStatus.ACKNOWLEDGED,
            _COORDINATOR,
            HistoryAction.GRIEVANCE_ACKNOWLEDGED,
            EventKind.GRIEVANCE_ACKNOWLEDGED,
            "Acknowledge",
        ),
        # An expedited grievance may be resolved before a separate acknowledgement.
        transition(
            GrievanceAction.RESOLVE,
            set(OPEN_GRIEVANCE_STATUSES),
            GrievanceStatus.RESOLVED,
            _COORDINATOR,
            HistoryAction.GRIEVANCE_RESOLVED,
            EventKind.GRIEVANCE_RESOLVED,
            "Resolve",
        ),
        transition(
            GrievanceAction.WITHDRAW,
            set(OPEN_GRIEVANCE_STATUSES),
            GrievanceStatus.WITHDRAWN,
            {Role.MEMBER, Role.MEMBER_SERVICES, Role.GRIEVANCE_COORDINATOR},
            HistoryAction.GRIEVANCE_WITHDRAWN,
            EventKind.GRIEVANCE_WITHDRAWN,
            "Withdraw",
        ),
        transition(
            GrievanceAction.ACK_OVERDUE,
            {GrievanceStatus.RECEIVED},
            SAME,
            {SYSTEM},
            HistoryAction.GRIEVANCE_OVERDUE,
            EventKind.GRIEVANCE_ACK_OVERDUE,
            "Acknowledgement overdue",
            offered=_acknowledged_not_yet,
        ),
        transition(
            GrievanceAction.BREACH,
            set(OPEN_GRIEVANCE_STATUSES),
            SAME,
            {SYSTEM},
            HistoryAction.GRIEVANCE_OVERDUE,
            EventKind.GRIEVANCE_BREACHED,
            "Resolution overdue",
        ),
    ),
)
