"""Provider pages: the organization's requests, the new-TAR flow over a draft, answering an
information request, documents, notices, and the PCP office's referrals (RAFs)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from authorizations import clocks, icd10, selectors, services
from authorizations.calendar import plan_calendar
from authorizations.history_audience import history_for_audience
from authorizations.member_lookup import LOOKUP_NO_MATCH
from authorizations.models import OrganizationKind, Tar
from portal import drafts
from portal import selectors as portal_selectors
from portal import services as portal_services
from portal.forms import (
    DocumentForm,
    MemberLookupForm,
    QuestionsForm,
    ReferralForm,
    RespondForm,
)
from portal.models import TarDraft
from portal.views.casework import provider_casework_context
from portal.views.common import (
    error_status,
    field_errors_to_form,
    not_found_to_404,
    paginate,
    paginate_rows,
    render_page,
    role_required,
    tar_or_404,
)
from tar_portal.errors import DomainError, ErrorCode
from tar_portal.throttles import MEMBER_LOOKUP_THROTTLES, throttle_check

provider_only = role_required(Role.PROVIDER)


def _is_autosave(request: HttpRequest) -> bool:
    return request.headers.get("X-Autosave") == "1"


def _draft_or_404(request: HttpRequest, draft_id: int) -> TarDraft:
    try:
        return portal_selectors.draft_get(user=request.user, draft_id=draft_id)
    except DomainError as exc:
        raise Http404 from exc


# --- dashboard ------------------------------------------------------------------------------


@provider_only
def dashboard(request: HttpRequest) -> HttpResponse:
    """The office's requests in tabs (all, needs your action, in review, decided, appeals),
    each with its count, and one search box. Every tab is a keyset page over the
    organization's own indexes, and the counts stop at 1,000 ("1,000+"), so the page costs
    the same for an office with a million requests of history (issue 16)."""
    tab = request.GET.get("tab", "all")
    if tab not in portal_selectors.PROVIDER_TAB_KEYS:
        tab = "all"
    search = " ".join(request.GET.get("q", "").split())[:100]
    search_error = ""
    user = request.user
    try:
        search_q = portal_selectors.queue_search_q(search)
    except portal_selectors.QueueError as exc:
        search_error, search, search_q = str(exc), "", Q()
    counts = portal_selectors.provider_tab_counts(user=user, search=search_q)
    if tab == "appeals":
        page = paginate(request, portal_selectors.provider_appeals(user=user, search=search_q))
    else:
        page = paginate_rows(
            request,
            portal_selectors.provider_dashboard(user=user, tab=tab, search=search_q),
            parts=portal_selectors.provider_tab_parts(user=user, tab=tab, search=search_q),
            count=False,
        )
    page.count, page.count_capped = counts[tab]
    query = {"q": search} if search else {}
    tabs = [
        {
            "key": item.key,
            "label": item.label,
            "count": counts[item.key][0],
            "capped": counts[item.key][1],
            "query": urlencode({**query, "tab": item.key}),
            "current": item.key == tab,
        }
        for item in portal_selectors.PROVIDER_TABS
    ]
    return render_page(
        request,
        "portal/provider/dashboard.html",
        {
            "page": page,
            "tab": tab,
            "tabs": tabs,
            "search": search,
            "search_error": search_error,
            "drafts": portal_selectors.draft_list(user=user)[:20],
            "is_pcp_office": _is_pcp_office(request),
        },
    )


def _is_pcp_office(request: HttpRequest) -> bool:
    organization = request.user.organization
    return organization is not None and organization.kind == OrganizationKind.PRIMARY_CARE


# --- the new-TAR flow -----------------------------------------------------------------------


@provider_only
@require_POST
def draft_new(request: HttpRequest) -> HttpResponse:
    draft = portal_services.draft_create(user=request.user)
    return redirect("portal:draft-step", draft_id=draft.pk, step="member")


@provider_only
@require_POST
def draft_delete(request: HttpRequest, draft_id: int) -> HttpResponse:
    portal_services.draft_delete(draft=_draft_or_404(request, draft_id))
    messages.success(request, "The draft was deleted.")
    return redirect("portal:provider-dashboard")


@provider_only
def draft_step(request: HttpRequest, draft_id: int, step: str) -> HttpResponse:
    draft = _draft_or_404(request, draft_id)
    handler = {
        "member": _step_member,
        "request": _step_request,
        "questions": _step_questions,
        "documents": _step_documents,
        "review": _step_review,
    }.get(step)
    if handler is None:
        raise Http404
    return handler(request, draft)


def _step_context(draft: TarDraft, step: str, **extra) -> dict:
    return {
        "draft": draft,
        "steps": drafts.STEPS,
        "current_step": step,
        "member_found": draft.data.get("member_found"),
        **extra,
    }


def _step_member(request: HttpRequest, draft: TarDraft) -> HttpResponse:
    if request.method == "POST":
        form = MemberLookupForm(request.POST)
        portal_services.draft_update(draft=draft, member=drafts.raw_values(form, request.POST))
        if _is_autosave(request):
            return HttpResponse(status=204)
        result = None
        if form.is_valid():
            if throttle_check(request, MEMBER_LOOKUP_THROTTLES) is not None:
                return render_page(
                    request,
                    "portal/provider/draft_member.html",
                    _step_context(draft, "member", form=form, throttled=True),
                    status=429,
                )
            result = drafts.lookup_member(
                request.user,
                form.cleaned_data["cin"],
                form.cleaned_data["date_of_birth"],
                request=request,
            )
            if result is None:
                form.add_error(None, LOOKUP_NO_MATCH)
        portal_services.draft_update(
            draft=draft, member_found=drafts.member_summary(result) if result else None
        )
        member = result.member if result is not None and result.related else None
        if member is not None and request.POST.get("action") == "continue":
            return redirect("portal:draft-step", draft_id=draft.pk, step="request")
        status = 200 if result is not None else 400
        return render_page(
            request,
            "portal/provider/draft_member.html",
            _step_context(draft, "member", form=form, member=member),
            status=status,
        )
    form = MemberLookupForm(initial=drafts.stored(draft, "member") or None)
    member = drafts.find_member(request.user, draft) if draft.data.get("member_found") else None
    return render_page(
        request,
        "portal/provider/draft_member.html",
        _step_context(draft, "member", form=form, member=member),
    )


def _need_member(request: HttpRequest, draft: TarDraft):
    member = drafts.find_member(request.user, draft)
    if member is None:
        messages.error(request, "Find the member first.")
    return member


def _step_request(request: HttpRequest, draft: TarDraft) -> HttpResponse:
    member = _need_member(request, draft)
    if member is None:
        return redirect("portal:draft-step", draft_id=draft.pk, step="member")
    if request.method == "POST":
        form = drafts.request_form(request.user, member, data=request.POST)
        lines = drafts.line_forms(draft, data=request.POST)
        raw_lines = [drafts.raw_values(line, request.POST) for line in lines]
        action = request.POST.get("action", "continue")
        if action == "add_line" and len(raw_lines) < drafts.MAX_LINES:
            raw_lines.append({})
        elif action.startswith("remove_line-") and len(raw_lines) > 1:
            index = action.removeprefix("remove_line-")
            if index.isdigit() and int(index) < len(raw_lines):
                raw_lines.pop(int(index))
        portal_services.draft_update(
            draft=draft, request=drafts.raw_values(form, request.POST), lines=raw_lines
        )
        if _is_autosave(request):
            return HttpResponse(status=204)
        coverages = drafts.coverages(draft, member)
        if action == "continue":
            # Every check of this step now, at its field (issue 15), not at the final submit.
            if drafts.check_request_step(form, lines, coverages):
                return redirect("portal:draft-step", draft_id=draft.pk, step="questions")
            return _render_request(request, draft, member, form, lines, coverages, status=400)
        # Adding or removing a line, or checking coverage: show the saved draft again.
        lines = drafts.line_forms(draft)
        form = drafts.request_form(request.user, member, initial=drafts.stored(draft, "request"))
        return _render_request(request, draft, member, form, lines, coverages)
    initial = drafts.stored(draft, "request") or None
    form = drafts.request_form(request.user, member, initial=initial)
    if "referral" not in (initial or {}):  # a fresh step; a choice made stays made
        only = drafts.preselected_referral(form.referrals)
        if only is not None:
            form.initial = {**(initial or {}), "referral": str(only.pk)}
    return _render_request(
        request, draft, member, form, drafts.line_forms(draft), drafts.coverages(draft, member)
    )


def _render_request(request, draft, member, form, lines, coverages, status=200) -> HttpResponse:
    rows = list(zip(lines, coverages + [None] * (len(lines) - len(coverages)), strict=False))
    return render_page(
        request,
        "portal/provider/draft_request.html",
        _step_context(
            draft,
            "request",
            form=form,
            line_rows=rows,
            line_count=len(lines),
            can_add_line=len(lines) < drafts.MAX_LINES,
            member=member,
            blocked=[c for c in coverages if c is not None and c.blocks],
            line_forms=lines,
        ),
        status=status,
    )


def _step_questions(request: HttpRequest, draft: TarDraft) -> HttpResponse:
    member = _need_member(request, draft)
    if member is None:
        return redirect("portal:draft-step", draft_id=draft.pk, step="member")
    coverages = drafts.coverages(draft, member)
    keys = drafts.question_keys(coverages)
    if request.method == "POST":
        form = QuestionsForm(request.POST, keys=keys)
        portal_services.draft_update(draft=draft, questions=drafts.raw_values(form, request.POST))
        if _is_autosave(request):
            return HttpResponse(status=204)
        if form.is_valid() and form.validated_answers() is not None:
            return redirect("portal:draft-step", draft_id=draft.pk, step="documents")
        status = 400
    else:
        form = QuestionsForm(initial=drafts.stored(draft, "questions") or None, keys=keys)
        status = 200
    sets = sorted(
        {
            f"{c.coverage.criteria_set} {c.coverage.criteria_set_version}"
            for c in coverages
            if c is not None and c.coverage is not None and c.coverage.criteria_set
        }
    )
    return render_page(
        request,
        "portal/provider/draft_questions.html",
        _step_context(draft, "questions", form=form, criteria_sets=sets),
        status=status,
    )


def _step_documents(request: HttpRequest, draft: TarDraft) -> HttpResponse:
    form = DocumentForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "continue":
            return redirect("portal:draft-step", draft_id=draft.pk, step="review")
        if action.startswith("remove-"):
            document_id = action.removeprefix("remove-")
            if document_id.isdigit():
                try:
                    portal_services.draft_document_remove(draft=draft, document_id=int(document_id))
                except DomainError as exc:
                    not_found_to_404(exc)
                messages.success(request, "The document was removed.")
            return redirect("portal:draft-step", draft_id=draft.pk, step="documents")
        form = DocumentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                portal_services.draft_document_add(
                    draft=draft,
                    upload=form.cleaned_data["file"],
                    description=form.cleaned_data["description"],
                )
            except DomainError as exc:
                field_errors_to_form(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, f"{form.cleaned_data['file'].name} was added.")
                return redirect("portal:draft-step", draft_id=draft.pk, step="documents")
        else:
            status = 400
    return render_page(
        request,
        "portal/provider/draft_documents.html",
        _step_context(draft, "documents", form=form, documents=draft.documents.all()),
        status=status,
    )


def _review_context(request: HttpRequest, draft: TarDraft, collected=None, error=None) -> dict:
    collected = collected or drafts.collect(request.user, draft)
    member = drafts.find_member(request.user, draft)
    expected = None
    data = collected.data
    if data is not None:
        expected = clocks.decision_deadline(
            received_at=timezone.now(),
            request_type=data.request_type,
            urgency=data.urgency,
            calendar=plan_calendar(),
        )
    servicing = None
    referral = None
    if data is not None:
        servicing = (
            portal_selectors.organization_providers(user=request.user)
            .filter(npi=data.servicing_provider)
            .first()
        )
        if data.referral and member is not None:
            referral = (
                portal_selectors.member_referrals(user=request.user, member=member)
                .filter(pk=data.referral)
                .first()
            )
    return _step_context(
        draft,
        "review",
        collected=collected,
        data=data,
        member=member,
        servicing=servicing,
        referral=referral,
        expected=expected,
        documents=draft.documents.all(),
        error=error,
        answers=drafts.ordered_answers(data.answers if data else {}),
    )


def _step_review(request: HttpRequest, draft: TarDraft) -> HttpResponse:
    return render_page(
        request, "portal/provider/draft_review.html", _review_context(request, draft)
    )


@provider_only
@require_POST
def draft_submit(request: HttpRequest, draft_id: int) -> HttpResponse:
    draft = _draft_or_404(request, draft_id)
    collected = drafts.collect(request.user, draft)
    if collected.data is None:
        return render_page(
            request,
            "portal/provider/draft_review.html",
            _review_context(request, draft, collected),
            status=400,
        )
    try:
        result = portal_services.draft_submit(
            draft=draft,
            user=request.user,
            data=collected.data,
            acknowledge_warnings=request.POST.get("acknowledge_warnings") == "yes",
        )
    except DomainError as exc:
        if exc.code == ErrorCode.WARNINGS_TO_CONFIRM:
            # The confirm step (PRODUCT §4): the plan will receive it, but say why it is
            # likely to be closed, and submit only when the provider confirms.
            context = _review_context(request, draft, collected)
            context["warnings"] = [m for items in exc.fields.values() for m in items]
            return render_page(request, "portal/provider/draft_review.html", context)
        context = _review_context(request, draft, collected, error=exc)
        context["service_errors"] = [
            (drafts.step_for_error_field(key), drafts.error_field_label(key), message)
            for key, items in exc.fields.items()
            for message in items
        ]
        return render_page(
            request, "portal/provider/draft_review.html", context, status=error_status(exc)
        )
    for name, message in result.attachment_errors.items():
        messages.warning(request, f"{name} could not be attached: {message} Add it again below.")
    return redirect("portal:provider-tar-submitted", tar_id=result.tar.pk)


@provider_only
def tar_submitted(request: HttpRequest, tar_id: int) -> HttpResponse:
    """The submission receipt: what the plan received and when, to print or keep (issue 15);
    right after submitting and again from the request's page."""
    tar = tar_or_404(request.user, tar_id)
    return render_page(
        request,
        "portal/provider/submitted.html",
        {
            "tar": tar,
            "just_submitted": request.GET.get("from") != "request",
            "documents": tar.attachments.all(),
        },
    )


@provider_only
def diagnosis_lookup(request: HttpRequest) -> JsonResponse:
    """The type-ahead of ICD-10-CM billable codes by code or words of the title, for the
    diagnosis fields (authorizations.icd10; no PHI, but only for signed-in providers)."""
    query = request.GET.get("q", "")
    if len(query) > 80:
        return JsonResponse({"message": "Type at most 80 characters."}, status=400)
    found = icd10.search(query, limit=15)
    return JsonResponse({"results": [{"code": d.code, "title": d.title} for d in found]})


# --- a request ------------------------------------------------------------------------------


def _open_request(tar: Tar):
    return next((r for r in tar.information_requests.all() if r.responded_at is None), None)


def _render_tar(request: HttpRequest, tar: Tar, status: int = 200, **forms) -> HttpResponse:
    open_request = _open_request(tar)
    respond_form = forms.get("respond_form")
    if respond_form is None and open_request is not None:
        respond_form = RespondForm(keys=open_request.missing_keys)
    letters = portal_selectors.letter_list(user=request.user, tar=tar)
    return render_page(
        request,
        "portal/provider/tar.html",
        {
            "tar": tar,
            "open_request": open_request,
            "respond_form": respond_form,
            "document_form": forms.get("document_form") or DocumentForm(),
            # Internal notes and staff reads left out, in plain words (PRODUCT §2).
            "history": history_for_audience(
                role=request.user.role, entries=selectors.tar_history(user=request.user, tar=tar)
            ),
            "notices": portal_selectors.notice_list(user=request.user, tar=tar),
            "letters": letters,
            "error": forms.get("error"),
            # Appeals, peer-to-peer talks, IMR and the actions offered (portal/views/casework).
            **provider_casework_context(request, tar, letters),
        },
        status=status,
    )


@provider_only
def tar_detail(request: HttpRequest, tar_id: int) -> HttpResponse:
    return _render_tar(request, tar_or_404(request.user, tar_id))


@provider_only
@require_POST
def tar_respond(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    open_request = _open_request(tar)
    form = RespondForm(request.POST, keys=open_request.missing_keys if open_request else [])
    answers = form.validated_answers() if form.is_valid() else None
    if answers is None:
        return _render_tar(request, tar, status=400, respond_form=form)
    try:
        services.tar_receive_info(
            tar_id=tar.pk,
            user=request.user,
            response=form.cleaned_data["response"],
            answers=answers,
        )
    except DomainError as exc:
        not_found_to_404(exc)
        field_errors_to_form(form, exc, {f"answers.{k}": k for k in form.keys})
        tar = tar_or_404(request.user, tar_id)
        return _render_tar(request, tar, status=error_status(exc), respond_form=form, error=exc)
    messages.success(request, "Thank you: your answers were sent to the reviewer.")
    return redirect("portal:provider-tar", tar_id=tar.pk)


@provider_only
@require_POST
def tar_document_add(request: HttpRequest, tar_id: int) -> HttpResponse:
    tar = tar_or_404(request.user, tar_id)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_tar(request, tar, status=400, document_form=form)
    try:
        services.attachment_add(
            tar_id=tar.pk,
            user=request.user,
            upload=form.cleaned_data["file"],
            description=form.cleaned_data["description"],
        )
    except DomainError as exc:
        not_found_to_404(exc)
        field_errors_to_form(form, exc)
        return _render_tar(request, tar, status=error_status(exc), document_form=form, error=exc)
    messages.success(request, f"{form.cleaned_data['file'].name} was added to the request.")
    return redirect(reverse("portal:provider-tar", args=[tar.pk]) + "#documents")


# --- referrals (RAFs) -----------------------------------------------------------------------


@provider_only
def referral_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.referral_list(user=request.user))
    return render_page(
        request,
        "portal/provider/referrals.html",
        {"page": page, "is_pcp_office": _is_pcp_office(request)},
    )


@provider_only
def referral_new(request: HttpRequest) -> HttpResponse:
    organizations = selectors.organization_list().exclude(pk=request.user.organization_id)
    form = ReferralForm(request.POST or None, organizations=organizations)
    error = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                referral = services.referral_create(
                    user=request.user,
                    member_cin=data["member"],
                    to_organization_id=int(data["to_organization"]),
                    to_provider_npi=data["to_provider"],
                    specialty=data["specialty"],
                    reason=data["reason"],
                    diagnosis_codes=data["diagnosis_codes"],
                    valid_from=data["valid_from"],
                    valid_to=data["valid_to"],
                    visits_authorized=data["visits_authorized"],
                )
            except DomainError as exc:
                error = exc
                status = error_status(exc)
                field_errors_to_form(form, exc)
            else:
                messages.success(request, f"Referral {referral.number} was created.")
                return redirect("portal:provider-referrals")
    return render_page(
        request, "portal/provider/referral_new.html", {"form": form, "error": error}, status=status
    )
