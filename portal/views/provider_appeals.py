"""Provider pages after a decision: appeal for the member (with the member's written consent),
ask for a peer-to-peer talk with the physician reviewer, withdraw an open request, and the
organization's appeals and talks. Every rule is the service's; its message is shown."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from appeals import services as appeals
from authorizations import services
from portal import casework_selectors
from portal.appeal_forms import PeerToPeerRequestForm, ProviderAppealForm, WithdrawForm
from portal.templatetags.portal import pacific
from portal.views.casework import peer_to_peer_or_404
from portal.views.common import (
    error_status,
    field_errors_to_form,
    not_found_to_404,
    paginate,
    render_page,
    tar_or_404,
)
from portal.views.provider import provider_only
from tar_portal.errors import DomainError


def _form_page(request, template, tar, form, call, success):
    """GET shows the form; POST validates it and calls the service once."""
    error = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                message = success(call(form.cleaned_data))
            except DomainError as exc:
                not_found_to_404(exc)
                field_errors_to_form(form, exc, {"proposed_times": "proposed_time_1"})
                error = exc
                status = error_status(exc)
            else:
                messages.success(request, message)
                return redirect("portal:provider-tar", tar_id=tar.pk)
    return render_page(request, template, {"tar": tar, "form": form, "error": error}, status=status)


@provider_only
def appeal_new(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    return _form_page(
        request,
        "portal/provider/appeal_new.html",
        tar,
        ProviderAppealForm(request.POST or None),
        lambda data: appeals.appeal_file(
            tar_id=tar.pk,
            user=request.user,
            reason=data["reason"],
            expedited=data["expedited"],
            expedited_reason=data["expedited_reason"],
            member_consent=data["member_consent"],
        ),
        lambda appeal: (
            f"Appeal {appeal.number} was filed for the member. The resolution is "
            f"due by {pacific(appeal.resolution_due_at)}."
        ),
    )


@provider_only
def peer_to_peer_new(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    form = PeerToPeerRequestForm(request.POST or None)
    return _form_page(
        request,
        "portal/provider/peer_to_peer_new.html",
        tar,
        form,
        lambda data: appeals.peer_to_peer_request(
            tar_id=tar.pk,
            user=request.user,
            contact_phone=data["contact_phone"],
            proposed_times=form.proposed_times(),
            topic=data["topic"],
        ),
        lambda _talk: (
            "Your request for a peer-to-peer talk was sent. The plan will call to "
            "confirm a time with the physician reviewer."
        ),
    )


@provider_only
def withdraw(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    return _form_page(
        request,
        "portal/provider/withdraw.html",
        tar,
        WithdrawForm(request.POST or None),
        lambda data: services.tar_withdraw(tar_id=tar.pk, user=request.user, reason=data["reason"]),
        lambda withdrawn: f"{withdrawn.number} was withdrawn.",
    )


@provider_only
@require_POST
def peer_to_peer_cancel(request: HttpRequest, p2p_id: int) -> HttpResponse:
    talk = peer_to_peer_or_404(request.user, p2p_id)
    try:
        appeals.peer_to_peer_cancel(
            p2p_id=talk.pk, user=request.user, reason=request.POST.get("reason", "")[:2000]
        )
    except DomainError as exc:
        not_found_to_404(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, "The peer-to-peer talk was cancelled.")
    return redirect("portal:provider-tar", tar_id=talk.tar_id)


@provider_only
def appeal_list(request: HttpRequest) -> HttpResponse:
    return render_page(
        request,
        "portal/provider/appeals.html",
        {
            "page": paginate(request, casework_selectors.my_appeals(user=request.user)),
            "peer_to_peers": list(casework_selectors.peer_to_peer_open(user=request.user))
            + casework_selectors.peer_to_peer_recent(user=request.user),
        },
    )
