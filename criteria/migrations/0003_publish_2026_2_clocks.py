"""Publish version 2026.2 of the facet MBB and facet RFA sets (issue 11 row 13: the second
block reads `mbb_relief_percents`; a repeat RFA counts an ablation however long ago). Only
ever inserts 2026.2 rows that are missing; 2026.1 stays as published.

It publishes a frozen copy (published_2026_2.json beside it), not the live catalogue."""

import json
from datetime import date
from pathlib import Path

from django.db import migrations

VERSION = "2026.2"


FROZEN = Path(__file__).with_name("published_2026_2.json")


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
    dependencies = [("criteria", "0002_publish_2026_1")]
    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
