"""The figures' pre-aggregates (reports.aggregates; issue 13) agree with the from-scratch SQL
over the decisions and notices: on a mixed set of requests made through the real workflow (API and
kernel), kept by the event outbox; after a rebuild from scratch; and after events are
delivered again. Also the year-end rule for a request still undecided when the year ends."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from authorizations import services
from authorizations.deadlines import deadline_sweep
from authorizations.models import DomainEvent, EventConsumption, EventKind, ServiceLine, Tar
from authorizations.workflow.outbox import events_dispatch
from notifications.models import Notice
from notifications.services import notice_deliver
from reports import aggregates, figures
from reports.metrics import prior_authorization_metrics, years_with_data
from reports.models import DailyDecisions, DailyNotices, DecisionFact
from reports.periods import Period
from tests import factories

PACIFIC = ZoneInfo("America/Los_Angeles")
pytestmark = [pytest.mark.django_db, pytest.mark.clock(datetime(2027, 4, 14, 9, tzinfo=PACIFIC))]
ESI_REF = "esi:2026.1:1"
NOT_MET = {**factories.ESI_MEETS, "radicular_findings": False}
DENY_MEDICAL = {
    "outcome": "denied",
    "reason_code": "medical_necessity",
    "rationale": "History, exam and imaging do not show radicular pain.",
    "criteria_refs": [ESI_REF],
}


def pt(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2027) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PACIFIC)


APRIL = Period(date(2027, 4, 1), date(2027, 4, 30))
SPRING = Period(date(2027, 4, 1), date(2027, 6, 30))


def every_figure(source: str) -> dict:
    """Every decision figure the dashboard and the public page read, from one source."""
    now = pt(6, 30, 12)
    return {
        "timeliness": figures.timeliness(SPRING, now=now, source=source),
        "timeliness_april": figures.timeliness(APRIL, now=now, source=source),
        "headline": figures.headline(now=pt(4, 22, 12), source=source),
        "trend": figures.weekly_trend(SPRING, source=source),
        "outcomes": figures.outcomes(SPRING, source=source),
        "outcomes_april": figures.outcomes(APRIL, source=source),
        "workload": figures.workload(SPRING, source=source),
        "appeals": figures.appeals(SPRING, source=source),
        "breaches": figures.breaches(SPRING, source=source),
        "breaches_april": figures.breaches(APRIL, source=source),
        "late_submissions": figures.late_submissions(SPRING, source=source),
        "late_submissions_april": figures.late_submissions(APRIL, source=source),
        "pends": figures.pends(SPRING, source=source),
        "pends_april": figures.pends(APRIL, source=source),
        "cms": prior_authorization_metrics(2027, now=now, source=source).data,
        "years": years_with_data(source=source),
    }


def _post(api, persona: str, url: str, body: dict | None = None) -> dict:
    response = api(persona).post(url, body or {}, format="json")
    assert response.status_code in (200, 201), (url, response.status_code, response.json())
    return response.json()


@pytest.fixture
def mixed(api, submit, world, _clock):
    """Requests through the workflow over two weeks of April 2027 and an appeal in May:

    A approved by a nurse a day after receipt          B denied (medical necessity)
    C modified by a physician                          D closed: not a benefit
    E closed: duplicate (not a determination)          F closed: no authorization required
    G withdrawn (no decision)                          H extended, then approved
    I urgent, approved the same day                    J post-service, approved (not PA)
    K urgent, denied late (after its 72-hour deadline) L pended twice (answered once),
                                                         breached, left open
    M from the other organization, approved             B's appeal overturned in May
    """
    tars = {}
    _clock.move_to(pt(4, 14, 9))
    for key in "ACDEFGHL":
        tars[key] = submit()
    tars["B"] = submit(answers=NOT_MET)
    tars["I"] = submit(urgency="urgent", urgency_reason="New foot drop.")
    tars["K"] = submit(urgency="urgent", urgency_reason="New foot drop.", answers=NOT_MET)
    tars["J"] = submit(
        request_type="post_service",
        date_of_service="2027-04-12",
        lines=[
            {
                "code": "64483",
                "diagnosis_codes": ["M54.16"],
                "units": 1,
                "spinal_region": "lumbar",
                "service_date_from": "2027-04-12",
                "service_date_to": "2027-04-12",
            }
        ],
    )
    tars["M"] = submit(
        "provider2",
        member=world.other_member.cin,
        servicing_provider=world.coastal_specialist.npi,
        referral=world.other_referral.pk,
    )

    def decide(key: str, body: dict, persona: str = "physician") -> None:
        _post(api, persona, f"/api/v1/tars/{tars[key]}/decision", body)

    _clock.move_to(pt(4, 14, 16))
    decide("I", {"outcome": "approved", "rationale": "Meets criteria."}, "nurse")
    _clock.move_to(pt(4, 15, 10))
    decide("A", {"outcome": "approved", "rationale": "Meets criteria."}, "nurse")
    decide("B", DENY_MEDICAL)
    services.tar_extend(
        tar_id=tars["H"],
        user=world.users["nurse"],
        reason="information_not_received",
        new_due_at=pt(5, 5, 23, 59),
        note="Imaging report needed.",
    )
    _post(api, "provider", f"/api/v1/tars/{tars['G']}/withdraw", {"reason": "Not needed."})
    _clock.move_to(pt(4, 16, 11, 30))
    line = ServiceLine.objects.get(tar_id=tars["C"])
    decide(
        "C",
        {
            "outcome": "modified",
            "reason_code": "medical_necessity",
            "rationale": "A shorter window is enough.",
            "criteria_refs": [ESI_REF],
            "lines": [
                {
                    "line_number": 1,
                    "outcome": "modified",
                    "approved_date_from": line.service_date_from.isoformat(),
                    "approved_date_to": (line.service_date_from + timedelta(days=5)).isoformat(),
                }
            ],
        },
    )
    closed = {"outcome": "closed", "rationale": "Closed on the record."}
    decide("D", {**closed, "reason_code": "not_a_benefit"})
    decide("E", {**closed, "reason_code": "duplicate", "duplicate_of": _number(tars["A"])})
    decide("F", {**closed, "reason_code": "no_authorization_required"})
    decide("J", {"outcome": "approved", "rationale": "Meets criteria."}, "nurse")
    services.tar_request_info(tar_id=tars["L"], user=world.users["nurse"], message="MRI report?")
    _clock.move_to(pt(4, 17, 15))
    services.tar_receive_info(tar_id=tars["L"], user=world.users["provider"], response="Sent.")
    _clock.move_to(pt(4, 19, 14))
    services.tar_request_info(tar_id=tars["L"], user=world.users["nurse"], message="And the CT?")
    decide("K", DENY_MEDICAL)
    decide("M", {"outcome": "approved", "rationale": "Meets criteria."}, "nurse")
    _clock.move_to(pt(4, 21, 9, 15))
    decide("H", {"outcome": "approved", "rationale": "Meets criteria."}, "nurse")
    _clock.move_to(pt(4, 26, 10))
    appeal = _post(
        api, "member", f"/api/v1/tars/{tars['B']}/appeals", {"reason": "I still need it."}
    )
    _clock.move_to(pt(5, 10, 10))
    _post(
        api,
        "physician2",
        f"/api/v1/appeals/{appeal['id']}/decide",
        {"outcome": "overturned", "rationale": "The new MRI shows L5 root compression."},
    )
    # L, pended since 19 April, misses its decision deadline.
    assert deadline_sweep(now=pt(5, 10, 11)).breaches == 1
    return tars


def _number(tar_id: int) -> str:
    return Tar.objects.get(pk=tar_id).number


def test_the_outbox_keeps_the_aggregates_equal_to_the_from_scratch_figures(mixed):
    # Before the outbox runs, the pre-aggregates know nothing of the decisions.
    assert not DecisionFact.objects.exists()
    events_dispatch()
    from_records = every_figure(aggregates.RECORDS)
    assert every_figure(aggregates.AGGREGATES) == from_records
    # Not a vacuous agreement: the mix is there. 11 first decisions (G withdrawn, L open; B's
    # overturn is a later decision); CMS standard: A B C D H M determined (E, F are not
    # determinations, J is post-service), approved A H M, denied B C D, modified C.
    assert from_records["outcomes"]["total"]["decided"] == 11
    cms = from_records["cms"]
    assert (cms["standard"]["determined"], cms["standard"]["approved"]) == (6, 3)
    assert (cms["standard"]["denied"], cms["standard"]["modified"]) == (3, 1)
    assert (cms["expedited"]["determined"], cms["expedited"]["denied"]) == (2, 1)
    assert cms["extended_and_approved"]["count"] == 1  # H
    assert cms["standard"]["appeals_resolved"] == 1
    assert cms["standard"]["approved_after_appeal"] == 1
    assert from_records["years"] == [2027]
    urgent = next(r for r in from_records["timeliness"] if r["label"] == "Urgent pre-service")
    assert (urgent["decided"], urgent["decided_on_time"]) == (2, 1)  # K was late
    assert DecisionFact.objects.count() == 11


def test_a_rebuild_from_scratch_gives_the_same_figures(mixed):
    events_dispatch()
    kept = every_figure(aggregates.AGGREGATES)
    rows = sorted(DailyDecisions.objects.values_list(*_daily_columns()))
    facts, daily = aggregates.rebuild()
    assert (facts, daily) == (11, len(rows))
    assert sorted(DailyDecisions.objects.values_list(*_daily_columns())) == rows
    assert every_figure(aggregates.AGGREGATES) == kept == every_figure(aggregates.RECORDS)


def test_events_delivered_again_do_not_change_the_figures(mixed):
    events_dispatch()
    once = every_figure(aggregates.AGGREGATES)
    events = list(DomainEvent.objects.filter(kind__in=aggregates.DECISION_EVENTS))
    assert len(events) >= 12  # eleven first decisions and the appeal's resolution
    # Delivered again to the consumer, in one batch and one at a time...
    aggregates.aggregates_for_events(events)
    for event in events:
        aggregates.aggregates_for_event(event)
    assert every_figure(aggregates.AGGREGATES) == once
    # ...and through the outbox as if the consumptions had been lost.
    EventConsumption.objects.filter(consumer=aggregates.CONSUMER).delete()
    DomainEvent.objects.filter(pk__in=[e.pk for e in events]).update(processed_at=None)
    events_dispatch()
    assert EventConsumption.objects.filter(consumer=aggregates.CONSUMER).count() == len(events)
    assert every_figure(aggregates.AGGREGATES) == once
    assert DecisionFact.objects.count() == 11


def test_the_figures_read_a_constant_number_of_queries(mixed, django_assert_max_num_queries):
    events_dispatch()
    with django_assert_max_num_queries(4):
        prior_authorization_metrics(2027, source=aggregates.AGGREGATES)
    with django_assert_max_num_queries(4):
        figures.outcomes(SPRING, source=aggregates.AGGREGATES)


@pytest.mark.clock(pt(12, 20, 9))
def test_a_request_undecided_at_year_end_is_a_determination_of_the_year_it_is_decided(
    api, submit, _clock
):
    """PRODUCT §10: *determined in the year* = the first decision falls in the year. A request
    received in December 2027, breached and still undecided on 31 December, is no
    determination of 2027 (it stays in the breach figures of the timeliness report); it is one
    of 2028, the year of its first decision, with its whole time to decision."""
    tar_id = submit()
    _clock.move_to(pt(1, 5, 9, year=2028))
    assert deadline_sweep(now=pt(12, 31, 23, 59)).breaches == 1
    events_dispatch()
    for source in (aggregates.RECORDS, aggregates.AGGREGATES):
        assert prior_authorization_metrics(2027, source=source).data["standard"]["determined"] == 0
    _post(
        api,
        "nurse",
        f"/api/v1/tars/{tar_id}/decision",
        {"outcome": "approved", "rationale": "Meets criteria."},
    )
    events_dispatch()
    for source in (aggregates.RECORDS, aggregates.AGGREGATES):
        standard = prior_authorization_metrics(2028, source=source).data["standard"]
        assert standard["determined"] == 1
        # 20 Dec 09:00 to 5 Jan 09:00 Pacific: 16 days = 384 hours.
        assert standard["decision_hours_median"] == standard["decision_hours_mean"] == 384.0
        assert prior_authorization_metrics(2027, source=source).data["standard"]["determined"] == 0


def _daily_columns() -> list[str]:
    return [
        "day",
        "grain",
        "request_type",
        "urgency",
        "organization",
        "family",
        "reviewer",
        *aggregates.COUNT_COLUMNS,
        "determined_microseconds",
    ]


# --- notice timeliness (DailyNotices) ---------------------------------------------------------


def notice_figures(source: str, now: datetime) -> dict:
    """Every notice figure, as of `now` (today's notices are counted against the moment)."""
    return {
        "headline": figures.headline(now=now, source=source),
        "timeliness": figures.timeliness(SPRING, now=now, source=source),
        "timeliness_april": figures.timeliness(APRIL, now=now, source=source),
        "trend": figures.weekly_trend(APRIL, source=source),
    }


def _moments() -> list[datetime]:
    """Moments around the notices' deadlines: on each due day before, at and after a notice's
    due time, and days after, so today's live part and the past days' sums both count."""
    moments = set()
    for due_at in Notice.objects.values_list("due_at", flat=True):
        moments |= {due_at - timedelta(minutes=1), due_at, due_at + timedelta(minutes=1)}
        moments.add(due_at + timedelta(days=2))
    return sorted(moments)


def _notices_agree() -> None:
    for now in _moments():
        assert notice_figures(aggregates.AGGREGATES, now) == notice_figures(
            aggregates.RECORDS, now
        ), now


def _daily_notices() -> list[tuple]:
    return sorted(
        DailyNotices.objects.values_list(
            "day", "request_type", "urgency", "audience", "due", "on_time", "late", "unsent"
        )
    )


def test_notice_timeliness_follows_the_notices_owed_and_sent(mixed, _clock):
    events_dispatch()
    clocked = Notice.objects.filter(kind__in=aggregates.CLOCKED_NOTICE_KINDS)
    # Two notices (provider, member) for each of 11 first decisions, the extension and the
    # appeal's resolution, none sent yet (delivery is queued after commit).
    assert clocked.count() >= 24
    assert not clocked.filter(sent_at__isnull=False).exists()
    assert sum(row[4] for row in _daily_notices()) == clocked.count()
    _notices_agree()

    # Provider notices go out on 10 May (late for April's), three of them a day before their
    # deadline would pass: sent through the notices service, which writes notice.sent.
    providers = list(clocked.filter(audience="provider").order_by("due_at", "pk"))
    for notice in providers[: len(providers) // 2]:
        _clock.move_to(notice.due_at - timedelta(days=1))
        notice_deliver(notice_id=notice.pk)
    _clock.move_to(pt(5, 10, 12))
    for notice in providers[len(providers) // 2 : -1]:
        notice_deliver(notice_id=notice.pk)
    sent = DomainEvent.objects.filter(kind=EventKind.NOTICE_SENT, processed_at__isnull=True)
    assert sent.count() == len(providers) - 1
    # Not yet consumed: the pre-aggregates still count those notices unsent.
    assert sum(row[7] for row in _daily_notices()) == clocked.count()
    events_dispatch()
    assert not sent.exists()
    on_time = clocked.filter(sent_on_time=True).count()
    late = clocked.filter(sent_on_time=False).count()
    assert on_time >= 1 and late >= 1
    assert sum(row[5] for row in _daily_notices()) == on_time
    assert sum(row[6] for row in _daily_notices()) == late
    _notices_agree()

    # A rebuild from scratch writes the same rows; events delivered again change nothing.
    kept = _daily_notices()
    aggregates.rebuild()
    assert _daily_notices() == kept
    events = list(DomainEvent.objects.all())
    aggregates.aggregates_for_events(events)
    for event in events:
        aggregates.aggregates_for_event(event)
    assert _daily_notices() == kept
    _notices_agree()


def test_the_aggregates_wait_for_the_notices_an_event_owes(mixed):
    """A decision whose notices are not created yet is not summed: the consumer raises and
    the outbox retries it after the notices consumer has run."""
    decided = DomainEvent.objects.filter(kind="tar.decided").order_by("pk").first()
    with pytest.raises(aggregates.NoticesNotYetCreated):
        aggregates.aggregates_for_events([decided])
    events_dispatch()
    assert EventConsumption.objects.filter(event=decided, consumer=aggregates.CONSUMER).exists()
    assert _daily_notices()


def test_the_notice_figures_read_a_constant_number_of_queries(mixed, django_assert_max_num_queries):
    events_dispatch()
    now = pt(4, 22, 12)
    with django_assert_max_num_queries(3):
        figures.headline(now=now, source=aggregates.AGGREGATES)
    with django_assert_max_num_queries(3):
        figures.timeliness(SPRING, now=now, source=aggregates.AGGREGATES)
    with django_assert_max_num_queries(2):
        figures.weekly_trend(SPRING, source=aggregates.AGGREGATES)


def test_pends_breaches_and_receipts_follow_the_requests(mixed, api, _clock):
    events_dispatch()
    kept = every_figure(aggregates.RECORDS)
    assert every_figure(aggregates.AGGREGATES) == kept
    # Not vacuous: L pended twice (answered once, 27.5 hours later), breached and still open.
    assert (kept["pends"]["requests"], kept["pends"]["answered"]) == (2, 1)
    assert kept["pends"]["mean_answer_hours"] == 27.5
    assert (kept["pends"]["received"], kept["pends"]["pended"]) == (14, 1)
    assert (kept["breaches"]["breached"], kept["breaches"]["still_open"]) == (1, 1)
    assert kept["late_submissions"]["received"] == 1
    # L decided: the breach is no longer open, once the outbox has run.
    _clock.move_to(pt(5, 11, 10))
    _post(
        api,
        "nurse",
        f"/api/v1/tars/{mixed['L']}/decision",
        {"outcome": "approved", "rationale": "Meets criteria."},
    )
    events_dispatch()
    now = every_figure(aggregates.RECORDS)
    assert now["breaches"]["still_open"] == 0
    assert every_figure(aggregates.AGGREGATES) == now
    aggregates.rebuild()
    assert every_figure(aggregates.AGGREGATES) == now
