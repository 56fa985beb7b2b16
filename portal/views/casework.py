"""What the appeal, peer-to-peer and IMR pages share: which actions a page offers, the appeals
of a request with their resolution letters, and turning a scoped read into a 404.

Which actions a page *offers* is read from the services' own transition tables, so that a page
never shows a button the service would always refuse; whether an action is allowed now is
still the service's to say, and its message is what the person sees."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from accounts.models import User
from authorizations import appeal_selectors
from authorizations.models import (
    OPEN_PEER_TO_PEER_STATUSES,
    OPEN_STATUSES,
    Appeal,
    AppealStatus,
    ImrCase,
    PeerToPeer,
    Tar,
)
from authorizations.transitions import TRANSITIONS, Action
from portal import casework_selectors
from tar_portal.errors import DomainError, ErrorCode

# The statuses an appeal can change (a denial or a modification): the appeal transitions'
# own sources.
APPEALABLE_STATUSES = TRANSITIONS[Action.APPEAL_OVERTURN].sources
# A talk is about a pending request or an adverse decision (002 "Denial Determinations").
PEER_TO_PEER_STATUSES = frozenset({*OPEN_STATUSES, *APPEALABLE_STATUSES})


def offers(table: dict, action: Any, *, status: str, user: User) -> bool:
    """Whether a page shows an action: the caller's role may take it and the record is in a
    status it starts from, per the service's transition table."""
    move = table[action]
    return user.role in move.roles and status in move.sources


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


def appeal_offered(tar: Tar, appeals: list[Appeal]) -> bool:
    """Offer "Appeal" on a denial or modification not yet appealed. After a resolution the
    next step is a State Hearing, which the resolution letter explains."""
    if tar.status not in APPEALABLE_STATUSES:
        return False
    return not any(appeal.status != AppealStatus.WITHDRAWN for appeal in appeals)


def appeals_context(request: HttpRequest, tar: Tar, letters: list | None) -> dict[str, Any]:
    """The appeals of a request with their resolution letters, for any role's request page."""
    appeals = list(casework_selectors.tar_appeals(user=request.user, tar=tar))
    return {
        "appeal_rows": [(appeal, resolution_letters(appeal, letters)) for appeal in appeals],
        "can_appeal": appeal_offered(tar, appeals),
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
            "can_ask_peer_to_peer": tar.status in PEER_TO_PEER_STATUSES
            and not any(talk.status in OPEN_PEER_TO_PEER_STATUSES for talk in talks),
            "can_withdraw": offers(
                TRANSITIONS, Action.WITHDRAW, status=tar.status, user=request.user
            ),
        }
    )
    return context
