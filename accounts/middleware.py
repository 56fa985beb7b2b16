import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from accounts.models import PLAN_STAFF_ROLES
from accounts.otp import otp_device_get, otp_required
from tar_portal.errors import DomainError, ErrorCode

_KEY = "last_activity"
_STARTED = "session_started"


def idle_limit_seconds(role: str) -> int:
    """Plan staff see every member's PHI: 15 minutes idle. Providers and members: 30."""
    if role in PLAN_STAFF_ROLES:
        return settings.STAFF_SESSION_IDLE_MINUTES * 60
    return settings.SESSION_IDLE_MINUTES * 60


class SessionTimeoutMiddleware:
    """Every browser session ends after a period of inactivity (by role) and, however
    active, after SESSION_ABSOLUTE_HOURS from sign-in (issue 12). The login page then says
    that the session timed out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last = request.session.get(_KEY)
            started = request.session.setdefault(_STARTED, now)
            idle = last is not None and now - last > idle_limit_seconds(user.role)
            too_old = now - started > settings.SESSION_ABSOLUTE_HOURS * 3600
            if idle or too_old:
                logout(request)
                request.session["timed_out"] = True
            else:
                request.session[_KEY] = now
        return self.get_response(request)


def otp_exempt(view):
    """Mark a view a half-signed-in user may reach: sign-in, sign-out and the second step
    itself (portal.views.accounts). Like csrf_exempt, it is an attribute on the view."""
    view.otp_exempt = True
    return view


class SecondFactorMiddleware:
    """The one place the TOTP second factor is enforced (accounts.otp): a signed-in user who
    must give a code and has not this session reaches no page but the exempt ones. Pages
    redirect to the code page (or, for a manager without a device, to enrolment); the API,
    which a browser session may also call, answers 403 in the error shape.

    After OTPMiddleware (request.user.is_verified) and after the session timeout."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.role not in PLAN_STAFF_ROLES:
            return None
        if getattr(view_func, "otp_exempt", False) or _is_language_switch(request):
            return None
        if user.is_verified():
            return None
        device = otp_device_get(user=user)
        if not otp_required(user=user, device=device):
            return None
        if request.path_info.startswith("/api/"):
            error = DomainError(
                ErrorCode.PERMISSION_DENIED,
                "Enter the verification code from your authenticator app in the portal first.",
            )
            return JsonResponse(error.as_dict(), status=error.http_status)
        target = reverse("portal:otp-verify" if device else "portal:otp-enrol")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)


def _is_language_switch(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.url_name == "set_language"
