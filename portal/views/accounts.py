"""Signing in and out, and the TOTP second step. The lockout rule is
`accounts.services.user_login_check`'s; who must give a code is `accounts.otp.otp_required`,
enforced for every page by `accounts.middleware.SecondFactorMiddleware`."""

from __future__ import annotations

from base64 import b32encode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from accounts.middleware import otp_exempt
from accounts.models import PLAN_STAFF_ROLES, Role
from accounts.otp import (
    otp_device_get,
    otp_enrolment_confirm,
    otp_enrolment_start,
    otp_may_enrol,
    otp_required,
    otp_verify,
)
from accounts.services import user_is_locked, user_login_check, user_record_failed_login
from portal.forms import LoginForm, OtpCodeForm
from portal.views.common import home_url_for, role_required
from tar_portal.errors import DomainError, ErrorCode
from tar_portal.throttles import LOGIN_THROTTLES, throttle_check


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def _second_step_url(request: HttpRequest, name: str) -> str:
    target = _safe_next(request)
    return reverse(name) + ("?" + urlencode({"next": target}) if target else "")


@otp_exempt
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
            if otp_required(user=user):
                # Signed in, but no page but the second step opens until the code is given.
                device = otp_device_get(user=user)
                return redirect(
                    _second_step_url(request, "portal:otp-verify" if device else "portal:otp-enrol")
                )
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


@otp_exempt
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("portal:login")


def _code_refused(request: HttpRequest, form: OtpCodeForm) -> HttpResponse | None:
    """A wrong code counts towards the account's lockout like a wrong password; once that
    locks the account, the half-signed-in session ends."""
    user_record_failed_login(user=request.user)
    request.user.refresh_from_db(fields=["locked_until"])
    if user_is_locked(user=request.user):
        logout(request)
        messages.error(
            request,
            _("Too many failed attempts: this account is locked for %(minutes)s minutes.")
            % {"minutes": settings.LOGIN_LOCKOUT_MINUTES},
        )
        return redirect("portal:login")
    form.add_error("code", _("That code is not right. Enter the code your app shows now."))
    return None


@otp_exempt
@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def otp_verify_view(request: HttpRequest) -> HttpResponse:
    """The second step: the code from the user's authenticator app."""
    if not request.user.is_authenticated:
        return redirect("portal:login")
    device = otp_device_get(user=request.user)
    if device is None:
        if otp_required(user=request.user):
            return redirect(_second_step_url(request, "portal:otp-enrol"))
        return redirect(_safe_next(request) or home_url_for(request.user))
    if request.user.is_verified():
        return redirect(_safe_next(request) or home_url_for(request.user))
    form = OtpCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            verified = otp_verify(user=request.user, token=form.cleaned_data["code"])
            if verified is not None:
                otp_login(request, verified)
                return redirect(_safe_next(request) or home_url_for(request.user))
            locked = _code_refused(request, form)
            if locked is not None:
                return locked
    return render(
        request,
        "registration/otp_verify.html",
        {"form": form, "next": _safe_next(request)},
        status=status,
    )


@otp_exempt
@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def otp_enrol_view(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: its secret, then a first code confirms it. Required for
    the UM manager before any other page; optional for other plan staff (account page)."""
    if not request.user.is_authenticated:
        return redirect("portal:login")
    if not otp_may_enrol(user=request.user):
        raise PermissionDenied
    if otp_device_get(user=request.user) is not None and not request.user.is_verified():
        # Replacing a device takes a code from the current one first: a password alone
        # must not be enough to enrol the attacker's app.
        return redirect(_second_step_url(request, "portal:otp-verify"))
    device = otp_enrolment_start(user=request.user)
    form = OtpCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            confirmed = otp_enrolment_confirm(user=request.user, token=form.cleaned_data["code"])
            if confirmed is not None:
                otp_login(request, confirmed)
                messages.success(request, _("Two-step sign-in is on for your account."))
                return redirect(_safe_next(request) or home_url_for(request.user))
            locked = _code_refused(request, form)
            if locked is not None:
                return locked
    return render(
        request,
        "registration/otp_enrol.html",
        {
            "form": form,
            "next": _safe_next(request),
            "secret": b32encode(device.bin_key).decode(),
            "otpauth_uri": device.config_url,
            "required": request.user.role == Role.MANAGER,
        },
        status=status,
    )


@role_required(*PLAN_STAFF_ROLES)
def account_view(request: HttpRequest) -> HttpResponse:
    """The signed-in staff member's account: whether two-step sign-in is on, and setting it
    up or replacing the authenticator app."""
    device = otp_device_get(user=request.user)
    return render(
        request,
        "portal/account.html",
        {
            "device": device,
            "required": request.user.role == Role.MANAGER,
        },
    )
