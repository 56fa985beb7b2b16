"""Inter-rater reliability audits (seed 002 "Inter-Rater Reliability"; PRODUCT §10).

The manager opens the year's audit: for every reviewer (nurses and physicians) who decided
requests in the year, a sample of their first decisions is drawn at random — 50 cases or 5 %,
whichever is less, at least one — from a recorded seed, and each case is assigned to an
eligible second reviewer (the same kind or higher, not the original reviewer, not involved in
the member's care). The second reviewer reviews the case blind (`blind_case`: never the
original outcome, rationale, status, letters or history) and records an outcome per line and
the criteria judged not met. A case agrees when every line's outcome and the set of criteria
not met are the same; a reviewer's score is agreeing cases / reviewed cases; below the target
(90 %) a corrective action plan opens. Nothing here changes the request.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Role, User
from authorizations.models import Decision, LineOutcome, Tar
from authorizations.transitions import involved_in_care
from authorizations.workflow.machine import perform, start
from criteria.catalog import QUESTIONS
from criteria.models import CriteriaSet
from reports.machines import IRR_ASSIGN, IRR_CASE, IRR_REVIEW
from reports.metrics import first_decisions, percent
from reports.models import (
    IRR_MAX_CASES,
    IRR_SHARE_PERCENT,
    CorrectiveActionPlan,
    IrrAudit,
    IrrCase,
    IrrCaseStatus,
    IrrReviewerSample,
)
from reports.periods import calendar_year, pacific_today
from tar_portal.errors import DomainError, ErrorCode, invalid

REVIEWER_ROLES = (Role.NURSE, Role.PHYSICIAN)
# "The same kind or higher" (PRODUCT §10): a nurse's case goes to a nurse or a physician, a
# physician's only to another physician.
ELIGIBLE_ROLES: dict[str, tuple[str, ...]] = {
    Role.NURSE: (Role.NURSE, Role.PHYSICIAN),
    Role.PHYSICIAN: (Role.PHYSICIAN,),
}
LINE_OUTCOMES = (LineOutcome.APPROVED, LineOutcome.MODIFIED, LineOutcome.DENIED, LineOutcome.CLOSED)
# How long a corrective action plan runs by default; the owner changes the dates.
PLAN_DUE_DAYS = 30
RE_AUDIT_DAYS = 90


def sample_size(decisions: int) -> int:
    """002: "50 cases or 5% of reviewer case load, whichever is less"; at least one where the
    reviewer decided any (PRODUCT §10). 5 % is rounded up: the audit reads at least 5 %."""
    if decisions <= 0:
        return 0
    return max(1, min(IRR_MAX_CASES, math.ceil(decisions * IRR_SHARE_PERCENT / 100)))


def _require_manager(user: User) -> None:
    if not user.has_role(Role.MANAGER):
        raise DomainError(ErrorCode.PERMISSION_DENIED, "Only the UM manager runs IRR audits.")


def _reviewer_pool() -> list[User]:
    return list(
        User.objects.filter(is_active=True, role__in=REVIEWER_ROLES)
        .select_related("provider")
        .order_by("username")
    )


def _choose_second(
    *, tar: Tar, original: User, pool: Sequence[User], load: dict[int, int], rng: random.Random
) -> User | None:
    eligible = [
        u
        for u in pool
        if u.pk != original.pk
        and u.role in ELIGIBLE_ROLES.get(original.role, ())
        and not (u.role == Role.PHYSICIAN and involved_in_care(tar, u))
    ]
    if not eligible:
        return None
    rng.shuffle(eligible)
    return min(eligible, key=lambda u: load.get(u.pk, 0))


def _criteria_set_of(tar: Tar) -> str:
    for line in tar.lines.all():
        if line.criteria_set is not None:
            return line.criteria_set.set_id
    return ""


def irr_audit_open(
    *, year: int, user: User, seed: int | None = None, now: datetime | None = None
) -> IrrAudit:
    """Open the year's audit: draw each reviewer's sample and assign every case (PRODUCT §10).
    One audit a year (409 for a second); the seed is recorded so the draw can be redone."""
    _require_manager(user)
    now = now or timezone.now()
    if IrrAudit.objects.filter(year=year).exists():
        raise DomainError(ErrorCode.INVALID_TRANSITION, f"The {year} IRR audit is already open.")
    seed = secrets.randbits(48) if seed is None else seed
    period = calendar_year(year)
    decisions = first_decisions().filter(
        decided_at__gte=period.start,
        decided_at__lt=period.end,
        automated=False,
        decided_by__role__in=REVIEWER_ROLES,
    )
    counts = list(decisions.values("decided_by").annotate(n=Count("pk")).order_by("decided_by"))
    pool = _reviewer_pool()
    people = {u.pk: u for u in pool} | {
        u.pk: u for u in User.objects.filter(pk__in=[row["decided_by"] for row in counts])
    }
    load: dict[int, int] = {}
    number = 0
    with transaction.atomic():
        audit = IrrAudit.objects.create(year=year, seed=seed, opened_by=user, opened_at=now)
        for row in counts:
            reviewer = people[row["decided_by"]]
            size = sample_size(row["n"])
            sample = IrrReviewerSample.objects.create(
                audit=audit,
                reviewer=reviewer,
                reviewer_role=reviewer.role,
                decisions_in_year=row["n"],
                sample_size=size,
            )
            # A reproducible draw per reviewer: the same seed and decisions give the same
            # cases, whatever order the reviewers are drawn in.
            rng = random.Random(f"{seed}:{reviewer.pk}")
            ids = sorted(decisions.filter(decided_by=reviewer).values_list("pk", flat=True))
            drawn = sorted(rng.sample(ids, size))
            unassigned = 0
            for decision in (
                Decision.objects.filter(pk__in=drawn)
                .select_related(
                    "tar__requesting_provider", "tar__servicing_provider", "tar__member"
                )
                .order_by("pk")
            ):
                second = _choose_second(
                    tar=decision.tar, original=reviewer, pool=pool, load=load, rng=rng
                )
                if second is None:
                    unassigned += 1
                    continue
                load[second.pk] = load.get(second.pk, 0) + 1
                number += 1
                _case_start(
                    audit=audit,
                    sample=sample,
                    decision=decision,
                    reviewer=reviewer,
                    second=second,
                    reference=f"IRR-{year}-{number:04d}",
                    user=user,
                    now=now,
                )
            if unassigned:
                sample.note = f"{unassigned} case(s) had no eligible second reviewer."
                sample.save(update_fields=["note"])
    return audit


def _case_start(
    *,
    audit: IrrAudit,
    sample: IrrReviewerSample,
    decision: Decision,
    reviewer: User,
    second: User,
    reference: str,
    user: User,
    now: datetime,
) -> IrrCase:
    def build(tar: Tar | None) -> IrrCase:
        assert tar is not None
        return IrrCase(
            audit=audit,
            sample=sample,
            reference=reference,
            tar=tar,
            decision=decision,
            original_reviewer=reviewer,
            second_reviewer=second,
            criteria_set=_criteria_set_of(tar),
        )

    case: IrrCase = start(
        IRR_CASE,
        IRR_ASSIGN,
        user=user,
        tar_id=decision.tar_id,
        build=build,
        conflict="This decision is already in the year's audit.",
        detail=lambda case: {"audit": audit.year, "reference": case.reference},
        now=now,
    )
    return case


# --- the blind second review -----------------------------------------------------------------


def assigned_cases(*, user: User):
    """The cases assigned to this second reviewer, open first."""
    return (
        IrrCase.objects.filter(second_reviewer=user)
        .select_related("audit")
        .order_by("status", "reference")
    )


def _case_for_reviewer(case_id: int, user: User) -> IrrCase:
    case = (
        IrrCase.objects.select_related("tar", "audit")
        .filter(pk=case_id, second_reviewer=user)
        .first()
    )
    if case is None or not user.has_role(*REVIEWER_ROLES):
        # A case assigned to someone else does not exist for this user.
        raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
    return case


def _criteria_of(set_ids: set[tuple[str, str]]) -> dict[tuple[str, str], CriteriaSet]:
    query = Q(pk__in=[])
    for set_id, version in set_ids:
        query |= Q(set_id=set_id, version=version)
    return {(c.set_id, c.version): c for c in CriteriaSet.objects.filter(query)}


def blind_case(*, case_id: int, user: User) -> dict[str, Any]:
    """What the second reviewer sees: the request as it was asked for — type, urgency, place of
    service, lines, diagnoses, clinical answers, the documents' descriptions and each line's
    criteria — and never the original outcome, rationale, status, approved units, letters,
    history, the request's number or the member's identity (PRODUCT §10: reviewed blind)."""
    case = _case_for_reviewer(case_id, user)
    tar = case.tar
    lines = list(tar.lines.select_related("criteria_set").order_by("line_number"))
    criteria = []
    seen: set[int] = set()
    for line in lines:
        cs = line.criteria_set
        if cs is None or cs.pk in seen:
            continue
        seen.add(cs.pk)
        criteria.append(
            {
                "criteria_set": cs.set_id,
                "version": cs.version,
                "title": cs.title,
                "criteria": [
                    {
                        "ref": f"{cs.set_id}:{cs.version}:{c['number']}",
                        "number": c["number"],
                        "text": c["text"],
                    }
                    for c in cs.criteria
                ],
            }
        )
    return {
        "id": case.pk,
        "reference": case.reference,
        "audit_year": case.audit.year,
        "status": case.status,
        "request_type": tar.request_type,
        "urgency": tar.urgency,
        "urgency_reason": tar.urgency_reason,
        "place_of_service": tar.place_of_service,
        "received_on": timezone.localtime(tar.received_at).date().isoformat(),
        "lines": [
            {
                "line_number": line.line_number,
                "code": line.code,
                "modifiers": line.modifiers,
                "diagnosis_codes": line.diagnosis_codes,
                "units": line.units,
                "spinal_region": line.spinal_region,
                "service_date_from": line.service_date_from.isoformat(),
                "service_date_to": line.service_date_to.isoformat(),
                "criteria_set": line.criteria_set.set_id if line.criteria_set else "",
            }
            for line in lines
        ],
        "answers": [
            {"key": key, "question": QUESTIONS.get(key, {}).get("label", key), "answer": value}
            for key, value in (tar.answers or {}).items()
        ],
        "documents": [
            {
                "description": a.description or a.content_type,
                "uploaded_on": timezone.localtime(a.uploaded_at).date().isoformat(),
            }
            for a in tar.attachments.all()
        ],
        "criteria": criteria,
        "outcome_choices": list(LINE_OUTCOMES),
        # The second reviewer's own review, once recorded (never the original's).
        "review": {
            "line_outcomes": case.line_outcomes,
            "criteria_not_met": case.criteria_not_met,
            "comment": case.comment,
            "reviewed_at": case.reviewed_at.isoformat() if case.reviewed_at else None,
        }
        if case.status == IrrCaseStatus.REVIEWED
        else None,
    }


@dataclass(frozen=True)
class LineReview:
    line_number: int
    outcome: str


def _validate_review(
    tar: Tar, lines: Sequence[LineReview], criteria_not_met: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    numbers = {line.line_number: line for line in tar.lines.select_related("criteria_set")}
    errors: dict[str, list[str]] = {}
    given: dict[int, str] = {}
    for review in lines:
        if review.line_number not in numbers:
            errors.setdefault("lines", []).append(f"No line {review.line_number} on this case.")
        elif review.line_number in given:
            errors.setdefault("lines", []).append(f"Line {review.line_number} is given twice.")
        elif review.outcome not in LINE_OUTCOMES:
            errors.setdefault(f"lines[{review.line_number}].outcome", []).append(
                f"Use one of: {', '.join(LINE_OUTCOMES)}."
            )
        else:
            given[review.line_number] = review.outcome
    missing = sorted(set(numbers) - set(given) - {r.line_number for r in lines})
    if missing:
        errors.setdefault("lines", []).append(f"Give an outcome for line(s) {missing}.")
    allowed = {
        f"{line.criteria_set.set_id}:{line.criteria_set.version}:{c['number']}"
        for line in numbers.values()
        if line.criteria_set is not None
        for c in line.criteria_set.criteria
    }
    refs = sorted({str(ref).strip() for ref in criteria_not_met if str(ref).strip()})
    unknown = [ref for ref in refs if ref not in allowed]
    if unknown:
        errors.setdefault("criteria_not_met", []).append(
            f"Not a criterion of this case's criteria sets: {', '.join(unknown)}."
        )
    if errors:
        raise DomainError(
            ErrorCode.INVALID, "The review is not complete or not valid.", fields=errors
        )
    return [{"line_number": n, "outcome": given[n]} for n in sorted(given)], refs


def compare(decision: Decision, line_outcomes: Sequence[dict[str, Any]], not_met: Sequence[str]):
    """(agrees, disagreement): the same outcome on every line and the same criteria judged not
    met (PRODUCT §10)."""
    original_lines = {int(r["line_number"]): r["outcome"] for r in decision.line_outcomes or []}
    second_lines = {int(r["line_number"]): r["outcome"] for r in line_outcomes}
    if not original_lines:
        # A decision written before per-line outcomes were kept: its outcome on every line.
        original_lines = {n: decision.outcome for n in second_lines}
    lines = sorted(n for n in second_lines if original_lines.get(n) != second_lines[n])
    original_refs = {
        r["ref"] if isinstance(r, dict) else str(r) for r in decision.criteria_refs or []
    }
    second_refs = set(not_met)
    disagreement: dict[str, Any] = {}
    if lines:
        disagreement["lines"] = lines
    if original_refs != second_refs:
        disagreement["criteria_only_original"] = sorted(original_refs - second_refs)
        disagreement["criteria_only_second"] = sorted(second_refs - original_refs)
    return not disagreement, disagreement


def irr_review(
    *,
    case_id: int,
    user: User,
    lines: Sequence[LineReview],
    criteria_not_met: Sequence[str] = (),
    comment: str = "",
    now: datetime | None = None,
) -> IrrCase:
    """Record the blind second review; score it; open a corrective action plan when the
    reviewer's sample is complete and under target. The request is not changed."""
    now = now or timezone.now()

    def authorize(case: IrrCase) -> None:
        if case.second_reviewer_id != user.pk:
            # Not this user's case: it does not exist for them.
            raise DomainError(ErrorCode.NOT_FOUND, "Not found.")

    def apply(case: IrrCase) -> dict[str, Any]:
        line_outcomes, refs = _validate_review(case.tar, lines, criteria_not_met)
        agrees, disagreement = compare(case.decision, line_outcomes, refs)
        case.line_outcomes = line_outcomes
        case.criteria_not_met = refs
        case.comment = (comment or "").strip()
        case.reviewed_at = now
        case.agrees = agrees
        case.disagreement = disagreement
        # The history says a review was recorded, not what it found (the original reviewer
        # may read the request's history).
        return {"reference": case.reference}

    with transaction.atomic():
        case = perform(
            IRR_CASE,
            IRR_REVIEW,
            record_id=case_id,
            user=user,
            authorize=authorize,
            apply=apply,
            now=now,
        )
        _plan_if_below_target(case.sample_id, now=now)
    return case


def reviewer_score(sample_id: int) -> dict[str, int]:
    return IrrCase.objects.filter(sample_id=sample_id).aggregate(
        cases=Count("pk"),
        reviewed=Count("pk", filter=Q(status=IrrCaseStatus.REVIEWED)),
        agreed=Count("pk", filter=Q(status=IrrCaseStatus.REVIEWED, agrees=True)),
    )


def _plan_if_below_target(sample_id: int, *, now: datetime) -> CorrectiveActionPlan | None:
    sample = IrrReviewerSample.objects.select_related("audit").get(pk=sample_id)
    score = reviewer_score(sample_id)
    if not score["cases"] or score["reviewed"] < score["cases"]:
        return None
    value = percent(score["agreed"], score["reviewed"])
    if value is None or value >= sample.audit.target_percent:
        return None
    today = pacific_today(now)
    plan, _ = CorrectiveActionPlan.objects.get_or_create(
        audit=sample.audit,
        reviewer_id=sample.reviewer_id,
        defaults={
            "score_percent": Decimal(str(value)),
            "owner": sample.audit.opened_by,
            "actions": (
                "Review the disagreeing cases with the reviewer; retrain on the criteria sets "
                "concerned; re-audit a new sample."
            ),
            "due_date": today + timedelta(days=PLAN_DUE_DAYS),
            "re_audit_date": today + timedelta(days=RE_AUDIT_DAYS),
            "opened_at": now,
        },
    )
    return plan


def plan_update(
    *,
    plan_id: int,
    user: User,
    owner_id: int,
    actions: str,
    due_date: date,
    re_audit_date: date,
    close: bool = False,
    outcome: str = "",
    now: datetime | None = None,
) -> CorrectiveActionPlan:
    _require_manager(user)
    now = now or timezone.now()
    with transaction.atomic():
        plan = CorrectiveActionPlan.objects.select_for_update().filter(pk=plan_id).first()
        if plan is None:
            raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
        owner = User.objects.filter(
            pk=owner_id, is_active=True, role__in=[Role.MANAGER, Role.PHYSICIAN, Role.NURSE]
        ).first()
        errors: dict[str, str] = {}
        if owner is None:
            errors["owner"] = "Choose an active manager, physician or nurse."
        if not actions.strip():
            errors["actions"] = "Say what will be done."
        if re_audit_date < due_date:
            errors["re_audit_date"] = "The re-audit follows the actions' due date."
        if close and not outcome.strip():
            errors["outcome"] = "Say what the plan achieved before closing it."
        if errors or owner is None:
            raise invalid("The plan is not valid.", **errors)
        plan.owner = owner
        plan.actions = actions.strip()
        plan.due_date = due_date
        plan.re_audit_date = re_audit_date
        if close:
            plan.closed_at = now
            plan.outcome = outcome.strip()
        plan.save()
    return plan


# --- the summary -----------------------------------------------------------------------------


def _scored(row: dict[str, Any], target: int) -> dict[str, Any]:
    score = percent(row["agreed"], row["reviewed"])
    return row | {"score_percent": score, "below_target": score is not None and score < target}


def audit_summary(audit: IrrAudit) -> dict[str, Any]:
    """Per reviewer, per review type (nurse/physician) and per criteria set: cases, reviewed,
    agreeing, score. Four queries."""
    cases = IrrCase.objects.filter(audit=audit)
    counts = {
        "cases": Count("pk"),
        "reviewed": Count("pk", filter=Q(status=IrrCaseStatus.REVIEWED)),
        "agreed": Count("pk", filter=Q(status=IrrCaseStatus.REVIEWED, agrees=True)),
    }
    per_case: dict[Any, Any] = {
        row["sample"]: row for row in cases.values("sample").annotate(**counts).order_by()
    }
    plans = {p.reviewer_id: p for p in audit.action_plans.select_related("owner")}
    reviewers = []
    for sample in audit.samples.select_related("reviewer").order_by("reviewer__username"):
        row = per_case.get(sample.pk, {"cases": 0, "reviewed": 0, "agreed": 0})
        reviewers.append(
            _scored(
                {
                    "reviewer": sample.reviewer.username,
                    "reviewer_id": sample.reviewer_id,
                    "role": sample.reviewer_role,
                    "decisions_in_year": sample.decisions_in_year,
                    "sample_size": sample.sample_size,
                    "cases": row["cases"],
                    "reviewed": row["reviewed"],
                    "agreed": row["agreed"],
                    "note": sample.note,
                    "plan": plans.get(sample.reviewer_id),
                },
                audit.target_percent,
            )
        )
    by_type = [
        _scored(dict(row), audit.target_percent)
        for row in cases.values("sample__reviewer_role")
        .annotate(**counts)
        .order_by("sample__reviewer_role")
    ]
    by_set = [
        _scored(dict(row), audit.target_percent)
        for row in cases.values("criteria_set").annotate(**counts).order_by("criteria_set")
    ]
    total = _scored(cases.aggregate(**counts), audit.target_percent)
    return {
        "audit": audit,
        "total": total,
        "reviewers": reviewers,
        "by_type": by_type,
        "by_set": by_set,
    }
