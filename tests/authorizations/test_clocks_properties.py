"""Property tests for authorizations.clocks: invariants that must hold for any receipt instant.

- no deadline is due before the instant it runs from;
- the binding rule is the earliest candidate (the first one on a tie);
- moving an input instant later never moves a deadline earlier;
- adding a holiday never moves a deadline earlier;
- the zone an instant is given in never changes a result.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from authorizations.clocks import (
    PACIFIC,
    BusinessCalendar,
    ImrKind,
    RequestType,
    Rule,
    Urgency,
    appeal_extension_cap,
    appeal_resolution_deadline,
    check_extension,
    decision_deadline,
    effective_receipt,
    extension_policy,
    imr_deadline,
    late_retro_submission,
    mailing_deadline,
    provider_notice_deadline,
)

CAL = BusinessCalendar.california(years=range(2025, 2029))
ZONES = (UTC, PACIFIC, ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata"))
START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_SECONDS = int((datetime(2028, 1, 1, tzinfo=UTC) - START).total_seconds())

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """An aware instant in 2026-2027, at microsecond precision, in one of several zones."""
    seconds = draw(st.integers(0, SPAN_SECONDS - 1))
    micros = draw(st.integers(0, 999_999))
    zone = draw(st.sampled_from(ZONES))
    return (START + timedelta(seconds=seconds, microseconds=micros)).astimezone(zone)


@st.composite
def ordered_pairs(draw: st.DrawFn) -> tuple[datetime, datetime]:
    first = draw(instants())
    # Bias towards close pairs: that is where boundary mistakes (17:00, midnight) show.
    gap = draw(
        st.one_of(
            st.integers(0, 3600),
            st.integers(0, 3 * 86_400),
            st.integers(0, 40 * 86_400),
        )
    )
    zone = draw(st.sampled_from(ZONES))
    return first, (first + timedelta(seconds=gap)).astimezone(zone)


request_types = st.sampled_from(list(RequestType))
urgencies = st.sampled_from(list(Urgency))
imr_kinds = st.sampled_from(list(ImrKind))


def is_end_of_pacific_day(value: datetime) -> bool:
    local = value.astimezone(PACIFIC)
    return (local.hour, local.minute, local.second, local.microsecond) == (23, 59, 59, 0)


@PROPERTY_SETTINGS
@given(received_at=instants(), request_type=request_types, urgency=urgencies)
def test_decision_is_never_due_before_receipt_and_earliest_candidate_binds(
    received_at: datetime, request_type: RequestType, urgency: Urgency
) -> None:
    result = decision_deadline(
        received_at=received_at, request_type=request_type, urgency=urgency, calendar=CAL
    )
    assert result.due_at.tzinfo is UTC
    assert result.due_at > received_at
    assert result.effective_received_at >= received_at
    assert result.due_at > result.effective_received_at
    earliest = min(due for _, due in result.candidates)
    assert result.due_at == earliest
    # the binding rule is the first candidate that reaches the earliest due
    assert result.rule == next(rule for rule, due in result.candidates if due == earliest)
    assert (result.rule, result.due_at) in result.candidates


@PROPERTY_SETTINGS
@given(received_at=instants(), request_type=request_types, urgency=urgencies)
def test_decision_clock_shapes(
    received_at: datetime, request_type: RequestType, urgency: Urgency
) -> None:
    result = decision_deadline(
        received_at=received_at, request_type=request_type, urgency=urgency, calendar=CAL
    )
    if request_type is RequestType.POST_SERVICE:
        assert result.rule is Rule.POST_SERVICE_30_CALENDAR_DAYS
        assert is_end_of_pacific_day(result.due_at)
    elif urgency is Urgency.URGENT:
        assert result.rule is Rule.URGENT_72_HOURS
        assert result.due_at - received_at == timedelta(hours=72)
    else:
        assert is_end_of_pacific_day(result.due_at)
        # the routine clock runs from an instant inside business hours
        assert CAL.is_business_hours(result.effective_received_at)
        # 5 business days never beat 7 calendar days: at best they tie
        assert result.due_at == dict(result.candidates)[Rule.ROUTINE_7_CALENDAR_DAYS]


@PROPERTY_SETTINGS
@given(pair=ordered_pairs(), request_type=request_types, urgency=urgencies)
def test_later_receipt_never_moves_decision_or_extension_cap_earlier(
    pair: tuple[datetime, datetime], request_type: RequestType, urgency: Urgency
) -> None:
    earlier, later = pair
    kwargs: dict[str, Any] = {"request_type": request_type, "urgency": urgency, "calendar": CAL}
    first = decision_deadline(received_at=earlier, **kwargs)
    second = decision_deadline(received_at=later, **kwargs)
    assert first.due_at <= second.due_at
    assert first.effective_received_at <= second.effective_received_at
    for (rule_a, due_a), (rule_b, due_b) in zip(first.candidates, second.candidates, strict=True):
        assert rule_a == rule_b
        assert due_a <= due_b

    policy_a = extension_policy(received_at=earlier, **kwargs)
    policy_b = extension_policy(received_at=later, **kwargs)
    assert policy_a.max_count == policy_b.max_count
    if policy_a.latest_due_at is not None and policy_b.latest_due_at is not None:
        assert policy_a.latest_due_at <= policy_b.latest_due_at


@PROPERTY_SETTINGS
@given(received_at=instants(), request_type=request_types, urgency=urgencies)
def test_extension_cap_is_after_the_decision_due_and_reachable(
    received_at: datetime, request_type: RequestType, urgency: Urgency
) -> None:
    kwargs: dict[str, Any] = {"request_type": request_type, "urgency": urgency, "calendar": CAL}
    decision = decision_deadline(received_at=received_at, **kwargs)
    policy = extension_policy(received_at=received_at, **kwargs)
    if policy.latest_due_at is None:
        assert policy.max_count == 0
        return
    assert policy.latest_due_at > decision.due_at
    # extending straight to the cap is always allowed while extensions remain
    check_extension(
        policy=policy,
        extensions_used=policy.max_count - 1,
        current_due_at=decision.due_at,
        new_due_at=policy.latest_due_at,
    )


@PROPERTY_SETTINGS
@given(pair=ordered_pairs())
def test_mailing_deadline_is_monotonic_in_decision_time(pair: tuple[datetime, datetime]) -> None:
    earlier, later = pair
    first = mailing_deadline(decided_at=earlier, calendar=CAL)
    second = mailing_deadline(decided_at=later, calendar=CAL)
    assert earlier < first.due_at
    assert first.due_at <= second.due_at
    assert is_end_of_pacific_day(first.due_at)
    # at least two calendar days, at most two business days plus a long holiday weekend
    decided_date = earlier.astimezone(PACIFIC).date()
    due_date = first.due_at.astimezone(PACIFIC).date()
    assert timedelta(days=2) <= due_date - decided_date <= timedelta(days=6)


@PROPERTY_SETTINGS
@given(
    received_at=instants(),
    delays=st.tuples(st.integers(0, 40 * 86_400), st.integers(0, 40 * 86_400)),
    request_type=request_types,
    urgency=urgencies,
)
def test_provider_notice_is_after_decision_and_monotonic(
    received_at: datetime,
    delays: tuple[int, int],
    request_type: RequestType,
    urgency: Urgency,
) -> None:
    kwargs: dict[str, Any] = {
        "received_at": received_at,
        "request_type": request_type,
        "urgency": urgency,
        "calendar": CAL,
    }
    decided_a, decided_b = (received_at + timedelta(seconds=s) for s in sorted(delays))
    first = provider_notice_deadline(decided_at=decided_a, **kwargs)
    second = provider_notice_deadline(decided_at=decided_b, **kwargs)
    assert first is not None and second is not None
    assert first.due_at > received_at
    assert first.due_at <= second.due_at
    undecided = provider_notice_deadline(decided_at=None, **kwargs)
    if undecided is not None:
        # knowing the decision can only bring the notice due date forward
        assert first.due_at <= undecided.due_at


@PROPERTY_SETTINGS
@given(pair=ordered_pairs(), kind=imr_kinds, extended=st.booleans())
def test_imr_and_appeal_clocks_are_after_receipt_and_monotonic(
    pair: tuple[datetime, datetime], kind: ImrKind, extended: bool
) -> None:
    earlier, later = pair
    extended = extended and kind is ImrKind.EXPEDITED
    first = imr_deadline(received_at=earlier, kind=kind, extended=extended, calendar=CAL)
    second = imr_deadline(received_at=later, kind=kind, extended=extended, calendar=CAL)
    assert earlier < first.target_at <= first.due_at
    assert first.due_at <= second.due_at
    assert first.target_at <= second.target_at
    if kind is ImrKind.EXPEDITED:
        # 003 G.2.b: the IMRO answer (even extended) leaves the plan's 72-hour window intact
        assert first.due_at - earlier <= timedelta(hours=48)

    for expedited in (False, True):
        resolution_a = appeal_resolution_deadline(received_at=earlier, expedited=expedited)
        resolution_b = appeal_resolution_deadline(received_at=later, expedited=expedited)
        assert earlier < resolution_a.due_at <= resolution_b.due_at
        cap = appeal_extension_cap(resolution_due_at=resolution_a.due_at)
        assert cap.due_at - resolution_a.due_at >= timedelta(days=13, hours=23)


@PROPERTY_SETTINGS
@given(
    received_at=instants(),
    service_offset=st.integers(0, 60),
    denial_offset=st.one_of(st.none(), st.integers(0, 120)),
    eligibility_offset=st.one_of(st.none(), st.integers(0, 120)),
)
def test_late_retro_uses_the_most_generous_window(
    received_at: datetime,
    service_offset: int,
    denial_offset: int | None,
    eligibility_offset: int | None,
) -> None:
    received_date = received_at.astimezone(PACIFIC).date()

    def before(days: int | None) -> date | None:
        return None if days is None else received_date - timedelta(days=days)

    service = before(service_offset)
    assert service is not None
    result = late_retro_submission(
        received_at=received_at,
        date_of_service=service,
        primary_denial_date=before(denial_offset),
        retro_eligibility_date=before(eligibility_offset),
        calendar=CAL,
    )
    assert result.late == (received_at > result.window_ends_at)
    assert is_end_of_pacific_day(result.window_ends_at)
    # a single window never gives more room than all of them together
    alone = late_retro_submission(received_at=received_at, date_of_service=service, calendar=CAL)
    assert alone.window_ends_at <= result.window_ends_at
    assert result.late <= alone.late


@settings(max_examples=150, deadline=None)
@given(
    received_at=instants(),
    request_type=request_types,
    urgency=urgencies,
    extra=st.lists(st.dates(date(2026, 1, 1), date(2028, 1, 31)), max_size=5),
)
def test_adding_holidays_never_moves_a_deadline_earlier(
    received_at: datetime, request_type: RequestType, urgency: Urgency, extra: list[date]
) -> None:
    closed = BusinessCalendar(
        holidays=CAL.holidays | frozenset(extra), first_year=CAL.first_year, last_year=CAL.last_year
    )
    kwargs: dict[str, Any] = {
        "received_at": received_at,
        "request_type": request_type,
        "urgency": urgency,
    }
    assert (
        decision_deadline(calendar=CAL, **kwargs).due_at
        <= decision_deadline(calendar=closed, **kwargs).due_at
    )
    assert effective_receipt(received_at=received_at, calendar=CAL) <= effective_receipt(
        received_at=received_at, calendar=closed
    )
    assert (
        mailing_deadline(decided_at=received_at, calendar=CAL).due_at
        <= mailing_deadline(decided_at=received_at, calendar=closed).due_at
    )


@PROPERTY_SETTINGS
@given(received_at=instants(), request_type=request_types, urgency=urgencies)
def test_input_zone_does_not_change_results(
    received_at: datetime, request_type: RequestType, urgency: Urgency
) -> None:
    results = {
        decision_deadline(
            received_at=received_at.astimezone(zone),
            request_type=request_type,
            urgency=urgency,
            calendar=CAL,
        )
        for zone in ZONES
    }
    assert len(results) == 1
