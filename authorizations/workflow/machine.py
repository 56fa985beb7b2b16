"""The workflow kernel: every status change of every workflow record goes through `perform`
(an action on an existing record) or `start` (an action that creates one).

Each record type has one `Machine`: its states are the model's status choices, its actions a
table of `Transition`s (django-oscar's pipeline; viewflow's verbs with a permission each).
The kernel, in this order (STYLE §3; viewflow: permission before possibility):

1. role: may this kind of user take this action at all? (403, before anything is read, and
   before the body of the action is looked at)
2. lock the row (`select_for_update`, the only place records are locked for a change), then
   scope: may this user see the record? (404: a record you may not see does not exist)
3. authority: may this user take it on this record? (403: conflict of interest, physician
   required, the nurse's criteria rule; the service's `authorize`)
4. state: is the action possible from the record's status now? (409)
5. the service's `apply`: validate the body (400) and change the record's other fields;
   then the kernel sets the status, saves, and writes one history row and one domain event
   in the same transaction. Side effects consume the event after commit (workflow.outbox).

`available_actions` answers "what may this user do here now" from the same table, so a page
or an API response never offers an action that cannot succeed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts.models import Role, User
from authorizations.models import DomainEvent, HistoryEntry, Tar
from authorizations.selectors import tar_visible_to
from authorizations.workflow.outbox import events_dispatch_task
from tar_portal.errors import DomainError, ErrorCode

# The role of the plan's own machinery: the deadline engine and the automated rules.
SYSTEM = "system"
# A transition whose target is SAME leaves the status as it is (an extension, an upheld
# appeal); the change is in the other fields, the history and the event.
SAME = "same"

Record = Any  # a workflow model instance (Tar, Appeal, PeerToPeer, ImrCase)
Check = Callable[[Record], None]


@dataclass(frozen=True)
class Transition:
    """One action of a machine: from which statuses, to which, by whom, and what it writes."""

    action: str
    sources: frozenset[str]  # statuses it is taken from; for a creating action, the request's
    target: str  # the status after, or SAME
    roles: frozenset[str]  # who may take it (SYSTEM: the plan's own machinery)
    history: str  # the HistoryAction written
    event: str  # the EventKind written
    label: str  # what a button says
    creates: bool = False  # `start` creates the record; `sources` are the request's statuses
    # Authority that needs no request body, checked by `available_actions` (the service's
    # `authorize` checks it again, with the body, under the lock).
    offered: Callable[[Record, User], bool] | None = None
    # The 409 message when the status does not allow it ("{status}" is filled in).
    refusal: str = ""


def transition(action, sources, target, roles, history, event, label, **options) -> Transition:
    """A table row, written as one line per field in the machines (sets become frozensets)."""
    return Transition(
        action=action,
        sources=frozenset(sources),
        target=target,
        roles=frozenset(roles),
        history=history,
        event=event,
        label=label,
        **options,
    )


@dataclass(frozen=True)
class Machine:
    """A workflow record type: its model, its transitions, how to find its request."""

    name: str  # "tar", "appeal", "p2p", "imr": the subject type of its events
    noun: str  # "a request", "an appeal": for messages
    model: type[models.Model]
    transitions: tuple[Transition, ...]
    lock_related: tuple[str, ...] = ()
    # Checks that hold for every action, run with the state check (the TAR's claim rule).
    guards: tuple[Callable[[Record, Transition, User | None], None], ...] = ()
    # Where the status goes when it depends on the record (a pend returns to where it was).
    resolve_target: Callable[[Record, Transition], str] | None = None
    # Who may see a record that does not belong to a request (a grievance): the machine's
    # own scope rule; a record of a request is seen by whoever sees the request.
    visible_to: Callable[[Record, User], bool] | None = None
    _by_action: Mapping[str, Transition] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_action = {t.action: t for t in self.transitions}
        if len(by_action) != len(self.transitions):
            raise ValueError(f"machine {self.name}: an action is listed twice")
        object.__setattr__(self, "_by_action", by_action)

    def __getitem__(self, action: str) -> Transition:
        return self._by_action[action]

    @property
    def actions(self) -> Iterable[str]:
        return self._by_action.keys()

    def tar_of(self, record: Record) -> Tar | None:
        """The request the record belongs to (None: a grievance about no request)."""
        return record if isinstance(record, Tar) else record.tar

    def sees(self, record: Record, user: User) -> bool:
        if self.visible_to is not None:
            return self.visible_to(record, user)
        tar = self.tar_of(record)
        return tar is not None and tar_visible_to(tar, user)

    def target_for(self, record: Record, transition: Transition) -> str:
        if self.resolve_target is not None:
            return self.resolve_target(record, transition)
        return record.status if transition.target == SAME else transition.target


def _verb(transition: Transition) -> str:
    return transition.action.replace("_", " ")


def check_role(machine: Machine, transition: Transition, user: User | None) -> None:
    """403 unless this kind of user may take the action at all."""
    role = user.role if user is not None else SYSTEM
    if role in transition.roles:
        return
    if transition.roles == frozenset({Role.PHYSICIAN}):
        raise DomainError(
            ErrorCode.PHYSICIAN_REQUIRED,
            f"Only a physician reviewer may {_verb(transition)} {machine.noun}.",
        )
    raise DomainError(
        ErrorCode.PERMISSION_DENIED, f"Your role may not {_verb(transition)} {machine.noun}."
    )


def _not_found() -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, "Not found.")


def lock_row(model: type[models.Model], pk: int, related: Iterable[str] = ()) -> Record:
    """The row lock every change takes (Saleor's lock_objects: locks defined in one place).
    Only the record's own row is locked (`of=self`), not the rows it is joined to."""
    record = (
        model._default_manager.select_for_update(of=("self",))
        .select_related(*related)
        .filter(pk=pk)
        .first()
    )
    if record is None:
        raise _not_found()
    return record


def lock(machine: Machine, record_id: int) -> Record:
    return lock_row(machine.model, record_id, machine.lock_related)


# What a change to a request reads besides its own row (conflict of interest, scope).
TAR_LOCK_RELATED = ("member", "requesting_provider", "servicing_provider")


def lock_tar(tar_id: int) -> Tar:
    return lock_row(Tar, tar_id, TAR_LOCK_RELATED)


def check_scope(tar: Tar, user: User | None) -> None:
    """404 unless the user may see the request (PRODUCT §2); the plan's machinery sees all."""
    if user is not None and not tar_visible_to(tar, user):
        raise _not_found()


def _check_state(
    machine: Machine, transition: Transition, record: Record, user: User | None
) -> None:
    for guard in machine.guards:
        guard(record, transition, user)
    if record.status not in transition.sources:
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            transition.refusal.format(status=record.status)
            or f"Cannot {_verb(transition)} {machine.noun} that is {record.status}.",
        )


def record_change(
    *,
    machine: Machine,
    transition: Transition,
    record: Record,
    user: User | None,
    from_status: str,
    to_status: str,
    reason: str,
    detail: dict[str, Any],
    at: datetime,
) -> DomainEvent:
    """The history row and the domain event of one change, in the caller's transaction."""
    tar = machine.tar_of(record)
    role = user.role if user is not None else SYSTEM
    # A record about no request (a grievance) is on the member's history.
    member_id = tar.member_id if tar is not None else record.member_id
    if machine.model is Tar:
        # The request's own statuses are the history's from/to columns.
        statuses = {"from_status": from_status, "to_status": to_status}
        subject = {"action": transition.action}
    else:
        statuses = {}
        subject = {machine.name: record.pk, "action": transition.action}
        if from_status != to_status:
            subject |= {"from": from_status, "to": to_status}
    HistoryEntry.objects.create(
        tar=tar,
        member_id=member_id,
        actor=user,
        actor_role=role,
        action=transition.history,
        reason=reason,
        detail={**subject, **detail},
        at=at,
        **statuses,
    )
    event = DomainEvent.objects.create(
        kind=transition.event,
        subject_type=machine.name,
        subject_id=record.pk,
        tar=tar,
        actor=user,
        actor_role=role,
        payload={"from": from_status, "to": to_status, **detail},
        created_at=at,
    )
    _dispatch_after_commit()
    return event


def _dispatch_after_commit() -> None:
    """Nudge the outbox once the change is committed. Only a nudge: if the broker is down or
    the process dies, the beat's catch-up finds the event (workflow.outbox)."""
    transaction.on_commit(events_dispatch_task.delay, robust=True)


def perform(
    machine: Machine,
    action: str,
    *,
    record_id: int,
    user: User | None,
    authorize: Check | None = None,
    apply: Callable[[Record], dict[str, Any] | None] | None = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Record:
    """Take `action` on the record: role → lock and scope → authority → state → apply, then
    status, history and event in one transaction. `user=None` is the plan's machinery.
    `apply` may return more detail for the history and the event (the ids it wrote)."""
    now = now or timezone.now()
    transition = machine[action]
    if transition.creates:
        raise ValueError(f"{machine.name}.{action} creates a record: use start()")
    check_role(machine, transition, user)
    with transaction.atomic():
        record = lock(machine, record_id)
        if user is not None and not machine.sees(record, user):
            raise _not_found()
        if authorize is not None:
            authorize(record)
        _check_state(machine, transition, record, user)
        from_status = record.status
        to_status = machine.target_for(record, transition)
        written = apply(record) if apply is not None else None
        record.status = to_status
        record.save()
        record_change(
            machine=machine,
            transition=transition,
            record=record,
            user=user,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            detail={**(detail or {}), **(written or {})},
            at=now,
        )
    return record


def start(
    machine: Machine,
    action: str,
    *,
    user: User,
    build: Callable[[Tar | None], Record],
    tar_id: int | None = None,
    authorize: Check | None = None,
    after_save: Callable[[Record], dict[str, Any] | None] | None = None,
    conflict: str = "",
    reason: str = "",
    detail: Callable[[Record], dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> Record:
    """Create a record by a creating action: role → lock and scope of the request it belongs
    to → authority → the request's state → `build` (validates the body, returns the unsaved
    record) → status, save, history and event. A request itself (`tar_id=None`) has none of
    the request checks. A unique constraint that refuses the save (two filings raced) is
    answered 409 with `conflict`."""
    now = now or timezone.now()
    transition = machine[action]
    if not transition.creates:
        raise ValueError(f"{machine.name}.{action} does not create a record: use perform()")
    check_role(machine, transition, user)
    with transaction.atomic():
        tar = None
        if tar_id is not None:
            tar = lock_tar(tar_id)
            check_scope(tar, user)
            if authorize is not None:
                authorize(tar)
            if tar.status not in transition.sources:
                raise DomainError(
                    ErrorCode.INVALID_TRANSITION,
                    transition.refusal.format(status=tar.status)
                    or f"Cannot {_verb(transition)} {machine.noun} for a request that is "
                    f"{tar.status}.",
                )
        record = build(tar)
        record.status = transition.target
        if not conflict:
            # No refusal to translate: an IntegrityError rolls the whole transaction back, so
            # no savepoint is needed (two statements fewer per submission, issue 16).
            record.save()
        else:
            try:
                with transaction.atomic():
                    record.save()
            except IntegrityError as exc:
                raise DomainError(ErrorCode.INVALID_TRANSITION, conflict) from exc
        written = after_save(record) if after_save is not None else None
        record_change(
            machine=machine,
            transition=transition,
            record=record,
            user=user,
            from_status="",
            to_status=record.status,
            reason=reason,
            detail={**(detail(record) if detail else {}), **(written or {})},
            at=now,
        )
    return record


def _offered(machine: Machine, transition: Transition, record: Record, user: User) -> bool:
    if transition.creates or user.role not in transition.roles:
        return False
    try:
        _check_state(machine, transition, record, user)
    except DomainError:
        return False
    return transition.offered is None or transition.offered(record, user)


def is_available(machine: Machine, record: Record, user: User, action: str) -> bool:
    """Whether this one action is on offer (a page's single button: no other checks run)."""
    return machine.sees(record, user) and _offered(machine, machine[action], record, user)


def available_actions(machine: Machine, record: Record, user: User) -> list[str]:
    """The actions this user may take on this record now, in the machine's order: the same
    role, scope, guards and state checks as `perform`, plus each transition's `offered`
    authority. Reads only the record (and what `offered` reads)."""
    if not machine.sees(record, user):
        return []
    return [t.action for t in machine.transitions if _offered(machine, t, record, user)]


def can_start(machine: Machine, action: str, tar: Tar, user: User) -> bool:
    """Whether the creating action is on offer for this request (role, scope, state, and the
    transition's `offered` authority)."""
    transition = machine[action]
    return (
        user.role in transition.roles
        and tar_visible_to(tar, user)
        and tar.status in transition.sources
        and (transition.offered is None or transition.offered(tar, user))
    )
