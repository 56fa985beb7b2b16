"""The baselines for bench_submission.py: bare Django + DRF endpoints, no part of the portal.

`/bare/` (the issue's baseline): one POST that validates about ten fields with a DRF
serializer, authenticates nothing, and does one INSERT into a table of its own.

`/bare/same-work/` (the floor of the work a submission must do, written by hand): the same
body as the portal's `POST /api/v1/tars/`, validated by a plain DRF serializer, the knox token
checked against its digest, and the portal's statements as raw SQL in one transaction — the
member with the office's relationship, eligibility, servicing provider, referral, criteria set,
prior sessions (read from the portal's own tables), then the number upsert, the request, two
history rows, the line and the domain event (written to tables of its own). No ORM, no
middleware, no criteria rules: what any implementation of the same regulated write pays.

Settings, URLs and the WSGI application are all in this module:
`gunicorn bench.bare.app:application`. It uses the same PostgreSQL database as the portal under
test (BARE_DATABASE_URL), on the same machine, so the ratios are the cost of the portal's work.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

import django
from django.conf import settings

_url = urlparse(os.environ.get("BARE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tar_bench"))

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
        MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": _url.path.lstrip("/"),
                "USER": _url.username or "postgres",
                "HOST": _url.hostname or "127.0.0.1",
                "PORT": _url.port or 5432,
                "CONN_MAX_AGE": 600,
            }
        },
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [],
            "DEFAULT_PERMISSION_CLASSES": [],
            "UNAUTHENTICATED_USER": None,
        },
        USE_TZ=True,
    )
    django.setup()

import hashlib  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402

from django.db import connection, transaction  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework import serializers, status  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

_CREATE = (
    "CREATE TABLE IF NOT EXISTS bench_bare_request (id bigserial PRIMARY KEY, member text, "
    "provider text, request_type text, urgency text, place text, code text, units int, "
    "date_from date, date_to date, diagnoses text, created_at timestamptz DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS bench_floor_number (prefix text, year int, last_value int, "
    "PRIMARY KEY (prefix, year))",
    "CREATE TABLE IF NOT EXISTS bench_floor_request (id bigserial PRIMARY KEY, number text "
    "UNIQUE, member_id bigint, provider_id bigint, organization_id bigint, referral_id bigint, "
    "request_type text, urgency text, place text, status text, answers jsonb, "
    "received_at timestamptz, decision_due_at timestamptz, created_at timestamptz)",
    "CREATE TABLE IF NOT EXISTS bench_floor_history (id bigserial PRIMARY KEY, request_id "
    "bigint, member_id bigint, actor_id bigint, action text, from_status text, to_status text, "
    "detail jsonb, at timestamptz)",
    "CREATE INDEX IF NOT EXISTS bench_floor_history_request ON bench_floor_history (request_id)",
    "CREATE TABLE IF NOT EXISTS bench_floor_line (id bigserial PRIMARY KEY, request_id bigint, "
    "line_number int, code text, diagnoses jsonb, units int, spinal_region text, "
    "date_from date, date_to date, criteria_set_id bigint, evaluation jsonb, "
    "recommendation text)",
    "CREATE INDEX IF NOT EXISTS bench_floor_line_request ON bench_floor_line (request_id)",
    "CREATE TABLE IF NOT EXISTS bench_floor_event (id bigserial PRIMARY KEY, kind text, "
    "request_id bigint, actor_id bigint, payload jsonb, created_at timestamptz)",
)


class BareInput(serializers.Serializer):
    member = serializers.CharField(max_length=20)
    servicing_provider = serializers.CharField(max_length=10)
    request_type = serializers.ChoiceField(choices=["pre_service", "post_service"])
    urgency = serializers.ChoiceField(choices=["routine", "urgent"])
    place_of_service = serializers.CharField(max_length=2)
    code = serializers.CharField(max_length=5)
    units = serializers.IntegerField(min_value=1, max_value=999)
    service_date_from = serializers.DateField()
    service_date_to = serializers.DateField()
    diagnosis_codes = serializers.ListField(child=serializers.CharField(max_length=10))


class BareCreate(APIView):
    def post(self, request):
        data = BareInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_bare_request (member, provider, request_type, urgency, place, "
                "code, units, date_from, date_to, diagnoses) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                [
                    v["member"],
                    v["servicing_provider"],
                    v["request_type"],
                    v["urgency"],
                    v["place_of_service"],
                    v["code"],
                    v["units"],
                    v["service_date_from"],
                    v["service_date_to"],
                    ",".join(v["diagnosis_codes"]),
                ],
            )
            (new_id,) = cursor.fetchone()
        return Response({"id": new_id, **request.data}, status=status.HTTP_201_CREATED)


class FloorLine(serializers.Serializer):
    code = serializers.CharField(max_length=5)
    diagnosis_codes = serializers.ListField(child=serializers.CharField(max_length=10))
    units = serializers.IntegerField(min_value=1, max_value=999)
    spinal_region = serializers.CharField(max_length=20, required=False, default="")
    service_date_from = serializers.DateField()
    service_date_to = serializers.DateField()


class FloorInput(serializers.Serializer):
    member = serializers.CharField(max_length=20)
    servicing_provider = serializers.CharField(max_length=10)
    referral = serializers.IntegerField()
    request_type = serializers.ChoiceField(choices=["pre_service", "post_service"])
    urgency = serializers.ChoiceField(choices=["routine", "urgent"])
    place_of_service = serializers.CharField(max_length=2)
    lines = FloorLine(many=True)
    answers = serializers.DictField()


_MEMBER = """
SELECT m.id, EXISTS (
    SELECT 1 FROM authorizations_provider p WHERE p.id = m.pcp_id AND p.organization_id = %(org)s
) OR EXISTS (
    SELECT 1 FROM authorizations_referral r WHERE r.member_id = m.id AND r.status = 'active'
    AND r.to_organization_id = %(org)s AND r.valid_to >= current_date
) FROM members_member m WHERE m.cin = %(cin)s"""


class FloorCreate(APIView):
    """The same regulated write as the portal's submission, by hand (module docstring)."""

    def post(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        token = header.removeprefix("Token ").strip()
        data = FloorInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.digest, u.id, u.organization_id FROM knox_authtoken t JOIN "
                "accounts_user u ON u.id = t.user_id WHERE t.token_key = %s AND "
                "(t.expiry IS NULL OR t.expiry > now()) AND u.is_active",
                [token[:15]],
            )
            row = cursor.fetchone()
            digest = hashlib.sha512(token.encode()).hexdigest()
            if row is None or not hmac.compare_digest(row[0], digest):
                return Response({"detail": "Invalid token."}, status=401)
            _, user_id, organization_id = row
            cursor.execute(_MEMBER, {"org": organization_id, "cin": v["member"]})
            member = cursor.fetchone()
            if member is None or not member[1]:
                return Response({"member": ["not available"]}, status=400)
            member_id = member[0]
            first, last = v["lines"][0]["service_date_from"], v["lines"][0]["service_date_to"]
            cursor.execute(
                "SELECT start_date, end_date FROM members_eligibilityspan WHERE member_id = %s "
                "AND start_date <= %s AND (end_date IS NULL OR end_date >= %s)",
                [member_id, last, first],
            )
            if not cursor.fetchall():
                return Response({"member": ["not eligible"]}, status=400)
            cursor.execute(
                "SELECT id, organization_id FROM authorizations_provider WHERE npi = %s",
                [v["servicing_provider"]],
            )
            provider = cursor.fetchone()
            cursor.execute(
                "SELECT id FROM authorizations_referral WHERE id = %s AND member_id = %s AND "
                "status = 'active' AND valid_from <= %s AND valid_to >= %s",
                [v["referral"], member_id, first, first],
            )
            referral = cursor.fetchone()
            if provider is None or referral is None:
                return Response({"referral": ["not valid"]}, status=400)
            cursor.execute(
                "SELECT id FROM criteria_criteriaset WHERE family = 'esi' AND effective_from "
                "<= %s AND (effective_to IS NULL OR effective_to >= %s) "
                "ORDER BY effective_from DESC LIMIT 1",
                [first, first],
            )
            (criteria_set_id,) = cursor.fetchone()
            cursor.execute(
                "SELECT count(*) FROM authorizations_tar t WHERE t.member_id = %s AND EXISTS "
                "(SELECT 1 FROM authorizations_serviceline l WHERE l.tar_id = t.id AND "
                "l.family = 'esi' AND l.spinal_region = %s AND l.outcome IN "
                "('approved', 'modified') AND l.approved_date_from >= %s::date - 365 AND "
                "l.approved_date_from < %s)",
                [member_id, v["lines"][0]["spinal_region"], first, first],
            )
            cursor.fetchone()
            cursor.execute(
                "INSERT INTO bench_floor_number (prefix, year, last_value) VALUES "
                "('FLOOR', 2026, 1) ON CONFLICT (prefix, year) DO UPDATE SET last_value = "
                "bench_floor_number.last_value + 1 RETURNING last_value"
            )
            number = f"FLOOR-{cursor.fetchone()[0]:09d}"
            cursor.execute(
                "INSERT INTO bench_floor_request (number, member_id, provider_id, "
                "organization_id, referral_id, request_type, urgency, place, status, answers, "
                "received_at, decision_due_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, "
                "%s, 'submitted', %s, now(), now() + interval '7 days', now()) RETURNING id",
                [
                    number,
                    member_id,
                    provider[0],
                    provider[1],
                    referral[0],
                    v["request_type"],
                    v["urgency"],
                    v["place_of_service"],
                    json.dumps(v["answers"]),
                ],
            )
            (request_id,) = cursor.fetchone()
            for action, to_status in (("evaluated", "submitted"), ("created", "submitted")):
                cursor.execute(
                    "INSERT INTO bench_floor_history (request_id, member_id, actor_id, action, "
                    "from_status, to_status, detail, at) VALUES (%s, %s, %s, %s, '', %s, %s, "
                    "now())",
                    [request_id, member_id, user_id, action, to_status, json.dumps({})],
                )
            line = v["lines"][0]
            cursor.execute(
                "INSERT INTO bench_floor_line (request_id, line_number, code, diagnoses, units, "
                "spinal_region, date_from, date_to, criteria_set_id, evaluation, "
                "recommendation) VALUES (%s, 1, %s, %s, %s, %s, %s, %s, %s, %s, "
                "'meets_criteria')",
                [
                    request_id,
                    line["code"],
                    json.dumps(line["diagnosis_codes"]),
                    line["units"],
                    line["spinal_region"],
                    line["service_date_from"],
                    line["service_date_to"],
                    criteria_set_id,
                    json.dumps({"answers": v["answers"]}),
                ],
            )
            cursor.execute(
                "INSERT INTO bench_floor_event (kind, request_id, actor_id, payload, created_at) "
                "VALUES ('tar.submitted', %s, %s, %s, now())",
                [request_id, user_id, json.dumps({"number": number})],
            )
        return Response(
            {"id": request_id, "number": number, "status": "submitted", **request.data},
            status=status.HTTP_201_CREATED,
        )


def _ensure_table() -> None:
    with connection.cursor() as cursor:
        for statement in _CREATE:
            cursor.execute(statement)
    # gunicorn --preload runs this in the master: a connection left open here would be
    # inherited by every forked worker, which would then talk over one socket at once
    # (requests hang until the worker is killed). Each worker opens its own.
    connection.close()


urlpatterns = [
    path("bare/", BareCreate.as_view()),
    path("bare/same-work/", FloorCreate.as_view()),
]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
_ensure_table()
