"""Every write to providers, referrals and TARs. Views, forms, admin and tasks call these;
they hold no business rules of their own (STYLE §2).

The one function that changes a TAR's status is `tar_transition`: it locks the row, checks the
actor's authority (403) and then whether the move is possible now (409), applies the change,
writes a history row, and schedules side effects after commit.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import filetype
import simple_icd_10_cm as icd
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import PLAN_STAFF_ROLES, Role, User
from authorizations import clocks
from authorizations.calendar import plan_calendar
from authorizations.models import (
    Attachment,
    Channel,
    Decision,
    Extension,
    ExtensionReason,
    HistoryAction,
    HistoryEntry,
    InformationRequest,
    LineOutcome,
    Provider,
    ProviderOrganization,
    ReasonCode,
    Recommendation,
    Referral,
    RequestType,
    ServiceLine,
    Specialty,
    Tar,
    TarStatus,
    Urgency,
)
from authorizations.numbering import next_number
from authorizations.transitions import (
    DECISION_ACTIONS,
    RETURN_FROM_PEND,
    SAME,
    TRANSITIONS,
    Action,
)
from authorizations.validators import is_procedure_code, npi_is_valid
from criteria import catalog
from members.models import Member
from members.validators import normalize_cin
from tar_portal.errors import DomainError, ErrorCode, invalid

logger = logging.getLogger(__name__)

PROVIDER_CHANNELS = (Channel.PORTAL, Channel.API)
INTAKE_CHANNELS = (Channel.FAX, Channel.MAIL, Channel.PHONE)
ALLOWED_ATTACHMENT_TYPES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/tiff": "tif",
}
MAX_SERVICE_SPAN_DAYS = 365


# --- history -------------------------------------------------------------------------------


def history_record(
    *,
    member: Member,
    actor: User | None,
    action: str,
    tar: Tar | None = None,
    referral: Referral | None = None,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> HistoryEntry:
    return HistoryEntry.objects.create(
        tar=tar,
        member=member,
        referral=referral,
        actor=actor,
        actor_role=actor.role if actor else "system",
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        detail=detail or {},
        at=at or timezone.now(),
    )


def tar_record_clinical_read(*, tar: Tar, user: User) -> None:
    """PRODUCT §3: every read of a member's clinical record by plan staff is recorded."""
    if user.role in PLAN_STAFF_ROLES:
        history_record(tar=tar, member=tar.member, actor=user, action=HistoryAction.CLINICAL_READ)


# --- referrals -----------------------------------------------------------------------------


def _provider_by_npi(npi: str, field_name: str, errors: dict[str, list[str]]) -> Provider | None:
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


def _member_by_cin(cin: str, errors: dict[str, list[str]]) -> Member | None:
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


def _check_diagnoses(
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
    member = _member_by_cin(member_cin, errors)
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
        referring = _provider_by_npi(referring_provider_npi, "referring_provider", errors)
        if referring is not None and referring.pk != member.pcp_id:
            errors.setdefault("referring_provider", []).append(
                "The referring provider must be the member's assigned PCP."
            )
    to_org = ProviderOrganization.objects.filter(pk=to_organization_id).first()
    if to_org is None:
        errors.setdefault("to_organization", []).append("No such provider organization.")
    to_provider = None
    if to_provider_npi:
        to_provider = _provider_by_npi(to_provider_npi, "to_provider", errors)
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
    diagnoses = _check_diagnoses(diagnosis_codes, "diagnosis_codes", errors)
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


# --- submission ----------------------------------------------------------------------------


@dataclass
class LineInput:
    code: str
    units: int
    service_date_from: date
    service_date_to: date
    diagnosis_codes: list[str] = field(default_factory=list)
    modifiers: list[str] = field(default_factory=list)
    spinal_region: str = ""
    criteria_set: str = ""


@dataclass
class TarInput:
    member: str
    servicing_provider: str
    request_type: str
    urgency: str
    place_of_service: str
    lines: list[LineInput]
    requesting_provider: str = ""
    referral: int | None = None
    urgency_reason: str = ""
    servicing_facility: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    date_of_service: date | None = None
    primary_denial_date: date | None = None
    retro_eligibility_date: date | None = None
    received_at: datetime | None = None
    channel: str = ""


def _resolve_channel_and_receipt(
    *, user: User, data: TarInput, default_channel: str, now: datetime, errors: dict
) -> tuple[str, datetime]:
    if user.role == Role.PROVIDER:
        # PRODUCT §3: for portal/API the receipt time is the server's and cannot be set.
        if data.received_at is not None:
            errors.setdefault("received_at", []).append(
                "Only plan intake staff may set the receipt time; it is the server time."
            )
        if data.channel and data.channel not in PROVIDER_CHANNELS:
            errors.setdefault("channel", []).append("Providers submit through the portal or API.")
        return default_channel, now
    # Intake coordinator entering a fax, letter or phone call with its true receipt time.
    channel = data.channel or Channel.FAX
    if channel not in INTAKE_CHANNELS:
        errors.setdefault("channel", []).append("Intake entries come by fax, mail or phone.")
    received_at = data.received_at or now
    if received_at > now + timedelta(minutes=1):
        errors.setdefault("received_at", []).append("The receipt time cannot be in the future.")
        received_at = now  # refused anyway; check the rest against a date that cannot overflow
    elif received_at < now - timedelta(days=365):
        errors.setdefault("received_at", []).append("The receipt time is more than a year ago.")
        received_at = now
    return channel, received_at


def _validate_lines(
    *, data: TarInput, received_on: date, errors: dict[str, list[str]]
) -> list[dict[str, Any]]:
    if not data.lines:
        errors.setdefault("lines", []).append("At least one service line is required.")
    clean: list[dict[str, Any]] = []
    for index, line in enumerate(data.lines):
        prefix = f"lines[{index}]"
        code = (line.code or "").strip().upper()
        if not is_procedure_code(code):
            errors.setdefault(f"{prefix}.code", []).append(
                "A CPT code is 5 digits; a HCPCS code is a letter and 4 digits."
            )
        for modifier in line.modifiers:
            if not (isinstance(modifier, str) and len(modifier) == 2 and modifier.isalnum()):
                errors.setdefault(f"{prefix}.modifiers", []).append(
                    f"{modifier!r} is not a 2-character modifier."
                )
        diagnoses = _check_diagnoses(line.diagnosis_codes, f"{prefix}.diagnosis_codes", errors)
        if line.units is None or line.units < 1:
            errors.setdefault(f"{prefix}.units", []).append("Units must be a positive number.")
        elif line.units > 999:
            errors.setdefault(f"{prefix}.units", []).append("Units must be at most 999.")
        if line.service_date_to < line.service_date_from:
            errors.setdefault(f"{prefix}.service_date_to", []).append(
                "Must be on or after service_date_from."
            )
        elif (line.service_date_to - line.service_date_from).days > MAX_SERVICE_SPAN_DAYS:
            errors.setdefault(f"{prefix}.service_date_to", []).append(
                "A line covers at most one year."
            )
        if data.request_type == RequestType.PRE_SERVICE and line.service_date_from < received_on:
            errors.setdefault(f"{prefix}.service_date_from", []).append(
                "A pre-service request cannot start before it is received; "
                "submit a post-service request for care already given."
            )
        if data.request_type == RequestType.POST_SERVICE and line.service_date_from > received_on:
            errors.setdefault(f"{prefix}.service_date_from", []).append(
                "A post-service request is for care already given."
            )
        if line.service_date_from > received_on + timedelta(days=MAX_SERVICE_SPAN_DAYS):
            errors.setdefault(f"{prefix}.service_date_from", []).append(
                "Service more than a year ahead cannot be authorized yet."
            )
        if line.spinal_region and line.spinal_region not in {
            "cervical",
            "thoracic",
            "lumbar",
            "sacral",
        }:
            errors.setdefault(f"{prefix}.spinal_region", []).append("Unknown spinal region.")
        chosen = (line.criteria_set or "").strip()
        set_id = family = None
        if is_procedure_code(code):
            try:
                set_id = catalog.criteria_set_for(code, chosen or None)
                family = catalog.family_for_code(code, chosen_set=chosen or None)
            except catalog.CriteriaError as exc:
                errors.setdefault(f"{prefix}.criteria_set", []).append(str(exc))
        clean.append(
            {
                "line_number": index + 1,
                "code": code,
                "modifiers": [m.upper() for m in line.modifiers],
                "diagnosis_codes": diagnoses,
                "units": line.units,
                "spinal_region": line.spinal_region,
                "service_date_from": line.service_date_from,
                "service_date_to": line.service_date_to,
                "criteria_set_choice": chosen,
                "set_id": set_id,
                "family": family,
            }
        )
    return clean


def _check_pain_requirements(
    *,
    member: Member,
    servicing: Provider,
    referral_id: int | None,
    lines: list[dict[str, Any]],
    errors: dict[str, list[str]],
) -> Referral | None:
    """PRODUCT §5 (000): the pain procedures (ESI, facet, RFA, SCS, intrathecal pump) need a
    valid RAF from the member's PCP to a credentialed pain specialist. The pump services that
    need no TAR (001 I.A.4) need no RAF either."""
    pain_lines = [
        line
        for line in lines
        if line["family"] is not None and not catalog.is_no_tar_code(line["code"])
    ]
    referral = None
    if referral_id is not None:
        referral = Referral.objects.filter(pk=referral_id, member=member).first()
        if referral is None:
            errors.setdefault("referral", []).append("No such referral for this member.")
    if not pain_lines:
        return referral
    if referral is None and referral_id is None:
        errors.setdefault("referral", []).append(
            "Pain-management procedures need a referral (RAF) from the member's PCP (000 VI.C)."
        )
    if referral is not None:
        if member.pcp_id is None or referral.referring_provider_id != member.pcp_id:
            errors.setdefault("referral", []).append(
                "The referral is not from the member's assigned PCP."
            )
        if referral.to_organization_id != servicing.organization_id:
            errors.setdefault("referral", []).append(
                "The referral is to another organization than the servicing provider's."
            )
        if referral.to_provider_id and referral.to_provider_id != servicing.pk:
            errors.setdefault("referral", []).append(
                "The referral names another specialist than the servicing provider."
            )
        for line in pain_lines:
            if not referral.is_valid_on(line["service_date_from"]):
                errors.setdefault("referral", []).append(
                    f"The referral is not valid on {line['service_date_from']:%Y-%m-%d}."
                )
                break
    for line in pain_lines:
        if not servicing.is_credentialed_pain_specialist_on(line["service_date_from"]):
            errors.setdefault("servicing_provider", []).append(
                "The servicing provider is not credentialed as a pain management specialist "
                f"on {line['service_date_from']:%Y-%m-%d} (000)."
            )
            break
    return referral


def tar_submit(
    *,
    user: User,
    data: TarInput,
    idempotency_key: str | None = None,
    default_channel: str = Channel.API,
    now: datetime | None = None,
) -> tuple[Tar, bool]:
    """Validate and store a TAR. Returns (tar, created); with an Idempotency-Key a retried
    submission returns the first TAR instead of creating a second."""
    if user.role not in (Role.PROVIDER, Role.INTAKE):
        raise DomainError(
            ErrorCode.PERMISSION_DENIED, "Only providers and intake coordinators submit TARs."
        )
    if idempotency_key:
        existing = Tar.objects.filter(submitted_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            tar = _tar_create(
                user=user,
                data=data,
                idempotency_key=idempotency_key,
                now=now,
                default_channel=default_channel,
            )
    except IntegrityError:
        # Two retries raced: the unique (submitted_by, idempotency_key) let one through.
        if idempotency_key:
            existing = Tar.objects.filter(
                submitted_by=user, idempotency_key=idempotency_key
            ).first()
            if existing is not None:
                return existing, False
        raise
    tar_auto_approve(tar_id=tar.pk)
    tar.refresh_from_db()
    return tar, True


def tar_auto_approve(*, tar_id: int) -> Tar | None:
    """Approve a new request automatically when every line meets its criteria and every set
    involved allows auto-approval (a plan setting, off by default). Recorded as automated in
    the decision and the history. Never denies or modifies."""
    from criteria.models import CriteriaSetSetting

    tar = Tar.objects.prefetch_related("lines").get(pk=tar_id)
    lines = list(tar.lines.all())
    if tar.status != TarStatus.SUBMITTED or not lines:
        return None
    if any(line.recommendation != Recommendation.MEETS_CRITERIA for line in lines):
        return None
    set_ids = {(line.evaluation or {}).get("criteria_set") for line in lines}
    if None in set_ids:
        return None
    allowed = set(
        CriteriaSetSetting.objects.filter(set_id__in=set_ids, auto_approve=True).values_list(
            "set_id", flat=True
        )
    )
    if allowed != set_ids:
        return None
    return tar_decide(
        tar_id=tar.pk,
        user=None,
        outcome=TarStatus.APPROVED,
        rationale="Every criterion of "
        + ", ".join(sorted(str(s) for s in set_ids))
        + " is met; approved automatically under the plan's auto-approval setting.",
        automated=True,
    )


def _tar_create(
    *,
    user: User,
    data: TarInput,
    idempotency_key: str | None,
    now: datetime | None,
    default_channel: str,
) -> Tar:
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    channel, received_at = _resolve_channel_and_receipt(
        user=user, data=data, default_channel=default_channel, now=now, errors=errors
    )
    received_on = timezone.localdate(received_at)

    if data.request_type not in RequestType.values:
        errors.setdefault("request_type", []).append("Unknown request type.")
    if data.urgency not in Urgency.values:
        errors.setdefault("urgency", []).append("Urgency is urgent or routine.")
    if data.urgency == Urgency.URGENT and not data.urgency_reason.strip():
        errors.setdefault("urgency_reason", []).append(
            "An urgent request states why the standard time frame could seriously harm the member."
        )
    if data.request_type == RequestType.POST_SERVICE:
        if data.urgency == Urgency.URGENT:
            errors.setdefault("urgency", []).append("A post-service request cannot be urgent.")
        if data.date_of_service is None:
            errors.setdefault("date_of_service", []).append("Required for a post-service request.")
        elif data.date_of_service > received_on:
            errors.setdefault("date_of_service", []).append("Cannot be after the receipt date.")
    for name in ("primary_denial_date", "retro_eligibility_date"):
        value = getattr(data, name)
        if value is not None and value > received_on:
            errors.setdefault(name, []).append("Cannot be after the receipt date.")

    member = _member_by_cin(data.member, errors)
    servicing = _provider_by_npi(data.servicing_provider, "servicing_provider", errors)
    if data.requesting_provider:
        requesting = _provider_by_npi(data.requesting_provider, "requesting_provider", errors)
    elif user.provider_id:
        requesting = user.provider
    else:
        requesting = None
        errors.setdefault("requesting_provider", []).append("Name the requesting provider's NPI.")
    if (
        user.role == Role.PROVIDER
        and requesting is not None
        and requesting.organization_id != user.organization_id
    ):
        errors.setdefault("requesting_provider", []).append(
            "You can only request for providers of your own organization."
        )

    answer_errors = catalog.validate_answers(data.answers or {})
    for key, message in answer_errors.items():
        errors.setdefault(f"answers.{key}", []).append(message)

    lines = _validate_lines(data=data, received_on=received_on, errors=errors)
    if member is not None:
        for index, line in enumerate(lines):
            day = line["service_date_from"]
            if not member.is_eligible_on(day):
                errors.setdefault("member", []).append(
                    f"The member is not eligible for Medi-Cal on {day:%Y-%m-%d} (line {index + 1})."
                )
                break
    referral = None
    if member is not None and servicing is not None:
        referral = _check_pain_requirements(
            member=member,
            servicing=servicing,
            referral_id=data.referral,
            lines=lines,
            errors=errors,
        )
    if errors:
        raise DomainError(ErrorCode.INVALID, "The request is not valid; see fields.", fields=errors)
    assert member is not None and servicing is not None and requesting is not None

    calendar = plan_calendar()
    deadline = clocks.decision_deadline(
        received_at=received_at,
        request_type=data.request_type,
        urgency=data.urgency,
        calendar=calendar,
    )
    late = None
    if data.request_type == RequestType.POST_SERVICE:
        assert data.date_of_service is not None
        late = clocks.late_retro_submission(
            received_at=received_at,
            date_of_service=data.date_of_service,
            primary_denial_date=data.primary_denial_date,
            retro_eligibility_date=data.retro_eligibility_date,
            calendar=calendar,
        )
    provider_notice = clocks.provider_notice_deadline(
        received_at=received_at,
        request_type=data.request_type,
        urgency=data.urgency,
        decided_at=None,
        calendar=calendar,
    )

    tar = Tar(
        number=next_number("TAR", received_on.year),
        member=member,
        requesting_provider=requesting,
        servicing_provider=servicing,
        requesting_organization=requesting.organization,
        servicing_organization=servicing.organization,
        servicing_facility=data.servicing_facility.strip(),
        referral=referral,
        place_of_service=data.place_of_service,
        request_type=data.request_type,
        urgency=data.urgency,
        urgency_reason=data.urgency_reason.strip(),
        channel=channel,
        received_at=received_at,
        status=TarStatus.SUBMITTED,
        answers=data.answers or {},
        date_of_service=data.date_of_service,
        primary_denial_date=data.primary_denial_date,
        retro_eligibility_date=data.retro_eligibility_date,
        late_submission=bool(late and late.late),
        late_submission_rule=late.rule if late else "",
        submitted_by=user,
        idempotency_key=idempotency_key or None,
        effective_received_at=deadline.effective_received_at,
        decision_due_at=deadline.due_at,
        original_decision_due_at=deadline.due_at,
        decision_due_rule=deadline.rule,
        provider_notice_due_at=provider_notice.due_at if provider_notice else None,
        provider_notice_rule=provider_notice.rule if provider_notice else "",
    )
    tar.full_clean(
        exclude=[
            "member",
            "requesting_provider",
            "servicing_provider",
            "referral",
            "requesting_organization",
            "servicing_organization",
            "submitted_by",
        ]
    )
    tar.save()
    service_lines = ServiceLine.objects.bulk_create(
        ServiceLine(
            tar=tar,
            line_number=line["line_number"],
            code=line["code"],
            modifiers=line["modifiers"],
            diagnosis_codes=line["diagnosis_codes"],
            units=line["units"],
            spinal_region=line["spinal_region"],
            service_date_from=line["service_date_from"],
            service_date_to=line["service_date_to"],
            criteria_set_choice=line["criteria_set_choice"],
            family=line["family"] or "",
        )
        for line in lines
    )
    history_record(
        tar=tar,
        member=member,
        actor=user,
        action=HistoryAction.CREATED,
        to_status=TarStatus.SUBMITTED,
        detail={
            "channel": channel,
            "received_at": received_at.isoformat(),
            "decision_due_at": deadline.due_at.isoformat(),
            "decision_due_rule": deadline.rule,
            "late_submission": tar.late_submission,
        },
    )
    from criteria.services import tar_evaluate_lines

    tar_evaluate_lines(tar=tar, lines=service_lines, actor=user)
    return tar


# --- transitions ---------------------------------------------------------------------------


def _lock_tar(tar_id: int) -> Tar:
    tar = (
        Tar.objects.select_for_update(of=("self",))
        .select_related("member", "requesting_provider", "servicing_provider")
        .filter(pk=tar_id)
        .first()
    )
    if tar is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
    return tar


def _check_conflict_of_interest(*, tar: Tar, user: User) -> None:
    """002: a physician may not decide a case in which they are the requesting or servicing
    provider, or the member's own PCP (involved in the member's care)."""
    if user.role != Role.PHYSICIAN or user.provider_id is None:
        return
    involved = {tar.requesting_provider_id, tar.servicing_provider_id, tar.member.pcp_id}
    if user.provider_id in involved:
        raise DomainError(
            ErrorCode.CONFLICT_OF_INTEREST,
            "You are involved in this member's care for this request (requesting, servicing "
            "or primary-care provider), so another physician must decide it.",
        )


def _check_scope_for_provider(*, tar: Tar, user: User) -> None:
    if user.role == Role.PROVIDER and user.organization_id not in (
        tar.requesting_organization_id,
        tar.servicing_organization_id,
    ):
        raise DomainError(ErrorCode.NOT_FOUND, "Not found.")


def tar_transition(
    *,
    tar_id: int,
    user: User | None,
    action: Action,
    reason: str = "",
    detail: dict[str, Any] | None = None,
    authorize: Callable[[Tar], None] | None = None,
    apply: Callable[[Tar], None] | None = None,
    after_commit: Callable[[Tar], None] | None = None,
    now: datetime | None = None,
) -> Tar:
    """Perform one workflow action. Order of checks (viewflow): role (403), scope (404),
    action-specific authority (403), possible from this status (409), claim (409).

    `user=None` is the plan's automated rules: they may approve and nothing else (PRODUCT §2:
    automated rules never deny or modify)."""
    now = now or timezone.now()
    transition = TRANSITIONS[action]
    if user is None:
        if action != Action.APPROVE:
            raise DomainError(ErrorCode.PERMISSION_DENIED, "Automated rules may only approve.")
    elif user.role not in transition.roles:
        raise DomainError(
            ErrorCode.PERMISSION_DENIED, f"Your role may not {action.value.replace('_', ' ')}."
        )
    with transaction.atomic():
        tar = _lock_tar(tar_id)
        if user is not None:
            _check_scope_for_provider(tar=tar, user=user)
        if authorize is not None:
            authorize(tar)
        if (
            action == Action.CLAIM
            and tar.status == TarStatus.IN_REVIEW
            and tar.assigned_to_id not in (None, getattr(user, "pk", None))
        ):
            raise DomainError(
                ErrorCode.CLAIMED_BY_OTHER, "Another nurse is reviewing this request."
            )
        if tar.status not in transition.sources:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"Cannot {action.value.replace('_', ' ')} a request that is {tar.status}.",
            )
        if (
            user is not None
            and user.role == Role.NURSE
            and action not in (Action.CLAIM,)
            and tar.status == TarStatus.IN_REVIEW
            and tar.assigned_to_id not in (None, user.pk)
        ):
            raise DomainError(
                ErrorCode.CLAIMED_BY_OTHER, "Another nurse is reviewing this request."
            )
        from_status = tar.status
        if transition.target == RETURN_FROM_PEND:
            to_status = tar.status_before_pend or TarStatus.SUBMITTED
        elif transition.target == SAME:
            to_status = tar.status
        else:
            to_status = transition.target
        if apply is not None:
            apply(tar)
        tar.status = to_status
        tar.save()
        history_record(
            tar=tar,
            member=tar.member,
            actor=user,
            action=_history_action(action),
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            detail={"action": action.value, **(detail or {})},
            at=now,
        )
        if after_commit is not None:
            transaction.on_commit(lambda: after_commit(tar))
    return tar


def _history_action(action: Action) -> str:
    return {
        Action.APPROVE: HistoryAction.DECIDED,
        Action.MODIFY: HistoryAction.DECIDED,
        Action.DENY: HistoryAction.DECIDED,
        Action.CLOSE: HistoryAction.DECIDED,
        Action.EXTEND: HistoryAction.EXTENDED,
        Action.REQUEST_INFO: HistoryAction.INFORMATION_REQUESTED,
        Action.RECEIVE_INFO: HistoryAction.INFORMATION_RECEIVED,
    }.get(action, HistoryAction.STATUS_CHANGED)


def tar_claim(*, tar_id: int, user: User) -> Tar:
    def apply(tar: Tar) -> None:
        tar.assigned_to = user
        tar.claimed_at = timezone.now()

    return tar_transition(tar_id=tar_id, user=user, action=Action.CLAIM, apply=apply)


def tar_release(*, tar_id: int, user: User) -> Tar:
    def apply(tar: Tar) -> None:
        tar.assigned_to = None
        tar.claimed_at = None

    return tar_transition(tar_id=tar_id, user=user, action=Action.RELEASE, apply=apply)


def tar_request_info(
    *, tar_id: int, user: User, message: str, missing_keys: list[str] | None = None
) -> Tar:
    """Pend for information. 002: the clock does not stop while information is missing."""
    if not (message or "").strip():
        raise invalid("Say what information is needed.", message="This field is required.")

    def apply(tar: Tar) -> None:
        tar.status_before_pend = tar.status
        InformationRequest.objects.create(
            tar=tar, message=message.strip(), missing_keys=missing_keys or [], requested_by=user
        )

    return tar_transition(
        tar_id=tar_id,
        user=user,
        action=Action.REQUEST_INFO,
        reason=message.strip(),
        detail={"missing_keys": missing_keys or []},
        apply=apply,
        after_commit=_notify("information_request"),
    )


def tar_receive_info(
    *, tar_id: int, user: User, response: str, answers: dict[str, Any] | None = None
) -> Tar:
    """The provider answers an information request: new answers merge into the TAR and the
    lines are evaluated again against the same criteria versions' current publication."""
    answers = answers or {}
    answer_errors = catalog.validate_answers(answers)
    if answer_errors:
        raise DomainError(
            ErrorCode.INVALID,
            "Some answers are not valid; see fields.",
            fields={f"answers.{k}": [v] for k, v in answer_errors.items()},
        )
    if not (response or "").strip() and not answers:
        raise invalid("Give a response or answers.", response="This field is required.")

    def apply(tar: Tar) -> None:
        open_request = tar.information_requests.filter(responded_at__isnull=True).last()
        if open_request is not None:
            open_request.response = (response or "").strip()
            open_request.responded_by = user
            open_request.responded_at = timezone.now()
            open_request.save(update_fields=["response", "responded_by", "responded_at"])
        if answers:
            tar.answers = {**tar.answers, **answers}
        tar.status_before_pend = ""

    def reevaluate(tar: Tar) -> None:
        if answers:
            from criteria.services import tar_evaluate_lines

            tar_evaluate_lines(tar=tar, lines=list(tar.lines.all()), actor=user)

    tar = tar_transition(
        tar_id=tar_id,
        user=user,
        action=Action.RECEIVE_INFO,
        reason=(response or "").strip(),
        detail={"answer_keys": sorted(answers)},
        apply=apply,
    )
    reevaluate(tar)
    return tar


def tar_refer(*, tar_id: int, user: User, note: str = "") -> Tar:
    return tar_transition(
        tar_id=tar_id, user=user, action=Action.REFER, reason=(note or "").strip()
    )


def tar_withdraw(*, tar_id: int, user: User, reason: str = "") -> Tar:
    return tar_transition(
        tar_id=tar_id, user=user, action=Action.WITHDRAW, reason=(reason or "").strip()
    )


@dataclass
class LineDecision:
    line_number: int
    outcome: str
    approved_units: int | None = None
    approved_date_from: date | None = None
    approved_date_to: date | None = None


def _authorize_decision(*, tar: Tar, user: User | None, outcome: str, reason_code: str) -> None:
    if user is not None:
        _check_conflict_of_interest(tar=tar, user=user)
        if user.role == Role.PHYSICIAN:
            return
    # 002: only the CMO or a physician designee denies or modifies for medical necessity.
    if (
        outcome in (TarStatus.DENIED, TarStatus.MODIFIED)
        and reason_code == ReasonCode.MEDICAL_NECESSITY
    ):
        raise DomainError(
            ErrorCode.PHYSICIAN_REQUIRED,
            "Only a physician reviewer may deny or modify a request for medical necessity; "
            "refer it to a physician.",
        )
    if outcome in (TarStatus.APPROVED, TarStatus.MODIFIED):
        # A nurse (or the automated rules) approves only what meets the criteria (PRODUCT §6);
        # a modification approves part of a request, so the same holds for it.
        not_met = [
            line.line_number
            for line in tar.lines.all()
            if line.recommendation != Recommendation.MEETS_CRITERIA
        ]
        if not_met:
            raise DomainError(
                ErrorCode.PHYSICIAN_REQUIRED,
                "A nurse may approve only lines that meet the criteria; lines "
                f"{', '.join(map(str, not_met))} need a physician.",
            )


def tar_decide(
    *,
    tar_id: int,
    user: User | None,
    outcome: str,
    reason_code: str = "",
    rationale: str = "",
    criteria_refs: list[str] | None = None,
    line_decisions: list[LineDecision] | None = None,
    now: datetime | None = None,
    automated: bool = False,
) -> Tar:
    """Approve, modify, deny or close (non-medical). The provider and member notice clocks
    start at the decision (PRODUCT §4)."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if outcome not in DECISION_ACTIONS:
        raise invalid("Unknown outcome.", outcome="Use approved, modified, denied or closed.")
    if outcome != TarStatus.APPROVED:
        if reason_code not in ReasonCode.values:
            errors.setdefault("reason_code", []).append("A reason code is required.")
        if not (rationale or "").strip():
            errors.setdefault("rationale", []).append(
                "Explain the decision in plain words; it goes into the member's letter."
            )
    if outcome == TarStatus.CLOSED and reason_code == ReasonCode.MEDICAL_NECESSITY:
        errors.setdefault("reason_code", []).append(
            "A closure is for non-medical reasons; deny for medical necessity instead."
        )
    if (
        outcome in (TarStatus.DENIED, TarStatus.MODIFIED)
        and reason_code == ReasonCode.MEDICAL_NECESSITY
        and not criteria_refs
    ):
        errors.setdefault("criteria_refs", []).append(
            "Cite the criteria used (set, version and criterion number)."
        )
    from criteria.services import criteria_refs_resolve

    resolved_refs, ref_errors = criteria_refs_resolve(list(criteria_refs or []))
    if ref_errors:
        errors.setdefault("criteria_refs", []).extend(ref_errors)
    if errors:
        raise DomainError(
            ErrorCode.INVALID, "The decision is not valid; see fields.", fields=errors
        )
    action = DECISION_ACTIONS[outcome]
    line_decisions = line_decisions or []

    def authorize(tar: Tar) -> None:
        _authorize_decision(tar=tar, user=user, outcome=outcome, reason_code=reason_code)

    def apply(tar: Tar) -> None:
        line_outcomes = _apply_line_decisions(tar=tar, outcome=outcome, decisions=line_decisions)
        calendar = plan_calendar()
        provider_notice = clocks.provider_notice_deadline(
            received_at=tar.received_at,
            request_type=tar.request_type,
            urgency=tar.urgency,
            decided_at=now,
            calendar=calendar,
        )
        member_notice = clocks.member_notice_deadline(decided_at=now, calendar=calendar)
        tar.decided_at = now
        tar.decided_by = None if automated else user
        tar.reason_code = reason_code if outcome != TarStatus.APPROVED else ""
        tar.assigned_to = None
        if provider_notice is not None:
            tar.provider_notice_due_at = provider_notice.due_at
            tar.provider_notice_rule = provider_notice.rule
        tar.member_notice_due_at = member_notice.due_at
        Decision.objects.create(
            tar=tar,
            outcome=outcome,
            reason_code=tar.reason_code,
            rationale=(rationale or "").strip(),
            criteria_refs=resolved_refs,
            line_outcomes=line_outcomes,
            decided_by=None if automated else user,
            automated=automated,
            decided_at=now,
        )

    return tar_transition(
        tar_id=tar_id,
        user=user,
        action=action,
        reason=(rationale or "").strip(),
        detail={
            "outcome": outcome,
            "reason_code": reason_code,
            "criteria_refs": list(criteria_refs or []),
            "automated": automated,
        },
        authorize=authorize,
        apply=apply,
        after_commit=_notify("decision"),
        now=now,
    )


def _apply_line_decisions(
    *, tar: Tar, outcome: str, decisions: list[LineDecision]
) -> list[dict[str, Any]]:
    lines = {line.line_number: line for line in tar.lines.all()}
    by_number = {d.line_number: d for d in decisions}
    unknown = sorted(set(by_number) - set(lines))
    if unknown:
        raise invalid("Unknown line numbers.", lines=f"No line(s) {unknown} on this request.")
    default = {
        TarStatus.APPROVED: LineOutcome.APPROVED,
        TarStatus.MODIFIED: LineOutcome.APPROVED,
        TarStatus.DENIED: LineOutcome.DENIED,
        TarStatus.CLOSED: LineOutcome.CLOSED,
    }[outcome]
    results: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    for number, line in sorted(lines.items()):
        decision = by_number.get(number)
        line_outcome = decision.outcome if decision else default
        if line_outcome not in LineOutcome.values or line_outcome == LineOutcome.PENDING:
            errors.setdefault(f"lines[{number}].outcome", []).append("Unknown line outcome.")
            continue
        line.outcome = line_outcome
        if line_outcome in (LineOutcome.APPROVED, LineOutcome.MODIFIED):
            line.approved_units = (decision.approved_units if decision else None) or line.units
            line.approved_date_from = (
                decision.approved_date_from if decision else None
            ) or line.service_date_from
            line.approved_date_to = (
                decision.approved_date_to if decision else None
            ) or line.service_date_to
            if line.approved_units > line.units:
                errors.setdefault(f"lines[{number}].approved_units", []).append(
                    "Cannot approve more units than requested."
                )
            if (
                line.approved_date_from < line.service_date_from
                or line.approved_date_to > line.service_date_to
            ):
                errors.setdefault(f"lines[{number}].approved_date_from", []).append(
                    "Approved dates must lie within the requested dates "
                    f"({line.service_date_from} to {line.service_date_to})."
                )
            if line.approved_date_to < line.approved_date_from:
                errors.setdefault(f"lines[{number}].approved_date_to", []).append(
                    "Must be on or after approved_date_from."
                )
            if line_outcome == LineOutcome.APPROVED and (
                line.approved_units != line.units
                or line.approved_date_from != line.service_date_from
                or line.approved_date_to != line.service_date_to
            ):
                line.outcome = LineOutcome.MODIFIED
        results.append(
            {
                "line_number": number,
                "code": line.code,
                "outcome": line.outcome,
                "approved_units": line.approved_units,
                "approved_date_from": str(line.approved_date_from or ""),
                "approved_date_to": str(line.approved_date_to or ""),
            }
        )
    outcomes = {r["outcome"] for r in results}
    if outcome == TarStatus.APPROVED and outcomes != {LineOutcome.APPROVED}:
        errors.setdefault("outcome", []).append(
            "Some lines are modified or denied: the request's outcome is 'modified'."
        )
    if outcome == TarStatus.MODIFIED and outcomes == {LineOutcome.APPROVED}:
        errors.setdefault("outcome", []).append(
            "Nothing was changed from the request: approve it, or give the modified lines."
        )
    if outcome == TarStatus.DENIED and outcomes != {LineOutcome.DENIED}:
        errors.setdefault("outcome", []).append("A denial denies every line.")
    if errors:
        raise DomainError(ErrorCode.INVALID, "The line decisions are not valid.", fields=errors)
    for line in lines.values():
        line.save(
            update_fields=["outcome", "approved_units", "approved_date_from", "approved_date_to"]
        )
    return results


def tar_extend(
    *,
    tar_id: int,
    user: User,
    reason: str,
    new_due_at: datetime,
    note: str = "",
    now: datetime | None = None,
) -> Tar:
    """Extend the decision deadline within the caps of PRODUCT §4; a delay notice goes to the
    provider and the member (H&S 1367.01(h)(5); 42 CFR 438.404(c)(4))."""
    now = now or timezone.now()
    if reason not in ExtensionReason.values:
        raise invalid(
            "Unknown extension reason.", reason=f"Use one of: {', '.join(ExtensionReason.values)}."
        )
    if not (note or "").strip():
        raise invalid(
            "Say what is needed and why.",
            note="The delay notice states what is needed to decide.",
        )

    def authorize(tar: Tar) -> None:
        if tar.decision_due_at <= now:
            raise DomainError(
                ErrorCode.CLOCK_RULE,
                "The decision deadline has already passed; an extension must be taken before it.",
            )
        policy = clocks.extension_policy(
            received_at=tar.received_at,
            request_type=tar.request_type,
            urgency=tar.urgency,
            calendar=plan_calendar(),
        )
        try:
            clocks.check_extension(
                policy=policy,
                extensions_used=tar.extension_count,
                current_due_at=tar.decision_due_at,
                new_due_at=new_due_at,
            )
        except clocks.ClockError as exc:
            raise DomainError(
                ErrorCode.CLOCK_RULE, str(exc), fields={"new_due_at": [exc.code]}
            ) from exc

    def apply(tar: Tar) -> None:
        Extension.objects.create(
            tar=tar,
            reason=reason,
            note=note.strip(),
            previous_due_at=tar.decision_due_at,
            new_due_at=new_due_at,
            extended_by=user,
            extended_at=now,
        )
        tar.decision_due_at = new_due_at
        tar.decision_due_rule = f"extension_{tar.extension_count + 1}"
        tar.extension_count += 1

    return tar_transition(
        tar_id=tar_id,
        user=user,
        action=Action.EXTEND,
        reason=note.strip(),
        detail={"extension_reason": reason, "new_due_at": new_due_at.isoformat()},
        authorize=authorize,
        apply=apply,
        after_commit=_notify("extension"),
        now=now,
    )


def _notify(event: str) -> Callable[[Tar], None]:
    """Side effect after commit: ask the notices machinery for the letters this event owes."""

    def send(tar: Tar) -> None:
        from notifications.services import notices_for_event

        notices_for_event(tar_id=tar.pk, event=event)

    return send


# --- attachments ---------------------------------------------------------------------------


def sniff_content_type(head: bytes) -> str | None:
    """The type the bytes say they are (magic numbers), never the file name."""
    kind = filetype.guess(head)
    if kind is None:
        return None
    return kind.mime if kind.mime in ALLOWED_ATTACHMENT_TYPES else None


def attachment_add(
    *, tar_id: int, user: User, upload: UploadedFile, description: str = ""
) -> Attachment:
    if user.role not in (Role.PROVIDER, Role.INTAKE, Role.NURSE, Role.PHYSICIAN):
        raise DomainError(ErrorCode.PERMISSION_DENIED, "Your role may not add documents.")
    if upload.size is None or upload.size == 0:
        raise invalid("The file is empty.", file="The file is empty.")
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        readable = f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
        raise invalid("The file is too large.", file=f"At most {readable} per file.")
    upload.seek(0)
    head = upload.read(8192)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise invalid(
            "Unsupported file type.",
            file="Upload a PDF, PNG, JPEG or TIFF file (checked by its content, not its name).",
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        tar = _lock_tar(tar_id)
        _check_scope_for_provider(tar=tar, user=user)
        if user.role == Role.PROVIDER and not tar.is_open:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "Documents can be added only while the request is open.",
            )
        attachment = Attachment(
            tar=tar,
            original_name=(upload.name or "document")[-200:],
            content_type=content_type,
            size=upload.size,
            sha256=digest.hexdigest(),
            description=(description or "")[:200],
            uploaded_by=user,
        )
        # The stored name is ours: never trust the client's name for the path.
        attachment.file.save(
            f"{tar.number}-{digest.hexdigest()[:16]}.{ALLOWED_ATTACHMENT_TYPES[content_type]}",
            upload,
            save=False,
        )
        attachment.save()
        history_record(
            tar=tar,
            member=tar.member,
            actor=user,
            action=HistoryAction.ATTACHMENT_ADDED,
            detail={"attachment": attachment.pk, "content_type": content_type, "size": upload.size},
        )
    return attachment


def attachment_record_read(*, attachment: Attachment, user: User) -> None:
    if user.role in PLAN_STAFF_ROLES:
        history_record(
            tar=attachment.tar,
            member=attachment.tar.member,
            actor=user,
            action=HistoryAction.ATTACHMENT_READ,
            detail={"attachment": attachment.pk},
        )
