"""Receiving a request (PRODUCT §3, §5): validation of what the provider or intake sent, the
coverage requirements (RAF, credentialed specialist, eligibility), the clocks that start at
receipt, and the optional automated approval. The request is created by the workflow kernel's
SUBMIT action (`authorizations.workflow.start`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError
from django.utils import timezone

from accounts.models import Role, User
from authorizations import clocks
from authorizations.calendar import plan_calendar
from authorizations.models import (
    Channel,
    Provider,
    Recommendation,
    Referral,
    RequestType,
    ServiceLine,
    Tar,
    TarStatus,
    Urgency,
)
from authorizations.numbering import next_number
from authorizations.selectors import keep_in_hand
from authorizations.services.decisions import tar_decide
from authorizations.services.evaluation import tar_evaluate_lines
from authorizations.services.referrals import check_diagnoses, member_by_cin, provider_by_npi
from authorizations.transitions import TAR, Action
from authorizations.validators import is_procedure_code
from authorizations.workflow import check_role, start
from criteria import catalog
from criteria.coverage import coverage_requirement
from criteria.models import CriteriaSetSetting
from criteria.pa_list import pa_list_rows
from members.models import Member
from members.validators import normalize_cin
from tar_portal.errors import DomainError, ErrorCode

PROVIDER_CHANNELS = (Channel.PORTAL, Channel.API, Channel.FHIR)
INTAKE_CHANNELS = (Channel.FAX, Channel.MAIL, Channel.PHONE)
MAX_SERVICE_SPAN_DAYS = 365


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
        diagnoses = check_diagnoses(line.diagnosis_codes, f"{prefix}.diagnosis_codes", errors)
        if line.units is None or line.units < 1:
            errors.setdefault(f"{prefix}.units", []).append("Units must be a positive number.")
        elif line.units > 999:
            errors.setdefault(f"{prefix}.units", []).append("Units must be at most 999.")
        if line.service_date_to < line.service_date_from:
            errors.setdefault(f"{prefix}.service_date_to", []).append(
                "The last day of service must be on or after the first day."
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


def _check_request_fields(
    *, data: TarInput, received_on: date, errors: dict[str, list[str]]
) -> None:
    """Request type, urgency and its reason, and the post-service dates (PRODUCT §3)."""
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


def tar_input_problems(*, data: TarInput, now: datetime | None = None) -> dict[str, list[str]]:
    """The checks of `tar_submit` on what was typed (request type, urgency and its reason,
    post-service dates, every service line: codes, ICD-10-CM diagnoses, units, dates), with
    no member, provider or write. The portal's request step runs them when the provider
    continues, so each error shows at its field at that step and not at the final submit
    (issue 15); `tar_submit` runs the same functions again and decides."""
    errors: dict[str, list[str]] = {}
    received_on = timezone.localdate(now or timezone.now())
    _check_request_fields(data=data, received_on=received_on, errors=errors)
    _validate_lines(data=data, received_on=received_on, errors=errors)
    return errors


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
    # The plan's PA list decides which lines need a TAR (PRODUCT §5; criteria.pa_list).
    pa_list = pa_list_rows()
    pain_lines = [
        line
        for line in lines
        if line["family"] is not None
        and coverage_requirement(
            code=line["code"],
            service_date=line["service_date_from"],
            member=None,
            pa_list=pa_list,
        ).tar_required
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
    member: Member | None = None,
    acknowledge_warnings: bool = True,
) -> tuple[Tar, bool]:
    """Validate and store a TAR. Returns (tar, created); with an Idempotency-Key a retried
    submission returns the first TAR instead of creating a second. `member`: the member the
    caller already read for `data.member` (with pcp and eligibility spans), so it is not read
    twice. A new TAR comes back with its lines in hand (`tar.lines.all()` needs no query).

    PRODUCT §4 "received, not refused": a request for a member not eligible on the date of
    service, without a valid RAF, or with a servicing provider not credentialed is received
    (receipt, clock, queue) with those facts in `intake_flags`. With
    `acknowledge_warnings=False` (the portal's confirm step) such a request is not stored yet:
    400 `warnings_to_confirm` with the warnings as fields."""
    check_role(TAR, TAR[Action.SUBMIT], user)
    if idempotency_key:
        existing = Tar.objects.filter(submitted_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing, False
    try:
        tar = _tar_create(
            user=user,
            data=data,
            idempotency_key=idempotency_key,
            now=now,
            default_channel=default_channel,
            member=member,
            acknowledge_warnings=acknowledge_warnings,
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
    decided = tar_auto_approve(tar_id=tar.pk, tar=tar)
    return (decided if decided is not None else tar), True


def tar_auto_approve(*, tar_id: int, tar: Tar | None = None) -> Tar | None:
    """Approve a new request automatically when every line meets its criteria and every set
    involved allows auto-approval (a plan setting, off by default). Recorded as automated in
    the decision and the history. Never denies or modifies. `tar`: the request just created,
    with its lines in hand, so a request that does not qualify costs no query."""
    if tar is None:
        tar = Tar.objects.prefetch_related("lines").get(pk=tar_id)
    lines = list(tar.lines.all())
    if tar.status != TarStatus.SUBMITTED or not lines:
        return None
    if any(line.recommendation != Recommendation.MEETS_CRITERIA for line in lines):
        return None
    set_ids = {(line.evaluation or {}).get("criteria_set") for line in lines}
    if None in set_ids:
        return None
    in_hand = [getattr(line.criteria_set, "auto_approve_allowed", None) for line in lines]
    if None not in in_hand:
        # Read with the set at evaluation (criteria_set_in_force): no second query.
        allowed = {
            line.evaluation["criteria_set"]
            for line, allowed_here in zip(lines, in_hand, strict=True)
            if allowed_here
        }
    else:
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
    member: Member | None = None,
    acknowledge_warnings: bool = True,
) -> Tar:
    now = now or timezone.now()
    validated: list[list[dict[str, Any]]] = []

    def build(_: Tar | None) -> Tar:
        tar, lines = _tar_build(
            user=user,
            data=data,
            idempotency_key=idempotency_key,
            now=now,
            default_channel=default_channel,
            member=member,
            acknowledge_warnings=acknowledge_warnings,
        )
        validated.append(lines)
        return tar

    return start(
        TAR,
        Action.SUBMIT,
        user=user,
        build=build,
        after_save=lambda tar: _tar_lines_create(tar=tar, lines=validated[0], user=user),
        detail=lambda tar: {
            "channel": tar.channel,
            "received_at": tar.received_at.isoformat(),
            "decision_due_at": tar.decision_due_at.isoformat(),
            "decision_due_rule": tar.decision_due_rule,
            "late_submission": tar.late_submission,
            "intake_flags": tar.intake_flags,
        },
        now=now,
    )


def _tar_build(
    *,
    user: User,
    data: TarInput,
    idempotency_key: str | None,
    now: datetime,
    default_channel: str,
    member: Member | None = None,
    acknowledge_warnings: bool = True,
) -> tuple[Tar, list[dict[str, Any]]]:
    """Validate what was sent (400 with every field at fault) and build the unsaved request
    with its clocks. What cannot be attributed to a member and a provider is refused; what
    is wrong with an attributable request is a warning, kept on it (PRODUCT §4)."""
    errors: dict[str, list[str]] = {}
    warnings: dict[str, list[str]] = {}
    channel, received_at = _resolve_channel_and_receipt(
        user=user, data=data, default_channel=default_channel, now=now, errors=errors
    )
    received_on = timezone.localdate(received_at)

    _check_request_fields(data=data, received_on=received_on, errors=errors)

    member = _member_for(data.member, member, errors)
    servicing = provider_by_npi(data.servicing_provider, "servicing_provider", errors)
    if data.requesting_provider:
        requesting = provider_by_npi(data.requesting_provider, "requesting_provider", errors)
    elif user.provider_id:
        requesting = _own_provider(user.provider_id, servicing)
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
                warnings.setdefault("member", []).append(
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
            errors=warnings,  # received and flagged, not refused (PRODUCT §4; 002 timeliness)
        )
    if errors:
        raise DomainError(ErrorCode.INVALID, "The request is not valid; see fields.", fields=errors)
    assert member is not None and servicing is not None and requesting is not None
    if warnings and not acknowledge_warnings:
        raise DomainError(
            ErrorCode.WARNINGS_TO_CONFIRM,
            "The plan will receive this request, but it is likely to be closed without "
            "approval: see the warnings. Confirm to submit it anyway.",
            fields=warnings,
        )

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
        intake_flags=[
            {"field": name, "message": message}
            for name, messages in warnings.items()
            for message in messages
        ],
    )
    # Field validation only: the unique number and idempotency key and the urgent-reason check
    # are the database's constraints, which refuse the INSERT anyway; validating them here
    # cost a probe query and a savepoint per submission (issue 16).
    tar.full_clean(
        exclude=[
            "member",
            "requesting_provider",
            "servicing_provider",
            "referral",
            "requesting_organization",
            "servicing_organization",
            "submitted_by",
        ],
        validate_unique=False,
        validate_constraints=False,
    )
    return tar, lines


def _own_provider(provider_id: int, servicing: Provider | None) -> Provider | None:
    """The caller's own provider with its organization: the servicing provider already read
    when it is the same one, else one query (`user.provider` and then its organization were
    two, issue 16)."""
    if servicing is not None and servicing.pk == provider_id:
        return servicing
    return Provider.objects.select_related("organization").filter(pk=provider_id).first()


def _member_for(cin: str, in_hand: Member | None, errors: dict[str, list[str]]) -> Member | None:
    """The member named by `cin`: the one the caller already read when it is that member."""
    if in_hand is not None and cin and in_hand.cin == normalize_cin(cin):
        return in_hand
    return member_by_cin(cin, errors)


def _tar_lines_create(*, tar: Tar, lines: list[dict[str, Any]], user: User) -> None:
    """The service lines of a request just saved, evaluated against their criteria and then
    inserted with their evaluation in one statement. They stay in hand on `tar.lines`."""
    service_lines = [
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
    ]
    tar_evaluate_lines(tar=tar, lines=service_lines, actor=user, save=False)
    ServiceLine.objects.bulk_create(service_lines)
    keep_in_hand(tar, lines=service_lines)
