"""The context of each letter, read from the database for a notice: the TAR's own notices
(decision, delay, information request, untimely, criteria copy) and those of appeals and IMR
(resolution, extension, exhaustion, IMR outcome). The pieces are in notifications.context."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from django.utils import timezone

from appeals.models import Appeal, AppealExtension, ImrCase
from appeals.services.common import pacific_date
from authorizations import clocks, wording
from authorizations.models import (
    Decision,
    Extension,
    InformationRequest,
    ReasonCode,
    ServiceReduction,
    Tar,
)
from criteria.catalog import CriteriaError, criterion_text
from notifications.context import (
    AppealDowngradeInfo,
    AppealExhaustedInfo,
    AppealExtensionInfo,
    AppealInfo,
    CriterionCitation,
    DecisionInfo,
    ExtensionInfo,
    ImrInfo,
    InformationRequestInfo,
    LetterContext,
    LetterError,
    UntimelyInfo,
    context_replace,
    criteria_copy_context,
    decision_citations,
    open_criteria_citations,
    reviewer_for,
    tar_letter_context,
)
from notifications.models import Audience, Notice, NoticeKind

# Event keys whose letters are about an appeal or an IMR (appeal_letter_context).
APPEAL_EVENT_KEYS = (
    "appeal_resolution",
    "appeal_extension",
    "appeal_exhausted",
    "appeal_downgrade",
    "imr_outcome",
)


def _event_id(notice: Notice, prefix: str) -> int:
    head, _, tail = notice.event_key.partition(":")
    if head != prefix or not tail.isdigit():
        raise LetterError(f"notice {notice.pk} has event {notice.event_key!r}, not {prefix}")
    return int(tail)


def _request_and_base(
    notice: Notice, *, letter_date: date | None, version: int, correction_reason: str
) -> tuple[Tar, LetterContext]:
    """The request a notice is about, and the parts every letter on it shares."""
    tar = Tar.objects.select_related(
        "member", "requesting_provider__organization", "servicing_provider__organization"
    ).get(pk=notice.tar_id)
    return tar, tar_letter_context(
        tar=tar,
        audience=notice.audience,
        letter_date=letter_date,
        version=version,
        correction_reason=correction_reason,
    )


def _reduction_extra(decision: Decision, language: str) -> dict[str, object]:
    """A decision that reduces or ends authorized services says when the change takes effect
    (42 CFR 431.210(b), 431.211)."""
    reduction = ServiceReduction.objects.filter(decision=decision).first()
    if reduction is None:
        return {}
    return {"reduction_effective_on": reduction.effective_on, "reduction_kind": reduction.kind}


def build_context(
    notice: Notice,
    *,
    letter_date: date | None = None,
    version: int = 1,
    correction_reason: str = "",
) -> LetterContext:
    """The context for the letter a notice owes, read from the TAR and the event's record."""
    if notice.event_key.partition(":")[0] in APPEAL_EVENT_KEYS:
        return appeal_letter_context(
            notice, letter_date=letter_date, version=version, correction_reason=correction_reason
        )
    tar, base = _request_and_base(
        notice, letter_date=letter_date, version=version, correction_reason=correction_reason
    )
    language = base.language
    kind = notice.kind
    if kind in (
        NoticeKind.APPROVAL,
        NoticeKind.MODIFICATION,
        NoticeKind.DENIAL,
        NoticeKind.CLOSURE,
    ):
        decision = Decision.objects.select_related("decided_by__provider").get(
            pk=_event_id(notice, "decision"), tar=tar
        )
        medical = decision.reason_code == ReasonCode.MEDICAL_NECESSITY
        return context_replace(
            base,
            decision=DecisionInfo(
                outcome=decision.outcome,
                reason_code=decision.reason_code,
                reason_text=wording.pick(wording.REASONS, decision.reason_code, language)
                if decision.reason_code
                else "",
                rationale=decision.rationale,
                decided_on=timezone.localtime(decision.decided_at, clocks.PACIFIC).date(),
                medical_necessity=medical,
            ),
            reviewer=reviewer_for(decision.decided_by),
            extra=_reduction_extra(decision, language),
            # A non-medical decision (eligibility, benefit, duplicate) used no criteria.
            criteria=decision_citations(tar, decision, language)
            or (open_criteria_citations(tar, language, only_open=True) if medical else ()),
        )
    if kind == NoticeKind.DELAY:
        extension = Extension.objects.select_related("extended_by__provider").get(
            pk=_event_id(notice, "extension"), tar=tar
        )
        return context_replace(
            base,
            extension=ExtensionInfo(
                reason_code=extension.reason,
                reason_text=wording.pick(wording.EXTENSION_REASONS, extension.reason, language),
                note=extension.note,
                previous_due_at=extension.previous_due_at,
                new_due_at=extension.new_due_at,
            ),
            reviewer=reviewer_for(extension.extended_by),
            criteria=open_criteria_citations(tar, language, only_open=True),
        )
    if kind == NoticeKind.INFORMATION_REQUEST:
        request = InformationRequest.objects.select_related("requested_by__provider").get(
            pk=_event_id(notice, "information_request"), tar=tar
        )
        return context_replace(
            base,
            information_request=InformationRequestInfo(
                message=request.message,
                missing_items=tuple(
                    wording.question_label(key, language) for key in request.missing_keys or ()
                ),
                requested_on=timezone.localtime(request.requested_at, clocks.PACIFIC).date(),
                decision_due_at=tar.decision_due_at,
            ),
            reviewer=reviewer_for(request.requested_by),
            criteria=open_criteria_citations(tar, language, only_open=True),
        )
    if kind == NoticeKind.UNTIMELY:
        if tar.breached_at is None:
            raise LetterError(f"TAR {tar.number} has no recorded breach")
        return context_replace(
            base,
            untimely=UntimelyInfo(decision_due_at=tar.decision_due_at, breached_at=tar.breached_at),
            # No decision was made: the physician reviewers are reached on the UM line.
            reviewer=None,
            criteria=open_criteria_citations(tar, language, only_open=False),
        )
    if kind == NoticeKind.CRITERIA_COPY:
        return criteria_copy_context(notice.criteria_copy, base=base)
    raise LetterError(
        f"{kind} letters are built by their own module from tar_letter_context(); "
        "there is no record for them here yet"
    )


def appeal_letter_context(
    notice: Notice,
    *,
    letter_date: date | None = None,
    version: int = 1,
    correction_reason: str = "",
) -> LetterContext:
    """The LetterContext for a notice this module owes (appeal resolution, appeal extension,
    exhausted appeal, IMR outcome), for notifications.rendering (the notices machinery calls
    it for event keys of this module).

    An appeal's extension and exhaustion use the delay and untimely kinds, with their own
    wording (rendering picks it from `appeal_extension` / `appeal_exhausted`): the TAR's delay
    and untimely letters offer an appeal, while an extended appeal's right is a grievance
    (42 CFR 438.408(c)(2)(ii)) and an exhausted appeal's next step is a State Hearing now
    (438.408(c)(3), 438.402(c)(1)(i)(A))."""
    head, _, tail = notice.event_key.partition(":")
    if head not in APPEAL_EVENT_KEYS or not tail.isdigit():
        raise LetterError(f"notice {notice.pk} ({notice.event_key!r}) is not an appeal notice")
    record_id = int(tail)
    tar, base = _request_and_base(
        notice, letter_date=letter_date, version=version, correction_reason=correction_reason
    )
    language = base.language

    if head == "appeal_extension":
        extension = AppealExtension.objects.select_related("appeal").get(
            pk=record_id, appeal__tar=tar
        )
        appeal = extension.appeal
        return replace(
            base,
            appeal_extension=AppealExtensionInfo(
                reference=appeal.number,
                received_on=pacific_date(appeal.received_at),
                expedited=appeal.expedited,
                reason_code=extension.reason,
                reason_text=wording.pick(
                    wording.APPEAL_EXTENSION_REASONS, extension.reason, language
                ),
                note=extension.note,
                previous_due_at=extension.previous_due_at,
                new_due_at=extension.new_due_at,
            ),
        )
    if head == "appeal_downgrade":
        appeal = Appeal.objects.get(pk=record_id, tar=tar)
        if appeal.downgraded_at is None:
            raise LetterError(f"appeal {appeal.number} was not moved to the standard timeframe")
        return replace(
            base,
            appeal_downgrade=AppealDowngradeInfo(
                reference=appeal.number,
                received_on=pacific_date(appeal.received_at),
                reason=appeal.downgrade_reason,
                resolution_due_at=appeal.resolution_due_at,
            ),
        )
    if head == "appeal_exhausted":
        appeal = Appeal.objects.get(pk=record_id, tar=tar)
        if appeal.exhausted_at is None:
            raise LetterError(f"appeal {appeal.number} is not exhausted")
        # The State Hearing date is ctx.state_hearing_deadline: 120 calendar days from this
        # notice's date (clocks.state_hearing_deadline), the notice that stands in for the
        # resolution notice the plan did not send in time (42 CFR 438.408(f)(2)).
        return replace(
            base,
            appeal_exhausted=AppealExhaustedInfo(
                reference=appeal.number,
                received_on=pacific_date(appeal.received_at),
                expedited=appeal.expedited,
                resolution_due_at=appeal.exhausted_at,
                extended=AppealExtension.objects.filter(appeal=appeal).exists(),
            ),
        )
    if head == "appeal_resolution":
        appeal = Appeal.objects.select_related("decided_by__provider").get(pk=record_id, tar=tar)
        if appeal.resolved_at is None:
            raise LetterError(f"appeal {appeal.number} is not resolved")
        reviewer = reviewer_for(appeal.decided_by)
        return replace(
            base,
            appeal=AppealInfo(
                reference=appeal.number,
                received_on=pacific_date(appeal.received_at),
                resolved_on=pacific_date(appeal.resolved_at),
                outcome=appeal.outcome,
                rationale=appeal.rationale,
                reviewer=reviewer,
                expedited=appeal.expedited,
            ),
            reviewer=reviewer,
            criteria=tuple(
                CriterionCitation(
                    criteria_set=ref["criteria_set"],
                    title=ref.get("title") or ref["criteria_set"],
                    version=ref["version"],
                    number=int(ref["number"]),
                    text=(ref.get("text_es") if language == "es" else None) or ref["text"],
                )
                for ref in appeal.criteria_refs or []
            ),
        )
    imr = ImrCase.objects.select_related("decided_by__provider").get(pk=record_id, tar=tar)
    if imr.decided_at is None or imr.determination_received_at is None:
        raise LetterError(f"IMR {imr.number} has no final decision yet")
    return replace(
        base,
        imr=ImrInfo(
            reference=imr.number,
            organization=imr.reviewer_name,
            review_type=imr.review_type,
            received_on=pacific_date(imr.received_at),
            decided_on=pacific_date(imr.determination_received_at),
            determination=imr.determination,
            analysis=imr.analysis,
            reviewer_qualifications=tuple(imr.reviewer_qualifications),
            under_appeal=imr.appeal_id is not None,
        ),
        reviewer=reviewer_for(imr.decided_by),
        extra={
            "imr_final_outcome": imr.final_outcome,
            "imr_final_outcome_label": wording.pick(wording.OUTCOMES, imr.final_outcome, language),
        },
    )


# --- the reader's voice (PRODUCT §7 "The right voice for each reader") --------------------
#
# The member copy speaks to the member ("your pain"); the provider copy speaks to the office
# about the member, in clinical third person ("the patient's pain"). The criteria catalogue
# and the physician's rationale are written for the member today, so the provider copy's
# wording is derived from them here, in English (the provider copy's only language,
# tar_letter_context).

# The verbs that change with the subject ("you have" -> "the patient has"); a modal or a past
# tense ("you will", "you had") reads the same after "the patient".
_THIRD_PERSON_VERBS = {
    "have": "has",
    "are": "is",
    "were": "was",
    "do": "does",
    "don't": "doesn't",
    "haven't": "hasn't",
    "aren't": "isn't",
    "weren't": "wasn't",
    "go": "goes",
    "qualify": "qualifies",
    **{
        verb: verb + "s"
        for verb in (
            "need", "want", "walk", "feel", "take", "get", "report", "say", "use", "live",
            "work", "see", "seem", "continue", "remain", "meet", "keep", "sleep", "stand",
            "sit", "describe", "rate", "tolerate", "show", "respond", "decline", "prefer",
        )
    },
}  # fmt: skip
_CONTRACTIONS = {"you're": "is", "you've": "has", "you'll": "will", "you'd": "would"}
_SECOND_PERSON = re.compile(
    r"\b(?:(?P<provider>your provider)|(?P<contraction>you(?:'re|'ve|'ll|'d))"
    r"|(?P<subject>you) (?P<verb>[a-z']+)\b|(?P<possessive>yours?)|(?P<reflexive>yourself)"
    r"|(?P<pronoun>you))\b",
    re.IGNORECASE,
)


def _keep_case(original: str, replacement: str) -> str:
    return replacement[:1].upper() + replacement[1:] if original[:1].isupper() else replacement


def _third_person(match: re.Match[str]) -> str:
    found = match.group(0)
    if match.group("provider"):
        out = "the treating provider"
    elif match.group("contraction"):
        out = "the patient " + _CONTRACTIONS[found.lower()]
    elif match.group("subject"):
        verb = match.group("verb")
        out = "the patient " + _THIRD_PERSON_VERBS.get(verb.lower(), verb)
    elif match.group("possessive"):
        out = "the patient's"
    else:
        out = "the patient"
    return _keep_case(found, out)


def provider_voice(text: str) -> str:
    """Member-voiced English ("Your records show ...") in the clinical third person the
    provider copy uses ("The patient's records show ..."). Idempotent."""
    return _SECOND_PERSON.sub(_third_person, text)


def criterion_text_for_reader(citation: CriterionCitation, *, audience: str, language: str) -> str:
    """The wording of one cited criterion for the letter's reader: THE one place that picks
    it. The member copy keeps the member wording stored on the decision (in its language);
    the provider copy reads the catalogue's clinical wording for the cited set version
    (`criteria.catalog.criterion_text`, PRODUCT §7 "the right voice for each reader"). A
    citation the catalogue does not ship (a retired or hand-made set) is put in the office's
    voice from the stored text instead."""
    if audience == Audience.MEMBER or language != "en":
        return citation.text
    key = f"{citation.criteria_set}:{citation.version}:{citation.number}"
    try:
        return criterion_text(key, "provider")
    except CriteriaError:
        return provider_voice(citation.text)


def in_reader_voice(context: LetterContext) -> LetterContext:
    """The context with the criteria and the staff-written free text (rationale, reasons) in
    the voice of the letter's reader. The member copy is returned as it is."""
    if context.audience == Audience.MEMBER or context.language != "en":
        return context
    decision, appeal = context.decision, context.appeal
    downgrade, imr = context.appeal_downgrade, context.imr
    return replace(
        context,
        criteria=tuple(
            replace(
                c,
                text=criterion_text_for_reader(
                    c, audience=context.audience, language=context.language
                ),
            )
            for c in context.criteria
        ),
        decision=decision and replace(decision, rationale=provider_voice(decision.rationale)),
        appeal=appeal and replace(appeal, rationale=provider_voice(appeal.rationale)),
        appeal_downgrade=downgrade and replace(downgrade, reason=provider_voice(downgrade.reason)),
        imr=imr and replace(imr, analysis=provider_voice(imr.analysis)),
    )
