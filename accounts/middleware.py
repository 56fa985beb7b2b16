import time

from django.conf import settings
from django.contrib.auth import logout

from accounts.models import PLAN_STAFF_ROLES

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
