"""Signing in and out. The lockout rule is `accounts.services.user_login_check`'s."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.services import user_login_check
from portal.forms import LoginForm
from portal.views.common import home_url_for
from tar_portal.errors import DomainError, ErrorCode
from tar_portal.throttles import LOGIN_THROTTLES, throttle_check


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    # The staff session-timeout middleware leaves this flag in the new, anonymous session.
    timed_out = bool(request.session.pop("timed_out", False))
    if request.user.is_authenticated and request.method == "GET":
        return redirect(home_url_for(request.user))
    form = LoginForm(request.POST or None)
    error = None
    status = 200
    if request.method == "POST" and throttle_check(request, LOGIN_THROTTLES) is not None:
        error = _("Too many sign-in attempts in a short time. Wait a minute and try again.")
        status = 429
    elif request.method == "POST" and form.is_valid():
        try:
            user = user_login_check(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except DomainError as exc:
            error = _(
                "Too many failed attempts: this account is locked for %(minutes)s minutes."
            ) % {"minutes": settings.LOGIN_LOCKOUT_MINUTES}
            if exc.code != ErrorCode.LOCKED:
                error = _("Wrong username or password.")
            status = 429 if exc.code == ErrorCode.LOCKED else 400
        else:
            login(request, user)
            response = redirect(_safe_next(request) or home_url_for(user))
            if user.role == Role.MEMBER and user.member_id:
                # Members read their pages in their preferred written language (PRODUCT §3).
                language = user.member.written_language
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    language,
                    samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                    secure=settings.LANGUAGE_COOKIE_SECURE,
                    httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                )
                translation.activate(language)
            return response
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "registration/login.html",
        {
            "form": form,
            "error": error,
            "timed_out": timed_out,
            "next": _safe_next(request),
            "max_failures": settings.LOGIN_MAX_FAILURES,
            "lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES,
        },
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("portal:login")
