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
from knox.models import AuthToken

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
    instance, key = AuthToken.objects.create(user=user)
    return key, instance.expiry


def tokens_revoke_all(*, user: User) -> int:
    """Sign every API client of this user out. Returns how many tokens were revoked."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
