"""API tokens: expiring, revocable, one per client (issue 12).

Tokens are django-rest-knox tokens: stored as a SHA-512 digest (a database leak gives no
usable key), with an absolute expiry (`REST_KNOX["TOKEN_TTL"]`, no silent refresh). Every
login issues a new token, so each client or device holds its own and one can be revoked
without signing the others out; the oldest go once a user holds API_TOKENS_PER_USER. All of a
user's tokens are revoked when the password changes (accounts.models.User.save) and when the
account is locked (accounts.services.user_record_failed_login).

The header stays `Authorization: Token <key>` (knox's AUTH_HEADER_PREFIX).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.models import AuthToken
from knox.signals import token_expired

from accounts.models import User


@transaction.atomic
def token_issue(*, user: User) -> tuple[str, datetime | None]:
    """A new token for one client; returns (key, expiry)."""
    keep = max(settings.API_TOKENS_PER_USER - 1, 0)
    # Lock the user's row so two logins at once do not both keep the oldest token.
    User.objects.select_for_update().filter(pk=user.pk).first()
    stale = (
        AuthToken.objects.filter(user=user)
        .order_by("-created")
        .values_list("digest", flat=True)[keep:]
    )
    AuthToken.objects.filter(digest__in=list(stale)).delete()
    # The user's expired tokens go here, at sign-in (TokenAuthentication below no longer
    # reads them on every request).
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    instance, key = AuthToken.objects.create(user=user)
    return key, instance.expiry


def tokens_revoke_all(*, user: User) -> int:
    """Sign every API client of this user out. Returns how many tokens were revoked."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's `Token <key>` authentication without its clean-up of the user's *other* expired
    tokens on every request: that read every token of the user, one more query per API call
    (issue 16). The presented token's own expiry is still checked (an expired token is
    refused and deleted); the others are deleted when the user next signs in
    (`token_issue`), and an expired one is refused whenever it is presented."""

    def _cleanup_token(self, auth_token: AuthToken) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of the class above: knox's `Authorization: Token <key>`
    (drf-spectacular's knox extension matches knox's own class only)."""

    target_class = "accounts.tokens.TokenAuthentication"
