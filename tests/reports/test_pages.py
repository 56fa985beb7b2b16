"""The dashboard, the reports (page, CSV, PDF), the requests behind a figure, the public page
and its API: who may see them, what they show, and bad input answered with a clear 400."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from tests.reports.builders import decide, hours_after, make_tar, pt

pytestmark = pytest.mark.django_db
NOW = pt(2026, 11, 18)


@pytest.fixture
def history(world):
    """A few decided requests in 2026, one late, one open and overdue, two organizations."""
    nurse, physician = world.users["nurse"], world.users["physician"]
    on_time = make_tar(world, received_at=pt(2026, 11, 2))
    decide(on_time, "approved", at=hours_after(on_time, 20), by=nurse)
    late = make_tar(
        world,
        received_at=pt(2026, 11, 3),
        due_hours=24,
        organization=world.coastal,
        family="facet_mbb",
        code="64493",
    )
    decide(late, "denied", at=hours_after(late, 30), by=physician, reason_code="medical_necessity")
    make_tar(world, received_at=pt(2026, 11, 9), due_hours=48)  # open, past due on NOW
    return {"on_time": on_time, "late": late}


@pytest.mark.clock(NOW)
def test_the_manager_lands_on_the_dashboard(client_for, history):
    client = client_for("manager")
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/reports/"
    page = client.get("/reports/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Utilization management dashboard" in html
    assert 'src="data:image/svg+xml;base64,' in html  # a matplotlib chart, with its table
    assert "Redwood Pain Specialists" in html and "Coastal Spine" in html
    assert "<script" not in html.split("</head>")[1]  # no inline script (CSP)


@pytest.mark.clock(NOW)
def test_the_dashboards_query_count_does_not_grow_with_the_data(client_for, history, world):
    client = client_for("manager")
    client.get("/reports/")
    # A request empties the query log when it starts: count from an empty log.
    reset_queries()
    with CaptureQueriesContext(connection) as small:
        client.get("/reports/")
    for day in range(1, 15):
        tar = make_tar(world, received_at=pt(2026, 10, day), organization=world.coastal)
        decide(
            tar,
            "modified",
            at=hours_after(tar, 10),
            by=world.users["physician"],
            reason_code="medical_necessity",
        )
    reset_queries()
    with CaptureQueriesContext(connection) as large:
        client.get("/reports/")
    assert len(large.captured_queries) == len(small.captured_queries) > 20


@pytest.mark.clock(NOW)
def test_every_figure_links_to_the_requests_behind_it(client_for, history):
    client = client_for("manager")
    late = client.get(
        "/reports/requests/",
        {"measure": "decided", "on_time": "no", "from": "2026-11-01", "to": "2026-11-30"},
    )
    assert late.status_code == 200
    html = late.content.decode()
    assert history["late"].number in html and history["on_time"].number not in html
    facet = client.get(
        "/reports/requests/",
        {"measure": "decided", "family": "facet_mbb", "from": "2026-11-01", "to": "2026-11-30"},
    )
    assert history["late"].number in facet.content.decode()
    overdue = client.get("/reports/requests/", {"measure": "open", "bucket": "left_overdue"})
    assert overdue.content.decode().count("TAR-2026-") == 1


@pytest.mark.clock(NOW)
@pytest.mark.parametrize(
    "query",
    [
        {"year": "abc"},
        {"from": "2026-13-01"},
        {"from": "2026-11-30", "to": "2026-11-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
        {"year": "2026", "from": "2026-01-01"},
        {"measure": "nonsense"},
        {"measure": "open", "bucket": "sideways"},
        {"measure": "decided", "organization": "x1"},
        {"page": "two"},
    ],
)
def test_bad_query_parameters_are_a_clear_400(client_for, history, query):
    client = client_for("manager")
    url = "/reports/requests/" if any(k in query for k in ("measure", "page")) else "/reports/"
    response = client.get(url, query)
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()


@pytest.mark.clock(NOW)
@pytest.mark.parametrize(
    "slug", ["timeliness", "outcomes", "appeals", "late-submissions", "audit-universe"]
)
def test_each_report_is_a_page_a_csv_and_a_pdf(client_for, history, slug):
    client = client_for("manager")
    query = {"from": "2026-11-01", "to": "2026-11-30"}
    page = client.get(f"/reports/{slug}/", query)
    assert page.status_code == 200
    body = client.get(f"/reports/{slug}.csv", query)
    assert body.status_code == 200 and body["Content-Type"].startswith("text/csv")
    text = b"".join(body.streaming_content).decode() if body.streaming else body.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) > 2
    pdf = client.get(f"/reports/{slug}.pdf", query)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    printed = "".join(p.extract_text() for p in reader.pages)
    assert "2026-11-01" in printed
    if slug == "audit-universe":
        assert history["late"].number in text and history["late"].number in printed
        # The universe names requests, never members.
        assert (
            history["late"].member.cin not in text and history["late"].member.last_name not in text
        )


@pytest.mark.clock(NOW)
def test_the_timeliness_report_counts_the_late_decision(client_for, history):
    text = (
        client_for("manager")
        .get("/reports/timeliness.csv", {"from": "2026-11-01", "to": "2026-11-30"})
        .content.decode()
    )
    rows = list(csv.reader(io.StringIO(text)))
    routine = next(r for r in rows if r and r[0] == "Routine pre-service")
    assert routine[1:5] == ["2", "1", "50.0", "0"]


@pytest.mark.clock(NOW)
@pytest.mark.parametrize("persona", ["nurse", "physician", "provider", "member", "coordinator"])
def test_reports_are_for_the_manager_and_quality_staff(client_for, history, persona):
    assert client_for(persona).get("/reports/").status_code == 403
    assert client_for(persona).get("/reports/timeliness.csv").status_code == 403


@pytest.mark.clock(NOW)
def test_quality_committee_staff_read_with_the_permission(client_for, history, world):
    staff = world.users["memberservices"]
    staff.user_permissions.add(Permission.objects.get(codename="view_program_reports"))
    client = client_for("memberservices")
    assert client.get("/reports/").status_code == 200
    listing = client.get(
        "/reports/requests/", {"measure": "decided", "from": "2026-11-01", "to": "2026-11-30"}
    )
    assert listing.status_code == 200
    # Read-only: the request numbers, not links into the case.
    assert f"/review/tars/{history['late'].pk}/" not in listing.content.decode()
    assert client.post("/reports/irr/open", {"year": "2026"}).status_code == 403


def test_reports_need_a_sign_in(client, world):
    response = client.get("/reports/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.clock(pt(2027, 4, 14))
def test_the_public_page_needs_no_login_and_shows_no_phi(client, history):
    page = client.get("/transparency/prior-authorization/", {"year": "2026"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Prior-authorization metrics, 2026" in html and "year to date" not in html
    assert "Methodology (version 1)" in html
    for secret in (
        history["late"].number,
        history["late"].member.cin,
        history["late"].member.last_name,
        "Redwood",
    ):
        assert secret not in html
    as_json = client.get("/transparency/prior-authorization/2026.json")
    assert as_json.status_code == 200
    data = json.loads(as_json.content)
    assert data["standard"]["determined"] == 2
    as_csv = client.get("/transparency/prior-authorization/2026.csv")
    assert "standard,denied_percent,50.0" in as_csv.content.decode()


@pytest.mark.clock(NOW)
def test_an_open_year_says_year_to_date(client, history):
    html = client.get("/transparency/prior-authorization/").content.decode()
    assert "2026 (year to date)" in html


@pytest.mark.clock(pt(2027, 4, 14))
def test_the_public_api_has_exactly_the_shape_of_product_10(client, history):
    response = client.get("/api/v1/reports/prior-authorization-metrics", {"year": "2026"})
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {
        "year",
        "methodology_version",
        "standard",
        "expedited",
        "extended_and_approved",
        "services_requiring_pa",
    }
    group = {
        "determined",
        "approved",
        "denied",
        "modified",
        "approved_percent",
        "denied_percent",
        "decision_hours_mean",
        "decision_hours_median",
    }
    assert set(data["expedited"]) == group
    assert set(data["standard"]) == group | {
        "appeals_resolved",
        "approved_after_appeal",
        "approved_after_appeal_percent",
    }
    assert set(data["extended_and_approved"]) == {"determined", "count", "percent"}
    assert data["expedited"]["approved_percent"] is None


@pytest.mark.parametrize("year", ["abc", "20266", "1999", "", "2026.5"])
def test_the_public_api_and_page_refuse_a_bad_year_with_a_400(client, world, year):
    api = client.get("/api/v1/reports/prior-authorization-metrics", {"year": year})
    page = client.get("/transparency/prior-authorization/", {"year": year})
    if year == "":
        assert api.status_code == 200 and page.status_code == 200
        return
    assert api.status_code == 400 and "year" in api.json()["fields"]
    assert page.status_code == 400
    assert client.get(f"/transparency/prior-authorization/{year}.json").status_code in (400, 404)
