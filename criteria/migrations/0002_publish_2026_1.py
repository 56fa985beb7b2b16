"""Publish the shipped criteria sets, version 2026.1. Later versions come in their own
migrations; this one only ever inserts 2026.1 rows that are missing."""

from datetime import date

from django.db import migrations

VERSION = "2026.1"


def publish(apps, schema_editor):
    from criteria.catalog import SHIPPED_SETS

    CriteriaSet = apps.get_model("criteria", "CriteriaSet")
    for set_def in SHIPPED_SETS:
        if set_def["version"] != VERSION:
            continue
        CriteriaSet.objects.get_or_create(
            set_id=set_def["id"],
            version=set_def["version"],
            defaults={
                "title": set_def["title"],
                "family": set_def["family"],
                "effective_from": date.fromisoformat(set_def["effective_from"]),
                "effective_to": (
                    date.fromisoformat(set_def["effective_to"])
                    if set_def.get("effective_to")
                    else None
                ),
                "sources": list(set_def.get("sources", [])),
                "definition": set_def,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("criteria", "0001_initial")]
    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
