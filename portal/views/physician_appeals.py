"""Physician reviewer pages for what follows a decision: the appeals queue and the appeal
decision page, peer-to-peer talks (schedule, record the outcome), and referring a case to
independent medical review. Independence (42 CFR 438.406(b)(2)), conflict of interest and
every deadline are the services'; a refusal shows the service's explanation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from appeals import services as appeals
from appeals.machines import APPEAL, PEER_TO_PEER, AppealAction, independent_of
from appeals.machines import PeerToPeerAction as TalkAction
from appeals.models import Appeal, AppealExtension, PeerToPeer
from authorizations import services
from authorizations.models import Tar
from portal import casework_selectors
from portal.appeal_forms import (
    AppealDecisionForm,
    AppealExtendForm,
    CancelForm,
    ImrReferForm,
    PeerToPeerOutcomeForm,
    PeerToPeerScheduleForm,
    line_errors_to_forms,
)
from portal.forms import LineDecisionForm
from portal.templatetags.portal import pacific
from portal.views.casework import appeal_or_404, offers, peer_to_peer_or_404
from portal.views.common import (
    error_status,
    field_errors_to_form,
    not_found_to_404,
    paginate,
    render_page,
    tar_or_404,
)
from portal.views.physician import criteria_choices, physician_only
from portal.views.review import case_context
from tar_portal.errors import DomainError


def line_forms_for(tar: Tar, data=None, prefix: str = "line") -> list[tuple]:
    return [
        (line, LineDecisionForm(data, prefix=f"{prefix}-{line.line_number}"))
        for line in tar.lines.all()
    ]


def line_decisions(line_forms: list[tuple]) -> list[services.LineDecision]:
    return [
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


def cited_refs(appeal: Appeal) -> list[str]:
    """The criteria the appealed decision cited, preselected for the reviewer."""
    if appeal.decision is None:  # a delay or a deemed denial cited no criteria
        return []
    return [ref.get("ref") for ref in appeal.decision.criteria_refs or [] if ref.get("ref")]


# --- appeals -----------------------------------------------------------------------------------


@physician_only
def appeal_queue(request: HttpRequest) -> HttpResponse:
    page = paginate(request, casework_selectors.appeal_queue(user=request.user))
    return render_page(request, "portal/physician/appeals.html", {"page": page})


def _extension(appeal: Appeal) -> AppealExtension | None:
    try:
        return appeal.extension
    except AppealExtension.DoesNotExist:
        return None


def _render_appeal(
    request: HttpRequest,
    appeal: Appeal,
    *,
    form=None,
    line_forms=None,
    extend_form=None,
    error=None,
    status: int = 200,
) -> HttpResponse:
    tar = tar_or_404(request.user, appeal.tar_id)
    choices, _not_met = criteria_choices(tar)
    context: dict[str, Any] = case_context(request, tar)
    context.update(
        {
            "appeal": appeal,
            "extension": _extension(appeal),
            # Nothing preselected: an overturn cites no criteria; the refs the decision
            # appealed cited are shown beside the field.
            "form": form or AppealDecisionForm(criteria_choices=choices),
            "cited_hint": "The decision appealed cited: " + ", ".join(cited_refs(appeal))
            if cited_refs(appeal)
            else "",
            "line_forms": line_forms or line_forms_for(tar),
            "extend_form": extend_form or AppealExtendForm(),
            "error": error,
            "can_decide": offers(APPEAL, appeal, AppealAction.RESOLVE, request.user),
            # Open, but this physician is not independent of the decision (the machine's
            # `offered` rule): say so instead of offering a form the service would refuse.
            "must_step_aside": appeal.is_open and not independent_of(appeal, request.user),
            "can_extend": offers(APPEAL, appeal, AppealAction.EXTEND, request.user),
            "open_form": "extend" if extend_form is not None else "",
        }
    )
    return render_page(request, "portal/physician/appeal.html", context, status=status)


@physician_only
def appeal_decide(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = appeal_or_404(request.user, appeal_id)
    if request.method != "POST":
        return _render_appeal(request, appeal)
    tar = tar_or_404(request.user, appeal.tar_id)
    choices, _not_met = criteria_choices(tar)
    form = AppealDecisionForm(request.POST, criteria_choices=choices)
    line_forms = line_forms_for(tar, request.POST)
    if not (form.is_valid() & all([lf.is_valid() for _line, lf in line_forms])):
        return _render_appeal(request, appeal, form=form, line_forms=line_forms, status=400)
    data = form.cleaned_data
    try:
        appeals.appeal_decide(
            appeal_id=appeal.pk,
            user=request.user,
            outcome=data["outcome"],
            rationale=data["rationale"],
            reason_code=data["reason_code"],
            criteria_refs=list(data["criteria_refs"]),
            line_decisions=line_decisions(line_forms),
        )
    except DomainError as exc:
        not_found_to_404(exc)
        field_errors_to_form(form, exc, skip=("lines",))
        line_errors_to_forms(exc.fields, line_forms)
        appeal = appeal_or_404(request.user, appeal_id)
        return _render_appeal(
            request,
            appeal,
            form=form,
            line_forms=line_forms,
            error=exc,
            status=error_status(exc),
        )
    messages.success(
        request,
        f"Appeal {appeal.number} was resolved; the resolution notices are on their way.",
    )
    return redirect("portal:physician-appeals")


@physician_only
@require_POST
def appeal_extend(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = appeal_or_404(request.user, appeal_id)
    form = AppealExtendForm(request.POST)
    if not form.is_valid():
        return _render_appeal(request, appeal, extend_form=form, status=400)
    data = form.cleaned_data
    try:
        extended = appeals.appeal_extend(
            appeal_id=appeal.pk,
            user=request.user,
            reason=data["reason"],
            note=data["note"],
            new_due_at=data["new_due_at"],
        )
    except DomainError as exc:
        not_found_to_404(exc)
        field_errors_to_form(form, exc)
        appeal = appeal_or_404(request.user, appeal_id)
        return _render_appeal(
            request, appeal, extend_form=form, error=exc, status=error_status(exc)
        )
    messages.success(
        request,
        f"The resolution of {extended.number} is now due by "
        f"{pacific(extended.resolution_due_at)}; the member is sent a notice.",
    )
    return redirect("portal:physician-appeal", appeal_id=appeal.pk)


# --- peer-to-peer ------------------------------------------------------------------------------


@physician_only
def peer_to_peer_list(request: HttpRequest) -> HttpResponse:
    return render_page(
        request,
        "portal/physician/peer_to_peer_list.html",
        {
            "open_talks": casework_selectors.peer_to_peer_open(user=request.user),
            "recent_talks": casework_selectors.peer_to_peer_recent(user=request.user),
        },
    )


def _talk_decisions(tar: Tar, talk: PeerToPeer) -> list:
    """The decisions a talk can be linked to: made after it was asked for (the service checks
    the same and says so)."""
    return [d for d in tar.decisions.all() if d.decided_at >= talk.requested_at]


def _render_talk(request: HttpRequest, talk: PeerToPeer, *, status=200, error=None, **forms):
    tar = tar_or_404(request.user, talk.tar_id)
    decisions = _talk_decisions(tar, talk)
    physicians = casework_selectors.physicians()
    scheduled_by_default = talk.physician_id or request.user.pk
    context = {
        "talk": talk,
        "tar": tar,
        "error": error,
        "schedule_form": forms.get("schedule_form")
        or PeerToPeerScheduleForm(
            physicians=physicians,
            initial={"physician": str(scheduled_by_default), "scheduled_at": talk.scheduled_at},
        ),
        "outcome_form": forms.get("outcome_form") or PeerToPeerOutcomeForm(decisions=decisions),
        "cancel_form": forms.get("cancel_form") or CancelForm(),
        "open_form": forms.get("open_form", ""),
        "can_schedule": offers(PEER_TO_PEER, talk, TalkAction.SCHEDULE, request.user),
        "can_record": offers(PEER_TO_PEER, talk, TalkAction.RECORD_OUTCOME, request.user),
        "can_cancel": offers(PEER_TO_PEER, talk, TalkAction.CANCEL, request.user),
    }
    return render_page(request, "portal/physician/peer_to_peer.html", context, status=status)


@physician_only
def peer_to_peer_detail(request: HttpRequest, p2p_id: int) -> HttpResponse:
    return _render_talk(request, peer_to_peer_or_404(request.user, p2p_id))


def _talk_action(request, p2p_id, name, form, call, success) -> HttpResponse:
    talk = peer_to_peer_or_404(request.user, p2p_id)
    if not form.is_valid():
        return _render_talk(request, talk, status=400, open_form=name, **{name: form})
    try:
        call(talk, form.cleaned_data)
    except DomainError as exc:
        not_found_to_404(exc)
        field_errors_to_form(form, exc)
        talk = peer_to_peer_or_404(request.user, p2p_id)
        return _render_talk(
            request, talk, status=error_status(exc), error=exc, open_form=name, **{name: form}
        )
    messages.success(request, success)
    return redirect("portal:physician-peer-to-peer", p2p_id=talk.pk)


@physician_only
@require_POST
def peer_to_peer_schedule(request: HttpRequest, p2p_id: int) -> HttpResponse:
    form = PeerToPeerScheduleForm(request.POST, physicians=casework_selectors.physicians())
    return _talk_action(
        request,
        p2p_id,
        "schedule_form",
        form,
        lambda talk, data: appeals.peer_to_peer_schedule(
            p2p_id=talk.pk,
            user=request.user,
            scheduled_at=data["scheduled_at"],
            physician_id=int(data["physician"]),
        ),
        "The talk is scheduled.",
    )


@physician_only
@require_POST
def peer_to_peer_outcome(request: HttpRequest, p2p_id: int) -> HttpResponse:
    talk = peer_to_peer_or_404(request.user, p2p_id)
    tar = tar_or_404(request.user, talk.tar_id)
    form = PeerToPeerOutcomeForm(request.POST, decisions=_talk_decisions(tar, talk))
    return _talk_action(
        request,
        p2p_id,
        "outcome_form",
        form,
        lambda talk, data: appeals.peer_to_peer_record_outcome(
            p2p_id=talk.pk,
            user=request.user,
            outcome=data["outcome"],
            summary=data["summary"],
            held_at=data["held_at"],
            decision_id=int(data["decision"]) if data["decision"] else None,
        ),
        "The outcome of the talk was recorded.",
    )


@physician_only
@require_POST
def peer_to_peer_cancel(request: HttpRequest, p2p_id: int) -> HttpResponse:
    return _talk_action(
        request,
        p2p_id,
        "cancel_form",
        CancelForm(request.POST),
        lambda talk, data: appeals.peer_to_peer_cancel(
            p2p_id=talk.pk, user=request.user, reason=data["reason"]
        ),
        "The talk was cancelled.",
    )


# --- independent medical review: the referral --------------------------------------------------


@physician_only
def imr_refer(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    open_appeals = list(casework_selectors.open_appeals(user=request.user, tar=tar))
    form = ImrReferForm(request.POST or None, appeals=open_appeals)
    error = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                imr = appeals.imr_refer(
                    tar_id=tar.pk,
                    user=request.user,
                    data=appeals.ImrReferralInput(
                        referral_reason=data["referral_reason"],
                        reviewer_kind=data["reviewer_kind"],
                        reviewer_name=data["reviewer_name"],
                        reviewer_specialty=data["reviewer_specialty"],
                        review_type=data["review_type"],
                        expedited_basis=data["expedited_basis"],
                        serious_condition=data["serious_condition"],
                        treating_physician_certified=data["treating_physician_certified"],
                        experimental_investigational=data["experimental_investigational"],
                        questions=data["questions"],
                        pertinent_history=data["pertinent_history"],
                        clinical_data=data["clinical_data"],
                        appeal_id=int(data["appeal"]) if data["appeal"] else None,
                    ),
                )
            except DomainError as exc:
                not_found_to_404(exc)
                field_errors_to_form(form, exc)
                error = exc
                status = error_status(exc)
            else:
                messages.success(
                    request,
                    f"{imr.number} was referred to {imr.reviewer_name}; the determination is "
                    f"due by {pacific(imr.due_at)}.",
                )
                return redirect("portal:imr-detail", imr_id=imr.pk)
    return render_page(
        request,
        "portal/physician/imr_refer.html",
        {"tar": tar, "form": form, "error": error, "open_appeals": open_appeals},
        status=status,
    )
