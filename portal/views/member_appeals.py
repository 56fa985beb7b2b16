"""Member pages for appeals, in English or Spanish: "Appeal this decision" on a denied or
modified request, and the list of the member's appeals. A peer-to-peer talk is for providers
and is not offered here. `appeal_file` decides everything; its message is shown."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from appeals import services as appeals
from notifications.models import AppealLetter
from portal import casework_selectors
from portal.appeal_forms import MemberAppealForm
from portal.templatetags.portal import pacific
from portal.views.common import (
    error_status,
    field_errors_to_form,
    not_found_to_404,
    paginate,
    render_page,
    tar_or_404,
)
from portal.views.member import member_pages
from tar_portal.errors import DomainError


@member_pages
def appeal_new(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    form = MemberAppealForm(request.POST or None)
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
                )
            except DomainError as exc:
                not_found_to_404(exc)
                field_errors_to_form(form, exc)
                error = exc
                status = error_status(exc)
            else:
                messages.success(
                    request,
                    _("We received your appeal %(number)s. We will decide it by %(due)s.")
                    % {"number": appeal.number, "due": pacific(appeal.resolution_due_at)},
                )
                return redirect("portal:member-tar", tar_id=tar.pk)
    return render_page(
        request,
        "portal/member/appeal_new.html",
        {"tar": tar, "form": form, "error": error},
        status=status,
    )


@member_pages
def appeal_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, casework_selectors.my_appeals(user=request.user))
    return render_page(request, "portal/member/appeals.html", {"page": page})


@member_pages
def appeal_letter_download(request: HttpRequest, letter_id: int) -> HttpResponse:
    """The member's own appeal letter (the acknowledgement); anyone else's is a 404."""
    letter = (
        AppealLetter.objects.select_related("appeal")
        .filter(pk=letter_id, appeal__member=request.user.member)
        .first()
    )
    if letter is None:
        raise Http404
    response = FileResponse(
        letter.file.open("rb"),
        content_type="application/pdf",
        as_attachment=True,
        filename=f"{letter.appeal.number}-{letter.kind}.pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response
