"""Pages of the reports app: the UM manager's dashboard, the reports (page, CSV, PDF), the
request lists behind every figure, the public CMS-0057-F page, and the IRR audit pages.

Who may see what (PRODUCT §2, §10): the UM manager everything; plan staff holding the
read-only `reports.view_program_reports` permission (quality committee staff) the dashboard,
the reports and the IRR summaries; physicians and nurses the IRR cases assigned to them;
everyone the public page. A bad query parameter is a 400 page naming it, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import Role, User
from reports import charts, exports, figures, irr, metrics, tables
from reports.drilldown import MEASURES, drilldown
from reports.forms import IrrReviewForm, PlanForm
from reports.models import CorrectiveActionPlan, IrrAudit, IrrCaseStatus
from reports.periods import (
    Period,
    calendar_year,
    default_period,
    pacific_today,
    parse_period,
    parse_year,
)
from tar_portal.errors import DomainError, ErrorCode

PERMISSION = "reports.view_program_reports"
PAGE_SIZE = 50
# The audit universe's PDF prints at most this many requests; the CSV has them all.
UNIVERSE_PDF_ROWS = 2000


def may_read_reports(user: User) -> bool:
    return user.is_authenticated and (
        user.has_role(Role.MANAGER) or (user.is_plan_staff and user.has_perm(PERMISSION))
    )


def _reports_access(view: Callable) -> Callable:
    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not may_read_reports(request.user):
            raise PermissionDenied
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return _error_page(request, exc)

    return wrapped


def _manager_only(view: Callable) -> Callable:
    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.has_role(Role.MANAGER):
            raise PermissionDenied
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return _error_page(request, exc)

    return wrapped


def _error_page(request: HttpRequest, exc: DomainError) -> HttpResponse:
    if exc.code == ErrorCode.NOT_FOUND:
        raise Http404
    status = exc.http_status if exc.http_status < 500 else 400
    return render(
        request,
        "reports/error.html",
        {"message": exc.message, "fields": exc.fields},
        status=status,
    )


def _period(request: HttpRequest) -> Period:
    return parse_period(request.GET, default=default_period())


# --- the dashboard ---------------------------------------------------------------------------


def _chart_trend(trend: list[dict[str, Any]]) -> str:
    return charts.trend(
        [row["week"].strftime("%b %d") for row in trend],
        [
            ("Decisions on time", [row["decided_percent"] for row in trend]),
            ("Notices on time", [row["notices_percent"] for row in trend]),
        ],
        ylabel="% on time",
    )


@_reports_access
def dashboard(request: HttpRequest) -> HttpResponse:
    """The UM manager's home (PRODUCT §10): timeliness now, the trend, inventory, breaches,
    outcomes, appeals and IMR, late submissions, workload — each with its chart or table and
    the link to the requests behind it."""
    now = timezone.now()
    period = _period(request)
    headline = figures.headline(now=now)
    trend = figures.weekly_trend(period)
    inventory = figures.inventory(now=now)
    outcomes = figures.outcomes(period)
    b = figures.breaches(period)
    appeals = figures.appeals(period)
    late = figures.late_submissions(period)
    pends = figures.pends(period)
    workload = figures.workload(period)
    link = tables.requests_link
    for row in headline:
        span = row["period"]
        row["decided_href"] = link(span, measure="decided")
        row["late_href"] = link(span, measure="decided", on_time="no")
        row["provider_href"] = link(span, measure="notices", audience="provider")
        row["member_href"] = link(span, measure="notices", audience="member")
    for row in trend:
        row["href"] = link(row["period"], measure="decided")
    for bucket in (*inventory["by_age"], *inventory["by_time_left"]):
        bucket["href"] = link(period, measure="open", bucket=bucket["key"])
    for row in outcomes["by_family"]:
        row["href"] = link(period, measure="decided", family=row["family"])
        row["adverse_href"] = link(
            period, measure="decided", family=row["family"], outcome="adverse"
        )
    for row in outcomes["by_organization"]:
        row["href"] = link(period, measure="decided", organization=row["organization"])
        row["adverse_href"] = link(
            period, measure="decided", organization=row["organization"], outcome="adverse"
        )
    for row in workload:
        row["href"] = link(period, measure="decided", reviewer=row["reviewer"])
    family_labels = [row["label"] for row in outcomes["by_family"]]
    context = {
        "period": period,
        "headline": headline,
        "trend": trend,
        "trend_chart": _chart_trend(trend),
        "inventory": inventory,
        "age_chart": charts.bars(
            [b_["label"] for b_ in inventory["by_age"]],
            [b_["count"] for b_ in inventory["by_age"]],
            ylabel="Open requests",
        ),
        "left_chart": charts.bars(
            [b_["label"] for b_ in inventory["by_time_left"]],
            [b_["count"] for b_ in inventory["by_time_left"]],
            ylabel="Open requests",
            colour=charts.ORANGE,
        ),
        "outcomes": outcomes,
        "family_chart": charts.stacked(
            family_labels,
            [
                ("Approved", [r["approved"] for r in outcomes["by_family"]]),
                ("Modified", [r["modified"] for r in outcomes["by_family"]]),
                (
                    "Denied or refused",
                    [r["adverse"] - r["modified"] for r in outcomes["by_family"]],
                ),
            ],
            ylabel="First decisions",
        ),
        "breaches": b,
        "appeals": appeals,
        "late": late,
        "pends": pends,
        "workload": workload,
        "links": {
            "breached": link(period, measure="breached"),
            "late_submission": link(period, measure="late_submission"),
            "appealed": link(period, measure="appealed"),
            "overturned": link(period, measure="appealed", result="overturned"),
            "pended": link(period, measure="pended"),
            "received": link(period, measure="received"),
            "adverse": link(period, measure="decided", outcome="adverse"),
            "modified": link(period, measure="decided", outcome="modified"),
            "decided": link(period, measure="decided"),
        },
        "reports": tables.REPORTS,
        "is_manager": request.user.has_role(Role.MANAGER),
    }
    return render(request, "reports/dashboard.html", context)


# --- the requests behind a figure ------------------------------------------------------------


@_reports_access
def requests(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    title, tars = drilldown(period, request.GET)
    paginator = Paginator(tars, PAGE_SIZE)
    raw_page = request.GET.get("page") or "1"
    if not raw_page.isdigit():
        raise DomainError(
            ErrorCode.INVALID, "page must be a number.", fields={"page": ["A number."]}
        )
    page = paginator.get_page(int(raw_page))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/requests.html",
        {
            "title": title,
            "period": period,
            "page": page,
            "query": query.urlencode(),
            "measures": MEASURES,
            "may_open": request.user.has_role(Role.MANAGER),
        },
    )


# --- the reports (page, CSV, PDF) ------------------------------------------------------------


def _report(request: HttpRequest, slug: str) -> tables.Report:
    if slug not in tables.REPORTS:
        raise Http404
    return tables.REPORTS[slug][1](_period(request))


@_reports_access
def report_page(request: HttpRequest, slug: str) -> HttpResponse:
    if slug == "audit-universe":
        return _universe_page(request)
    report = _report(request, slug)
    return render(
        request,
        "reports/report.html",
        {"report": report, "reports": tables.REPORTS, "query": report.period.as_query()},
    )


def _filename(slug: str, period: Period, ext: str) -> str:
    return f"{slug}_{period.first.isoformat()}_{period.last.isoformat()}.{ext}"


@_reports_access
def report_csv(request: HttpRequest, slug: str) -> HttpResponse:
    if slug == "audit-universe":
        period = _period(request)
        rows = (
            tables.universe_row(t) for t in figures.audit_universe(period).iterator(chunk_size=2000)
        )
        header = [[label for _, label in tables.UNIVERSE_COLUMNS]]
        response = StreamingHttpResponse(
            exports.csv_lines(_chain(header, rows)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{_filename(slug, period, "csv")}"'
        return response
    report = _report(request, slug)
    response = HttpResponse(
        "".join(exports.csv_lines(exports.report_rows(report))),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{_filename(slug, report.period, "csv")}"'
    )
    return response


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


@_reports_access
def report_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    if slug == "audit-universe":
        period = _period(request)
        universe = figures.audit_universe(period)
        total = universe.count()
        report = tables.Report(
            "audit-universe",
            "Audit universe",
            period,
            [
                tables.universe_section(
                    period, universe[:UNIVERSE_PDF_ROWS], title="Requests received"
                )
            ],
            note=(
                f"{total} requests in the period."
                + (
                    f" This PDF lists the first {UNIVERSE_PDF_ROWS}; the CSV lists all."
                    if total > UNIVERSE_PDF_ROWS
                    else ""
                )
            ),
        )
    else:
        report = _report(request, slug)
    body = exports.pdf("reports/report_pdf.html", {"report": report})
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{_filename(report.slug, report.period, "pdf")}"'
    )
    return response


def _universe_page(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    universe = figures.audit_universe(period)
    paginator = Paginator(universe, PAGE_SIZE)
    raw_page = request.GET.get("page") or "1"
    if not raw_page.isdigit():
        raise DomainError(
            ErrorCode.INVALID, "page must be a number.", fields={"page": ["A number."]}
        )
    page = paginator.get_page(int(raw_page))
    section = tables.universe_section(period, page.object_list, title="Requests received")
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/universe.html",
        {
            "period": period,
            "section": section,
            "page": page,
            "query": query.urlencode(),
            "reports": tables.REPORTS,
            "period_query": period.as_query(),
        },
    )


# --- the public CMS-0057-F page --------------------------------------------------------------


def _public_year(request: HttpRequest) -> tuple[int, list[int]]:
    years = metrics.years_with_data()
    this_year = pacific_today().year
    default = years[0] if years else this_year
    return parse_year(request.GET.get("year"), default=default), years


def _public_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(request, "reports/public_error.html", {"message": exc.message}, status=400)


def transparency(request: HttpRequest) -> HttpResponse:
    """The public prior-authorization metrics page (CMS-0057-F; 42 CFR 438.210(f)), no login:
    plan-level figures only, never a request, member or provider."""
    try:
        year, years = _public_year(request)
    except DomainError as exc:
        return _public_error(request, exc)
    result = metrics.prior_authorization_metrics(year)
    data = result.data
    items = public_items(data)
    return render(
        request,
        "reports/transparency.html",
        {
            "year": year,
            "years": years,
            "year_to_date": result.year_to_date,
            "data": data,
            "items": items,
            "methodology": metrics.METHODOLOGY[metrics.METHODOLOGY_VERSION],
            "methodology_version": metrics.METHODOLOGY_VERSION,
        },
    )


def public_items(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The nine items, each with its numerator and denominator (PRODUCT §10)."""
    s, e, x = data["standard"], data["expedited"], data["extended_and_approved"]
    return [
        {
            "n": 1,
            "label": "Standard requests approved",
            "count": s["approved"],
            "of": s["determined"],
            "percent": s["approved_percent"],
        },
        {
            "n": 2,
            "label": "Standard requests denied (including modified)",
            "count": s["denied"],
            "of": s["determined"],
            "percent": s["denied_percent"],
            "also": f"of which modified: {s['modified']}",
        },
        {
            "n": 3,
            "label": "Standard requests approved after appeal",
            "count": s["approved_after_appeal"],
            "of": s["appeals_resolved"],
            "percent": s["approved_after_appeal_percent"],
            "of_label": "appeals resolved",
        },
        {
            "n": 4,
            "label": "Requests extended and then approved",
            "count": x["count"],
            "of": x["determined"],
            "percent": x["percent"],
        },
        {
            "n": 5,
            "label": "Expedited requests approved",
            "count": e["approved"],
            "of": e["determined"],
            "percent": e["approved_percent"],
        },
        {
            "n": 6,
            "label": "Expedited requests denied (including modified)",
            "count": e["denied"],
            "of": e["determined"],
            "percent": e["denied_percent"],
            "also": f"of which modified: {e['modified']}",
        },
        {
            "n": 7,
            "label": "Standard requests: time to decision (hours)",
            "hours": True,
            "mean": s["decision_hours_mean"],
            "median": s["decision_hours_median"],
            "of": s["determined"],
        },
        {
            "n": 8,
            "label": "Expedited requests: time to decision (hours)",
            "hours": True,
            "mean": e["decision_hours_mean"],
            "median": e["decision_hours_median"],
            "of": e["determined"],
        },
        {
            "n": 9,
            "label": "Items and services that need prior authorization",
            "list": True,
            "count": len(data["services_requiring_pa"]),
        },
    ]


def transparency_download(request: HttpRequest, year: str, ext: str) -> HttpResponse:
    try:
        value = parse_year(year)
    except DomainError as exc:
        return _public_error(request, exc)
    data = metrics.prior_authorization_metrics(value).data
    if ext == "json":
        response = HttpResponse(
            json.dumps(data, indent=2), content_type="application/json; charset=utf-8"
        )
    else:
        response = HttpResponse(
            "".join(exports.csv_lines(metrics_csv_rows(data))),
            content_type="text/csv; charset=utf-8",
        )
    response["Content-Disposition"] = (
        f'attachment; filename="prior-authorization-metrics-{value}.{ext}"'
    )
    return response


def metrics_csv_rows(data: dict[str, Any]):
    yield ["year", "methodology_version", "group", "measure", "value"]
    for group in ("standard", "expedited", "extended_and_approved"):
        for key, value in data[group].items():
            yield [data["year"], data["methodology_version"], group, key, value]
    for item in data["services_requiring_pa"]:
        yield [
            data["year"],
            data["methodology_version"],
            "services_requiring_pa",
            item["codes"],
            f"{item['family']}: {item['description']}",
        ]


# --- IRR audits (manager and quality staff) --------------------------------------------------


@_reports_access
def irr_home(request: HttpRequest) -> HttpResponse:
    audits = list(IrrAudit.objects.order_by("-year"))
    return render(
        request,
        "reports/irr_home.html",
        {
            "audits": audits,
            "is_manager": request.user.has_role(Role.MANAGER),
            "default_year": pacific_today().year - 1,
        },
    )


@_manager_only
@require_http_methods(["POST"])
def irr_open(request: HttpRequest) -> HttpResponse:
    year = parse_year(request.POST.get("year"))
    irr.irr_audit_open(year=year, user=request.user)
    return redirect("reports:irr-audit", year=year)


def _audit(year: int) -> IrrAudit:
    audit = IrrAudit.objects.filter(year=year).first()
    if audit is None:
        raise Http404
    return audit


@_reports_access
def irr_audit(request: HttpRequest, year: int) -> HttpResponse:
    audit = _audit(year)
    summary = irr.audit_summary(audit)
    cases = audit.cases.select_related("original_reviewer", "second_reviewer", "tar").order_by(
        "reference"
    )
    return render(
        request,
        "reports/irr_audit.html",
        {
            "summary": summary,
            "audit": audit,
            "cases": cases,
            "is_manager": request.user.has_role(Role.MANAGER),
        },
    )


def _plan_text(plan: CorrectiveActionPlan | None) -> str:
    if plan is None:
        return ""
    closed = " (closed)" if plan.closed_at else ""
    return (
        f"owner {plan.owner.username}, due {plan.due_date}, re-audit {plan.re_audit_date}{closed}"
    )


def _summary_report(audit: IrrAudit) -> tables.Report:
    summary = irr.audit_summary(audit)
    cell = tables.Cell
    reviewers = tables.Section(
        "By reviewer",
        [
            "Reviewer",
            "Role",
            "Decisions in year",
            "Sample",
            "Reviewed",
            "Agreeing",
            "Score %",
            "Below target",
            "Corrective action plan",
        ],
    )
    reviewers.rows = [
        [
            cell(r["reviewer"]),
            cell(r["role"]),
            cell(r["decisions_in_year"]),
            cell(r["sample_size"]),
            cell(r["reviewed"]),
            cell(r["agreed"]),
            cell(r["score_percent"]),
            cell("yes" if r["below_target"] else "no"),
            cell(_plan_text(r["plan"])),
        ]
        for r in summary["reviewers"]
    ]
    by_type = tables.Section(
        "By review type", ["Reviewer type", "Cases", "Reviewed", "Agreeing", "Score %"]
    )
    by_type.rows = [
        [
            cell(r["sample__reviewer_role"]),
            cell(r["cases"]),
            cell(r["reviewed"]),
            cell(r["agreed"]),
            cell(r["score_percent"]),
        ]
        for r in summary["by_type"]
    ]
    by_set = tables.Section(
        "By criteria set", ["Criteria set", "Cases", "Reviewed", "Agreeing", "Score %"]
    )
    by_set.rows = [
        [
            cell(r["criteria_set"] or "(none)"),
            cell(r["cases"]),
            cell(r["reviewed"]),
            cell(r["agreed"]),
            cell(r["score_percent"]),
        ]
        for r in summary["by_set"]
    ]
    t = summary["total"]
    period = calendar_year(audit.year)
    return tables.Report(
        f"irr-{audit.year}",
        f"Inter-rater reliability audit {audit.year}",
        period,
        [by_type, reviewers, by_set],
        note=(
            f"Target {audit.target_percent}%. Seed {audit.seed}. {t['cases']} cases, "
            f"{t['reviewed']} reviewed, {t['agreed']} agreeing "
            f"({t['score_percent'] if t['score_percent'] is not None else 'n/a'}%). "
            "Sample per reviewer: 50 cases or 5% of their decisions in the year, whichever is less "
            "(seed 002)."
        ),
    )


@_reports_access
def irr_audit_csv(request: HttpRequest, year: int) -> HttpResponse:
    report = _summary_report(_audit(year))
    response = HttpResponse(
        "".join(exports.csv_lines(exports.report_rows(report))),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="irr-audit-{year}.csv"'
    return response


@_reports_access
def irr_audit_pdf(request: HttpRequest, year: int) -> HttpResponse:
    report = _summary_report(_audit(year))
    body = exports.pdf("reports/report_pdf.html", {"report": report})
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="irr-audit-{year}.pdf"'
    return response


@_manager_only
def irr_plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = (
        CorrectiveActionPlan.objects.select_related("audit", "reviewer", "owner")
        .filter(pk=plan_id)
        .first()
    )
    if plan is None:
        raise Http404
    form = PlanForm(request.POST or None, plan=plan)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                irr.plan_update(
                    plan_id=plan.pk,
                    user=request.user,
                    owner_id=int(data["owner"]),
                    actions=data["actions"],
                    due_date=data["due_date"],
                    re_audit_date=data["re_audit_date"],
                    close=data["close"],
                    outcome=data["outcome"],
                )
            except DomainError as exc:
                for key, messages in exc.fields.items():
                    for message in messages:
                        form.add_error(key if key in form.fields else None, message)
                status = 400
            else:
                return redirect("reports:irr-audit", year=plan.audit.year)
        else:
            status = 400
    return render(request, "reports/irr_plan.html", {"plan": plan, "form": form}, status=status)


# --- the blind second review (assigned nurses and physicians) --------------------------------

_reviewer_roles = (Role.NURSE, Role.PHYSICIAN)


def _reviewer_only(view: Callable) -> Callable:
    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.has_role(*_reviewer_roles):
            raise PermissionDenied
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return _error_page(request, exc)

    return wrapped


@_reviewer_only
def irr_my_cases(request: HttpRequest) -> HttpResponse:
    cases = list(irr.assigned_cases(user=request.user))
    return render(
        request,
        "reports/irr_my_cases.html",
        {
            "open": [c for c in cases if c.status == IrrCaseStatus.ASSIGNED],
            "done": [c for c in cases if c.status != IrrCaseStatus.ASSIGNED],
        },
    )


@_reviewer_only
def irr_case(request: HttpRequest, case_id: int) -> HttpResponse:
    case = irr.blind_case(case_id=case_id, user=request.user)
    form = IrrReviewForm(request.POST or None, case=case)
    status = 200
    if request.method == "POST" and case["review"] is None:
        if form.is_valid():
            try:
                irr.irr_review(
                    case_id=case_id,
                    user=request.user,
                    lines=form.line_reviews(),
                    criteria_not_met=form.cleaned_data["criteria_not_met"],
                    comment=form.cleaned_data["comment"],
                )
            except DomainError as exc:
                if exc.code == ErrorCode.NOT_FOUND:
                    raise Http404 from exc
                for key, messages in exc.fields.items():
                    for message in messages:
                        form.add_error(None, f"{key}: {message}")
                status = 400
            else:
                return redirect(reverse("reports:irr-my-cases"))
        else:
            status = 400
    return render(request, "reports/irr_case.html", {"case": case, "form": form}, status=status)
