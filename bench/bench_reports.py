# ruff: noqa: E501 (the bulk-load SQL reads best a statement clause a line)
"""The UM manager's dashboard, the public metrics page and API, and the yearly CMS-0057-F
figures over 1,000,000 TARs (a year of a large plan; issue 13). Targets: each page under 1 s,
the yearly CMS figures under 2 s, SQL queries per page constant whatever the table size.

Run from anywhere:  .venv/bin/python bench/bench_reports.py [--tars 1000000] [--runs 5]

Each page is measured reading the pre-aggregates (reports.aggregates, what the pages read) and,
for the main pages, from scratch over the records (reports.aggregates.RECORDS) side by side in
the same run. The bulk load bypasses the outbox, so the aggregates are rebuilt after it (timed).

Standalone: uses tar_portal.settings.test and its own PostgreSQL database (DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/tar_reports_bench), which it creates and migrates,
then bulk-loads by SQL (INSERT … SELECT generate_series, seeded random) once: requests with
their clocks, one line each, first decisions, notices with send times, extensions, breaches,
information requests and appeals (later runs reuse them). The pages go through the whole
Django stack in-process as the signed-in manager (second factor passed).

The machine is shared and noisy, so every timing is printed beside a baseline measured in the
same loop — one full `SELECT count(*)` of the requests table — and as a ratio to it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tar_portal.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tar_reports_bench")

PREFIX = "BR-"


def ensure_database(url: str) -> None:
    import psycopg2

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    connection = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    connection.close()


def _people():
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Role, User
    from authorizations.models import OrganizationKind, Provider, ProviderOrganization, Specialty
    from authorizations.validators import npi_check_digit
    from members.models import Member

    orgs = []
    providers = []
    for n, name in enumerate(("Bench North Pain Clinic", "Bench South Spine Center")):
        org, _ = ProviderOrganization.objects.get_or_create(
            name=name, defaults={"kind": OrganizationKind.PAIN_CLINIC}
        )
        orgs.append(org)
        first_nine = f"{710000000 + n:09d}"
        provider, _ = Provider.objects.get_or_create(
            npi=first_nine + npi_check_digit(first_nine),
            defaults={
                "name": f"Dr. Bench {n}",
                "organization": org,
                "specialty": Specialty.PAIN_MEDICINE,
            },
        )
        providers.append(provider)
    submitter, _ = User.objects.get_or_create(
        username="br-provider", defaults={"role": Role.PROVIDER, "organization": orgs[0]}
    )
    reviewers = [
        User.objects.get_or_create(
            username=f"br-{role}{i}",
            # A physician reviewer needs a direct telephone (PRODUCT §7; the model checks it).
            defaults={
                "role": role,
                "direct_phone": "(707) 555-0161" if role == Role.PHYSICIAN else "",
            },
        )[0]
        for role in (Role.NURSE, Role.PHYSICIAN)
        for i in range(4)
    ]
    manager, _ = User.objects.get_or_create(username="br-manager", defaults={"role": Role.MANAGER})
    TOTPDevice.objects.get_or_create(user=manager, name="bench", defaults={"confirmed": True})
    member, _ = Member.objects.get_or_create(
        cin="71000000Z",
        defaults={
            "first_name": "Bench",
            "last_name": "Member",
            "date_of_birth": "1980-01-01",
            "address_line1": "1 Bench Street",
            "city": "Santa Rosa",
            "postal_code": "95401",
        },
    )
    return orgs, providers, submitter, reviewers, manager, member


def load(total: int) -> int:
    """Bulk-load `total` requests over the year before now; returns the year measured."""
    from django.db import connection, transaction
    from django.utils import timezone

    from authorizations.models import Tar

    now = timezone.now()
    year = (now.astimezone(__import__("zoneinfo").ZoneInfo("America/Los_Angeles"))).year
    present = Tar.objects.filter(number__startswith=PREFIX).count()
    if present >= total:
        print(f"{present} bench TARs present")
        return year
    if present:
        raise SystemExit(f"{present} bench TARs present, fewer than {total}: drop the database")
    orgs, providers, submitter, reviewers, _manager, member = _people()
    nurse_ids = [u.pk for u in reviewers if u.role == "nurse"]
    physician_ids = [u.pk for u in reviewers if u.role == "physician"]
    print(f"loading {total} TARs by SQL…", flush=True)
    started = time.perf_counter()
    params = {
        "n": total,
        "now": now,
        "member": member.pk,
        "p0": providers[0].pk,
        "p1": providers[1].pk,
        "o0": orgs[0].pk,
        "o1": orgs[1].pk,
        "submitter": submitter.pk,
        "nurses": nurse_ids,
        "physicians": physician_ids,
        "prefix": PREFIX,
    }
    steps = [
        ("requests", _TARS),
        ("lines", _LINES),
        ("first decisions", _DECISIONS),
        ("notices", _NOTICES),
        ("extensions", _EXTENSIONS),
        ("breaches", _BREACHES),
        ("information requests", _INFOS),
        ("appeals", _APPEALS),
        ("decisions after appeal", _LATER_DECISIONS),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.2026)")
        for label, sql in steps:
            step = time.perf_counter()
            cursor.execute(sql, params)
            print(
                f"  {label}: {cursor.rowcount} rows ({time.perf_counter() - step:.0f} s)",
                flush=True,
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"loaded in {time.perf_counter() - started:.0f} s")
    return year


# One row a request, received evenly over the 365 days before now. r1: urgency and extension,
# r2: request type, r3: outcome, r4: time to decision (about one in ten after the deadline).
_TARS = """
WITH g AS (
  SELECT i, random() r1, random() r2, random() r3, random() r4, random() r5
  FROM generate_series(1, %(n)s) i
), v AS (
  SELECT i, r1, r2, r3, r4, r5,
    %(now)s::timestamptz - interval '365 days' + (i::float8 / %(n)s) * interval '364 days' AS received,
    CASE WHEN r1 < 0.15 THEN 'urgent' ELSE 'routine' END AS urgency,
    CASE WHEN r2 < 0.80 THEN 'pre_service' WHEN r2 < 0.90 THEN 'concurrent' ELSE 'post_service' END AS rtype,
    CASE WHEN r3 < 0.70 THEN 'approved' WHEN r3 < 0.77 THEN 'modified' WHEN r3 < 0.89 THEN 'denied'
         WHEN r3 < 0.98 THEN 'closed' ELSE 'withdrawn' END AS outcome,
    CASE WHEN r3 >= 0.89 AND r3 < 0.92 THEN 'not_eligible' WHEN r3 >= 0.92 AND r3 < 0.93 THEN 'not_a_benefit'
         WHEN r3 >= 0.93 AND r3 < 0.96 THEN 'duplicate' WHEN r3 >= 0.96 AND r3 < 0.98 THEN 'no_authorization_required'
         WHEN r3 >= 0.70 AND r3 < 0.89 THEN 'medical_necessity' ELSE '' END AS reason
  FROM g
), c AS (
  SELECT v.*,
    CASE WHEN rtype = 'post_service' THEN interval '30 days' WHEN urgency = 'urgent' THEN interval '72 hours'
         ELSE interval '5 days' END AS clock_window,
    (urgency = 'routine' AND rtype <> 'post_service' AND r1 BETWEEN 0.5 AND 0.58) AS extended
  FROM v
), d AS (
  SELECT c.*,
    received + clock_window + CASE WHEN extended THEN interval '14 days' ELSE interval '0' END AS due,
    received + (clock_window + CASE WHEN extended THEN interval '14 days' ELSE interval '0' END) * (r4 * 1.1) AS decided
  FROM c
)
INSERT INTO authorizations_tar (
  number, member_id, requesting_provider_id, servicing_provider_id, requesting_organization_id,
  servicing_organization_id, servicing_facility, place_of_service, request_type, urgency,
  urgency_reason, channel, received_at, status, answers, late_submission, late_submission_rule,
  submitted_by_id, effective_received_at, decision_due_at, decision_due_rule,
  original_decision_due_at, extension_count, breached_at, decided_at, decided_by_id, reason_code,
  provider_notice_due_at, provider_notice_rule, member_notice_due_at, created_at, updated_at,
  status_before_pend, member_notice_rule, intake_flags
)
SELECT
  %(prefix)s || lpad(i::text, 8, '0'), %(member)s,
  CASE WHEN i %% 2 = 0 THEN %(p0)s ELSE %(p1)s END, CASE WHEN i %% 2 = 0 THEN %(p0)s ELSE %(p1)s END,
  CASE WHEN i %% 2 = 0 THEN %(o0)s ELSE %(o1)s END, CASE WHEN i %% 2 = 0 THEN %(o0)s ELSE %(o1)s END,
  '', '24', rtype, urgency, CASE WHEN urgency = 'urgent' THEN 'Bench urgent reason.' ELSE '' END,
  'portal', received,
  CASE WHEN decided > %(now)s THEN 'submitted' ELSE outcome END,
  '{}'::jsonb, rtype = 'post_service' AND r5 < 0.2,
  CASE WHEN rtype = 'post_service' AND r5 < 0.2 THEN '15 business days after the date of service' ELSE '' END,
  %(submitter)s, received, due, 'bench', received + clock_window, CASE WHEN extended THEN 1 ELSE 0 END,
  CASE WHEN decided > due THEN due END,
  CASE WHEN decided <= %(now)s AND outcome <> 'withdrawn' THEN decided END,
  CASE WHEN decided <= %(now)s AND outcome <> 'withdrawn' THEN
    CASE WHEN outcome IN ('modified', 'denied') THEN (%(physicians)s::int[])[1 + i %% 4]
         ELSE (%(nurses)s::int[])[1 + i %% 4] END END,
  CASE WHEN decided <= %(now)s THEN reason ELSE '' END,
  CASE WHEN decided <= %(now)s AND outcome <> 'withdrawn' THEN decided + interval '24 hours' END,
  '',
  CASE WHEN decided <= %(now)s AND outcome <> 'withdrawn' THEN decided + interval '48 hours' END,
  received, received, '', '', '[]'::jsonb
FROM d
"""

_FAMILIES = "(ARRAY['esi','facet_mbb','facet_rfa','scs','pump'])[1 + t.id %% 5]"
_LINES = f"""
INSERT INTO authorizations_serviceline (
  tar_id, line_number, code, modifiers, diagnosis_codes, units, spinal_region, service_date_from,
  service_date_to, criteria_set_choice, family, evaluation, recommendation, outcome
)
SELECT t.id, 1, (ARRAY['64483','64493','64635','63650','62324'])[1 + t.id %% 5], '[]'::jsonb,
  '["M54.16"]'::jsonb, 1, 'lumbar', t.received_at::date + 10, t.received_at::date + 40, '',
  {_FAMILIES}, '{{}}'::jsonb, 'meets_criteria',
  CASE WHEN t.status IN ('approved','modified','denied','closed') THEN t.status ELSE 'pending' END
FROM authorizations_tar t WHERE t.number LIKE %(prefix)s || '%%'
"""

_DECISIONS = """
INSERT INTO authorizations_decision (
  tar_id, outcome, reason_code, rationale, criteria_refs, line_outcomes, decided_by_id, automated,
  decided_at
)
SELECT t.id, t.status, t.reason_code, '', '[]'::jsonb,
  jsonb_build_array(jsonb_build_object('line_number', 1, 'outcome', t.status)),
  t.decided_by_id, false, t.decided_at
FROM authorizations_tar t
WHERE t.number LIKE %(prefix)s || '%%' AND t.decided_at IS NOT NULL
"""

_NOTICES = """
INSERT INTO notifications_notice (
  tar_id, kind, audience, event_key, due_at, due_rule, status, created_at, sent_at, sent_on_time,
  delivered_via, attempts, last_error
)
SELECT t.id, CASE t.status WHEN 'approved' THEN 'approval' WHEN 'modified' THEN 'modification'
  WHEN 'denied' THEN 'denial' ELSE 'closure' END, a.audience, 'bench-' || t.id,
  CASE a.audience WHEN 'provider' THEN t.provider_notice_due_at ELSE t.member_notice_due_at END,
  'bench', 'sent', t.decided_at, t.decided_at + s.after,
  t.decided_at + s.after <= CASE a.audience WHEN 'provider' THEN t.provider_notice_due_at
    ELSE t.member_notice_due_at END,
  'portal', 1, ''
FROM authorizations_tar t
CROSS JOIN (VALUES ('provider'), ('member')) a(audience)
CROSS JOIN LATERAL (SELECT random() * interval '30 hours' + (t.id * 0) * interval '1 hour' AS after) s
WHERE t.number LIKE %(prefix)s || '%%' AND t.decided_at IS NOT NULL
"""

_EXTENSIONS = """
INSERT INTO authorizations_extension (tar_id, reason, note, previous_due_at, new_due_at, extended_by_id, extended_at)
SELECT t.id, 'information_not_received', '', t.original_decision_due_at, t.decision_due_at,
  (%(nurses)s::int[])[1], t.received_at + interval '2 days'
FROM authorizations_tar t WHERE t.number LIKE %(prefix)s || '%%' AND t.extension_count > 0
"""

_BREACHES = """
INSERT INTO authorizations_breach (tar_id, due_at, rule, detected_at)
SELECT t.id, t.decision_due_at, 'bench', t.decision_due_at
FROM authorizations_tar t
WHERE t.number LIKE %(prefix)s || '%%' AND t.breached_at IS NOT NULL AND t.breached_at < %(now)s
"""

_INFOS = """
INSERT INTO authorizations_informationrequest (
  tar_id, message, missing_keys, requested_by_id, requested_at, response, responded_by_id, responded_at
)
SELECT t.id, 'Bench request for information.', '[]'::jsonb, (%(nurses)s::int[])[1],
  t.received_at + interval '3 hours', 'Bench answer.', %(submitter)s, t.received_at + interval '27 hours'
FROM authorizations_tar t
WHERE t.number LIKE %(prefix)s || '%%' AND t.id %% 6 = 0
"""

_APPEALS = """
INSERT INTO authorizations_appeal (
  number, tar_id, member_id, decision_id, filer, filed_by_id, member_consent, reason, expedited,
  expedited_reason, received_at, notice_date, filing_deadline_at, late, status, resolution_due_at,
  resolution_due_rule, original_resolution_due_at, outcome, rationale, criteria_refs, decided_by_id,
  resolved_at, created_at, basis, continued_care, downgrade_reason, filing_deadline_rule
)
SELECT 'BRA-' || d.id, d.tar_id, %(member)s, d.id, 'member', %(submitter)s, false, 'Bench appeal.',
  false, '', d.decided_at + interval '5 days', d.decided_at::date, d.decided_at + interval '60 days',
  false, 'resolved', d.decided_at + interval '35 days', 'bench', d.decided_at + interval '35 days',
  CASE WHEN d.id %% 3 = 0 THEN 'overturned' ELSE 'upheld' END, 'Bench.', '[]'::jsonb,
  (%(physicians)s::int[])[1], d.decided_at + interval '20 days', d.decided_at + interval '5 days',
  'decision', false, '', 'bench'
FROM authorizations_decision d JOIN authorizations_tar t ON t.id = d.tar_id
WHERE t.number LIKE %(prefix)s || '%%' AND d.outcome IN ('denied', 'modified') AND d.id %% 4 = 0
  AND d.decided_at + interval '20 days' < %(now)s
"""

_LATER_DECISIONS = """
INSERT INTO authorizations_decision (
  tar_id, outcome, reason_code, rationale, criteria_refs, line_outcomes, decided_by_id, automated,
  decided_at
)
SELECT a.tar_id, 'approved', '', 'Bench overturn.', '[]'::jsonb, '[]'::jsonb, a.decided_by_id, false,
  a.resolved_at
FROM authorizations_appeal a WHERE a.number LIKE 'BRA-%%' AND a.outcome = 'overturned'
"""


def _timed(fn, runs: int, baseline) -> tuple[float, float, int]:
    """(median seconds, median ratio to the baseline measured beside it, queries of one run).
    The first call counts the queries and warms the caches; `runs` timed calls follow."""
    from django.db import connection

    # Counted by an execute wrapper: a request empties Django's query log when it starts (and
    # the test client's request ends by closing the connection), so the log undercounts.
    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        fn()
    times, ratios = [], []
    for _ in range(runs):
        base_started = time.perf_counter()
        baseline()
        base = time.perf_counter() - base_started
        started = time.perf_counter()
        fn()
        took = time.perf_counter() - started
        times.append(took)
        ratios.append(took / base)
    return statistics.median(times), statistics.median(ratios), len(executed)


def rebuild_aggregates(force: bool) -> None:
    """The bulk load wrote decisions without events: rebuild the pre-aggregates once (timed)."""
    from reports.aggregates import rebuild
    from reports.models import DecisionFact

    if DecisionFact.objects.exists() and not force:
        print(f"{DecisionFact.objects.count()} decision facts present")
        return
    started = time.perf_counter()
    facts, daily = rebuild()
    print(
        f"rebuild_report_aggregates: {facts} facts, {daily} daily rows "
        f"in {time.perf_counter() - started:.0f} s"
    )


def measure(year: int, runs: int, before_runs: int, only: str = "") -> None:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.models import User
    from accounts.otp import otp_device_get
    from authorizations.models import Decision, Tar
    from reports import aggregates, charts, figures
    from reports.metrics import prior_authorization_metrics
    from reports.models import DecisionFact
    from reports.periods import default_period

    manager = User.objects.get(username="br-manager")
    client = Client(HTTP_HOST="localhost")
    client.force_login(manager)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = otp_device_get(user=manager).persistent_id
    session.save()

    def baseline() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM authorizations_tar")
            cursor.fetchone()

    def page(url: str):
        def get() -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return get

    def cold(fn):
        def run() -> None:
            for cached in (charts._trend, charts._bars, charts._stacked):
                cached.cache_clear()
            fn()

        return run

    period = default_period()
    now = timezone.now()
    parts = {
        "headline (agg., today's notices live)": lambda: figures.headline(now=now),
        "weekly trend (agg.)": lambda: figures.weekly_trend(period),
        "open inventory (live, partial index)": lambda: figures.inventory(now=now),
        "outcomes (agg.)": lambda: figures.outcomes(period),
        "breaches (agg.; escalations, extensions live)": lambda: figures.breaches(period),
        "appeals (resolved agg., filed/IMR live)": lambda: figures.appeals(period),
        "late submissions (agg.)": lambda: figures.late_submissions(period),
        "pends (agg.)": lambda: figures.pends(period),
        "workload (agg. + open live)": lambda: figures.workload(period),
    }

    def dashboard_sql() -> None:
        for part in parts.values():
            part()

    # One outbox batch (500 requests): the consumer's cost at scale. A real batch is the
    # latest decisions (a day or two to recompute); 500 at random across the year (about 300
    # days) is the worst case.
    latest = list(
        DecisionFact.objects.order_by("-decided_at").values_list("tar_id", flat=True)[:500]
    )
    scattered = list(DecisionFact.objects.order_by("?").values_list("tar_id", flat=True)[:500])

    # (label, fn, target seconds, measured from scratch too)
    cases = [
        ("dashboard figures, SQL only (YTD)", dashboard_sql, 1.0, True),
        ("dashboard page, charts drawn (YTD)", cold(page("/reports/")), 1.0, False),
        ("dashboard page, charts cached (YTD)", page("/reports/"), 1.0, True),
        (
            "dashboard (last 30 days)",
            page(f"/reports/?from={_days_ago(30)}&to={_days_ago(0)}"),
            1.0,
            False,
        ),
        ("public page", page(f"/transparency/prior-authorization/?year={year}"), 1.0, False),
        (
            "public API JSON",
            page(f"/api/v1/reports/prior-authorization-metrics?year={year}"),
            1.0,
            True,
        ),
        ("CMS figures, full year (function)", lambda: prior_authorization_metrics(year), 2.0, True),
        (
            "CMS figures, year before (function)",
            lambda: prior_authorization_metrics(year - 1),
            2.0,
            False,
        ),
        ("timeliness report page", page("/reports/timeliness/"), 1.0, True),
        ("outbox refresh, 500 latest decisions", lambda: aggregates.refresh(latest), None, False),
        ("outbox refresh, 500 across the year", lambda: aggregates.refresh(scattered), None, False),
    ]
    print(f"TARs: {Tar.objects.count()}; decisions: {Decision.objects.count()}; year {year}")
    base_started = time.perf_counter()
    baseline()
    print(
        f"baseline (count(*) of the requests): {1000 * (time.perf_counter() - base_started):.0f} ms"
    )
    print(
        f"{'what':40} {'scratch ms':>10} {'q':>4} {'agg. ms':>9} {'q':>4} "
        f"{'× baseline':>10} {'speed-up':>8}  target"
    )
    for label, fn, target, before in cases:
        if only and only not in label:
            continue
        scratch, scratch_q = "-", "-"
        speedup = ""
        if before:
            aggregates.DEFAULT_SOURCE = aggregates.RECORDS
            try:
                took_before, _, queries_before = _timed(fn, before_runs, baseline)
            finally:
                aggregates.DEFAULT_SOURCE = aggregates.AGGREGATES
            scratch, scratch_q = f"{took_before * 1000:.0f}", str(queries_before)
        took, ratio, queries = _timed(fn, runs, baseline)
        if before:
            speedup = f"{took_before / took:.0f}×"
        verdict = "" if target is None else ("ok" if took < target else "OVER")
        goal = "" if target is None else f"< {target:.0f} s {verdict}"
        print(
            f"{label:40} {scratch:>10} {scratch_q:>4} {took * 1000:9.0f} {queries:4d} "
            f"{ratio:10.1f} {speedup:>8}  {goal}",
            flush=True,
        )
    if not only:
        print("dashboard figures, one by one (pre-aggregates; one run each):")
        for label, fn in parts.items():
            took, ratio, queries = _timed(fn, 1, baseline)
            print(f"  {label:44} {took * 1000:7.0f} ms {queries:3d} q {ratio:8.1f} × baseline")


def _days_ago(days: int) -> str:
    from datetime import timedelta

    from reports.periods import pacific_today

    return (pacific_today() - timedelta(days=days)).isoformat()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tars", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--before-runs",
        type=int,
        default=1,
        help="timed runs of the from-scratch SQL (slow at 1M: a minute a dashboard)",
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the aggregates again")
    parser.add_argument("--only", default="", help="measure only the cases whose name has this")
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    year = load(args.tars)
    rebuild_aggregates(args.rebuild)
    measure(year, args.runs, args.before_runs, args.only)


if __name__ == "__main__":
    main()
