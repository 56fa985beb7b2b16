"""The plan's prior-authorization list in the database (PRODUCT §5; issue 11 row 12): the
lookup every caller with a database uses, the UM manager's edits with their history, and the
seed. The rules themselves are pure (criteria.coverage)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from criteria.coverage import DEFAULT_PA_LIST, Coverage, MemberFacts, coverage_requirement
from criteria.models import PaListChange, PaListEntry
from tar_portal.versioned import version_bump, versioned

PA_LIST_VERSION_KEY = "pa-list-version"


def pa_list_rows() -> list:
    """Every entry of the plan's list (the pure lookup picks the ones in force), read once per
    process and version: every save or delete of an entry bumps it (criteria.models)."""
    return versioned(
        PA_LIST_VERSION_KEY, lambda: [entry.as_row() for entry in PaListEntry.objects.all()]
    )


def coverage_lookup(
    *,
    code: str,
    service_date: date,
    member: MemberFacts | None,
    chosen_set: str | None = None,
) -> Coverage:
    """Is a TAR required? against the plan's current PA list. Same arguments and answer as
    ``criteria.coverage.coverage_requirement``; every caller with a database uses this."""
    return coverage_requirement(
        code=code,
        service_date=service_date,
        member=member,
        chosen_set=chosen_set,
        pa_list=pa_list_rows(),
    )


def tar_required_on(*, code: str, service_date: date) -> bool:
    """Whether the plan's list requires a TAR for the code on the date (no member facts)."""
    return coverage_lookup(code=code, service_date=service_date, member=None).tar_required


def _snapshot(entry: PaListEntry) -> dict[str, Any]:
    return {
        "code_from": entry.code_from,
        "code_to": entry.code_to,
        "effective_from": entry.effective_from.isoformat(),
        "effective_to": entry.effective_to.isoformat() if entry.effective_to else None,
        "tar_required": entry.tar_required,
        "rule": entry.rule,
        "source": entry.source,
        "description": entry.description,
    }


def pa_list_entry_save(*, entry: PaListEntry, user: Any) -> PaListEntry:
    """Add or change an entry, recording who changed what and when (the admin calls this)."""
    with transaction.atomic():
        before = None
        if entry.pk is not None:
            old = PaListEntry.objects.select_for_update().filter(pk=entry.pk).first()
            before = _snapshot(old) if old is not None else None
        entry.full_clean()
        entry.save()
        PaListChange.objects.create(
            entry_id_at_change=entry.pk,
            action="changed" if before else "added",
            before=before,
            after=_snapshot(entry),
            changed_by=user,
        )
    return entry


def pa_list_entry_delete(*, entry: PaListEntry, user: Any) -> None:
    with transaction.atomic():
        PaListChange.objects.create(
            entry_id_at_change=entry.pk,
            action="removed",
            before=_snapshot(entry),
            after=None,
            changed_by=user,
        )
        entry.delete()


def pa_list_seed() -> int:
    """Load the shipped list into an empty one (a fresh test database, ``seed_demo``); a list
    that has any entry is the plan's and is left alone. Returns the entries created."""
    if PaListEntry.objects.exists():
        return 0
    PaListEntry.objects.bulk_create(
        PaListEntry(
            code_from=row.code_from,
            code_to=row.code_to,
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            tar_required=row.tar_required,
            rule=row.rule,
            source=row.source,
            description=row.description,
        )
        for row in DEFAULT_PA_LIST
    )
    version_bump(PA_LIST_VERSION_KEY)  # bulk_create sends no signal
    return len(DEFAULT_PA_LIST)
