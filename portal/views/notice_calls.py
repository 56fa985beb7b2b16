"""Staff actions of issue 11 posted from the case pages: a telephone notice attempt on a
request or an appeal, an expedited appeal moved to the standard timeframe (42 CFR 438.410(c)),
and a reduction or termination of authorized concurrent services (42 CFR 431.211). The forms
are on the pages only when the machine offers the action (portal.templatetags.portal_calls);
the services decide. A refusal is shown with the service's words and changes nothing."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from appeals import services as appeals
from appeals.machines import appeal_oral_notice_subjects
from authorizations import services
from authorizations.transitions import oral_notice_subjects
from portal.appeal_forms import AppealDowngradeForm, OralNoticeForm, ReduceServicesForm
from portal.views.casework import appeal_or_404
from portal.views.common import (
    error_status,
    not_found_to_404,
    render_page,
    role_required,
    tar_or_404,
    tar_url_for,
)
from portal.views.physician import criteria_choices, physician_only
from tar_portal.errors import DomainError

call_roles = role_required(Role.NURSE, Role.PHYSICIAN, Role.MEMBER_SERVICES, Role.MANAGER)


def _refused(
    request: HttpRequest,
    heading: str,
    back: str,
    *,
    form: forms.Form | None = None,
    error: DomainError | None = None,
) -> HttpResponse:
    problems: list[tuple[str, list[str]]] = []
    if form is not None:
        problems += [
            (form.fields[name].label if name in form.fields else "Form", list(items))
            for name, items in form.errors.items()
        ]
    if error is not None:
        problems += [(name, list(items)) for name, items in error.fields.items()]
    return render_page(
        request,
        "portal/action_refused.html",
        {
            "heading": heading,
            "back": back,
            "message": error.message if error is not None else "",
            "problems": problems,
        },
        status=error_status(error) if error is not None else 400,
    )


def _call_input(data: dict) -> services.OralNoticeInput:
    return services.OralNoticeInput(
        subject=data["subject"],
        party=data["party"],
        phone=data["phone"],
        outcome=data["outcome"],
        attempted_at=data.get("attempted_at"),
        note=data.get("note", ""),
    )


@call_roles
@require_POST
def tar_oral_notice(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    back = tar_url_for(request.user, tar)
    form = OralNoticeForm(request.POST, subjects=oral_notice_subjects(tar))
    if not form.is_valid():
        return _refused(request, "The call was not recorded", back, form=form)
    try:
        services.tar_oral_notice_record(
            tar_id=tar.pk, user=request.user, data=_call_input(form.cleaned_data)
        )
    except DomainError as exc:
        not_found_to_404(exc)
        return _refused(request, "The call was not recorded", back, error=exc)
    messages.success(request, "The telephone notice attempt was recorded.")
    return redirect(back)


@physician_only
@require_POST
def tar_reduce_services(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    back = reverse("portal:physician-tar", args=[tar.pk])
    choices, _not_met = criteria_choices(tar)
    form = ReduceServicesForm(request.POST, criteria_choices=choices)
    if not form.is_valid():
        return _refused(request, "The services were not changed", back, form=form)
    data = form.cleaned_data
    try:
        reduction = services.tar_reduce_services(
            tar_id=tar.pk,
            user=request.user,
            kind=data["kind"],
            effective_on=data["effective_on"],
            rationale=data["rationale"],
            care_plan_note=data["care_plan_note"],
            criteria_refs=list(data["criteria_refs"]),
        )
    except DomainError as exc:
        not_found_to_404(exc)
        return _refused(request, "The services were not changed", back, error=exc)
    messages.success(
        request,
        f"The change takes effect on {reduction.effective_on:%m/%d/%Y}; the member's notice "
        "is on its way.",
    )
    return redirect(back)


@physician_only
@require_POST
def appeal_downgrade(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = appeal_or_404(request.user, appeal_id)
    back = reverse("portal:physician-appeal", args=[appeal.pk])
    form = AppealDowngradeForm(request.POST)
    if not form.is_valid():
        return _refused(request, "The appeal was not moved", back, form=form)
    data = form.cleaned_data
    call = None
    if data.get("party"):
        call = services.OralNoticeInput(
            subject="appeal_downgrade",
            party=data["party"],
            phone=data["phone"],
            outcome=data["outcome"],
        )
    try:
        moved = appeals.appeal_downgrade(
            appeal_id=appeal.pk, user=request.user, reason=data["reason"], oral_notice=call
        )
    except DomainError as exc:
        not_found_to_404(exc)
        return _refused(request, "The appeal was not moved", back, error=exc)
    messages.success(
        request,
        f"Appeal {moved.number} now runs on the standard timeframe; the member's written "
        "notice goes out within 2 calendar days.",
    )
    return redirect(back)


@physician_only
@require_POST
def appeal_oral_notice(request: HttpRequest, appeal_id: int) -> HttpResponse:
    appeal = appeal_or_404(request.user, appeal_id)
    back = reverse("portal:physician-appeal", args=[appeal.pk])
    form = OralNoticeForm(request.POST, subjects=appeal_oral_notice_subjects(appeal))
    if not form.is_valid():
        return _refused(request, "The call was not recorded", back, form=form)
    try:
        appeals.appeal_oral_notice_record(
            appeal_id=appeal.pk, user=request.user, data=_call_input(form.cleaned_data)
        )
    except DomainError as exc:
        not_found_to_404(exc)
        return _refused(request, "The call was not recorded", back, error=exc)
    messages.success(request, "The telephone notice attempt was recorded.")
    return redirect(back)
