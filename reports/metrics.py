"""The public prior-authorization metrics (CMS-0057-F; 42 CFR 438.210(f)), methodology version 1
of PRODUCT §10, computed in SQL aggregates over the workflow's own records.

Queries: one aggregate over the year's first decisions, one over the year's appeal
resolutions, and one for each median (at most two values read, by ORDER BY … OFFSET): four in
all, whatever the number of requests. No row is loaded into Python.

By default the decisions are read from the pre-aggregates (reports.aggregates): the daily
rows give the counts and the summed times (the mean), and the per-request facts, in the order
of their index, give the exact median — the same value as the from-scratch SQL, which
`source=RECORDS` runs (the definitions below; the tests compare the two).

The definitions, as PRODUCT §10 version 1 gives them:
- population: pre-service and concurrent TARs (post-service reviews are not prior
  authorization); standard = routine, expedited = urgent;
- a request is *determined in the year* when its first decision (the earliest `Decision`, not
  `Tar.decided_at`, which an overturned appeal rewrites) falls in the year, Pacific time;
  closures as duplicate or no-authorization-required are not determinations; withdrawn
  requests have no decision;
- approved = approved in full; denied = denied, closed as not eligible or not a benefit, or
  modified (also shown on its own row);
- approved after appeal: appeals of standard requests resolved in the year, overturned in full
  or in part;
- extended and approved: determinations whose deadline was extended and whose first decision
  was an approval in full;
- time to decision: received_at → first decision, hours, mean and median.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, ExtractYear

from appeals.models import Appeal, AppealOutcome, AppealStatus
from authorizations.clocks import PACIFIC
from authorizations.models import (
    Decision,
    LineOutcome,
    ReasonCode,
    RequestType,
    Urgency,
)
from criteria.catalog import CODE_RANGES, FAMILIES
from reports.aggregates import RECORDS, source_of
from reports.models import AggregateGrain, DailyAppeals, DailyDecisions, DecisionFact
from reports.periods import Period, calendar_year, year_is_open

METHODOLOGY_VERSION = 1

PRIOR_AUTHORIZATION_TYPES = (RequestType.PRE_SERVICE, RequestType.CONCURRENT)
# Closures that decide nothing about the service: not determinations (PRODUCT §10).
NOT_DETERMINATIONS = (ReasonCode.DUPLICATE, ReasonCode.NO_AUTHORIZATION_REQUIRED)
# Closures that refuse the service: counted as denials (PRODUCT §10).
DENYING_CLOSURES = (ReasonCode.NOT_ELIGIBLE, ReasonCode.NOT_A_BENEFIT)

APPROVED_Q = Q(outcome=LineOutcome.APPROVED)
MODIFIED_Q = Q(outcome=LineOutcome.MODIFIED)
DENIED_Q = (
    Q(outcome=LineOutcome.DENIED)
    | Q(outcome=LineOutcome.MODIFIED)
    | Q(outcome=LineOutcome.CLOSED, reason_code__in=DENYING_CLOSURES)
)
DETERMINATION_Q = Q(
    outcome__in=[LineOutcome.APPROVED, LineOutcome.MODIFIED, LineOutcome.DENIED]
) | Q(outcome=LineOutcome.CLOSED, reason_code__in=DENYING_CLOSURES)
OVERTURNED = (AppealOutcome.OVERTURNED, AppealOutcome.PARTIALLY_OVERTURNED)

HOURS_TO_DECISION = ExpressionWrapper(F("decided_at") - F("tar__received_at"), DurationField())


def first_decisions() -> QuerySet[Decision]:
    """Each request's first decision: no earlier decision on the same request (an anti-join
    on PostgreSQL). A later decision (appeal, IMR) is not a determination of its own."""
    earlier = Decision.objects.filter(tar=OuterRef("tar")).filter(
        Q(decided_at__lt=OuterRef("decided_at"))
        | Q(decided_at=OuterRef("decided_at"), pk__lt=OuterRef("pk"))
    )
    return Decision.objects.filter(~Exists(earlier))


def determinations(period: Period) -> QuerySet[Decision]:
    """The first decisions in the period that are prior-authorization determinations."""
    return first_decisions().filter(
        DETERMINATION_Q,
        decided_at__gte=period.start,
        decided_at__lt=period.end,
        tar__request_type__in=PRIOR_AUTHORIZATION_TYPES,
    )


def standard_appeals_resolved(period: Period) -> QuerySet[Appeal]:
    return Appeal.objects.filter(
        status=AppealStatus.RESOLVED,
        resolved_at__gte=period.start,
        resolved_at__lt=period.end,
        tar__request_type__in=PRIOR_AUTHORIZATION_TYPES,
        tar__urgency=Urgency.ROUTINE,
    )


def percent(count: int, denominator: int) -> float | None:
    """One decimal, half up; None for an empty denominator (PRODUCT §10)."""
    if not denominator:
        return None
    value = Decimal(count) * 100 / Decimal(denominator)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def hours(value: timedelta | None) -> float | None:
    if value is None:
        return None
    return float(
        (Decimal(value.total_seconds()) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    )


def median_duration(queryset: QuerySet[Decision], count: int) -> timedelta | None:
    """The median of HOURS_TO_DECISION over `queryset` of `count` rows: the middle value, or
    the mean of the two middle ones for an even count. One query, at most two values read."""
    if count == 0:
        return None
    offset = (count - 1) // 2
    take = 1 if count % 2 else 2
    middle = list(
        queryset.annotate(duration=HOURS_TO_DECISION)
        .order_by("duration", "pk")
        .values_list("duration", flat=True)[offset : offset + take]
    )
    return sum(middle, timedelta()) / len(middle)


def services_requiring_pa() -> list[dict[str, str]]:
    """The items and services that need a TAR (PRODUCT §5; the catalogue's code map)."""
    return [
        {
            "codes": entry["first"]
            if entry["first"] == entry["last"]
            else f"{entry['first']}-{entry['last']}",
            "family": FAMILIES[entry["family"]],
            "description": entry["what"],
        }
        for entry in CODE_RANGES
        if entry["tar"]
    ]


@dataclass(frozen=True)
class Metrics:
    year: int
    year_to_date: bool
    data: dict[str, Any]


def median_from_facts(year: int, urgency: str, count: int) -> timedelta | None:
    """The exact median time to decision of the year's determinations of one urgency, read
    from the facts' index (report_fact_median_idx) at most two values: the same middle values,
    and the same arithmetic, as median_duration over the decisions."""
    if count == 0:
        return None
    offset = (count - 1) // 2
    take = 1 if count % 2 else 2
    middle = [
        timedelta(microseconds=value)
        for value in DecisionFact.objects.filter(cms_determination=True, year=year, urgency=urgency)
        .order_by("decision_microseconds")
        .values_list("decision_microseconds", flat=True)[offset : offset + take]
    ]
    return sum(middle, timedelta()) / len(middle)


def _totals_from_aggregates(period: Period) -> dict[str, Any]:
    """The same totals as the from-scratch aggregate, summed from the daily rows; the means
    from the summed microseconds (exact integers) over the counts."""
    rows = DailyDecisions.objects.filter(
        grain=AggregateGrain.KIND,
        day__gte=period.first,
        day__lte=period.last,
        request_type__in=PRIOR_AUTHORIZATION_TYPES,
    )
    sums = rows.aggregate(
        **{
            f"{key}_{name}": Coalesce(Sum(column, filter=Q(urgency=urgency)), 0)
            for key, urgency in (("standard", Urgency.ROUTINE), ("expedited", Urgency.URGENT))
            for name, column in (
                ("determined", "determined"),
                ("approved", "approved"),
                ("denied", "adverse"),
                ("modified", "modified"),
                ("microseconds", "determined_microseconds"),
            )
        },
        extended=Coalesce(Sum("extended_approved"), 0),
        determined=Coalesce(Sum("determined"), 0),
    )
    for key in ("standard", "expedited"):
        count, total = sums[f"{key}_determined"], sums.pop(f"{key}_microseconds")
        sums[f"{key}_mean"] = (
            timedelta(
                microseconds=int((Decimal(total) / count).quantize(Decimal(1), ROUND_HALF_UP))
            )
            if count
            else None
        )
    return sums


def prior_authorization_metrics(
    year: int, *, now: datetime | None = None, source: str | None = None
) -> Metrics:
    """The nine items of PRODUCT §10 for a calendar year, in the JSON shape of §10."""
    period = calendar_year(year)
    from_records = source_of(source) == RECORDS
    decided = determinations(period)
    by_urgency = {}
    totals = (
        _totals_from_aggregates(period)
        if not from_records
        else decided.aggregate(
            **{
                f"{key}_{name}": Count("pk", filter=Q(tar__urgency=urgency) & condition)
                for key, urgency in (("standard", Urgency.ROUTINE), ("expedited", Urgency.URGENT))
                for name, condition in (
                    ("determined", Q()),
                    ("approved", APPROVED_Q),
                    ("denied", DENIED_Q),
                    ("modified", MODIFIED_Q),
                )
            },
            standard_mean=Avg(HOURS_TO_DECISION, filter=Q(tar__urgency=Urgency.ROUTINE)),
            expedited_mean=Avg(HOURS_TO_DECISION, filter=Q(tar__urgency=Urgency.URGENT)),
            extended=Count("pk", filter=Q(tar__extension_count__gt=0) & APPROVED_Q),
            determined=Count("pk"),
        )
    )
    for key, urgency in (("standard", Urgency.ROUTINE), ("expedited", Urgency.URGENT)):
        determined = totals[f"{key}_determined"]
        median = (
            median_duration(decided.filter(tar__urgency=urgency), determined)
            if from_records
            else median_from_facts(year, urgency, determined)
        )
        by_urgency[key] = {
            "determined": determined,
            "approved": totals[f"{key}_approved"],
            "denied": totals[f"{key}_denied"],
            "modified": totals[f"{key}_modified"],
            "approved_percent": percent(totals[f"{key}_approved"], determined),
            "denied_percent": percent(totals[f"{key}_denied"], determined),
            "decision_hours_mean": hours(totals[f"{key}_mean"]),
            "decision_hours_median": hours(median),
        }
    if from_records:
        appeals = standard_appeals_resolved(period).aggregate(
            resolved=Count("pk"), overturned=Count("pk", filter=Q(outcome__in=OVERTURNED))
        )
    else:
        appeals = DailyAppeals.objects.filter(
            day__gte=period.first,
            day__lte=period.last,
            request_type__in=PRIOR_AUTHORIZATION_TYPES,
            urgency=Urgency.ROUTINE,
        ).aggregate(
            resolved=Coalesce(Sum("resolved"), 0), overturned=Coalesce(Sum("overturned"), 0)
        )
    by_urgency["standard"] |= {
        "appeals_resolved": appeals["resolved"],
        "approved_after_appeal": appeals["overturned"],
        "approved_after_appeal_percent": percent(appeals["overturned"], appeals["resolved"]),
    }
    data = {
        "year": year,
        "methodology_version": METHODOLOGY_VERSION,
        "standard": by_urgency["standard"],
        "expedited": by_urgency["expedited"],
        "extended_and_approved": {
            "determined": totals["determined"],
            "count": totals["extended"],
            "percent": percent(totals["extended"], totals["determined"]),
        },
        "services_requiring_pa": services_requiring_pa(),
    }
    return Metrics(year=year, year_to_date=year_is_open(year, now), data=data)


def years_with_data(*, source: str | None = None) -> list[int]:
    """Calendar years (Pacific) in which any prior-authorization request was first decided,
    newest first. One query."""
    if source_of(source) != RECORDS:
        return list(
            DailyDecisions.objects.filter(
                grain=AggregateGrain.KIND, request_type__in=PRIOR_AUTHORIZATION_TYPES
            )
            .annotate(year=ExtractYear("day"))
            .values_list("year", flat=True)
            .distinct()
            .order_by("-year")
        )
    rows = (
        first_decisions()
        .filter(tar__request_type__in=PRIOR_AUTHORIZATION_TYPES)
        .annotate(year=ExtractYear("decided_at", tzinfo=PACIFIC))
        .values_list("year", flat=True)
        .distinct()
        .order_by("-year")
    )
    return list(rows)


# The methodology published beside the figures (PRODUCT §10, version 1). A change of any
# definition is a new version: the old text stays here so a past year's posting can be read.
METHODOLOGY: dict[int, list[tuple[str, str]]] = {
    1: [
        (
            "Population",
            "Prior-authorization requests: pre-service and concurrent treatment authorization "
            "requests. Post-service (retrospective) reviews are not prior authorization and are "
            "not counted. Standard means a routine request; expedited means an urgent request.",
        ),
        (
            "Determined in the year",
            "A request is counted in the year in which its first decision was made (Pacific "
            "time). A later decision on appeal or after independent review does not count it "
            "again. Withdrawn requests, duplicates and requests that needed no authorization are "
            "not determinations. A closure because the member was not eligible or the service is "
            "not a covered benefit is a denial.",
        ),
        (
            "Approved and denied",
            "Approved means approved in full. Denied means denied, closed as not eligible or not "
            "a benefit, or modified: a modification grants less than was asked and is counted as "
            "a denial; it is also shown on its own row. Approved and denied add up to 100% of "
            "determinations.",
        ),
        (
            "Approved after appeal",
            "Of the appeals of standard requests resolved in the year, the share overturned in "
            "full or in part.",
        ),
        (
            "Extended and approved",
            "Of all determinations in the year, standard and expedited, the share whose decision "
            "deadline was extended and whose decision was an approval in full.",
        ),
        (
            "Time to decision",
            "Hours from the plan's receipt of the request to its first decision; the mean and "
            "the median, for standard and expedited requests separately.",
        ),
        (
            "Rounding and empty figures",
            "Percentages and hours have one decimal, rounded half up. A figure whose denominator "
            "is zero is shown as not applicable (null in the JSON), never as zero.",
        ),
        (
            "Items and services",
            "The list of items and services that need prior authorization is the plan's code "
            "map as of the end of the year.",
        ),
    ]
}
