"""Reads for the portal pages. Requests always come through `authorizations.selectors`, which
scope them by the caller; this module only adds what a page needs on top (prefetches, the
caller's own drafts, the notices a role may see)."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Prefetch, QuerySet

from accounts.models import Role, User
from authorizations import selectors
from authorizations.models import InformationRequest, Provider, Referral, ReferralStatus, Tar
from members.models import Member
from notifications import selectors as notification_selectors
from notifications.models import Audience, Notice
from portal.models import TarDraft
from tar_portal.errors import DomainError, ErrorCode

logger = logging.getLogger(__name__)

# Statuses a nurse works on; "referred" waits for a physician (PRODUCT §8).
NURSE_QUEUE_STATUSES = "submitted,in_review,pended"
PHYSICIAN_QUEUE_STATUSES = "referred"


def draft_list(*, user: User) -> QuerySet[TarDraft]:
    return TarDraft.objects.filter(user=user)


def draft_get(*, user: User, draft_id: int) -> TarDraft:
    draft = TarDraft.objects.filter(user=user, pk=draft_id).prefetch_related("documents").first()
    if draft is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
    return draft


def open_requests_prefetch() -> Prefetch:
    """Each TAR's unanswered information requests, as `tar.open_requests`."""
    return Prefetch(
        "information_requests",
        queryset=InformationRequest.objects.filter(responded_at__isnull=True),
        to_attr="open_requests",
    )


def provider_dashboard(*, user: User) -> QuerySet[Tar]:
    return selectors.tar_list(user=user).prefetch_related(open_requests_prefetch())


def review_queue(*, user: User, filters: dict[str, str]) -> QuerySet[Tar]:
    """The nurse queue: open requests by decision due time (selectors.tar_list orders plan
    staff's lists by `decision_due_at`)."""
    return selectors.tar_list(user=user, filters=filters)


def nurses() -> QuerySet[User]:
    return User.objects.filter(role=Role.NURSE, is_active=True).order_by("username")


def organization_providers(*, user: User) -> QuerySet[Provider]:
    """Providers of the caller's own organization (the directory is not PHI)."""
    if not user.organization_id:
        return Provider.objects.none()
    return selectors.provider_list(user=user).filter(organization_id=user.organization_id)


def member_referrals(*, user: User, member: Member) -> QuerySet[Referral]:
    """Active RAFs for this member to the caller's organization."""
    return selectors.referral_list(user=user).filter(
        member=member, to_organization_id=user.organization_id, status=ReferralStatus.ACTIVE
    )


def notice_list(*, user: User, tar: Tar) -> QuerySet[Notice]:
    """The notices owed on a request that this caller is the audience of (`tar` comes from the
    scoped `tar_get`). Plan staff see every notice."""
    qs = Notice.objects.filter(tar=tar).order_by("created_at", "id")
    if user.role == Role.PROVIDER:
        return qs.filter(audience=Audience.PROVIDER)
    if user.role == Role.MEMBER:
        return qs.filter(audience=Audience.MEMBER)
    return qs


def letter_list(*, user: User, tar: Tar) -> list[Any] | None:
    """The PDF letters of a request the user may see (notifications.selectors)."""
    return list(notification_selectors.letter_list(user=user, tar=tar))
