"""The requests behind a figure: each `measure` filters the same rows its aggregate counted
(reports.figures), narrowed by the figure's dimension (request type, urgency, family,
organization, reviewer, outcome, bucket). Unknown measures and values are a 400."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from appeals.models import Appeal, AppealStatus
from authorizations.models import (
    OPEN_STATUSES,
    Breach,
    Extension,
    ExtensionReason,
    InformationRequest,
    RequestType,
    Tar,
    Urgency,
)
from reports import figures
from reports.metrics import OVERTURNED
from reports.periods import Period
from tar_portal.errors import invalid

OUTCOME_FILTERS = {key: q for key, _, q in figures.OUTCOME_COLUMNS} | {
    "adverse": figures.ADVERSE_Q,
    "any": Q(),
}
BUCKETS = {name for name, *_ in (*figures.AGE_BUCKETS, *figures.LEFT_BUCKETS)}


def _choice(params: Mapping[str, str], name: str, allowed) -> str:
    value = params.get(name) or ""
    if value and value not in allowed:
        raise invalid(f"Unknown {name} {value!r}.", **{name: "Not one of the listed values."})
    return value


def _int(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name) or ""
    if not value:
        return None
    if not value.isdigit():
        raise invalid(f"{name} must be a number.", **{name: "A number."})
    return int(value)


def _decided(period: Period, params: Mapping[str, str], now: datetime) -> QuerySet:
    decisions = figures.decided_in(period)
    outcome = _choice(params, "outcome", OUTCOME_FILTERS)
    if outcome:
        decisions = decisions.filter(OUTCOME_FILTERS[outcome])
    if params.get("on_time") == "no":
        decisions = decisions.exclude(figures.DECIDED_ON_TIME)
    elif params.get("on_time") == "yes":
        decisions = decisions.filter(figures.DECIDED_ON_TIME)
    if params.get("family"):
        decisions = decisions.filter(tar__lines__family=params["family"])
    if (organization := _int(params, "organization")) is not None:
        decisions = decisions.filter(tar__requesting_organization_id=organization)
    if (reviewer := _int(params, "reviewer")) is not None:
        decisions = decisions.filter(decided_by_id=reviewer)
    return Tar.objects.filter(pk__in=decisions.values("tar_id"))


def _notices(period: Period, params: Mapping[str, str], now: datetime) -> QuerySet:
    notices = figures.notices_due_in(period)
    audience = _choice(params, "audience", ("provider", "member"))
    if audience:
        notices = notices.filter(audience=audience)
    if params.get("on_time") == "no":
        notices = notices.filter(figures.NOTICE_LATE | Q(sent_at__isnull=True, due_at__lt=now))
    return Tar.objects.filter(pk__in=notices.values("tar_id"))


def _open(period: Period, params: Mapping[str, str], now: datetime) -> QuerySet:
    tars = Tar.objects.filter(status__in=OPEN_STATUSES)
    bucket = _choice(params, "bucket", BUCKETS)
    if bucket:
        tars = tars.filter(figures.age_bucket_q(bucket, now))
    return tars


def _breached(period: Period, params: Mapping[str, str], now: datetime) -> QuerySet:
    breach = Breach.objects.filter(due_at__gte=period.start, due_at__lt=period.end)
    return Tar.objects.filter(pk__in=breach.values("tar_id"))


def _extended(period: Period, params: Mapping[str, str], now: datetime) -> QuerySet:
    extensions = Extension.objects.filter(extended_at__gte=period.start, extended_at__lt=period.end)
    reason = _choice(params, "reason", ExtensionReason.values)
    if reason:
        extensions = extensions.filter(reason=reason)
    return Tar.objects.filter(pk__in=extensions.values("tar_id"))


def _late_submission(period: Period, params: Mapping[str, str], now: datetime) -> QuerySet:
    return figures.received_in(period).filter(
        request_type=RequestType.POST_SERVICE, late_submission=True
    )


def _pended(period: Period, params: Mapping[str, str], now: datetime) -> QuerySet:
    requests = InformationRequest.objects.filter(
        requested_at__gte=period.start, requested_at__lt=period.end
    )
    return Tar.objects.filter(pk__in=requests.values("tar_id"))


def _appealed(period: Period, params: Mapping[str, str], now: datetime) -> QuerySet:
    if params.get("result") == "overturned":
        appeals = Appeal.objects.filter(
            status=AppealStatus.RESOLVED,
            resolved_at__gte=period.start,
            resolved_at__lt=period.end,
            outcome__in=OVERTURNED,
        )
    else:
        appeals = Appeal.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
    return Tar.objects.filter(pk__in=appeals.values("tar_id"))


def _received(period: Period, params: Mapping[str, str], now: datetime) -> QuerySet:
    return figures.received_in(period)


MEASURES: dict[str, tuple[str, Callable[[Period, Mapping[str, str], datetime], QuerySet]]] = {
    "decided": ("Requests first decided in the period", _decided),
    "notices": ("Requests with notices due in the period", _notices),
    "open": ("Open requests now", _open),
    "breached": ("Requests whose decision deadline passed in the period", _breached),
    "extended": ("Requests extended in the period", _extended),
    "late_submission": ("Late retrospective submissions received in the period", _late_submission),
    "pended": ("Requests pended for information in the period", _pended),
    "appealed": ("Requests appealed in the period", _appealed),
    "received": ("Requests received in the period", _received),
}


def drilldown(
    period: Period, params: Mapping[str, str], *, now: datetime | None = None
) -> tuple[str, QuerySet[Tar]]:
    """(title, the requests) for `params["measure"]`, narrowed by request type and urgency."""
    now = now or timezone.now()
    measure = _choice(params, "measure", MEASURES) or "received"
    title, build = MEASURES[measure]
    tars = build(period, params, now)
    request_type = _choice(params, "request_type", RequestType.values)
    urgency = _choice(params, "urgency", Urgency.values)
    if request_type:
        tars = tars.filter(request_type=request_type)
    if urgency:
        tars = tars.filter(urgency=urgency)
    return title, tars.select_related("requesting_organization", "assigned_to").order_by(
        "received_at", "pk"
    )
