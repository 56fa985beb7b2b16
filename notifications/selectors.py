"""Reads of letters and notices, scoped by the caller.

A letter goes to one audience: a provider copy is for the requesting and servicing
organizations' provider users, a member copy for that member; plan staff see both. Anyone
else gets the same answer as for a letter that does not exist (404).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import PLAN_STAFF_ROLES, Role, User
from authorizations.models import Tar
from notifications.models import Audience, Letter, Notice, NoticeStatus, PrintBatch
from tar_portal.errors import DomainError, ErrorCode


def _letter_scope_q(user: User) -> Q | None:
    """The letters a user is entitled to; None means none at all."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.role in PLAN_STAFF_ROLES:
        return Q()
    if user.role == Role.PROVIDER and user.organization_id:
        return Q(audience=Audience.PROVIDER) & (
            Q(tar__requesting_organization_id=user.organization_id)
            | Q(tar__servicing_organization_id=user.organization_id)
        )
    if user.role == Role.MEMBER and user.member_id:
        return Q(audience=Audience.MEMBER, tar__member_id=user.member_id)
    return None


def letter_list(*, user: User, tar: Tar) -> QuerySet[Letter]:
    """The letters of one request the user may open, every version, oldest first."""
    scope = _letter_scope_q(user)
    if scope is None:
        return Letter.objects.none()
    return (
        Letter.objects.filter(scope, tar=tar)
        .select_related("notice", "superseded_by")
        .order_by("created_at", "id")
    )


def letter_get(*, user: User, letter_id: int) -> Letter:
    scope = _letter_scope_q(user)
    letter = None
    if scope is not None:
        letter = (
            Letter.objects.filter(scope)
            .select_related("tar__member", "notice")
            .filter(pk=letter_id)
            .first()
        )
    if letter is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
    return letter


def notices_failed() -> QuerySet[Notice]:
    """Notices whose delivery failed after retries, newest failure first (staff work list)."""
    return (
        Notice.objects.filter(status=NoticeStatus.FAILED)
        .select_related("tar", "tar__member")
        .order_by("-failed_at", "-id")
    )


def notice_list(*, tar: Tar) -> QuerySet[Notice]:
    return Notice.objects.filter(tar=tar).order_by("created_at", "id")


def print_batch_list() -> QuerySet[PrintBatch]:
    return PrintBatch.objects.order_by("-created_at", "-id")
