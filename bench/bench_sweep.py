"""Deadline sweep over 1,000,000 open TARs in PostgreSQL with 1,000 falling due.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tar_portal_bench_sweep \
        .venv/bin/python bench/bench_sweep.py [--tars 1000000] [--due 1000] [--runs 3]

Loads the TARs once with INSERT … SELECT generate_series (reused on later runs), then times
`deadline_sweep` (alerts + breaches + overdue notices) several times, resetting the breaches
between runs, and prints the SQL the sweep ran and the plan of its candidate queries. The
breach follow-up (untimely notices, escalation e-mail) runs in a Celery task after commit; it
is timed separately.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tar_portal.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tar_portal_bench_sweep")
# The sweep's after-commit nudge only queues the outbox task: the follow-up is timed apart.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/1")


def ensure_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tars", type=int, default=20_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from authorizations import deadlines
    from authorizations.models import Tar

    call_command("migrate", verbosity=0)
    now = timezone.now()
    if Tar.objects.count() != args.tars:
        load(args.tars, now)
    with connection.cursor() as cursor:
        # Fresh state: the first `due` TARs fall due in the last minutes, the rest later than
        # the 24-hour alert horizon (so the sweep has exactly `due` items to handle).
        cursor.execute(
            "TRUNCATE authorizations_escalation, authorizations_breach, "
            "authorizations_deadlinealert, authorizations_historyentry"
        )
        cursor.execute(
            "UPDATE authorizations_tar SET breached_at = NULL, decision_due_at = %s "
            "WHERE id IN (SELECT id FROM authorizations_tar ORDER BY id LIMIT %s)",
            [now - timedelta(minutes=5), args.due],
        )
        cursor.execute("ANALYZE")

    # Letter rendering and delivery run in their own tasks (measured by bench_letters.py);
    # here the follow-up (the event outbox's consumers of the breach events) only records the
    # notices owed and sends the escalation.
    from notifications import services as notice_services

    notice_services._queue_delivery = lambda notice_ids: None

    timings = []
    captured = None
    for run in range(args.runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = deadlines.deadline_sweep(now=now, alert_hours=[24, 4])
            timings.append(time.perf_counter() - started)
        assert result.breaches == args.due, result
        if run == 0:
            captured = list(queries.captured_queries)
        if run == args.runs - 1:
            break  # keep the last run's breaches for the follow-up below
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE authorizations_escalation, authorizations_breach, "
                "authorizations_historyentry, authorizations_domainevent CASCADE"
            )
            cursor.execute(
                "UPDATE authorizations_tar SET breached_at = NULL WHERE breached_at IS NOT NULL"
            )
    print(f"open TARs: {Tar.objects.count():,}; falling due: {args.due:,}")
    print(
        f"sweep: median {statistics.median(timings) * 1000:.0f} ms, "
        f"min {min(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms over {args.runs} runs"
    )
    from authorizations.workflow import outbox

    with CaptureQueriesContext(connection) as followup_queries:
        started = time.perf_counter()
        consumed = outbox.events_dispatch(now=now)
        followup_seconds = time.perf_counter() - started
    sweep = statistics.median(timings)
    print(
        f"breach follow-up (outbox: untimely notices + escalation) for {consumed:,} events: "
        f"{followup_seconds * 1000:.0f} ms in {len(followup_queries)} statements "
        f"(target < 2000 ms for 1,000); ratio to the sweep itself: "
        f"{followup_seconds / sweep:.1f}x (was 48x)"
    )

    print(f"\nSQL of the follow-up ({len(followup_queries)} statements):")
    for query in followup_queries.captured_queries:
        print(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:150]}")
    print(f"\nSQL of one sweep ({len(captured)} statements):")
    for query in captured:
        text = query["sql"]
        if len(text) > 300:
            text = text[:300] + f"… [{len(query['sql']):,} chars]"
        print(f"  {float(query['time']) * 1000:7.1f} ms  {text}")
    print("\nPlan of the breach candidate query:")
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN ANALYZE SELECT id FROM authorizations_tar WHERE breached_at IS NULL AND "
            "status IN ('submitted','in_review','pended','referred') AND decision_due_at <= %s "
            "ORDER BY decision_due_at, id LIMIT 1000 FOR UPDATE SKIP LOCKED",
            [now],
        )
        for (line,) in cursor.fetchall():
            print("  " + line)


def load(count: int, now) -> None:
    from django.db import connection

    from accounts.models import Role, User
    from authorizations.models import NumberSequence, Tar
    from tests.factories import MemberFactory, OrganizationFactory, ProviderFactory

    print(f"loading {count:,} open TARs …", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # A dedicated bench database: start from empty people and requests.
        cursor.execute(
            "TRUNCATE authorizations_tar, authorizations_providerorganization, members_member, "
            "accounts_user CASCADE"
        )
    NumberSequence.objects.all().delete()
    org = OrganizationFactory()
    provider = ProviderFactory(organization=org)
    members = [MemberFactory() for _ in range(50)]
    user = User.objects.create(
        username=f"bench-{time.time_ns()}", role=Role.PROVIDER, organization=org
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO authorizations_tar (
                number, member_id, requesting_provider_id, servicing_provider_id,
                requesting_organization_id, servicing_organization_id, servicing_facility,
                place_of_service, request_type, urgency, urgency_reason, channel, received_at,
                status, answers, late_submission, late_submission_rule, submitted_by_id,
                status_before_pend, effective_received_at, decision_due_at, decision_due_rule,
                original_decision_due_at, extension_count, reason_code, provider_notice_rule,
                member_notice_rule, intake_flags, created_at, updated_at)
            SELECT
                'TAR-BENCH-' || lpad(g::text, 7, '0'),
                (ARRAY[{",".join(str(m.pk) for m in members)}])[1 + g %% 50],
                %(p)s, %(p)s, %(o)s, %(o)s, '', '24', 'pre_service', 'routine', '', 'api',
                %(now)s - interval '1 day',
                (ARRAY['submitted','in_review','pended','referred'])[1 + g %% 4],
                '{{}}'::jsonb, false, '', %(u)s, '', %(now)s - interval '1 day',
                %(now)s + interval '25 hours' + (g %% 43200) * interval '1 minute',
                'routine_7_calendar_days',
                %(now)s + interval '25 hours' + (g %% 43200) * interval '1 minute',
                0, '', '', '', '[]'::jsonb, %(now)s, %(now)s
            FROM generate_series(1, %(count)s) AS g
            """,
            {"p": provider.pk, "o": org.pk, "u": user.pk, "now": now, "count": count},
        )
        cursor.execute("ANALYZE authorizations_tar")
    print(f"loaded in {time.perf_counter() - started:.1f} s", flush=True)
    assert Tar.objects.count() == count


if __name__ == "__main__":
    main()
