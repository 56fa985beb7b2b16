"""PRODUCT §3: the history is append-only. On PostgreSQL a trigger refuses UPDATE and DELETE
of history rows, so not even a bug or a hand-typed SQL statement can rewrite it."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION tar_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'authorizations_historyentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER history_append_only
    BEFORE UPDATE OR DELETE ON authorizations_historyentry
    FOR EACH ROW EXECUTE FUNCTION tar_history_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS history_append_only ON authorizations_historyentry;
DROP FUNCTION IF EXISTS tar_history_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("authorizations", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
