"""Independent medical review (003): referral with the frozen packet and its clock, the one
extension of an expedited review, the reviewer's determination, the plan physician's final
coverage decision (through the shared re-decision service), withdrawal. Every status change
is an action of the IMR machine (appeals/machines.py)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from accounts.models import User
from appeals.machines import APPEAL_OPEN, IMR, ImrAction
from appeals.models import (
    EXPERIMENTAL_REASONS,
    Appeal,
    ImrCase,
    ImrDetermination,
    ImrExpeditedBasis,
    ImrReferralReason,
    ImrReviewerKind,
    ImrReviewType,
    ImrSeriousCondition,
    ImrStatus,
)
from appeals.services.common import pacific_date
from appeals.services.packets import case_summary_attach, packet_snapshot
from appeals.services.redetermination import (
    appeal_resolve,
    redetermination_validate,
    tar_redetermine,
)
from authorizations import clocks
from authorizations.calendar import plan_calendar
from authorizations.models import ReasonCode, RequestType, Tar, TarStatus
from authorizations.numbering import next_number
from authorizations.services import LineDecision, attachment_add, sniff_content_type, tar_decide
from authorizations.transitions import check_conflict_of_interest
from authorizations.workflow import perform, start
from tar_portal.errors import DomainError, ErrorCode, invalid

# Non-medical closures that are not decisions a reviewer can look at again.
_NON_REVIEWABLE_CLOSURES = (
    ReasonCode.DUPLICATE,
    ReasonCode.NO_AUTHORIZATION_REQUIRED,
    ReasonCode.NOT_ELIGIBLE,
)
_IMR_OPEN = (ImrStatus.REFERRED, ImrStatus.DETERMINATION_RECEIVED)


@dataclass
class ImrReferralInput:
    referral_reason: str
    reviewer_kind: str
    reviewer_name: str
    review_type: str
    questions: list[str]
    pertinent_history: str
    clinical_data: str
    reviewer_specialty: str = ""
    expedited_basis: str = ""
    serious_condition: str = ""
    treating_physician_certified: bool = False
    experimental_investigational: bool = False
    appeal_id: int | None = None


def _validate_referral(data: ImrReferralInput, tar: Tar) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data.referral_reason not in ImrReferralReason.values:
        errors.setdefault("referral_reason", []).append(
            f"Use one of: {', '.join(ImrReferralReason.values)} (003 §B)."
        )
    if data.reviewer_kind not in ImrReviewerKind.values:
        errors.setdefault("reviewer_kind", []).append("imro or specialist.")
    if not (data.reviewer_name or "").strip():
        errors.setdefault("reviewer_name", []).append(
            "Name the review organization or the independent specialist."
        )
    if data.review_type not in ImrReviewType.values:
        errors.setdefault("review_type", []).append("standard, expedited or retrospective.")
    elif data.review_type == ImrReviewType.EXPEDITED:
        if data.expedited_basis not in ImrExpeditedBasis.values:
            errors.setdefault("expedited_basis", []).append(
                "An expedited review states its basis (003 G.2.a): "
                f"{', '.join(ImrExpeditedBasis.values)}."
            )
    elif data.expedited_basis:
        errors.setdefault("expedited_basis", []).append("Only for an expedited review.")
    if data.review_type in ImrReviewType.values:
        retro_request = tar.request_type == RequestType.POST_SERVICE
        if retro_request != (data.review_type == ImrReviewType.RETROSPECTIVE):
            errors.setdefault("review_type", []).append(
                "A post-service request gets a retrospective review (003 G.3), and only it."
            )
    if data.referral_reason == ImrReferralReason.EXPERIMENTAL_DENIAL_SERIOUS_CONDITION and (
        data.serious_condition not in ImrSeriousCondition.values
    ):
        errors.setdefault("serious_condition", []).append(
            "003 B.4: state whether the condition is life-threatening or seriously debilitating."
        )
    if (
        data.referral_reason == ImrReferralReason.MEDICAL_NECESSITY_DENIAL
        and not data.treating_physician_certified
    ):
        errors.setdefault("treating_physician_certified", []).append(
            "003 B.5: the treating physician must certify that standard therapies failed and "
            "recommend in writing a therapy that would be more beneficial."
        )
    questions = [q.strip() for q in data.questions if q and q.strip()]
    if not questions:
        errors.setdefault("questions", []).append(
            "Ask the reviewer at least one specific question (003 F.2.i)."
        )
    if not (data.pertinent_history or "").strip():
        errors.setdefault("pertinent_history", []).append("Required (003 F.2.f).")
    if not (data.clinical_data or "").strip():
        errors.setdefault("clinical_data", []).append("Required (003 F.2.g).")
    return errors


# The engine's result words, for a clinical reader (the letters use plainer ones).


def imr_refer(
    *, tar_id: int, user: User, data: ImrReferralInput, now: datetime | None = None
) -> ImrCase:
    """003 §B, §F: a physician refers the case to the contracted IMRO or a case-matched
    independent specialist; the packet (items a-i) is frozen and the IMR clock starts."""
    now = now or timezone.now()

    def build(tar: Tar | None) -> ImrCase:
        assert tar is not None
        errors = _validate_referral(data, tar)
        if errors:
            raise DomainError(
                ErrorCode.INVALID, "The referral is not valid; see fields.", fields=errors
            )
        experimental = data.experimental_investigational or (
            data.referral_reason in EXPERIMENTAL_REASONS
        )
        if tar.status == TarStatus.CLOSED and tar.reason_code in _NON_REVIEWABLE_CLOSURES:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"There is no medical question to review: this request is {tar.status}.",
            )
        if tar.reason_code == ReasonCode.NOT_A_BENEFIT and not experimental:
            # 003 §C: a benefit exclusion is not eligible, unless experimental/investigational.
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "This request was decided as not a covered benefit. A benefit exclusion cannot "
                "go to independent medical review unless the service is experimental or "
                "investigational (003 §C).",
                fields={
                    "experimental_investigational": [
                        "Required for a benefit-exclusion decision (003 §C)."
                    ]
                },
            )
        open_appeals = Appeal.objects.filter(tar=tar, status__in=APPEAL_OPEN)
        if data.appeal_id is not None:
            appeal = open_appeals.filter(pk=data.appeal_id).first()
            if appeal is None:
                raise invalid("No open appeal of this request.", appeal="No such open appeal.")
        else:
            appeal = open_appeals.first()
        if data.referral_reason == ImrReferralReason.APPEAL and appeal is None:
            raise invalid(
                "There is no open appeal of this request.",
                referral_reason="003 B.3 needs an open appeal.",
            )
        if ImrCase.objects.filter(tar=tar, status__in=list(_IMR_OPEN)).exists():
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "This request is already with an independent reviewer.",
            )
        deadline = clocks.imr_deadline(
            received_at=now, kind=data.review_type, calendar=plan_calendar()
        )
        if appeal is not None:
            check_fits_appeal(appeal=appeal, review_type=data.review_type, due_at=deadline.due_at)
        return ImrCase(
            number=next_number("IMR", pacific_date(now).year),
            tar=tar,
            member=tar.member,
            appeal=appeal,
            decision=None if tar.is_open else tar.decisions.order_by("-decided_at", "-id").first(),
            referral_reason=data.referral_reason,
            serious_condition=data.serious_condition or "",
            treating_physician_certified=bool(data.treating_physician_certified),
            experimental_investigational=experimental,
            reviewer_kind=data.reviewer_kind,
            reviewer_name=data.reviewer_name.strip(),
            reviewer_specialty=(data.reviewer_specialty or "").strip(),
            review_type=data.review_type,
            expedited_basis=data.expedited_basis or "",
            patient_reference=f"R-{secrets.token_hex(5).upper()}",
            questions=[q.strip() for q in data.questions if q and q.strip()],
            pertinent_history=data.pertinent_history.strip(),
            clinical_data=data.clinical_data.strip(),
            packet=packet_snapshot(tar=tar, appeal=appeal, now=now),
            referred_by=user,
            referred_at=now,
            # The packet goes to the reviewer electronically at referral.
            received_at=now,
            due_at=deadline.due_at,
            target_at=deadline.target_at,
            due_rule=deadline.rule,
            original_due_at=deadline.due_at,
        )

    return start(
        IMR,
        ImrAction.REFER,
        user=user,
        tar_id=tar_id,
        build=build,
        authorize=lambda tar: check_conflict_of_interest(tar=tar, user=user),
        conflict="This request is already with an independent reviewer.",
        detail=lambda imr: {
            "number": imr.number,
            "referral_reason": imr.referral_reason,
            "review_type": imr.review_type,
            "reviewer_kind": imr.reviewer_kind,
            "appeal": imr.appeal_id,
            "due_at": imr.due_at.isoformat(),
            "due_rule": imr.due_rule,
        },
        now=now,
    )


def check_fits_appeal(*, appeal: Appeal, review_type: str, due_at: datetime) -> None:
    """003 F.9: an IMR sought during an appeal occurs within the appeal's own time frame; so
    under an expedited appeal only an expedited review (003 G.2.b: 24 hours) may be referred,
    and no review may be due after the appeal is (PRODUCT §4)."""
    if appeal.expedited and review_type != ImrReviewType.EXPEDITED:
        raise DomainError(
            ErrorCode.CLOCK_RULE,
            f"Appeal {appeal.number} is expedited: only an expedited review fits its 72-hour "
            "deadline (003 F.9, G.2.b).",
            fields={"review_type": ["imr_must_be_expedited_under_expedited_appeal"]},
        )
    if due_at > appeal.resolution_due_at:
        raise DomainError(
            ErrorCode.CLOCK_RULE,
            f"The review would be due {due_at.isoformat()}, after appeal {appeal.number} is due "
            f"({appeal.resolution_due_at.isoformat()}); 003 F.9 needs it within the appeal's "
            "time frame.",
            fields={"review_type": ["imr_due_after_appeal"]},
        )


def imr_extend(*, imr_id: int, user: User, reason: str, now: datetime | None = None) -> ImrCase:
    """003 G.2.b: an expedited review's 24 hours may be extended once, by 24 hours, for good
    cause in the member's interest, and only while the plan's own deadline stays intact."""
    now = now or timezone.now()
    reason = (reason or "").strip()

    def apply(imr: ImrCase) -> dict[str, Any]:
        if not reason:
            raise invalid("State the good cause.", reason="This field is required.")
        if imr.extended_at is not None:
            raise DomainError(
                ErrorCode.CLOCK_RULE, "This review was already extended once (003 G.2.b)."
            )
        if imr.due_at <= now:
            raise DomainError(
                ErrorCode.CLOCK_RULE, "The determination is already overdue; extend before it."
            )
        try:
            deadline = clocks.imr_deadline(
                received_at=imr.received_at,
                kind=imr.review_type,
                extended=True,
                calendar=plan_calendar(),
            )
        except clocks.ClockError as exc:
            raise DomainError(
                ErrorCode.CLOCK_RULE,
                "Only an expedited review can be extended (003 G.2.b).",
                fields={"review_type": [exc.code]},
            ) from exc
        plan_due = _plan_deadline(imr)
        if plan_due is not None and deadline.due_at >= plan_due:
            raise DomainError(
                ErrorCode.CLOCK_RULE,
                "Extending the review would leave no time to resolve the case by the plan's own "
                f"deadline ({plan_due.isoformat()}); 003 G.2.b keeps that deadline intact.",
            )
        previous = imr.due_at
        imr.due_at = deadline.due_at
        imr.target_at = deadline.target_at
        imr.due_rule = deadline.rule
        imr.extended_at = now
        imr.extended_by = user
        imr.extension_reason = reason
        return {"previous_due_at": previous.isoformat(), "new_due_at": imr.due_at.isoformat()}

    return perform(
        IMR, ImrAction.EXTEND, record_id=imr_id, user=user, apply=apply, reason=reason, now=now
    )


def _plan_deadline(imr: ImrCase) -> datetime | None:
    """The plan's own deadline the review must leave room for: the open appeal's
    resolution, else the open request's decision."""
    if imr.appeal_id is not None:
        appeal = Appeal.objects.get(pk=imr.appeal_id)
        if appeal.is_open:
            return appeal.resolution_due_at
    tar = imr.tar
    return tar.decision_due_at if tar.is_open else None


def imr_record_determination(
    *,
    imr_id: int,
    user: User,
    upload: UploadedFile,
    determination: str,
    analysis: str,
    reviewer_qualifications: list[str],
    received_at: datetime | None = None,
    now: datetime | None = None,
) -> ImrCase:
    """File the reviewer's written determination (a PDF, checked by its content) with its
    analysis and the reviewers' qualifications (003 G.4), attached to the TAR."""
    now = now or timezone.now()

    def apply(imr: ImrCase) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        if determination not in ImrDetermination.values:
            errors.setdefault("determination", []).append(
                f"Use one of: {', '.join(ImrDetermination.values)}."
            )
        if not (analysis or "").strip():
            errors.setdefault("analysis", []).append("The reviewer's analysis (003 G.4).")
        qualifications = [q.strip() for q in reviewer_qualifications or [] if q and q.strip()]
        if not qualifications:
            errors.setdefault("reviewer_qualifications", []).append(
                "Describe the qualifications of each reviewer (003 G.4)."
            )
        received = received_at or now
        if received > now + timedelta(minutes=1):
            errors.setdefault("received_at", []).append("Cannot be in the future.")
        upload.seek(0)
        if sniff_content_type(upload.read(8192)) != "application/pdf":
            errors.setdefault("file", []).append(
                "The determination must be a PDF (checked by its content, not its name)."
            )
        upload.seek(0)
        if errors:
            raise DomainError(
                ErrorCode.INVALID, "The determination is not valid; see fields.", fields=errors
            )
        if received < imr.referred_at:
            raise invalid(
                "The determination cannot precede the referral.",
                received_at="On or after the referral.",
            )
        attachment = attachment_add(
            tar_id=imr.tar_id,
            user=user,
            upload=upload,
            description=f"Independent medical review determination {imr.number}",
        )
        imr.determination = determination
        imr.analysis = analysis.strip()
        imr.reviewer_qualifications = qualifications
        imr.determination_received_at = received
        imr.determination_late = received > imr.due_at
        imr.determination_attachment = attachment
        imr.determination_recorded_by = user
        return {
            "determination": determination,
            "attachment": attachment.pk,
            "late": imr.determination_late,
        }

    return perform(
        IMR, ImrAction.RECORD_DETERMINATION, record_id=imr_id, user=user, apply=apply, now=now
    )


_OPEN_TAR_OUTCOMES = (TarStatus.APPROVED, TarStatus.MODIFIED, TarStatus.DENIED)


def imr_final_decision(
    *,
    imr_id: int,
    user: User,
    outcome: str,
    rationale: str,
    reason_code: str = "",
    criteria_refs: list[str] | None = None,
    line_decisions: list[LineDecision] | None = None,
    now: datetime | None = None,
) -> ImrCase:
    """003 F.4-F.6: after the determination, the physician decides coverage; it applies to
    the TAR through the transitions. Under appeal it is the appeal's resolution (so decided by
    a physician not involved in the decision); on an open request it is the decision
    (approved, modified, denied); on a decided one it upholds, overturns or partly overturns.
    The case summary is attached to the TAR; member and practitioner are owed the outcome."""
    now = now or timezone.now()
    rationale = (rationale or "").strip()

    def authorize(imr: ImrCase) -> None:
        check_conflict_of_interest(tar=imr.tar, user=user)

    def apply(imr: ImrCase) -> dict[str, Any]:
        appeal = (
            Appeal.objects.filter(pk=imr.appeal_id).first() if imr.appeal_id is not None else None
        )
        tar = imr.tar
        if appeal is not None and appeal.is_open:
            resolved = appeal_resolve(
                appeal_id=appeal.pk,
                user=user,
                outcome=outcome,
                rationale=rationale,
                reason_code=reason_code,
                criteria_refs=criteria_refs,
                line_decisions=line_decisions,
                detail={"appeal": appeal.pk, "appeal_outcome": outcome, "imr": imr.pk},
                now=now,
            )
            decision = resolved.resolution_decision
        elif tar.is_open:
            if outcome not in _OPEN_TAR_OUTCOMES:
                raise invalid(
                    "The request has no decision yet: decide it.",
                    outcome="Use approved, modified or denied.",
                )
            tar_decide(
                tar_id=tar.pk,
                user=user,
                outcome=outcome,
                reason_code=reason_code,
                rationale=rationale,
                criteria_refs=criteria_refs,
                line_decisions=line_decisions,
                now=now,
            )
            decision = tar.decisions.order_by("-decided_at", "-id").first()
        else:
            change = redetermination_validate(
                outcome=outcome,
                rationale=rationale,
                reason_code=reason_code,
                criteria_refs=criteria_refs,
                line_decisions=line_decisions,
                current_reason=tar.reason_code,
            )
            decision = tar_redetermine(
                tar_id=tar.pk,
                user=user,
                path="imr",
                change=change,
                authorize=lambda locked: check_conflict_of_interest(tar=locked, user=user),
                detail={"imr": imr.pk, "imr_outcome": outcome},
                now=now,
            )
        assert decision is not None
        imr.final_outcome = outcome
        imr.final_rationale = rationale
        imr.final_decision = decision
        imr.decided_by = user
        imr.decided_at = now
        # 003 G.4: the member and the treating practitioner get the analysis, determination
        # and qualifications: the provider copy within 24 hours of the decision (002 table),
        # the member's mailed within 2 business days (002 footnote; H&S 1367.01).
        imr.provider_notice_due_at = now + timedelta(hours=24)
        imr.member_notice_due_at = clocks.mailing_deadline(
            decided_at=now, calendar=plan_calendar()
        ).due_at
        imr.case_summary = case_summary_attach(imr=imr, user=user, now=now)
        return {
            "outcome": outcome,
            "decision": decision.pk,
            "appeal": appeal.pk if appeal else None,
            "case_summary": imr.case_summary.pk,
            "provider_notice_due_at": imr.provider_notice_due_at.isoformat(),
            "member_notice_due_at": imr.member_notice_due_at.isoformat(),
        }

    return perform(
        IMR,
        ImrAction.DECIDE,
        record_id=imr_id,
        user=user,
        authorize=authorize,
        apply=apply,
        reason=rationale,
        now=now,
    )


def imr_withdraw(*, imr_id: int, user: User, reason: str, now: datetime | None = None) -> ImrCase:
    now = now or timezone.now()
    reason = (reason or "").strip()

    def apply(imr: ImrCase) -> None:
        if not reason:
            raise invalid("Say why.", reason="This field is required.")
        imr.withdrawn_at = now

    return perform(
        IMR, ImrAction.WITHDRAW, record_id=imr_id, user=user, apply=apply, reason=reason, now=now
    )
