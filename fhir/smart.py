"""SMART Backend Services authorization, issued by the portal itself (PRODUCT §11; HL7 SMART
App Launch 2.x "Backend Services"; RFC 6749 §4.4, RFC 7523, RFC 6750).

A client proves who it is with a JWT it signs with its own private key (`private_key_jwt`,
RS384 or ES384) and the plan checks it against the JWK Set registered for that client (inline
in the admin, or published at its `jwks_uri`). The signature and claims are checked with
joserfc, a maintained, typed library of the JOSE RFCs only: this module needs to verify
JWTs and nothing of an OAuth framework's request plumbing or storage, which authlib (same
author) would add around the same code.

What is refused, each with an OAuth error body, never a 500:
- an unknown or inactive client, a signature that does not verify with the client's keys, an
  algorithm other than RS384/ES384, iss or sub not the client id, aud not this token
  endpoint, a missing or past exp or one more than five minutes ahead, a reused jti
  → 401 `invalid_client` (RFC 6749 §5.2);
- a scope the client was not granted → 400 `invalid_scope`.

Access tokens are opaque random strings, stored as their SHA-256 digest, valid for
FHIR_ACCESS_TOKEN_SECONDS (five minutes by default, as SMART recommends), and die with their
client. The client acts as its service account, a provider user of its one organization, so
every read and write goes through the same scoping as a provider user's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from knox.auth import TokenAuthentication
from rest_framework import exceptions as drf_exceptions
from rest_framework.authentication import BaseAuthentication

from accounts.models import Role, User
from authorizations.models import ProviderOrganization
from fhir.auth_models import AccessToken, AssertionUse, SmartClient, SmartScope

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

__all__ = [
    "ASSERTION_ALGORITHMS",
    "ASSERTION_TYPE",
    "TOKEN_PREFIX",
    "Caller",
    "SmartAccess",
    "SmartAccessTokenAuthentication",
    "SmartError",
    "access_for_request",
    "caller_for",
    "cds_caller",
    "client_register",
    "organization_for_access_token",
    "require_scope",
    "smart_configuration",
    "token_issue",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# SMART Backend Services: the server SHALL support RS384 and ES384, and these are the only ones.
ASSERTION_ALGORITHMS = ("RS384", "ES384")
# SMART: exp no more than five minutes after the assertion is made.
MAX_ASSERTION_LIFETIME = timedelta(minutes=5)
CLOCK_LEEWAY = timedelta(seconds=30)
TOKEN_PREFIX = "tarsmart_"  # noqa: S105 (a prefix, not a secret)
JWKS_CACHE_SECONDS = 300
JWKS_FETCH_TIMEOUT = 5
_SUBSCRIPTION_ALL = "system/Subscription.*"
_SUBSCRIPTION_PAIR = (SmartScope.SUBSCRIPTION_READ.value, SmartScope.SUBSCRIPTION_WRITE.value)


class SmartError(Exception):
    """An OAuth error: `error` from RFC 6749 §5.2 / RFC 6750 §3.1, a description without PHI."""

    def __init__(self, error: str, description: str, status: int) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def as_dict(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def _invalid_client(description: str) -> SmartError:
    return SmartError("invalid_client", description, 401)


def token_seconds() -> int:
    return int(getattr(settings, "FHIR_ACCESS_TOKEN_SECONDS", 300))


# ---------------------------------------------------------------------------------------------
# Registration (the admin calls this)


@transaction.atomic
def client_register(
    *,
    name: str,
    organization: ProviderOrganization,
    jwks: Mapping[str, Any] | None = None,
    jwks_uri: str = "",
    scopes: list[str] | None = None,
    cds_issuer: str = "",
) -> SmartClient:
    """A new client of one organization, with its provider-role service account."""
    if jwks:
        jwks_check(jwks)
    client_id = secrets.token_urlsafe(18)
    user = User(
        username=f"smart-{client_id}"[:150],
        role=Role.PROVIDER,
        organization=organization,
        first_name=name[:150],
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    client = SmartClient(
        client_id=client_id,
        name=name,
        organization=organization,
        service_user=user,
        jwks=dict(jwks or {}),
        jwks_uri=jwks_uri,
        scopes=list(scopes) if scopes is not None else [s.value for s in SmartScope],
        cds_issuer=cds_issuer,
    )
    client.full_clean()
    client.save()
    return client


def jwks_check(jwks: Any) -> KeySet:
    """The JWK Set as joserfc keys; ValueError with a plain message when it is not one, or
    holds a private key (a client registers its public keys only)."""
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise ValueError('A JWK Set is an object with a "keys" list.')
    for key in jwks["keys"]:
        if not isinstance(key, Mapping) or key.get("kty") not in ("RSA", "EC"):
            raise ValueError("Each key must be an RSA or EC public key (RS384 or ES384).")
        if "d" in key:
            raise ValueError("Register the public key only: this key has its private part.")
    # joserfc (and the cryptography backend under it, ~12 MB) is imported where a JWT or a
    # JWK Set is read, not in every web worker at start: most workers never see one.
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    try:
        return KeySet.import_key_set(dict(jwks))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as exc:
        raise ValueError(f"The JWK Set cannot be read ({type(exc).__name__}).") from None


# ---------------------------------------------------------------------------------------------
# The token endpoint


def _unverified_claims(assertion: str) -> dict[str, Any]:
    """The claims, read only to find the client whose keys then verify the signature."""
    parts = assertion.split(".")
    if len(parts) != 3:
        raise _invalid_client("client_assertion is not a signed JWT (compact JWS).")
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError):
        raise _invalid_client("client_assertion cannot be decoded.") from None
    if not isinstance(claims, dict):
        raise _invalid_client("client_assertion's payload is not a JSON object.")
    return claims


def _client_keys(client: SmartClient) -> KeySet:
    if client.jwks and client.jwks.get("keys"):
        try:
            return jwks_check(client.jwks)
        except ValueError:
            raise _invalid_client("The client's registered JWK Set cannot be read.") from None
    if client.jwks_uri:
        return _fetch_jwks(client.jwks_uri)
    raise _invalid_client("The client has no registered keys.")


def _fetch_jwks(uri: str) -> KeySet:
    """The client's published JWK Set, cached for a few minutes."""
    allow_http = getattr(settings, "FHIR_ALLOW_HTTP_ENDPOINTS", False)
    if not uri.startswith("https://") and not (allow_http and uri.startswith("http://")):
        raise _invalid_client("The client's jwks_uri must use https.")
    key = "fhir:jwks:" + hashlib.sha256(uri.encode()).hexdigest()
    body = cache.get(key)
    if body is None:
        try:
            response = requests.get(uri, timeout=JWKS_FETCH_TIMEOUT, allow_redirects=False)
            response.raise_for_status()
            body = response.json()
        except (requests.RequestException, ValueError):
            raise _invalid_client("The client's jwks_uri could not be read.") from None
        cache.set(key, body, JWKS_CACHE_SECONDS)
    try:
        return jwks_check(body)
    except ValueError:
        raise _invalid_client("The client's jwks_uri does not hold a JWK Set.") from None


def _granted_scopes(requested: str, client: SmartClient) -> list[str]:
    if not requested.strip():
        raise SmartError("invalid_scope", "scope is required (e.g. system/Claim.write).", 400)
    wanted: list[str] = []
    for scope in requested.split():
        for one in _SUBSCRIPTION_PAIR if scope == _SUBSCRIPTION_ALL else (scope,):
            if one not in wanted:
                wanted.append(one)
    known = {s.value for s in SmartScope}
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise SmartError(
            "invalid_scope", f"Unknown scope: {unknown[0]}. Served: {' '.join(known)}.", 400
        )
    refused = [s for s in wanted if s not in client.scopes]
    if refused:
        raise SmartError("invalid_scope", f"Scope not granted to this client: {refused[0]}.", 400)
    return wanted


def _epoch(value: Any, name: str) -> datetime:
    if type(value) not in (int, float):
        raise _invalid_client(f"client_assertion needs a numeric {name}.")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise _invalid_client(f"client_assertion's {name} is out of range.") from None


def token_issue(
    *, form: Mapping[str, str], token_urls: tuple[str, ...], now: datetime | None = None
) -> dict[str, Any]:
    """The token response for a client-credentials request (SMART Backend Services), or a
    SmartError. `token_urls` are the addresses of this endpoint an assertion's aud may name."""
    now = now or timezone.now()
    if form.get("grant_type") != "client_credentials":
        raise SmartError("unsupported_grant_type", "grant_type must be client_credentials.", 400)
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise SmartError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}.", 400)
    assertion = form.get("client_assertion") or ""
    if not assertion:
        raise SmartError("invalid_request", "client_assertion is required.", 400)
    if len(assertion) > 16_000:
        raise _invalid_client("client_assertion is too long.")

    claims = _unverified_claims(assertion)
    client_id = claims.get("iss")
    if not isinstance(client_id, str) or not client_id:
        raise _invalid_client("client_assertion needs iss (the client id).")
    client = SmartClient.objects.select_related("service_user").filter(client_id=client_id).first()
    if client is None or not client.is_active or not client.service_user.is_active:
        raise _invalid_client("Unknown or inactive client.")

    from joserfc import jwt  # imported on use: see jwks_check
    from joserfc.errors import JoseError

    try:
        token = jwt.decode(assertion, _client_keys(client), algorithms=list(ASSERTION_ALGORITHMS))
    except JoseError as exc:
        raise _invalid_client(
            f"client_assertion does not verify with the client's keys ({exc.error})."
        ) from None
    except (ValueError, TypeError, KeyError):
        # A key that does not fit the algorithm, a malformed header: the same refusal.
        raise _invalid_client("client_assertion does not verify with the client's keys.") from None
    claims = token.claims
    if token.header.get("alg") not in ASSERTION_ALGORITHMS:
        raise _invalid_client("client_assertion must be signed with RS384 or ES384.")
    if claims.get("sub") != client_id:
        raise _invalid_client("client_assertion's sub must equal iss (the client id).")
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if not any(aud in token_urls for aud in audiences):
        raise _invalid_client("client_assertion's aud must be this token endpoint's URL.")
    expires = _epoch(claims.get("exp"), "exp")
    if expires <= now - CLOCK_LEEWAY:
        raise _invalid_client("client_assertion has expired.")
    if expires > now + MAX_ASSERTION_LIFETIME + CLOCK_LEEWAY:
        raise _invalid_client("client_assertion's exp is more than five minutes ahead.")
    if "nbf" in claims and _epoch(claims["nbf"], "nbf") > now + CLOCK_LEEWAY:
        raise _invalid_client("client_assertion is not valid yet (nbf).")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise _invalid_client("client_assertion needs a jti (at most 255 characters).")

    scopes = _granted_scopes(form.get("scope") or "", client)
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            AssertionUse.objects.filter(expires_at__lt=now - CLOCK_LEEWAY).delete()
            AssertionUse.objects.create(client=client, jti=jti, expires_at=expires)
            AccessToken.objects.filter(expires_at__lt=now).delete()
            AccessToken.objects.create(
                digest=_digest(key),
                client=client,
                scopes=scopes,
                issued_at=now,
                expires_at=now + timedelta(seconds=token_seconds()),
            )
    except IntegrityError:
        raise _invalid_client("client_assertion's jti was already used.") from None
    return {
        "access_token": key,
        "token_type": "bearer",
        "expires_in": token_seconds(),
        "scope": " ".join(scopes),
    }


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# The resource side


@dataclass(frozen=True)
class SmartAccess:
    client: SmartClient
    organization: ProviderOrganization
    user: User  # the client's service account: a provider user of its organization
    scopes: frozenset[str]


def bearer_token(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def access_for_request(request: HttpRequest, *, now: datetime | None = None) -> SmartAccess | None:
    """The SMART access of a request's `Authorization: Bearer` token; None when the request
    carries no SMART token (it may carry an API token). A SMART token that is unknown,
    expired or whose client was deactivated → SmartError 401 invalid_token."""
    key = bearer_token(request)
    if key is None or not key.startswith(TOKEN_PREFIX):
        return None
    now = now or timezone.now()
    token = (
        AccessToken.objects.select_related(
            "client__organization", "client__service_user__organization"
        )
        .filter(digest=_digest(key))
        .first()
    )
    if token is None or token.expires_at <= now:
        raise SmartError("invalid_token", "The access token is unknown or has expired.", 401)
    client = token.client
    if not client.is_active or not client.service_user.is_active:
        raise SmartError("invalid_token", "The access token's client is inactive.", 401)
    return SmartAccess(
        client=client,
        organization=client.organization,
        user=client.service_user,
        scopes=frozenset(token.scopes),
    )


def organization_for_access_token(request: HttpRequest) -> ProviderOrganization | None:
    """For fhir.access: the provider organization a SMART access token acts for, or None when
    the request carries no SMART token. Raises SmartError (401) for a bad SMART token."""
    access = access_for_request(request)
    return None if access is None else access.organization


def require_scope(access: SmartAccess, scope: str) -> None:
    """403 insufficient_scope (RFC 6750 §3.1) unless the token was granted `scope`."""
    if scope not in access.scopes:
        raise SmartError("insufficient_scope", f"This needs the scope {scope}.", 403)


def www_authenticate(error: SmartError) -> str:
    return f'Bearer realm="fhir", error="{error.error}", error_description="{error.description}"'


def smart_configuration(*, token_url: str) -> dict[str, Any]:
    """/.well-known/smart-configuration for backend services (SMART App Launch 2.x §2.5)."""
    return {
        "token_endpoint": token_url,
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "scopes_supported": [s.value for s in SmartScope] + [_SUBSCRIPTION_ALL],
        "capabilities": ["client-confidential-asymmetric", "permission-v1"],
    }


@dataclass(frozen=True)
class Caller:
    """Who calls a FHIR endpoint: a provider user of one organization, through a SMART
    client (`client` set) or an API token of their own."""

    user: User
    organization: ProviderOrganization
    client: SmartClient | None


def caller_for(request: HttpRequest, *, scope: str) -> Caller:
    """The caller of a FHIR endpoint that needs `scope`: a SMART access token granted it, or
    an API token (knox) of a provider user, which carries the user's own rights.
    SmartError 401 without valid credentials; 403 for the wrong scope or a caller who is not
    a provider organization's."""
    access = access_for_request(request)
    if access is not None:
        require_scope(access, scope)
        return Caller(user=access.user, organization=access.organization, client=access.client)
    user = _api_token_user(request)
    if user is None:
        raise SmartError(
            "invalid_token", "Send Authorization: Bearer <access token or API token>.", 401
        )
    if user.role != Role.PROVIDER or user.organization is None:
        raise SmartError(
            "insufficient_scope", "Only a provider organization's callers may do this.", 403
        )
    return Caller(user=user, organization=user.organization, client=None)


# ---------------------------------------------------------------------------------------------
# CDS Hooks: the EHR's signed JWT on every hook call


def _cds_refused(description: str) -> SmartError:
    return SmartError("invalid_token", description, 401)


def _cds_header(token: str) -> dict[str, Any]:
    """The JOSE header, read before verification only to refuse what no key may verify."""
    try:
        padded = token.split(".")[0] + "=" * (-len(token.split(".")[0]) % 4)
        header = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError):
        raise _cds_refused("The hook JWT's header cannot be decoded.") from None
    if not isinstance(header, dict):
        raise _cds_refused("The hook JWT's header is not a JSON object.")
    return header


def cds_caller(
    request: HttpRequest, *, service_urls: tuple[str, ...], now: datetime | None = None
) -> Caller:
    """The registered CDS client behind a hook call (CDS Hooks 2.0 "Trusting CDS Clients"),
    as a Caller of its organization; SmartError 401 otherwise. The EHR sends
    `Authorization: Bearer <JWT>` signed RS384 or ES384 with a key of the client whose
    `cds_issuer` is the JWT's iss, with `kid` in the header; a `jku` is never fetched (only
    pre-registered keys count); aud is the service's URL (`service_urls`); exp at most five
    minutes ahead; iat and jti present, and a jti is refused the second time (the same
    register as SMART assertions' jti, AssertionUse)."""
    now = now or timezone.now()
    token = bearer_token(request)
    if token is None:
        raise _cds_refused("Send Authorization: Bearer <JWT signed by the CDS client>.")
    if len(token) > 16_000 or token.count(".") != 2:
        raise _cds_refused("The hook JWT is not a signed JWT (compact JWS).")
    header = _cds_header(token)
    if header.get("alg") not in ASSERTION_ALGORITHMS:
        raise _cds_refused("The hook JWT must be signed with RS384 or ES384.")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise _cds_refused("The hook JWT's header needs the kid of a registered key.")
    try:
        issuer = _unverified_claims(token).get("iss")
    except SmartError:
        raise _cds_refused("The hook JWT's claims cannot be decoded.") from None
    if not isinstance(issuer, str) or not issuer:
        raise _cds_refused("The hook JWT needs iss (the CDS client's identifier).")
    client = (
        SmartClient.objects.select_related("organization", "service_user__organization")
        .filter(cds_issuer=issuer)
        .first()
    )
    if client is None or not client.is_active or not client.service_user.is_active:
        raise _cds_refused("Unknown or inactive CDS client.")
    try:
        keys = _client_keys(client)
    except SmartError as exc:
        raise _cds_refused(exc.description) from None

    from joserfc import jwt  # imported on use: see jwks_check
    from joserfc.errors import JoseError

    try:
        verified = jwt.decode(token, keys, algorithms=list(ASSERTION_ALGORITHMS))
    except JoseError as exc:
        raise _cds_refused(
            f"The hook JWT does not verify with the client's keys ({exc.error})."
        ) from None
    except (ValueError, TypeError, KeyError):
        # No registered key with this kid, or a key that does not fit the algorithm.
        raise _cds_refused("The hook JWT does not verify with the client's keys.") from None
    claims = verified.claims
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if not any(aud in service_urls for aud in audiences):
        raise _cds_refused("The hook JWT's aud must be this CDS service's URL.")
    try:
        expires = _epoch(claims.get("exp"), "exp")
        _epoch(claims.get("iat"), "iat")
    except SmartError as exc:
        raise _cds_refused(exc.description.replace("client_assertion", "The hook JWT")) from None
    if expires <= now - CLOCK_LEEWAY:
        raise _cds_refused("The hook JWT has expired.")
    if expires > now + MAX_ASSERTION_LIFETIME + CLOCK_LEEWAY:
        raise _cds_refused("The hook JWT's exp is more than five minutes ahead.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise _cds_refused("The hook JWT needs a jti (at most 255 characters).")
    try:
        with transaction.atomic():
            AssertionUse.objects.filter(expires_at__lt=now - CLOCK_LEEWAY).delete()
            AssertionUse.objects.create(client=client, jti=jti, expires_at=expires)
    except IntegrityError:
        raise _cds_refused("The hook JWT's jti was already used.") from None
    return Caller(user=client.service_user, organization=client.organization, client=client)


def _api_token_user(request: HttpRequest) -> User | None:
    """The user of a knox API token sent as `Bearer <key>` or `Token <key>`; None when there
    is none or it is not valid."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not key.strip():
        return None
    try:
        user, _token = TokenAuthentication().authenticate_credentials(key.strip().encode())
    except drf_exceptions.AuthenticationFailed:
        return None
    return user if user.is_active else None


class SmartAccessTokenAuthentication(BaseAuthentication):
    """DRF authentication for the PAS views (fhir.access.AUTHENTICATION_CLASSES): a SMART
    access token authenticates as its client's service account, with the SmartAccess as
    `request.auth` so the view can require its scope (fhir.access.caller_organization)."""

    def authenticate(self, request: Any) -> tuple[User, SmartAccess] | None:
        try:
            access = access_for_request(request._request)
        except SmartError as exc:
            raise drf_exceptions.AuthenticationFailed(exc.description) from None
        if access is None:
            return None
        return access.user, access

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="fhir"'
