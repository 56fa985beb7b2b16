"""Integration fixtures: real worker and web processes (tests/integration/processes.py)."""

import uuid

import pytest

from tar_portal.celery import app as celery_app


@pytest.fixture
def worker_queue():
    """A queue of our own, so no other worker on this machine takes our tasks."""
    queue = f"test-deadlines-{uuid.uuid4().hex[:8]}"
    old = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    yield queue
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = old
