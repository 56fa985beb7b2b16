"""The provider's request flow (issue 15): each step's errors at their fields in plain words,
codes checked against the plan's table, the ICD-10-CM look-up and its scoping, the RAF
preselected, the receipt, the complete request detail, and the one date filter."""

from __future__ import annotations

import html as html_module
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.template import Context, Template
from django.utils import timezone, translation

from authorizations import icd10
from authorizations.models import Tar
from criteria import catalog
from portal.models import TarDraft
from portal.templatetags.portal_dates import when
from tests.portal.test_drafts import _member_step, _request_step, _start

pytestmark = pytest.mark.django_db


def _field_error(html: str, field_id: str) -> str:
    """The text of the error shown at one field (the `_field.html` error paragraph)."""
    found = re.search(rf'<p class="field-error" id="{field_id}_error">(.*?)</p>', html, re.S)
    return html_module.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else ""


# --- the request step ----------------------------------------------------------------------


def test_the_request_step_shows_each_error_at_its_field(client_for, world):
    client = client_for("provider")
    draft = _start(client)
    _member_step(client, draft, world)
    start = timezone.localdate() + timedelta(days=10)
    response = client.post(
        f"/provider/drafts/{draft}/request",
        _request_step(
            world,
            code="99999",
            urgency="urgent",
            **{
                "line-0-diagnosis_codes": "X99.999",
                "line-0-service_date_from": (start + timedelta(days=5)).isoformat(),
                "line-0-service_date_to": start.isoformat(),
            },
        ),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "An urgent request states why" in _field_error(html, "id_urgency_reason")
    assert "99999 is not in the plan's code table" in _field_error(html, "id_line-0-code")
    assert "'X99.999' is not an ICD-10-CM code." in _field_error(html, "id_line-0-diagnosis_codes")
    assert _field_error(html, "id_line-0-service_date_to") == (
        "The last day of service must be on or after the first day."
    )
    assert "lines[0]" not in html and "service_date_from" not in _field_error(
        html, "id_line-0-service_date_to"
    )
    # Nothing moved on: the provider is still at this step.
    assert "New request: request and services" in html


def test_a_category_is_not_a_billable_diagnosis(client_for, world):
    client = client_for("provider")
    draft = _start(client)
    _member_step(client, draft, world)
    response = client.post(
        f"/provider/drafts/{draft}/request",
        _request_step(world, **{"line-0-diagnosis_codes": "M54"}),
    )
    assert response.status_code == 400
    assert "M54 is a category" in _field_error(
        response.content.decode(), "id_line-0-diagnosis_codes"
    )


def test_a_complete_request_step_goes_on_and_titles_the_diagnoses(client_for, world):
    client = client_for("provider")
    draft = _start(client)
    _member_step(client, draft, world)
    response = client.post(f"/provider/drafts/{draft}/request", _request_step(world))
    assert response.status_code == 302
    assert response["Location"].endswith("/questions")
    page = client.get(f"/provider/drafts/{draft}/request").content.decode()
    assert "Radiculopathy, lumbar region" in page


def test_the_only_valid_raf_is_preselected(client_for, world):
    client = client_for("provider")
    draft = _start(client)
    _member_step(client, draft, world)
    page = client.get(f"/provider/drafts/{draft}/request").content.decode()
    assert re.search(rf'<option value="{world.referral.pk}"[^>]* selected>', page)


def test_a_raf_the_provider_cleared_stays_cleared(client_for, world):
    client = client_for("provider")
    draft = _start(client)
    _member_step(client, draft, world)
    client.post(
        f"/provider/drafts/{draft}/request", _request_step(world, referral="", action="check")
    )
    page = client.get(f"/provider/drafts/{draft}/request").content.decode()
    # An autosaved blank choice is the provider's: not overridden (only a fresh step is).
    assert TarDraft.objects.get(pk=draft).data["request"]["referral"] == ""
    assert not re.search(rf'<option value="{world.referral.pk}"[^>]* selected>', page)


# --- the look-up ---------------------------------------------------------------------------


def test_the_lookup_finds_codes_and_words(client_for, world):
    client = client_for("provider")
    by_code = client.get("/provider/diagnoses", {"q": "M54.1"}).json()["results"]
    assert {"code": "M54.16", "title": "Radiculopathy, lumbar region"} in by_code
    assert all(item["code"].startswith("M54.1") for item in by_code)
    by_words = client.get("/provider/diagnoses", {"q": "radiculopathy lumbar"}).json()["results"]
    assert by_words and all(
        "radiculopathy" in item["title"].lower() and "lumbar" in item["title"].lower()
        for item in by_words
    )
    assert client.get("/provider/diagnoses", {"q": "x" * 81}).status_code == 400
    assert client.get("/provider/diagnoses", {"q": "M"}).json() == {"results": []}


@pytest.mark.parametrize("persona", ["member", "nurse"])
def test_the_lookup_is_for_providers_only(client_for, world, persona):
    assert client_for(persona).get("/provider/diagnoses", {"q": "M54"}).status_code == 403


def test_the_lookup_asks_an_anonymous_visitor_to_sign_in(client):
    response = client.get("/provider/diagnoses", {"q": "M54"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_titles_match_the_library_file():
    assert icd10.description("M54.16") == "Radiculopathy, lumbar region"
    assert icd10.describe("m5416").code == "M54.16"
    assert icd10.describe("X99.999") is None
    assert [d.code for d in icd10.search("M54.16")] == ["M54.16"]


# --- receipt and detail --------------------------------------------------------------------


def _submitted(client, world) -> Tar:
    draft = _start(client)
    _member_step(client, draft, world)
    client.post(f"/provider/drafts/{draft}/request", _request_step(world))
    # Typed in another order than the questionnaire's: levels, then pain score, then weeks.
    client.post(
        f"/provider/drafts/{draft}/questions",
        {"levels": "1", "pain_score": "7", "pain_duration_weeks": "10", "action": "continue"},
    )
    response = client.post(f"/provider/drafts/{draft}/submit")
    assert response.status_code == 302, response.content.decode()[:2000]
    return Tar.objects.latest("id")


def test_the_receipt_and_the_detail_show_the_whole_request(client_for, world):
    client = client_for("provider")
    tar = _submitted(client, world)
    receipt = client.get(f"/provider/tars/{tar.pk}/submitted").content.decode()
    detail = client.get(f"/provider/tars/{tar.pk}/").content.decode()
    for page in (receipt, detail):
        assert tar.number in page
        assert "Ambulatory Surgical Center (POS 24)" in page
        assert "Radiculopathy, lumbar region" in page
        assert world.referral.number in page
        assert "Answers submitted" in page
        assert "Place of service 24" not in page
    assert "Request submitted" in receipt
    assert f"/provider/tars/{tar.pk}/submitted?from=request" in detail
    again = client.get(f"/provider/tars/{tar.pk}/submitted?from=request").content.decode()
    assert "Submission receipt for" in again and "Request submitted" not in again
    assert "receipt.css" in again


def test_answers_read_in_questionnaire_order(client_for, world):
    client = client_for("provider")
    tar = _submitted(client, world)
    detail = client.get(f"/provider/tars/{tar.pk}/").content.decode()
    section = html_module.unescape(detail[detail.index("Answers submitted") :])
    shown = [
        key
        for key in tar.answers
        if catalog.QUESTIONS.get(key) and catalog.QUESTIONS[key]["label"] in section
    ]
    positions = [section.index(str(catalog.QUESTIONS[key]["label"])) for key in shown]
    order = [list(catalog.QUESTIONS).index(key) for key in shown]
    assert len(shown) == 3
    assert [k for _, k in sorted(zip(positions, order, strict=True))] == sorted(order)


def test_another_office_does_not_see_the_receipt(client_for, world):
    tar = _submitted(client_for("provider"), world)
    assert client_for("provider2").get(f"/provider/tars/{tar.pk}/submitted").status_code == 404


# --- one date filter -----------------------------------------------------------------------


def test_a_time_in_daylight_time_and_in_standard_time():
    # 2026-12-09 07:59 UTC = Tue Dec 8, 11:59 PM PST; 2026-07-01 19:05 UTC = 12:05 PM PDT.
    assert when(datetime(2026, 12, 9, 7, 59, tzinfo=UTC)) == "Tue, Dec 8, 2026, 11:59 PM PT"
    assert when(datetime(2026, 7, 1, 19, 5, tzinfo=UTC)) == "Wed, Jul 1, 2026, 12:05 PM PT"
    assert when(datetime(2026, 12, 9, 7, 59, tzinfo=UTC), "date") == "Tue, Dec 8, 2026"
    assert when(date(2026, 12, 8)) == "Tue, Dec 8, 2026"
    assert when(None) == "" and when("2026-12-08") == ""


def test_the_dst_nights():
    # Spring forward 2026-03-08 02:00 PST → 03:00 PDT; fall back 2026-11-01 02:00 → 01:00.
    assert when(datetime(2026, 3, 8, 9, 59, tzinfo=UTC)) == "Sun, Mar 8, 2026, 1:59 AM PT"
    assert when(datetime(2026, 3, 8, 10, 0, tzinfo=UTC)) == "Sun, Mar 8, 2026, 3:00 AM PT"
    assert when(datetime(2026, 11, 1, 8, 30, tzinfo=UTC)) == "Sun, Nov 1, 2026, 1:30 AM PT"
    assert when(datetime(2026, 11, 1, 9, 30, tzinfo=UTC)) == "Sun, Nov 1, 2026, 1:30 AM PT"
    # A UTC date past midnight is still the day before in California.
    assert when(datetime(2026, 11, 2, 7, 30, tzinfo=UTC), "date") == "Sun, Nov 1, 2026"


@time_machine.travel(datetime(2026, 12, 9, 7, 59, tzinfo=UTC), tick=False)
def test_templates_use_the_one_format_in_english_and_spanish():
    template = Template(
        "{% load portal portal_dates %}{{ now|when }} | {{ now|pacific }} | {{ now|pacific_date }}"
    )
    english = template.render(Context({"now": timezone.now()}))
    assert english == (
        "Tue, Dec 8, 2026, 11:59 PM PT | Tue, Dec 8, 2026, 11:59 PM PT | Tue, Dec 8, 2026"
    )
    with translation.override("es"):
        spanish = template.render(Context({"now": timezone.now()}))
    assert spanish == "mar, 8 dic 2026, 23:59 PT | mar, 8 dic 2026, 23:59 PT | mar, 8 dic 2026"
