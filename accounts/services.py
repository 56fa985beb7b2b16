"""Login lockout: after LOGIN_MAX_FAILURES wrong passwords in a row an account is locked for
LOGIN_LOCKOUT_MINUTES. Counted in the database so that every web worker agrees."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.tokens import tokens_revoke_all
from tar_portal.errors import DomainError, ErrorCode


def user_is_locked(*, user: User) -> bool:
    return user.locked_until is not None and user.locked_until > timezone.now()


def user_record_failed_login(*, user: User) -> None:
    User.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
    user.refresh_from_db(fields=["failed_login_count"])
    if user.failed_login_count >= settings.LOGIN_MAX_FAILURES:
        until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
        User.objects.filter(pk=user.pk).update(locked_until=until, failed_login_count=0)
        # Someone is guessing this account's password: sign its API clients out too.

        tokens_revoke_all(user=user)


def user_record_successful_login(*, user: User) -> None:
    if user.failed_login_count or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)


def _unknown_key(username: str) -> str:
    return f"login-unknown:{username.strip().lower()[:150]}"


def _unknown_username_locked(username: str, *, failed: bool) -> bool:
    """A username with no account is counted and "locked" like a real one, in the cache, so
    that the answer after five tries does not tell which usernames exist. The lock time is
    stored as a value (not only as the key's expiry) so that it follows timezone.now()."""

    key = _unknown_key(username)
    now = timezone.now()
    state = cache.get(key) or {"count": 0, "locked_until": None}
    if state["locked_until"] is not None and state["locked_until"] > now:
        return True
    if state["locked_until"] is not None:
        state = {"count": 0, "locked_until": None}  # the lock expired: count again
    if failed:
        state["count"] += 1
        if state["count"] >= settings.LOGIN_MAX_FAILURES:
            state = {
                "count": 0,
                "locked_until": now + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES),
            }
        cache.set(key, state, timeout=(settings.LOGIN_LOCKOUT_MINUTES + 60) * 60)
    return state["locked_until"] is not None


def user_login_check(*, request, username: str, password: str) -> User:
    """Authenticate through the lockout backend; a locked account gets its own error, and so
    does a username without an account after as many tries (no oracle)."""

    user = authenticate(request, username=username, password=password)
    if user is not None:
        return user
    candidate = User.objects.filter(username=username).first()
    if candidate is not None:
        locked = user_is_locked(user=candidate)
    else:
        locked = _unknown_username_locked(username, failed=True)
    if locked:
        raise DomainError(
            ErrorCode.LOCKED,
            "Too many failed attempts: this account is locked for "
            f"{settings.LOGIN_LOCKOUT_MINUTES} minutes.",
        )
    raise DomainError(ErrorCode.NOT_AUTHENTICATED, "Wrong username or password.")
