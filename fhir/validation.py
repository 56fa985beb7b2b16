"""What a Da Vinci PAS 2.2.1 Bundle must be before the plan acts on it (PRODUCT §11).

The rules are the profiles' own, read from the snapshots in the published package
(`../shared/fhir/davinci-pas-2.2.1/StructureDefinition-*.json`) and written here as code, so
that the package is the yardstick the tests hold this module against rather than a runtime
dependency:

- profile-pas-request-bundle / profile-pas-inquiry-request-bundle: `identifier` 1..1,
  `type` = collection, `timestamp` 1..1, `entry` 1..*, every entry a `fullUrl` and a
  `resource`, the Claim slice 1..2 (inquiry 1..1) and first; the inquiry forbids
  `entry.request`/`entry.response`.
- profile-claim (and -update, -inquiry, on profile-claim-base): `identifier` 1..2 with system
  and value (inquiry 1..1), `status` = active, `type`, `use` = preauthorization, `patient`,
  `created`, `insurer`, `provider`, `priority`, `insurance` 1..* with `focal` = true,
  `item` 1..* with `sequence`, `category`, `productOrService`, `location[x]` and the
  `extension-serviceItemRequestType` and `extension-certificationType` extensions 1..1 each
  (the inquiry's items need only sequence and productOrService); `careTeam` with
  `extension-careTeamClaimScope` 1..1; the update profile's `related` 1..1 (relationship
  `prior`).
- profile-pas-response-bundle / profile-claimresponse: `identifier`, `type` = collection,
  `timestamp`, the ClaimResponse first; ClaimResponse `status` = active, `type`, `use` =
  preauthorization, `patient`, `created`, `insurer`, `request`, `outcome`; each item an
  `itemSequence` and 1..* `adjudication` whose `category` is `submitted`; each `processNote`
  a `number` and `text`; each `error` a `code`.
- FHIR R4 Bundle resolution (http://hl7.org/fhir/R4/bundle.html#references): every literal
  reference inside a PAS Bundle must resolve to an entry of the same Bundle.

`structural_issues` adds the base R4 4.0.1 check (types, required elements, unknown
elements) through the SMART `fhirclient` models.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.dateparse import parse_datetime
from fhirclient.models.bundle import Bundle as R4Bundle
from fhirclient.models.fhirabstractbase import FHIRValidationError

PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
EXT_REQUEST_TYPE = PAS + "extension-serviceItemRequestType"
EXT_CERTIFICATION_TYPE = PAS + "extension-certificationType"
EXT_CARE_TEAM_SCOPE = PAS + "extension-careTeamClaimScope"
EXT_REVIEW_ACTION = PAS + "extension-reviewAction"
ADJUDICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/adjudication"
RELATED_CLAIM_SYSTEM = "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship"

# FHIR R4 instant: a date-time with seconds and a time zone (Bundle.timestamp).
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DATE_TIME = re.compile(
    r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$"
)


class IssueType(StrEnum):
    """FHIR R4 issue-type codes (http://hl7.org/fhir/issue-type) used in our answers."""

    INVALID = "invalid"  # the content is not valid
    STRUCTURE = "structure"  # not a Bundle of the right shape
    REQUIRED = "required"  # a required element is missing
    VALUE = "value"  # an element has a value the profile forbids
    INVARIANT = "invariant"  # a rule across elements (reference resolution, order)
    NOT_FOUND = "not-found"
    FORBIDDEN = "forbidden"
    PROCESSING = "processing"
    SECURITY = "security"
    LOGIN = "login"


@dataclass(frozen=True, slots=True)
class Issue:
    expression: str  # FHIRPath of the element at fault, e.g. "Bundle.entry[0].resource.use"
    diagnostics: str
    code: IssueType = IssueType.INVALID
    severity: str = "error"


class BundleKind(StrEnum):
    SUBMIT = "submit"  # profile-pas-request-bundle
    INQUIRE = "inquire"  # profile-pas-inquiry-request-bundle
    RESPONSE = "response"  # profile-pas-response-bundle
    INQUIRY_RESPONSE = "inquiry-response"  # profile-pas-inquiry-response-bundle


def _present(value: Any) -> bool:
    return value not in (None, "", [], {})


def _codes(concept: Any) -> set[tuple[str, str]]:
    if not isinstance(concept, dict):
        return set()
    return {
        (str(c.get("system", "")), str(c.get("code", "")))
        for c in concept.get("coding") or []
        if isinstance(c, dict)
    }


def extensions(element: dict, url: str) -> list[dict]:
    """The extensions of `element` with this URL (a versioned URL counts as the same)."""
    found = []
    for ext in element.get("extension") or []:
        if isinstance(ext, dict) and str(ext.get("url", "")).split("|")[0] == url:
            found.append(ext)
    return found


class _Checker:
    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(self, expression: str, message: str, code: IssueType = IssueType.VALUE) -> None:
        self.issues.append(Issue(expression=expression, diagnostics=message, code=code))

    def required(self, element: dict, name: str, path: str) -> bool:
        if not _present(element.get(name)):
            self.add(f"{path}.{name}", f"{path}.{name} is required (1..1).", IssueType.REQUIRED)
            return False
        return True

    def fixed(self, element: dict, name: str, value: str, path: str) -> None:
        if self.required(element, name, path) and element.get(name) != value:
            self.add(
                f"{path}.{name}",
                f"{path}.{name} must be '{value}', not {element.get(name)!r}.",
            )

    def reference(self, element: dict, name: str, path: str) -> None:
        if not self.required(element, name, path):
            return
        ref = element[name]
        if not isinstance(ref, dict) or not (
            _present(ref.get("reference")) or _present(ref.get("identifier"))
        ):
            self.add(f"{path}.{name}", f"{path}.{name} must be a Reference.", IssueType.STRUCTURE)

    def items(self, element: dict, name: str, path: str, minimum: int = 0) -> list[dict]:
        value = element.get(name)
        if value is None:
            value = []
        if not isinstance(value, list):
            self.add(f"{path}.{name}", f"{path}.{name} must be a list.", IssueType.STRUCTURE)
            return []
        if len(value) < minimum:
            self.add(
                f"{path}.{name}",
                f"{path}.{name} needs at least {minimum} element(s).",
                IssueType.REQUIRED,
            )
        return [v for v in value if isinstance(v, dict)]

    def one_extension(self, element: dict, url: str, path: str, label: str) -> None:
        found = extensions(element, url)
        if len(found) != 1:
            self.add(
                f"{path}.extension",
                f"{path} needs exactly one {label} extension ({url}); found {len(found)}.",
                IssueType.REQUIRED,
            )
        elif not _codes(found[0].get("valueCodeableConcept")):
            self.add(
                f"{path}.extension",
                f"The {label} extension needs a valueCodeableConcept with a coding.",
                IssueType.REQUIRED,
            )


# --- The Bundle ------------------------------------------------------------------------------


def _bundle_shell(check: _Checker, bundle: Any, kind: BundleKind) -> list[dict]:
    """Bundle-level rules; returns the entries that have a resource."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        check.add("Bundle", "The body must be a FHIR Bundle resource.", IssueType.STRUCTURE)
        return []
    if kind != BundleKind.INQUIRY_RESPONSE:  # the inquiry response leaves identifier 0..1
        identifier = bundle.get("identifier")
        if not isinstance(identifier, dict) or not _present(identifier.get("value")):
            check.add(
                "Bundle.identifier",
                "Bundle.identifier (with a value) is required: it identifies the submission.",
                IssueType.REQUIRED,
            )
    if bundle.get("type") != "collection":
        check.add("Bundle.type", f"Bundle.type must be 'collection', not {bundle.get('type')!r}.")
    timestamp = bundle.get("timestamp")
    if not _present(timestamp):
        check.add("Bundle.timestamp", "Bundle.timestamp is required.", IssueType.REQUIRED)
    elif not isinstance(timestamp, str) or not _INSTANT.match(timestamp):
        check.add("Bundle.timestamp", "Bundle.timestamp must be an instant with a time zone.")
    entries = check.items(bundle, "entry", "Bundle", minimum=1)
    seen: set[str] = set()
    resources = []
    for index, entry in enumerate(entries):
        path = f"Bundle.entry[{index}]"
        full_url = entry.get("fullUrl")
        if not isinstance(full_url, str) or not full_url:
            check.add(f"{path}.fullUrl", f"{path}.fullUrl (a URI) is required.", IssueType.REQUIRED)
        elif full_url in seen:
            check.add(f"{path}.fullUrl", f"{path}.fullUrl {full_url} appears twice.")
        else:
            seen.add(full_url)
        resource = entry.get("resource")
        if not isinstance(resource, dict) or not resource.get("resourceType"):
            check.add(f"{path}.resource", f"{path}.resource is required.", IssueType.REQUIRED)
            continue
        if kind in (BundleKind.INQUIRE, BundleKind.INQUIRY_RESPONSE) and (
            "request" in entry or "response" in entry or "search" in entry
        ):
            check.add(path, "An inquiry Bundle's entries carry no request, response or search.")
        resources.append(entry)
    first = {
        BundleKind.SUBMIT: "Claim",
        BundleKind.INQUIRE: "Claim",
        BundleKind.RESPONSE: "ClaimResponse",
        BundleKind.INQUIRY_RESPONSE: "ClaimResponse",
    }[kind]
    if entries and (entries[0].get("resource") or {}).get("resourceType") != first:
        check.add(
            "Bundle.entry[0]",
            f"The first entry must be the {first}.",
            IssueType.INVARIANT,
        )
    count = sum(1 for e in resources if e["resource"]["resourceType"] == first)
    most = 2 if kind == BundleKind.SUBMIT else 1
    if kind != BundleKind.INQUIRY_RESPONSE and count > most:
        check.add("Bundle.entry", f"At most {most} {first} entries (found {count}).")
    return resources


def _walk_references(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str):
            yield path, ref
        for key, child in value.items():
            if key != "contained":
                yield from _walk_references(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk_references(child, f"{path}[{index}]")


def _check_references(check: _Checker, entries: list[dict], *, claim_only: bool) -> None:
    """Every literal reference resolves inside the Bundle (FHIR R4 §2.36.4.1): an absolute URL
    or urn equal to an entry's fullUrl; a relative `Type/id` against the referencing entry's
    base URL, or to the entry holding that resource type and id; `#id` to a contained
    resource of the same resource.

    In a request (`claim_only`) the rule holds for every reference the Claim makes, which is
    what the plan acts on. A reference between two supporting resources that leaves the
    Bundle is not refused: the IG's own Bundle-SurgicalRequestBundleExample has a
    PractitionerRole pointing to a Practitioner and a Location it does not carry, and a
    conformant sender must not be turned away for the published example."""
    full_urls = {e.get("fullUrl") for e in entries}
    by_type_id = {
        f"{e['resource']['resourceType']}/{e['resource'].get('id')}"
        for e in entries
        if e["resource"].get("id")
    }
    for index, entry in enumerate(entries[:1] if claim_only else entries):
        resource = entry["resource"]
        contained = {
            f"#{c.get('id')}" for c in resource.get("contained") or [] if isinstance(c, dict)
        }
        base = ""
        full_url = str(entry.get("fullUrl") or "")
        match = re.match(r"^(.*/)[A-Za-z]+/[A-Za-z0-9\-.]{1,64}$", full_url)
        if match and "://" in full_url:
            base = match.group(1)
        for path, ref in _walk_references(resource, f"Bundle.entry[{index}].resource"):
            target = ref.split("/_history/")[0]
            if target.startswith("#"):
                ok = target in contained or target == "#"
            elif "://" in target or target.startswith("urn:"):
                ok = target in full_urls
            else:
                ok = (base and base + target in full_urls) or target in by_type_id
            if not ok:
                check.add(
                    f"{path}.reference",
                    f"The reference {ref!r} does not resolve to an entry of this Bundle.",
                    IssueType.INVARIANT,
                )


# --- The Claim -------------------------------------------------------------------------------


def is_update(claim: dict) -> bool:
    """A PASClaimUpdate names the claim it updates (profile-claim-update: related 1..1)."""
    return bool(claim.get("related"))


def _check_claim(check: _Checker, claim: dict, path: str, kind: BundleKind) -> None:
    identifiers = check.items(claim, "identifier", path, minimum=1)
    most = 1 if kind == BundleKind.INQUIRE else 2
    if len(identifiers) > most:
        check.add(f"{path}.identifier", f"{path}.identifier allows at most {most}.")
    for i, identifier in enumerate(identifiers):
        check.required(identifier, "system", f"{path}.identifier[{i}]")
        check.required(identifier, "value", f"{path}.identifier[{i}]")
    check.fixed(claim, "status", "active", path)
    check.required(claim, "type", path)
    check.fixed(claim, "use", "preauthorization", path)
    for name in ("patient", "insurer", "provider"):
        check.reference(claim, name, path)
    if check.required(claim, "created", path) and not (
        isinstance(claim["created"], str) and _DATE_TIME.match(claim["created"])
    ):
        check.add(f"{path}.created", f"{path}.created must be a FHIR dateTime.")
    check.required(claim, "priority", path)
    for i, insurance in enumerate(check.items(claim, "insurance", path, minimum=1)):
        ipath = f"{path}.insurance[{i}]"
        check.required(insurance, "sequence", ipath)
        if insurance.get("focal") is not True:
            check.add(f"{ipath}.focal", f"{ipath}.focal must be true (PAS: one coverage).")
        check.reference(insurance, "coverage", ipath)
    for i, member in enumerate(check.items(claim, "careTeam", path)):
        cpath = f"{path}.careTeam[{i}]"
        check.required(member, "sequence", cpath)
        check.reference(member, "provider", cpath)
        if kind != BundleKind.INQUIRE and len(extensions(member, EXT_CARE_TEAM_SCOPE)) != 1:
            check.add(
                f"{cpath}.extension",
                f"{cpath} needs the careTeamClaimScope extension.",
                IssueType.REQUIRED,
            )
    for i, info in enumerate(check.items(claim, "supportingInfo", path)):
        check.required(info, "sequence", f"{path}.supportingInfo[{i}]")
        check.required(info, "category", f"{path}.supportingInfo[{i}]")
    for i, diagnosis in enumerate(check.items(claim, "diagnosis", path)):
        dpath = f"{path}.diagnosis[{i}]"
        check.required(diagnosis, "sequence", dpath)
        if not any(k.startswith("diagnosis") and k != "diagnosisSequence" for k in diagnosis):
            check.add(f"{dpath}.diagnosis[x]", f"{dpath}.diagnosis[x] is required.")
    if is_update(claim):
        for i, related in enumerate(check.items(claim, "related", path)):
            rpath = f"{path}.related[{i}]"
            check.reference(related, "claim", rpath)
            if (RELATED_CLAIM_SYSTEM, "prior") not in _codes(related.get("relationship")):
                check.add(
                    f"{rpath}.relationship",
                    f"{rpath}.relationship must be 'prior' (profile-claim-update).",
                )
    items = check.items(claim, "item", path, minimum=0 if kind == BundleKind.INQUIRE else 1)
    for i, item in enumerate(items):
        ipath = f"{path}.item[{i}]"
        check.required(item, "sequence", ipath)
        check.required(item, "productOrService", ipath)
        if kind == BundleKind.INQUIRE:
            continue
        check.required(item, "category", ipath)
        if not any(k.startswith("location") for k in item):
            check.add(
                f"{ipath}.location[x]", f"{ipath}.location[x] is required.", IssueType.REQUIRED
            )
        check.one_extension(item, EXT_REQUEST_TYPE, ipath, "request type")
        check.one_extension(item, EXT_CERTIFICATION_TYPE, ipath, "certification type")


def _check_claim_response(check: _Checker, response: dict, path: str) -> None:
    for i, identifier in enumerate(check.items(response, "identifier", path)):
        check.required(identifier, "system", f"{path}.identifier[{i}]")
        check.required(identifier, "value", f"{path}.identifier[{i}]")
    check.fixed(response, "status", "active", path)
    check.required(response, "type", path)
    check.fixed(response, "use", "preauthorization", path)
    for name in ("patient", "insurer", "request"):
        check.reference(response, name, path)
    check.required(response, "created", path)
    if check.required(response, "outcome", path) and response["outcome"] not in {
        "complete",
        "error",
        "partial",
    }:
        check.add(f"{path}.outcome", "outcome is complete, error or partial (PAS value set).")
    submitted = (ADJUDICATION_SYSTEM, "submitted")
    for i, item in enumerate(check.items(response, "item", path)):
        ipath = f"{path}.item[{i}]"
        check.required(item, "itemSequence", ipath)
        for j, adjudication in enumerate(check.items(item, "adjudication", ipath, minimum=1)):
            if submitted not in _codes(adjudication.get("category")):
                check.add(
                    f"{ipath}.adjudication[{j}].category",
                    "The adjudication category must be 'submitted' (profile-claimresponse).",
                )
    for i, note in enumerate(check.items(response, "processNote", path)):
        check.required(note, "number", f"{path}.processNote[{i}]")
        check.required(note, "text", f"{path}.processNote[{i}]")
    for i, error in enumerate(check.items(response, "error", path)):
        check.required(error, "code", f"{path}.error[{i}]")
    if response.get("outcome") == "error" and not response.get("error"):
        check.add(f"{path}.error", "An error outcome names its error code.", IssueType.REQUIRED)


# --- Public ----------------------------------------------------------------------------------


def structural_issues(resource: Any) -> list[Issue]:
    """The base FHIR R4 4.0.1 check: element names, types and the base cardinalities."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Bundle":
        return [Issue("Bundle", "The body must be a FHIR Bundle resource.", IssueType.STRUCTURE)]
    try:
        R4Bundle(resource, strict=True)
    except FHIRValidationError as exc:
        # fhirclient nests its messages under "entry.1:" / "resource:" headings.
        messages = [
            line.strip().strip("'\"")
            for line in str(exc).splitlines()
            if line.strip() and not line.strip().endswith(":")
        ]
        return [Issue("Bundle", m, IssueType.STRUCTURE) for m in messages] or [
            Issue("Bundle", str(exc), IssueType.STRUCTURE)
        ]
    except (TypeError, ValueError, AttributeError) as exc:
        return [Issue("Bundle", f"Not valid FHIR R4: {exc}", IssueType.STRUCTURE)]
    return []


def validate_bundle(bundle: Any, kind: BundleKind) -> list[Issue]:
    """Every profile rule this module encodes, then (only when those pass) the base R4
    structural check. An empty list means the Bundle may be acted on."""
    check = _Checker()
    entries = _bundle_shell(check, bundle, kind)
    if entries:
        first = bundle["entry"][0].get("resource") or {}
        if kind in (BundleKind.SUBMIT, BundleKind.INQUIRE) and first.get("resourceType") == "Claim":
            _check_claim(check, first, "Bundle.entry[0].resource", kind)
        if kind in (BundleKind.RESPONSE, BundleKind.INQUIRY_RESPONSE):
            for index, entry in enumerate(entries):
                if entry["resource"]["resourceType"] == "ClaimResponse":
                    _check_claim_response(
                        check, entry["resource"], f"Bundle.entry[{index}].resource"
                    )
        _check_references(
            check, entries, claim_only=kind in (BundleKind.SUBMIT, BundleKind.INQUIRE)
        )
    if check.issues:
        return check.issues
    return structural_issues(bundle)


def first_resource(bundle: dict) -> dict:
    return bundle["entry"][0]["resource"]


def resolve(bundle: dict, referencing_index: int, reference: dict | None) -> dict | None:
    """The entry resource a Reference in entry `referencing_index` points to, or None."""
    if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
        return None
    target = reference["reference"].split("/_history/")[0]
    entries = [e for e in bundle.get("entry") or [] if isinstance(e.get("resource"), dict)]
    for entry in entries:
        if entry.get("fullUrl") == target:
            return entry["resource"]
    full_url = str((bundle["entry"][referencing_index] or {}).get("fullUrl") or "")
    match = re.match(r"^(.*/)[A-Za-z]+/[A-Za-z0-9\-.]{1,64}$", full_url)
    if match and "://" in full_url:
        for entry in entries:
            if entry.get("fullUrl") == match.group(1) + target:
                return entry["resource"]
    for entry in entries:
        resource = entry["resource"]
        if f"{resource['resourceType']}/{resource.get('id')}" == target:
            return resource
    return None


def parse_instant(value: str):
    return parse_datetime(value) if isinstance(value, str) else None
