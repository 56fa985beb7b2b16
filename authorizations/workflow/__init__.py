"""The workflow kernel (machine.py) and its event outbox (outbox.py)."""

from authorizations.workflow.machine import (
    SAME,
    SYSTEM,
    Machine,
    Transition,
    available_actions,
    can_start,
    check_role,
    check_scope,
    is_available,
    lock_row,
    lock_tar,
    perform,
    start,
    transition,
)

__all__ = [
    "SAME",
    "SYSTEM",
    "Machine",
    "Transition",
    "available_actions",
    "can_start",
    "check_role",
    "check_scope",
    "is_available",
    "lock_row",
    "lock_tar",
    "perform",
    "start",
    "transition",
]
