"""The PAS response Bundle for a TAR, and the error answers (PRODUCT §11).

`pas_response_bundle(tar)` is public: `$submit`, `$inquire` and the subscription
notifications (fhir-auth) all answer with it, so an EHR reads one shape whichever way it
learns of a decision.

Per Claim.item the ClaimResponse carries the review action (X12 306, PAS extension
`extension-reviewAction`): A1 certified, A3 not certified, A4 pended, A6 modified, C
cancelled (withdrawn), NA no action required (no TAR needed). Every A3 and A6 carries the
specific reason (`reviewAction.reasonCode` and `processNote`) and the criteria cited, as
CMS-0057-F (42 CFR 438.210(d)(1)-(2) as amended) requires of a denial's explanation.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from authorizations.models import (
    OPEN_STATUSES,
    Decision,
    LineOutcome,
    ReasonCode,
    ServiceLine,
    Tar,
    TarStatus,
)
from fhir.validation import ADJUDICATION_SYSTEM, EXT_REVIEW_ACTION, PAS, Issue, resolve

PROFILE_RESPONSE_BUNDLE = PAS + "profile-pas-response-bundle"
PROFILE_INQUIRY_RESPONSE_BUNDLE = PAS + "profile-pas-inquiry-response-bundle"
PROFILE_CLAIM_RESPONSE = PAS + "profile-claimresponse"
PROFILE_INQUIRY_RESPONSE = PAS + "profile-claiminquiryresponse"
EXT_REVIEW_ACTION_CODE = PAS + "extension-reviewActionCode"
EXT_PRE_AUTH_PERIOD = PAS + "extension-itemPreAuthPeriod"
EXT_ERROR_PATH = PAS + "extension-errorPath"
EXT_AUTHORIZED_DETAIL = PAS + "extension-itemAuthorizedDetail"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
EXT_ERROR_FOLLOWUP = PAS + "extension-errorFollowupAction"
X12_REVIEW_ACTION = "https://codesystem.x12.org/005010/306"
X12_REJECT_REASON = "https://codesystem.x12.org/005010/901"
X12_FOLLOWUP = "https://codesystem.x12.org/005010/889"
CIN_SYSTEM = "urn:oid:2.16.840.1.113883.4.3.6"  # California Medi-Cal CIN (DHCS OID arc)
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
_NAMESPACE = uuid.UUID("6f0c3a52-5d8f-4d0e-9a39-2f0d64a7c1b1")


def fhir_base() -> str:
    """The absolute base of this server's FHIR endpoint, for fullUrls and identifiers."""
    return settings.PORTAL_BASE_URL.rstrip("/") + "/fhir/"


def tar_number_system() -> str:
    return fhir_base() + "NamingSystem/tar-number"


def reason_code_system() -> str:
    # The plan's stable reason codes (authorizations.models.ReasonCode, PRODUCT §8). The X12
    # review decision reason codes (external code list 886) are licensed and not ours to
    # reproduce; the plan's own code and the plain-language text are what CMS-0057-F asks.
    return fhir_base() + "CodeSystem/tar-reason-code"


class ReviewAction:
    """X12 306 Action Codes used in `extension-reviewActionCode`."""

    CERTIFIED = ("A1", "Certified in total")
    NOT_CERTIFIED = ("A3", "Not Certified")
    PENDED = ("A4", "Pended")
    MODIFIED = ("A6", "Modified")
    CANCELLED = ("C", "Cancelled")
    NO_ACTION_REQUIRED = ("NA", "No Action Required")


# X12 901 (AAA03) reject reason codes for an answer with outcome = error.
class RejectReason:
    REQUIRED_DATA_MISSING = ("15", "Required application data missing")
    INPUT_ERRORS = ("33", "Input Errors")
    INVALID_PROVIDER_ID = ("43", "Invalid/Missing Provider Identification")
    PROVIDER_NOT_ON_FILE = ("51", "Provider Not on File")
    INVALID_SERVICE_DATES = ("57", "Invalid/Missing Date(s) of Service")
    SUBSCRIBER_NOT_FOUND = ("75", "Subscriber/Insured Not Found")
    NOT_IN_PLAN = ("78", "Subscriber/Insured Not in Group/Plan Identified")
    INVALID_DIAGNOSIS = ("AF", "Invalid/Missing Diagnosis Code(s)")
    INVALID_PROCEDURE = ("AG", "Invalid/Missing Procedure Code(s)")


def _coding(system: str, pair: tuple[str, str]) -> dict:
    return {"coding": [{"system": system, "code": pair[0], "display": pair[1]}]}


def _urn(*parts: Any) -> str:
    return "urn:uuid:" + str(uuid.uuid5(_NAMESPACE, "|".join(str(p) for p in parts)))


def _instant(at: datetime) -> str:
    return timezone.localtime(at).isoformat(timespec="seconds")


def _plan_organization() -> dict:
    return {
        "resourceType": "Organization",
        "id": "plan",
        "meta": {"profile": [PAS + "profile-insurer"]},
        "active": True,
        "type": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                        "code": "pay",
                        "display": "Payer",
                    }
                ]
            }
        ],
        "name": settings.PLAN_NAME,
    }


def _patient(tar: Tar) -> dict:
    member = tar.member
    return {
        "resourceType": "Patient",
        "meta": {"profile": [PAS + "profile-beneficiary"]},
        "identifier": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "MB",
                            "display": "Member Number",
                        }
                    ]
                },
                "system": CIN_SYSTEM,
                "value": member.cin,
            }
        ],
        "name": [{"family": member.last_name, "given": [member.first_name]}],
        "birthDate": member.date_of_birth.isoformat(),
    }


def _requestor(tar: Tar) -> dict:
    provider = tar.requesting_provider
    return {
        "resourceType": "Organization",
        "meta": {"profile": [PAS + "profile-requestor"]},
        "identifier": [{"system": NPI_SYSTEM, "value": provider.npi}],
        "active": True,
        "name": tar.requesting_organization.name,
    }


def _period(start: date | None, end: date | None) -> dict:
    period = {"start": start.isoformat() if start else "", "end": end.isoformat() if end else ""}
    return {k: v for k, v in period.items() if v}


def _latest_decision(tar: Tar) -> Decision | None:
    decisions = list(tar.decisions.all())
    return decisions[-1] if decisions else None


def _line_action(tar: Tar, line: ServiceLine) -> tuple[str, str]:
    if tar.status == TarStatus.WITHDRAWN:
        return ReviewAction.CANCELLED
    if tar.status in OPEN_STATUSES or line.outcome == LineOutcome.PENDING:
        return ReviewAction.PENDED
    if line.outcome == LineOutcome.APPROVED:
        return ReviewAction.CERTIFIED
    if line.outcome == LineOutcome.MODIFIED:
        return ReviewAction.MODIFIED
    if (
        line.outcome == LineOutcome.CLOSED
        and tar.reason_code == ReasonCode.NO_AUTHORIZATION_REQUIRED
    ):
        return ReviewAction.NO_ACTION_REQUIRED
    return ReviewAction.NOT_CERTIFIED


def _citation(ref: Any) -> str:
    """A criterion as the letters cite it (criteria.services.criteria_refs_resolve)."""
    if not isinstance(ref, dict):
        return str(ref)
    return (
        f"{ref.get('title', ref.get('criteria_set'))} version {ref.get('version')}, "
        f"criterion {ref.get('number')} ({ref.get('ref')}): {ref.get('text', '')}"
    ).strip()


def reason_text(tar: Tar, decision: Decision | None) -> str:
    """The specific reason and the criteria cited, in the words the letters use."""
    if decision is None:
        return ""
    parts = []
    if decision.reason_code:
        parts.append(ReasonCode(decision.reason_code).label + ".")
    if decision.rationale:
        parts.append(decision.rationale)
    if decision.criteria_refs:
        parts.append("Criteria cited: " + "; ".join(_citation(r) for r in decision.criteria_refs))
    return " ".join(parts)


def _review_action(
    action: tuple[str, str], tar: Tar, decision: Decision | None, with_reason: bool
) -> dict:
    parts: list[dict] = [
        {"url": EXT_REVIEW_ACTION_CODE, "valueCodeableConcept": _coding(X12_REVIEW_ACTION, action)},
        {"url": "number", "valueString": tar.number},
    ]
    if with_reason and decision is not None:
        concept: dict[str, Any] = {"text": reason_text(tar, decision)}
        if decision.reason_code:
            code = ReasonCode(decision.reason_code)
            concept["coding"] = [
                {"system": reason_code_system(), "code": code.value, "display": code.label}
            ]
        parts.append({"url": "reasonCode", "valueCodeableConcept": concept})
    return {"url": EXT_REVIEW_ACTION, "extension": parts}


def _item(
    tar: Tar, line: ServiceLine, sequence: int, decision: Decision | None
) -> tuple[dict, tuple[str, str]]:
    action = _line_action(tar, line)
    with_reason = action in (ReviewAction.NOT_CERTIFIED, ReviewAction.MODIFIED)
    adjudication: list[dict] = [
        {
            "extension": [_review_action(action, tar, decision, with_reason)],
            "category": {"coding": [{"system": ADJUDICATION_SYSTEM, "code": "submitted"}]},
        }
    ]
    item: dict[str, Any] = {"itemSequence": sequence, "adjudication": adjudication}
    if action in (ReviewAction.CERTIFIED, ReviewAction.MODIFIED):
        # What was authorized: the period, and the code and units (PAS itemAuthorizedDetail).
        item["extension"] = [
            {
                "url": EXT_PRE_AUTH_PERIOD,
                "valuePeriod": _period(line.approved_date_from, line.approved_date_to),
            },
            {
                "url": EXT_AUTHORIZED_DETAIL,
                "extension": [
                    {
                        "url": "productOrServiceCode",
                        "valueCodeableConcept": {
                            "coding": [
                                {
                                    "system": HCPCS if line.code[:1].isalpha() else CPT,
                                    "code": line.code,
                                }
                            ]
                        },
                    },
                    {
                        "url": "quantity",
                        "valueQuantity": {"value": line.approved_units or line.units},
                    },
                ],
            },
        ]
    return item, action


def _no_tar_item(sequence: int, reason: str) -> dict:
    return {
        "itemSequence": sequence,
        "adjudication": [
            {
                "extension": [
                    {
                        "url": EXT_REVIEW_ACTION,
                        "extension": [
                            {
                                "url": EXT_REVIEW_ACTION_CODE,
                                "valueCodeableConcept": _coding(
                                    X12_REVIEW_ACTION, ReviewAction.NO_ACTION_REQUIRED
                                ),
                            },
                            {
                                "url": "reasonCode",
                                "valueCodeableConcept": {
                                    "coding": [
                                        {
                                            "system": reason_code_system(),
                                            "code": ReasonCode.NO_AUTHORIZATION_REQUIRED.value,
                                            "display": ReasonCode.NO_AUTHORIZATION_REQUIRED.label,
                                        }
                                    ],
                                    "text": reason,
                                },
                            },
                        ],
                    }
                ],
                "category": {"coding": [{"system": ADJUDICATION_SYSTEM, "code": "submitted"}]},
            }
        ],
    }


def _status_note(tar: Tar, decision: Decision | None) -> str:
    if tar.status in OPEN_STATUSES:
        due = timezone.localtime(tar.decision_due_at)
        note = (
            f"{tar.number} is pended for review ({tar.get_status_display().lower()}). "
            f"The plan will decide by {due:%Y-%m-%d %H:%M %Z} ({tar.decision_due_rule})."
        )
        if tar.status == TarStatus.PENDED:
            asked = tar.information_requests.filter(responded_at__isnull=True).last()
            if asked is not None:
                note += f" Information requested: {asked.message}"
        return note
    if tar.status == TarStatus.WITHDRAWN:
        return f"{tar.number} was withdrawn by the requesting provider."
    text = f"{tar.number} {tar.get_status_display().lower()}."
    reason = reason_text(tar, decision)
    return f"{text} {reason}".strip()


def _claim_identifier(tar: Tar) -> dict:
    pas = getattr(tar, "pas_request", None)
    if pas is not None:
        identifier = {"system": pas.claim_system, "value": pas.claim_value}
        return {k: v for k, v in identifier.items() if v}
    return {"system": tar_number_system(), "value": tar.number}


def _cancelled_item(tar: Tar, sequence: int) -> dict:
    """An item the provider cancelled by a Claim update (fhir.submit): its line was removed
    from the request, the rest go on; answered C (X12 306 cancelled)."""
    action = _review_action(ReviewAction.CANCELLED, tar, None, False)
    return {
        "itemSequence": sequence,
        "adjudication": [
            {
                "extension": [action],
                "category": {"coding": [{"system": ADJUDICATION_SYSTEM, "code": "submitted"}]},
            }
        ],
    }


def _item_sequences(tar: Tar) -> tuple[dict[int, int], list[dict], list[int]]:
    """line number → Claim.item.sequence, the items that needed no TAR, and the sequences of
    the items cancelled by an update."""
    pas = getattr(tar, "pas_request", None)
    if pas is None:
        return {}, [], []
    sequences = {i["line_number"]: i["sequence"] for i in pas.items if i.get("line_number")}
    no_tar = [i for i in pas.items if not i.get("line_number") and not i.get("cancelled")]
    cancelled = [i["sequence"] for i in pas.items if i.get("cancelled")]
    return sequences, no_tar, cancelled


def claim_response(tar: Tar, *, now: datetime, inquiry: bool = False) -> dict:
    """The ClaimResponse for one TAR, referencing the Patient, insurer and requestor entries
    that `pas_response_bundle` adds beside it."""
    decision = _latest_decision(tar)
    sequences, no_tar, cancelled = _item_sequences(tar)
    items = []
    actions = []
    for line in tar.lines.all():
        item, action = _item(tar, line, sequences.get(line.line_number, line.line_number), decision)
        items.append(item)
        actions.append(action)
    for extra in no_tar:
        items.append(_no_tar_item(extra["sequence"], extra.get("reason", "")))
    items += [_cancelled_item(tar, sequence) for sequence in cancelled]
    items.sort(key=lambda i: i["itemSequence"])
    response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": tar.number,
        "meta": {"profile": [PROFILE_INQUIRY_RESPONSE if inquiry else PROFILE_CLAIM_RESPONSE]},
        "identifier": [{"system": tar_number_system(), "value": tar.number}],
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "preauthorization",
        "patient": {"reference": _urn(tar.number, "Patient")},
        "created": _instant(now),
        "insurer": {"reference": _urn(tar.number, "insurer")},
        "requestor": {"reference": _urn(tar.number, "requestor")},
        "request": {"identifier": _claim_identifier(tar)},
        "outcome": "complete",
        "disposition": _status_note(tar, decision)[:1000],
        "preAuthRef": tar.number,
        "item": items,
        "processNote": [{"number": 1, "type": "display", "text": _status_note(tar, decision)}],
    }
    if decision is not None and tar.status not in OPEN_STATUSES:
        response["extension"] = [
            {
                "url": PAS + "extension-claimResponseReviewer",
                "extension": [
                    {"url": "wasHumanReviewedFlag", "valueBoolean": not decision.automated}
                ],
            }
        ]
    approved = [
        line
        for line in tar.lines.all()
        if line.outcome in (LineOutcome.APPROVED, LineOutcome.MODIFIED) and line.approved_date_from
    ]
    if approved and tar.status in (TarStatus.APPROVED, TarStatus.MODIFIED):
        response["preAuthPeriod"] = _period(
            min(line.approved_date_from for line in approved if line.approved_date_from),
            max(line.approved_date_to for line in approved if line.approved_date_to),
        )
    if tar.status in OPEN_STATUSES:
        # The expected decision date, machine-readable beside the processNote's words.
        response["processNote"].append(
            {
                "number": 2,
                "type": "print",
                "text": "expected-decision-date " + _instant(tar.decision_due_at),
            }
        )
    return response


def _entries_for(tar: Tar, response: dict) -> list[dict]:
    return [
        {"fullUrl": fhir_base() + f"ClaimResponse/{tar.number}", "resource": response},
        {"fullUrl": _urn(tar.number, "Patient"), "resource": _patient(tar)},
        {"fullUrl": _urn(tar.number, "insurer"), "resource": _plan_organization()},
        {"fullUrl": _urn(tar.number, "requestor"), "resource": _requestor(tar)},
    ]


def _bundle(profile: str, identifier: dict | None, entries: list[dict], now: datetime) -> dict:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "meta": {"profile": [profile]},
        "type": "collection",
        "timestamp": _instant(now),
        "entry": entries,
    }
    if identifier:
        bundle["identifier"] = identifier
    return bundle


def _load(tar: Tar) -> Tar:
    return (
        Tar.objects.select_related(
            "member", "requesting_provider", "requesting_organization", "pas_request"
        )
        .prefetch_related("lines", "decisions")
        .get(pk=tar.pk)
    )


def pas_response_bundle(tar: Tar, *, now: datetime | None = None) -> dict:
    """The PAS response Bundle (profile-pas-response-bundle) with the TAR's current state:
    a ClaimResponse first, then the Patient, the plan as insurer and the requestor. The
    Bundle's identifier is the submitted Bundle's when the TAR came through `$submit`."""
    now = now or timezone.now()
    tar = _load(tar)
    pas = getattr(tar, "pas_request", None)
    identifier = (
        {"system": pas.bundle_system, "value": pas.bundle_value}
        if pas is not None
        else {"system": tar_number_system(), "value": tar.number}
    )
    identifier = {k: v for k, v in identifier.items() if v}
    return _bundle(
        PROFILE_RESPONSE_BUNDLE, identifier, _entries_for(tar, claim_response(tar, now=now)), now
    )


def inquiry_response_bundle(
    tars: list[Tar], *, identifier: dict | None, now: datetime | None = None
) -> dict:
    """profile-pas-inquiry-response-bundle: one ClaimResponse (and its parties) per match."""
    now = now or timezone.now()
    entries: list[dict] = []
    for tar in tars:
        tar = _load(tar)
        entries.extend(_entries_for(tar, claim_response(tar, now=now, inquiry=True)))
    return _bundle(PROFILE_INQUIRY_RESPONSE_BUNDLE, identifier, entries, now)


def error_response_bundle(
    *,
    request_bundle: dict,
    errors: list[tuple[tuple[str, str], str, str]],
    now: datetime | None = None,
    inquiry: bool = False,
) -> dict:
    """A conformant answer to a valid Bundle the plan cannot act on (member not found, not
    eligible, provider unknown): a ClaimResponse with outcome = error and one X12 901 code
    per fault, each with the path in the request and the words (PRODUCT §11)."""
    return _echo_bundle(
        request_bundle=request_bundle, errors=errors, items=[], now=now, inquiry=inquiry
    )


def no_action_response_bundle(
    *, request_bundle: dict, items: list[dict], now: datetime | None = None
) -> dict:
    """Every item needs no TAR (PRODUCT §5): outcome complete, each item X12 306 NA with the
    rule that exempts it. No TAR is created."""
    return _echo_bundle(request_bundle=request_bundle, errors=[], items=items, now=now)


def _echo_bundle(
    *,
    request_bundle: dict,
    errors: list[tuple[tuple[str, str], str, str]],
    items: list[dict],
    now: datetime | None,
    inquiry: bool = False,
) -> dict:
    """An answer without a TAR. It echoes the request's own Patient, insurer and provider
    entries, which the ClaimResponse references."""
    now = now or timezone.now()
    claim = request_bundle["entry"][0]["resource"]
    identifier = request_bundle.get("identifier") or {}
    kept: list[dict] = []
    references: dict[str, dict] = {}
    for name in ("patient", "insurer", "provider"):
        target = resolve(request_bundle, 0, claim.get(name))
        if target is None:
            continue
        key = _urn(identifier.get("value"), claim.get("id"), name)
        references[name] = {"reference": key}
        kept.append({"fullUrl": key, "resource": target})
    words = " ".join(text for _, _, text in errors) or " ".join(
        f"Item {i['sequence']}: no TAR is needed. {i.get('reason', '')}".strip() for i in items
    )
    response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "meta": {"profile": [PROFILE_INQUIRY_RESPONSE if inquiry else PROFILE_CLAIM_RESPONSE]},
        "status": "active",
        "type": claim.get("type")
        or {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "preauthorization",
        "patient": references.get("patient") or {"display": "Unknown member"},
        "created": _instant(now),
        "insurer": references.get("insurer") or {"display": settings.PLAN_NAME},
        "request": {"identifier": (claim.get("identifier") or [{}])[0]},
        "outcome": "error" if errors else "complete",
        "disposition": words[:1000],
    }
    if errors:
        response["error"] = [
            {
                "extension": [
                    {"url": EXT_ERROR_PATH, "valueString": path},
                    {
                        "url": EXT_ERROR_FOLLOWUP,
                        "valueCodeableConcept": _coding(
                            X12_FOLLOWUP, ("C", "Please Correct and Resubmit")
                        ),
                    },
                ],
                "code": {**_coding(X12_REJECT_REASON, code), "text": text},
            }
            for code, path, text in errors
        ]
    if items:
        response["item"] = [_no_tar_item(i["sequence"], i.get("reason", "")) for i in items]
        response["processNote"] = [{"number": 1, "type": "display", "text": words}]
    if "provider" in references:
        response["requestor"] = references["provider"]
    entries = [
        {
            "fullUrl": _urn(identifier.get("value"), claim.get("id"), "response"),
            "resource": response,
        },
        *kept,
    ]
    bundle_identifier = {k: v for k, v in identifier.items() if k in ("system", "value")}
    profile = PROFILE_INQUIRY_RESPONSE_BUNDLE if inquiry else PROFILE_RESPONSE_BUNDLE
    return _bundle(profile, bundle_identifier or None, entries, now)


def operation_outcome(issues: list[Issue]) -> dict:
    """An OperationOutcome for a request the server refuses (HTTP 4xx)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": issue.severity,
                "code": str(issue.code),
                "diagnostics": issue.diagnostics,
                "expression": [issue.expression],
            }
            for issue in issues
        ],
    }
