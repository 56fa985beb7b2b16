"""Every portal list pages by keyset (issue 16) and the provider dashboard has status tabs with
counts and a search (issue 15): following "Next page" visits every row once even when rows
tie on the sort key, "Previous page" walks back; totals stop at 1,000 ("1,000+"); the tabs,
their counts and the search see the caller's organization only; each list costs a fixed
number of queries; the provider's pages walk their organization indexes (EXPLAIN)."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authorizations.models import Channel, ServiceLine, Tar, TarStatus
from portal import selectors as portal_selectors
from tar_portal import pagination

pytestmark = pytest.mark.django_db

NUMBER_RE = re.compile(r"TAR-(?:LST-[a-z]\d{6}|\d{4}-\d{6})")


def _clone(template: Tar, n: int, tag: str = "a", **changes) -> list[Tar]:
    """n copies of `template` with their own numbers; every three share one received time
    (ties on the list's sort key on purpose)."""
    now = timezone.now()
    rows = []
    for i in range(n):
        row = Tar(**{f.attname: getattr(template, f.attname) for f in Tar._meta.concrete_fields})
        row.pk = None
        row.number = f"TAR-LST-{tag}{i:06d}"
        row.idempotency_key = None
        row.received_at = now - timedelta(minutes=i - i % 3)
        row.decision_due_at = now + timedelta(days=3, minutes=i - i % 3)
        for key, value in changes.items():
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
            family="esi",
        )
        for tar in made
    )
    return made


def _table(html: str) -> str:
    return html.split("<tbody>")[-1].split("</tbody>")[0] if "<tbody>" in html else ""


def _link(html: str, rel: str) -> str | None:
    match = re.search(rf'href="(\?[^"]*)" rel="{rel}"', html)
    return html_lib.unescape(match[1]) if match else None


def _walk(client, url: str, rel: str = "next", start: str = "") -> tuple[list[list[str]], str]:
    """The numbers on each page from `url` + `start`, following `rel` links; and the last
    page's query string."""
    pages, query = [], start
    while True:
        response = client.get(url + query)
        assert response.status_code == 200
        html = response.content.decode()
        pages.append(NUMBER_RE.findall(_table(html)))
        following = _link(html, rel)
        if following is None:
            return pages, query
        query = following


@pytest.fixture
def office(submit, world):
    """Redwood's requests: 40 it sent, 20 it services for Coastal (ties on received time),
    and 20 of Coastal alone that Redwood must never see."""
    template = Tar.objects.get(pk=submit())
    redwood = world.users["provider"].organization_id
    coastal = world.users["provider2"].organization_id
    own = _clone(template, 40, tag="r")
    serviced = _clone(template, 20, tag="s", requesting_organization_id=coastal)
    _clone(
        template, 20, tag="x", requesting_organization_id=coastal, servicing_organization_id=coastal
    )
    assert template.requesting_organization_id == redwood
    return {template.number} | {t.number for t in own + serviced}


def test_dashboard_pages_visit_every_request_once_and_walk_back(client_for, office):
    client = client_for("provider")
    pages, last = _walk(client, "/provider/", start="?tab=all")
    seen = [number for page in pages for number in page]
    assert [len(page) for page in pages] == [25, 25, 11]
    assert len(seen) == len(set(seen)) and set(seen) == office
    expected = list(
        Tar.objects.filter(number__in=office)
        .order_by("-received_at", "-id")
        .values_list("number", flat=True)
    )
    assert seen == expected  # newest first, ties by id
    back, _ = _walk(client, "/provider/", rel="prev", start=last)
    assert back == pages[::-1]


def test_a_stale_cursor_shows_the_first_page_with_a_message(client_for, office):
    response = client_for("provider").get("/provider/", {"cursor": "not-a-cursor"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "no longer there" in html and len(NUMBER_RE.findall(_table(html))) == 25


def test_tabs_count_the_organizations_requests_by_status(client_for, world, office):
    numbers = sorted(office)
    Tar.objects.filter(number__in=numbers[:3]).update(status=TarStatus.PENDED)
    Tar.objects.filter(number__in=numbers[3:8]).update(
        status=TarStatus.DENIED, decided_at=timezone.now()
    )
    Tar.objects.filter(number__in=numbers[8:10]).update(status=TarStatus.REFERRED)
    # Coastal's own requests, in every status, count nowhere on Redwood's tabs.
    Tar.objects.filter(number__startswith="TAR-LST-x").update(status=TarStatus.PENDED)
    client = client_for("provider")
    html = client.get("/provider/").content.decode()
    # 61 = the submitted request and its 60 copies: 51 still submitted, 2 referred.
    for label, count in [
        ("All requests", 61),
        ("Needs your action", 3),
        ("In review", 53),
        ("Decided", 5),
        ("Appeals", 0),
    ]:
        assert re.search(rf">{label} <span class=\"count\">\({count}\)</span>", html), label
    action = client.get("/provider/", {"tab": "action"}).content.decode()
    assert sorted(NUMBER_RE.findall(_table(action))) == numbers[:3]
    assert 'aria-current="page">Needs your action' in action
    decided = client.get("/provider/", {"tab": "decided"}).content.decode()
    assert sorted(NUMBER_RE.findall(_table(decided))) == numbers[3:8]
    # Coastal sees its own 20 pended ones and the 20 it asked Redwood to service.
    coastal = client_for("provider2").get("/provider/", {"tab": "action"}).content.decode()
    assert len(NUMBER_RE.findall(_table(coastal))) == 20
    assert all(n.startswith("TAR-LST-x") for n in NUMBER_RE.findall(_table(coastal)))


def test_search_within_the_organization(client_for, world, office):
    client = client_for("provider")
    real = Tar.objects.exclude(number__startswith="TAR-LST-").get()
    html = client.get("/provider/", {"q": real.number.lower()}).content.decode()
    assert NUMBER_RE.findall(_table(html)) == [real.number]
    assert re.search(r">All requests <span class=\"count\">\(1\)</span>", html)
    by_cin = client.get("/provider/", {"q": world.member.cin.lower()}).content.decode()
    assert re.search(r">All requests <span class=\"count\">\(61\)</span>", by_cin)
    by_name = client.get("/provider/", {"q": world.member.last_name, "tab": "review"})
    assert re.search(r">In review <span class=\"count\">\(61\)</span>", by_name.content.decode())
    # A request of Coastal alone, for the same member, is never Redwood's to find.
    coastal_only = Tar.objects.filter(number__startswith="TAR-LST-x").first()
    coastal_only.number = "TAR-2026-999999"
    coastal_only.save(update_fields=["number"])
    html = client.get("/provider/", {"q": "TAR-2026-999999"}).content.decode()
    assert NUMBER_RE.findall(_table(html)) == [] and "No requests match" in html
    assert re.search(r">All requests <span class=\"count\">\(0\)</span>", html)
    theirs = client_for("provider2").get("/provider/", {"q": "TAR-2026-999999"}).content.decode()
    assert NUMBER_RE.findall(_table(theirs)) == ["TAR-2026-999999"]


def test_counts_are_capped(client_for, office, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 10)
    html = client_for("provider").get("/provider/").content.decode()
    assert re.search(r">All requests <span class=\"count\">\(10\+\)</span>", html)
    assert "10+ in all" in html


# --- a fixed number of queries per list, whatever the page holds -------------------------


LISTS = [
    # (persona, url, queries). The dashboard: session and user; 13 capped counts (one per
    # stream of each tab: all 2, needs your action 2, in review 6, decided 2; appeals 1);
    # the page's key reads (one per stream of the tab) and its rows; the prefetches
    # (member, both providers, lines, open information requests, organizations) when the
    # tab has rows; the drafts; the session save. A search adds its two look-ups.
    ("provider", "/provider/?tab=all", 28),
    ("provider", "/provider/?tab=action", 22),
    ("provider", "/provider/?tab=decided", 22),
    ("provider", "/provider/?tab=appeals", 22),
    ("provider", "/provider/?q={last_name}", 30),
    ("member", "/member/", None),
    ("coordinator", "/intake/", None),
    ("memberservices", "/member-services/members/{member}/", None),
    ("provider", "/provider/referrals/", None),
    ("provider", "/provider/appeals/", None),
    ("member", "/member/appeals/", None),
    ("physician", "/physician/appeals/", None),
    ("nurse", "/imr/", None),
    ("manager", "/grievances/", None),
]


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


@pytest.mark.parametrize(("persona", "url", "fixed"), LISTS, ids=[u for _, u, _ in LISTS])
def test_each_list_costs_a_fixed_number_of_queries(client_for, world, submit, persona, url, fixed):
    template = Tar.objects.get(pk=submit())
    url = url.format(member=world.member.pk, last_name=world.member.last_name)
    client = client_for(persona)
    _clone(template, 2, tag="a", channel=Channel.FAX)
    few = _queries(client, url)
    _clone(template, 40, tag="b", channel=Channel.FAX)
    many = _queries(client, url)
    assert many == few, url
    if fixed is not None:
        assert many == fixed, url


# --- the plans: the provider's pages walk their organization indexes ---------------------


def test_provider_pages_and_counts_use_the_organization_indexes(submit, world):
    """Three thousand decided requests of another office and five thousand of Redwood's: each
    stream of the dashboard's key reads and capped counts walks one of Redwood's indexes
    (the organization's, for the open tabs the partial ones), never the table."""
    template = Tar.objects.get(pk=submit())
    coastal = world.users["provider2"].organization_id
    decided = {"status": TarStatus.APPROVED, "decided_at": timezone.now()}
    _clone(
        template,
        3000,
        tag="h",
        **decided,
        requesting_organization_id=coastal,
        servicing_organization_id=coastal,
    )
    _clone(template, 5000, tag="d", **decided)
    _clone(template, 500, tag="s", **decided, requesting_organization_id=coastal)
    _clone(template, 300, tag="o")
    _clone(template, 60, tag="p", status=TarStatus.PENDED)
    _clone(template, 60, tag="q", status=TarStatus.PENDED, requesting_organization_id=coastal)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE authorizations_tar")
    user = world.users["provider"]
    for tab, indexes in [
        ("all", ("tar_req_org_recv_idx", "tar_srv_org_recv_idx")),
        ("decided", ("tar_req_org_recv_idx", "tar_srv_org_recv_idx")),
        ("action", ("tar_req_org_open_idx", "tar_srv_org_open_idx")),
        ("review", ("tar_req_org_open_idx", "tar_srv_org_open_idx")),
    ]:
        for part in portal_selectors.provider_tab_parts(user=user, tab=tab):
            # A page's keys: one ordered walk of the stream's index, stopped at the page.
            plan = part.values_list("received_at", "id")[:26].explain()
            assert "Seq Scan" not in plan, (tab, plan)
            if tab in ("all", "decided"):
                # (An open stream of a few dozen rows may be sorted after an index read.)
                assert any(index in plan for index in indexes), (tab, plan)
                assert "Sort" not in plan, (tab, plan)
            # The open tabs' capped counts: through an index, never the history (at
            # 1,000,000 the partial one, stopped at the cap; a rare status was a bitmap of
            # all the organization's requests). The history
            # tabs' counts stop at the cap among dense rows; at a few thousand rows
            # PostgreSQL may scan for them, at 1,000,000 it walks the page's index
            # (bench/bench_lists.py, EXPLAIN in the closing note).
            if tab in ("action", "review"):
                plan = part[: pagination.COUNT_CAP + 1].values("id").explain()
                assert "Seq Scan" not in plan, (tab, plan)


def test_the_name_search_reads_the_trigram_index(world):
    from members.models import Member

    with connection.cursor() as cursor:
        # A handful of members: a scan would win on cost; the question is whether the index
        # can serve the search at all (at 100,000 members it is chosen by cost).
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = Member.objects.filter(last_name__icontains=world.member.last_name).values("pk").explain()
    assert "member_last_trgm_idx" in plan, plan
