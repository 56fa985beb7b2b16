"""`Claim/$submit`: a PAS request Bundle becomes a TAR on the portal's own workflow
(PRODUCT §11), and a PASClaimUpdate or a cancel acts on that TAR through the kernel.

The Bundle is read into the same `TarInput` the REST API builds and handed to the same
`tar_submit_guarded` (channel `fhir`, receipt time the server's, criteria evaluated at once,
the plan's auto-approval applied): a FHIR request is worked in the same queue as a faxed one.
What the plan cannot act on (member not found or not eligible, unknown provider, codes or
dates it cannot read) is answered with a ClaimResponse whose outcome is `error` and the X12
901 code, never with an HTTP error; only a Bundle that is not a PAS Bundle is refused (400).
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date

from accounts.models import User
from authorizations import selectors, services, submission
from authorizations.member_lookup import MEMBER_NOT_AVAILABLE, provider_has_relationship
from authorizations.models import (
    Channel,
    PlaceOfService,
    Provider,
    ProviderOrganization,
    Referral,
    ReferralStatus,
    RequestType,
    Tar,
    TarStatus,
    Urgency,
)
from authorizations.validators import is_procedure_code
from criteria import catalog
from criteria.coverage import CoverageStatus, MemberFacts
from criteria.engine import CriteriaError
from criteria.pa_list import coverage_lookup
from fhir.dtr import DtrError, answers_from_questionnaire_response
from fhir.models import PasRequest
from fhir.responses import (
    RejectReason,
    error_response_bundle,
    no_action_response_bundle,
    pas_response_bundle,
)
from fhir.validation import (
    EXT_CERTIFICATION_TYPE,
    BundleKind,
    Issue,
    IssueType,
    extensions,
    is_update,
    resolve,
    validate_bundle,
)
from members.models import Member
from members.validators import CIN_RE, normalize_cin
from tar_portal.errors import DomainError, ErrorCode

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
ICD10_SYSTEMS = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10")
X12_CERTIFICATION = "https://codesystem.x12.org/005010/1322"
PAS_SD = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
EXT_INFO_CHANGED = PAS_SD + "extension-infoChanged"
EXT_INFO_CANCELLED = PAS_SD + "modifierextension-infoCancelled"
CERTIFICATION_CANCEL = "3"  # X12 1322 "Cancel"
# X12 1338 level of service: U urgent, 03 emergency; FHIR processpriority `stat`.
URGENT_LEVELS = frozenset({"U", "03"})
_CLAIM = "Bundle.entry[0].resource"

Fault = tuple[tuple[str, str], str, str]  # (X12 901 code, path in the request, words)


class InvalidBundle(Exception):
    """Not a PAS Bundle: HTTP 400 with an OperationOutcome."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(i.diagnostics for i in issues))
        self.issues = issues


class Rejected(Exception):
    """A PAS Bundle the plan cannot act on: outcome = error, HTTP 200."""

    def __init__(self, faults: list[Fault]) -> None:
        super().__init__("; ".join(f[2] for f in faults))
        self.faults = faults


@dataclass
class Reading:
    """What was read from the Claim, beside the TarInput."""

    data: services.TarInput
    item_map: list[dict[str, Any]] = field(default_factory=list)
    no_tar: list[dict[str, Any]] = field(default_factory=list)


# --- Reading the Bundle ----------------------------------------------------------------------


def _codes(concept: Any) -> list[tuple[str, str]]:
    if not isinstance(concept, dict):
        return []
    return [
        (str(c.get("system", "")), str(c.get("code", "")).strip())
        for c in concept.get("coding") or []
        if isinstance(c, dict)
    ]


def _npis(resource: dict | None, bundle: dict) -> list[str]:
    """NPIs of an Organization, Practitioner or PractitionerRole (and its practitioner)."""
    if not resource:
        return []
    found = [
        str(i.get("value", "")).strip()
        for i in resource.get("identifier") or []
        if isinstance(i, dict) and i.get("system") == NPI_SYSTEM
    ]
    if resource.get("resourceType") == "PractitionerRole":
        for key in ("practitioner", "organization"):
            found += _npis(
                resolve(bundle, 0, resource.get(key)) or _find(bundle, resource.get(key)), bundle
            )
    return [npi for npi in found if npi]


def _find(bundle: dict, reference: Any) -> dict | None:
    for index, _ in enumerate(bundle.get("entry") or []):
        target = resolve(bundle, index, reference)
        if target is not None:
            return target
    return None


def member_cin(bundle: dict, claim: dict) -> str:
    """The CIN from the Patient's identifiers, or the Coverage's subscriberId (PRODUCT §11)."""
    candidates: list[str] = []
    patient = resolve(bundle, 0, claim.get("patient")) or {}
    candidates += [str(i.get("value", "")) for i in patient.get("identifier") or []]
    for insurance in claim.get("insurance") or []:
        coverage = resolve(bundle, 0, insurance.get("coverage")) or {}
        candidates.append(str(coverage.get("subscriberId", "")))
        candidates += [str(i.get("value", "")) for i in coverage.get("identifier") or []]
    for candidate in candidates:
        if CIN_RE.match(normalize_cin(candidate)):
            return normalize_cin(candidate)
    return ""


def _urgency(claim: dict) -> tuple[str, str]:
    levels = {
        code
        for ext in extensions(
            claim,
            "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-levelOfServiceCode",
        )
        for _, code in _codes(ext.get("valueCodeableConcept"))
    }
    stat = any(code == "stat" for _, code in _codes(claim.get("priority")))
    if not (stat or levels & URGENT_LEVELS):
        return Urgency.ROUTINE, ""
    messages = [
        str(info.get("valueString", "")).strip()
        for info in claim.get("supportingInfo") or []
        if any(code == "freeFormMessage" for _, code in _codes(info.get("category")))
    ]
    # 42 CFR 438.210(d)(2): expedited when the provider indicates the standard time frame
    # could seriously jeopardize the member; the Claim's urgent level is that indication.
    reason = " ".join(m for m in messages if m) or (
        "The requesting provider asked for expedited review (Claim level of service urgent)."
    )
    return Urgency.URGENT, reason


def _certification(element: dict) -> set[str]:
    return {
        code
        for ext in extensions(element, EXT_CERTIFICATION_TYPE)
        for _, code in _codes(ext.get("valueCodeableConcept"))
    }


def is_cancel(claim: dict) -> bool:
    """X12 1322 certification type 3 on the Claim (update profile), or every item cancelled
    (type 3 or the PAS infoCancelledFlag on each)."""
    if CERTIFICATION_CANCEL in _certification(claim):
        return True
    items = [i for i in claim.get("item") or [] if isinstance(i, dict)]
    return bool(items) and all(_item_cancelled(i) for i in items)


def questionnaire_answers(response: dict) -> dict[str, Any]:
    """A DTR QuestionnaireResponse's answers keyed by linkId (= the answer keys of PRODUCT
    §6), checked against the criteria catalogue by fhir.dtr; an invalid answer is a 400
    naming its question."""
    try:
        return answers_from_questionnaire_response(response)
    except DtrError as exc:
        raise InvalidBundle(
            [
                Issue(
                    expression=f"QuestionnaireResponse.item.where(linkId='{key}')",
                    diagnostics=f"{key}: {message}",
                    code=IssueType.VALUE,
                )
                for key, message in exc.fields.items()
            ]
        ) from None


def _answers(bundle: dict, claim: dict) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for info in claim.get("supportingInfo") or []:
        target = resolve(bundle, 0, info.get("valueReference"))
        if target and target.get("resourceType") == "QuestionnaireResponse":
            answers.update(questionnaire_answers(target))
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "QuestionnaireResponse" and not answers:
            answers.update(questionnaire_answers(resource))
    # List questions (PRODUCT §6 catalogue) are lists even with one answer given.
    for key, question in catalog.QUESTIONS.items():
        if (
            key in answers
            and question["type"].endswith("list")
            and not isinstance(answers[key], list)
        ):
            answers[key] = [answers[key]]
    return answers


def _dates(item: dict, index: int, faults: list[Fault]) -> tuple[date | None, date | None]:
    if item.get("servicedDate"):
        day = parse_date(str(item["servicedDate"])[:10])
        return day, day
    period = item.get("servicedPeriod") or {}
    start = parse_date(str(period.get("start", ""))[:10]) if period.get("start") else None
    end = parse_date(str(period.get("end", ""))[:10]) if period.get("end") else start
    if start is None:
        faults.append(
            (
                RejectReason.INVALID_SERVICE_DATES,
                f"{_CLAIM}.item[{index}].serviced[x]",
                f"Item {item.get('sequence')}: give the service date (servicedDate or "
                "servicedPeriod).",
            )
        )
    return start, end


def _place_of_service(claim: dict, faults: list[Fault]) -> str:
    for index, item in enumerate(claim.get("item") or []):
        for _, code in _codes(item.get("locationCodeableConcept")):
            if code in PlaceOfService.values:
                return code
        if item.get("locationCodeableConcept"):
            faults.append(
                (
                    RejectReason.INPUT_ERRORS,
                    f"{_CLAIM}.item[{index}].locationCodeableConcept",
                    "The place of service must be a CMS place-of-service code the plan "
                    f"authorizes ({', '.join(PlaceOfService.values)}).",
                )
            )
            return ""
    return PlaceOfService.OFFICE


def _provider(npis: list[str]) -> Provider | None:
    for npi in npis:
        provider = Provider.objects.select_related("organization").filter(npi=npi).first()
        if provider is not None:
            return provider
    return None


def _referral(
    bundle: dict,
    claim: dict,
    *,
    member: Member | None,
    organization: ProviderOrganization,
    on: date | None,
) -> int | None:
    """The RAF named by Claim.referral (its number as the ServiceRequest's identifier or the
    reference's identifier), or else the member's valid RAF to the requesting organization,
    as the portal preselects it."""
    if member is None:
        return None
    reference = claim.get("referral") or {}
    numbers = []
    if isinstance(reference.get("identifier"), dict):
        numbers.append(str(reference["identifier"].get("value", "")))
    target = resolve(bundle, 0, reference) or {}
    numbers += [str(i.get("value", "")) for i in target.get("identifier") or []]
    for number in (n.strip() for n in numbers if n):
        found = Referral.objects.filter(number=number, member=member).first()
        if found is not None:
            return found.pk
    candidates = Referral.objects.filter(
        member=member, to_organization=organization, status=ReferralStatus.ACTIVE
    ).order_by("-valid_to", "-created_at")
    for referral in candidates:
        if on is None or referral.is_valid_on(on):
            return referral.pk
    return None


def read_claim(
    *, bundle: dict, user: User, organization: ProviderOrganization, now: datetime
) -> Reading:
    """The TarInput for a PAS Claim, or Rejected with every X12 fault found."""
    claim = bundle["entry"][0]["resource"]
    faults: list[Fault] = []

    # No member oracle (authorizations.submission): an unknown member, one the office has no
    # relationship with and one not eligible on the dates get the same answer.
    cin = member_cin(bundle, claim)
    member = (
        Member.objects.prefetch_related("eligibility_spans").filter(cin=cin).first()
        if cin
        else None
    )
    if member is not None and not provider_has_relationship(user=user, member=member):
        member = None
    if member is None:
        raise Rejected(
            [(RejectReason.SUBSCRIBER_NOT_FOUND, f"{_CLAIM}.patient", MEMBER_NOT_AVAILABLE)]
        )

    requesting = _provider(_npis(resolve(bundle, 0, claim.get("provider")), bundle))
    if requesting is None or requesting.organization_id != organization.pk:
        requesting = user.provider if user.provider_id else None
    if requesting is None:
        faults.append(
            (
                RejectReason.PROVIDER_NOT_ON_FILE,
                f"{_CLAIM}.provider",
                "The requesting provider's NPI is not on file for your organization.",
            )
        )
    care_team = {m.get("sequence"): m for m in claim.get("careTeam") or [] if isinstance(m, dict)}

    urgency, urgency_reason = _urgency(claim)
    place = _place_of_service(claim, faults)
    answers = _answers(bundle, claim)
    diagnoses = {
        d.get("sequence"): [
            code
            for system, code in _codes(d.get("diagnosisCodeableConcept"))
            if system in ICD10_SYSTEMS
        ]
        for d in claim.get("diagnosis") or []
        if isinstance(d, dict)
    }
    facts = MemberFacts(
        eligible_on_date=True,
        hospice=member.hospice,
        terminal_condition=member.terminal_condition,
        cancer=member.cancer_diagnosis,
    )
    lines: list[services.LineInput] = []
    item_map: list[dict[str, Any]] = []
    no_tar: list[dict[str, Any]] = []
    servicing: Provider | None = None
    first_day: date | None = None
    for index, item in enumerate(claim.get("item") or []):
        path = f"{_CLAIM}.item[{index}]"
        sequence = item.get("sequence")
        codes = [c for _, c in _codes(item.get("productOrService")) if is_procedure_code(c.upper())]
        start, end = _dates(item, index, faults)
        if not codes:
            faults.append(
                (
                    RejectReason.INVALID_PROCEDURE,
                    f"{path}.productOrService",
                    f"Item {sequence}: the plan authorizes CPT or HCPCS codes; none was given.",
                )
            )
            continue
        code = codes[0].upper()
        if start is None:
            continue
        if not member.is_eligible_on(start):
            raise Rejected(
                [(RejectReason.SUBSCRIBER_NOT_FOUND, f"{_CLAIM}.patient", MEMBER_NOT_AVAILABLE)]
            )
        first_day = min(first_day, start) if first_day else start
        try:
            coverage = coverage_lookup(code=code, service_date=start, member=facts)
        except CriteriaError:
            coverage = None
        if coverage is not None and coverage.status == CoverageStatus.NOT_REQUIRED:
            no_tar.append(
                {
                    "sequence": sequence,
                    "line_number": None,
                    "code": code,
                    "reason": f"{coverage.reason} ({coverage.source})",
                }
            )
            continue
        for member_sequence in item.get("careTeamSequence") or []:
            provider = _provider(
                _npis(_find(bundle, (care_team.get(member_sequence) or {}).get("provider")), bundle)
            )
            if provider is not None and servicing is None:
                servicing = provider
        wanted = item.get("diagnosisSequence") or list(diagnoses)
        dx = [c for seq in wanted for c in diagnoses.get(seq, [])]
        if not dx:
            faults.append(
                (
                    RejectReason.INVALID_DIAGNOSIS,
                    f"{path}.diagnosisSequence",
                    f"Item {sequence}: give the ICD-10-CM diagnosis (Claim.diagnosis).",
                )
            )
        quantity = (item.get("quantity") or {}).get("value", 1)
        if not isinstance(quantity, int | float) or quantity != int(quantity):
            faults.append(
                (
                    RejectReason.INPUT_ERRORS,
                    f"{path}.quantity",
                    f"Item {sequence}: units are a whole number of services.",
                )
            )
            continue
        lines.append(
            services.LineInput(
                code=code,
                units=int(quantity),
                service_date_from=start,
                service_date_to=end or start,
                diagnosis_codes=dx,
                modifiers=[
                    c for _, c in (pair for m in item.get("modifier") or [] for pair in _codes(m))
                ],
                spinal_region=str(answers.get("spinal_region", ""))
                if catalog.family_for_code(code)
                else "",
            )
        )
        item_map.append({"sequence": sequence, "line_number": len(lines), "code": code})
    if servicing is None:
        for member_entry in care_team.values():
            servicing = _provider(_npis(_find(bundle, member_entry.get("provider")), bundle))
            if servicing is not None:
                break
    servicing = servicing or requesting
    if faults:
        raise Rejected(faults)
    data = services.TarInput(
        member=member.cin,
        servicing_provider=servicing.npi if servicing else "",
        requesting_provider=requesting.npi if requesting else "",
        request_type=RequestType.PRE_SERVICE,
        urgency=urgency,
        urgency_reason=urgency_reason,
        place_of_service=place,
        lines=lines,
        referral=_referral(bundle, claim, member=member, organization=organization, on=first_day),
        answers=answers,
    )
    return Reading(data=data, item_map=item_map, no_tar=no_tar)


# --- Field errors of the service → X12 faults ------------------------------------------------


def _faults_from(error: DomainError) -> list[Fault]:
    faults: list[Fault] = []
    for name, messages in error.fields.items():
        text = " ".join(messages)
        if name == "member":
            code = RejectReason.SUBSCRIBER_NOT_FOUND
            path = f"{_CLAIM}.patient"
        elif name in ("servicing_provider", "requesting_provider"):
            code, path = RejectReason.INVALID_PROVIDER_ID, f"{_CLAIM}.provider"
        elif name == "referral":
            code, path = RejectReason.REQUIRED_DATA_MISSING, f"{_CLAIM}.referral"
        elif "diagnosis" in name:
            code, path = RejectReason.INVALID_DIAGNOSIS, f"{_CLAIM}.diagnosis"
        elif name.endswith(".code"):
            code, path = RejectReason.INVALID_PROCEDURE, f"{_CLAIM}.item"
        elif "date" in name:
            code, path = RejectReason.INVALID_SERVICE_DATES, f"{_CLAIM}.item"
        else:
            code, path = RejectReason.INPUT_ERRORS, _CLAIM
        faults.append((code, path, f"{name}: {text}"))
    return faults or [(RejectReason.INPUT_ERRORS, _CLAIM, error.message)]


# --- The operations --------------------------------------------------------------------------


def _identifier(element: Any) -> tuple[str, str]:
    if not isinstance(element, dict):
        return "", ""
    return str(element.get("system") or "")[:255], str(element.get("value") or "")[:255]


def _idempotency_key(organization: ProviderOrganization, system: str, value: str) -> str:
    digest = hashlib.sha256(f"{organization.pk}|{system}|{value}".encode()).hexdigest()
    return f"fhir-pas:{digest}"


def pas_submit(
    *, user: User, organization: ProviderOrganization, bundle: Any, now: datetime | None = None
) -> dict:
    """Answer a `$submit`: the PAS response Bundle (HTTP 200), or InvalidBundle (HTTP 400)."""
    now = now or timezone.now()
    issues = validate_bundle(bundle, BundleKind.SUBMIT)
    if issues:
        raise InvalidBundle(issues)
    claim = bundle["entry"][0]["resource"]
    if is_update(claim) or is_cancel(claim):
        return pas_update(user=user, organization=organization, bundle=bundle, now=now)
    system, value = _identifier(bundle.get("identifier"))
    existing = PasRequest.objects.filter(
        organization=organization, bundle_system=system, bundle_value=value
    ).first()
    if existing is not None:
        # A retried submit: the same answer, as of now.
        return pas_response_bundle(existing.tar, now=now)
    try:
        reading = read_claim(bundle=bundle, user=user, organization=organization, now=now)
    except Rejected as rejected:
        return error_response_bundle(request_bundle=bundle, errors=rejected.faults, now=now)
    if not reading.data.lines:
        return no_action_response_bundle(request_bundle=bundle, items=reading.no_tar, now=now)
    claim_system, claim_value = _identifier((claim.get("identifier") or [{}])[0])
    key = _idempotency_key(organization, system, value)
    try:
        with transaction.atomic():
            tar, _ = submission.tar_submit_guarded(
                user=user,
                data=reading.data,
                idempotency_key=key,
                default_channel=Channel.FHIR,
                now=now,
            )
            PasRequest.objects.create(
                tar=tar,
                organization=organization,
                bundle_system=system,
                bundle_value=value,
                claim_system=claim_system,
                claim_value=claim_value,
                items=reading.item_map + reading.no_tar,
                submitted_by=user,
                received_at=tar.received_at,
            )
    except DomainError as error:
        if error.code != ErrorCode.INVALID:
            raise
        return error_response_bundle(request_bundle=bundle, errors=_faults_from(error), now=now)
    except IntegrityError:
        # The same Bundle raced itself: the first one's answer.
        existing = PasRequest.objects.get(
            organization=organization, bundle_system=system, bundle_value=value
        )
        return pas_response_bundle(existing.tar, now=now)
    return pas_response_bundle(tar, now=now)


def _prior_request(
    bundle: dict, claim: dict, organization: ProviderOrganization
) -> PasRequest | None:
    """The organization's earlier submission the update or cancel names: Claim.related.claim
    (a Reference to the earlier Claim, in the Bundle or by identifier), else the Claim's own
    identifier, else a preAuthRef-style authorization number (the TAR number)."""
    values: list[str] = []
    for related in claim.get("related") or []:
        reference = related.get("claim") or {}
        if isinstance(reference.get("identifier"), dict):
            values.append(str(reference["identifier"].get("value", "")))
        target = resolve(bundle, 0, reference) or {}
        values += [str(i.get("value", "")) for i in target.get("identifier") or []]
    values += [str(i.get("value", "")) for i in claim.get("identifier") or []]
    mine = PasRequest.objects.select_related("tar").filter(organization=organization)
    for value in (v for v in values if v):
        found = (
            mine.filter(claim_value=value).order_by("-received_at").first()
            or mine.filter(tar__number=value).first()
        )
        if found is not None:
            return found
    return None


def _item_cancelled(item: dict) -> bool:
    """PAS 2.2.1: an item is cancelled by certification type 3 on it, or by the
    `infoCancelledFlag` modifier extension set true (modifierextension-infoCancelled)."""
    if CERTIFICATION_CANCEL in _certification(item):
        return True
    return any(
        isinstance(ext, dict) and ext.get("url") == EXT_INFO_CANCELLED and ext.get("valueBoolean")
        for ext in item.get("modifierExtension") or []
    )


def _item_change(item: dict) -> str:
    """The item's `extension-infoChanged` code: "changed", "added", or "" (as before)."""
    for ext in extensions(item, EXT_INFO_CHANGED):
        return str(ext.get("valueCode") or "")
    return ""


@dataclass
class ItemChanges:
    """What a PASClaimUpdate's items ask, by Claim.item.sequence (PAS: sequences stay the same
    across every instance of the request)."""

    changed: list[dict[str, Any]] = field(default_factory=list)
    added: list[dict[str, Any]] = field(default_factory=list)
    cancelled: list[Any] = field(default_factory=list)

    def any(self) -> bool:
        return bool(self.changed or self.added or self.cancelled)


def item_changes(claim: dict, known: set[Any]) -> ItemChanges:
    """Sort the update's items: cancelled (flag or type 3), added (infoChanged = added, or a
    sequence the request never had), changed (infoChanged = changed); an item without a flag
    is as it was and changes nothing."""
    changes = ItemChanges()
    for item in claim.get("item") or []:
        if not isinstance(item, dict):
            continue
        mode = _item_change(item)
        if _item_cancelled(item):
            changes.cancelled.append(item.get("sequence"))
        elif mode == "added" or (mode == "changed" and item.get("sequence") not in known):
            changes.added.append(item)
        elif mode == "changed":
            changes.changed.append(item)
    return changes


def _lines_of(
    items: list[dict[str, Any]],
    *,
    bundle: dict,
    user: User,
    organization: ProviderOrganization,
    now: datetime,
) -> dict[Any, services.LineInput]:
    """The service lines of some items of the update, read as a submission reads them (the
    same member, provider, code, date and diagnosis checks), by item sequence."""
    if not items:
        return {}
    partial = copy.deepcopy(bundle)
    partial["entry"][0]["resource"]["item"] = copy.deepcopy(items)
    reading = read_claim(bundle=partial, user=user, organization=organization, now=now)
    if reading.no_tar:
        raise Rejected(
            [
                (
                    RejectReason.INVALID_PROCEDURE,
                    f"{_CLAIM}.item",
                    f"Item {entry['sequence']}: {entry['code']} needs no TAR; leave it out.",
                )
                for entry in reading.no_tar
            ]
        )
    return {
        entry["sequence"]: reading.data.lines[entry["line_number"] - 1]
        for entry in reading.item_map
    }


def _amend(
    *,
    tar: Tar,
    prior: PasRequest,
    changes: ItemChanges,
    bundle: dict,
    user: User,
    organization: ProviderOrganization,
    now: datetime,
) -> None:
    """The update's line changes through the kernel: AMEND_LINES, or WITHDRAW when every
    line is cancelled and none added (PRODUCT §11: a cancel is a withdrawal). The request's
    item map follows (a cancelled item is answered C from then on)."""
    by_sequence = {i.get("sequence"): i for i in prior.items}
    line_of = {s: i["line_number"] for s, i in by_sequence.items() if i.get("line_number")}
    changed = _lines_of(
        changes.changed, bundle=bundle, user=user, organization=organization, now=now
    )
    added = _lines_of(changes.added, bundle=bundle, user=user, organization=organization, now=now)
    cancel = sorted({line_of[s] for s in changes.cancelled if s in line_of})
    open_lines = set(tar.lines.values_list("line_number", flat=True))
    if not added and open_lines and open_lines <= set(cancel):
        services.tar_withdraw(
            tar_id=tar.pk,
            user=user,
            reason="Every item cancelled by the requesting provider (PAS Claim update).",
        )
        return
    cancelled_words = ", ".join(str(s) for s in changes.cancelled)
    services.tar_amend_lines(
        tar_id=tar.pk,
        user=user,
        amendment=services.LineAmendment(
            add=list(added.values()),
            change={line_of[s]: line for s, line in changed.items() if s in line_of},
            cancel=cancel,
        ),
        reason="Changed by the requesting provider (PAS Claim update)"
        + (f"; items {cancelled_words} cancelled." if cancelled_words else "."),
        now=now,
    )
    numbers = sorted(set(tar.lines.values_list("line_number", flat=True)) - open_lines)
    items = [
        (
            {**i, "line_number": None, "cancelled": True}
            if i.get("sequence") in changes.cancelled
            else i
        )
        for i in prior.items
    ]
    for sequence, number in zip(added, numbers, strict=True):
        items = [i for i in items if i.get("sequence") != sequence]
        items.append({"sequence": sequence, "line_number": number, "code": added[sequence].code})
    for sequence, line in changed.items():
        for entry in items:
            if entry.get("sequence") == sequence and entry.get("line_number"):
                entry["code"] = line.code
    PasRequest.objects.filter(pk=prior.pk).update(items=items)


def pas_update(
    *, user: User, organization: ProviderOrganization, bundle: dict, now: datetime
) -> dict:
    """A PASClaimUpdate or a cancel, on the organization's own earlier request, through the
    workflow kernel:
    - a cancel (certification type 3 on the Claim or on every item) withdraws the TAR;
    - items flagged cancelled, changed or added (PAS `infoCancelledFlag`, certification type
      3 on the item, `infoChanged`) change those lines (AMEND_LINES): the others go on, and
      the whole request is withdrawn when every line is cancelled;
    - answers in a DTR QuestionnaireResponse answer the plan's information request
      (RECEIVE_INFO), before the line changes when both come together.
    All of it in one transaction. Anything the workflow does not allow is an error answer
    naming why, and changes nothing."""
    claim = bundle["entry"][0]["resource"]
    prior = _prior_request(bundle, claim, organization)
    if prior is None:
        return error_response_bundle(
            request_bundle=bundle,
            errors=[
                (
                    RejectReason.INPUT_ERRORS,
                    f"{_CLAIM}.related",
                    "No earlier request from your organization has this identifier.",
                )
            ],
            now=now,
        )
    # Scope as the REST API does; the kernel checks it again under the row lock.
    tar = selectors.tar_get(user=user, tar_id=prior.tar_id)
    changes = item_changes(claim, {i.get("sequence") for i in prior.items})
    try:
        with transaction.atomic():
            # Type 3 on the Claim cancels the request; on items, those items (which may be
            # every line: `_amend` withdraws the request then).
            if CERTIFICATION_CANCEL in _certification(claim) or not (
                changes.any() or is_update(claim)
            ):
                services.tar_withdraw(
                    tar_id=tar.pk,
                    user=user,
                    reason="Cancelled by the requesting provider (PAS certification type 3).",
                )
            else:
                answers = _answers(bundle, claim)
                # Answers answer an information request; with line changes, only when one
                # is open (the lines are then evaluated with the new answers).
                if not changes.any() or (answers and tar.status == TarStatus.PENDED):
                    services.tar_receive_info(
                        tar_id=tar.pk,
                        user=user,
                        response="Updated by the requesting provider (PAS Claim update): "
                        + ", ".join(
                            f"item {i.get('sequence')}"
                            for i in claim.get("item") or []
                            if isinstance(i, dict)
                        ),
                        answers=answers,
                    )
                if changes.any():
                    _amend(
                        tar=tar,
                        prior=prior,
                        changes=changes,
                        bundle=bundle,
                        user=user,
                        organization=organization,
                        now=now,
                    )
    except Rejected as rejected:
        return error_response_bundle(request_bundle=bundle, errors=rejected.faults, now=now)
    except DomainError as error:
        if error.code in (ErrorCode.INVALID_TRANSITION, ErrorCode.INVALID):
            faults = _faults_from(error) if error.fields else []
            return error_response_bundle(
                request_bundle=bundle,
                errors=faults
                or [(RejectReason.INPUT_ERRORS, _CLAIM, f"{tar.number}: {error.message}")],
                now=now,
            )
        raise
    return pas_response_bundle(Tar.objects.get(pk=tar.pk), now=now)
