"""POST /fhir/Claim/$submit against POST /api/v1/tars/ for the same request, side by side.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tar_portal_bench \
        .venv/bin/python bench/bench_fhir_submit.py [--requests 60]

The same ESI request (one line, the answers that meet every criterion, the member's RAF) is
sent both ways through the whole Django stack (`django.test.Client`, the API token in the
header each face expects), alternating one REST and one FHIR submission so that the shared
machine's noise falls on both alike. The FHIR body is the IG's Referral example adapted to
the bench's member, NPI and codes, with the answers as a QuestionnaireResponse; each submit
has its own Bundle identifier, so each one makes a TAR. It prints p50, p95 and throughput per
face and the ratios FHIR/REST (issue 14: under 2x), and the slowest $submit against the PAS
15-second limit. Exit status 1 when the p95 ratio is 2 or more or a submit takes 15 s.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tar_portal.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tar_portal_bench")

EXAMPLE = (
    ROOT.parent
    / "shared"
    / "fhir"
    / "davinci-pas-2.2.1"
    / "example"
    / "Bundle-ReferralAuthorizationBundleExample.json"
)
ANSWERS = {
    "radicular_findings": True,
    "pain_duration_weeks": 10,
    "pain_score": 7,
    "function_scale_documented": True,
    "conservative_care_weeks": 8,
    "conservative_modalities": ["medications", "physical_therapy"],
    "imaging_guidance": "fluoroscopy",
    "approach": "transforaminal",
    "levels": 1,
    "spinal_region": "lumbar",
    "prior_sessions_12mo": 0,
}


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


def setup_world():
    """A pain clinic, its specialist and login, a PCP, a member with a RAF; idempotent."""
    from django.utils import timezone

    from accounts.models import Role, User
    from authorizations.models import (
        OrganizationKind,
        Provider,
        ProviderOrganization,
        Referral,
        Specialty,
    )
    from authorizations.validators import npi_check_digit
    from criteria.services import criteria_publish_catalog
    from members.models import EligibilitySpan, Member

    criteria_publish_catalog()

    def npi(seed: str) -> str:
        return seed + npi_check_digit(seed)

    clinic, _ = ProviderOrganization.objects.get_or_create(
        name="Bench FHIR Pain Clinic", defaults={"kind": OrganizationKind.PAIN_CLINIC}
    )
    office, _ = ProviderOrganization.objects.get_or_create(
        name="Bench FHIR Family Medicine", defaults={"kind": OrganizationKind.PRIMARY_CARE}
    )
    specialist, _ = Provider.objects.get_or_create(
        npi=npi("977000001"),
        defaults={
            "name": "Dr. Bench Specialist",
            "organization": clinic,
            "specialty": Specialty.PAIN_MEDICINE,
            "pain_specialist_credentialed_from": date(2020, 1, 1),
        },
    )
    pcp, _ = Provider.objects.get_or_create(
        npi=npi("977000002"),
        defaults={
            "name": "Dr. Bench PCP",
            "organization": office,
            "specialty": Specialty.FAMILY_MEDICINE,
            "is_pcp": True,
        },
    )
    member, created = Member.objects.get_or_create(
        cin="97700001F",
        defaults={
            "first_name": "Bench",
            "last_name": "Fhir",
            "date_of_birth": date(1970, 1, 1),
            "address_line1": "1 Bench Street",
            "city": "Santa Rosa",
            "postal_code": "95401",
            "pcp": pcp,
        },
    )
    if created:
        EligibilitySpan.objects.create(member=member, start_date=date(2024, 1, 1))
    user, _ = User.objects.get_or_create(
        username="bench-fhir-provider",
        defaults={"role": Role.PROVIDER, "organization": clinic, "provider": specialist},
    )
    pcp_user, _ = User.objects.get_or_create(
        username="bench-fhir-pcp",
        defaults={"role": Role.PROVIDER, "organization": office, "provider": pcp},
    )
    today = timezone.localdate()
    referral = Referral.objects.filter(member=member, to_organization=clinic).first()
    if referral is None or not referral.is_valid_on(today + timedelta(days=10)):
        from authorizations.services import referral_create

        referral = referral_create(
            user=pcp_user,
            member_cin=member.cin,
            to_organization_id=clinic.pk,
            specialty=Specialty.PAIN_MEDICINE,
            reason="Lumbar radiculopathy",
            diagnosis_codes=["M54.16"],
            valid_from=today - timedelta(days=1),
            valid_to=today + timedelta(days=300),
            visits_authorized=4,
        )
    return user, specialist, member, referral


def rest_body(specialist, member, referral, start: date) -> dict:
    return {
        "member": member.cin,
        "servicing_provider": specialist.npi,
        "referral": referral.pk,
        "request_type": "pre_service",
        "urgency": "routine",
        "place_of_service": "24",
        "lines": [
            {
                "code": "64483",
                "diagnosis_codes": ["M54.16"],
                "units": 1,
                "spinal_region": "lumbar",
                "service_date_from": start.isoformat(),
                "service_date_to": start.isoformat(),
            }
        ],
        "answers": ANSWERS,
    }


def fhir_body(specialist, member, start: date) -> dict:
    bundle = json.loads(EXAMPLE.read_text())
    claim = bundle["entry"][0]["resource"]
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            resource["identifier"] = [
                {"system": "urn:oid:2.16.840.1.113883.4.3.6", "value": member.cin}
            ]
        if resource.get("id") == "UMOExample":
            resource["identifier"] = [
                {"system": "http://hl7.org/fhir/sid/us-npi", "value": specialist.npi}
            ]
    claim["extension"] = [e for e in claim["extension"] if "levelOfService" not in e["url"]]
    claim.pop("careTeam")
    claim["diagnosis"] = [
        {
            "sequence": 1,
            "diagnosisCodeableConcept": {
                "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.16"}]
            },
        }
    ]
    item = claim["item"][0]
    item.pop("careTeamSequence")
    item["productOrService"] = {
        "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "64483"}]
    }
    item["servicedDate"] = start.isoformat()
    item["locationCodeableConcept"]["coding"][0]["code"] = "24"
    answers = []
    for key, value in ANSWERS.items():
        values = value if isinstance(value, list) else [value]
        answers.append(
            {
                "linkId": key,
                "answer": [
                    {"valueBoolean": v}
                    if isinstance(v, bool)
                    else {"valueInteger": v}
                    if isinstance(v, int)
                    else {"valueCoding": {"code": v}}
                    for v in values
                ],
            }
        )
    bundle["entry"].append(
        {
            "fullUrl": "http://example.org/fhir/QuestionnaireResponse/answers",
            "resource": {
                "resourceType": "QuestionnaireResponse",
                "id": "answers",
                "status": "completed",
                "item": answers,
            },
        }
    )
    claim["supportingInfo"] = [
        {
            "sequence": 1,
            "category": {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASTempCodes",
                        "code": "additionalInformation",
                    }
                ]
            },
            "valueReference": {"reference": "QuestionnaireResponse/answers"},
        }
    ]
    return bundle


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from accounts.tokens import token_issue

    setup_test_environment()  # the test client's host, the locmem mail outbox
    logging.getLogger("celery").setLevel(logging.WARNING)  # eager tasks log every dispatch
    call_command("migrate", verbosity=0)
    user, specialist, member, referral = setup_world()
    key, _ = token_issue(user=user)
    client = Client()
    start = timezone.localdate() + timedelta(days=10)
    rest = rest_body(specialist, member, referral, start)
    template = fhir_body(specialist, member, start)
    run = time.time_ns()

    def rest_once(i: int) -> float:
        began = time.perf_counter()
        response = client.post(
            "/api/v1/tars/",
            json.dumps(rest),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
        )
        elapsed = time.perf_counter() - began
        assert response.status_code == 201, response.content[:500]
        return elapsed

    def fhir_once(i: int) -> float:
        bundle = copy.deepcopy(template)
        bundle["identifier"] = {"system": "urn:bench", "value": f"{run}-{i}"}
        began = time.perf_counter()
        response = client.post(
            "/fhir/Claim/$submit",
            json.dumps(bundle),
            content_type="application/fhir+json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        elapsed = time.perf_counter() - began
        body = response.json()
        assert response.status_code == 200, body
        assert body["entry"][0]["resource"]["outcome"] == "complete", body
        return elapsed

    for i in range(3):  # warm-up: imports, caches, connections
        rest_once(-i)
        fhir_once(-i - 1)
    rest_times: list[float] = []
    fhir_times: list[float] = []
    for i in range(args.requests):
        rest_times.append(rest_once(i))
        fhir_times.append(fhir_once(i))

    def line(name: str, times: list[float]) -> tuple[float, float, float]:
        p50, p95 = statistics.median(times), percentile(times, 0.95)
        throughput = len(times) / sum(times)
        print(
            f"{name:<28} p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
            f"{throughput:6.1f} req/s  (n={len(times)})"
        )
        return p50, p95, throughput

    print(f"same ESI request, alternating, {args.requests} each, after 3 warm-ups")
    r50, r95, rtp = line("POST /api/v1/tars/", rest_times)
    f50, f95, ftp = line("POST /fhir/Claim/$submit", fhir_times)
    print(
        f"ratio FHIR/REST              p50 {f50 / r50:.2f}x   p95 {f95 / r95:.2f}x   "
        f"throughput {rtp / ftp:.2f}x  (target < 2x)"
    )
    slowest = max(fhir_times)
    print(f"slowest $submit {slowest * 1000:.1f} ms (PAS limit 15 s)")
    return 0 if f95 / r95 < 2 and slowest < 15 else 1


if __name__ == "__main__":
    raise SystemExit(main())
