"""GET /api/v1/tars/ costs a fixed number of queries whatever the page holds (no N+1):
the list selects its related rows and prefetches the lines once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def _line(day: str, code: str) -> dict:
    return {
        "code": code,
        "diagnosis_codes": ["M54.16"],
        "units": 1,
        "spinal_region": "lumbar",
        "service_date_from": day,
        "service_date_to": day,
    }


@pytest.fixture
def add_tars(api, submit, tar_payload):
    """add_tars(n) submits n more Redwood TARs for member 1, every other one with two lines
    and every third one claimed by a nurse, so each related row the list shows is present."""
    made: list[int] = []

    def add(n: int) -> None:
        for _ in range(n):
            index = len(made)
            overrides = {}
            if index % 2:
                first = tar_payload()["lines"][0]
                overrides["lines"] = [first, _line(first["service_date_from"], "64484")]
            tar_id = submit("provider", **overrides)
            if index % 3 == 0:
                assert api("nurse").post(f"/api/v1/tars/{tar_id}/claim").status_code == 200
            made.append(tar_id)

    return add


def _list_queries(client) -> tuple[int, int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/tars/", {"page_size": 50})
    assert response.status_code == 200
    body = response.json()
    assert all(row["codes"] for row in body["results"])
    return len(captured), body["count"], [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("persona", ["nurse", "provider", "member", "manager"])
def test_tar_list_query_count_does_not_grow_with_the_page(api, add_tars, persona):
    client = api(persona)
    add_tars(3)
    few, count_few, _ = _list_queries(client)
    add_tars(9)
    many, count_many, sql = _list_queries(client)
    assert (count_few, count_many) == (3, 12)
    assert many == few, "\n".join(sql)
    # count + page + one prefetch each for member, the two providers, the assignee and the
    # lines: a small constant, not one query per row. A provider's list is two index streams
    # (requesting, servicing only: selectors.tar_scope_branches): a capped count and a key
    # read each, then the page's rows (issue 16).
    assert few <= (10 if persona == "provider" else 7), "\n".join(sql)


def test_tar_list_rows_carry_related_fields(api, add_tars, world):
    add_tars(2)
    rows = api("nurse").get("/api/v1/tars/").json()["results"]
    assert {row["member"] for row in rows} == {world.member.cin}
    assert {row["requesting_provider"] for row in rows} == {world.redwood_specialist.npi}
    assert {row["assigned_to"] for row in rows} == {"nurse", None}
    assert sorted(len(row["codes"]) for row in rows) == [1, 2]
