from django.db import connection

from authorizations.models import NumberSequence

# One statement: insert the year's counter or add one to it, and return the new value. The
# upsert takes the row lock for the rest of the caller's transaction, so concurrent
# submissions never share a number (PostgreSQL; SQLite serializes writers anyway). Issue 16:
# was select_for_update + save inside a savepoint, four statements.
_NEXT = (
    'INSERT INTO "authorizations_numbersequence" ("prefix", "year", "last_value") '
    'VALUES (%s, %s, 1) ON CONFLICT ("prefix", "year") DO UPDATE SET "last_value" = '
    '"authorizations_numbersequence"."last_value" + 1 RETURNING "last_value"'
)
assert NumberSequence._meta.db_table == "authorizations_numbersequence"


def next_number(prefix: str, year: int) -> str:
    """`TAR-2026-000123`: a per-year counter taken under a row lock."""
    with connection.cursor() as cursor:
        cursor.execute(_NEXT, [prefix, year])
        (value,) = cursor.fetchone()
    return f"{prefix}-{year}-{value:06d}"
