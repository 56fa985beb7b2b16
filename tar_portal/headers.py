"""Response headers every page needs (issue 12).

- `Cache-Control: no-store` (Django's never-cache set) on every API response and on every
  page shown to a signed-in user: PHI must not stay in a browser, proxy or shared-computer
  cache, nor come back with the Back button after sign-out.
- `Permissions-Policy`: the portal uses no camera, microphone, location, payment or USB.

HSTS, Referrer-Policy, nosniff and COOP come from Django's SecurityMiddleware settings, the
Content-Security-Policy from django-csp (tar_portal/settings/base.py).
"""

from django.utils.cache import add_never_cache_headers

PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "browsing-topics=(), interest-cohort=()"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if (signed_in or request.path_info.startswith("/api/")) and "no-store" not in (
            response.get("Cache-Control", "")
        ):
            add_never_cache_headers(response)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
