"""Settings that depend on REDIS_URL (issue 12): the throttle cache is Redis when REDIS_URL is
set and local memory otherwise; Celery acknowledges late with a Redis visibility timeout of
a few minutes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = (
    "from django.conf import settings as s; from tar_portal.celery import app; "
    "print(s.CACHES['default']['BACKEND']); "
    "print(app.conf.task_acks_late, app.conf.broker_transport_options.get('visibility_timeout'))"
)


def _settings(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "tar_portal.settings.development", **env})
    clean["TAR_VAR_DIR"] = "/tmp/tar_runtime_settings_var"
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", CODE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_with_redis_the_cache_is_redis_and_tasks_are_redelivered_within_minutes():
    backend, acks_late, visibility = _settings(REDIS_URL="redis://127.0.0.1:6379/14")
    assert backend == "django.core.cache.backends.redis.RedisCache"
    assert acks_late == "True"
    # A few minutes, longer than the longest retry countdown (900 s).
    assert 900 < int(visibility) <= 30 * 60


def test_without_redis_the_cache_is_local_memory():
    backend, acks_late, _ = _settings()
    assert backend == "django.core.cache.backends.locmem.LocMemCache"
    assert acks_late == "True"
