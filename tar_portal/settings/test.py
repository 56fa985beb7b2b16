"""Test settings: PostgreSQL and Redis from the environment, fast hashing."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-key")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tar_portal")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("TAR_VAR_DIR", "/tmp/tar_portal_test_var")

from tar_portal.env import env_bool
from tar_portal.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests run tasks eagerly; the integration tests start a real worker against Redis and
# switch eager mode off for themselves (tests/integration).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# WhiteNoise warns when the static root is missing; tests do not collect static files.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Subscription receivers and jwks_uri served by the tests on 127.0.0.1 over http.
FHIR_ALLOW_HTTP_ENDPOINTS = True
