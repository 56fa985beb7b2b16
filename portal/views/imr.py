"""Independent medical review (IMR) pages for plan staff (003 F.3, F.7): the tracking list with
status, due date and the overdue flag; a case with its referral packet, where UM staff file the
reviewer's determination and a physician records the final coverage decision."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import PLAN_STAFF_ROLES
from appeals import selectors as appeal_selectors
from appeals import services as appeals
from appeals.machines import IMR, ImrAction
from appeals.models import ImrCase, ImrReviewType, ImrStatus
from authorizations import services
from authorizations.selectors import sees_clinical_record
from portal import casework_selectors
from portal.appeal_forms import ImrDeterminationForm, ImrFinalDecisionForm, line_errors_to_forms
from portal.views.casework import imr_or_404, offers
from portal.views.common import (
    error_status,
    field_errors_to_form,
    not_found_to_404,
    paginate,
    render_page,
    role_required,
    tar_or_404,
)
from portal.views.physician import criteria_choices
from portal.views.physician_appeals import line_decisions, line_forms_for
from tar_portal.errors import DomainError

staff_only = role_required(*PLAN_STAFF_ROLES)


class ImrFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            ("", "Awaiting a determination or a decision"),
            *ImrStatus.choices,
            ("all", "All"),
        ],
    )
    review_type = forms.ChoiceField(
        label="Type of review", required=False, choices=[("", "Any"), *ImrReviewType.choices]
    )
    overdue = forms.ChoiceField(
        label="Overdue",
        required=False,
        choices=[("", "Either"), ("true", "Overdue only"), ("false", "Not overdue")],
    )

    def filters(self) -> dict[str, str]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        status = data.get("status") or ""
        filters = {
            "status": "" if status == "all" else status or "referred,determination_received",
        }
        for name in ("review_type", "overdue"):
            if data.get(name):
                filters[name] = data[name]
        return {key: value for key, value in filters.items() if value}


def is_overdue(imr: ImrCase, now) -> bool:
    """Flagged by the deadline sweep, or past due while the determination is awaited (the
    sweep runs every few minutes; the page should not wait for it)."""
    return imr.overdue_at is not None or (imr.status == ImrStatus.REFERRED and imr.due_at <= now)


@staff_only
def imr_list(request: HttpRequest) -> HttpResponse:
    form = ImrFilterForm(request.GET or None)
    status = 200 if not form.is_bound or form.is_valid() else 400
    page = paginate(
        request, casework_selectors.imr_tracking(user=request.user, filters=form.filters())
    )
    now = timezone.now()
    query = request.GET.copy()
    query.pop("page", None)
    return render_page(
        request,
        "portal/imr/list.html",
        {
            "form": form,
            "page": page,
            "rows": [(imr, is_overdue(imr, now)) for imr in page.object_list],
            "query": query.urlencode(),
        },
        status=status,
    )


def _final_form(imr: ImrCase, tar, data=None, choices=()) -> ImrFinalDecisionForm:
    under_appeal = imr.appeal is not None and imr.appeal.is_open
    return ImrFinalDecisionForm(
        data, criteria_choices=choices, request_open=tar.is_open and not under_appeal
    )


def _render_case(request: HttpRequest, imr: ImrCase, *, status=200, error=None, **forms_):
    tar = tar_or_404(request.user, imr.tar_id)
    # PRODUCT §3: plan staff reading the member's clinical record is recorded.
    services.tar_record_clinical_read(tar=tar, user=request.user)
    choices, _not_met = criteria_choices(tar)
    context = {
        "imr": imr,
        "tar": tar,
        "overdue": is_overdue(imr, timezone.now()),
        "error": error,
        "determination_form": forms_.get("determination_form") or ImrDeterminationForm(),
        "final_form": forms_.get("final_form") or _final_form(imr, tar, choices=choices),
        "line_forms": forms_.get("line_forms") or line_forms_for(tar, prefix="final-line"),
        "open_form": forms_.get("open_form", ""),
        # The packet and what was sent to the reviewer are clinical (least privilege).
        "sees_clinical": sees_clinical_record(request.user),
        "can_record": offers(IMR, imr, ImrAction.RECORD_DETERMINATION, request.user),
        "can_decide": offers(IMR, imr, ImrAction.DECIDE, request.user),
    }
    return render_page(request, "portal/imr/detail.html", context, status=status)


@staff_only
def imr_detail(request: HttpRequest, imr_id: int) -> HttpResponse:
    return _render_case(request, imr_or_404(request.user, imr_id))


@staff_only
def imr_packet(request: HttpRequest, imr_id: int) -> HttpResponse:
    try:
        imr = appeal_selectors.imr_packet_get(user=request.user, imr_id=imr_id)
    except DomainError as exc:
        not_found_to_404(exc)
        raise
    appeals.imr_packet_record_read(imr=imr, user=request.user)
    response = HttpResponse(appeals.imr_packet_pdf(imr), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{imr.number}-packet.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@staff_only
@require_POST
def imr_determination(request: HttpRequest, imr_id: int) -> HttpResponse:
    imr = imr_or_404(request.user, imr_id)
    form = ImrDeterminationForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_case(
            request, imr, status=400, determination_form=form, open_form="determination"
        )
    data = form.cleaned_data
    try:
        appeals.imr_record_determination(
            imr_id=imr.pk,
            user=request.user,
            upload=data["file"],
            determination=data["determination"],
            analysis=data["analysis"],
            reviewer_qualifications=data["reviewer_qualifications"],
            received_at=data["received_at"],
        )
    except DomainError as exc:
        not_found_to_404(exc)
        field_errors_to_form(form, exc)
        imr = imr_or_404(request.user, imr_id)
        return _render_case(
            request,
            imr,
            status=error_status(exc),
            error=exc,
            determination_form=form,
            open_form="determination",
        )
    messages.success(request, "The determination was filed; a physician decides next.")
    return redirect("portal:imr-detail", imr_id=imr.pk)


@staff_only
@require_POST
def imr_decide(request: HttpRequest, imr_id: int) -> HttpResponse:
    imr = imr_or_404(request.user, imr_id)
    tar = tar_or_404(request.user, imr.tar_id)
    choices, _not_met = criteria_choices(tar)
    form = _final_form(imr, tar, data=request.POST, choices=choices)
    line_forms = line_forms_for(tar, request.POST, prefix="final-line")
    forms_ = {"final_form": form, "line_forms": line_forms, "open_form": "final"}
    if not (form.is_valid() & all([lf.is_valid() for _line, lf in line_forms])):
        return _render_case(request, imr, status=400, **forms_)
    data = form.cleaned_data
    try:
        appeals.imr_final_decision(
            imr_id=imr.pk,
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
        imr = imr_or_404(request.user, imr_id)
        return _render_case(request, imr, status=error_status(exc), error=exc, **forms_)
    messages.success(
        request, "The final coverage decision was recorded; the notices are on their way."
    )
    return redirect("portal:imr-detail", imr_id=imr.pk)
