"""Physician reviewer pages: the queue of referred cases and the decision page. Conflict of
interest and every other rule are the decision service's; the page shows its explanation."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.models import Role
from appeals.machines import IMR, ImrAction
from authorizations import services
from authorizations.models import Tar
from authorizations.transitions import TAR, Action
from authorizations.workflow import available_actions, can_start
from portal import presentation
from portal import selectors as portal_selectors
from portal.forms import DecisionForm, LineDecisionForm
from portal.views.common import (
    error_status,
    field_errors_to_form,
    not_found_to_404,
    render_page,
    role_required,
    tar_or_404,
)
from portal.views.review import case_context, queue_context, queue_query
from tar_portal.errors import DomainError

physician_only = role_required(Role.PHYSICIAN)


@physician_only
def queue(request: HttpRequest) -> HttpResponse:
    """Referred cases, the soonest deadline first, each with the nurse's referral note and the
    criteria the evaluation found not met (what the physician decides on)."""
    page, problems = queue_query(
        request, default_statuses=portal_selectors.PHYSICIAN_QUEUE_STATUSES
    )
    context = {
        "problems": problems,
        "notes": portal_selectors.referral_notes(user=request.user, tars=page.rows),
        "failed": {tar.pk: portal_selectors.failed_criteria(tar) for tar in page.rows},
    }
    context.update(queue_context(request, page))
    return render_page(
        request, "portal/physician/queue.html", context, status=400 if problems else 200
    )


def criteria_choices(tar: Tar) -> tuple[list[tuple[str, str]], list[str]]:
    """Citable criteria from each line's stored evaluation, as `set:version:number` refs
    (what `tar_decide` resolves), and the ones the evaluation found not met."""
    choices: dict[str, str] = {}
    not_met: list[str] = []
    for line in tar.lines.all():
        evaluation = line.evaluation or {}
        set_id, version = evaluation.get("criteria_set"), evaluation.get("version")
        if not set_id or not version:
            continue
        for criterion in evaluation.get("criteria", []):
            ref = f"{set_id}:{version}:{criterion.get('number')}"
            result = {"met": "met", "not_met": "not met", "unknown": "unknown"}.get(
                criterion.get("result"), criterion.get("result", "")
            )
            # Issue 15: the set's title and the clinical wording, never the id or the
            # member's "you".
            words = presentation.criterion_words(
                set_id, version, criterion.get("number"), criterion.get("text", "")
            )
            choices.setdefault(
                ref,
                f"{presentation.criteria_set_words(set_id, version)}, criterion "
                f"{criterion.get('number')} ({result}): {words}",
            )
            if criterion.get("result") == "not_met" and ref not in not_met:
                not_met.append(ref)
    return list(choices.items()), not_met


def _line_forms(tar: Tar, data=None) -> list[tuple]:
    return [
        (line, LineDecisionForm(data, prefix=f"line-{line.line_number}"))
        for line in tar.lines.all()
    ]


def _render(request, tar, *, form=None, line_forms=None, error=None, status=200) -> HttpResponse:
    choices, not_met = criteria_choices(tar)
    context = case_context(request, tar)
    context.update(
        {
            "form": form
            or DecisionForm(criteria_choices=choices, initial={"criteria_refs": not_met}),
            "line_forms": line_forms or _line_forms(tar),
            "error": error,
            # A physician involved in the member's care is offered no decision (002).
            "can_decide": bool(
                {Action.APPROVE, Action.MODIFY, Action.DENY}
                & set(available_actions(TAR, tar, request.user))
            ),
            "can_refer_imr": can_start(IMR, ImrAction.REFER, tar, request.user),
            "not_met": not_met,
            "nurse_note": portal_selectors.referral_notes(user=request.user, tars=[tar]).get(
                tar.pk, ""
            ),
        }
    )
    return render_page(request, "portal/physician/tar.html", context, status=status)


@physician_only
def decide(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    if request.method != "POST":
        return _render(request, tar)
    choices, _not_met = criteria_choices(tar)
    form = DecisionForm(request.POST, criteria_choices=choices)
    line_forms = _line_forms(tar, request.POST)
    if not (form.is_valid() & all([lf.is_valid() for _line, lf in line_forms])):
        return _render(request, tar, form=form, line_forms=line_forms, status=400)
    decisions = [
        services.LineDecision(
            line_number=line.line_number,
            outcome=lf.cleaned_data["outcome"],
            approved_units=lf.cleaned_data["approved_units"],
            approved_date_from=lf.cleaned_data["approved_date_from"],
            approved_date_to=lf.cleaned_data["approved_date_to"],
        )
        for line, lf in line_forms
        if lf.cleaned_data.get("outcome")
    ]
    data = form.cleaned_data
    try:
        services.tar_decide(
            tar_id=tar.pk,
            user=request.user,
            outcome=data["outcome"],
            reason_code=data["reason_code"],
            rationale=data["rationale"],
            criteria_refs=list(data["criteria_refs"]),
            line_decisions=decisions,
        )
    except DomainError as exc:
        not_found_to_404(exc)
        field_errors_to_form(form, exc, skip=("lines[",))
        for key, items in exc.fields.items():
            # "lines[2].approved_units" → the form of line 2
            if key.startswith("lines[") and "]." in key:
                number, _sep, name = key[len("lines[") :].partition("].")
                for line, lf in line_forms:
                    if str(line.line_number) == number and name in lf.fields:
                        for message in items:
                            lf.add_error(name, message)
        tar = tar_or_404(request.user, tar_id)
        return _render(
            request, tar, form=form, line_forms=line_forms, error=exc, status=error_status(exc)
        )
    messages.success(request, "Your decision was recorded; the notices are on their way.")
    return redirect("portal:physician-queue")
