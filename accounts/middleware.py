import time

from django.conf import settings
from django.contrib.auth import logout

from accounts.models import PLAN_STAFF_ROLES

_KEY = "last_activity"


class StaffSessionTimeoutMiddleware:
    """Plan staff see PHI all day: their browser sessions end after a period of inactivity."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.role in PLAN_STAFF_ROLES:
            now = time.time()
            last = request.session.get(_KEY)
            if last is not None and now - last > settings.STAFF_SESSION_IDLE_MINUTES * 60:
                logout(request)
                request.session["timed_out"] = True
            else:
                request.session[_KEY] = now
        return self.get_response(request)
