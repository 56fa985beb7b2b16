"""Internal notes stay internal (PRODUCT §2, issue 12): a nurse's referral note never reaches
the provider's or the member's views (portal pages, API history and detail), and those views
speak in plain words, never in status codes such as `in_review`."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from authorizations import services

pytestmark = pytest.mark.django_db

NOTE = "INTERNAL-7f3: prior opioid agreement breached, physician please look closely"
ASKED = "Please send the MRI report of the lumbar spine."


@pytest.fixture
def referred(submit, world) -> int:
    tar_id = submit("provider")
    nurse = world.users["nurse"]
    services.tar_claim(tar_id=tar_id, user=nurse)
    services.tar_request_info(tar_id=tar_id, user=nurse, message=ASKED)
    services.tar_refer(tar_id=tar_id, user=nurse, note=NOTE)
    return tar_id


def _text(response) -> str:
    assert response.status_code == 200, response.content[:300]
    return (
        json.dumps(response.json())
        if response["Content-Type"].startswith("application/json")
        else response.content.decode()
    )


@pytest.mark.parametrize("persona", ["provider", "member"])
def test_the_referral_note_is_not_in_the_api_for_provider_or_member(api, referred, persona):
    client = api(persona)
    history = _text(client.get(f"/api/v1/tars/{referred}/history"))
    detail = _text(client.get(f"/api/v1/tars/{referred}/"))
    assert NOTE not in history and NOTE not in detail
    assert "INTERNAL-7f3" not in history + detail


def test_plan_staff_still_see_the_note(api, referred):
    assert NOTE in _text(api("physician").get(f"/api/v1/tars/{referred}/history"))


def test_provider_history_is_in_plain_words_and_keeps_what_was_asked(api, referred):
    rows = api("provider").get(f"/api/v1/tars/{referred}/history").json()
    labels = [row["action_label"] for row in rows]
    assert labels == [
        "Request received",
        "Checked against the plan's criteria",
        "A nurse started the review",
        "Information requested from the provider",
        "Sent to a doctor for review",
    ]
    assert [row["status_label"] for row in rows][-1] == "Being reviewed by a doctor"
    assert rows[3]["reason"] == ASKED  # written to the provider
    assert rows[4]["reason"] == ""  # the referral note is not
    assert {row["actor"] for row in rows} <= {"provider", "plan", "system"}


def test_member_history_hides_the_information_request_text(api, referred):
    rows = api("member").get(f"/api/v1/tars/{referred}/history").json()
    assert all(row["reason"] == "" for row in rows)


def test_provider_page_shows_no_note_and_no_status_codes(world, referred):
    client = Client()
    client.force_login(world.users["provider"])
    page = client.get(f"/provider/tars/{referred}/").content.decode()
    assert NOTE not in page
    assert "Being reviewed by a doctor" in page
    assert "A nurse started the review" in page
    visible = page.split("<main", 1)[-1]
    for code in ("in_review", "referred", "pended", "status_changed"):
        assert f"→ {code}" not in visible
        assert f">{code}<" not in visible


def test_provider_dashboard_shows_plain_statuses(world, referred):
    client = Client()
    client.force_login(world.users["provider"])
    page = client.get("/provider/").content.decode()
    assert "Being reviewed by a doctor" in page
    assert "Referred to physician" not in page
