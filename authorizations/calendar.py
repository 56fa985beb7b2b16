"""The plan's business calendar: the `holidays` library's California list plus admin edits.

Every submission and every sweep needs it, so it is built once per process and kept under a
version key (issue 16). The key lives in the shared cache (Redis), so an edit on one node is
seen by every web and worker process on the next call; any edit of the calendar's rows bumps
it (`calendar_changed`, connected to the models in `CALENDAR_MODELS` by the app config).
Without a shared cache (the SQLite demo's per-process memory cache) the rows are read on
every call, as before, because another process's edit could not reach this one.
"""

from __future__ import annotations

import hashlib
import uuid
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from authorizations.clocks import BusinessCalendar
from authorizations.models import CalendarAdjustment, CalendarAdjustmentKind

# The years the business calendar knows; a clock outside them cannot be computed.
SUPPORTED_YEARS = range(2020, 2041)

# The rows whose edits change the calendar: a save or delete of any of them bumps the version.
CALENDAR_MODELS: tuple[type, ...] = (CalendarAdjustment,)

VERSION_KEY = "business-calendar-version"
PENDING = "pending-"
PENDING_SECONDS = 300

# version -> calendar, in this process.
_BY_VERSION: dict[str, BusinessCalendar] = {}


@lru_cache(maxsize=8)
def _calendar_for(added: tuple, removed: tuple) -> BusinessCalendar:
    return BusinessCalendar.california(years=SUPPORTED_YEARS, added=added, removed=removed)


def _load_calendar() -> tuple[BusinessCalendar, str]:
    """The calendar from its rows, and a version naming exactly those rows."""
    added: list = []
    removed: list = []
    for day, kind in CalendarAdjustment.objects.order_by("date").values_list("date", "kind"):
        (added if kind == CalendarAdjustmentKind.ADDED else removed).append(day)
    digest = hashlib.sha256(repr((added, removed)).encode()).hexdigest()[:16]
    return _calendar_for(tuple(added), tuple(removed)), f"rows-{digest}"


def _shared_cache() -> bool:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return "locmem" not in backend.lower() and "dummy" not in backend.lower()


def plan_calendar() -> BusinessCalendar:
    """The calendar in force: no query while the shared version key is unchanged."""
    if not _shared_cache():
        return _load_calendar()[0]
    version = cache.get(VERSION_KEY)
    if version is not None and version in _BY_VERSION:
        return _BY_VERSION[version]
    calendar, rows_version = _load_calendar()
    if version is not None and version.startswith(PENDING):
        return calendar  # an edit not yet committed (or rolled back): read the rows each time
    if version is None:
        # First process after a cache flush: publish the version of the rows just read. `add`
        # never overwrites a bump that landed meanwhile, which then wins on the next call.
        cache.add(VERSION_KEY, rows_version, None)
        version = rows_version
    if len(_BY_VERSION) > 16:
        _BY_VERSION.clear()
    _BY_VERSION[version] = calendar
    return calendar


def calendar_changed(**_: object) -> None:
    """Called on every save or delete of a calendar row. At once, the version becomes
    "pending": every process reads the rows on each call and caches nothing, so no one keeps
    the old calendar, nor an edit that may still roll back. Once the edit is committed, a new
    version: the next call in each process reads the committed rows once and keeps them. A
    rolled-back edit leaves "pending" until it expires, which costs a query per call, never a
    wrong calendar."""
    _BY_VERSION.clear()
    if not _shared_cache():
        return
    cache.set(VERSION_KEY, f"{PENDING}{uuid.uuid4().hex}", PENDING_SECONDS)

    def bump() -> None:
        _BY_VERSION.clear()
        cache.set(VERSION_KEY, f"edit-{uuid.uuid4().hex}", None)

    transaction.on_commit(bump)
