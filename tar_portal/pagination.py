"""Keyset (cursor) pagination for every API list (issue 16).

A page is "the next `page_size` rows after this one" in the list's own ordering, so its cost
does not depend on how deep the caller reads nor on how many rows the table holds: the query
walks the ordering's index from the cursor. Page-number pagination counted every matching
row and skipped OFFSET rows on every request (317 ms of the provider list's 472 ms at 1M).

- The ordering is the queryset's `order_by`, with the primary key appended when it is not
  there, so that the position is unique. The cursor is the last row's values of those
  fields, base64-encoded JSON, opaque to clients (`next` and `previous` are links).
- `count` is exact up to `COUNT_CAP` and `COUNT_CAP` beyond, with `count_capped` true ("1,000+"):
  counting stops there, so the total costs at most that many index entries.
- A malformed cursor is a 400 (tar_portal.errors), never a 500.
"""

from __future__ import annotations

import base64
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, Model, Q, QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param

from tar_portal.errors import DomainError, ErrorCode

COUNT_CAP = 1000


def _bad_cursor() -> DomainError:
    return DomainError(
        ErrorCode.INVALID,
        "Not a cursor of this list.",
        fields={"cursor": ["Use the next or previous link of a page."]},
    )


def _field(model: type[Model], path: str):
    parts = path.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model  # type: ignore[assignment]
    name = parts[-1]
    if name == "pk":
        return model._meta.pk
    return model._meta.get_field(name)


def _ordering(queryset: QuerySet) -> list[tuple[str, bool]]:
    """[(field path, descending)] of the queryset, ending with the primary key."""
    order = list(queryset.query.order_by) or list(queryset.model._meta.ordering or [])
    keys: list[tuple[str, bool]] = []
    for item in order:
        if not isinstance(item, str) or item.startswith("?"):
            raise ValueError(f"Keyset pagination needs plain field orderings, not {item!r}")
        descending = item.startswith("-")
        name = item.lstrip("-")
        if name in ("pk", queryset.model._meta.pk.attname, queryset.model._meta.pk.name):
            name = "pk"
        keys.append((name, descending))
        if name == "pk":
            break
    if not keys or keys[-1][0] != "pk":
        keys.append(("pk", keys[-1][1] if keys else False))
    return keys


def _nulls_last(descending: bool) -> bool:
    # PostgreSQL: NULLs sort as larger than any value; SQLite and MySQL: as smaller.
    large = connection.vendor in ("postgresql", "oracle")
    return large != descending


def _after(keys: list[tuple[str, bool]], values: list[Any]) -> Q:
    """Rows strictly after `values` in the `keys` ordering (NULLs where the database puts
    them), as an OR of "equal on the first k-1 keys, after on the k-th"."""
    result = Q(pk__in=[])
    equal = Q()
    for (name, descending), value in zip(keys, values, strict=True):
        nulls_last = _nulls_last(descending)
        if value is None:
            step = Q(pk__in=[])
            if not nulls_last:  # NULLs first: every non-null row comes after
                step = Q(**{f"{name}__isnull": False})
            same = Q(**{f"{name}__isnull": True})
        else:
            step = Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
            if nulls_last:
                step |= Q(**{f"{name}__isnull": True})
            same = Q(**{name: value})
        result |= equal & step
        equal &= same
    return result


def _bound(keys: list[tuple[str, bool]], values: list[Any]) -> Q:
    """A redundant bound on the first key (`>=` / `<=` the cursor's value) that the database
    can use as an index condition, so the walk starts at the cursor."""
    name, descending = keys[0]
    value = values[0]
    if value is None:
        return Q()
    bound = Q(**{f"{name}__{'lte' if descending else 'gte'}": value})
    if _nulls_last(descending):
        bound |= Q(**{f"{name}__isnull": True})
    return bound


@dataclass
class KeysetSlice:
    """One page of a list in keyset order: the rows, the capped total, and the cursors of
    the pages after and before it (None at either end)."""

    rows: list
    count: int
    count_capped: bool
    next_cursor: str | None
    previous_cursor: str | None


def encode_cursor(keys: list[tuple[str, bool]], row: Model, direction: str) -> str:
    values = []
    for name, _ in keys:
        value: Any = row
        for part in name.split("__"):
            value = getattr(value, part) if value is not None else None
        field = _field(type(row), name)
        values.append(None if value is None else field.value_to_string(_Holder(field, value)))
    raw = json.dumps([direction, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    keys: list[tuple[str, bool]], model: type[Model], cursor: str
) -> tuple[str, list[Any]]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        direction, raw_values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if direction not in ("n", "p") or len(raw_values) != len(keys):
            raise ValueError
        values: list[Any] = []
        for (name, _), raw in zip(keys, raw_values, strict=True):
            if raw is None:
                values.append(None)
                continue
            if not isinstance(raw, str | int | float):
                raise ValueError
            values.append(_field(model, name).to_python(raw))
    except Exception as exc:  # any malformed cursor (binascii, JSON, field parsing)
        raise _bad_cursor() from exc
    return direction, values


def capped_count(parts: list[QuerySet], *, ordered: bool = False) -> tuple[int, bool]:
    """(the total up to COUNT_CAP, whether there are more): counting stops after
    COUNT_CAP + 1 rows of each part, so it costs at most that many index entries.

    `ordered` keeps each part's ordering in the counted subquery, so that PostgreSQL walks
    the list's own index and stops at the cap; unordered, a rare status (a provider's
    pended requests) was counted by a bitmap of every open request of the organization."""
    total = sum((part if ordered else part.order_by())[: COUNT_CAP + 1].count() for part in parts)
    return min(total, COUNT_CAP), total > COUNT_CAP


def keyset_slice(
    queryset: QuerySet,
    *,
    cursor: str | None,
    size: int,
    branches: list[Q] | None = None,
    parts: list[QuerySet] | None = None,
    ids_first: bool = False,
    count: bool = True,
) -> KeysetSlice:
    """The `size` rows after (or before) `cursor` in the queryset's ordering.

    `branches`: disjoint filters whose union is the queryset (a provider's "requesting OR
    servicing organization"), each served by an index of its own. Each branch is walked
    from the cursor for one page and the streams are merged, instead of one OR that no
    index serves (issue 16). `parts`: the same as querysets of their own (each filtered by
    its part only, in the queryset's ordering); the page's rows are read from `queryset`.
    `ids_first`: read the page's keys first (a narrow index walk),
    then its rows by primary key, so that joins are not made for rows the LIMIT drops.
    `count=False` skips the capped total (a page whose counts are shown elsewhere).
    A malformed cursor raises DomainError (a 400)."""
    keys = _ordering(queryset)
    if parts is None:
        parts = [queryset.filter(branch) for branch in branches] if branches else [queryset]
    # A provider's streams are counted along their own index (tar_req_org_recv_idx…) and stop
    # at the cap; unordered, PostgreSQL read them by a heap scan that grew with the table.
    # A single list keeps the planner's choice (a family filter probes each row's lines, and
    # a narrow index-only walk of the statuses is cheaper than the list's ordering index).
    total, capped = capped_count(parts, ordered=len(parts) > 1) if count else (0, False)
    direction, values = ("n", None)
    if cursor:
        direction, values = decode_cursor(keys, queryset.model, cursor)
    walk = keys if direction == "n" else [(name, not desc) for name, desc in keys]
    if values is not None:
        after = _bound(walk, values) & _after(walk, values)
        parts = [part.filter(after) for part in parts]
    # The database's own NULL placement (as `_nulls_last` assumes), so the ordering
    # matches the indexes'.
    order = [F(name).desc() if desc else F(name).asc() for name, desc in walk]
    if len(parts) == 1 and not ids_first:
        rows = list(parts[0].order_by(*order)[: size + 1])
    else:
        rows = _merged(queryset, parts, walk, order, size + 1)
    more = len(rows) > size
    rows = rows[:size]
    if direction == "p":
        rows.reverse()
    # Forward: a next page when one more row was found; a previous one when we came from
    # a cursor. Backward: the mirror image.
    has_next = more if direction == "n" else values is not None
    has_previous = values is not None if direction == "n" else more
    return KeysetSlice(
        rows=rows,
        count=total,
        count_capped=capped,
        next_cursor=encode_cursor(keys, rows[-1], "n") if rows and has_next else None,
        previous_cursor=encode_cursor(keys, rows[0], "p") if rows and has_previous else None,
    )


class Pagination(BasePagination):
    page_size_query_param = "page_size"
    max_page_size = 200
    cursor_query_param = "cursor"

    def __init__(self) -> None:
        self.page_size = api_settings.PAGE_SIZE or 25
        self.count = 0
        self.count_capped = False
        self.next_link: str | None = None
        self.previous_link: str | None = None

    def _page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or int(raw) < 1:
            raise DomainError(
                ErrorCode.INVALID,
                "Not a page size.",
                fields={"page_size": [f"A whole number from 1 to {self.max_page_size}."]},
            )
        return min(int(raw), self.max_page_size)

    def paginate_queryset(
        self, queryset, request: Request, view=None, branches: list[Q] | None = None
    ) -> list:
        """One keyset page (`keyset_slice`; `branches` as there)."""
        self.request = request
        size = self._page_size(request)
        if not isinstance(queryset, QuerySet):
            rows = list(queryset)
            self.count, self.count_capped = min(len(rows), COUNT_CAP), len(rows) > COUNT_CAP
            return rows[:size]
        page = keyset_slice(
            queryset,
            cursor=request.query_params.get(self.cursor_query_param),
            size=size,
            branches=branches,
        )
        self.count, self.count_capped = page.count, page.count_capped
        url = request.build_absolute_uri()
        if page.next_cursor:
            self.next_link = replace_query_param(url, self.cursor_query_param, page.next_cursor)
        if page.previous_cursor:
            self.previous_link = replace_query_param(
                url, self.cursor_query_param, page.previous_cursor
            )
        return page.rows

    def get_paginated_response(self, data) -> Response:
        return Response(
            OrderedDict(
                [
                    ("count", self.count),
                    ("count_capped", self.count_capped),
                    ("next", self.next_link),
                    ("previous", self.previous_link),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["count", "count_capped", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": f"Matching rows, counted up to {COUNT_CAP}.",
                    "example": 123,
                },
                "count_capped": {
                    "type": "boolean",
                    "description": f"True when more than {COUNT_CAP} rows match ('1,000+').",
                },
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The position: take it from a page's next or previous link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, at most {self.max_page_size}.",
                "schema": {"type": "integer"},
            },
        ]


def _merged(queryset: QuerySet, parts: list[QuerySet], walk, order, limit: int) -> list:
    """The first `limit` rows of the union of disjoint `parts` in the `walk` ordering: each
    part's first `limit` keys (one index walk each), merged here, then those rows read with
    the queryset's related rows."""
    names = [name for name, _ in walk]
    keyed: list[tuple[Any, ...]] = []
    for part in parts:
        keyed.extend(part.order_by(*order).values_list(*names)[:limit])
    for position in reversed(range(len(walk))):
        descending = walk[position][1]
        nulls_high = _nulls_last(descending) != descending

        def key(row, position=position, nulls_high=nulls_high):
            value = row[position]
            return (value is None) == nulls_high, value if value is not None else 0

        keyed.sort(key=key, reverse=descending)
    chosen = [row[-1] for row in keyed[:limit]]
    by_pk = {row.pk: row for row in queryset.filter(pk__in=chosen).order_by()}
    return [by_pk[pk] for pk in chosen if pk in by_pk]


class _Holder:
    """`Field.value_to_string` reads the value from an object's attribute."""

    def __init__(self, field, value) -> None:
        setattr(self, field.attname, value)
