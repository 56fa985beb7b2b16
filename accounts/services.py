"""Login lockout: after LOGIN_MAX_FAILURES wrong passwords in a row an account is locked for
LOGIN_LOCKOUT_MINUTES. Counted in the database so that every web worker agrees."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from tar_portal.errors import DomainError, ErrorCode


def user_is_locked(*, user: User) -> bool:
    return user.locked_until is not None and user.locked_until > timezone.now()


def user_record_failed_login(*, user: User) -> None:
    User.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
    user.refresh_from_db(fields=["failed_login_count"])
    if user.failed_login_count >= settings.LOGIN_MAX_FAILURES:
        until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
        User.objects.filter(pk=user.pk).update(locked_until=until, failed_login_count=0)


def user_record_successful_login(*, user: User) -> None:
    if user.failed_login_count or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)


def user_login_check(*, request, username: str, password: str) -> User:
    """Authenticate through the lockout backend; a locked account gets its own error."""

    user = authenticate(request, username=username, password=password)
    if user is not None:
        return user
    candidate = User.objects.filter(username=username).first()
    if candidate is not None and user_is_locked(user=candidate):
        raise DomainError(
            ErrorCode.LOCKED,
            "Too many failed attempts: this account is locked for "
            f"{settings.LOGIN_LOCKOUT_MINUTES} minutes.",
        )
    raise DomainError(ErrorCode.NOT_AUTHENTICATED, "Wrong username or password.")
