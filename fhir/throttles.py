"""Rate limits of the SMART token endpoint (issue 14): per client and per client address.

The project's own throttles (tar_portal.throttles: DRF's scoped throttles counted in the
shared cache, Redis in production, so every web worker shares the count), keyed here by the
client the request names and by its address. Every token request counts, granted or not: a
client assertion costs a signature check (and a JWKS fetch), and a stolen or broken client
should not be able to hammer it. Over the limit: 429 with Retry-After (RFC 6585 §4).
"""

from __future__ import annotations

import base64
import json

from django.conf import settings
from django.http import HttpRequest

from tar_portal.throttles import _ScopedThrottle

# Defaults when the settings name no rate (tar_portal.settings: TAR_THROTTLE_RATES).
DEFAULT_RATES = {"fhir_token_client": "30/min", "fhir_token_address": "120/min"}


class _TokenThrottle(_ScopedThrottle):
    def get_rate(self) -> str | None:
        return settings.TAR_THROTTLE_RATES.get(self.scope) or DEFAULT_RATES[self.scope]


def requested_client_id(request: HttpRequest) -> str:
    """The client the token request names: `client_id`, else the unverified `sub` (or `iss`)
    of the client assertion. Only a counting key: the assertion is verified by fhir.smart."""
    client_id = request.POST.get("client_id") or ""
    if not client_id:
        assertion = request.POST.get("client_assertion") or ""
        parts = assertion.split(".")
        if len(parts) == 3:
            try:
                padded = parts[1] + "=" * (-len(parts[1]) % 4)
                claims = json.loads(base64.urlsafe_b64decode(padded.encode()))
            except (ValueError, UnicodeDecodeError):
                claims = {}
            if isinstance(claims, dict):
                client_id = str(claims.get("sub") or claims.get("iss") or "")
    return client_id.strip()[:64]


class TokenClientThrottle(_TokenThrottle):
    scope = "fhir_token_client"

    def get_cache_key(self, request, view) -> str | None:
        client_id = requested_client_id(request)
        return self._key(client_id) if client_id else None  # the address limit still applies


class TokenAddressThrottle(_TokenThrottle):
    scope = "fhir_token_address"

    def get_cache_key(self, request, view) -> str | None:
        return self._key(self.get_ident(request))


TOKEN_THROTTLES = [TokenClientThrottle, TokenAddressThrottle]
