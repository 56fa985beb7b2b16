"""The program-oversight figures of PRODUCT §10 (timeliness, inventory, outcomes, appeals and
IMR, late submissions, workload), each a SQL aggregate over the workflow's own records for a
period in Pacific time. Every function runs a fixed number of queries, whatever the number of
requests, and returns plain rows (dicts) that a page, a chart, a CSV and a PDF all print.

Each figure names the `measure` of the request list behind it (reports.drilldown), which
filters the same rows the aggregate counted.

The decision and notice figures (timeliness, headline, trend, outcomes, workload) read the
daily pre-aggregates of reports.aggregates by default; `source=RECORDS` computes them from
scratch over the decisions and notices (the definitions, which the tests and the benchmark
compare them with). What depends on the moment (notices due today up to now, today's unsent
notices already overdue) is read live over today's notices only (index on due_at).
Breaches, pends and late submissions read the request facts' day rows the same way. The
open inventory, escalations, extensions, appeals filed and IMR are read live (measured at 1M
requests in bench/bench_reports.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, NullIf, TruncWeek
from django.utils import timezone

from appeals.models import Appeal, AppealStatus, ImrCase, ImrStatus
from authorizations.clocks import PACIFIC
from authorizations.models import (
    OPEN_STATUSES,
    Breach,
    Decision,
    Escalation,
    Extension,
    ExtensionReason,
    InformationRequest,
    LineOutcome,
    ReasonCode,
    RequestType,
    Tar,
    Urgency,
)
from criteria.catalog import FAMILIES
from notifications.models import Audience, Notice, NoticeKind
from reports.aggregates import CLOCKED_NOTICE_KINDS, COUNT_COLUMNS, RECORDS, source_of
from reports.metrics import OVERTURNED, first_decisions, percent
from reports.models import (
    AggregateGrain,
    DailyAppeals,
    DailyBreaches,
    DailyDecisions,
    DailyInformationRequests,
    DailyNotices,
    DailyReceived,
)
from reports.periods import Period, pacific_midnight, pacific_today

# The request kinds of NCQA UM 5's timeliness report: every request type by urgency.
REQUEST_KINDS: tuple[tuple[str, str, str], ...] = (
    (RequestType.PRE_SERVICE, Urgency.URGENT, "Urgent pre-service"),
    (RequestType.PRE_SERVICE, Urgency.ROUTINE, "Routine pre-service"),
    (RequestType.CONCURRENT, Urgency.URGENT, "Urgent concurrent"),
    (RequestType.CONCURRENT, Urgency.ROUTINE, "Routine concurrent"),
    (RequestType.POST_SERVICE, Urgency.URGENT, "Urgent post-service"),
    (RequestType.POST_SERVICE, Urgency.ROUTINE, "Post-service (retrospective)"),
)
# CLOCKED_NOTICE_KINDS (reports.aggregates): notices with a clock of their own.
assert NoticeKind.CRITERIA_COPY not in CLOCKED_NOTICE_KINDS

# Open inventory buckets (PRODUCT §10: "by age and by time left").
AGE_BUCKETS: tuple[tuple[str, str, float | None, float | None], ...] = (
    ("age_0_1", "Under 1 day", 0, 1),
    ("age_1_3", "1 to 3 days", 1, 3),
    ("age_3_7", "3 to 7 days", 3, 7),
    ("age_7_14", "7 to 14 days", 7, 14),
    ("age_14", "14 days or more", 14, None),
)
LEFT_BUCKETS: tuple[tuple[str, str, float | None, float | None], ...] = (
    ("left_overdue", "Past due", None, 0),
    ("left_0_1", "Under 1 day left", 0, 1),
    ("left_1_3", "1 to 3 days left", 1, 3),
    ("left_3_7", "3 to 7 days left", 3, 7),
    ("left_7", "7 days or more left", 7, None),
)

DECIDED_ON_TIME = Q(decided_at__lte=F("tar__decision_due_at"))
NOTICE_ON_TIME = Q(sent_on_time=True)
NOTICE_LATE = Q(sent_on_time=False)
DURATION = DurationField()


def _kind_label(request_type: str, urgency: str) -> str:
    for kind_type, kind_urgency, label in REQUEST_KINDS:
        if (kind_type, kind_urgency) == (request_type, urgency):
            return label
    return f"{request_type} {urgency}"


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# --- the rows each figure counts (shared with the request lists behind them) -------------------


def decided_in(period: Period) -> QuerySet[Decision]:
    """First decisions made in the period (every request type)."""
    return first_decisions().filter(decided_at__gte=period.start, decided_at__lt=period.end)


def notices_due_in(period: Period) -> QuerySet[Notice]:
    return Notice.objects.filter(
        kind__in=CLOCKED_NOTICE_KINDS, due_at__gte=period.start, due_at__lt=period.end
    )


def received_in(period: Period) -> QuerySet[Tar]:
    return Tar.objects.filter(received_at__gte=period.start, received_at__lt=period.end)


def daily(period: Period, grain: str = AggregateGrain.KIND) -> QuerySet[DailyDecisions]:
    """The pre-aggregated first decisions of the period's Pacific days, in one grain."""
    return DailyDecisions.objects.filter(grain=grain, day__gte=period.first, day__lte=period.last)


def daily_notices(first: date, last: date) -> QuerySet[DailyNotices]:
    """The pre-aggregated clocked notices due on these Pacific days (none when first > last)."""
    return DailyNotices.objects.filter(day__gte=first, day__lte=last)


def notices_due_today(period: Period, now: datetime) -> QuerySet[Notice]:
    """The clocked notices due today (Pacific) if today is in the period: the part of a notice
    figure that depends on the moment, read live (a day's notices, index on due_at)."""
    today = pacific_today(now)
    if not period.first <= today <= period.last:
        return Notice.objects.none()
    return notices_due_in(Period(today, today))


def sums(**columns: str) -> dict[str, Any]:
    """Sum(column) as name, 0 over no rows (as Count gives)."""
    return {name: Coalesce(Sum(column), 0) for name, column in columns.items()}


# --- timeliness (NCQA UM 5: decisions and notifications) ----------------------------------------


def _decisions_by_kind(period: Period, source: str | None) -> dict[Any, Any]:
    if source_of(source) == RECORDS:
        return {
            (row["tar__request_type"], row["tar__urgency"]): row
            for row in decided_in(period)
            .values("tar__request_type", "tar__urgency")
            .annotate(
                decided=Count("pk"),
                on_time=Count("pk", filter=DECIDED_ON_TIME),
                extended=Count("pk", filter=Q(tar__extension_count__gt=0)),
            )
            .order_by()
        }
    return {
        (row["request_type"], row["urgency"]): row
        for row in daily(period)
        .values("request_type", "urgency")
        .annotate(**sums(decided="decided", on_time="on_time", extended="extended"))
        .order_by()
    }


def _notices_by_kind(period: Period, now: datetime, source: str | None) -> dict[Any, Any]:
    if source_of(source) == RECORDS:
        return {
            (row["tar__request_type"], row["tar__urgency"], row["audience"]): row
            for row in notices_due_in(period)
            .values("tar__request_type", "tar__urgency", "audience")
            .annotate(
                due=Count("pk"),
                on_time=Count("pk", filter=NOTICE_ON_TIME),
                late=Count("pk", filter=NOTICE_LATE),
                unsent_overdue=Count("pk", filter=Q(sent_at__isnull=True, due_at__lt=now)),
            )
            .order_by()
        }
    # Unsent notices due before today are overdue now, those due after today are not; today's
    # are counted live against the moment.
    today = pacific_today(now)
    notices: dict[Any, Any] = {
        (row["request_type"], row["urgency"], row["audience"]): row
        for row in daily_notices(period.first, period.last)
        .values("request_type", "urgency", "audience")
        .annotate(
            **sums(due="due", on_time="on_time", late="late"),
            unsent_overdue=Coalesce(Sum("unsent", filter=Q(day__lt=today)), 0),
        )
        .order_by()
    }
    for row in (
        notices_due_today(period, now)
        .filter(sent_at__isnull=True, due_at__lt=now)
        .values("tar__request_type", "tar__urgency", "audience")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        key = (row["tar__request_type"], row["tar__urgency"], row["audience"])
        counts = notices.setdefault(key, {"due": 0, "on_time": 0, "late": 0, "unsent_overdue": 0})
        counts["unsent_overdue"] += row["n"]
    return notices


def timeliness(
    period: Period, *, now: datetime | None = None, source: str | None = None
) -> list[dict[str, Any]]:
    """Per request type and urgency: decisions by their deadline, provider and member notices
    by theirs. Two queries (three from the pre-aggregates: today's overdue notices live)."""
    now = _now(now)
    decisions = _decisions_by_kind(period, source)
    notices = _notices_by_kind(period, now, source)
    rows = []
    for request_type, urgency, label in REQUEST_KINDS:
        d = decisions.get((request_type, urgency), {})
        p = notices.get((request_type, urgency, Audience.PROVIDER), {})
        m = notices.get((request_type, urgency, Audience.MEMBER), {})
        rows.append(
            {
                "request_type": request_type,
                "urgency": urgency,
                "label": label,
                "decided": d.get("decided", 0),
                "decided_on_time": d.get("on_time", 0),
                "decided_on_time_percent": percent(d.get("on_time", 0), d.get("decided", 0)),
                "extended": d.get("extended", 0),
                "provider_notices_due": p.get("due", 0),
                "provider_notices_on_time": p.get("on_time", 0),
                "provider_notices_on_time_percent": percent(p.get("on_time", 0), p.get("due", 0)),
                "provider_notices_late": p.get("late", 0) + p.get("unsent_overdue", 0),
                "member_notices_due": m.get("due", 0),
                "member_notices_on_time": m.get("on_time", 0),
                "member_notices_on_time_percent": percent(m.get("on_time", 0), m.get("due", 0)),
                "member_notices_late": m.get("late", 0) + m.get("unsent_overdue", 0),
            }
        )
    return rows


_AUDIENCES = (Audience.PROVIDER, Audience.MEMBER)


def _headline_notices(spans, year: Period, now: datetime, source: str | None) -> dict[str, int]:
    """Notices due in each span up to now, and those sent on time."""
    if source_of(source) == RECORDS:
        return (
            notices_due_in(year)
            .filter(due_at__lte=now)
            .aggregate(
                **{
                    f"{key}_{audience}_{name}": Count(
                        "pk", filter=Q(due_at__gte=span.start, audience=audience) & condition
                    )
                    for key, _, span in spans
                    for audience in _AUDIENCES
                    for name, condition in (("all", Q()), ("on_time", NOTICE_ON_TIME))
                }
            )
        )
    # Days before today from the pre-aggregates (all due before now); today's live, up to now.
    # Every span starts on or before today, so today's notices count in each.
    today = pacific_today(now)
    notices = daily_notices(year.first, today - timedelta(days=1)).aggregate(
        **{
            f"{key}_{audience}_{name}": Coalesce(
                Sum(column, filter=Q(day__gte=span.first, audience=audience)), 0
            )
            for key, _, span in spans
            for audience in _AUDIENCES
            for name, column in (("all", "due"), ("on_time", "on_time"))
        }
    )
    live = (
        notices_due_today(year, now)
        .filter(due_at__lte=now)
        .aggregate(
            **{
                f"{audience}_{name}": Count("pk", filter=Q(audience=audience) & condition)
                for audience in _AUDIENCES
                for name, condition in (("all", Q()), ("on_time", NOTICE_ON_TIME))
            }
        )
    )
    for key, _, _ in spans:
        for audience in _AUDIENCES:
            for name in ("all", "on_time"):
                notices[f"{key}_{audience}_{name}"] += live[f"{audience}_{name}"]
    return notices


def headline(*, now: datetime | None = None, source: str | None = None) -> list[dict[str, Any]]:
    """Decision, provider-notice and member-notice timeliness this week, this month and this
    year to date. Two queries (three from the pre-aggregates: today's notices live)."""
    now = _now(now)
    today = pacific_today(now)
    week = Period(today - timedelta(days=today.weekday()), today)
    month = Period(today.replace(day=1), today)
    year = Period(today.replace(month=1, day=1), today)
    spans = (
        ("week", "This week", week),
        ("month", "This month", month),
        ("year", "Year to date", year),
    )
    if source_of(source) == RECORDS:
        decisions = decided_in(year).aggregate(
            **{
                f"{key}_{name}": Count("pk", filter=Q(decided_at__gte=span.start) & condition)
                for key, _, span in spans
                for name, condition in (("all", Q()), ("on_time", DECIDED_ON_TIME))
            }
        )
    else:
        decisions = daily(year).aggregate(
            **{
                f"{key}_{name}": Coalesce(Sum(column, filter=Q(day__gte=span.first)), 0)
                for key, _, span in spans
                for name, column in (("all", "decided"), ("on_time", "on_time"))
            }
        )
    notices = _headline_notices(spans, year, now, source)
    rows = []
    for key, label, span in spans:
        rows.append(
            {
                "key": key,
                "label": label,
                "period": span,
                "decided": decisions[f"{key}_all"],
                "decided_on_time": decisions[f"{key}_on_time"],
                "decided_percent": percent(decisions[f"{key}_on_time"], decisions[f"{key}_all"]),
                "provider_due": notices[f"{key}_provider_all"],
                "provider_on_time": notices[f"{key}_provider_on_time"],
                "provider_percent": percent(
                    notices[f"{key}_provider_on_time"], notices[f"{key}_provider_all"]
                ),
                "member_due": notices[f"{key}_member_all"],
                "member_on_time": notices[f"{key}_member_on_time"],
                "member_percent": percent(
                    notices[f"{key}_member_on_time"], notices[f"{key}_member_all"]
                ),
            }
        )
    return rows


def weekly_trend(
    period: Period, *, weeks: int = 12, source: str | None = None
) -> list[dict[str, Any]]:
    """Decision and notice timeliness by week (Monday, Pacific) for the last `weeks` weeks of
    the period. Two queries."""
    last_monday = period.last - timedelta(days=period.last.weekday())
    first_monday = max(
        last_monday - timedelta(weeks=weeks - 1),
        period.first - timedelta(days=period.first.weekday()),
    )
    span = Period(max(first_monday, period.first), period.last)
    decisions: dict[Any, Any]
    if source_of(source) == RECORDS:
        decisions = {
            timezone.localtime(row["week"], PACIFIC).date(): row
            for row in decided_in(span)
            .annotate(week=TruncWeek("decided_at", tzinfo=PACIFIC))
            .values("week")
            .annotate(decided=Count("pk"), on_time=Count("pk", filter=DECIDED_ON_TIME))
            .order_by()
        }
    else:
        decisions = {
            row["week"]: row
            for row in daily(span)
            .annotate(week=TruncWeek("day"))
            .values("week")
            .annotate(**sums(decided="decided", on_time="on_time"))
            .order_by()
        }
    notices: dict[Any, Any]
    if source_of(source) == RECORDS:
        notices = {
            timezone.localtime(row["week"], PACIFIC).date(): row
            for row in notices_due_in(span)
            .annotate(week=TruncWeek("due_at", tzinfo=PACIFIC))
            .values("week")
            .annotate(due=Count("pk"), on_time=Count("pk", filter=NOTICE_ON_TIME))
            .order_by()
        }
    else:
        notices = {
            row["week"]: row
            for row in daily_notices(span.first, span.last)
            .annotate(week=TruncWeek("day"))
            .values("week")
            .annotate(**sums(due="due", on_time="on_time"))
            .order_by()
        }
    rows = []
    monday = first_monday
    while monday <= last_monday:
        d, n = decisions.get(monday, {}), notices.get(monday, {})
        rows.append(
            {
                "week": monday,
                "period": Period(
                    max(monday, span.first), min(monday + timedelta(days=6), span.last)
                ),
                "decided": d.get("decided", 0),
                "decided_on_time": d.get("on_time", 0),
                "decided_percent": percent(d.get("on_time", 0), d.get("decided", 0)),
                "notices_due": n.get("due", 0),
                "notices_on_time": n.get("on_time", 0),
                "notices_percent": percent(n.get("on_time", 0), n.get("due", 0)),
            }
        )
        monday += timedelta(weeks=1)
    return rows


# --- open inventory ------------------------------------------------------------------------


def _bucket_q(field: str, low: float | None, high: float | None, now: datetime, *, sign: int) -> Q:
    """`field` between now ± low and now ± high days (sign -1: in the past, age; +1: ahead)."""
    q = Q()
    if sign < 0:  # age: received between high and low days ago
        if low is not None:
            q &= Q(**{f"{field}__lte": now - timedelta(days=low)})
        if high is not None:
            q &= Q(**{f"{field}__gt": now - timedelta(days=high)})
    else:  # time left: due between low and high days from now
        if low is not None:
            q &= Q(**{f"{field}__gte": now + timedelta(days=low)})
        if high is not None:
            q &= Q(**{f"{field}__lt": now + timedelta(days=high)})
    return q


def age_bucket_q(key: str, now: datetime) -> Q:
    for name, _, low, high in AGE_BUCKETS:
        if name == key:
            return _bucket_q("received_at", low, high, now, sign=-1)
    for name, _, low, high in LEFT_BUCKETS:
        if name == key:
            return _bucket_q("decision_due_at", low, high, now, sign=1)
    raise KeyError(key)


def inventory(*, now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Open requests by age and by time left to their decision deadline. One query."""
    now = _now(now)
    counts = Tar.objects.filter(status__in=OPEN_STATUSES).aggregate(
        total=Count("pk"),
        urgent=Count("pk", filter=Q(urgency=Urgency.URGENT)),
        **{
            name: Count("pk", filter=age_bucket_q(name, now))
            for name, *_ in (*AGE_BUCKETS, *LEFT_BUCKETS)
        },
    )
    return {
        "total": counts["total"],
        "urgent": counts["urgent"],
        "by_age": [{"key": k, "label": label, "count": counts[k]} for k, label, *_ in AGE_BUCKETS],
        "by_time_left": [
            {"key": k, "label": label, "count": counts[k]} for k, label, *_ in LEFT_BUCKETS
        ],
    }


# --- breaches, escalations, extensions, late submissions -------------------------------------


def _days(model, period: Period) -> QuerySet[Any]:
    return model.objects.filter(day__gte=period.first, day__lte=period.last)


def breaches(period: Period, *, source: str | None = None) -> dict[str, Any]:
    """Missed decision deadlines in the period and their escalations; extensions by reason.
    Three queries."""
    if source_of(source) == RECORDS:
        breach = Breach.objects.filter(due_at__gte=period.start, due_at__lt=period.end).aggregate(
            breached=Count("pk"),
            urgent=Count("pk", filter=Q(tar__urgency=Urgency.URGENT)),
            still_open=Count("pk", filter=Q(tar__status__in=OPEN_STATUSES)),
        )
    else:
        breach = _days(DailyBreaches, period).aggregate(
            **sums(breached="breached", urgent="urgent", still_open="still_open")
        )
    escalation = Escalation.objects.filter(
        breach__due_at__gte=period.start, breach__due_at__lt=period.end
    ).aggregate(
        escalated=Count("pk"), acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False))
    )
    by_reason = dict(
        Extension.objects.filter(extended_at__gte=period.start, extended_at__lt=period.end)
        .values_list("reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {
        **breach,
        **escalation,
        "extensions": [
            {"reason": value, "label": label, "count": by_reason.get(value, 0)}
            for value, label in ExtensionReason.choices
        ],
        "extensions_total": sum(by_reason.values()),
    }


def late_submissions(period: Period, *, source: str | None = None) -> dict[str, Any]:
    """Post-service requests received in the period, and those flagged late (002 "Post-Service
    Retrospective Review"), by the rule that made them late. One query."""
    records = source_of(source) == RECORDS
    rows = (
        (received_in(period) if records else _days(DailyReceived, period))
        .filter(request_type=RequestType.POST_SERVICE)
        .values("late_submission", "late_submission_rule")
        .annotate(n=Count("pk") if records else Sum("received"))
        .order_by("late_submission_rule")
    )
    received = late = 0
    by_rule = []
    for row in rows:
        received += row["n"]
        if row["late_submission"]:
            late += row["n"]
            by_rule.append({"rule": row["late_submission_rule"] or "late", "count": row["n"]})
    return {
        "received": received,
        "late": late,
        "late_percent": percent(late, received),
        "by_rule": by_rule,
    }


# --- outcomes ------------------------------------------------------------------------------

OUTCOME_COLUMNS: tuple[tuple[str, str, Q], ...] = (
    ("approved", "Approved", Q(outcome=LineOutcome.APPROVED)),
    ("auto_approved", "of which automated", Q(outcome=LineOutcome.APPROVED, automated=True)),
    ("modified", "Modified", Q(outcome=LineOutcome.MODIFIED)),
    (
        "denied_medical",
        "Denied: medical necessity",
        Q(outcome=LineOutcome.DENIED, reason_code=ReasonCode.MEDICAL_NECESSITY),
    ),
    (
        "denied_other",
        "Denied: other reason",
        Q(outcome=LineOutcome.DENIED) & ~Q(reason_code=ReasonCode.MEDICAL_NECESSITY),
    ),
    (
        "not_eligible",
        "Closed: not eligible",
        Q(outcome=LineOutcome.CLOSED, reason_code=ReasonCode.NOT_ELIGIBLE),
    ),
    (
        "not_a_benefit",
        "Closed: not a benefit",
        Q(outcome=LineOutcome.CLOSED, reason_code=ReasonCode.NOT_A_BENEFIT),
    ),
    (
        "duplicate",
        "Closed: duplicate",
        Q(outcome=LineOutcome.CLOSED, reason_code=ReasonCode.DUPLICATE),
    ),
    (
        "no_auth",
        "Closed: no authorization required",
        Q(outcome=LineOutcome.CLOSED, reason_code=ReasonCode.NO_AUTHORIZATION_REQUIRED),
    ),
)
# Denial rate: denied or modified (and the denying closures) over decisions that decided the
# service (PRODUCT §10 counts a modification as a denial).
ADVERSE_Q = Q(outcome__in=[LineOutcome.DENIED, LineOutcome.MODIFIED]) | Q(
    outcome=LineOutcome.CLOSED, reason_code__in=[ReasonCode.NOT_ELIGIBLE, ReasonCode.NOT_A_BENEFIT]
)


def _outcome_row(row: Any) -> dict[str, Any]:
    decided = row["decided"]
    return {
        **row,
        "denial_percent": percent(row["adverse"], decided),
        "modification_percent": percent(row["modified"], decided),
    }


def _outcome_aggregates() -> dict[str, Any]:
    return {
        "decided": Count("pk", distinct=True),
        "adverse": Count("pk", filter=ADVERSE_Q, distinct=True),
        **{key: Count("pk", filter=q, distinct=True) for key, _, q in OUTCOME_COLUMNS},
    }


# The columns of an outcome row, summed from the pre-aggregates.
OUTCOME_SUMS = {"decided": "decided", "adverse": "adverse"} | {
    key: key for key, _, _ in OUTCOME_COLUMNS
}
assert set(OUTCOME_SUMS) <= set(COUNT_COLUMNS)


def outcomes(period: Period, *, source: str | None = None) -> dict[str, Any]:
    """First decisions in the period by outcome and reason: all, by procedure family, by
    requesting organization, by reviewer. Four queries."""
    if source_of(source) != RECORDS:
        return _outcomes_from_aggregates(period)
    decided = decided_in(period)
    total = _outcome_row(decided.aggregate(**_outcome_aggregates()))
    by_family = [
        _outcome_row(row) | {"label": FAMILIES.get(row["family"] or "", row["family"] or "Other")}
        for row in decided.values(family=F("tar__lines__family"))
        .annotate(**_outcome_aggregates())
        .order_by("family")
    ]
    by_organization = [
        _outcome_row(row) | {"label": row["name"]}
        for row in decided.values(
            organization=F("tar__requesting_organization"),
            name=F("tar__requesting_organization__name"),
        )
        .annotate(**_outcome_aggregates())
        .order_by("name")
    ]
    by_reviewer = [
        _outcome_row(row) | {"label": row["username"] or "Automated rules"}
        for row in decided.values(
            reviewer=F("decided_by"),
            username=F("decided_by__username"),
            role=F("decided_by__role"),
        )
        .annotate(**_outcome_aggregates())
        .order_by("username")
    ]
    return {
        "total": total,
        "by_family": by_family,
        "by_organization": by_organization,
        "by_reviewer": by_reviewer,
    }


def _outcomes_from_aggregates(period: Period) -> dict[str, Any]:
    kinds = daily(period)
    total = _outcome_row(kinds.aggregate(**sums(**OUTCOME_SUMS)))
    by_family = [
        _outcome_row(row) | {"label": FAMILIES.get(row["family"] or "", row["family"] or "Other")}
        for row in daily(period, AggregateGrain.FAMILY)
        .values("family")
        .annotate(**sums(**OUTCOME_SUMS))
        .order_by("family")
    ]
    by_organization = [
        _outcome_row(row) | {"label": row["name"]}
        for row in kinds.values("organization", name=F("organization__name"))
        .annotate(**sums(**OUTCOME_SUMS))
        .order_by("name")
    ]
    by_reviewer = [
        _outcome_row(row) | {"label": row["username"] or "Automated rules"}
        for row in daily(period, AggregateGrain.REVIEWER)
        .values("reviewer", username=F("reviewer__username"), role=F("reviewer__role"))
        .annotate(**sums(**OUTCOME_SUMS))
        .order_by("username")
    ]
    return {
        "total": total,
        "by_family": by_family,
        "by_organization": by_organization,
        "by_reviewer": by_reviewer,
    }


def pends(period: Period, *, source: str | None = None) -> dict[str, Any]:
    """Information requests made in the period, their answers and answer times; the pend rate
    over requests received in the period. Two queries."""
    if source_of(source) == RECORDS:
        answer = ExpressionWrapper(F("responded_at") - F("requested_at"), DURATION)
        row = InformationRequest.objects.filter(
            requested_at__gte=period.start, requested_at__lt=period.end
        ).aggregate(
            requests=Count("pk"),
            answered=Count("pk", filter=Q(responded_at__isnull=False)),
            mean_answer=Avg(answer, filter=Q(responded_at__isnull=False)),
        )
        received = received_in(period).aggregate(
            received=Count("pk"),
            pended=Count("pk", filter=Q(information_requests__isnull=False), distinct=True),
        )
    else:
        # The summed intervals over the answered count: the interval division AVG does.
        asked = _days(DailyInformationRequests, period).aggregate(
            **sums(n_requests="requests", n_answered="answered"),
            mean_answer=ExpressionWrapper(
                Sum("answer_total") / NullIf(Sum("answered"), 0), DURATION
            ),
        )
        row = {
            "requests": asked["n_requests"],
            "answered": asked["n_answered"],
            "mean_answer": asked["mean_answer"],
        }
        received = _days(DailyReceived, period).aggregate(
            **sums(received="received_rows", pended="pended")
        )
    mean = row["mean_answer"]
    return {
        **row,
        **received,
        "answered_percent": percent(row["answered"], row["requests"]),
        "pend_percent": percent(received["pended"], received["received"]),
        "mean_answer_hours": None if mean is None else round(mean.total_seconds() / 3600, 1),
    }


# --- appeals and IMR ---------------------------------------------------------------------


def _appeals_resolved(period: Period, source: str | None) -> dict[str, Any]:
    if source_of(source) == RECORDS:
        return Appeal.objects.filter(
            status=AppealStatus.RESOLVED,
            resolved_at__gte=period.start,
            resolved_at__lt=period.end,
        ).aggregate(
            resolved=Count("pk"),
            overturned=Count("pk", filter=Q(outcome__in=OVERTURNED)),
            upheld=Count("pk", filter=Q(outcome="upheld")),
            on_time=Count("pk", filter=Q(resolved_at__lte=F("resolution_due_at"))),
        )
    return DailyAppeals.objects.filter(day__gte=period.first, day__lte=period.last).aggregate(
        **sums(resolved="resolved", overturned="overturned", upheld="upheld", on_time="on_time")
    )


def appeals(period: Period, *, source: str | None = None) -> dict[str, Any]:
    """Appeals filed and resolved in the period (overturn rate, on time), IMR determinations
    received in the period by result. Three queries."""
    filed = Appeal.objects.filter(
        received_at__gte=period.start, received_at__lt=period.end
    ).aggregate(
        filed=Count("pk"),
        expedited=Count("pk", filter=Q(expedited=True)),
        late_filed=Count("pk", filter=Q(late=True)),
    )
    resolved = _appeals_resolved(period, source)
    imr = ImrCase.objects.filter(
        determination_received_at__gte=period.start, determination_received_at__lt=period.end
    ).aggregate(
        determined=Count("pk"),
        upheld=Count("pk", filter=Q(determination="upheld")),
        overturned=Count("pk", filter=Q(determination="overturned")),
        partially_overturned=Count("pk", filter=Q(determination="partially_overturned")),
        on_time=Count("pk", filter=Q(determination_late=False)),
        open=Count("pk", filter=Q(status__in=[ImrStatus.REFERRED])),
    )
    return {
        "filed": filed,
        "resolved": resolved
        | {
            "overturn_percent": percent(resolved["overturned"], resolved["resolved"]),
            "on_time_percent": percent(resolved["on_time"], resolved["resolved"]),
        },
        "imr": imr | {"on_time_percent": percent(imr["on_time"], imr["determined"])},
    }


# --- workload --------------------------------------------------------------------------------


def workload(period: Period, *, source: str | None = None) -> list[dict[str, Any]]:
    """Per reviewer: first decisions in the period and open requests assigned now. Two
    queries."""
    decided: dict[Any, Any]
    if source_of(source) == RECORDS:
        decided = {
            row["decided_by"]: row
            for row in decided_in(period)
            .filter(decided_by__isnull=False)
            .values("decided_by", "decided_by__username", "decided_by__role")
            .annotate(decided=Count("pk"), on_time=Count("pk", filter=DECIDED_ON_TIME))
            .order_by()
        }
    else:
        decided = {
            row["reviewer"]: {
                "decided_by__username": row["reviewer__username"],
                "decided_by__role": row["reviewer__role"],
                "decided": row["decided"],
                "on_time": row["on_time"],
            }
            for row in daily(period, AggregateGrain.REVIEWER)
            .filter(reviewer__isnull=False)
            .values("reviewer", "reviewer__username", "reviewer__role")
            .annotate(decided=Coalesce(Sum("decided"), 0), on_time=Coalesce(Sum("on_time"), 0))
            .order_by()
        }
    assigned: dict[Any, Any] = {
        row["assigned_to"]: row
        for row in Tar.objects.filter(status__in=OPEN_STATUSES, assigned_to__isnull=False)
        .values("assigned_to", "assigned_to__username", "assigned_to__role")
        .annotate(open=Count("pk"))
        .order_by()
    }
    rows = []
    for user_id in sorted(
        set(decided) | set(assigned),
        key=lambda pk: (
            (decided.get(pk) or {}).get("decided_by__username")
            or (assigned.get(pk) or {}).get("assigned_to__username")
            or ""
        ),
    ):
        d, a = decided.get(user_id, {}), assigned.get(user_id, {})
        rows.append(
            {
                "reviewer": user_id,
                "username": d.get("decided_by__username") or a.get("assigned_to__username"),
                "role": d.get("decided_by__role") or a.get("assigned_to__role"),
                "decided": d.get("decided", 0),
                "on_time_percent": percent(d.get("on_time", 0), d.get("decided", 0)),
                "open_assigned": a.get("open", 0),
            }
        )
    return rows


# --- audit universe --------------------------------------------------------------------------


def audit_universe(period: Period) -> QuerySet[Tar]:
    """Every request received in the period with its clock, first decision and notice times:
    what an auditor samples from (DHCS/DMHC universe). Rows are streamed by the CSV (iterator)
    and paged by the page; the columns are SQL annotations, not per-row queries."""
    from django.db.models import Max, Min

    first = Min("decisions__decided_at")
    return (
        received_in(period)
        .annotate(
            first_decided_at=first,
            provider_notice_sent_at=Min(
                "notices__sent_at", filter=Q(notices__audience=Audience.PROVIDER)
            ),
            member_notice_sent_at=Min(
                "notices__sent_at", filter=Q(notices__audience=Audience.MEMBER)
            ),
            last_decided_at=Max("decisions__decided_at"),
        )
        .select_related("requesting_organization")
        .order_by("received_at", "pk")
    )


def pacific_week_start(day) -> datetime:
    return pacific_midnight(day - timedelta(days=day.weekday()))
