"""Intake coordinator pages: requests that came in by fax, mail or phone, entered with their
true receipt time and channel (`tar_submit` as the coordinator, PRODUCT §3), the scanned pages
attached (`attachment_add`), and the list of recent intake entries. An intake coordinator
makes no decision."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from authorizations import services
from authorizations.services import LineInput, TarInput
from portal import casework_selectors
from portal.forms import DocumentForm
from portal.staff_forms import IntakeForm, intake_line_forms
from portal.templatetags.portal import pacific
from portal.views.common import (
    error_status,
    field_errors_to_form,
    not_found_to_404,
    paginate_rows,
    render_page,
    role_required,
    tar_or_404,
)
from tar_portal.errors import DomainError

intake_only = role_required(Role.INTAKE)


@intake_only
def home(request: HttpRequest) -> HttpResponse:
    page = paginate_rows(request, casework_selectors.intake_entries(user=request.user))
    return render_page(request, "portal/intake/home.html", {"page": page})


def _tar_input(form: IntakeForm, lines: list, referral_id: int | None) -> TarInput:
    data = form.cleaned_data
    return TarInput(
        member=data["member"],
        requesting_provider=data["requesting_provider"],
        servicing_provider=data["servicing_provider"],
        referral=referral_id,
        request_type=data["request_type"],
        urgency=data["urgency"],
        urgency_reason=data["urgency_reason"],
        place_of_service=data["place_of_service"],
        servicing_facility=data["servicing_facility"],
        date_of_service=data["date_of_service"],
        primary_denial_date=data["primary_denial_date"],
        retro_eligibility_date=data["retro_eligibility_date"],
        # The two values only plan intake may set (PRODUCT §3).
        received_at=data["received_at"],
        channel=data["channel"],
        lines=[
            LineInput(
                code=line.cleaned_data["code"],
                units=line.cleaned_data["units"],
                service_date_from=line.cleaned_data["service_date_from"],
                service_date_to=line.cleaned_data["service_date_to"],
                diagnosis_codes=line.cleaned_data["diagnosis_codes"],
                modifiers=line.cleaned_data["modifiers"],
                spinal_region=line.cleaned_data["spinal_region"],
                criteria_set=line.cleaned_data["criteria_set"],
            )
            for line in lines
            if line.cleaned_data
        ],
    )


def _attach(request: HttpRequest, tar_id: int, uploads, description: str) -> dict[str, str]:
    """Attach each scanned file; the ones the attachment rules refuse, with the reason."""
    refused: dict[str, str] = {}
    for upload in uploads:
        try:
            services.attachment_add(
                tar_id=tar_id, user=request.user, upload=upload, description=description
            )
        except DomainError as exc:
            reasons = [m for ms in exc.fields.values() for m in ms] or [exc.message]
            refused[upload.name or "file"] = " ".join(reasons)
    return refused


def _line_key(key: str) -> tuple[str, str] | None:
    """'lines[0].code' → ('0', 'code')."""
    if not key.startswith("lines[") or "]." not in key:
        return None
    index, _sep, name = key[len("lines[") :].partition("].")
    return index, name


@intake_only
def new(request: HttpRequest) -> HttpResponse:
    form = IntakeForm(request.POST or None, request.FILES or None)
    lines = intake_line_forms(request.POST or None)
    error = None
    status = 200
    if request.method == "POST":
        status = 400
        valid = form.is_valid() & all([line.is_valid() for line in lines])
        referral = None
        if valid and form.cleaned_data["referral"]:
            referral = casework_selectors.referral_by_number(
                user=request.user, number=form.cleaned_data["referral"]
            )
            if referral is None:
                form.add_error("referral", "No referral with this number.")
                valid = False
        if valid:
            data = _tar_input(form, lines, referral.pk if referral else None)
            try:
                tar, created = services.tar_submit(
                    user=request.user,
                    data=data,
                    # One entry per form: a double click returns the first TAR.
                    idempotency_key=f"intake-{form.cleaned_data['token']}",
                    default_channel=data.channel,
                )
            except DomainError as exc:
                field_errors_to_form(form, exc, skip=("lines[",))
                # The service numbers the lines it was given: the filled-in ones.
                used = [line for line in lines if line.cleaned_data]
                for key, items in exc.fields.items():
                    parsed = _line_key(key)
                    if parsed and parsed[0].isdigit() and int(parsed[0]) < len(used):
                        line = used[int(parsed[0])]
                        target = parsed[1] if parsed[1] in line.fields else None
                        for message in items:
                            line.add_error(target, message)
                error = exc
                status = error_status(exc)
            else:
                if created:
                    refused = _attach(
                        request,
                        tar.pk,
                        form.cleaned_data["scanned_pages"],
                        f"Scanned pages ({tar.get_channel_display().lower()})",
                    )
                    for name, reason in refused.items():
                        messages.warning(
                            request, f"{name} could not be attached: {reason} Add it again below."
                        )
                messages.success(
                    request,
                    f"{tar.number} was entered: received {pacific(tar.received_at)} by "
                    f"{tar.get_channel_display().lower()}; the decision is due by "
                    f"{pacific(tar.decision_due_at)}.",
                )
                if tar.intake_flags:
                    # Received as it came (PRODUCT §4); the review queue shows it flagged.
                    messages.warning(
                        request,
                        "Flagged for review: "
                        + " ".join(flag["message"] for flag in tar.intake_flags),
                    )
                return redirect("portal:intake-tar", tar_id=tar.pk)
    return render_page(
        request,
        "portal/intake/new.html",
        {"form": form, "lines": lines, "error": error},
        status=status,
    )


def _render_entry(request: HttpRequest, tar, *, document_form=None, error=None, status=200):
    # No clinical read to record (PRODUCT §3): this page shows none of the clinical record
    # (002 "Confidentiality"; authorizations.selectors.sees_clinical_record).
    return render_page(
        request,
        "portal/intake/tar.html",
        {"tar": tar, "document_form": document_form or DocumentForm(), "error": error},
        status=status,
    )


@intake_only
def entry(request: HttpRequest, tar_id: int) -> HttpResponse:
    return _render_entry(request, tar_or_404(request.user, tar_id))


@intake_only
@require_POST
def entry_documents(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_entry(request, tar, document_form=form, status=400)
    try:
        services.attachment_add(
            tar_id=tar.pk,
            user=request.user,
            upload=form.cleaned_data["file"],
            description=form.cleaned_data["description"] or "Scanned pages",
        )
    except DomainError as exc:
        not_found_to_404(exc)
        field_errors_to_form(form, exc)
        return _render_entry(request, tar, document_form=form, error=exc, status=error_status(exc))
    messages.success(request, f"{form.cleaned_data['file'].name} was attached to {tar.number}.")
    return redirect(reverse("portal:intake-tar", args=[tar.pk]) + "#documents")
