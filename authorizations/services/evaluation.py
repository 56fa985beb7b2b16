"""Evaluating a request's lines against the criteria (PRODUCT §6): the pure engine and the
published sets come from `criteria`; the member's record and the plan's own approvals, which
the repeat-session rules count, are this app's."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User
from authorizations.models import HistoryAction, LineOutcome, ServiceLine, Tar
from authorizations.services.history import history_record
from criteria import engine
from criteria.models import CriteriaSet
from criteria.pa_list import tar_required_on
from criteria.services import evaluate_line


def plan_prior_sessions(
    *, member_id: int, family: str, region: str, before: date, exclude_tar_id: int | None = None
) -> int:
    """The plan's own approved sessions of a family in a region for the member in the 12
    months before `before` (PRODUCT §6 repeat-session rules)."""
    if not family or not region:
        return 0
    # The member's requests (index tar_member_idx: a handful of rows whatever the table holds)
    # with an approved line of the family (EXISTS on service_line_number's tar_id): a plan that
    # does not depend on statistics. The join + COUNT(DISTINCT) form picked a 121 ms plan on a
    # freshly loaded table before ANALYZE (issue 16).
    approved = ServiceLine.objects.filter(
        tar_id=OuterRef("pk"),
        family=family,
        spinal_region=region,
        outcome__in=[LineOutcome.APPROVED, LineOutcome.MODIFIED],
        approved_date_from__gte=before - timedelta(days=365),
        approved_date_from__lt=before,
    )
    qs = Tar.objects.filter(Exists(approved), member_id=member_id)
    if exclude_tar_id is not None:
        qs = qs.exclude(pk=exclude_tar_id)
    return qs.count()


def evaluate_for_member(
    *,
    code: str,
    answers: dict[str, Any],
    chosen_set: str | None,
    on: date,
    member_id: int | None = None,
    exclude_tar_id: int | None = None,
) -> tuple[CriteriaSet | None, engine.Evaluation, int]:
    """`criteria.services.evaluate_line` with the plan's own approved sessions for the member
    counted in (PRODUCT §6: repeat sessions = max(reported, the plan's own))."""

    def prior(criteria_set: CriteriaSet) -> int:
        if member_id is None:
            return 0
        return plan_prior_sessions(
            member_id=member_id,
            family=criteria_set.family,
            region=str(answers.get("spinal_region") or ""),
            before=on,
            exclude_tar_id=exclude_tar_id,
        )

    return evaluate_line(code=code, answers=answers, chosen_set=chosen_set, on=on, prior=prior)


def tar_evaluate_lines(
    *, tar: Tar, lines: list[ServiceLine], actor: User | None, save: bool = True
) -> None:
    """Evaluate each line of a TAR and store the result with the set version used. The stored
    result is what a later decision and its letters cite; evaluating again (after the provider
    answers) writes a new result but never rewrites a decision. `save=False`: lines not yet
    inserted, which the caller inserts with their evaluation (submission, one statement)."""
    summary = []
    for line in lines:
        answers = dict(tar.answers or {})
        if line.spinal_region and not answers.get("spinal_region"):
            answers["spinal_region"] = line.spinal_region
        criteria_set, evaluation, prior = evaluate_for_member(
            code=line.code,
            answers=answers,
            chosen_set=line.criteria_set_choice or None,
            on=line.service_date_from,
            member_id=tar.member_id,
            exclude_tar_id=tar.pk,
        )
        line.criteria_set = criteria_set
        line.evaluation = {
            **evaluation.as_dict(),
            "family": line.family,
            "missing_answers": list(evaluation.missing_answers),
            "plan_prior_sessions": prior,
            "no_tar_required": not tar_required_on(
                code=line.code, service_date=line.service_date_from
            ),
            "evaluated_at": timezone.now().isoformat(),
        }
        line.recommendation = evaluation.recommendation.value
        if save:
            line.save(update_fields=["criteria_set", "evaluation", "recommendation"])
        summary.append(
            {
                "line_number": line.line_number,
                "criteria_set": evaluation.criteria_set,
                "version": evaluation.version,
                "recommendation": evaluation.recommendation.value,
            }
        )
    history_record(
        tar=tar,
        member=tar.member,
        actor=actor,
        action=HistoryAction.EVALUATED,
        detail={"lines": summary},
    )
