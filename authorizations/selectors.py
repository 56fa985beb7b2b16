"""Every read of providers, referrals, TARs and attachments, scoped by the caller.

A caller who may not see an object gets the same answer as for one that does not exist
(404), so that scoping never reveals that a member or request exists.
"""

from __future__ import annotations

import re

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import PLAN_STAFF_ROLES, Role, User
from authorizations.models import (
    Attachment,
    HistoryEntry,
    Provider,
    ProviderOrganization,
    Referral,
    ServiceLine,
    Tar,
)
from members.models import EligibilitySpan, Member
from tar_portal.errors import DomainError, ErrorCode


def _not_found() -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, "Not found.")


# 002 "Confidentiality": clinical information only to the Health Services staff who need it
# (PRODUCT §2). Intake and member services see a member's demographics, requests, statuses and
# letters, not the clinical answers, the criteria evaluation or the attachments.
CLINICAL_STAFF_ROLES = frozenset({Role.NURSE, Role.PHYSICIAN, Role.MANAGER})


def sees_clinical_record(user: User) -> bool:
    """Whether the user may read the clinical part of a request they can see: the answers,
    the criteria evaluation and the attached records. The provider organizations on the
    request sent them; members see the criteria results only (authorizations.api)."""
    return user.role == Role.PROVIDER or user.role in CLINICAL_STAFF_ROLES


def tar_scope_q(user: User) -> Q | None:
    """The filter for the TARs a user may see; None means none at all."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.role in PLAN_STAFF_ROLES:
        return Q()
    if user.role == Role.PROVIDER and user.organization_id:
        return Q(requesting_organization_id=user.organization_id) | Q(
            servicing_organization_id=user.organization_id
        )
    if user.role == Role.MEMBER and user.member_id:
        return Q(member_id=user.member_id)
    return None


def tar_scope_branches(user: User) -> list[Q] | None:
    """`tar_scope_q` as disjoint parts that each have an index of their own, for lists that
    walk each part and merge (tar_portal.pagination): a provider's requests as requesting
    organization, and those as servicing organization only. An OR of the two organizations
    defeats every index and costs the whole organization's history per page (issue 16).
    None: the scope is one index-friendly filter already."""
    if user.is_authenticated and user.role == Role.PROVIDER and user.organization_id:
        organization = user.organization_id
        return [
            Q(requesting_organization_id=organization),
            Q(servicing_organization_id=organization) & ~Q(requesting_organization_id=organization),
        ]
    return None


def tar_visible_to(tar: Tar, user: User) -> bool:
    """`tar_scope_q` for one request already in hand (the workflow kernel's scope check, with
    no query). The two must say the same: tests/authorizations/test_workflow.py checks it."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role in PLAN_STAFF_ROLES:
        return True
    if user.role == Role.PROVIDER and user.organization_id:
        return user.organization_id in (
            tar.requesting_organization_id,
            tar.servicing_organization_id,
        )
    if user.role == Role.MEMBER and user.member_id:
        return tar.member_id == user.member_id
    return False


def tar_list(
    *, user: User, filters: dict | None = None, branch: int | None = None
) -> QuerySet[Tar]:
    """`branch`: only that part of the caller's scope (`tar_scope_branches`), for a list that
    walks each part along its own index: the part's filter alone, without the whole scope's
    OR, which no index serves and which kept counts from being index-only scans."""
    scope = tar_scope_q(user)
    if branch is not None:
        branches = tar_scope_branches(user)
        scope = branches[branch] if branches else scope
    if scope is None:
        return Tar.objects.none()
    filters = filters or {}
    qs = Tar.objects.filter(scope)
    if status := filters.get("status"):
        qs = qs.filter(status__in=status.split(","))
    if urgency := filters.get("urgency"):
        qs = qs.filter(urgency=urgency)
    if request_type := filters.get("request_type"):
        qs = qs.filter(request_type=request_type)
    if assigned := filters.get("assigned_to"):
        # Query parameters are user input: a bad one is a 400, never a 500 from the ORM.
        if assigned != "none" and not re.fullmatch(r"[0-9]{1,18}", assigned):
            raise DomainError(
                ErrorCode.INVALID,
                "Unknown assignee.",
                fields={"assigned_to": ["Use a user id, or 'none'."]},
            )
        qs = (
            qs.filter(assigned_to__isnull=True)
            if assigned == "none"
            else qs.filter(assigned_to_id=int(assigned))
        )
    if due_before := filters.get("due_before"):
        try:
            parsed = parse_datetime(due_before)
        except ValueError:
            parsed = None
        if parsed is None:
            raise DomainError(
                ErrorCode.INVALID,
                "Not a date and time.",
                fields={"due_before": ["Use ISO-8601, e.g. 2026-03-02T17:00:00-08:00."]},
            )
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        qs = qs.filter(decision_due_at__lt=parsed)
    if member_cin := filters.get("member"):
        qs = qs.filter(member__cin=member_cin.upper())
    if family := filters.get("family"):
        # EXISTS per request (service_line_number's tar_id index), so the queue walks its own
        # index and stops at the page: an IN over every line of the family grew with history.
        qs = qs.filter(Exists(ServiceLine.objects.filter(tar_id=OuterRef("pk"), family=family)))
    ordering = filters.get("ordering") or (
        "decision_due_at" if user.role in PLAN_STAFF_ROLES else "-received_at"
    )
    allowed = {"decision_due_at", "-decision_due_at", "received_at", "-received_at"}
    if ordering not in allowed:
        raise DomainError(
            ErrorCode.INVALID,
            "Unknown ordering.",
            fields={"ordering": [f"Use one of: {', '.join(sorted(allowed))}."]},
        )
    # Related rows are prefetched, not joined: the page query is then a plain indexed
    # filter + order + limit on the TAR table, instead of joining every visible row before
    # sorting (measured in bench/bench_tar_list.py). A constant 5 extra queries per page.
    return qs.prefetch_related(
        "member",
        "requesting_provider",
        "servicing_provider",
        "assigned_to",
        Prefetch("lines", queryset=ServiceLine.objects.order_by("line_number")),
    ).order_by(ordering, "-id" if ordering.startswith("-") else "id")


def tar_get(*, user: User, tar_id: int) -> Tar:
    scope = tar_scope_q(user)
    if scope is None:
        raise _not_found()
    tar = (
        Tar.objects.filter(scope)
        .select_related(
            "member__pcp",
            "requesting_provider__organization",
            "servicing_provider__organization",
            "referral",
            "assigned_to",
            "decided_by",
        )
        .prefetch_related(
            Prefetch("lines", queryset=ServiceLine.objects.select_related("criteria_set")),
            "attachments",
            "extensions",
            "information_requests",
            "decisions",
            Prefetch("member__eligibility_spans", queryset=EligibilitySpan.objects.all()),
        )
        .filter(pk=tar_id)
        .first()
    )
    if tar is None:
        raise _not_found()
    return tar


def keep_in_hand(tar: Tar, **related: list) -> None:
    """Mark related rows already in hand as `tar`'s prefetched ones (`tar.lines.all()` then
    answers from memory, exactly as after `prefetch_related`)."""
    cache = tar.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in related.items():
        queryset = getattr(tar, name).all()
        queryset._result_cache = list(rows)
        queryset._prefetch_done = True
        cache[name] = queryset


def tar_just_submitted(*, user: User, tar: Tar) -> Tar:
    """The detail of a request this caller has just created, from the objects in hand: a new
    request has no attachments, extensions, information requests or decisions yet, and
    `tar_submit` left its lines in hand (issue 16: was a full `tar_get`, seven queries)."""
    if not tar_visible_to(tar, user):
        raise _not_found()
    keep_in_hand(tar, attachments=[], extensions=[], information_requests=[], decisions=[])
    return tar


def tar_history(*, user: User, tar: Tar) -> QuerySet[HistoryEntry]:
    if user.role == Role.MEMBER:
        # Members see their request's status changes, not who on staff read what.
        return tar.history.exclude(action__in=["clinical_read", "attachment_read"]).select_related(
            "actor"
        )
    if user.role == Role.PROVIDER:
        return tar.history.exclude(action__in=["clinical_read", "attachment_read"]).select_related(
            "actor"
        )
    return tar.history.select_related("actor")


def attachment_get(*, user: User, attachment_id: int) -> Attachment:
    """Attachments are clinical records: the provider organizations on the request and the
    Health Services staff may open them (sees_clinical_record). Members, intake and member
    services get the same 404 as for a record they may not see."""
    scope = tar_scope_q(user)
    if scope is None or not sees_clinical_record(user):
        raise _not_found()
    tar_ids = Tar.objects.filter(scope).values("pk")
    attachment = (
        Attachment.objects.select_related("tar__member")
        .filter(pk=attachment_id, tar_id__in=tar_ids)
        .first()
    )
    if attachment is None:
        raise _not_found()
    return attachment


def referral_list(*, user: User) -> QuerySet[Referral]:
    qs = Referral.objects.select_related(
        "member", "referring_provider", "to_organization", "to_provider"
    )
    if user.role in PLAN_STAFF_ROLES:
        return qs
    if user.role == Role.PROVIDER and user.organization_id:
        return qs.filter(
            Q(referring_organization_id=user.organization_id)
            | Q(to_organization_id=user.organization_id)
        )
    if user.role == Role.MEMBER and user.member_id:
        return qs.filter(member_id=user.member_id)
    return qs.none()


def referral_get(*, user: User, referral_id: int) -> Referral:
    referral = referral_list(user=user).filter(pk=referral_id).first()
    if referral is None:
        raise _not_found()
    return referral


def provider_list(*, user: User, npi: str = "", query: str = "") -> QuerySet[Provider]:
    """The provider directory is not PHI: every signed-in user may search it."""
    qs = Provider.objects.select_related("organization")
    if npi:
        qs = qs.filter(npi=npi)
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(organization__name__icontains=query))
    return qs.order_by("name")


def organization_list() -> QuerySet[ProviderOrganization]:
    return ProviderOrganization.objects.order_by("name")


def member_scope_q(user: User) -> Q | None:
    if user.role in PLAN_STAFF_ROLES:
        return Q()
    if user.role == Role.MEMBER and user.member_id:
        return Q(pk=user.member_id)
    if user.role == Role.PROVIDER and user.organization_id:
        # Members this office has a relationship with (authorizations.member_lookup): its PCP
        # panel, a valid referral to it, or one of its requests that plan staff acted on. A
        # bare submission is not enough, or submitting would open the member's record.
        from authorizations.member_lookup import relationship_q

        return relationship_q(user.organization_id)
    return None


def member_get(*, user: User, cin: str) -> Member:
    """A member the caller may see, by CIN; anything else is the same 404 as an unknown CIN.
    Providers who do not yet care for a member look them up with the CIN and the date of
    birth instead (authorizations.member_lookup), and see eligibility only."""
    scope = member_scope_q(user)
    if scope is None:
        raise _not_found()
    base = Member.objects.select_related("pcp__organization").prefetch_related("eligibility_spans")
    cin = (cin or "").strip().upper()
    member = base.filter(pk__in=Member.objects.filter(scope).values("pk")).filter(cin=cin).first()
    if member is None:
        raise _not_found()
    return member


def member_list(*, user: User) -> QuerySet[Member]:
    scope = member_scope_q(user)
    if scope is None:
        return Member.objects.none()
    ids = Member.objects.filter(scope).values("pk")
    return (
        Member.objects.filter(pk__in=ids)
        .select_related("pcp__organization")
        .prefetch_related("eligibility_spans")
        .order_by("last_name", "first_name")
    )
