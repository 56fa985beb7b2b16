"""The nurse queue's search box, sort, saved views, keyset cursor and bulk claim (issue 15),
and the physician queue's note and failed criteria. Bad parameters give a page with a
message, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from authorizations.models import Tar, TarStatus
from portal import selectors as portal_selectors

pytestmark = pytest.mark.django_db


def _rows(html: str) -> str:
    return html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""


@pytest.fixture
def two(submit):
    routine = Tar.objects.get(pk=submit())
    urgent = Tar.objects.get(pk=submit(urgency="urgent", urgency_reason="Severe weakness."))
    return routine, urgent


@pytest.mark.parametrize(
    "query",
    [
        lambda w, t: t.number,
        lambda w, t: t.number.lower().removeprefix("tar-"),
        lambda w, t: w.member.cin.lower(),
        lambda w, t: w.member.last_name.upper(),
        lambda w, t: f"  {w.member.first_name}   {w.member.last_name} ",
        lambda w, t: w.redwood_specialist.npi,
        lambda w, t: "redwood pain",
    ],
    ids=["number", "number-short", "cin", "last-name", "full-name", "npi", "organization"],
)
def test_one_search_box_finds_a_case_by_each_identifier(client_for, world, two, query):
    routine, _ = two
    page = client_for("nurse").get("/review/", {"q": query(world, routine)})
    assert page.status_code == 200
    assert routine.number in _rows(page.content.decode())


def test_a_search_that_matches_nothing_says_so(client_for, world, two):
    for text in ("Coastal Spine", world.other_member.cin, "TAR-1999-000001", "Nobody Atall"):
        html = client_for("nurse").get("/review/", {"q": text}).content.decode()
        assert "No requests match" in html and two[0].number not in html


def test_the_number_search_finds_only_that_case(client_for, two):
    routine, urgent = two
    rows = _rows(client_for("nurse").get("/review/", {"q": urgent.number}).content.decode())
    assert urgent.number in rows and routine.number not in rows


def test_columns_sort_both_ways_and_say_so(client_for, two):
    routine, urgent = two
    client = client_for("nurse")
    by_due = client.get("/review/").content.decode()
    assert _rows(by_due).index(urgent.number) < _rows(by_due).index(routine.number)
    assert 'aria-sort="ascending"><a href="?sort=-due"' in by_due
    latest_due_first = client.get("/review/?sort=-due").content.decode()
    assert _rows(latest_due_first).index(routine.number) < _rows(latest_due_first).index(
        urgent.number
    )
    oldest_first = _rows(client.get("/review/?sort=received").content.decode())
    assert oldest_first.index(routine.number) < oldest_first.index(urgent.number)
    newest_first = _rows(client.get("/review/?sort=-received").content.decode())
    assert newest_first.index(urgent.number) < newest_first.index(routine.number)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "garbage"}, "cannot be sorted that way"),
        ({"sort": "-id; drop table"}, "cannot be sorted that way"),
        ({"after": "garbage"}, "page link is out of date"),
        ({"after": "W10"}, "page link is out of date"),  # base64 of []
        ({"after": "WyJkdWUiLGZhbHNlLCJub3QgYSBkYXRlIiwxXQ"}, "page link is out of date"),
        ({"sort": "received", "after": "WyJkdWUiLGZhbHNlLCIyMDI2IiwxXQ"}, "out of date"),
    ],
)
def test_bad_sort_or_cursor_renders_the_first_page_with_a_message(client_for, two, params, message):
    response = client_for("nurse").get("/review/", params)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert two[0].number in _rows(html) and two[1].number in _rows(html)
    physician = client_for("physician").get("/physician/", params)
    assert physician.status_code == 400 and message in physician.content.decode()


def test_a_bad_filter_value_is_a_page_not_a_500(client_for, two):
    response = client_for("nurse").get("/review/", {"status": "nope", "q": "x" * 500})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_saved_views_mine_due_soon_and_referred(client_for, api, world, two):
    routine, urgent = two
    api("nurse").post(f"/api/v1/tars/{routine.pk}/claim")
    client = client_for("nurse")
    mine = _rows(client.get("/review/?view=mine").content.decode())
    assert routine.number in mine and urgent.number not in mine
    soon = _rows(client.get("/review/?view=due24").content.decode())
    assert urgent.number not in soon  # 72 hours from now
    Tar.objects.filter(pk=urgent.pk).update(decision_due_at=timezone.now() + timedelta(hours=5))
    soon = _rows(client.get("/review/?view=due24").content.decode())
    assert urgent.number in soon and routine.number not in soon
    api("nurse").post(f"/api/v1/tars/{routine.pk}/refer", {"note": "Levels unclear."})
    referred = _rows(client.get("/review/?view=referred").content.decode())
    assert routine.number in referred and urgent.number not in referred
    other = _rows(client_for("nurse2").get("/review/?view=referred").content.decode())
    assert routine.number not in other


def test_bulk_claim_and_release_go_through_the_kernel_one_by_one(client_for, api, world, two):
    routine, urgent = two
    api("nurse2").post(f"/api/v1/tars/{urgent.pk}/claim")  # taken a moment ago
    client = client_for("nurse")
    response = client.post(
        "/review/bulk", {"action": "claim", "tar": [routine.pk, urgent.pk, 999999]}, follow=True
    )
    html = response.content.decode()
    assert f"You claimed 1: {routine.number}." in html
    assert f"Not claimed: {urgent.number}:" in html and "#999999: not found" in html
    routine.refresh_from_db()
    urgent.refresh_from_db()
    assert routine.assigned_to == world.users["nurse"] and routine.status == TarStatus.IN_REVIEW
    assert urgent.assigned_to == world.users["nurse2"]
    assert routine.history.filter(to_status=TarStatus.IN_REVIEW).count() == 1
    client.post("/review/bulk", {"action": "release", "tar": [routine.pk]})
    routine.refresh_from_db()
    assert routine.assigned_to is None and routine.status == TarStatus.SUBMITTED


def test_bulk_refuses_other_roles_and_empty_posts(client_for, two):
    assert client_for("physician").post("/review/bulk", {"action": "claim"}).status_code == 403
    html = client_for("nurse").post("/review/bulk", {"action": "claim"}, follow=True)
    assert "Tick one or more requests" in html.content.decode()
    html = client_for("nurse").post("/review/bulk", {"action": "delete", "tar": [two[0].pk]})
    assert Tar.objects.get(pk=two[0].pk).assigned_to is None and html.status_code == 302


def test_rows_show_provider_recommendation_and_age(client_for, world, two):
    rows = _rows(client_for("nurse").get("/review/").content.decode())
    assert world.redwood_specialist.name in rows and "Redwood Pain Specialists" in rows
    assert "Meets criteria" in rows or "meets" in rows.lower()
    assert "min" in rows or " h " in rows  # age, e.g. "0 min"
    assert 'data-row tabindex="-1"' in rows


def test_the_physician_queue_shows_the_nurses_note_and_failed_criteria(client_for, api, submit):
    answers = {"radicular_findings": False}
    from tests import factories

    failing = submit(answers={**factories.ESI_MEETS, **answers})
    api("nurse").post(f"/api/v1/tars/{failing}/refer", {"note": "Radicular findings absent."})
    rows = _rows(client_for("physician").get("/physician/").content.decode())
    assert "Radicular findings absent." in rows
    assert "Not met:" in rows


def test_the_count_is_capped(monkeypatch, client_for, two):
    monkeypatch.setattr(portal_selectors, "QUEUE_COUNT_CAP", 1)
    html = client_for("nurse").get("/review/").content.decode()
    assert "More than 1 requests match" in html
