"""What the appeal, peer-to-peer and IMR pages share: which actions a page offers, the appeals
of a request with their resolution letters, and turning a scoped read into a 404.

Which actions a page *offers* is read from the workflow machines (`available_actions`,
`can_start`), so that a page never shows a button the service would refuse; the service still
checks everything again under the lock, and its message is what the person sees."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from accounts.models import User
from appeals import selectors as appeal_selectors
from appeals.machines import APPEAL, PEER_TO_PEER, AppealAction, PeerToPeerAction
from appeals.models import Appeal, ImrCase, PeerToPeer
from authorizations.models import Tar
from authorizations.transitions import TAR, Action
from authorizations.workflow import Machine, available_actions, can_start
from portal import casework_selectors
from tar_portal.errors import DomainError, ErrorCode


def offers(machine: Machine, record: Any, action: str, user: User) -> bool:
    """Whether a page shows an action: the workflow machine says the user may take it on
    this record now."""
    return action in available_actions(machine, record, user)


def _or_404(read, **kwargs):
    try:
        return read(**kwargs)
    except DomainError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise Http404 from exc
        raise


def appeal_or_404(user: User, appeal_id: int) -> Appeal:
    return _or_404(appeal_selectors.appeal_get, user=user, appeal_id=appeal_id)


def peer_to_peer_or_404(user: User, p2p_id: int) -> PeerToPeer:
    return _or_404(appeal_selectors.peer_to_peer_get, user=user, p2p_id=p2p_id)


def imr_or_404(user: User, imr_id: int) -> ImrCase:
    return _or_404(appeal_selectors.imr_get, user=user, imr_id=imr_id)


def resolution_letters(appeal: Appeal, letters: list | None) -> list:
    """The resolution letters (every version) of one appeal among a request's letters."""
    key = f"appeal_resolution:{appeal.pk}"
    return [letter for letter in letters or [] if letter.notice.event_key == key]


def appeals_context(request: HttpRequest, tar: Tar, letters: list | None) -> dict[str, Any]:
    """The appeals of a request with their resolution letters, for any role's request page."""
    appeals = list(casework_selectors.tar_appeals(user=request.user, tar=tar))
    return {
        "appeal_rows": [(appeal, resolution_letters(appeal, letters)) for appeal in appeals],
        "can_appeal": can_start(APPEAL, AppealAction.FILE, tar, request.user),
    }


def provider_casework_context(
    request: HttpRequest, tar: Tar, letters: list | None
) -> dict[str, Any]:
    """What the provider's request page adds: appeals, talks, IMR, and the actions offered."""
    context = appeals_context(request, tar, letters)
    talks = list(casework_selectors.tar_peer_to_peers(user=request.user, tar=tar))
    context.update(
        {
            "peer_to_peers": talks,
            "imr_cases": list(casework_selectors.tar_imr_cases(user=request.user, tar=tar)),
            "can_ask_peer_to_peer": can_start(
                PEER_TO_PEER, PeerToPeerAction.REQUEST, tar, request.user
            ),
            "can_withdraw": offers(TAR, tar, Action.WITHDRAW, request.user),
        }
    )
    return context
