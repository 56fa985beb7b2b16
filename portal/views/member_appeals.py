"""Member pages for appeals, in English or Spanish: "Appeal this decision" on a denied or
modified request, and the list of the member's appeals. A peer-to-peer talk is for providers
and is not offered here. `appeal_file` decides everything; its message is shown."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import PLAN_STAFF_ROLES, Role
from appeals import services as appeals
from authorizations.services.attachments import ALLOWED_ATTACHMENT_TYPES
from notifications.models import AppealLetter
from portal import casework_selectors
from portal.appeal_forms import AppealDocumentsForm, MemberAppealForm
from portal.templatetags.portal import pacific
from portal.views.common import (
    error_status,
    field_errors_to_form,
    not_found_to_404,
    paginate,
    render_page,
    role_required,
    tar_or_404,
)
from portal.views.member import member_pages
from tar_portal.errors import DomainError

APPEAL_DOCUMENT_READERS = (Role.MEMBER, Role.PROVIDER, *PLAN_STAFF_ROLES)


@member_pages
def appeal_new(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    form = MemberAppealForm(request.POST or None, request.FILES or None)
    error = None
    status = 200
    if request.method == "POST":
        status = 400
        # The papers are checked before the appeal is filed: a bad file never leaves an
        # appeal filed without the papers the member meant to send.
        if form.is_valid() and _documents_ok(form):
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
                _add_documents(request, appeal.pk, data["documents"])
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


def _documents_ok(form) -> bool:
    for upload in form.cleaned_data.get("documents") or []:
        try:
            appeals.appeal_document_check(upload)
        except DomainError as exc:
            for message in exc.fields.get("file", [exc.message]):
                form.add_error("documents", f"{upload.name}: {message}")
    return not form.errors


def _add_documents(request: HttpRequest, appeal_id: int, uploads) -> list:
    return [
        appeals.appeal_document_add(appeal_id=appeal_id, user=request.user, upload=upload)
        for upload in uploads
    ]


@member_pages
@require_POST
def appeal_documents_add(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """More papers for the member's own open appeal (from the request page)."""
    appeal = casework_selectors.my_appeals(user=request.user).filter(pk=appeal_id).first()
    if appeal is None:
        raise Http404
    form = AppealDocumentsForm(request.POST, request.FILES)
    if form.is_valid() and _documents_ok(form):
        try:
            added = _add_documents(request, appeal.pk, form.cleaned_data["documents"])
        except DomainError as exc:
            not_found_to_404(exc)
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Thank you. We added %(n)d paper(s) to your appeal %(number)s.")
                % {"n": len(added), "number": appeal.number},
            )
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect(f"{reverse('portal:member-tar', args=[appeal.tar_id])}#appeals")


@role_required(*APPEAL_DOCUMENT_READERS)
def appeal_document_download(request: HttpRequest, document_id: int) -> HttpResponse:
    """A document sent with an appeal, for the member, the request's provider office and the
    plan staff who review appeals; anyone else gets a 404. Staff reads are recorded."""
    try:
        document = appeals.appeal_document_get(user=request.user, document_id=document_id)
    except DomainError as exc:
        not_found_to_404(exc)
        raise
    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=True,
        filename=f"{document.appeal.number}-{document.pk}.{ALLOWED_ATTACHMENT_TYPES[document.content_type]}",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
