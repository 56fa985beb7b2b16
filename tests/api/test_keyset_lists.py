"""Every API list pages by keyset (issue 16): following `next` visits every row once in the
list's order, at a constant number of queries; a provider's list merges its two
organization streams; totals stop counting at 1,000 ("1,000+"); a malformed cursor is a 400;
the staff queue's plan uses the partial index on open statuses (PostgreSQL EXPLAIN)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authorizations import selectors
from authorizations.models import ServiceLine, Tar
from tar_portal import pagination

pytestmark = pytest.mark.django_db


def _clone(template: Tar, n: int, **changes) -> list[Tar]:
    now = timezone.now()
    rows = []
    for i in range(n):
        row = Tar(**{f.attname: getattr(template, f.attname) for f in Tar._meta.concrete_fields})
        row.pk = None
        row.number = f"TAR-KEY-{changes.get('tag', 'a')}{i:06d}"
        row.idempotency_key = None
        # Ties on purpose: every third row shares its neighbour's times.
        row.received_at = now - timedelta(minutes=i - i % 3)
        row.decision_due_at = now + timedelta(minutes=i - i % 3)
        for key, value in changes.items():
            if key != "tag":
                setattr(row, key, value)
        rows.append(row)
    made = Tar.objects.bulk_create(rows, batch_size=1000)
    ServiceLine.objects.bulk_create(
        ServiceLine(
            tar=tar,
            line_number=1,
            code="64483",
            diagnosis_codes=["M54.16"],
            units=1,
            service_date_from=now.date(),
            service_date_to=now.date(),
            family="esi" if i % 2 else "facet_mbb",
        )
        for i, tar in enumerate(made)
    )
    return made


def _walk(client, url, params) -> tuple[list[dict], list[int]]:
    rows, counts = [], []
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        rows.extend(body["results"])
        if not body["next"]:
            return rows, counts
        with CaptureQueriesContext(connection) as captured:
            response = client.get(body["next"])
        counts.append(len(captured))


def test_next_links_visit_every_row_once_in_order_at_constant_queries(api, submit):
    template = Tar.objects.get(pk=submit())
    _clone(template, 95)
    rows, counts = _walk(api("nurse"), "/api/v1/tars/", {"page_size": 10})
    ids = [row["id"] for row in rows]
    expected = list(Tar.objects.order_by("decision_due_at", "id").values_list("id", flat=True))
    assert ids == expected
    assert len(set(counts)) == 1, counts


def test_previous_links_walk_back(api, submit):
    template = Tar.objects.get(pk=submit())
    _clone(template, 25)
    client = api("nurse")
    first = client.get("/api/v1/tars/", {"page_size": 10}).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    back = client.get(third["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in second["results"]]
    again = client.get(back["previous"]).json()
    assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
    assert again["previous"] is None
    assert first["previous"] is None


def test_provider_list_merges_requesting_and_servicing_streams(api, submit, world):
    template = Tar.objects.get(pk=submit())
    own = world.users["provider"].organization_id
    other = world.users["provider"].organization_id
    for org in type(world.users["provider"].organization).objects.exclude(pk=own):
        other = org.pk
        break
    _clone(template, 20, tag="r")  # requested by the office
    _clone(template, 20, tag="s", requesting_organization_id=other)  # serviced only
    _clone(template, 20, tag="x", requesting_organization_id=other, servicing_organization_id=other)
    rows, counts = _walk(api("provider"), "/api/v1/tars/", {"page_size": 7})
    ids = [row["id"] for row in rows]
    visible = Tar.objects.filter(selectors.tar_scope_q(world.users["provider"]))
    assert ids == list(visible.order_by("-received_at", "-id").values_list("id", flat=True))
    assert len(ids) == 41
    assert len(set(counts)) == 1, counts


def test_totals_are_capped(api, submit, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 10)
    template = Tar.objects.get(pk=submit())
    _clone(template, 15)
    body = api("nurse").get("/api/v1/tars/", {"page_size": 5}).json()
    assert (body["count"], body["count_capped"]) == (10, True)
    body = api("nurse").get("/api/v1/tars/", {"page_size": 5, "status": "approved"}).json()
    assert (body["count"], body["count_capped"]) == (0, False)


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "", "eyJhIjoxfQ", "WyJuIixbIm5vdCBhIGRhdGUiLCIxIl1d", "WyJ4IixbXV0"],
)
def test_a_malformed_cursor_is_a_400(api, submit, cursor):
    submit()
    response = api("nurse").get("/api/v1/tars/", {"cursor": cursor or "=="})
    assert response.status_code == 400, response.content
    assert "cursor" in json.dumps(response.json())


@pytest.mark.parametrize(
    "url", ["/api/v1/tars/", "/api/v1/referrals/", "/api/v1/providers/", "/api/v1/members/"]
)
def test_every_list_pages_by_cursor(api, submit, url):
    submit()
    body = api("nurse").get(url, {"page_size": 1}).json()
    assert set(body) == {"count", "count_capped", "next", "previous", "results"}
    if body["count"] > 1:
        assert "cursor=" in body["next"]


@pytest.mark.parametrize("params", [{}, {"family": "esi"}, {"status": "submitted,in_review"}])
@pytest.mark.parametrize("persona", ["nurse", "provider"])
def test_list_query_count_is_fixed(api, submit, persona, params):
    template = Tar.objects.get(pk=submit())
    _clone(template, 30)
    client = api(persona)
    first = client.get("/api/v1/tars/", {"page_size": 10, **params}).json()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(first["next"])
    assert response.status_code == 200
    # Count + page (the provider: a count and a key read per organization stream, then the
    # rows) + the prefetches (member, both providers, lines; nobody is assigned here).
    expected = {"nurse": 6, "provider": 9}[persona]
    assert len(captured) == expected, "\n".join(q["sql"][:150] for q in captured)


def test_staff_queue_uses_the_partial_index_on_open_statuses(api, submit):
    """Three thousand decided requests and six hundred open ones: the nurse queue's page query
    walks tar_open_queue_idx (open requests only), not the history."""
    template = Tar.objects.get(pk=submit())
    _clone(template, 3000, tag="d", status="approved", decided_at=timezone.now())
    _clone(template, 600, tag="o")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE authorizations_tar")
    nurse = api("nurse")
    user = nurse.handler._force_user
    qs = selectors.tar_list(user=user, filters={"status": "submitted,in_review,pended"})
    page = qs.order_by("decision_due_at", "id")[:25]
    plan = page.explain()
    assert "tar_open_queue_idx" in plan, plan
    assert "tar_due_id_idx" not in plan and "Seq Scan" not in plan, plan
