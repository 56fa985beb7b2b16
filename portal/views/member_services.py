"""Member services pages: find a member who called by CIN, see their requests, notices and
appeals, and act for them: ask for a copy of the criteria used (`criteria_copy_request` for
the member) or enter their appeal with the time it came in (`appeal_file` as member services).
No clinical decision is made here."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from appeals import services as appeals
from notifications.services import criteria_copy_request
from portal import casework_selectors
from portal import selectors as portal_selectors
from portal.appeal_forms import MemberServicesAppealForm
from portal.staff_forms import MemberSearchForm
from portal.templatetags.portal import pacific
from portal.views.casework import appeals_context
from portal.views.common import (
    error_status,
    field_errors_to_form,
    not_found_to_404,
    paginate_rows,
    render_page,
    role_required,
    tar_or_404,
)
from tar_portal.errors import DomainError, ErrorCode

member_services_only = role_required(Role.MEMBER_SERVICES)


@member_services_only
def home(request: HttpRequest) -> HttpResponse:
    """Find the caller by CIN. Posted, so the CIN stays out of URLs and access logs."""
    form = MemberSearchForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                member = casework_selectors.member_by_cin(
                    user=request.user, cin=form.cleaned_data["cin"]
                )
            except DomainError as exc:
                if exc.code != ErrorCode.NOT_FOUND:
                    raise
                form.add_error(
                    "cin", "No member with this CIN. Check it against the caller's card."
                )
                status = 404
            else:
                return redirect("portal:member-services-member", member_id=member.pk)
    return render_page(request, "portal/member_services/home.html", {"form": form}, status=status)


@member_services_only
def member_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    try:
        member = casework_selectors.member_by_id(user=request.user, member_id=member_id)
    except DomainError as exc:
        not_found_to_404(exc)
        raise
    page = paginate_rows(
        request, casework_selectors.member_requests(user=request.user, member=member)
    )
    return render_page(
        request,
        "portal/member_services/member.html",
        {
            "member": member,
            "page": page,
            "appeals": casework_selectors.member_appeals(user=request.user, member=member)[:20],
            "eligible_today": member.is_eligible_on(timezone.localdate()),
        },
    )


def _render_tar(request: HttpRequest, tar, *, form=None, error=None, status=200) -> HttpResponse:
    # No clinical read to record (PRODUCT §3): this page shows none of the clinical record
    # (002 "Confidentiality"; authorizations.selectors.sees_clinical_record).
    letters = portal_selectors.letter_list(user=request.user, tar=tar)
    context = {
        "tar": tar,
        "member": tar.member,
        "decision": tar.decisions.all().last(),
        "notices": portal_selectors.notice_list(user=request.user, tar=tar),
        "letters": letters,
        "error": error,
    }
    context.update(appeals_context(request, tar, letters))
    return render_page(request, "portal/member_services/tar.html", context, status=status)


@member_services_only
def tar_detail(request: HttpRequest, tar_id: int) -> HttpResponse:
    return _render_tar(request, tar_or_404(request.user, tar_id))


@member_services_only
@require_POST
def criteria_copy(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)

    try:
        criteria_copy_request(tar_id=tar.pk, user=request.user, requested_for="member")
    except DomainError as exc:
        not_found_to_404(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, "A free copy of the criteria used will be mailed to the member.")
    return redirect("portal:member-services-tar", tar_id=tar.pk)


@member_services_only
def appeal_new(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    form = MemberServicesAppealForm(
        request.POST or None,
        initial={"received_at": timezone.localtime().replace(second=0, microsecond=0)},
    )
    error = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                appeal = appeals.appeal_file(
                    tar_id=tar.pk,
                    user=request.user,
                    reason=data["reason"],
                    expedited=data["expedited"],
                    expedited_reason=data["expedited_reason"],
                    received_at=data["received_at"],
                )
            except DomainError as exc:
                not_found_to_404(exc)
                field_errors_to_form(form, exc)
                error = exc
                status = error_status(exc)
            else:
                messages.success(
                    request,
                    f"Appeal {appeal.number} was entered for the member"
                    f"{' (filed late: accepted and flagged)' if appeal.late else ''}. The "
                    f"resolution is due by {pacific(appeal.resolution_due_at)}.",
                )
                return redirect("portal:member-services-tar", tar_id=tar.pk)
    return render_page(
        request,
        "portal/member_services/appeal_new.html",
        {"tar": tar, "member": tar.member, "form": form, "error": error},
        status=status,
    )
