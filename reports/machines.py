"""The IRR case's workflow (PRODUCT §10): drawn and assigned → second review recorded.

Its history and events are written on the request audited (the kernel's one history), but
no transition touches the request: an audit re-reviews a decision, it never changes it.
"""

from accounts.models import Role
from authorizations.models import DECIDED_STATUSES, EventKind, HistoryAction
from authorizations.workflow.machine import Machine, transition
from reports.models import IrrCase, IrrCaseStatus

IRR_ASSIGN = "irr_assign"
IRR_REVIEW = "irr_review"

IRR_CASE = Machine(
    name="irr",
    noun="an inter-rater reliability case",
    model=IrrCase,
    lock_related=("tar",),
    transitions=(
        # Created by the audit's draw (the manager opens the year's audit).
        transition(
            IRR_ASSIGN,
            DECIDED_STATUSES,
            IrrCaseStatus.ASSIGNED,
            {Role.MANAGER},
            HistoryAction.IRR_ASSIGNED,
            EventKind.IRR_ASSIGNED,
            "Draw for audit",
            creates=True,
        ),
        # The assigned second reviewer records their blind review (the service checks that
        # the user is the one assigned: 403 otherwise).
        transition(
            IRR_REVIEW,
            {IrrCaseStatus.ASSIGNED},
            IrrCaseStatus.REVIEWED,
            {Role.NURSE, Role.PHYSICIAN},
            HistoryAction.IRR_REVIEWED,
            EventKind.IRR_REVIEWED,
            "Record second review",
            refusal="This case's second review is already recorded.",
        ),
    ),
)
