"""Pre-aggregates of the decision figures (issue 13): the dashboard and the CMS-0057-F metrics
read these instead of scanning every decision, so a year of a large plan (1,000,000 requests)
answers in well under a second.

Three tables (reports.models):
- `DecisionFact`: one row per request with a first decision — its type, urgency,
  organization, reviewer, outcome and reason, on-time and extended flags, and the exact
  received-to-decision time in microseconds (the CMS median reads these, in index order, so it
  is the exact median of PRODUCT §10, not an estimate from buckets).
- `DailyDecisions`: the facts of each Pacific day summed by three grains (request type ×
  urgency × organization; procedure family; reviewer).
- `DailyAppeals`: appeals resolved on each Pacific day, by request type and urgency.
- `DailyNotices`: notices with a clock of their own due on each Pacific day, by request type,
  urgency and audience: due, sent on time, sent late, not sent yet. The events that create
  notices (notifications.policy POLICY) and `notice.sent` (written where a notice is marked
  sent) recompute the due days of the request's notices. The consumer waits for the notices
  consumer on an event that owes notices (it raises, so the outbox retries it), so a day is
  never summed without the notices that event creates.

- `RequestFact`: one row per request — its receipt day, type, late-submission flag and rule,
  number of information requests, and its breach (day, urgent, still open) — with
  `DailyReceived` (by receipt day) and `DailyBreaches` (by the missed deadline's day) summed
  from it, and `DailyInformationRequests` (by the day information was asked for) summed from
  the information requests themselves. A request's status moves on any of its events (a
  breach stays "still open" until one closes it), so the consumer takes every event.

All are recomputed from the workflow's own rows, never incremented: the outbox consumer takes
the requests of a batch of decision events, rewrites their facts from the decisions and the
request, and recomputes every day those facts were or are now on. A re-delivered event
recomputes the same rows to the same values, so nothing is counted twice. One advisory lock
serialises the recomputations, so two overlapping dispatch runs cannot each sum a day without
the other's fact. Bulk loads bypass the outbox: `manage.py rebuild_report_aggregates` rebuilds
both tables from scratch (seed_report_history and the benchmark call it).

The conditions below are the SQL of reports.metrics and reports.figures (PRODUCT §10), written
once here for the INSERT … SELECT; tests/reports/test_aggregates.py proves the figures agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import connection, transaction

from appeals.models import AppealOutcome, AppealStatus
from authorizations.models import (
    OPEN_STATUSES,
    DomainEvent,
    EventConsumption,
    EventKind,
    LineOutcome,
    ReasonCode,
    RequestType,
    Urgency,
)
from notifications.models import NoticeKind
from notifications.policy import POLICY

# The events after which a request's first decision may be new (every event that writes a
# Decision). Later decisions do not change the first one, but recomputing is harmless.
DECISION_EVENTS = (
    EventKind.TAR_DECIDED,
    EventKind.TAR_REDECIDED,
    EventKind.TAR_DEEMED_DENIED,
    EventKind.TAR_SERVICES_REDUCED,
    EventKind.APPEAL_RESOLVED,
    EventKind.IMR_DECIDED,
)
# The events after which a request's notices may be new (they owe notices) or sent.
NOTICE_EVENTS = (*POLICY, EventKind.NOTICE_SENT)
# Every kind (None): any event of a request may change what its request fact says.
CONSUMER_KINDS = None
CONSUMER = "report_aggregates"
# notifications.apps: the consumer that creates the notices an event owes.
NOTICES_CONSUMER = "notices"
# Notices that have a clock of their own (PRODUCT §4, §7); a criteria copy's is H&S 1363.5's.
CLOCKED_NOTICE_KINDS = tuple(k for k in NoticeKind.values if k != NoticeKind.CRITERIA_COPY)
# pg_advisory_xact_lock key: "reports" in ASCII digits; any constant unique in the project.
LOCK_KEY = 7_265_112_116

_O, _R = LineOutcome, ReasonCode
_PRIOR_AUTHORIZATION = f"('{RequestType.PRE_SERVICE}', '{RequestType.CONCURRENT}')"
_DENYING_CLOSURE = (
    f"(d.outcome = '{_O.CLOSED}' AND d.reason_code IN ('{_R.NOT_ELIGIBLE}', '{_R.NOT_A_BENEFIT}'))"
)
# reports.metrics DETERMINATION_Q, on the decision row.
_DETERMINATION = (
    f"(d.outcome IN ('{_O.APPROVED}', '{_O.MODIFIED}', '{_O.DENIED}') OR {_DENYING_CLOSURE})"
)

# The fact of each request's first decision (reports.metrics.first_decisions: the earliest
# decided_at, then the lowest id), with the request's dimensions.
# The SQL is built from the enums above only (never from input), at import.
_FACTS_SELECT = f"""
SELECT DISTINCT ON (d.tar_id)
  d.tar_id, d.decided_at,
  (d.decided_at AT TIME ZONE 'America/Los_Angeles')::date,
  extract(year FROM d.decided_at AT TIME ZONE 'America/Los_Angeles')::smallint,
  t.request_type, t.urgency, t.requesting_organization_id, d.decided_by_id,
  d.outcome, d.reason_code, d.automated,
  d.decided_at <= t.decision_due_at,
  t.extension_count > 0,
  t.request_type IN {_PRIOR_AUTHORIZATION} AND {_DETERMINATION},
  (extract(epoch FROM d.decided_at - t.received_at) * 1000000)::bigint
FROM authorizations_decision d JOIN authorizations_tar t ON t.id = d.tar_id
"""  # noqa: S608
_FACTS_INSERT = """
INSERT INTO reports_decisionfact (
  tar_id, decided_at, day, year, request_type, urgency, organization_id, reviewer_id,
  outcome, reason_code, automated, on_time, extended, cms_determination, decision_microseconds
)
"""
_FACTS_ORDER = " ORDER BY d.tar_id, d.decided_at, d.id"

# The counted columns of DailyDecisions: (column, condition on the fact row f). Their
# conditions are reports.figures OUTCOME_COLUMNS, ADVERSE_Q, DECIDED_ON_TIME and the
# timeliness `extended`, and reports.metrics APPROVED_Q / DENIED_Q / DETERMINATION_Q.
_F_DENYING_CLOSURE = _DENYING_CLOSURE.replace("d.", "f.")
_F_DETERMINATION = _DETERMINATION.replace("d.", "f.")
COUNTS: tuple[tuple[str, str], ...] = (
    ("decided", "TRUE"),
    ("on_time", "f.on_time"),
    ("extended", "f.extended"),
    ("determined", _F_DETERMINATION),
    ("extended_approved", f"f.extended AND f.outcome = '{_O.APPROVED}'"),
    ("approved", f"f.outcome = '{_O.APPROVED}'"),
    ("auto_approved", f"f.outcome = '{_O.APPROVED}' AND f.automated"),
    ("modified", f"f.outcome = '{_O.MODIFIED}'"),
    ("denied_medical", f"f.outcome = '{_O.DENIED}' AND f.reason_code = '{_R.MEDICAL_NECESSITY}'"),
    ("denied_other", f"f.outcome = '{_O.DENIED}' AND f.reason_code <> '{_R.MEDICAL_NECESSITY}'"),
    ("not_eligible", f"f.outcome = '{_O.CLOSED}' AND f.reason_code = '{_R.NOT_ELIGIBLE}'"),
    ("not_a_benefit", f"f.outcome = '{_O.CLOSED}' AND f.reason_code = '{_R.NOT_A_BENEFIT}'"),
    ("duplicate", f"f.outcome = '{_O.CLOSED}' AND f.reason_code = '{_R.DUPLICATE}'"),
    (
        "no_auth",
        f"f.outcome = '{_O.CLOSED}' AND f.reason_code = '{_R.NO_AUTHORIZATION_REQUIRED}'",
    ),
    ("adverse", f"f.outcome IN ('{_O.DENIED}', '{_O.MODIFIED}') OR {_F_DENYING_CLOSURE}"),
)
COUNT_COLUMNS = tuple(name for name, _ in COUNTS)


def _counts(distinct: bool) -> str:
    """The count columns: per fact, or per distinct request (the family grain joins lines)."""
    what = "DISTINCT f.tar_id" if distinct else "*"
    counted = [f"count({what}) FILTER (WHERE {condition})" for _, condition in COUNTS]
    # The summed time of the determinations: a request's own fact, once (the family grain
    # is never summed over time, so it is 0 there).
    time = (
        "0"
        if distinct
        else f"coalesce(sum(f.decision_microseconds) FILTER (WHERE {_F_DETERMINATION}), 0)"
    )
    return ", ".join([*counted, time])


# Built from the constants above only, at import.
_DAILY_INSERT = f"""
INSERT INTO reports_dailydecisions (
  day, grain, request_type, urgency, organization_id, family, reviewer_id,
  {", ".join(COUNT_COLUMNS)}, determined_microseconds
)
SELECT f.day, 'kind', f.request_type, f.urgency, f.organization_id, NULL::varchar, NULL::bigint,
  {_counts(False)}
FROM reports_decisionfact f {{where}}
GROUP BY f.day, f.request_type, f.urgency, f.organization_id
UNION ALL
SELECT f.day, 'family', '', '', NULL::bigint, l.family, NULL::bigint, {_counts(True)}
FROM reports_decisionfact f LEFT JOIN authorizations_serviceline l ON l.tar_id = f.tar_id {{where}}
GROUP BY f.day, l.family
UNION ALL
SELECT f.day, 'reviewer', '', '', NULL::bigint, NULL::varchar, f.reviewer_id, {_counts(False)}
FROM reports_decisionfact f {{where}}
GROUP BY f.day, f.reviewer_id
"""  # noqa: S608


# Appeals resolved, by Pacific day of resolution (reports.figures.appeals, reports.metrics
# standard_appeals_resolved). A resolved appeal stays resolved, so its day never moves.
_APPEAL_DAY = "(a.resolved_at AT TIME ZONE 'America/Los_Angeles')::date"
_OVERTURNED = f"('{AppealOutcome.OVERTURNED}', '{AppealOutcome.PARTIALLY_OVERTURNED}')"
_APPEALS_INSERT = f"""
INSERT INTO reports_dailyappeals (
  day, request_type, urgency, resolved, overturned, upheld, on_time
)
SELECT {_APPEAL_DAY}, t.request_type, t.urgency, count(*),
  count(*) FILTER (WHERE a.outcome IN {_OVERTURNED}),
  count(*) FILTER (WHERE a.outcome = '{AppealOutcome.UPHELD}'),
  count(*) FILTER (WHERE a.resolved_at <= a.resolution_due_at)
FROM authorizations_appeal a JOIN authorizations_tar t ON t.id = a.tar_id
WHERE a.status = '{AppealStatus.RESOLVED}' AND a.resolved_at IS NOT NULL {{where}}
GROUP BY 1, t.request_type, t.urgency
"""  # noqa: S608


# Clocked notices due on a Pacific day (reports.figures timeliness, headline, weekly_trend).
_NOTICE_DAY = "(n.due_at AT TIME ZONE 'America/Los_Angeles')::date"
_NOTICES_INSERT = f"""
INSERT INTO reports_dailynotices (
  day, request_type, urgency, audience, due, on_time, late, unsent
)
SELECT {_NOTICE_DAY}, t.request_type, t.urgency, n.audience, count(*),
  count(*) FILTER (WHERE n.sent_on_time),
  count(*) FILTER (WHERE NOT n.sent_on_time),
  count(*) FILTER (WHERE n.sent_at IS NULL)
FROM notifications_notice n JOIN authorizations_tar t ON t.id = n.tar_id
WHERE n.kind = ANY(%s) {{where}}
GROUP BY 1, t.request_type, t.urgency, n.audience
"""  # noqa: S608
# The days' span as a due_at range first (the notice_due_idx index), then the days themselves.
_NOTICE_DAYS_WHERE = (
    "AND n.due_at >= (%s::date::timestamp AT TIME ZONE 'America/Los_Angeles') "
    "AND n.due_at < ((%s::date + 1)::timestamp AT TIME ZONE 'America/Los_Angeles') "
    f"AND {_NOTICE_DAY} = ANY(%s)"
)


def _refresh_notice_days(cursor, ids: list[int]) -> int:
    """Recompute the due days of these requests' clocked notices. A notice's due time never
    moves once it is owed, so its day is the same before and after."""
    kinds = list(CLOCKED_NOTICE_KINDS)
    cursor.execute(
        f"SELECT DISTINCT {_NOTICE_DAY} FROM notifications_notice n "  # noqa: S608
        "WHERE n.tar_id = ANY(%s) AND n.kind = ANY(%s)",
        [ids, kinds],
    )
    days = sorted(row[0] for row in cursor.fetchall())
    if not days:
        return 0
    cursor.execute("DELETE FROM reports_dailynotices WHERE day = ANY(%s)", [days])
    cursor.execute(
        _NOTICES_INSERT.format(where=_NOTICE_DAYS_WHERE), [kinds, days[0], days[-1], days]
    )
    return len(days)


# The request facts (reports.figures late_submissions, pends, breaches).
_PACIFIC = "'America/Los_Angeles'"
_OPEN = "(" + ", ".join(f"'{status}'" for status in OPEN_STATUSES) + ")"
_REQUEST_FACTS_INSERT = f"""
INSERT INTO reports_requestfact (
  tar_id, received_day, request_type, late_submission, late_submission_rule,
  information_requests, breach_day, breach_urgent, breach_open
)
SELECT t.id, (t.received_at AT TIME ZONE {_PACIFIC})::date, t.request_type,
  t.late_submission, t.late_submission_rule,
  (SELECT count(*) FROM authorizations_informationrequest i WHERE i.tar_id = t.id),
  (b.due_at AT TIME ZONE {_PACIFIC})::date,
  b.id IS NOT NULL AND t.urgency = '{Urgency.URGENT}',
  b.id IS NOT NULL AND t.status IN {_OPEN}
FROM authorizations_tar t LEFT JOIN authorizations_breach b ON b.tar_id = t.id {{where}}
"""  # noqa: S608
_RECEIVED_INSERT = """
INSERT INTO reports_dailyreceived (
  day, request_type, late_submission, late_submission_rule, received, pended, received_rows
)
SELECT f.received_day, f.request_type, f.late_submission, f.late_submission_rule, count(*),
  count(*) FILTER (WHERE f.information_requests > 0),
  sum(greatest(f.information_requests, 1))
FROM reports_requestfact f {where}
GROUP BY 1, 2, 3, 4
"""
_BREACHES_INSERT = """
INSERT INTO reports_dailybreaches (day, breached, urgent, still_open)
SELECT f.breach_day, count(*), count(*) FILTER (WHERE f.breach_urgent),
  count(*) FILTER (WHERE f.breach_open)
FROM reports_requestfact f WHERE f.breach_day IS NOT NULL {where}
GROUP BY 1
"""
_ASKED_DAY = f"(i.requested_at AT TIME ZONE {_PACIFIC})::date"
_ASKED_INSERT = f"""
INSERT INTO reports_dailyinformationrequests (day, requests, answered, answer_total)
SELECT {_ASKED_DAY}, count(*), count(*) FILTER (WHERE i.responded_at IS NOT NULL),
  sum(i.responded_at - i.requested_at) FILTER (WHERE i.responded_at IS NOT NULL)
FROM authorizations_informationrequest i WHERE TRUE {{where}}
GROUP BY 1
"""  # noqa: S608
_ASKED_DAYS_WHERE = (
    f"AND i.requested_at >= (%s::date::timestamp AT TIME ZONE {_PACIFIC}) "
    f"AND i.requested_at < ((%s::date + 1)::timestamp AT TIME ZONE {_PACIFIC}) "
    f"AND {_ASKED_DAY} = ANY(%s)"
)


def _refresh_requests(cursor, ids: list[int]) -> int:
    """Rewrite these requests' facts and recompute the receipt, breach and information-request
    days they were or are now on. Returns the number of days recomputed."""
    cursor.execute(
        "DELETE FROM reports_requestfact WHERE tar_id = ANY(%s) RETURNING received_day, breach_day",
        [ids],
    )
    before = cursor.fetchall()
    cursor.execute(
        _REQUEST_FACTS_INSERT.format(where="WHERE t.id = ANY(%s)")
        + " RETURNING received_day, breach_day",
        [ids],
    )
    rows = before + cursor.fetchall()
    received = sorted({row[0] for row in rows})
    breached = sorted({row[1] for row in rows if row[1] is not None})
    if received:
        cursor.execute("DELETE FROM reports_dailyreceived WHERE day = ANY(%s)", [received])
        cursor.execute(_RECEIVED_INSERT.format(where="WHERE f.received_day = ANY(%s)"), [received])
    if breached:
        cursor.execute("DELETE FROM reports_dailybreaches WHERE day = ANY(%s)", [breached])
        cursor.execute(_BREACHES_INSERT.format(where="AND f.breach_day = ANY(%s)"), [breached])
    cursor.execute(
        f"SELECT DISTINCT {_ASKED_DAY} FROM authorizations_informationrequest i "  # noqa: S608
        "WHERE i.tar_id = ANY(%s)",
        [ids],
    )
    asked = sorted(row[0] for row in cursor.fetchall())
    if asked:
        cursor.execute("DELETE FROM reports_dailyinformationrequests WHERE day = ANY(%s)", [asked])
        cursor.execute(_ASKED_INSERT.format(where=_ASKED_DAYS_WHERE), [asked[0], asked[-1], asked])
    return len(received) + len(breached) + len(asked)


def _lock(cursor) -> None:
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def maintained() -> bool:
    """The pre-aggregates are PostgreSQL SQL (time zones, ANY, RETURNING, advisory locks) and
    exist for a plan's scale. The demo's embedded SQLite (`make run` without DATABASE_URL)
    keeps none: its figures are read from the records, where they are small."""
    return connection.vendor == "postgresql"


def refresh(tar_ids: Iterable[int]) -> int:
    """Rewrite the facts of these requests from their own rows and recompute every day they
    were or now are on, and the appeal days of their resolved appeals. Idempotent. At most
    nineteen statements whatever the number of requests; returns
    the number of days recomputed (decision, notice, receipt, breach and pend days)."""
    ids = sorted({int(pk) for pk in tar_ids})
    if not ids or not maintained():
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(
            f"SELECT DISTINCT {_APPEAL_DAY} FROM authorizations_appeal a "  # noqa: S608
            "WHERE a.tar_id = ANY(%s) AND a.status = %s AND a.resolved_at IS NOT NULL",
            [ids, AppealStatus.RESOLVED],
        )
        appeal_days = sorted(row[0] for row in cursor.fetchall())
        other_days = _refresh_notice_days(cursor, ids) + _refresh_requests(cursor, ids)
        if appeal_days:
            cursor.execute("DELETE FROM reports_dailyappeals WHERE day = ANY(%s)", [appeal_days])
            cursor.execute(
                _APPEALS_INSERT.format(where=f"AND {_APPEAL_DAY} = ANY(%s)"), [appeal_days]
            )
        cursor.execute(
            "DELETE FROM reports_decisionfact WHERE tar_id = ANY(%s) RETURNING day", [ids]
        )
        days: set[date] = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            _FACTS_INSERT
            + _FACTS_SELECT
            + " WHERE d.tar_id = ANY(%s)"
            + _FACTS_ORDER
            + " RETURNING day",
            [ids],
        )
        days |= {row[0] for row in cursor.fetchall()}
        if not days:
            return other_days
        day_list = sorted(days)
        cursor.execute("DELETE FROM reports_dailydecisions WHERE day = ANY(%s)", [day_list])
        cursor.execute(
            _DAILY_INSERT.format(where="WHERE f.day = ANY(%s)"), [day_list, day_list, day_list]
        )
    return len(days) + other_days


def rebuild() -> tuple[int, int]:
    """Both tables from scratch, from every decision on record (after a bulk load, which
    bypasses the outbox). Returns (facts, daily rows)."""
    if not maintained():
        return 0, 0
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(
            "TRUNCATE reports_decisionfact, reports_dailydecisions, reports_dailyappeals, "
            "reports_dailynotices, reports_requestfact, reports_dailyreceived, "
            "reports_dailybreaches, reports_dailyinformationrequests"
        )
        cursor.execute(_FACTS_INSERT + _FACTS_SELECT + _FACTS_ORDER)
        facts = cursor.rowcount
        cursor.execute(_DAILY_INSERT.format(where=""))
        daily = cursor.rowcount
        cursor.execute(_APPEALS_INSERT.format(where=""))
        cursor.execute(_NOTICES_INSERT.format(where=""), [list(CLOCKED_NOTICE_KINDS)])
        cursor.execute(_REQUEST_FACTS_INSERT.format(where=""))
        cursor.execute(_RECEIVED_INSERT.format(where=""))
        cursor.execute(_BREACHES_INSERT.format(where=""))
        cursor.execute(_ASKED_INSERT.format(where=""))
    if not connection.in_atomic_block:
        # Fresh statistics and visibility map: the medians' index-only scan needs both.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE reports_decisionfact")
            cursor.execute("VACUUM ANALYZE reports_dailydecisions")
            cursor.execute("VACUUM ANALYZE reports_dailyappeals")
            for table in (
                "dailynotices",
                "requestfact",
                "dailyreceived",
                "dailybreaches",
                "dailyinformationrequests",
            ):
                cursor.execute(f"VACUUM ANALYZE reports_{table}")
    return facts, daily


class NoticesNotYetCreated(Exception):
    """An event owes notices the notices consumer has not created yet: the outbox retries
    the event (with backoff) instead of summing the day without them."""


def _wait_for_notices(events: list[DomainEvent]) -> None:
    owing = {event.pk for event in events if event.kind in POLICY and event.tar_id is not None}
    if not owing:
        return
    created = set(
        EventConsumption.objects.filter(event_id__in=owing, consumer=NOTICES_CONSUMER).values_list(
            "event_id", flat=True
        )
    )
    if owing - created:
        raise NoticesNotYetCreated(f"{len(owing - created)} events")


def aggregates_for_events(events: list[DomainEvent]) -> None:
    """The outbox's batch consumer: the requests of the batch, refreshed in one go."""
    if not maintained():
        return
    _wait_for_notices(events)
    refresh(event.tar_id for event in events if event.tar_id is not None)


def aggregates_for_event(event: DomainEvent) -> None:
    """The outbox's one-at-a-time fallback."""
    aggregates_for_events([event])


# --- which source the figures read -------------------------------------------------------------

RECORDS = "records"  # from scratch: SQL aggregates over the decisions (the definitions)
AGGREGATES = "aggregates"  # the pre-aggregates above (what the pages read)
# What a figure reads when its caller names no source. Only the benchmark and the agreement
# tests change it, to time and check the from-scratch SQL through the same pages.
DEFAULT_SOURCE = AGGREGATES


def source_of(source: str | None) -> str:
    chosen = source or (DEFAULT_SOURCE if maintained() else RECORDS)
    if chosen not in (RECORDS, AGGREGATES):
        raise ValueError(f"unknown figure source {chosen!r}")
    return chosen
