"""Rate limits for the guessable doors: member lookups and logins (issue 12).

DRF's scoped throttles, counted in the configured cache (Redis when REDIS_URL is set, so
every web worker shares the count; local memory otherwise). Each door is limited twice: per
account (the signed-in user, or the username being tried) and per client address. Rates are
read from `settings.TAR_THROTTLE_RATES` on each request, so they are configured in one place.

The same classes guard the browser login view (`throttle_check`), which is not a DRF view.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _ScopedThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return settings.TAR_THROTTLE_RATES.get(self.scope)

    def _key(self, ident: str) -> str:
        return self.cache_format % {"scope": self.scope, "ident": ident}


class MemberLookupUserThrottle(_ScopedThrottle):
    scope = "member_lookup_user"

    def get_cache_key(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self._key(self.get_ident(request))
        return self._key(str(user.pk))


class MemberLookupAddressThrottle(_ScopedThrottle):
    scope = "member_lookup_address"

    def get_cache_key(self, request, view) -> str | None:
        return self._key(self.get_ident(request))


class LoginAddressThrottle(_ScopedThrottle):
    scope = "login_address"

    def get_cache_key(self, request, view) -> str | None:
        return self._key(self.get_ident(request))


class LoginUsernameThrottle(_ScopedThrottle):
    """Per username tried, known or not: guessing one account's password from many addresses
    is slowed down as much as from one."""

    scope = "login_username"

    def get_cache_key(self, request, view) -> str | None:
        data = getattr(request, "data", None)
        if data is None:
            data = request.POST
        username = data.get("username") if hasattr(data, "get") else None
        if not isinstance(username, str) or not username.strip():
            return None  # nothing to count; the address limit still applies
        return self._key(username.strip().lower()[:150])


MEMBER_LOOKUP_THROTTLES = [MemberLookupUserThrottle, MemberLookupAddressThrottle]
LOGIN_THROTTLES = [LoginUsernameThrottle, LoginAddressThrottle]


def throttle_check(request, classes) -> float | None:
    """For non-DRF views: None when allowed, else the seconds to wait."""
    waits = []
    for cls in classes:
        throttle = cls()
        if not throttle.allow_request(request, None):
            waits.append(throttle.wait() or 1.0)
    return max(waits) if waits else None
