"""One domain exception, one error-code enum, one API error shape.

Every error the API returns is `{"code": ..., "message": ..., "fields": {...}}`. Services raise
DomainError; the DRF handler below turns it (and DRF's own errors) into that shape.
"""

from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ErrorCode(StrEnum):
    # 400: the request itself is wrong
    INVALID = "invalid"
    # 400: the request can be received but has warnings the sender has not yet confirmed
    # (the portal's confirm step; PRODUCT §4 "received, not refused")
    WARNINGS_TO_CONFIRM = "warnings_to_confirm"
    # 401: no or bad credentials
    NOT_AUTHENTICATED = "not_authenticated"
    # 403: the caller may not do this at all
    PERMISSION_DENIED = "permission_denied"
    # 403: a physician may not decide a case they are part of (002 conflict of interest)
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    # 403: only a physician may deny or modify for medical necessity (002; SB 1120)
    PHYSICIAN_REQUIRED = "physician_required"
    # 403: a non-medical closure the record does not support; a physician must decide
    # (PRODUCT §2: not eligible, not a benefit, duplicate, no TAR needed only on the record)
    PHYSICIAN_DECISION_REQUIRED = "physician_decision_required"
    # 404: does not exist, or the caller may not know it exists
    NOT_FOUND = "not_found"
    # 409: the transition is not possible from the current state
    INVALID_TRANSITION = "invalid_transition"
    # 409: another user holds the claim on this request
    CLAIMED_BY_OTHER = "claimed_by_other"
    # 409: a regulatory cap forbids it (extension count or date)
    CLOCK_RULE = "clock_rule"
    # 422: an Idempotency-Key this caller already used for a different request body
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    # 429: too many attempts (login lockout)
    LOCKED = "locked"
    # 429: too many requests in a short time (member lookups, logins; tar_portal.throttles)
    THROTTLED = "throttled"


_STATUS = {
    ErrorCode.INVALID: status.HTTP_400_BAD_REQUEST,
    ErrorCode.WARNINGS_TO_CONFIRM: status.HTTP_400_BAD_REQUEST,
    ErrorCode.NOT_AUTHENTICATED: status.HTTP_401_UNAUTHORIZED,
    ErrorCode.PERMISSION_DENIED: status.HTTP_403_FORBIDDEN,
    ErrorCode.CONFLICT_OF_INTEREST: status.HTTP_403_FORBIDDEN,
    ErrorCode.PHYSICIAN_REQUIRED: status.HTTP_403_FORBIDDEN,
    ErrorCode.PHYSICIAN_DECISION_REQUIRED: status.HTTP_403_FORBIDDEN,
    ErrorCode.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorCode.INVALID_TRANSITION: status.HTTP_409_CONFLICT,
    ErrorCode.CLAIMED_BY_OTHER: status.HTTP_409_CONFLICT,
    ErrorCode.CLOCK_RULE: status.HTTP_409_CONFLICT,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: status.HTTP_422_UNPROCESSABLE_ENTITY,
    ErrorCode.LOCKED: status.HTTP_429_TOO_MANY_REQUESTS,
    ErrorCode.THROTTLED: status.HTTP_429_TOO_MANY_REQUESTS,
}


class DomainError(Exception):
    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}

    @property
    def http_status(self) -> int:
        return _STATUS[self.code]

    def as_dict(self) -> dict[str, Any]:
        return {"code": str(self.code), "message": self.message, "fields": self.fields}


def invalid(message: str, /, **fields: str | list[str]) -> DomainError:
    """Shortcut for a 400 naming the fields at fault."""
    normalised = {k: v if isinstance(v, list) else [v] for k, v in fields.items()}
    return DomainError(ErrorCode.INVALID, message, fields=normalised)


def _flatten(detail: Any) -> dict[str, list[str]]:
    """DRF error detail (nested dicts/lists) → {"field.sub": ["message", ...]}."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                # DRF >= 3.15 reports list items as {index: errors}: name them `lines[0]`, as
                # the services do, so one field has one name whichever layer refused it.
                if isinstance(key, int) and prefix:
                    walk(f"{prefix}[{key}]", sub)
                else:
                    walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list):
            if all(not isinstance(v, dict | list) for v in value):
                out.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in value)
            else:
                for index, sub in enumerate(value):
                    if sub:
                        walk(f"{prefix}[{index}]" if prefix else str(index), sub)
        else:
            out.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk("", detail)
    return out


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {}
        return Response(
            {"code": ErrorCode.INVALID, "message": "The request is not valid.", "fields": fields},
            status=400,
        )
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        body = {
            "code": ErrorCode.INVALID,
            "message": "The request is not valid; see fields.",
            "fields": _flatten(exc.detail),
        }
    elif isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        body = {"code": ErrorCode.NOT_AUTHENTICATED, "message": str(exc.detail), "fields": {}}
    elif isinstance(exc, drf_exceptions.PermissionDenied):
        body = {"code": ErrorCode.PERMISSION_DENIED, "message": str(exc.detail), "fields": {}}
    elif isinstance(exc, drf_exceptions.NotFound):
        body = {"code": ErrorCode.NOT_FOUND, "message": "Not found.", "fields": {}}
    elif isinstance(exc, drf_exceptions.Throttled):
        body = {
            "code": ErrorCode.THROTTLED,
            "message": "Too many requests in a short time; try again in "
            f"{int(exc.wait or 1)} seconds.",
            "fields": {},
        }
    elif isinstance(exc, drf_exceptions.ParseError):
        body = {"code": ErrorCode.INVALID, "message": str(exc.detail), "fields": {}}
    else:
        detail = getattr(exc, "detail", "")
        body = {"code": getattr(exc, "default_code", "error"), "message": str(detail), "fields": {}}
    response.data = body
    return response
