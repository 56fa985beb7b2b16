"""The queues: constant SQL per page whatever the number of requests, the countdown bands,
filters, and what the review page records and offers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authorizations.models import HistoryAction, HistoryEntry, Tar
from portal.presentation import due_state

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("persona", "url"),
    [("nurse", "/review/"), ("provider", "/provider/"), ("physician", "/physician/")],
)
def test_queue_pages_run_a_constant_number_of_queries(client_for, submit, api, persona, url):
    def add(n: int) -> None:
        for _ in range(n):
            tar_id = submit()
            if persona == "physician":
                api("nurse").post(f"/api/v1/tars/{tar_id}/refer")

    add(3)
    client = client_for(persona)
    client.get(url)  # warm the session and the calendar cache
    with_three = _queries(client, url)
    add(27)
    with_thirty = _queries(client, url)
    assert with_three == with_thirty, (with_three, with_thirty)
    # session, user, count, page ids, the page's rows and their prefetches, session save;
    # the provider dashboard also counts its five tabs, one capped count per index stream
    # (tests/portal/test_lists.py).
    assert with_thirty <= (28 if persona == "provider" else 16)


def test_the_queue_is_paginated_by_keyset(client_for, submit):
    for _ in range(26):
        submit()
    client = client_for("nurse")
    first = client.get("/review/").content.decode()
    assert "26 requests match; 25 on this page." in first
    assert first.count("/claim") == 25
    next_url = re.search(r'href="(\?[^"]*after=[^"]+)" rel="next"', first)[1].replace("&amp;", "&")
    second = client.get("/review/" + next_url).content.decode()
    assert second.count("/claim") == 1
    assert 'rel="next"' not in second and 'rel="first"' in second


def test_the_countdown_bands_say_it_in_words():
    now = timezone.now()
    assert due_state(now + timedelta(days=3), now).label == "On time"
    assert due_state(now + timedelta(hours=20), now).label == "Under 24 hours"
    assert due_state(now + timedelta(hours=3), now).label == "Under 4 hours"
    late = due_state(now - timedelta(minutes=90), now)
    assert (late.level, late.label, late.remaining) == (
        "breached",
        "Breached",
        "overdue by 1 h 30 min",
    )
    assert due_state(now + timedelta(days=3), now, breached_at=now).label == "Breached"


def test_filters_narrow_the_queue(client_for, submit, api, world):
    routine = Tar.objects.get(pk=submit()).number
    urgent = Tar.objects.get(
        pk=submit(urgency="urgent", urgency_reason="Severe weakness in the leg.")
    ).number
    client = client_for("nurse")
    page = client.get("/review/?urgency=urgent").content.decode()
    assert urgent in page and routine not in page
    api("nurse").post(f"/api/v1/tars/{Tar.objects.get(number=routine).pk}/claim")
    mine = client.get("/review/?assignee=me").content.decode()
    assert routine in mine and urgent not in mine
    unclaimed = client.get("/review/?assignee=none").content.decode()
    assert urgent in unclaimed and routine not in unclaimed
    assert routine not in client.get("/review/?family=facet_mbb").content.decode()
    assert routine in client.get("/review/?status=in_review").content.decode()


def test_the_soonest_deadline_comes_first(client_for, submit):
    routine = Tar.objects.get(pk=submit())
    urgent = Tar.objects.get(pk=submit(urgency="urgent", urgency_reason="Severe weakness."))
    rows = client_for("nurse").get("/review/").content.decode().split("<tbody>")[1]
    assert rows.index(urgent.number) < rows.index(routine.number)
    assert f'data-due="{urgent.decision_due_at.isoformat()}"' in rows


def test_viewing_the_review_page_records_the_clinical_read(client_for, submit):
    tar_id = submit()
    client_for("nurse").get(f"/review/tars/{tar_id}/")
    assert HistoryEntry.objects.filter(
        tar_id=tar_id, action=HistoryAction.CLINICAL_READ, actor__username="nurse"
    ).exists()
    client_for("provider").get(f"/provider/tars/{tar_id}/")
    assert (
        HistoryEntry.objects.filter(tar_id=tar_id, action=HistoryAction.CLINICAL_READ).count() == 1
    )


def test_the_review_page_shows_the_extension_cap(client_for, submit):
    tar_id = submit()
    page = client_for("nurse").get(f"/review/tars/{tar_id}/").content.decode()
    assert "Extensions used: 0 of 2" in page
    # The rule in words, never its id (issue 15).
    assert "may be extended twice, to 21 calendar days at most" in page
    assert "routine_extension_twice_21_calendar_days" not in page


def test_a_nurse_extends_and_closes(client_for, api, submit, world):
    earlier = Tar.objects.get(pk=submit()).number
    tar_id = submit()
    tar = Tar.objects.get(pk=tar_id)
    client = client_for("nurse")
    client.post(f"/review/tars/{tar_id}/claim")
    new_due = timezone.localtime(tar.decision_due_at + timedelta(days=3))
    response = client.post(
        f"/review/tars/{tar_id}/extend",
        {
            "extend-reason": "additional_exam_needed",
            "extend-new_due_at": new_due.strftime("%Y-%m-%dT%H:%M"),
            "extend-note": "An MRI is needed.",
        },
    )
    assert response.status_code == 302
    tar.refresh_from_db()
    assert tar.extension_count == 1
    response = client.post(
        f"/review/tars/{tar_id}/close",
        {
            "close-reason_code": "duplicate",
            "close-rationale": "Same as TAR sent last week.",
            "close-duplicate_of": earlier,
        },
    )
    assert response.status_code == 302
    tar.refresh_from_db()
    assert (tar.status, tar.reason_code) == ("closed", "duplicate")


def test_a_physician_modifies_one_line(client_for, api, submit):
    tar_id = submit()
    api("nurse").post(f"/api/v1/tars/{tar_id}/refer")
    response = client_for("physician").post(
        f"/physician/tars/{tar_id}/",
        {
            "outcome": "modified",
            "reason_code": "medical_necessity",
            "rationale": "One session now; more after a follow-up visit.",
            "criteria_refs": ["esi:2026.1:7"],
            "line-1-outcome": "modified",
            "line-1-approved_units": "1",
            "line-1-approved_date_to": (timezone.localdate() + timedelta(days=20)).isoformat(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    tar = Tar.objects.get(pk=tar_id)
    assert tar.status == "modified"
    assert tar.lines.get().outcome == "modified"
