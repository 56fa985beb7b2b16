"""Shared fixtures for appeals, peer-to-peer talks and IMR: a TAR denied by `physician`
(so `physician2` is the independent reviewer), and small helpers."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from authorizations.models import Decision, Tar
from tests import factories

PACIFIC = ZoneInfo("America/Los_Angeles")
ESI_REF = "esi:2026.1:1"
DENY_MEDICAL = {
    "outcome": "denied",
    "reason_code": "medical_necessity",
    "rationale": "History, exam and imaging do not show radicular pain.",
    "criteria_refs": [ESI_REF],
}
NOT_MET = {**factories.ESI_MEETS, "radicular_findings": False}


def pacific(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=PACIFIC)


def end_of_day(day: date) -> datetime:
    return pacific(day, 23, 59, 59)


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code, body
    return body


def pdf_text(data: bytes) -> str:
    """The PDF's text with whitespace collapsed, as a reader would search it."""
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.fixture
def decide(api):
    """decide(tar_id, body, persona="physician") → asserts 200."""

    def do(tar_id: int, body: dict, persona: str = "physician") -> None:
        response = api(persona).post(f"/api/v1/tars/{tar_id}/decision", body, format="json")
        assert response.status_code == 200, response.json()

    return do


@pytest.fixture
def denied(submit, decide):
    """denied(**tar overrides) → the id of a Redwood TAR denied for medical necessity by
    `physician`."""

    def make(**overrides) -> int:
        overrides.setdefault("answers", NOT_MET)
        tar_id = submit("provider", **overrides)
        decide(tar_id, DENY_MEDICAL)
        assert Tar.objects.get(pk=tar_id).status == "denied"
        return tar_id

    return make


@pytest.fixture
def file_appeal(api):
    """file_appeal(tar_id, persona="member", **body) → the response."""

    def do(tar_id: int, persona: str = "member", **body):
        payload = {"reason": "My pain runs down my leg every day; I need this injection."}
        payload.update(body)
        return api(persona).post(f"/api/v1/tars/{tar_id}/appeals", payload, format="json")

    return do


@pytest.fixture
def appeal_id(denied, file_appeal) -> int:
    """A standard appeal by the member of a denied TAR."""
    response = file_appeal(denied())
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def decision_of(tar_id: int) -> Decision:
    return Decision.objects.filter(tar_id=tar_id).order_by("-decided_at", "-id").first()


OVERTURN_BODY = {"outcome": "overturned", "rationale": "The new MRI shows L5 root compression."}
