"""Who is calling the FHIR API, and for which provider organization (PRODUCT §11).

A caller is a provider-office user holding one of the project's API tokens (knox,
accounts/tokens.py), sent the FHIR way as `Authorization: Bearer <token>`; the token's user
belongs to one provider organization, which is the only one whose requests the caller sees
(authorizations.selectors.tar_scope_q, as for the REST API). SMART Backend Services clients
(fhir.smart / fhir.oauth) add their authentication class to `AUTHENTICATION_CLASSES`; each
such client acts as a user bound to one organization, so `caller_organization` serves both.
"""

from __future__ import annotations

from knox.auth import TokenAuthentication
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework.request import Request

from accounts.models import Role, User
from authorizations.models import ProviderOrganization
from fhir.smart import SmartAccess, SmartAccessTokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """The knox API token under the FHIR/OAuth header name (RFC 6750 `Bearer`)."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None  # another scheme: another authentication class may know it
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send 'Authorization: Bearer <token>'.")
        try:
            return self.authenticate_credentials(parts[1])
        except exceptions.AuthenticationFailed:
            # A token knox does not know may be a SMART access token (fhir.smart).
            return None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="fhir"'


# API tokens, then SMART Backend Services access tokens (fhir.smart).
AUTHENTICATION_CLASSES: list[type] = [BearerTokenAuthentication, SmartAccessTokenAuthentication]


def caller_organization(request: Request, *, scope: str | None = None) -> ProviderOrganization:
    """The provider organization the caller acts for; 403 for anyone else. Plan staff work
    requests in the portal, members see theirs there: the PAS API is the provider's face.
    A SMART access token must also carry `scope` (403 insufficient scope otherwise)."""
    auth = request.auth
    if isinstance(auth, SmartAccess) and scope is not None and scope not in auth.scopes:
        raise exceptions.PermissionDenied(f"This needs the SMART scope {scope}.")
    user: User = request.user
    if not user.is_authenticated:
        raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <token>'.")
    if user.role != Role.PROVIDER or user.organization_id is None:
        raise exceptions.PermissionDenied(
            "The prior-authorization API is for provider organizations."
        )
    assert user.organization is not None
    return user.organization
