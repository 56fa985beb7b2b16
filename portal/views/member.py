"""Member pages, in English or Spanish: their own requests, notices, and asking for a copy of
the criteria used in a decision."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from authorizations import selectors
from authorizations.models import Tar
from notifications.services import criteria_copy_on_its_way, criteria_copy_request
from portal import selectors as portal_selectors
from portal.templatetags.portal import pacific_date
from portal.views.casework import appeals_context
from portal.views.common import (
    not_found_to_404,
    paginate_rows,
    render_page,
    role_required,
    tar_or_404,
)
from tar_portal.errors import DomainError


def member_pages(view: Callable) -> Callable:
    """Members only; pages in the member's written language unless they chose another one
    with the language switch (which sets the language cookie)."""

    @role_required(Role.MEMBER)
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            language = request.user.member.written_language
            if language in dict(settings.LANGUAGES):
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return view(request, *args, **kwargs)

    return wrapped


@member_pages
def home(request: HttpRequest) -> HttpResponse:
    page = paginate_rows(request, selectors.tar_list(user=request.user))
    return render_page(
        request, "portal/member/home.html", {"page": page, "member": request.user.member}
    )


def _render_tar(request: HttpRequest, tar: Tar, status: int = 200) -> HttpResponse:
    letters = portal_selectors.letter_list(user=request.user, tar=tar)
    return render_page(
        request,
        "portal/member/tar.html",
        {
            "tar": tar,
            "decision": tar.decisions.all().last(),
            "notices": portal_selectors.notice_list(user=request.user, tar=tar),
            "letters": letters,
            "can_request_criteria": bool(tar.decisions.all()),
            # Issue 15: one copy at a time; a copy still being mailed is shown, not re-sent.
            "criteria_copy_on_its_way": criteria_copy_on_its_way(tar=tar, requested_for="member"),
            # The member's appeals with their resolution letters (portal/views/casework).
            **appeals_context(request, tar, letters),
        },
        status=status,
    )


@member_pages
def tar_detail(request: HttpRequest, tar_id: int) -> HttpResponse:
    return _render_tar(request, tar_or_404(request.user, tar_id))


@member_pages
@require_POST
def criteria_copy(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    pending = criteria_copy_on_its_way(tar=tar, requested_for="member", user=request.user)
    if pending is not None:
        messages.info(request, _already_on_its_way(pending.requested_at))
        return redirect("portal:member-tar", tar_id=tar.pk)
    try:
        criteria_copy_request(tar_id=tar.pk, user=request.user, requested_for="member")
    except DomainError as exc:
        not_found_to_404(exc)
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Thank you. We will send you a free copy of the criteria used in this decision."),
        )
    return redirect("portal:member-tar", tar_id=tar.pk)


def _already_on_its_way(requested_at) -> str:
    return _("A copy of the criteria is already on its way: you asked for it on %(date)s.") % {
        "date": pacific_date(requested_at)
    }
