"""The nurse's review queue and review page. Every action is one service call; the page shows
the service's error when it refuses (claimed by another nurse, a clock cap, not allowed)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from csp.decorators import csp_replace
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from accounts.models import PLAN_STAFF_ROLES, Role
from authorizations import clocks, selectors, services
from authorizations.calendar import plan_calendar
from authorizations.models import HistoryAction, Tar, TarStatus
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
    render_page,
    role_required,
    tar_or_404,
    tar_url_for,
)
from tar_portal.errors import DomainError

nurse_only = role_required(Role.NURSE)
queue_roles = role_required(Role.NURSE, Role.MANAGER)
staff_only = role_required(*PLAN_STAFF_ROLES)


# Saved views of the nurse queue (the words are QUEUE_VIEWS in portal.forms).
SORT_LABELS = {"due": "Decision due", "received": "Age"}
BULK_LIMIT = 50  # ids per bulk claim or release: a page's worth, with room


def queue_query(request: HttpRequest, *, default_statuses: str, form=None):
    """The queue page's parameters turned into a `queue_page` call: filters from the form,
    the sort (`sort=due`, `sort=-received`) and the keyset cursor (`after=`). Returns the
    page and the plain-words problems with parameters that were ignored (never a 500)."""
    problems: list[str] = []
    filters: dict[str, Any] = {}
    statuses = default_statuses.split(",")
    search = ""
    if form is not None and form.is_bound and form.is_valid():
        data = form.cleaned_data
        search = data["q"]
        for name in ("urgency", "request_type", "family"):
            if data[name]:
                filters[name] = data[name]
        if data["status"]:
            statuses = [data["status"]]
        if data["assignee"] == "me":
            filters["assigned_to"] = str(request.user.pk)
        elif data["assignee"]:
            filters["assigned_to"] = data["assignee"]
        view = data["view"]
        if view in ("mine", "referred"):
            filters["assigned_to"] = str(request.user.pk)
        if view == "referred":
            statuses = [TarStatus.REFERRED]
        if view == "due24":
            filters["due_before"] = timezone.now() + timedelta(hours=24)
    raw_sort = request.GET.get("sort", "") or portal_selectors.QUEUE_DEFAULT_SORT
    sort, descending = raw_sort.removeprefix("-"), raw_sort.startswith("-")
    if sort not in portal_selectors.QUEUE_SORTS:
        problems.append(
            "The list cannot be sorted that way; it is sorted by decision due time instead."
        )
        sort, descending = portal_selectors.QUEUE_DEFAULT_SORT, False

    def read(cursor: str) -> portal_selectors.QueuePage:
        return portal_selectors.queue_page(
            user=request.user,
            filters=filters,
            statuses=statuses,
            search=search,
            sort=sort,
            descending=descending,
            cursor=cursor,
        )

    try:
        page = read(request.GET.get("after", ""))
    except portal_selectors.SearchTooBroad as exc:
        problems.append(str(exc))
        page = portal_selectors.QueuePage([], 0, False, "", sort, descending)
    except portal_selectors.QueueError:
        problems.append("That page link is out of date; this is the first page of the list.")
        page = read("")
    return page, problems


def sort_links(request: HttpRequest, page: portal_selectors.QueuePage) -> dict[str, dict]:
    """Each sortable column's link (the other direction when it is the current sort) and its
    aria-sort state."""
    links = {}
    for key in SORT_LABELS:
        query = request.GET.copy()
        query.pop("after", None)
        current = page.sort == key
        query["sort"] = f"-{key}" if current and not page.descending else key
        links[key] = {
            "href": "?" + query.urlencode(),
            "aria": ("descending" if page.descending else "ascending") if current else "none",
            "label": SORT_LABELS[key],
        }
    return links


def queue_context(request: HttpRequest, page: portal_selectors.QueuePage) -> dict[str, Any]:
    query = request.GET.copy()
    query.pop("after", None)
    first = query.urlencode()
    query["after"] = page.next_cursor
    return {
        "page": page,
        "sorts": sort_links(request, page),
        "first_page_url": "?" + first if first else request.path,
        "next_page_url": "?" + query.urlencode() if page.next_cursor else "",
        "is_first_page": not request.GET.get("after"),
    }


@queue_roles
def queue(request: HttpRequest) -> HttpResponse:
    nurses = list(portal_selectors.nurses())
    params = request.GET.copy()
    for name in ("sort", "after"):
        params.pop(name, None)
    form = QueueFilterForm(params or None, nurses=nurses)
    page, problems = queue_query(
        request, default_statuses=portal_selectors.NURSE_QUEUE_STATUSES, form=form
    )
    valid = (not form.is_bound or form.is_valid()) and not problems
    context = {"form": form, "problems": problems, "bulk_limit": BULK_LIMIT}
    context.update(queue_context(request, page))
    return render_page(request, "portal/review/queue.html", context, status=200 if valid else 400)


@nurse_only
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Claim or release the ticked requests, each through the workflow kernel on its own (a
    refusal of one, say claimed by another nurse a moment ago, leaves the others done)."""
    action = request.POST.get("action", "")
    calls = {"claim": services.tar_claim, "release": services.tar_release}
    ids = [value for value in request.POST.getlist("tar") if value.isdigit()]
    back = _back(request) or reverse("portal:review-queue")
    if action not in calls or not ids:
        messages.error(request, "Tick one or more requests, then choose Claim or Release.")
        return redirect(back)
    if len(ids) > BULK_LIMIT:
        messages.error(request, f"Choose at most {BULK_LIMIT} requests at a time.")
        return redirect(back)
    done: list[str] = []
    refused: list[str] = []
    for tar_id in dict.fromkeys(int(value) for value in ids):
        try:
            tar = selectors.tar_get(user=request.user, tar_id=tar_id)
        except DomainError:
            refused.append(f"#{tar_id}: not found")
            continue
        try:
            calls[action](tar_id=tar.pk, user=request.user)
        except DomainError as exc:
            refused.append(f"{tar.number}: {exc.message}")
            continue
        done.append(tar.number)
    verb = "claimed" if action == "claim" else "released"
    if done:
        messages.success(request, f"You {verb} {len(done)}: {', '.join(done)}.")
    if refused:
        messages.error(request, f"Not {verb}: {'; '.join(refused)}")
    return redirect(back)


def case_question_keys(tar: Tar) -> list[str]:
    """The questions the case's criteria sets asked, in criterion order: the answer keys
    each criterion of each line's stored evaluation used (the set version actually applied,
    not today's)."""
    keys: dict[str, None] = {}
    for line in tar.lines.all():
        for criterion in (line.evaluation or {}).get("criteria", []):
            for key in criterion.get("facts", {}):
                if key in catalog.QUESTIONS:
                    keys.setdefault(key, None)
    return list(keys)


def _missing_answers(tar: Tar) -> list[str]:
    keys: dict[str, None] = {}
    for line in tar.lines.all():
        for key in (line.evaluation or {}).get("missing_answers", []):
            keys.setdefault(key, None)
    return list(keys)


# Record reads: who on staff opened the record (PRODUCT §3). Kept, counted, and folded away by
# default: on a physician's page they were 16 of 22 history lines.
READ_ACTIONS = frozenset({HistoryAction.CLINICAL_READ, HistoryAction.ATTACHMENT_READ})
# What a browser shows inline: PDF in its viewer, PNG and JPEG as images (TIFF downloads).
PREVIEWABLE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


def history_parts(history) -> dict[str, Any]:
    entries = list(history)
    reads = [entry for entry in entries if entry.action in READ_ACTIONS]
    return {
        "history": [entry for entry in entries if entry.action not in READ_ACTIONS],
        "history_reads": reads,
    }


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
        **history_parts(selectors.tar_history(user=request.user, tar=tar)),
        "previewable": PREVIEWABLE_TYPES,
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
            or RequestInfoForm(
                initial={"missing_keys": _missing_answers(tar)}, keys=case_question_keys(tar)
            ),
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


def _act(
    request: HttpRequest,
    tar_id: int,
    form_name: str,
    form,
    call,
    success: str,
    *,
    done_with_case: bool = False,
):
    """Run one service action from a posted form; on refusal show the page with the error.
    An action that takes the case out of the nurse's hands (approve, refer, close) goes back
    to the queue, for the next case."""
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
    if done_with_case:
        messages.success(request, f"{tar.number}: {success}")
        return redirect("portal:review-queue")
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
        done_with_case=True,
    )


@nurse_only
@require_POST
def request_info(request: HttpRequest, tar_id: int) -> HttpResponse:
    return _act(
        request,
        tar_id,
        "info_form",
        RequestInfoForm(request.POST, keys=case_question_keys(tar_or_404(request.user, tar_id))),
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
        done_with_case=True,
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
        done_with_case=True,
    )


@staff_only
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": ["'self'"]})
def attachment_preview(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """A document shown inline on the review page (PDF viewer or image), for the staff who
    may read clinical records. The file's type is the one sniffed at upload, never its name;
    only PDF, PNG and JPEG are served inline. The page that embeds it is ours alone
    (frame-ancestors 'self', X-Frame-Options SAMEORIGIN); nothing is cached; the read is
    recorded like a download."""
    try:
        attachment = selectors.attachment_get(user=request.user, attachment_id=attachment_id)
    except DomainError as exc:
        not_found_to_404(exc)
        raise
    if attachment.content_type not in PREVIEWABLE_TYPES:
        raise Http404
    services.attachment_record_read(attachment=attachment, user=request.user)
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=False,
        filename=services.attachment_download_name(attachment),
    )
    response["Cache-Control"] = "private, no-store"
    return response
