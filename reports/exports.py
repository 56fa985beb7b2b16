"""CSV and PDF of a report (the same sections the page prints; reports.tables).

PDFs are printed by WeasyPrint, as the letters are (notifications.rendering), from a Django
template and a stylesheet of this app. CSV cells that a spreadsheet would run as a formula are
quoted (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from reports.tables import Report

_HERE = Path(__file__).resolve().parent
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    text = str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Rows → CSV text, one line at a time (for a streaming response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([csv_value(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)


def report_rows(report: Report) -> Iterator[list[Any]]:
    yield [report.title, report.period.label(), "Times in Pacific time"]
    for section in report.sections:
        yield []
        yield [section.title]
        yield section.columns
        for row in section.rows:
            yield [cell.value for cell in row]


@lru_cache(maxsize=1)
def _stylesheet():
    from weasyprint import CSS

    return CSS(filename=str(_HERE / "report.css"))


def pdf(template: str, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, {**context, "printed_at": timezone.now()})
    return HTML(string=html, base_url=str(_HERE)).write_pdf(stylesheets=[_stylesheet()])
