"""What every portal view shares: role checks, turning domain errors into pages, paging."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse

from accounts.models import PLAN_STAFF_ROLES, Role, User
from authorizations import selectors
from authorizations.models import Tar
from tar_portal.errors import DomainError, ErrorCode
from tar_portal.pagination import keyset_slice

PAGE_SIZE = 25
CURSOR_PARAM = "cursor"


def role_required(*roles: str) -> Callable:
    """Signed in (else the login page) and one of `roles` (else 403)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_role(*roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def tar_or_404(user: User, tar_id: int) -> Tar:
    """The scoped request; one another user may not see is simply not found (404)."""
    try:
        return selectors.tar_get(user=user, tar_id=tar_id)
    except DomainError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise Http404 from exc
        raise


def not_found_to_404(exc: DomainError) -> None:
    if exc.code == ErrorCode.NOT_FOUND:
        raise Http404 from exc


def error_status(exc: DomainError) -> int:
    """The HTTP status a page re-rendered with this error is sent with."""
    return exc.http_status if exc.http_status < 500 else 400


def field_errors_to_form(
    form, exc: DomainError, mapping: dict[str, str] | None = None, skip: tuple[str, ...] = ()
) -> None:
    """Attach a DomainError's field messages to the matching form fields (or the form)."""
    mapping = mapping or {}
    for key, messages in exc.fields.items():
        if skip and key.startswith(skip):
            continue
        name = mapping.get(key, key)
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)


@dataclass
class ListPage:
    """One keyset page of a portal list (tar_portal.pagination.keyset_slice): the rows, the
    total counted up to COUNT_CAP ("1,000+" beyond), and the query strings of the pages
    after and before it. Reading page 400 costs what page 1 does, and no page counts the
    whole history (issue 16)."""

    object_list: list
    count: int
    count_capped: bool
    next_query: str = ""
    previous_query: str = ""
    # A cursor from an old link that this list cannot resume from: the first page is shown.
    cursor_refused: bool = False

    @property
    def has_next(self) -> bool:
        return bool(self.next_query)

    @property
    def has_previous(self) -> bool:
        return bool(self.previous_query)

    @property
    def count_label(self) -> str:
        return f"{self.count:,}+" if self.count_capped else f"{self.count:,}"


def paginate(
    request: HttpRequest,
    queryset,
    per_page: int = PAGE_SIZE,
    *,
    branches: list[Q] | None = None,
    parts: list | None = None,
    ids_first: bool = False,
    count: bool = True,
) -> ListPage:
    """The page of `queryset` (in its own ordering) at the request's `?cursor=`."""
    cursor = request.GET.get(CURSOR_PARAM) or None
    refused = False
    try:
        page = keyset_slice(
            queryset,
            cursor=cursor,
            size=per_page,
            branches=branches,
            parts=parts,
            ids_first=ids_first,
            count=count,
        )
    except DomainError:
        refused = True
        page = keyset_slice(
            queryset,
            cursor=None,
            size=per_page,
            branches=branches,
            parts=parts,
            ids_first=ids_first,
            count=count,
        )
    query = request.GET.copy()
    for name in (CURSOR_PARAM, "page"):
        query.pop(name, None)

    def link(position: str | None) -> str:
        if not position:
            return ""
        query[CURSOR_PARAM] = position
        return query.urlencode()

    return ListPage(
        object_list=page.rows,
        count=page.count,
        count_capped=page.count_capped,
        next_query=link(page.next_cursor),
        previous_query=link(page.previous_cursor),
        cursor_refused=refused,
    )


def paginate_rows(
    request: HttpRequest,
    queryset,
    per_page: int = PAGE_SIZE,
    *,
    branches: list[Q] | None = None,
    parts: list | None = None,
    count: bool = True,
) -> ListPage:
    """`paginate` in two steps: the page's keys first (a narrow walk of the ordering's
    index), then its rows with their joins and prefetches. Joining every open request
    before the sort and the LIMIT made the queue slow on a full table."""
    return paginate(
        request, queryset, per_page, branches=branches, parts=parts, ids_first=True, count=count
    )


def home_url_for(user: User) -> str:
    """Where each role starts after signing in."""
    role_home = {
        Role.PROVIDER: "portal:provider-dashboard",
        Role.NURSE: "portal:review-queue",
        # The UM manager's home is the program dashboard (reports app; PRODUCT §10).
        Role.MANAGER: "reports:dashboard",
        Role.PHYSICIAN: "portal:physician-queue",
        Role.MEMBER: "portal:member-home",
        Role.INTAKE: "portal:intake-home",
        Role.MEMBER_SERVICES: "portal:member-services-home",
        Role.GRIEVANCE_COORDINATOR: "portal:grievances",
    }
    name = role_home.get(user.role)
    return reverse(name) if name else reverse("portal:home")


_TAR_PAGES = {
    Role.PROVIDER: "portal:provider-tar",
    Role.MEMBER: "portal:member-tar",
    Role.PHYSICIAN: "portal:physician-tar",
    Role.INTAKE: "portal:intake-tar",
    Role.MEMBER_SERVICES: "portal:member-services-tar",
}


def tar_url_for(user: User, tar: Tar | int) -> str:
    tar_id = tar if isinstance(tar, int) else tar.pk
    name = _TAR_PAGES.get(user.role)
    if name is None and user.role in PLAN_STAFF_ROLES:
        name = "portal:review-tar"
    if name is None:
        raise Http404
    head, tail = _tar_url_parts(name, get_script_prefix())
    return f"{head}{int(tar_id)}{tail}"


@lru_cache(maxsize=64)
def _tar_url_parts(name: str, script_prefix: str) -> tuple[str, str]:
    """The URL of a request page around its id, reversed once per page and prefix: a queue or
    list draws one link per row, and reverse() walks the URL patterns every time."""
    url = reverse(name, args=[_URL_ID])
    head, _, tail = url.partition(str(_URL_ID))
    return head, tail


_URL_ID = 987654321987


def home(request: HttpRequest) -> HttpResponse:
    """The start page: signed-in users go to their role's home; others see how to sign in."""
    if request.user.is_authenticated:
        target = home_url_for(request.user)
        if target != reverse("portal:home"):
            return redirect(target)
    return render(request, "home.html")


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, template, context, status=status)
