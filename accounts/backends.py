from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts.models import User
from accounts.otp import otp_required
from accounts.services import (
    user_is_locked,
    user_record_failed_login,
    user_record_successful_login,
)


class LockoutBackend(ModelBackend):
    """ModelBackend with lockout, for every login path: admin, portal and API token."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user_is_locked(user=user):
            # PermissionDenied stops Django from trying other backends.
            raise PermissionDenied("locked")
        if user.check_password(password) and self.user_can_authenticate(user):
            if not otp_required(user=user):
                # With a second factor the count starts again only once the code is right
                # too (accounts.otp.otp_verify): wrong codes add up like wrong passwords.
                user_record_successful_login(user=user)
            return user
        user_record_failed_login(user=user)
        return None
