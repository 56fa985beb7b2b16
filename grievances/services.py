"""Writes of grievances (HackSoft: keyword-only, typed, through the workflow kernel). Every
status change is a `start` or `perform` of grievances.machines.GRIEVANCE: one history row on
the member's history and one domain event, in one transaction; notices follow the events."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import Role, User
from authorizations.member_lookup import MEMBER_NOT_AVAILABLE, provider_has_relationship
from authorizations.models import Tar
from authorizations.numbering import next_number
from authorizations.workflow import check_role, perform, start
from grievances.clocks import grievance_clocks
from grievances.machines import GRIEVANCE, GrievanceAction
from grievances.models import (
    FilerKind,
    Grievance,
    GrievanceChannel,
    GrievanceKind,
)
from members.models import Member
from members.validators import normalize_cin
from tar_portal.errors import DomainError, ErrorCode

MAX_TEXT = 8000
# Who files, and by which channel when they do not say (42 CFR 438.402(c)(3): orally or in
# writing; H&S 1368(a)(1): online, by phone, in writing).
_FILER = {
    Role.MEMBER: (FilerKind.MEMBER, GrievanceChannel.ONLINE),
    Role.MEMBER_SERVICES: (FilerKind.MEMBER_SERVICES, GrievanceChannel.PHONE),
    Role.GRIEVANCE_COORDINATOR: (FilerKind.MEMBER_SERVICES, GrievanceChannel.WRITING),
    Role.PROVIDER: (FilerKind.PROVIDER, GrievanceChannel.ONLINE),
}
# Plan staff enter a call or a letter with its true receipt time.
_SETS_RECEIPT = frozenset({Role.MEMBER_SERVICES, Role.GRIEVANCE_COORDINATOR})


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _member_for(user: User, cin: str, errors: dict[str, list[str]]) -> Member | None:
    if user.role == Role.MEMBER:
        # A member files for themself; the CIN they type does not matter.
        return user.member
    member = Member.objects.filter(cin=normalize_cin(cin or "")).first() if cin else None
    if user.role == Role.PROVIDER and (
        member is None or not provider_has_relationship(user=user, member=member)
    ):
        # One message for unknown and unrelated members (no oracle; issue 12).
        errors.setdefault("member", []).append(MEMBER_NOT_AVAILABLE)
        return None
    if member is None:
        errors.setdefault("member", []).append("No member with this CIN.")
    return member


def grievance_file(
    *,
    user: User,
    kind: str,
    description: str,
    member_cin: str = "",
    tar_number: str = "",
    expedited: bool = False,
    expedited_reason: str = "",
    channel: str = "",
    received_at: datetime | None = None,
    consent_signed_on: date | None = None,
    consent_reference: str = "",
    now: datetime | None = None,
) -> Grievance:
    """File a grievance (PRODUCT §4): by the member online, by member services for a member
    who called, or by a provider for the member with the member's written consent
    (42 CFR 438.402(c)(1)(ii)). Its acknowledgement and resolution clocks start at receipt."""
    now = now or timezone.now()
    check_role(GRIEVANCE, GRIEVANCE[GrievanceAction.FILE], user)

    def build(_: Tar | None) -> Grievance:
        errors: dict[str, list[str]] = {}
        member = _member_for(user, member_cin, errors)
        if kind not in GrievanceKind.values:
            errors.setdefault("kind", []).append(
                "Unknown kind; use one of " + ", ".join(GrievanceKind.values) + "."
            )
        text = (description or "").strip()
        if not text:
            errors.setdefault("description", []).append("Say what the member is unhappy about.")
        elif len(text) > MAX_TEXT:
            errors.setdefault("description", []).append(f"At most {MAX_TEXT} characters.")
        reason = (expedited_reason or "").strip()
        if expedited and not reason:
            errors.setdefault("expedited_reason", []).append(
                "An expedited grievance states the serious threat to the member's health."
            )
        filer_kind, default_channel = _FILER[Role(user.role)]
        chosen = channel or default_channel
        if chosen not in GrievanceChannel.values:
            errors.setdefault("channel", []).append("Use online, phone or writing.")
        received = now
        if received_at is not None:
            if user.role not in _SETS_RECEIPT:
                errors.setdefault("received_at", []).append(
                    "Only plan staff entering a call or a letter set the receipt time."
                )
            elif received_at > now + timedelta(minutes=1):
                errors.setdefault("received_at", []).append("Cannot be in the future.")
            elif received_at < now - timedelta(days=365):
                errors.setdefault("received_at", []).append("More than a year ago.")
            else:
                received = received_at
        organization_id = None
        if filer_kind == FilerKind.PROVIDER:
            organization_id = user.organization_id
            # 42 CFR 438.402(c)(1)(ii): a provider files only with the member's written consent.
            if consent_signed_on is None:
                errors.setdefault("consent_signed_on", []).append(
                    "A provider files a grievance for a member only with the member's written "
                    "consent: give the date the member signed it."
                )
            elif consent_signed_on > timezone.localdate(now):
                errors.setdefault("consent_signed_on", []).append("Cannot be in the future.")
            if not (consent_reference or "").strip():
                errors.setdefault("consent_reference", []).append(
                    "Say where the signed consent is kept (e.g. the scanned form's name)."
                )
        tar = None
        if tar_number and member is not None:
            tar = Tar.objects.filter(number=tar_number.strip().upper(), member=member).first()
            if tar is None:
                errors.setdefault("tar", []).append("No request with this number for the member.")
        if errors:
            raise DomainError(
                ErrorCode.INVALID, "The grievance is not valid; see fields.", fields=errors
            )
        assert member is not None
        clocks = grievance_clocks(received_at=received, expedited=expedited)
        grievance = Grievance(
            number=next_number("GRV", timezone.localdate(received).year),
            member=member,
            tar=tar,
            kind=kind,
            description=text,
            filer_kind=filer_kind,
            channel=chosen,
            filed_by=user,
            provider_organization_id=organization_id,
            consent_signed_on=consent_signed_on if organization_id else None,
            consent_reference=(consent_reference or "").strip() if organization_id else "",
            expedited=expedited,
            expedited_reason=reason,
            received_at=received,
            acknowledgement_due_at=clocks.acknowledgement.due_at,
            acknowledgement_due_rule=clocks.acknowledgement.rule,
            resolution_due_at=clocks.resolution.due_at,
            resolution_due_rule=clocks.resolution.rule,
        )
        return grievance

    return start(
        GRIEVANCE,
        GrievanceAction.FILE,
        user=user,
        build=build,
        detail=lambda g: {
            "number": g.number,
            "kind": g.kind,
            "filer_kind": g.filer_kind,
            "expedited": g.expedited,
            "received_at": _iso(g.received_at),
            "acknowledgement_due_at": _iso(g.acknowledgement_due_at),
            "acknowledgement_due_rule": g.acknowledgement_due_rule,
            "resolution_due_at": _iso(g.resolution_due_at),
            "resolution_due_rule": g.resolution_due_rule,
        },
        now=now,
    )


def grievance_acknowledge(
    *, grievance_id: int, user: User, note: str = "", now: datetime | None = None
) -> Grievance:
    """Record the written acknowledgement (H&S 1368(a)(4): within 5 calendar days)."""
    now = now or timezone.now()

    def apply(grievance: Grievance) -> dict[str, Any]:
        grievance.acknowledged_at = now
        grievance.acknowledged_by = user
        return {"acknowledged_late": now > grievance.acknowledgement_due_at}

    return perform(
        GRIEVANCE,
        GrievanceAction.ACKNOWLEDGE,
        record_id=grievance_id,
        user=user,
        apply=apply,
        reason=(note or "").strip()[:MAX_TEXT],
        now=now,
    )


def grievance_resolve(
    *, grievance_id: int, user: User, resolution: str, now: datetime | None = None
) -> Grievance:
    """Resolve with a written resolution (H&S 1368(a)(5): within 30 calendar days; expedited
    72 hours). The resolution text goes into the member's letter."""
    now = now or timezone.now()
    text = (resolution or "").strip()

    def apply(grievance: Grievance) -> dict[str, Any]:
        if not text or len(text) > MAX_TEXT:
            raise DomainError(
                ErrorCode.INVALID,
                "The resolution is not valid; see fields.",
                fields={
                    "resolution": [
                        "Say what the plan found and did, in plain words (at most "
                        f"{MAX_TEXT} characters); it goes into the member's letter."
                    ]
                },
            )
        grievance.resolution = text
        grievance.resolved_at = now
        grievance.resolved_by = user
        if grievance.acknowledged_at is None:
            # An expedited grievance resolved at once: the resolution acknowledges it.
            grievance.acknowledged_at = now
            grievance.acknowledged_by = user
        return {"resolved_late": now > grievance.resolution_due_at}

    return perform(
        GRIEVANCE,
        GrievanceAction.RESOLVE,
        record_id=grievance_id,
        user=user,
        apply=apply,
        now=now,
    )


def grievance_withdraw(
    *, grievance_id: int, user: User, reason: str = "", now: datetime | None = None
) -> Grievance:
    return perform(
        GRIEVANCE,
        GrievanceAction.WITHDRAW,
        record_id=grievance_id,
        user=user,
        reason=(reason or "").strip()[:MAX_TEXT],
        now=now,
    )
