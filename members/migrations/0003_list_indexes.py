"""Trigram indexes for the name search of the queue and the provider dashboard (issue 16).

The SQL is written out: Django renders an `OpClass` over a function inside one more pair of
parentheses, `((UPPER("first_name") gin_trgm_ops))`, which PostgreSQL refuses; the state is
the model's `GinIndex`, so `makemigrations` stays quiet. Trigram indexes are PostgreSQL's: the
demo's embedded SQLite (`make run` without DATABASE_URL) searches without them.
"""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


def _on_postgresql(sql: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


def _index(column: str, name: str) -> migrations.SeparateDatabaseAndState:
    create = f'CREATE INDEX "{name}" ON "members_member" USING gin (UPPER("{column}") gin_trgm_ops)'
    return migrations.SeparateDatabaseAndState(
        database_operations=[
            migrations.RunPython(
                _on_postgresql(create), _on_postgresql(f'DROP INDEX IF EXISTS "{name}"')
            )
        ],
        state_operations=[
            migrations.AddIndex(
                model_name="member",
                index=django.contrib.postgres.indexes.GinIndex(
                    django.contrib.postgres.indexes.OpClass(
                        django.db.models.functions.text.Upper(column), name="gin_trgm_ops"
                    ),
                    name=name,
                ),
            )
        ],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0002_member_lookup_audit"),
    ]

    operations = [
        TrigramExtension(),
        _index("first_name", "member_first_trgm_idx"),
        _index("last_name", "member_last_trgm_idx"),
    ]
