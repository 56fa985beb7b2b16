"""Publish the shipped criteria sets, version 2026.1. Later versions come in their own
migrations; this one only ever inserts 2026.1 rows that are missing.

It publishes a frozen copy of 2026.1 (published_2026_1.json beside it), not the live catalogue:
a migration must do the same thing whenever it runs, and a published version never changes
(tests/criteria/test_catalog.py checks the catalogue still ships exactly this copy)."""

import json
from datetime import date
from pathlib import Path

from django.db import migrations

VERSION = "2026.1"


FROZEN = Path(__file__).with_name("published_2026_1.json")


def publish(apps, schema_editor):
    CriteriaSet = apps.get_model("criteria", "CriteriaSet")
    for set_def in json.loads(FROZEN.read_text(encoding="utf-8")):
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
