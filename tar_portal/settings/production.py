"""Production: every secret and address must come from the environment."""

from tar_portal.env import env_bool, env_str
from tar_portal.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = env_str("DJANGO_SECRET_KEY")

if not env_str("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Production needs DATABASE_URL pointing at PostgreSQL.")
if not env_str("REDIS_URL", ""):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Production needs REDIS_URL for Celery.")

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
IS_PRODUCTION = True
