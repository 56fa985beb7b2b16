"""What the API and the portal check around `services.tar_submit` (issue 12).

- **No member oracle.** A provider's invalid submission answers the same whether the CIN is
  unknown, belongs to a member the office has no relationship with, or the member is not
  eligible: one message at the `member` field. A member the office does not care for is
  submitted as "no member", so that every later check (eligibility, referral) sees exactly
  what it sees for an unknown CIN.
- **Idempotency-Key reuse.** A retry with the same key returns the first request; the same
  key with a different body is a client bug, refused with 422 instead of silently returning
  a request the client did not send.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date
from typing import Any

from accounts.models import Role, User
from authorizations import services
from authorizations.member_lookup import MEMBER_NOT_AVAILABLE, relationship_exists
from authorizations.models import Tar
from members.models import Member
from members.validators import normalize_cin
from tar_portal.errors import DomainError, ErrorCode


def tar_submit_guarded(*, user: User, data: services.TarInput, **kwargs: Any) -> tuple[Tar, bool]:
    if user.role != Role.PROVIDER:
        return services.tar_submit(user=user, data=data, **kwargs)
    # One query for the member and whether the office cares for them; the spans come with it
    # and the service uses this member instead of reading it again (issue 16).
    member = (
        Member.objects.select_related("pcp__organization")
        .prefetch_related("eligibility_spans")
        .annotate(related=relationship_exists(user))
        .filter(cin=normalize_cin(data.member))
        .first()
    )
    if member is None or not member.related:
        data = dataclasses.replace(data, member="")
        member = None
    try:
        return services.tar_submit(user=user, data=data, member=member, **kwargs)
    except DomainError as exc:
        # A warning (member not eligible) is only ever about a member the office cares for.
        if exc.code == ErrorCode.INVALID and "member" in exc.fields:
            exc.fields["member"] = [MEMBER_NOT_AVAILABLE]
        raise


# --- Idempotency-Key -------------------------------------------------------------------------


def _text(value: Any) -> str:
    return str(value or "").strip().upper()


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _fingerprint(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "code": _text(line["code"]),
            "units": int(line["units"]),
            "from": _day(line["from"]),
            "to": _day(line["to"]),
            "diagnosis_codes": sorted(_text(c).replace(".", "") for c in line["dx"]),
            "modifiers": sorted(_text(m) for m in line["modifiers"]),
        }
        for line in lines
    ]


def input_fingerprint(data: services.TarInput) -> str:
    """The request as sent, in the fields the stored TAR keeps the same way."""
    return _fingerprint(
        {
            "member": normalize_cin(data.member),
            "servicing_provider": _text(data.servicing_provider),
            "request_type": data.request_type,
            "urgency": data.urgency,
            "place_of_service": data.place_of_service,
            "referral": data.referral,
            "date_of_service": _day(data.date_of_service),
            "answers": data.answers or {},
            "lines": _lines(
                [
                    {
                        "code": line.code,
                        "units": line.units,
                        "from": line.service_date_from,
                        "to": line.service_date_to,
                        "dx": line.diagnosis_codes,
                        "modifiers": line.modifiers,
                    }
                    for line in data.lines
                ]
            ),
        }
    )


def tar_fingerprint(tar: Tar) -> str:
    return _fingerprint(
        {
            "member": tar.member.cin,
            "servicing_provider": _text(tar.servicing_provider.npi),
            "request_type": tar.request_type,
            "urgency": tar.urgency,
            "place_of_service": tar.place_of_service,
            "referral": tar.referral_id,
            "date_of_service": _day(tar.date_of_service),
            "answers": tar.answers or {},
            "lines": _lines(
                [
                    {
                        "code": line.code,
                        "units": line.units,
                        "from": line.service_date_from,
                        "to": line.service_date_to,
                        "dx": line.diagnosis_codes or [],
                        "modifiers": line.modifiers or [],
                    }
                    for line in tar.lines.order_by("line_number")
                ]
            ),
        }
    )


def idempotency_check(*, user: User, key: str | None, data: services.TarInput) -> None:
    """422 when this caller already used `key` for a different request."""
    if not key:
        return
    existing = (
        Tar.objects.select_related("member", "servicing_provider")
        .filter(submitted_by=user, idempotency_key=key)
        .first()
    )
    if existing is not None and tar_fingerprint(existing) != input_fingerprint(data):
        raise DomainError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This Idempotency-Key was already used for a different request; send a new key "
            "for a new request.",
            fields={"Idempotency-Key": ["Already used with a different body."]},
        )
