"""The nurse's review queue and review page. Every action is one service call; the page shows
the service's error when it refuses (claimed by another nurse, a clock cap, not allowed)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import PLAN_STAFF_ROLES, Role
from authorizations import clocks, selectors, services
from authorizations.calendar import plan_calendar
from authorizations.models import Tar
from authorizations.transitions import TAR, duplicate_candidates, supported_grounds
from authorizations.workflow import available_actions
from criteria import catalog
from portal import selectors as portal_selectors
from portal.forms import (
    ApproveForm,
    CloseForm,
    ExtendForm,
    QueueFilterForm,
    ReferForm,
    RequestInfoForm,
)
from portal.views.common import (
    error_status,
    field_errors_to_form,
    not_found_to_404,
    paginate_rows,
    render_page,
    role_required,
    tar_or_404,
    tar_url_for,
)
from tar_portal.errors import DomainError

nurse_only = role_required(Role.NURSE)
queue_roles = role_required(Role.NURSE, Role.MANAGER)
staff_only = role_required(*PLAN_STAFF_ROLES)


@queue_roles
def queue(request: HttpRequest) -> HttpResponse:
    nurses = list(portal_selectors.nurses())
    form = QueueFilterForm(request.GET or None, nurses=nurses)
    filters = {"status": portal_selectors.NURSE_QUEUE_STATUSES}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        for name in ("status", "urgency", "request_type", "family"):
            if data[name]:
                filters[name] = data[name]
        if data["assignee"] == "me":
            filters["assigned_to"] = str(request.user.pk)
        elif data["assignee"]:
            filters["assigned_to"] = data["assignee"]
    page = paginate_rows(request, portal_selectors.review_queue(user=request.user, filters=filters))
    query = request.GET.copy()
    query.pop("page", None)
    return render_page(
        request,
        "portal/review/queue.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=200 if not form.is_bound or form.is_valid() else 400,
    )


def _missing_answers(tar: Tar) -> list[str]:
    keys: dict[str, None] = {}
    for line in tar.lines.all():
        for key in (line.evaluation or {}).get("missing_answers", []):
            keys.setdefault(key, None)
    return list(keys)


def case_context(request: HttpRequest, tar: Tar) -> dict[str, Any]:
    """What a plan reviewer sees of a request: member, eligibility, RAF, answers, documents,
    the criteria results per line, history. Recording the clinical read is part of showing
    it (PRODUCT §3)."""
    services.tar_record_clinical_read(tar=tar, user=request.user)
    member = tar.member
    lines = list(tar.lines.all())
    return {
        "tar": tar,
        "member": member,
        "lines": lines,
        "line_eligibility": [
            (line, member.is_eligible_on(line.service_date_from)) for line in lines
        ],
        "answers": [
            (key, catalog.QUESTIONS.get(key, {}).get("label", key), value)
            for key, value in (tar.answers or {}).items()
        ],
        "history": selectors.tar_history(user=request.user, tar=tar),
        "notices": portal_selectors.notice_list(user=request.user, tar=tar),
        "letters": portal_selectors.letter_list(user=request.user, tar=tar),
    }


def _extension_policy(tar: Tar) -> clocks.ExtensionPolicy:
    return clocks.extension_policy(
        received_at=tar.received_at,
        request_type=tar.request_type,
        urgency=tar.urgency,
        calendar=plan_calendar(),
    )


def _render_review(
    request: HttpRequest, tar: Tar, *, status: int = 200, error=None, **forms
) -> HttpResponse:
    policy = _extension_policy(tar)
    actions = available_actions(TAR, tar, request.user)
    context = case_context(request, tar)
    context.update(
        {
            "policy": policy,
            "error": error,
            # The workflow machine's offer: only controls that can succeed are shown.
            "actions": actions,
            "can_act": request.user.role == Role.NURSE and bool(actions),
            "approve_form": forms.get("approve_form") or ApproveForm(),
            "info_form": forms.get("info_form")
            or RequestInfoForm(initial={"missing_keys": _missing_answers(tar)}),
            "extend_form": forms.get("extend_form")
            or ExtendForm(
                initial={"new_due_at": policy.latest_due_at} if policy.latest_due_at else None
            ),
            "refer_form": forms.get("refer_form") or ReferForm(),
            "close_form": forms.get("close_form") or _close_form(tar),
            "open_form": forms.get("open_form", ""),
        }
    )
    return render_page(request, "portal/review/tar.html", context, status=status)


def _close_form(tar: Tar, data=None) -> CloseForm:
    """The nurse's closure form offers only the grounds the record supports (PRODUCT §2)."""
    return CloseForm(data, grounds=supported_grounds(tar), duplicates=duplicate_candidates(tar))


@staff_only
def review(request: HttpRequest, tar_id: int) -> HttpResponse:
    if request.user.role == Role.PHYSICIAN:
        return redirect("portal:physician-tar", tar_id=tar_id)
    if not selectors.sees_clinical_record(request.user):
        # Intake and member services have their own page of the request, without the
        # clinical answers, criteria and documents this one shows (002 "Confidentiality").
        return redirect(tar_url_for(request.user, tar_id))
    return _render_review(request, tar_or_404(request.user, tar_id))


def _act(request: HttpRequest, tar_id: int, form_name: str, form, call, success: str):
    """Run one service action from a posted form; on refusal show the page with the error."""
    tar = tar_or_404(request.user, tar_id)
    if form is not None and not form.is_valid():
        return _render_review(request, tar, status=400, open_form=form_name, **{form_name: form})
    try:
        call(tar, form.cleaned_data if form is not None else {})
    except DomainError as exc:
        not_found_to_404(exc)
        if form is not None:
            field_errors_to_form(form, exc)
        tar = tar_or_404(request.user, tar_id)
        kwargs = {form_name: form} if form is not None else {}
        return _render_review(
            request, tar, status=error_status(exc), error=exc, open_form=form_name, **kwargs
        )
    messages.success(request, success)
    return redirect("portal:review-tar", tar_id=tar_id)


def _back(request: HttpRequest) -> str | None:
    """The queue page (with its filters) a claim was posted from."""
    target = request.POST.get("back", "")
    if target.startswith(reverse("portal:review-queue")) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return None


@nurse_only
@require_POST
def claim(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    try:
        services.tar_claim(tar_id=tar.pk, user=request.user)
    except DomainError as exc:
        not_found_to_404(exc)
        tar = tar_or_404(request.user, tar_id)
        holder = tar.assigned_to
        message = exc.message
        if holder is not None and holder.pk != request.user.pk:
            message = f"{message} It is now with {holder.get_full_name() or holder.username}."
        messages.error(request, message)
        return redirect(_back(request) or reverse("portal:review-tar", args=[tar_id]))
    messages.success(request, f"You are reviewing {tar.number}.")
    return redirect("portal:review-tar", tar_id=tar_id)


@nurse_only
@require_POST
def release(request: HttpRequest, tar_id: int) -> HttpResponse:
    return _act(
        request,
        tar_id,
        "release_form",
        None,
        lambda tar, data: services.tar_release(tar_id=tar.pk, user=request.user),
        "The request is back in the queue.",
    )


@nurse_only
@require_POST
def approve(request: HttpRequest, tar_id: int) -> HttpResponse:
    return _act(
        request,
        tar_id,
        "approve_form",
        ApproveForm(request.POST),
        lambda tar, data: services.tar_decide(
            tar_id=tar.pk, user=request.user, outcome="approved", rationale=data["rationale"]
        ),
        "The request was approved; the notices are on their way.",
    )


@nurse_only
@require_POST
def request_info(request: HttpRequest, tar_id: int) -> HttpResponse:
    return _act(
        request,
        tar_id,
        "info_form",
        RequestInfoForm(request.POST),
        lambda tar, data: services.tar_request_info(
            tar_id=tar.pk,
            user=request.user,
            message=data["message"],
            missing_keys=list(data["missing_keys"]),
        ),
        "The request is pended; the provider was asked for the information. "
        "The decision clock keeps running.",
    )


@nurse_only
@require_POST
def extend(request: HttpRequest, tar_id: int) -> HttpResponse:
    return _act(
        request,
        tar_id,
        "extend_form",
        ExtendForm(request.POST),
        lambda tar, data: services.tar_extend(
            tar_id=tar.pk,
            user=request.user,
            reason=data["reason"],
            new_due_at=data["new_due_at"],
            note=data["note"],
        ),
        "The deadline was extended; delay notices go to the provider and the member.",
    )


@nurse_only
@require_POST
def refer(request: HttpRequest, tar_id: int) -> HttpResponse:
    return _act(
        request,
        tar_id,
        "refer_form",
        ReferForm(request.POST),
        lambda tar, data: services.tar_refer(tar_id=tar.pk, user=request.user, note=data["note"]),
        "The request was referred to a physician reviewer.",
    )


@nurse_only
@require_POST
def close(request: HttpRequest, tar_id: int) -> HttpResponse:
    return _act(
        request,
        tar_id,
        "close_form",
        _close_form(tar_or_404(request.user, tar_id), request.POST),
        lambda tar, data: services.tar_decide(
            tar_id=tar.pk,
            user=request.user,
            outcome="closed",
            reason_code=data["reason_code"],
            rationale=data["rationale"],
            duplicate_of=data.get("duplicate_of", ""),
        ),
        "The request was closed.",
    )
