"""Per-process copies of small plan tables (the PA list), kept under a version in the shared
cache so that a table read on every submission costs no query between edits (issue 16).

The table stays the truth. An edit drops the version at once and publishes a new one when its
transaction commits; a process that finds no version reads the table and publishes one with
``add`` (never overwriting a newer one). A process that edited and has not seen the commit
reads the table on every call, so a rolled-back edit is never kept. Without a shared cache
(the SQLite demo's per-process memory cache) the table is read on every call."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")

_copies: dict[str, tuple[str, object]] = {}
_editing: set[str] = set()
_lock = threading.Lock()


def shared_cache() -> bool:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "").lower()
    return "locmem" not in backend and "dummy" not in backend


def versioned(key: str, load: Callable[[], T]) -> T:
    """``load()``'s answer, read again only when the table's version has changed."""
    if not shared_cache() or key in _editing:
        return load()
    version = cache.get(key)
    copy = _copies.get(key)
    if version is not None and copy is not None and copy[0] == version:
        return copy[1]  # type: ignore[return-value]
    value = load()
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(key, version, None):
            return value  # an edit published a version meanwhile: read again next time
    with _lock:
        _copies[key] = (version, value)
    return value


def version_bump(key: str) -> None:
    """Call in the transaction that edits the table (a post_save/post_delete receiver)."""
    with _lock:
        _copies.pop(key, None)
    if not shared_cache():
        return
    _editing.add(key)
    cache.delete(key)

    def publish() -> None:
        _editing.discard(key)
        cache.set(key, uuid.uuid4().hex, None)

    transaction.on_commit(publish)


def versioned_reset() -> None:
    """Forget every copy and pending edit (a test's transaction is rolled back, never
    committed, so its edits' publish never runs)."""
    with _lock:
        _copies.clear()
        _editing.clear()
