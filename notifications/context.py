"""What a letter says, as plain typed data (`LetterContext`), and the builders that read it
from the database for a notice.

Rendering (`notifications.rendering.render_letter`) takes only a `LetterContext`, so a letter
whose records live elsewhere (appeal resolutions, IMR outcomes) is rendered from a context
its own code builds: start from `tar_letter_context(...)` and `dataclasses.replace` in an
`AppealInfo` or `ImrInfo`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from accounts.models import Role, User
from authorizations import clocks, wording
from criteria.models import CriteriaSet
from members.models import AlternateFormat, Member, WrittenLanguage
from notifications.models import Audience

if TYPE_CHECKING:
    from authorizations.models import Decision, Tar
    from notifications.models import CriteriaCopyRequest


class LetterError(ValueError):
    """A letter cannot be built or would lack a required element (PRODUCT §7)."""


@dataclass(frozen=True)
class PlanInfo:
    name: str
    um_phone: str
    member_services_phone: str
    # PRODUCT §7 "Where to write": printed wherever a notice says "in writing".
    mailing_address: tuple[str, ...] = ()
    tty: str = wording.TTY
    ombudsman_phone: str = wording.OMBUDSMAN_PHONE
    state_hearing_phone: str = wording.STATE_HEARING_PHONE
    state_hearing_tty: str = wording.STATE_HEARING_TTY
    dmhc_phone: str = wording.DMHC_PHONE
    dmhc_tty: str = wording.DMHC_TTY


@dataclass(frozen=True)
class Party:
    name: str
    address_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceLineInfo:
    line_number: int
    code: str
    description: str
    units: int
    date_from: date
    date_to: date
    diagnosis_codes: tuple[str, ...] = ()
    modifiers: tuple[str, ...] = ()
    region: str = ""
    outcome: str = "pending"
    outcome_label: str = ""
    approved_units: int | None = None
    approved_date_from: date | None = None
    approved_date_to: date | None = None


@dataclass(frozen=True)
class CriterionCitation:
    """One criterion used, cited by set, version and number, in the letter's language."""

    criteria_set: str
    title: str
    version: str
    number: int
    text: str
    finding: str = ""  # what the review found for this member, in plain words


@dataclass(frozen=True)
class Reviewer:
    name: str
    phone: str
    is_physician: bool = True


@dataclass(frozen=True)
class DecisionInfo:
    outcome: str
    reason_code: str
    reason_text: str
    rationale: str
    decided_on: date
    medical_necessity: bool


@dataclass(frozen=True)
class ExtensionInfo:
    reason_code: str
    reason_text: str
    note: str
    previous_due_at: datetime
    new_due_at: datetime


@dataclass(frozen=True)
class InformationRequestInfo:
    message: str
    missing_items: tuple[str, ...]
    requested_on: date
    decision_due_at: datetime


@dataclass(frozen=True)
class UntimelyInfo:
    decision_due_at: datetime
    breached_at: datetime


@dataclass(frozen=True)
class AppealInfo:
    """Filled in by the appeals code (42 CFR 438.408(e))."""

    reference: str
    received_on: date
    resolved_on: date
    outcome: str  # upheld, overturned, partially_overturned
    rationale: str
    reviewer: Reviewer
    expedited: bool = False

    @property
    def adverse(self) -> bool:
        return self.outcome != "overturned"


@dataclass(frozen=True)
class AppealExtensionInfo:
    """An appeal's one extension, filled in by the appeals code (42 CFR 438.408(c)(2)): the
    reason, what is needed, and the new resolution date. Printed on a delay notice."""

    reference: str
    received_on: date
    expedited: bool
    reason_code: str
    reason_text: str
    note: str
    previous_due_at: datetime
    new_due_at: datetime


@dataclass(frozen=True)
class AppealDowngradeInfo:
    """A refused request for an expedited appeal (42 CFR 438.410(c)): why, and the standard
    resolution date it now runs to. Printed on the downgrade notice with the grievance right."""

    reference: str
    received_on: date
    reason: str
    resolution_due_at: datetime


@dataclass(frozen=True)
class AppealExhaustedInfo:
    """An appeal the plan did not resolve by its deadline, filled in by the appeals code: the
    member is deemed to have exhausted the plan's appeal process (42 CFR 438.408(c)(3),
    438.402(c)(1)(i)(A)). Printed on an untimely notice."""

    reference: str
    received_on: date
    expedited: bool
    resolution_due_at: datetime
    extended: bool = False


@dataclass(frozen=True)
class ImrInfo:
    """Filled in by the IMR code (003 G.4: analysis, determination, reviewer qualifications)."""

    reference: str
    organization: str
    review_type: str  # standard, expedited, retrospective
    received_on: date
    decided_on: date
    determination: str  # upheld, overturned, partially_overturned
    analysis: str
    reviewer_qualifications: tuple[str, ...]
    # Referred under an open appeal: the appeal's own resolution follows, so the next right is
    # a State Hearing. Otherwise the member keeps the right to appeal (PRODUCT §7).
    under_appeal: bool = False

    @property
    def adverse(self) -> bool:
        return self.determination != "overturned"


@dataclass(frozen=True)
class CriterionText:
    number: int
    text: str
    cited: bool = False


@dataclass(frozen=True)
class CriteriaSetCopy:
    criteria_set: str
    title: str
    version: str
    effective_from: date
    effective_to: date | None
    sources: tuple[str, ...]
    criteria: tuple[CriterionText, ...]
    disclosure: str


@dataclass(frozen=True)
class LetterContext:
    audience: str
    language: str
    large_print: bool
    letter_date: date
    plan: PlanInfo
    recipient: Party
    member_name: str
    member_cin: str
    tar_number: str
    received_on: date
    request_type: str
    urgency: str
    requesting_provider: str
    servicing_provider: str
    lines: tuple[ServiceLineInfo, ...] = ()
    decision: DecisionInfo | None = None
    reviewer: Reviewer | None = None
    criteria: tuple[CriterionCitation, ...] = ()
    extension: ExtensionInfo | None = None
    information_request: InformationRequestInfo | None = None
    untimely: UntimelyInfo | None = None
    appeal: AppealInfo | None = None
    # An appeal's extension (a delay notice) or exhaustion (an untimely notice): same kinds,
    # clocks and reports as the TAR's, their own wording (rendering picks the template).
    appeal_extension: AppealExtensionInfo | None = None
    appeal_exhausted: AppealExhaustedInfo | None = None
    appeal_downgrade: AppealDowngradeInfo | None = None
    imr: ImrInfo | None = None
    criteria_sets: tuple[CriteriaSetCopy, ...] = ()
    criteria_requested_on: date | None = None
    version: int = 1
    correction_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_member_copy(self) -> bool:
        return self.audience == Audience.MEMBER

    @property
    def appeal_deadline(self) -> date:
        """The last day to appeal: 60 calendar days after the letter date (42 CFR
        438.402(c)(2)(ii)), computed by the clock module."""
        due = clocks.appeal_filing_deadline(notice_date=self.letter_date).due_at
        return timezone.localtime(due, clocks.PACIFIC).date()

    @property
    def state_hearing_deadline(self) -> date:
        """120 calendar days after the appeal resolution notice (42 CFR 438.408(f)(2)); for an
        exhausted appeal, after the notice that tells the member so (it stands in for the
        resolution notice the plan did not send in time)."""
        due = clocks.state_hearing_deadline(resolution_date=self.letter_date).due_at
        return timezone.localtime(due, clocks.PACIFIC).date()

    @property
    def cited_sets(self) -> list[tuple[str, str, str]]:
        """(title, set id, version) of every set cited, in citation order, once each."""
        seen: dict[tuple[str, str], str] = {}
        for citation in self.criteria:
            seen.setdefault((citation.criteria_set, citation.version), citation.title)
        return [(title, set_id, version) for (set_id, version), title in seen.items()]


# --- builders (read the database) ---------------------------------------------------------


def plan_info() -> PlanInfo:
    return PlanInfo(
        name=settings.PLAN_NAME,
        um_phone=settings.PLAN_UM_PHONE,
        member_services_phone=settings.PLAN_MEMBER_SERVICES_PHONE,
        mailing_address=tuple(settings.PLAN_MAILING_ADDRESS),
    )


# Role values and labels ("nurse", "UM nurse"): never printed as the name of a reviewer.
_ROLE_WORDS = frozenset(str(word).lower() for choice in Role.choices for word in choice)


def reviewer_for(user: User | None) -> Reviewer:
    """The reviewer printed on a letter: the clinician's name from their Provider record (with
    credentials), else their full name, and a physician's direct line.

    PRODUCT §7: the deciding physician's direct telephone is required and never replaced by the
    general UM line; a physician account without one cannot be saved (accounts.models.User),
    and a letter for one left from before that rule is refused rather than printed with
    another number. A non-physician reviewer has no direct line on the letter."""
    if user is None:
        return Reviewer(name="", phone="", is_physician=True)
    is_physician = user.role == Role.PHYSICIAN
    phone = (user.direct_phone or "").strip()
    if is_physician and not phone:
        raise LetterError(
            f"physician reviewer {user.pk} has no direct telephone; add it to the account"
        )
    name = user.clinician_name()
    # An account with no provider record or real name falls back to its username, which for
    # the demo staff is a role ("Nurse"): a letter names a person or nobody (PRODUCT §7).
    if name.strip().lower().rstrip("0123456789") in _ROLE_WORDS:
        name = ""
    return Reviewer(name=name, phone=phone if is_physician else "", is_physician=is_physician)


def member_party(member: Member) -> Party:
    """The member as a letter's addressee: name and postal address lines."""
    city = f"{member.city}, {member.state} {member.postal_code}".strip()
    lines = tuple(x for x in (member.address_line1, member.address_line2, city) if x)
    return Party(name=member.full_name, address_lines=lines)


def member_letter_language(member: Member) -> str:
    """The member's written language where the plan prints it, else English."""
    if member.written_language in WrittenLanguage.values:
        return member.written_language
    return WrittenLanguage.ENGLISH


def _member_party(tar: Tar) -> Party:
    return member_party(tar.member)


def _provider_party(tar: Tar) -> Party:
    provider = tar.requesting_provider
    organization = provider.organization
    lines = tuple(x for x in (organization.name, organization.address) if x)
    return Party(name=provider.name, address_lines=lines)


def _lines(tar: Tar, language: str) -> tuple[ServiceLineInfo, ...]:
    out = []
    for line in tar.lines.all().order_by("line_number"):
        out.append(
            ServiceLineInfo(
                line_number=line.line_number,
                code=line.code,
                description=wording.service_description(line.code, language),
                units=line.units,
                date_from=line.service_date_from,
                date_to=line.service_date_to,
                diagnosis_codes=tuple(line.diagnosis_codes or ()),
                modifiers=tuple(line.modifiers or ()),
                region=wording.pick(wording.REGIONS, line.spinal_region, language)
                if line.spinal_region
                else "",
                outcome=line.outcome,
                outcome_label=wording.pick(wording.OUTCOMES, line.outcome, language),
                approved_units=line.approved_units,
                approved_date_from=line.approved_date_from,
                approved_date_to=line.approved_date_to,
            )
        )
    return tuple(out)


def tar_letter_context(
    *,
    tar: Tar,
    audience: str,
    letter_date: date | None = None,
    language: str | None = None,
    large_print: bool | None = None,
    version: int = 1,
    correction_reason: str = "",
) -> LetterContext:
    """The parts every letter about a TAR shares. A member copy follows the member's written
    language and format (PRODUCT §3, §7); a provider copy is in English, standard print."""
    member = tar.member
    if audience == Audience.MEMBER:
        language = language or member.written_language or "en"
        if large_print is None:
            large_print = member.alternate_format == AlternateFormat.LARGE_PRINT
        recipient = _member_party(tar)
    else:
        language = language or "en"
        large_print = bool(large_print)
        recipient = _provider_party(tar)
    return LetterContext(
        audience=audience,
        language=language if language in wording.LANGUAGES else "en",
        large_print=bool(large_print),
        letter_date=letter_date or timezone.localdate(),
        plan=plan_info(),
        recipient=recipient,
        member_name=member.full_name,
        member_cin=member.cin,
        tar_number=tar.number,
        received_on=timezone.localtime(tar.received_at, clocks.PACIFIC).date(),
        request_type=wording.pick(wording.REQUEST_TYPES, tar.request_type, language),
        urgency=wording.pick(wording.URGENCIES, tar.urgency, language),
        requesting_provider=str(tar.requesting_provider.name),
        servicing_provider=str(tar.servicing_provider.name),
        lines=_lines(tar, language),
        version=version,
        correction_reason=correction_reason,
    )


def _evaluation_results(tar: Tar) -> dict[tuple[str, str, int], str]:
    """(set, version, number) → the engine's result recorded on the TAR's lines."""
    results: dict[tuple[str, str, int], str] = {}
    for line in tar.lines.all():
        evaluation = line.evaluation or {}
        set_id, version = evaluation.get("criteria_set"), evaluation.get("version")
        if not set_id:
            continue
        for criterion in evaluation.get("criteria", []):
            key = (str(set_id), str(version), int(criterion["number"]))
            # The worst result across lines is what the member needs to know about.
            order = {"not_met": 0, "unknown": 1, "met": 2}
            current = results.get(key)
            if current is None or order.get(criterion["result"], 3) < order.get(current, 3):
                results[key] = criterion["result"]
    return results


def _finding(result: str, language: str) -> str:
    return wording.pick(wording.CRITERION_RESULTS, result, language)


def decision_citations(tar: Tar, decision: Decision, language: str) -> tuple:
    results = _evaluation_results(tar)
    citations = []
    for ref in decision.criteria_refs or []:
        text = ref.get("text_es") if language == "es" and ref.get("text_es") else ref["text"]
        key = (ref["criteria_set"], ref["version"], int(ref["number"]))
        citations.append(
            CriterionCitation(
                criteria_set=ref["criteria_set"],
                title=wording.set_title(
                    ref["criteria_set"], ref.get("title") or ref["criteria_set"], language
                ),
                version=ref["version"],
                number=int(ref["number"]),
                text=text,
                finding=_finding(results.get(key, ""), language),
            )
        )
    return tuple(citations)


def open_criteria_citations(tar: Tar, language: str, *, only_open: bool) -> tuple:
    """The criteria of the set version each line is reviewed under. With `only_open`, those
    not yet shown met (what a delay or information request is waiting for); all of them when
    none is open, so the notice still names the exact criteria in use."""
    citations: list[CriterionCitation] = []
    seen: set[tuple[str, str, int]] = set()
    for line in tar.lines.select_related("criteria_set").order_by("line_number"):
        criteria_set = line.criteria_set
        if criteria_set is None:
            continue
        results = {
            int(c["number"]): c["result"] for c in (line.evaluation or {}).get("criteria", [])
        }
        chosen = [
            c
            for c in criteria_set.criteria
            if not only_open or results.get(int(c["number"])) in ("not_met", "unknown")
        ] or list(criteria_set.criteria)
        for criterion in chosen:
            key = (criteria_set.set_id, criteria_set.version, int(criterion["number"]))
            if key in seen:
                continue
            seen.add(key)
            text = criterion.get("text_es") if language == "es" else None
            citations.append(
                CriterionCitation(
                    criteria_set=criteria_set.set_id,
                    title=wording.set_title(criteria_set.set_id, criteria_set.title, language),
                    version=criteria_set.version,
                    number=int(criterion["number"]),
                    text=text or criterion["text"],
                    finding=_finding(results.get(int(criterion["number"]), ""), language),
                )
            )
    return tuple(citations)


def context_replace(context: LetterContext, **changes: Any) -> LetterContext:

    return replace(context, **changes)


def criteria_copy_context(request: CriteriaCopyRequest, *, base: LetterContext) -> LetterContext:
    """The full text of each exact set version cited (PRODUCT §6, §7; H&S 1363.5)."""

    language = base.language
    cited_numbers: dict[tuple[str, str], set[int]] = {}
    decision = request.decision
    for ref in (decision.criteria_refs if decision else None) or []:
        cited_numbers.setdefault((ref["criteria_set"], ref["version"]), set()).add(
            int(ref["number"])
        )
    copies = []
    for entry in request.criteria_sets:
        criteria_set = CriteriaSet.objects.get(
            set_id=entry["criteria_set"], version=entry["version"]
        )
        cited = cited_numbers.get((criteria_set.set_id, criteria_set.version), set())
        disclosure = criteria_set.definition.get("disclosure") or {}
        copies.append(
            CriteriaSetCopy(
                criteria_set=criteria_set.set_id,
                title=wording.set_title(criteria_set.set_id, criteria_set.title, language),
                version=criteria_set.version,
                effective_from=criteria_set.effective_from,
                effective_to=criteria_set.effective_to,
                sources=tuple(criteria_set.sources or ()),
                criteria=tuple(
                    CriterionText(
                        number=int(c["number"]),
                        text=(c.get("text_es") if language == "es" else None) or c["text"],
                        cited=int(c["number"]) in cited,
                    )
                    for c in criteria_set.criteria
                ),
                disclosure=disclosure.get(language) or disclosure.get("en", ""),
            )
        )
    if not copies:
        raise LetterError("a criteria copy needs at least one criteria set version")
    reviewer = reviewer_for(decision.decided_by) if decision and decision.decided_by else None
    decision_info = None
    if decision is not None:
        decision_info = DecisionInfo(
            outcome=decision.outcome,
            reason_code=decision.reason_code,
            reason_text=wording.pick(wording.REASONS, decision.reason_code, language)
            if decision.reason_code
            else "",
            rationale=decision.rationale,
            decided_on=timezone.localtime(decision.decided_at, clocks.PACIFIC).date(),
            medical_necessity=decision.reason_code == "medical_necessity",
        )
    return context_replace(
        base,
        criteria_sets=tuple(copies),
        criteria_requested_on=timezone.localtime(request.requested_at, clocks.PACIFIC).date(),
        decision=decision_info,
        reviewer=reviewer,
    )
