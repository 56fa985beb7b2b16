"""Reads of grievances, always scoped to the caller (PRODUCT §2): a member sees their own, a
provider user the ones their organization filed, member services and the grievance
coordinator (and the UM manager, for oversight) all of them; nobody else any."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import Role, User
from grievances.models import Grievance
from tar_portal.errors import DomainError, ErrorCode

# Plan staff who work grievances or take them by phone (42 CFR 438.406; H&S 1368).
SEES_ALL_GRIEVANCES = frozenset({Role.GRIEVANCE_COORDINATOR, Role.MEMBER_SERVICES, Role.MANAGER})


def grievance_scope_q(user: User) -> Q | None:
    """The filter of what the user may see; None: everything."""
    if user.role in SEES_ALL_GRIEVANCES:
        return None
    if user.role == Role.MEMBER and user.member_id:
        return Q(member_id=user.member_id)
    if user.role == Role.PROVIDER and user.organization_id:
        return Q(provider_organization_id=user.organization_id)
    return Q(pk__in=[])


def grievance_visible_to(grievance: Grievance, user: User) -> bool:
    if user.role in SEES_ALL_GRIEVANCES:
        return True
    if user.role == Role.MEMBER:
        return user.member_id is not None and grievance.member_id == user.member_id
    if user.role == Role.PROVIDER:
        return (
            user.organization_id is not None
            and grievance.provider_organization_id == user.organization_id
        )
    return False


def grievance_list(*, user: User) -> QuerySet[Grievance]:
    qs = Grievance.objects.select_related("member", "tar", "filed_by")
    scope = grievance_scope_q(user)
    return qs if scope is None else qs.filter(scope)


def grievance_get(*, user: User, grievance_id: int) -> Grievance:
    """404 for a grievance the user may not see (it does not exist for them)."""
    grievance = grievance_list(user=user).filter(pk=grievance_id).first()
    if grievance is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
    return grievance
