"""The TOTP second factor (issue 12): optional for plan staff, required for the UM manager.

Who must give a code is one rule, `otp_required`: plan staff with a confirmed TOTP device,
and every manager (a manager without a device must enrol before anything else). Portal
sessions record the code with `django_otp.login` and are checked in one place,
`accounts.middleware.SecondFactorMiddleware`; API tokens are issued only with a code
(accounts.api.TokenApi). Devices are django_otp's `TOTPDevice`: 30-second, 6-digit codes,
one step of clock drift either side, a used code is not accepted twice, and wrong codes slow
further tries (django_otp's throttling).
"""

from __future__ import annotations

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import PLAN_STAFF_ROLES, Role, User
from accounts.services import (
    user_login_check,
    user_record_failed_login,
    user_record_successful_login,
)
from tar_portal.errors import DomainError, ErrorCode

DEVICE_NAME = "Authenticator app"


def otp_device_get(*, user: User) -> TOTPDevice | None:
    """The user's confirmed TOTP device, if they enrolled one."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def otp_required(*, user: User, device: TOTPDevice | None = None) -> bool:
    """Must this user give a code to sign in? Managers always; other plan staff once they
    enrolled a device; providers and members never (they have no enrolment)."""
    if user.role == Role.MANAGER:
        return True
    if user.role not in PLAN_STAFF_ROLES:
        return False
    return (device or otp_device_get(user=user)) is not None


def otp_may_enrol(*, user: User) -> bool:
    return user.role in PLAN_STAFF_ROLES


@transaction.atomic
def otp_enrolment_start(*, user: User) -> TOTPDevice:
    """The unconfirmed device an enrolment shows the secret of: the same one until it is
    confirmed, so reloading the page does not change the secret the app was given."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def otp_enrolment_confirm(*, user: User, token: str) -> TOTPDevice | None:
    """A first right code confirms the pending device (and replaces any older confirmed one:
    one authenticator per person). Returns the device, or None for a wrong code."""
    device = (
        TOTPDevice.objects.devices_for_user(user, confirmed=False)
        .select_for_update()
        .order_by("pk")
        .first()
    )
    if device is None or not device.verify_token(token):
        return None
    TOTPDevice.objects.devices_for_user(user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    user_record_successful_login(user=user)
    return device


def otp_verify(*, user: User, token: str | None) -> TOTPDevice | None:
    """The confirmed device that accepts `token` now, or None (no device, no or wrong code)."""
    if not token:
        return None
    with transaction.atomic():
        device = (
            TOTPDevice.objects.devices_for_user(user, confirmed=True)
            .select_for_update()
            .order_by("pk")
            .first()
        )
        if device is not None and device.verify_token(token.strip()):
            user_record_successful_login(user=user)
            return device
    return None


API_LOGIN_REFUSED = "Wrong username, password or verification code."


def otp_api_login_check(*, request, username: str, password: str, otp: str | None) -> User:
    """The API token login: password, and the code when `otp_required`. Both are checked
    before answering, and every wrong combination gets the same 401, so a missing or wrong
    code does not tell whether the password was right (nor whether the account has a
    device). A wrong code with the right password counts towards the lockout like a wrong
    password. A manager without a device gets 403: enrol in the portal first."""
    try:
        user: User | None = user_login_check(request=request, username=username, password=password)
    except DomainError as exc:
        if exc.code != ErrorCode.NOT_AUTHENTICATED:
            raise  # locked: its own error, as before
        user = None
    candidate = user or User.objects.filter(username=username).first()
    if candidate is None or not otp_required(user=candidate):
        if user is None:
            raise DomainError(ErrorCode.NOT_AUTHENTICATED, API_LOGIN_REFUSED)
        return user
    device = otp_device_get(user=candidate)
    verified = otp_verify(user=candidate, token=otp) if device is not None else None
    if user is None:
        raise DomainError(ErrorCode.NOT_AUTHENTICATED, API_LOGIN_REFUSED)
    if device is None:
        raise DomainError(
            ErrorCode.PERMISSION_DENIED,
            "UM managers need two-step sign-in for API tokens: sign in to the portal once "
            "and set up an authenticator app first.",
        )
    if verified is None:
        user_record_failed_login(user=user)
        raise DomainError(ErrorCode.NOT_AUTHENTICATED, API_LOGIN_REFUSED)
    return user
