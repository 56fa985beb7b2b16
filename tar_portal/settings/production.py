"""Production: every secret and address must come from the environment, and the settings
pass `manage.py check --deploy` with no warning (tests/tar_portal/test_production_settings.py).
"""

import os

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from tar_portal.env import env_bool, env_int, env_list, env_str
from tar_portal.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Production needs DJANGO_ALLOWED_HOSTS (the portal's host names).")

if not env_str("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    raise ImproperlyConfigured("Production needs DATABASE_URL pointing at PostgreSQL.")
if not env_str("REDIS_URL", ""):
    raise ImproperlyConfigured("Production needs REDIS_URL for Celery and the throttle cache.")

# Links in e-mail must point at the real, HTTPS portal.
PORTAL_BASE_URL = env_str("TAR_PORTAL_URL")
if not PORTAL_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured("TAR_PORTAL_URL must be the portal's https:// address.")

# --- mail: a real backend, configured from the environment --------------------------------
# The console, file, in-memory and dummy backends would print letters' notices to a log or
# drop them: refused, so a deployment without mail fails at start-up, not at the first notice.
_NOT_REAL_MAIL = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}
EMAIL_BACKEND = env_str("EMAIL_BACKEND")
if EMAIL_BACKEND in _NOT_REAL_MAIL:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND {EMAIL_BACKEND} does not deliver mail; use "
        "django.core.mail.backends.smtp.EmailBackend (EMAIL_HOST...) or an anymail backend."
    )
try:
    import_string(EMAIL_BACKEND)
except ImportError as exc:
    raise ImproperlyConfigured(f"EMAIL_BACKEND {EMAIL_BACKEND} cannot be imported.") from exc
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    # STARTTLS unless implicit TLS is asked for: the relay never sees a plain-text session.
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
    if not (EMAIL_USE_TLS or EMAIL_USE_SSL):
        raise ImproperlyConfigured("SMTP in production needs EMAIL_USE_TLS or EMAIL_USE_SSL.")
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
elif EMAIL_BACKEND.startswith("anymail."):
    # django-anymail (install it beside the portal): ANYMAIL_<NAME> variables become
    # ANYMAIL["<NAME>"], e.g. ANYMAIL_POSTMARK_SERVER_TOKEN.
    ANYMAIL = {k.removeprefix("ANYMAIL_"): v for k, v in os.environ.items() if k[:8] == "ANYMAIL_"}

# --- transport ----------------------------------------------------------------------------
# A TLS-terminating proxy in front sets X-Forwarded-Proto. The header is trusted only
# together with the HTTPS redirect, which production never turns off: a plain-HTTP request
# is redirected, never served (healthz stays reachable for the container's health check).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = [PORTAL_BASE_URL.rstrip("/")]
IS_PRODUCTION = True
