"""The baseline for bench_submission.py: a bare Django + DRF endpoint, no part of the portal.

One POST that validates about ten fields with a DRF serializer, authenticates nothing, and
does one INSERT into a table of its own (created on first use). Settings, URLs and the WSGI
application are all in this module: `gunicorn bench.bare.app:application`. It uses the same
PostgreSQL database as the portal under test (BARE_DATABASE_URL), on the same machine, so the
ratio of the two is the cost of the portal's own work.
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

from django.db import connection  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework import serializers, status  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

_CREATE = (
    "CREATE TABLE IF NOT EXISTS bench_bare_request (id bigserial PRIMARY KEY, member text, "
    "provider text, request_type text, urgency text, place text, code text, units int, "
    "date_from date, date_to date, diagnoses text, created_at timestamptz DEFAULT now())"
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


def _ensure_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(_CREATE)
    # gunicorn --preload runs this in the master: a connection left open here would be
    # inherited by every forked worker, which would then talk over one socket at once
    # (requests hang until the worker is killed). Each worker opens its own.
    connection.close()


urlpatterns = [path("bare/", BareCreate.as_view())]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
_ensure_table()
