"""Local development and the `make run` demo: safe defaults, never for production."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "dev-only-insecure-key-do-not-deploy")
os.environ.setdefault("DJANGO_DEBUG", "true")
# Local subscription receivers over http (fhir.subscriptions), never in production.
os.environ.setdefault("TAR_FHIR_ALLOW_HTTP_ENDPOINTS", "true")

from tar_portal.settings.base import *  # noqa: F403

# The embedded SQLite file, the file broker and private files live under var/.
VAR_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405
# The file broker's folders exist before anything publishes: the seed command queues tasks
# before the worker (scripts/run_all.sh) starts.
if not REDIS_URL:  # noqa: F405
    for folder in CELERY_BROKER_TRANSPORT_OPTIONS.values():  # noqa: F405
        if isinstance(folder, str):
            os.makedirs(folder, exist_ok=True)

# Mail in development: one file per message under var/mail/ (issue 15: the console backend
# flooded the worker's log). An EMAIL_BACKEND in the environment still wins.
if "EMAIL_BACKEND" not in os.environ:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")  # noqa: F405
