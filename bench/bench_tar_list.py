"""GET /api/v1/tars/ (first page) over 100,000 TARs in PostgreSQL, as a nurse and a provider.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tar_portal_bench \
        .venv/bin/python bench/bench_tar_list.py [--tars 100000] [--requests 50]

Creates the database if it is missing and migrates it, then loads the TARs once with
`bulk_create` (one service line each; three provider organizations, 5,000 members, every
status, decision deadlines spread over ±30 days). A later run reuses them. It then measures
the list through the whole Django stack (`django.test.Client`, session login): p50/p95 over
`--requests` requests per persona after a warm-up, and the SQL queries per request for page
sizes 10, 25 and 100, which must not grow with the page (no N+1). It ends with the plan of the
provider's list query. Exit status 1 if the query count grows with the page size.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tar_portal.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tar_portal_bench")

PREFIX = "BENCH-"  # TAR numbers of the loaded rows: TAR-… numbers stay free for real ones
BATCH = 5_000
MEMBERS = 5_000
PAGE_SIZES = (10, 25, 100)
# (organization, share of the requests it makes); 10 % are serviced by another organization.
ORGS = (("Bench Redwood Pain", 0.5), ("Bench Coastal Spine", 0.3), ("Bench Valley Pain", 0.2))
STATUS_WEIGHTS = {
    "submitted": 30,
    "in_review": 15,
    "pended": 8,
    "referred": 7,
    "approved": 20,
    "modified": 4,
    "denied": 6,
    "closed": 5,
    "withdrawn": 5,
}
DECIDED = {"approved", "modified", "denied", "closed"}


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
            print(f"created database {name}")
    admin.close()


def setup_people():
    """Organizations, providers, members and the two logins; idempotent."""
    from accounts.models import Role, User
    from authorizations.models import OrganizationKind, Provider, ProviderOrganization, Specialty
    from authorizations.validators import npi_check_digit
    from members.models import Member

    orgs, providers = [], []
    for index, (name, _) in enumerate(ORGS):
        org, _ = ProviderOrganization.objects.get_or_create(
            name=name, defaults={"kind": OrganizationKind.PAIN_CLINIC}
        )
        orgs.append(org)
        first_nine = f"9{index:02d}000000"
        npi = first_nine + npi_check_digit(first_nine)
        provider, _ = Provider.objects.get_or_create(
            npi=npi,
            defaults={
                "name": f"Dr. Bench {index}",
                "organization": org,
                "specialty": Specialty.PAIN_MEDICINE,
                "pain_specialist_credentialed_from": date(2020, 1, 1),
            },
        )
        providers.append(provider)
    if Member.objects.filter(cin__startswith="8").count() < MEMBERS:
        Member.objects.bulk_create(
            [
                Member(
                    cin=f"8{i:07d}B",
                    first_name="Bench",
                    last_name=f"Member{i}",
                    date_of_birth=date(1950, 1, 1) + timedelta(days=i * 7),
                    address_line1="1 Bench Street",
                    city="Santa Rosa",
                    postal_code="95401",
                )
                for i in range(MEMBERS)
            ],
            ignore_conflicts=True,
        )
    members = list(Member.objects.filter(cin__startswith="8").values_list("pk", flat=True))
    nurse, _ = User.objects.get_or_create(username="bench-nurse", defaults={"role": Role.NURSE})
    provider_user, _ = User.objects.get_or_create(
        username="bench-provider",
        defaults={"role": Role.PROVIDER, "organization": orgs[0], "provider": providers[0]},
    )
    return orgs, providers, members, nurse, provider_user


def load(n: int, orgs, providers, members, nurse, provider_user) -> None:
    from django.db import transaction
    from django.utils import timezone

    from authorizations.models import ServiceLine, Tar

    rng = random.Random(1)
    now = timezone.now()
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    shares = [share for _, share in ORGS]
    started = time.perf_counter()
    done = Tar.objects.filter(number__startswith=PREFIX).count()
    while done < n:
        size = min(BATCH, n - done)
        tars = []
        for i in range(done, done + size):
            req = rng.choices(range(len(orgs)), shares)[0]
            srv = req if rng.random() < 0.9 else rng.randrange(len(orgs))
            status = rng.choices(statuses, weights)[0]
            received = now - timedelta(seconds=rng.randrange(60 * 86400))
            due = now + timedelta(seconds=rng.randrange(-30 * 86400, 30 * 86400))
            urgent = rng.random() < 0.15
            decided = status in DECIDED
            tars.append(
                Tar(
                    number=f"{PREFIX}{i:09d}",
                    member_id=rng.choice(members),
                    requesting_provider=providers[req],
                    servicing_provider=providers[srv],
                    requesting_organization=orgs[req],
                    servicing_organization=orgs[srv],
                    place_of_service="24",
                    request_type="pre_service",
                    urgency="urgent" if urgent else "routine",
                    urgency_reason="Progressive weakness." if urgent else "",
                    channel=rng.choice(["portal", "api", "fax"]),
                    received_at=received,
                    status=status,
                    answers={"pain_score": 7},
                    submitted_by=provider_user,
                    assigned_to=nurse if status == "in_review" else None,
                    claimed_at=received if status == "in_review" else None,
                    status_before_pend="submitted" if status == "pended" else "",
                    effective_received_at=received,
                    decision_due_at=due,
                    original_decision_due_at=due,
                    decision_due_rule="urgent_72_hours" if urgent else "routine_7_calendar_days",
                    decided_at=received + timedelta(days=2) if decided else None,
                    decided_by=nurse if decided else None,
                    reason_code="duplicate" if status == "closed" else "",
                    created_at=received,
                )
            )
        with transaction.atomic():
            Tar.objects.bulk_create(tars, batch_size=1_000)
            ServiceLine.objects.bulk_create(
                [
                    ServiceLine(
                        tar=tar,
                        line_number=1,
                        code="64483",
                        diagnosis_codes=["M54.16"],
                        units=1,
                        spinal_region="lumbar",
                        service_date_from=tar.received_at.date() + timedelta(days=10),
                        service_date_to=tar.received_at.date() + timedelta(days=40),
                        family="esi",
                        recommendation="meets_criteria",
                    )
                    for tar in tars
                ],
                batch_size=1_000,
            )
        done += size
        print(f"  loaded {done:,}/{n:,} TARs ({time.perf_counter() - started:,.1f} s)", end="\r")
    print(f"\nloaded {n:,} TARs with one line each in {time.perf_counter() - started:,.1f} s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_list(client, requests: int, warmup: int = 5) -> tuple[float, float, float]:
    for _ in range(warmup):
        assert client.get("/api/v1/tars/").status_code == 200
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get("/api/v1/tars/")
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    return percentile(times, 0.5), percentile(times, 0.95), statistics.fmean(times)


def count_queries(client, page_size: int) -> tuple[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/tars/", {"page_size": page_size})
    assert response.status_code == 200
    return len(captured), len(response.json()["results"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tars", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from authorizations import selectors
    from authorizations.models import Tar

    setup_test_environment()  # lets django.test.Client use "testserver" as its host
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - started:,.1f} s")
    orgs, providers, members, nurse, provider_user = setup_people()
    present = Tar.objects.filter(number__startswith=PREFIX).count()
    if present >= args.tars:
        print(f"reusing {present:,} loaded TARs")
    else:
        load(args.tars, orgs, providers, members, nurse, provider_user)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    total = Tar.objects.count()
    visible = (
        Tar.objects.filter(requesting_organization=orgs[0]).count()
        + Tar.objects.filter(servicing_organization=orgs[0])
        .exclude(requesting_organization=orgs[0])
        .count()
    )
    print(f"TARs in the database: {total:,}; visible to the provider: {visible:,}\n")

    clients = {}
    for label, user in (("nurse", nurse), ("provider", provider_user)):
        client = Client()
        client.force_login(user)
        clients[label] = client

    print(f"GET /api/v1/tars/ first page (25 rows), {args.requests} requests after warm-up")
    print(f"{'persona':<10} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
    for label, client in clients.items():
        p50, p95, mean = time_list(client, args.requests)
        print(f"{label:<10} {p50:>8.1f} {p95:>8.1f} {mean:>8.1f}")

    print("\nSQL queries per request by page size")
    print(f"{'persona':<10} " + " ".join(f"{f'size {s}':>9}" for s in PAGE_SIZES) + "  rows")
    constant = True
    for label, client in clients.items():
        counts, rows = zip(*(count_queries(client, size) for size in PAGE_SIZES), strict=True)
        constant &= len(set(counts)) == 1
        print(
            f"{label:<10} " + " ".join(f"{c:>9}" for c in counts) + f"  {'/'.join(map(str, rows))}"
        )
    print(
        "query count independent of page size: "
        + ("yes" if constant else "NO — the list has an N+1")
    )

    page = selectors.tar_list(user=provider_user)[:25]
    print("\nEXPLAIN ANALYZE of the provider's list query (first page):")
    print(page.explain(analyze=True, buffers=True))
    print("\nEXPLAIN ANALYZE of the provider's count query (pagination):")
    with connection.cursor() as cursor:
        count_sql, params = (
            selectors.tar_list(user=provider_user).order_by().values("pk").query.sql_with_params()
        )
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM ({count_sql}) sub", params)
        print("\n".join(row[0] for row in cursor.fetchall()))
    return 0 if constant else 1


if __name__ == "__main__":
    raise SystemExit(main())
