"""Reads for the portal pages. Requests always come through `authorizations.selectors`, which
scope them by the caller; this module only adds what a page needs on top (prefetches, the
caller's own drafts, the notices a role may see)."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    BigIntegerField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)

from accounts.models import PLAN_STAFF_ROLES, Role, User
from appeals import selectors as appeal_selectors
from appeals.models import Appeal
from authorizations import selectors
from authorizations.models import (
    DECIDED_STATUSES,
    HistoryEntry,
    InformationRequest,
    Provider,
    ProviderOrganization,
    Referral,
    ReferralStatus,
    ServiceLine,
    Tar,
    TarStatus,
)
from members.models import Member
from members.validators import CIN_RE
from notifications import selectors as notification_selectors
from notifications.models import Audience, Notice
from portal import presentation
from portal.models import TarDraft
from tar_portal.errors import DomainError, ErrorCode
from tar_portal.pagination import capped_count

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


# --- the provider dashboard: tabs with counts, search (issue 15) ---------------------------


@dataclass(frozen=True)
class ProviderTab:
    key: str
    label: str
    statuses: tuple[str, ...]  # empty: every request (or, for "appeals", the appeals)


PROVIDER_TABS = (
    ProviderTab("all", "All requests", ()),
    # A pended request waits for what the nurse asked the office for (PRODUCT §8): the
    # office's move, while the decision clock runs on.
    ProviderTab("action", "Needs your action", (TarStatus.PENDED,)),
    ProviderTab(
        "review", "In review", (TarStatus.SUBMITTED, TarStatus.IN_REVIEW, TarStatus.REFERRED)
    ),
    ProviderTab("decided", "Decided", (*DECIDED_STATUSES, TarStatus.WITHDRAWN)),
    ProviderTab("appeals", "Appeals", ()),
)
PROVIDER_TAB_KEYS = {tab.key: tab for tab in PROVIDER_TABS}


def provider_dashboard(*, user: User, tab: str = "all", search: Q | None = None) -> QuerySet[Tar]:
    """The organization's requests of one tab, newest first, matching the search (a TAR
    number, CIN, NPI, member or organization name: `queue_search_q`, built once per page
    view, as it looks the members up). Paged by the caller
    over `selectors.tar_scope_branches`: each organization role walks its own index
    (tar_req_org_*, tar_srv_org_*; the open tabs their partial ones)."""
    qs = selectors.tar_list(user=user).filter(search or Q())
    statuses = PROVIDER_TAB_KEYS[tab].statuses if tab in PROVIDER_TAB_KEYS else ()
    if statuses:
        qs = qs.filter(status__in=statuses)
    return qs.prefetch_related(open_requests_prefetch())


def provider_appeals(*, user: User, search: Q | None = None) -> QuerySet[Appeal]:
    """The organization's appeals, newest first; the search matches the request's number,
    the member's CIN or name."""
    qs = appeal_selectors.appeal_list(user=user).order_by("-received_at", "-id")
    if search:
        tars = selectors.tar_list(user=user).filter(search).order_by()
        qs = qs.filter(tar_id__in=tars.values("pk"))
    return qs


def provider_tab_parts(*, user: User, tab: str, search: Q | None = None) -> list[QuerySet[Tar]]:
    """The disjoint streams a tab's page and count walk, each along an index of its own
    (tar_portal.pagination.keyset_slice `parts`): the organization's two roles
    (`selectors.tar_scope_branches`, each without the other's OR), and for the open tabs
    each status apart, so that each stream is one range of tar_req_org_open_idx /
    tar_srv_org_open_idx in received order that stops at the page or the cap. A status rare
    in the organization (pended) was otherwise found through a bitmap of all its requests
    (230 ms at 1,000,000 TARs), and the OR kept the capped counts off index-only scans."""
    tab_ = PROVIDER_TAB_KEYS.get(tab, PROVIDER_TABS[0])
    roles = len(selectors.tar_scope_branches(user) or [])
    search_q = search or Q()
    parts: list[QuerySet[Tar]] = []
    for role in range(roles):
        part = selectors.tar_list(user=user, branch=role).filter(search_q).prefetch_related(None)
        if not tab_.statuses:
            parts.append(part)
        elif tab_.key == "decided":  # most of the history: the organization index serves it
            parts.append(part.filter(status__in=tab_.statuses))
        else:
            parts.extend(part.filter(status=status) for status in tab_.statuses)
    return parts


def provider_tab_counts(*, user: User, search: Q | None = None) -> dict[str, tuple[int, bool]]:
    """{tab: (count up to COUNT_CAP, more than that)}: each counted along the tab's own
    streams (`provider_tab_parts`) and stopped at the cap, so the tabs cost the same at a
    million requests as at a thousand. One query per stream."""
    counts: dict[str, tuple[int, bool]] = {}
    for tab in PROVIDER_TABS:
        if tab.key == "appeals":
            counts[tab.key] = capped_count([provider_appeals(user=user, search=search)])
            continue
        parts = provider_tab_parts(user=user, tab=tab.key, search=search)
        counts[tab.key] = capped_count(parts, ordered=True)
    return counts


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


# --- the review queues: search, sort, saved views, keyset pages ----------------------------

QUEUE_PAGE_SIZE = 25
# A count is shown up to this many; beyond it the page says "more than 200" (counting every
# open request of a million-row table on each page view is what made lists slow; exact
# figures are the reports' job).
QUEUE_COUNT_CAP = 200
# Sort keys offered by the column headers: (label, model field). `id` breaks ties, so every
# key with its direction is a total order the keyset cursor can resume from.
QUEUE_SORTS = {
    "due": "decision_due_at",  # index (status, decision_due_at)
    "received": "received_at",  # index (status, received_at, id): the age column
}
QUEUE_DEFAULT_SORT = "due"  # the soonest decision deadline first (PRODUCT §4)
TAR_NUMBER_RE = re.compile(r"^(?:TAR-)?(\d{4})-(\d{1,6})$")
NPI_RE = re.compile(r"^\d{10}$")
SEARCH_INLINE_IDS = 2000


class QueueError(ValueError):
    """A query parameter of the queue page that cannot be used (a stale cursor, an unknown
    sort): the page says so in words and shows the first page instead."""


class SearchTooBroad(QueueError):
    """A name search that matches too many members to look up their requests by id."""


@dataclass(frozen=True)
class QueuePage:
    rows: list[Tar]
    count: int
    count_capped: bool
    next_cursor: str
    sort: str
    descending: bool


def queue_search_q(text: str) -> Q:
    """One search box: a TAR number, a CIN or an NPI matches exactly; any other words match
    the member's name (every word, first or last name) or an organization's name. Each kind
    is an indexed look-up on a small table first, so the TAR table is only filtered by ids."""
    text = " ".join((text or "").split())
    upper = text.upper()
    if not text:
        return Q()
    if match := TAR_NUMBER_RE.match(upper):
        return Q(number=f"TAR-{match[1]}-{int(match[2]):06d}")
    if CIN_RE.match(upper):
        return Q(member_id__in=Member.objects.filter(cin=upper).values("pk"))
    if NPI_RE.match(text):
        providers = Provider.objects.filter(npi=text).values("pk")
        return Q(requesting_provider_id__in=providers) | Q(servicing_provider_id__in=providers)
    members = Member.objects.order_by()
    for word in text.split(" "):
        members = members.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    # The small tables are searched first and their ids inlined, so the TAR table is read
    # through its member and organization indexes (a BitmapOr); an `IN (subquery)` OR'd
    # three times made PostgreSQL scan every TAR to count the matches. A word so common
    # that it names more members than SEARCH_INLINE_IDS asks for more of the name.
    member_ids = list(members.values_list("pk", flat=True)[: SEARCH_INLINE_IDS + 1])
    if len(member_ids) > SEARCH_INLINE_IDS:
        raise SearchTooBroad(
            f"More than {SEARCH_INLINE_IDS} members match “{text}”; type more of the name."
        )
    member_q = Q(member_id__in=member_ids)
    organization_ids = list(
        ProviderOrganization.objects.filter(name__icontains=text).values_list("pk", flat=True)
    )
    if not organization_ids:
        return member_q
    return (
        member_q
        | Q(requesting_organization_id__in=organization_ids)
        | Q(servicing_organization_id__in=organization_ids)
    )


def _cursor_encode(sort: str, descending: bool, value: Any, pk: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([sort, descending, value, pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor_decode(cursor: str, sort: str, descending: bool) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key, desc, value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if key != sort or desc is not descending or not isinstance(pk, int):
            raise QueueError("sort")
        if QUEUE_SORTS[sort].endswith("_at"):
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise QueueError("naive")
            return parsed, pk
        if not isinstance(value, str):
            raise QueueError("value")
        return value, pk
    except QueueError:
        raise
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as exc:
        raise QueueError(str(exc)) from exc


def queue_page(
    *,
    user: User,
    filters: dict[str, Any],
    statuses: list[str],
    search: str = "",
    sort: str = QUEUE_DEFAULT_SORT,
    descending: bool = False,
    cursor: str = "",
    size: int = QUEUE_PAGE_SIZE,
) -> QueuePage:
    """One page of a review queue, resumed after `cursor` (keyset pagination: the same cost
    on the hundredth page as on the first).

    The ids come first, one narrow query per status, each `status = X ORDER BY key, id
    LIMIT n` (an index range scan on (status, decision_due_at)), merged here: PostgreSQL
    cannot read one ordered range for `status IN (...)`, and would otherwise sort every open
    request before the LIMIT. Then the page's rows with their prefetches, as in
    `selectors.tar_list`. Raises QueueError for a sort or cursor it cannot use."""
    if sort not in QUEUE_SORTS:
        raise QueueError("sort")
    field = QUEUE_SORTS[sort]
    after = _cursor_decode(cursor, sort, descending) if cursor else None
    filters = dict(filters)
    family = filters.pop("family", "")
    due_before = filters.pop("due_before", None)
    if filters.get("assigned_to") == "none":
        # "In review" is a claimed request: the kernel's claim sets the assignee with the
        # status and release clears both (authorizations/services/review.py). Reading that
        # status for unclaimed ones would scan all of it to find none.
        statuses = [status for status in statuses if status != TarStatus.IN_REVIEW]
    base = selectors.tar_list(user=user, filters=filters).filter(queue_search_q(search))
    base = base.prefetch_related(None).order_by()
    if due_before is not None:
        # Compared through `+ 0 s`, so the bound is a filter along the (status, due) index
        # rather than a range on the (due, id) index through every decided request.
        base = base.alias(
            due_key=ExpressionWrapper(
                F("decision_due_at") + timedelta(0), output_field=DateTimeField()
            )
        ).filter(due_key__lt=due_before)
    if family:
        # EXISTS, probed row by row along the ordered index, stops at the page's end; the
        # `id IN (every line of the family)` of tar_list hashed 200,000 lines first.
        base = base.filter(Exists(ServiceLine.objects.filter(tar_id=OuterRef("pk"), family=family)))
    # `id + 0`: ties are sorted after reading the (status, key) index in order. With a plain
    # `id` PostgreSQL prefers the (decision_due_at, id) index and filters the status out of
    # every decided row in it (0.9 s at 1,000,000 TARs; bench/bench_queue_page.py).
    tie = ExpressionWrapper(F("id") + 0, output_field=BigIntegerField())
    order = (F(field).desc(), tie.desc()) if descending else (F(field).asc(), tie.asc())
    keyset = Q()
    if after is not None:
        value, pk = after
        # The redundant bound (>= / <=) is what the index range starts from; the OR alone
        # would be a filter over the whole status.
        if descending:
            keyset = Q(**{f"{field}__lte": value}) & (
                Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": pk})
            )
        else:
            keyset = Q(**{f"{field}__gte": value}) & (
                Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": pk})
            )
    parts = [
        base.filter(keyset, status=status).order_by(*order).values_list(field, "id")[: size + 1]
        for status in statuses
    ]
    keys: list[tuple[Any, int]] = []
    if parts:
        union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        keys = sorted(union, reverse=descending)
    more = len(keys) > size
    keys = keys[:size]
    ids = [pk for _, pk in keys]
    rows = (
        list(
            selectors.tar_list(user=user)
            .filter(pk__in=ids)
            .prefetch_related("requesting_organization")
        )
        if ids
        else []
    )
    rows.sort(key=lambda tar: ids.index(tar.pk))
    # The count, capped: `ORDER BY status, key` keeps PostgreSQL on the (status, key) index,
    # stopping at the cap (unordered, it hashed every line of a family, or every TAR).
    counted = (
        base.filter(status__in=statuses)
        .order_by("status", field)
        .values("id")[: QUEUE_COUNT_CAP + 1]
        .count()
    )
    return QueuePage(
        rows=rows,
        count=min(counted, QUEUE_COUNT_CAP),
        count_capped=counted > QUEUE_COUNT_CAP,
        next_cursor=_cursor_encode(sort, descending, *keys[-1]) if more else "",
        sort=sort,
        descending=descending,
    )


def referral_notes(*, user: User, tars: list[Tar]) -> dict[int, str]:
    """The nurse's note of each request's latest referral (internal, staff only: PRODUCT §2),
    for the physician queue. One query for the page."""
    if user.role not in PLAN_STAFF_ROLES or not tars:
        return {}
    notes: dict[int, str] = {}
    entries = (
        HistoryEntry.objects.filter(tar__in=[t.pk for t in tars], to_status=TarStatus.REFERRED)
        .order_by("tar_id", "-at", "-id")
        .values_list("tar_id", "reason")
    )
    for tar_id, reason in entries:
        notes.setdefault(tar_id, reason)
    return notes


def failed_criteria(tar: Tar) -> list[str]:
    """The criteria the evaluation found not met, per line, in the staff's words (from the
    prefetched lines' stored evaluation; no query)."""
    failed: list[str] = []
    for line in tar.lines.all():
        evaluation = line.evaluation or {}
        for criterion in evaluation.get("criteria", []):
            if criterion.get("result") == "not_met":
                set_id, version = evaluation.get("criteria_set"), evaluation.get("version")
                words = presentation.criterion_words(
                    set_id, version, criterion.get("number"), criterion.get("text", "")
                )
                failed.append(
                    f"{presentation.criteria_set_words(set_id)} {criterion.get('number')}: {words}"
                )
    return failed
