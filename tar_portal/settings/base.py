"""Settings shared by every environment. Values that differ come from the environment."""

from datetime import timedelta
from pathlib import Path

import dj_database_url

from tar_portal.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("TAR_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    # TOTP second factor for plan staff, required for the UM manager (issue 12).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts",
    "members",
    "authorizations",
    "appeals",
    "grievances",
    "criteria",
    "notifications",
    "portal",
    "reports",
    "fhir",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Control characters, JSON size and depth, JSON 404/405 under /api/ (one place).
    "tar_portal.input_guard.InputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): signed in with a TOTP code this session (django_otp.login).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    # The one place the second factor is enforced for every page (accounts.otp).
    "accounts.middleware.SecondFactorMiddleware",
    "tar_portal.headers.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "tar_portal.urls"
WSGI_APPLICATION = "tar_portal.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutBackend"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
# The name authenticator apps show next to the code (accounts.otp).
OTP_TOTP_ISSUER = "TAR Portal"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Without DATABASE_URL the portal runs on an embedded SQLite file (demo only); tests and
# production always set DATABASE_URL to PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tar_portal.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Los_Angeles"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Attachments and letters hold PHI: they live outside the web root and are only ever served
# through views that check the caller's entitlement (no MEDIA_URL is exposed).
PRIVATE_STORAGE_ROOT = Path(env_str("TAR_PRIVATE_STORAGE", str(VAR_DIR / "private")))
ATTACHMENT_MAX_BYTES = env_int("TAR_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
# tar_portal/input_guard.py: JSON bodies are small (a TAR is a few kB); any body fits one
# attachment plus its form.
TAR_JSON_MAX_BYTES = env_int("TAR_JSON_MAX_BYTES", 1024 * 1024)
TAR_JSON_MAX_DEPTH = env_int("TAR_JSON_MAX_DEPTH", 20)
TAR_REQUEST_MAX_BYTES = ATTACHMENT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Expiring, revocable tokens, one per client (accounts/tokens.py); `Token <key>`.
        "accounts.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tar_portal.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "tar_portal.pagination.Pagination",
    "PAGE_SIZE": 25,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Client addresses for the per-address throttles: REMOTE_ADDR unless this many trusted
    # proxies sit in front (then the X-Forwarded-For entry they added). 0 never trusts a
    # client-set X-Forwarded-For.
    "NUM_PROXIES": env_int("TAR_NUM_PROXIES", 0),
}

REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env_int("TAR_API_TOKEN_TTL_HOURS", 12)),
    "AUTO_REFRESH": False,  # an absolute lifetime: a stolen token dies on schedule
    "AUTH_HEADER_PREFIX": "Token",
}
API_TOKENS_PER_USER = env_int("TAR_API_TOKENS_PER_USER", 5)

# Rate limits for member lookups and logins (tar_portal/throttles.py), per account and per
# client address, counted in the cache below.
TAR_THROTTLE_RATES = {
    "member_lookup_user": env_str("TAR_THROTTLE_MEMBER_LOOKUP_USER", "30/min"),
    "member_lookup_address": env_str("TAR_THROTTLE_MEMBER_LOOKUP_ADDRESS", "60/min"),
    "login_username": env_str("TAR_THROTTLE_LOGIN_USERNAME", "20/min"),
    "login_address": env_str("TAR_THROTTLE_LOGIN_ADDRESS", "60/min"),
    # The SMART token endpoint (fhir/throttles.py), per client and per address.
    "fhir_token_client": env_str("TAR_THROTTLE_FHIR_TOKEN_CLIENT", "30/min"),
    "fhir_token_address": env_str("TAR_THROTTLE_FHIR_TOKEN_ADDRESS", "120/min"),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "TAR Portal API",
    "DESCRIPTION": "Treatment Authorization Requests for Medi-Cal managed care (v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from the installed drf-spectacular-sidecar package: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents the error answers (tar_portal/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tar_portal.schema.document_errors",
    ],
    # Stable names for choice sets that several fields share (else drf-spectacular names
    # them by hash and warns, which `check --deploy` counts).
    "ENUM_NAME_OVERRIDES": {
        "GrievanceChannelEnum": "grievances.models.GrievanceChannel",
        "GrievanceKindEnum": "grievances.models.GrievanceKind",
        "TarChannelEnum": "authorizations.models.Channel",
        "TarStatusEnum": "authorizations.models.TarStatus",
        "AudienceEnum": "notifications.models.Audience",
        "AppealOutcomeEnum": "appeals.models.AppealOutcome",
        "PeerToPeerOutcomeEnum": "appeals.models.PeerToPeerOutcome",
        "AppealStatusEnum": "appeals.models.AppealStatus",
        "PeerToPeerStatusEnum": "appeals.models.PeerToPeerStatus",
        "ImrStatusEnum": "appeals.models.ImrStatus",
        "OralNoticeOutcomeEnum": "authorizations.models.OralNoticeOutcome",
    },
}

# The cache holds the throttle counts: Redis when REDIS_URL is set (shared by every worker),
# local memory otherwise (the demo, one process).
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("CACHE_REDIS_URL", REDIS_URL),
            "KEY_PREFIX": "tar",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis when REDIS_URL is set; otherwise a file-system broker under var/ so the
# demo runs on a fresh machine with no services.
CELERY_RESULT_BACKEND: str | None
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object]
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # With acks-late a task is acknowledged when it finishes; Redis hands an unacknowledged
    # task to another worker after the visibility timeout (kombu's default is one hour). A
    # few minutes, so that a task whose worker died is picked up again soon; but longer than
    # any task runs and than the longest retry countdown (notifications.tasks:
    # retry_backoff_max 900 s), which a worker holds unacknowledged until it is due.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 1200)
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
DEADLINE_SWEEP_SECONDS = env_int("TAR_DEADLINE_SWEEP_SECONDS", 60)
# Due-soon alerts, hours before a decision deadline (PRODUCT §4; configurable).
DEADLINE_ALERT_HOURS = [int(h) for h in env_list("TAR_DEADLINE_ALERT_HOURS", ["24", "4"])]
CELERY_BEAT_SCHEDULE = {
    "deadline-sweep": {
        "task": "authorizations.tasks.deadline_sweep",
        "schedule": timedelta(seconds=DEADLINE_SWEEP_SECONDS),
    },
    "appeal-deadline-sweep": {
        "task": "appeals.tasks.appeal_deadline_sweep",
        "schedule": timedelta(seconds=DEADLINE_SWEEP_SECONDS),
    },
    "grievance-deadline-sweep": {
        "task": "grievances.tasks.grievance_deadline_sweep",
        "schedule": timedelta(seconds=DEADLINE_SWEEP_SECONDS),
    },
    "notices-mark-overdue": {
        "task": "notifications.tasks.notices_mark_overdue",
        "schedule": timedelta(seconds=DEADLINE_SWEEP_SECONDS),
    },
    # The event outbox's catch-up: events whose after-commit nudge was lost are consumed
    # within a minute (authorizations.workflow.outbox).
    "events-dispatch": {
        "task": "authorizations.tasks.events_dispatch",
        "schedule": timedelta(seconds=env_int("TAR_EVENTS_DISPATCH_SECONDS", 60)),
    },
    # Member letters to the mail house (PRODUCT §4: mailed within 2 business days).
    "print-batch-build": {
        "task": "notifications.tasks.print_batch_build",
        "schedule": timedelta(seconds=env_int("TAR_PRINT_BATCH_SECONDS", 3600)),
    },
    # FHIR subscription notifications due (a lost nudge, a retry that fell due).
    "fhir-deliveries-send": {
        "task": "fhir.tasks.deliveries_send",
        "schedule": timedelta(seconds=env_int("TAR_FHIR_DELIVERIES_SECONDS", 60)),
    },
    "notices-requeue-stalled": {
        "task": "notifications.tasks.notices_requeue_stalled",
        "schedule": timedelta(minutes=5),
    },
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "um-notices@tarportal.invalid")
# Links in e-mail ("a letter is ready", notifications/mail.py) point here.
PORTAL_BASE_URL = env_str("TAR_PORTAL_URL", "http://127.0.0.1:8000")
# SMART access tokens' lifetime (fhir.smart; SMART recommends at most five minutes), and
# whether subscription endpoints and jwks_uri may be http or local (development, tests only).
FHIR_ACCESS_TOKEN_SECONDS = env_int("TAR_FHIR_ACCESS_TOKEN_SECONDS", 300)
FHIR_ALLOW_HTTP_ENDPOINTS = env_bool("TAR_FHIR_ALLOW_HTTP_ENDPOINTS", False)

# Login lockout (PRODUCT: lockout after repeated failures) and staff session timeout.
LOGIN_MAX_FAILURES = env_int("TAR_LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT_MINUTES = env_int("TAR_LOGIN_LOCKOUT_MINUTES", 15)
STAFF_SESSION_IDLE_MINUTES = env_int("TAR_STAFF_SESSION_IDLE_MINUTES", 15)
# Providers and members (accounts/middleware.py), and every role's absolute lifetime.
SESSION_IDLE_MINUTES = env_int("TAR_SESSION_IDLE_MINUTES", 30)
SESSION_ABSOLUTE_HOURS = env_int("TAR_SESSION_ABSOLUTE_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# CINs travel in some query strings (member lookups): never send them to another site.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts and styles from our own static files only,
# no inline script anywhere (templates load portal/portal.js). The API docs pages relax
# style-src for themselves only (tar_portal/api_urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# The plan's identity as printed on letters and pages.
PLAN_NAME = env_str("TAR_PLAN_NAME", "Golden Valley Health Plan")
PLAN_UM_PHONE = env_str("TAR_PLAN_UM_PHONE", "(800) 555-0140")
PLAN_MEMBER_SERVICES_PHONE = env_str("TAR_PLAN_MEMBER_SERVICES_PHONE", "(800) 555-0100")
# PRODUCT §7 "Where to write": the address for appeals and grievances, printed wherever a
# notice says "in writing". Lines separated by "|".
PLAN_MAILING_ADDRESS = [
    line.strip()
    for line in env_str(
        "TAR_PLAN_MAILING_ADDRESS",
        "Golden Valley Health Plan|Appeals and Grievances|P.O. Box 4000|Sacramento, CA 95812",
    ).split("|")
    if line.strip()
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_phi": {"()": "tar_portal.logging.RedactPHIFilter"},
        "forbidden_one_line": {"()": "tar_portal.logging.ForbiddenOneLineFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_phi"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request lines carry paths and query strings: same handler, same redaction.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {
            "handlers": ["console"],
            "level": "WARNING",
            "propagate": False,
            "filters": ["forbidden_one_line"],
        },
    },
}
IS_PRODUCTION = False
