"""PCP referrals (RAFs) to a specialist organization (PRODUCT §3, §5), and the member and
provider look-ups the referral and the request share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from authorizations import icd10 as icd
from authorizations.models import HistoryAction, Provider, ProviderOrganization, Referral, Specialty
from authorizations.numbering import next_number
from authorizations.services.history import history_record
from authorizations.validators import npi_is_valid
from members.models import Member
from members.validators import normalize_cin
from tar_portal.errors import DomainError, ErrorCode


def provider_by_npi(npi: str, field_name: str, errors: dict[str, list[str]]) -> Provider | None:
    npi = (npi or "").strip()
    if not npi_is_valid(npi):
        errors.setdefault(field_name, []).append(
            "Not a valid NPI: 10 digits with a correct check digit (Luhn, prefix 80840)."
        )
        return None
    provider = Provider.objects.select_related("organization").filter(npi=npi).first()
    if provider is None:
        errors.setdefault(field_name, []).append(f"No provider with NPI {npi} is on file.")
    return provider


def member_by_cin(cin: str, errors: dict[str, list[str]]) -> Member | None:
    cin = normalize_cin(cin)
    member = (
        Member.objects.select_related("pcp__organization")
        .prefetch_related("eligibility_spans")
        .filter(cin=cin)
        .first()
    )
    if member is None:
        errors.setdefault("member", []).append(f"No member with CIN {cin or '(blank)'}.")
    return member


def check_diagnoses(
    codes: Iterable[str], field_name: str, errors: dict[str, list[str]]
) -> list[str]:
    cleaned: list[str] = []
    codes = list(codes)
    if not codes:
        errors.setdefault(field_name, []).append("At least one ICD-10-CM diagnosis is required.")
    for raw in codes:
        code = (raw or "").strip().upper()
        if not icd.is_valid_item(code):
            errors.setdefault(field_name, []).append(f"{raw!r} is not an ICD-10-CM code.")
        elif not icd.is_leaf(code):
            errors.setdefault(field_name, []).append(
                f"{code} is a category, not a billable code: use the most specific code."
            )
        else:
            cleaned.append(icd.add_dot(code))
    return cleaned


@transaction.atomic
def referral_create(
    *,
    user: User,
    member_cin: str,
    to_organization_id: int,
    specialty: str,
    reason: str,
    diagnosis_codes: list[str],
    valid_from: date,
    valid_to: date,
    visits_authorized: int = 1,
    to_provider_npi: str = "",
    referring_provider_npi: str = "",
) -> Referral:
    """A RAF from the member's assigned PCP (000 VI.C). Only the PCP's own office writes it."""
    if user.role != Role.PROVIDER:
        raise DomainError(ErrorCode.PERMISSION_DENIED, "Only a PCP office creates referrals.")
    errors: dict[str, list[str]] = {}
    member = member_by_cin(member_cin, errors)
    if member is not None and (
        member.pcp is None or member.pcp.organization_id != user.organization_id
    ):
        # Do not reveal who the PCP is to another office.
        raise DomainError(
            ErrorCode.PERMISSION_DENIED,
            "Only the member's assigned primary-care office can refer this member.",
        )
    referring = member.pcp if member else None
    if referring_provider_npi and member is not None:
        referring = provider_by_npi(referring_provider_npi, "referring_provider", errors)
        if referring is not None and referring.pk != member.pcp_id:
            errors.setdefault("referring_provider", []).append(
                "The referring provider must be the member's assigned PCP."
            )
    to_org = ProviderOrganization.objects.filter(pk=to_organization_id).first()
    if to_org is None:
        errors.setdefault("to_organization", []).append("No such provider organization.")
    to_provider = None
    if to_provider_npi:
        to_provider = provider_by_npi(to_provider_npi, "to_provider", errors)
        if (
            to_provider is not None
            and to_org is not None
            and to_provider.organization_id != to_org.pk
        ):
            errors.setdefault("to_provider", []).append(
                "The specialist does not belong to the organization referred to."
            )
    if specialty not in Specialty.values:
        errors.setdefault("specialty", []).append("Unknown specialty.")
    if not (reason or "").strip():
        errors.setdefault("reason", []).append("State the reason for the referral.")
    diagnoses = check_diagnoses(diagnosis_codes, "diagnosis_codes", errors)
    if valid_to < valid_from:
        errors.setdefault("valid_to", []).append("Must be on or after valid_from.")
    elif (valid_to - valid_from).days > 366:
        errors.setdefault("valid_to", []).append("A referral is valid for at most one year.")
    if visits_authorized < 1:
        errors.setdefault("visits_authorized", []).append("Must be at least 1.")
    if errors:
        raise DomainError(
            ErrorCode.INVALID, "The referral is not valid; see fields.", fields=errors
        )
    assert member is not None and referring is not None and to_org is not None
    referral = Referral(
        number=next_number("RAF", timezone.localdate().year),
        member=member,
        referring_provider=referring,
        referring_organization=referring.organization,
        to_organization=to_org,
        to_provider=to_provider,
        specialty=specialty,
        reason=reason.strip(),
        diagnosis_codes=diagnoses,
        valid_from=valid_from,
        valid_to=valid_to,
        visits_authorized=visits_authorized,
        created_by=user,
    )
    referral.full_clean()
    referral.save()
    history_record(
        member=member,
        referral=referral,
        actor=user,
        action=HistoryAction.REFERRAL_CREATED,
        detail={"number": referral.number, "to_organization": to_org.pk},
    )
    return referral
