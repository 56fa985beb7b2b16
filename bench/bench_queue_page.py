"""The nurse review queue page against 100,000 TARs (or `--tars 1000000`): server time per
request with search, filters, sort and keyset pages (target: p95 under 100 ms at 1,000,000),
and SQL queries per request (constant, whatever the table size).

Run from anywhere:  .venv/bin/python bench/bench_queue_page.py [--requests 100] [--tars 100000]

Standalone: uses tar_portal.settings.test and its own PostgreSQL database (DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/tar_portal_bench_queue_<tars>), which it creates
and migrates, then bulk-loads the TARs once (later runs reuse them). The requests go through
the whole Django stack in-process (middleware, session, view, template), as a signed-in nurse.
The machine is shared and noisy, so each queue page is also reported as a ratio to a
baseline page measured in the same interleaved loop: the queue searched for a name that
matches nobody (the same stack, session, templates and nav, no rows).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tar_portal.settings.test")

BENCH_PREFIX = "BENCH-"
BASELINE = "/review/?q=Nobody+Atall"
URLS = [
    "/review/",
    "/review/?urgency=urgent",
    "/review/?family=facet_mbb",
    "/review/?assignee=none&request_type=pre_service",
    "/review/?sort=-received",
    "/review/?sort=received&urgency=urgent",
    "/review/?view=due24",
    "/review/?q=Member123",  # a member name: 11 members, their open requests
    "/review/?q=bench+pain",  # an organization: every request
    "/review/?q={number}",  # a TAR number
    "/review/?q={cin}",  # a CIN
    "/review/?q={npi}&sort=-due",  # an NPI, latest deadline first
    "NEXT:/review/",  # the next keyset page of the default queue, 40 pages in
]
FAMILIES = {
    "esi": "64483",
    "facet_mbb": "64493",
    "facet_rfa": "64635",
    "scs": "63650",
    "pump": "62324",
}


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


def load(total: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Role, User
    from authorizations.models import (
        OrganizationKind,
        Provider,
        ProviderOrganization,
        ServiceLine,
        Specialty,
        Tar,
        TarStatus,
    )
    from authorizations.validators import npi_check_digit
    from members.models import Member

    present = Tar.objects.filter(number__startswith=BENCH_PREFIX).count()
    if present >= total:
        print(f"{present} bench TARs present")
        return
    print(f"loading {total - present} TARs…", flush=True)
    started = time.perf_counter()
    rng = random.Random(2026)
    with transaction.atomic():
        org, _ = ProviderOrganization.objects.get_or_create(
            name="Bench Pain Clinic", defaults={"kind": OrganizationKind.PAIN_CLINIC}
        )
        providers = []
        for seed in range(10):
            first_nine = f"{700000000 + seed:09d}"
            provider, _ = Provider.objects.get_or_create(
                npi=first_nine + npi_check_digit(first_nine),
                defaults={
                    "name": f"Dr. Bench {seed}",
                    "organization": org,
                    "specialty": Specialty.PAIN_MEDICINE,
                },
            )
            providers.append(provider)
        submitter, _ = User.objects.get_or_create(
            username="bench-provider", defaults={"role": Role.PROVIDER, "organization": org}
        )
        nurses = []
        for index in range(5):
            nurse, _ = User.objects.get_or_create(
                username=f"bench-nurse{index}", defaults={"role": Role.NURSE}
            )
            nurses.append(nurse)
        existing = Member.objects.filter(cin__startswith="7").count()
        Member.objects.bulk_create(
            Member(
                cin=f"{70000000 + i:08d}Z",
                first_name="Bench",
                last_name=f"Member{i}",
                date_of_birth=timezone.localdate() - timedelta(days=365 * 30 + i),
                address_line1="1 Bench Street",
                city="Santa Rosa",
                postal_code="95401",
            )
            for i in range(existing, 5000)
        )
        members = list(Member.objects.filter(cin__startswith="7").values_list("pk", flat=True))

    now = timezone.now()
    decided = [TarStatus.APPROVED, TarStatus.DENIED, TarStatus.MODIFIED, TarStatus.CLOSED]
    batch = 5000
    for first in range(present, total, batch):
        tars, lines = [], []
        for index in range(first, min(first + batch, total)):
            # Rows arrive in time order, as in production: four fifths decided history over
            # the past year, then a fifth still open (a heavy week: ~20,000 open requests).
            position = index / total
            open_request = position >= 0.8
            urgent = rng.random() < 0.15
            if open_request:
                received = now - timedelta(hours=24 * 8 * (1 - position) / 0.2 + 1)
                status = rng.choice(
                    [TarStatus.SUBMITTED] * 5
                    + [TarStatus.IN_REVIEW] * 2
                    + [TarStatus.PENDED]
                    + [TarStatus.REFERRED]
                )
            else:
                received = now - timedelta(days=8 + 357 * (0.8 - position) / 0.8)
                status = rng.choice(decided)
            due = received + (timedelta(hours=72) if urgent else timedelta(days=7))
            provider = rng.choice(providers)
            tars.append(
                Tar(
                    number=f"{BENCH_PREFIX}{index:07d}",
                    member_id=rng.choice(members),
                    requesting_provider=provider,
                    servicing_provider=provider,
                    requesting_organization=org,
                    servicing_organization=org,
                    place_of_service="24",
                    request_type="pre_service" if rng.random() < 0.9 else "concurrent",
                    urgency="urgent" if urgent else "routine",
                    urgency_reason="Bench urgent reason." if urgent else "",
                    channel="portal",
                    received_at=received,
                    status=status,
                    answers={},
                    submitted_by=submitter,
                    assigned_to=rng.choice(nurses) if status == TarStatus.IN_REVIEW else None,
                    effective_received_at=received,
                    decision_due_at=due,
                    original_decision_due_at=due,
                    decision_due_rule="urgent_72_hours" if urgent else "routine_7_calendar_days",
                    breached_at=due if open_request and due < now else None,
                    decided_at=None if open_request else received + timedelta(days=2),
                )
            )
        with transaction.atomic():
            Tar.objects.bulk_create(tars, batch_size=1000)
            for tar in tars:
                family = rng.choice(list(FAMILIES))
                day = (tar.received_at + timedelta(days=10)).date()
                lines.append(
                    ServiceLine(
                        tar=tar,
                        line_number=1,
                        code=FAMILIES[family],
                        diagnosis_codes=["M54.16"],
                        units=1,
                        spinal_region="lumbar",
                        service_date_from=day,
                        service_date_to=day + timedelta(days=30),
                        family=family,
                        recommendation="meets_criteria",
                    )
                )
            ServiceLine.objects.bulk_create(lines, batch_size=1000)
        print(f"  {min(first + batch, total)} TARs", flush=True)
    with connection.cursor() as cursor:
        # What autovacuum does for a live table: statistics, and the visibility map that lets
        # counts use index-only scans.
        cursor.execute("VACUUM ANALYZE")
    print(f"loaded in {time.perf_counter() - started:.0f} s")


def _urls(client) -> list[str]:
    """The bench URLs with real values filled in, the keyset page 40 pages deep."""
    import re

    from authorizations.models import Tar

    tar = Tar.objects.filter(number__startswith=BENCH_PREFIX, status="submitted").first()
    values = {
        "number": tar.number,
        "cin": tar.member.cin,
        "npi": tar.requesting_provider.npi,
    }
    urls = []
    for url in URLS:
        if url.startswith("NEXT:"):
            url = url.removeprefix("NEXT:")
            for _ in range(40):
                html = client.get(url).content.decode()
                url = "/review/" + re.search(r'href="(\?[^"]*)" rel="next"', html)[1].replace(
                    "&amp;", "&"
                )
        urls.append(url.format(**values))
    return urls


def measure(requests: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    nurse = User.objects.get(username="bench-nurse0")
    client = Client(HTTP_HOST="localhost")
    client.force_login(nurse)
    urls = _urls(client)
    for url in [BASELINE, *urls]:  # warm-up: sessions, the business calendar, templates
        assert client.get(url).status_code == 200, url

    queries = {}
    for url in urls:
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries[url] = len(captured.captured_queries)

    timings: dict[str, list[float]] = {url: [] for url in [BASELINE, *urls]}
    for index in range(requests):
        # Interleaved: each queue page right after a baseline request, so both see the
        # same load on a shared machine.
        for url in (BASELINE, urls[index % len(urls)]):
            started = time.perf_counter()
            response = client.get(url)
            timings[url].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)

    every = sorted(t for url in urls for t in timings[url])
    base = sorted(timings[BASELINE])

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]

    from authorizations.models import Tar

    print(
        f"TARs in the table: {Tar.objects.count()}; open: "
        f"{Tar.objects.filter(status__in=['submitted', 'in_review', 'pended']).count()}"
    )
    print(f"{'page':60} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    print(f"{'baseline ' + BASELINE:60} {pct(base, 50):8.1f} {pct(base, 95):8.1f}")
    for url in urls:
        values = sorted(timings[url])
        shown = url if len(url) < 60 else url[:45] + "…" + url[-14:]
        print(f"{shown:60} {pct(values, 50):8.1f} {pct(values, 95):8.1f} {queries[url]:8d}")
    print(
        f"all {len(every)} queue requests: p50 {pct(every, 50):.1f} ms, p95 "
        f"{pct(every, 95):.1f} ms; baseline p95 {pct(base, 95):.1f} ms; ratio p95 "
        f"{pct(every, 95) / pct(base, 95):.2f}; queries/request "
        f"{min(queries.values())}–{max(queries.values())} (target p95 < 100 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--tars", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault(
        "DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/tar_portal_bench_queue_{args.tars}"
    )
    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    load(args.tars)
    measure(args.requests)


if __name__ == "__main__":
    main()
