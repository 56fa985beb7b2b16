"""Criteria in the database: publishing the shipped sets, picking the version in force, and
evaluating a code against the version in force (PRODUCT §6); applying that to a request
is authorizations.services.evaluation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from criteria import catalog, engine
from criteria.models import CRITERIA_SETS_VERSION_KEY, CriteriaSet, CriteriaSetSetting
from tar_portal.versioned import versioned


def _parse(day: str | None) -> date | None:
    return date.fromisoformat(day) if day else None


@transaction.atomic
def criteria_publish_catalog() -> list[CriteriaSet]:
    """Publish every shipped set version not yet in the database. Published rows are never
    changed: a changed set is shipped as a new version."""
    created = []
    for set_def in catalog.SHIPPED_SETS:
        exists = CriteriaSet.objects.filter(
            set_id=set_def["id"], version=set_def["version"]
        ).exists()
        if exists:
            continue
        created.append(
            CriteriaSet.objects.create(
                set_id=set_def["id"],
                version=set_def["version"],
                title=set_def["title"],
                family=set_def["family"],
                effective_from=date.fromisoformat(set_def["effective_from"]),
                effective_to=_parse(set_def.get("effective_to")),
                sources=list(set_def.get("sources", [])),
                definition=set_def,
            )
        )
    return created


def _published_sets() -> dict[str, list[CriteriaSet]]:
    """Every published version by set, newest first, with the plan's auto-approval setting
    (`auto_approve_allowed`). A dozen rows: read once per process and version — publishing a
    version or changing a setting bumps it (criteria.models) — so a submission evaluates its
    lines without a query (issue 16). Published rows never change (CriteriaSet.save)."""
    allowed = CriteriaSetSetting.objects.filter(set_id=OuterRef("set_id"), auto_approve=True)
    by_set: dict[str, list[CriteriaSet]] = {}
    for criteria_set in CriteriaSet.objects.annotate(auto_approve_allowed=Exists(allowed)).order_by(
        "set_id", "-effective_from", "-published_at"
    ):
        by_set.setdefault(criteria_set.set_id, []).append(criteria_set)
    return by_set


def criteria_set_in_force(*, set_id: str, on: date) -> CriteriaSet | None:
    """The version in force on `on` (the latest effective, then the latest published), with
    the plan's auto-approval setting for the set (`auto_approve_allowed`)."""
    for criteria_set in versioned(CRITERIA_SETS_VERSION_KEY, _published_sets).get(set_id, ()):
        if criteria_set.effective_from <= on and (
            criteria_set.effective_to is None or criteria_set.effective_to >= on
        ):
            return criteria_set
    return None


def current_criteria_sets(*, on: date | None = None) -> list[CriteriaSet]:
    """The version of each set in force on `on` (today), in set order."""
    on = on or timezone.localdate()
    in_force = (
        criteria_set_in_force(set_id=set_id, on=on)
        for set_id in versioned(CRITERIA_SETS_VERSION_KEY, _published_sets)
    )
    return [criteria_set for criteria_set in in_force if criteria_set is not None]


_COMPILED: dict[tuple[str, str], engine.CompiledSet] = {}


def _compiled(criteria_set: CriteriaSet) -> engine.CompiledSet:
    """Published versions never change, so each is compiled once per process."""
    key = (criteria_set.set_id, criteria_set.version)
    if key not in _COMPILED:
        _COMPILED[key] = engine.compile_criteria_set(criteria_set.definition)
    return _COMPILED[key]


def evaluate_line(
    *,
    code: str,
    answers: dict[str, Any],
    chosen_set: str | None,
    on: date,
    prior: Callable[[CriteriaSet], int] | None = None,
) -> tuple[CriteriaSet | None, engine.Evaluation, int]:
    """Evaluate one code against the set version in force on `on`. `prior` counts the plan's
    own approved sessions for the set's family (the caller knows the member; criteria knows
    nothing of requests). Raises CriteriaError for a malformed code or a set that does not
    fit the code."""
    set_id = catalog.criteria_set_for(code, chosen_set)
    if set_id is None:
        return None, engine.evaluate_no_set(code), 0
    criteria_set = criteria_set_in_force(set_id=set_id, on=on)
    if criteria_set is None:
        # No version in force on that date: nothing to apply automatically.
        return None, engine.evaluate_no_set(code), 0
    sessions = prior(criteria_set) if prior is not None else 0
    evaluation = engine.evaluate(
        _compiled(criteria_set), code=code, answers=answers, plan_prior_sessions=sessions
    )
    return criteria_set, evaluation, sessions


def criteria_refs_resolve(refs: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Resolve citations of the form `<set>:<version>:<number>` (e.g. `esi:2026.1:3`) to the
    published criterion, returning (resolved, errors). Letters cite these exact words."""
    resolved: list[dict[str, Any]] = []
    errors: list[str] = []
    cache: dict[tuple[str, str], CriteriaSet | None] = {}
    for ref in refs:
        parts = str(ref).split(":")
        if len(parts) != 3 or not parts[2].isdigit():
            errors.append(f"{ref!r}: cite as set:version:number, e.g. esi:2026.1:3.")
            continue
        set_id, version, number = parts[0], parts[1], int(parts[2])
        key = (set_id, version)
        if key not in cache:
            cache[key] = CriteriaSet.objects.filter(set_id=set_id, version=version).first()
        criteria_set = cache[key]
        criterion = None
        if criteria_set is not None:
            criterion = next((c for c in criteria_set.criteria if c["number"] == number), None)
        if criteria_set is None or criterion is None:
            errors.append(f"{ref!r}: no such published criterion.")
            continue
        resolved.append(
            {
                "ref": f"{set_id}:{version}:{number}",
                "criteria_set": set_id,
                "version": version,
                "title": criteria_set.title,
                "number": number,
                "text": criterion["text"],
                "text_es": criterion.get("text_es", ""),
            }
        )
    return resolved, errors
