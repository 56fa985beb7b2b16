"""Letter rendering: time and memory for one denial letter and for a batch of letters.

Run from anywhere:  .venv/bin/python bench/bench_letters.py [--letters 500] [--single 60]

Standalone: uses tar_portal.settings.test and its own PostgreSQL database (DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/tar_portal_bench_letters), which it creates if
needed, migrates and empties. It builds its own data through the services (TARs submitted,
then denied by a physician citing ESI criterion 3; one member in five reads Spanish in large
print), then measures:

1. one denial letter (context from the database + WeasyPrint render), repeated: median and
   p95 time; peak memory of one render (tracemalloc);
2. a batch of N letters made as the delivery task makes them (context, render, sha256,
   private storage, Letter row): median and p95 per letter, total and letters/s, and the
   process peak RSS (ru_maxrss); the Python peak (tracemalloc) over a sample of consecutive
   renders; and the merge of the batch's member letters into one print-batch PDF.

Target: under 300 ms median per letter.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tar_portal_bench_letters"
os.environ["DJANGO_SETTINGS_MODULE"] = "tar_portal.settings.test"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
_VAR_DIR = tempfile.mkdtemp(prefix="bench_letters_")
os.environ["TAR_VAR_DIR"] = _VAR_DIR
os.environ["TAR_PRIVATE_STORAGE"] = str(Path(_VAR_DIR) / "private")

ESI_SHORT_CARE = {
    "radicular_findings": True,
    "pain_duration_weeks": 10,
    "pain_score": 7,
    "function_scale_documented": True,
    "conservative_care_weeks": 2,
    "conservative_modalities": ["medications"],
    "imaging_guidance": "fluoroscopy",
    "approach": "transforaminal",
    "levels": 1,
    "spinal_region": "lumbar",
    "prior_sessions_12mo": 0,
}


def _ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    config = dj_database_url.parse(url)
    connection = psycopg2.connect(
        dbname="postgres",
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    connection.close()


def _npi(seed: int) -> str:
    from authorizations.validators import npi_check_digit

    first_nine = f"{seed:09d}"
    return first_nine + npi_check_digit(first_nine)


def _build_world(tar_count: int) -> list[int]:
    """Organizations, users, members with referrals; `tar_count` denied TARs. Returns the ids
    of the notices they owe (two per TAR: provider and member)."""
    from django.utils import timezone

    from accounts.models import Role, User
    from authorizations import services
    from authorizations.models import OrganizationKind, Provider, ProviderOrganization, Specialty
    from criteria.services import criteria_publish_catalog
    from members.models import EligibilitySpan, Member
    from notifications.models import Notice

    criteria_publish_catalog()
    clinic = ProviderOrganization.objects.create(
        name="Redwood Pain Specialists",
        kind=OrganizationKind.PAIN_CLINIC,
        email="notices@redwood.example.org",
        address="200 Oak Avenue, Santa Rosa, CA 95404",
    )
    office = ProviderOrganization.objects.create(
        name="Valley Family Medicine", kind=OrganizationKind.PRIMARY_CARE
    )
    plan = ProviderOrganization.objects.create(name="Plan physicians", kind=OrganizationKind.OTHER)
    specialist = Provider.objects.create(
        npi=_npi(100000001),
        name="Dr. Ana Redwood",
        credentials="MD",
        organization=clinic,
        specialty=Specialty.PAIN_MEDICINE,
        pain_specialist_credentialed_from=date(2020, 1, 1),
    )
    pcp = Provider.objects.create(
        npi=_npi(100000002),
        name="Dr. Lee Valley",
        credentials="MD",
        organization=office,
        specialty=Specialty.FAMILY_MEDICINE,
        is_pcp=True,
    )
    reviewer = Provider.objects.create(
        npi=_npi(100000003),
        name="Dr. Paula Okafor",
        credentials="MD",
        organization=plan,
        specialty=Specialty.UTILIZATION_REVIEW,
    )
    provider_user = User.objects.create(
        username="provider", role=Role.PROVIDER, organization=clinic, provider=specialist
    )
    pcp_user = User.objects.create(
        username="pcp", role=Role.PROVIDER, organization=office, provider=pcp
    )
    physician = User.objects.create(
        username="physician",
        role=Role.PHYSICIAN,
        provider=reviewer,
        direct_phone="(707) 555-0161",
    )
    today = timezone.localdate()
    start = today + timedelta(days=10)
    for index in range(tar_count):
        spanish = index % 5 == 0
        member = Member.objects.create(
            cin=f"{20000000 + index:08d}A",
            first_name="Lucía" if spanish else "Sam",
            last_name=f"Bench{index}",
            date_of_birth=date(1970, 1, 1),
            address_line1=f"{index + 1} Test Street",
            city="Santa Rosa",
            postal_code="95401",
            written_language="es" if spanish else "en",
            alternate_format="large_print" if spanish else "standard",
            pcp=pcp,
        )
        EligibilitySpan.objects.create(member=member, start_date=date(2024, 1, 1))
        referral = services.referral_create(
            user=pcp_user,
            member_cin=member.cin,
            to_organization_id=clinic.pk,
            specialty=Specialty.PAIN_MEDICINE,
            reason="Lumbar radiculopathy",
            diagnosis_codes=["M54.16"],
            valid_from=today - timedelta(days=5),
            valid_to=today + timedelta(days=200),
        )
        tar, _ = services.tar_submit(
            user=provider_user,
            data=services.TarInput(
                member=member.cin,
                servicing_provider=specialist.npi,
                referral=referral.pk,
                request_type="pre_service",
                urgency="routine",
                place_of_service="24",
                lines=[
                    services.LineInput(
                        code="64483",
                        units=1,
                        service_date_from=start,
                        service_date_to=start + timedelta(days=30),
                        diagnosis_codes=["M54.16"],
                        spinal_region="lumbar",
                    )
                ],
                answers=dict(ESI_SHORT_CARE),
            ),
        )
        services.tar_decide(
            tar_id=tar.pk,
            user=physician,
            outcome="denied",
            reason_code="medical_necessity",
            rationale=(
                "Your records show 2 weeks of pain medicine and no physical therapy; the "
                "plan asks for at least 4 weeks of two kinds of care before this injection."
            ),
            criteria_refs=["esi:2026.1:3"],
        )
    return list(Notice.objects.order_by("id").values_list("pk", flat=True))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=500, help="letters in the batch")
    parser.add_argument("--single", type=int, default=60, help="timed renders of one letter")
    parser.add_argument(
        "--trace-sample", type=int, default=50, help="batch letters rendered under tracemalloc"
    )
    args = parser.parse_args()

    _ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    from notifications import services
    from notifications.letter_contexts import build_context
    from notifications.models import Audience, Notice
    from notifications.rendering import render_letter

    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    # The bench renders the letters itself: the delivery tasks the decisions queue are off.
    services._queue_delivery = lambda notice_ids: None

    started = time.perf_counter()
    notice_ids = _build_world((args.letters + 1) // 2)[: args.letters]
    print(
        f"setup: {len(notice_ids)} notices from {(args.letters + 1) // 2} denied TARs "
        f"in {time.perf_counter() - started:.1f} s"
    )

    # 1. One denial letter (member copy, English, standard print).
    notice = Notice.objects.filter(audience=Audience.MEMBER, tar__member__written_language="en")[0]
    for _ in range(5):  # warm-up: fontconfig, template cache, first layout
        render_letter(notice.kind, build_context(notice))
    times = []
    for _ in range(args.single):
        t0 = time.perf_counter()
        pdf = render_letter(notice.kind, build_context(notice))
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    for _ in range(5):
        render_letter(notice.kind, build_context(notice))
    _, single_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"denial letter ({len(pdf):,} bytes): median {_ms(statistics.median(times))}, "
        f"p95 {_ms(_p95(times))}, min {_ms(min(times))} over {args.single} renders; "
        f"tracemalloc peak {single_peak / 1024 / 1024:.1f} MiB; ru_maxrss {_rss_mb():.0f} MiB"
    )

    # 2. A batch: the letters as the delivery task makes and stores them.
    rss_before = _rss_mb()
    per_letter = []
    t_batch = time.perf_counter()
    for notice_id in notice_ids:
        t0 = time.perf_counter()
        services.letter_generate(notice_id=notice_id)
        per_letter.append(time.perf_counter() - t0)
    total = time.perf_counter() - t_batch
    print(
        f"batch of {len(notice_ids)} letters (render + store): total {total:.1f} s, "
        f"{len(notice_ids) / total:.1f} letters/s; per letter median "
        f"{_ms(statistics.median(per_letter))}, p95 {_ms(_p95(per_letter))}, "
        f"max {_ms(max(per_letter))}; ru_maxrss {rss_before:.0f} -> {_rss_mb():.0f} MiB"
    )

    # Python memory across consecutive renders: the peak after a few letters and after many
    # should match (nothing is kept between letters). tracemalloc slows rendering several
    # times, so it watches a sample of the batch, not all of it.
    sample = list(
        Notice.objects.filter(pk__in=notice_ids[: args.trace_sample]).select_related("tar__member")
    )
    gc.collect()
    tracemalloc.start()
    early_peak = 0
    for index, each in enumerate(sample, start=1):
        render_letter(each.kind, build_context(each))
        if index == min(10, len(sample)):
            early_peak = tracemalloc.get_traced_memory()[1]
    _, batch_peak = tracemalloc.get_traced_memory()
    # WeasyPrint's layout trees are reference cycles: they wait for the cyclic collector, which
    # is what the peak mostly shows. What survives a collection is what a worker would keep.
    gc.collect()
    retained, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"tracemalloc over {len(sample)} consecutive renders: peak {batch_peak / 1024 / 1024:.1f} "
        f"MiB (after the first 10: {early_peak / 1024 / 1024:.1f} MiB); retained after "
        f"gc.collect(): {retained / 1024 / 1024:.2f} MiB"
    )

    tracemalloc.start()
    t0 = time.perf_counter()
    batch = services.print_batch_build()
    merge_seconds = time.perf_counter() - t0
    _, merge_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if batch is not None:
        print(
            f"print batch: {batch.letter_count} member letters, {batch.page_count} pages, "
            f"{batch.file.size / 1024 / 1024:.1f} MiB merged in {merge_seconds:.1f} s; "
            f"tracemalloc peak {merge_peak / 1024 / 1024:.1f} MiB; ru_maxrss {_rss_mb():.0f} MiB"
        )
    verdict = "meets" if statistics.median(times) < 0.3 else "MISSES"
    print(f"target < 300 ms median per letter: {verdict}")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(_VAR_DIR, ignore_errors=True)
