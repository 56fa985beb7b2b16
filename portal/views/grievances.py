"""Grievance pages (issue 11 row 10): the member files and follows their own, member services
enters a call, the grievance coordinator works the queue by due time. Every read is scoped
(grievances.selectors); every change goes through grievances.services and the kernel, and
only the actions the kernel offers are shown."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.models import Role
from authorizations.workflow import available_actions
from grievances import selectors, services
from grievances.machines import GRIEVANCE
from grievances.models import OPEN_GRIEVANCE_STATUSES
from portal.grievance_forms import (
    GrievanceFileForm,
    ResolveForm,
    StaffGrievanceFileForm,
    WithdrawForm,
)
from portal.views.common import (
    error_status,
    field_errors_to_form,
    paginate,
    render_page,
    role_required,
)
from tar_portal.errors import DomainError, ErrorCode

_FILERS = (Role.MEMBER, Role.MEMBER_SERVICES, Role.GRIEVANCE_COORDINATOR)
_READERS = (*_FILERS, Role.MANAGER)
grievance_readers = role_required(*_READERS)


@grievance_readers
def grievance_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.grievance_list(user=request.user)
    if request.GET.get("show") != "all" and request.user.role != Role.MEMBER:
        qs = qs.filter(status__in=OPEN_GRIEVANCE_STATUSES)
    return render_page(
        request,
        "portal/grievances/list.html",
        {"page": paginate(request, qs.order_by("resolution_due_at", "pk"))},
    )


@role_required(*_FILERS)
def grievance_new(request: HttpRequest) -> HttpResponse:
    staff = request.user.role != Role.MEMBER
    form_class = StaffGrievanceFileForm if staff else GrievanceFileForm
    form = form_class(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                grievance = services.grievance_file(
                    user=request.user,
                    member_cin=data.get("member", ""),
                    kind=data["kind"],
                    description=data["description"],
                    tar_number=data["tar"],
                    expedited=data["expedited"],
                    expedited_reason=data["expedited_reason"],
                    channel=data.get("channel", ""),
                    received_at=data.get("received_at"),
                )
            except DomainError as exc:
                field_errors_to_form(form, exc)
                status = error_status(exc)
            else:
                messages.success(
                    request,
                    f"Grievance {grievance.number} was filed. A written acknowledgement is due "
                    "within 5 days and the answer within "
                    + ("72 hours." if grievance.expedited else "30 days."),
                )
                return redirect("portal:grievance", grievance_id=grievance.pk)
    return render_page(
        request, "portal/grievances/new.html", {"form": form, "staff": staff}, status=status
    )


def _detail(request: HttpRequest, grievance_id: int, *, status: int = 200, **forms) -> HttpResponse:
    try:
        grievance = selectors.grievance_get(user=request.user, grievance_id=grievance_id)
    except DomainError as exc:
        raise Http404 from exc
    return render_page(
        request,
        "portal/grievances/detail.html",
        {
            "grievance": grievance,
            "actions": available_actions(GRIEVANCE, grievance, request.user),
            "resolve_form": forms.get("resolve_form") or ResolveForm(),
            "withdraw_form": forms.get("withdraw_form") or WithdrawForm(),
            "error": forms.get("error"),
        },
        status=status,
    )


@grievance_readers
def grievance_detail(request: HttpRequest, grievance_id: int) -> HttpResponse:
    return _detail(request, grievance_id)


def _act(request, grievance_id, call, success, form=None, form_name=""):
    if form is not None and not form.is_valid():
        return _detail(request, grievance_id, status=400, **{form_name: form})
    try:
        call(form.cleaned_data if form is not None else {})
    except DomainError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise Http404 from exc
        if form is not None:
            field_errors_to_form(form, exc)
        return _detail(
            request, grievance_id, status=error_status(exc), error=exc, **{form_name: form}
        )
    messages.success(request, success)
    return redirect("portal:grievance", grievance_id=grievance_id)


@role_required(Role.GRIEVANCE_COORDINATOR)
@require_POST
def grievance_acknowledge(request: HttpRequest, grievance_id: int) -> HttpResponse:
    return _act(
        request,
        grievance_id,
        lambda data: services.grievance_acknowledge(grievance_id=grievance_id, user=request.user),
        "Acknowledged; the acknowledgement letter goes to the member.",
    )


@role_required(Role.GRIEVANCE_COORDINATOR)
@require_POST
def grievance_resolve(request: HttpRequest, grievance_id: int) -> HttpResponse:
    return _act(
        request,
        grievance_id,
        lambda data: services.grievance_resolve(
            grievance_id=grievance_id, user=request.user, resolution=data["resolution"]
        ),
        "Resolved; the resolution letter goes to the member.",
        ResolveForm(request.POST),
        "resolve_form",
    )


@role_required(*_FILERS)
@require_POST
def grievance_withdraw(request: HttpRequest, grievance_id: int) -> HttpResponse:
    return _act(
        request,
        grievance_id,
        lambda data: services.grievance_withdraw(
            grievance_id=grievance_id, user=request.user, reason=data["reason"]
        ),
        "The grievance was withdrawn.",
        WithdrawForm(request.POST),
        "withdraw_form",
    )
