"""Scoping (PRODUCT §2): appeals, talks and IMR cases are seen exactly like their TARs:
providers only their organization's, members only their own, plan staff all. Anyone else
gets 404, as if the record did not exist."""

from __future__ import annotations

import pytest
from django.test import Client

from appeals.models import Appeal
from tests.appeals.conftest import error
from tests.appeals.test_imr import _refer

pytestmark = pytest.mark.django_db

OUTSIDERS = ["provider2", "other_member"]


@pytest.fixture
def records(api, appeal_id):
    tar_id = Appeal.objects.get(pk=appeal_id).tar_id
    imr_id = _refer(api, tar_id, referral_reason="appeal").json()["id"]
    p2p = api("provider").post(
        f"/api/v1/tars/{tar_id}/peer-to-peer",
        {"contact_phone": "(707) 555-0100", "proposed_times": ["2099-01-05T10:00:00-08:00"]},
        format="json",
    )
    assert p2p.status_code == 201, p2p.json()
    return {"tar": tar_id, "appeal": appeal_id, "imr": imr_id, "p2p": p2p.json()["id"]}


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_outsiders_get_404_on_someone_elses_appeal_imr_and_talk(api, records, persona):
    client = api(persona)
    for path in (
        f"/api/v1/appeals/{records['appeal']}/",
        f"/api/v1/imr/{records['imr']}/",
        f"/api/v1/imr/{records['imr']}/packet",
        f"/api/v1/peer-to-peer/{records['p2p']}/",
        f"/api/v1/tars/{records['tar']}/appeals",
        f"/api/v1/tars/{records['tar']}/imr",
        f"/api/v1/tars/{records['tar']}/peer-to-peer",
    ):
        error(client.get(path), 404, "not_found")
    assert client.get("/api/v1/appeals/").json()["results"] == []
    assert client.get("/api/v1/imr/").json()["results"] == []
    assert client.get("/api/v1/peer-to-peer/").json()["results"] == []


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_outsiders_get_404_on_writes_too(api, records, persona):
    client = api(persona)
    error(
        client.post(f"/api/v1/appeals/{records['appeal']}/withdraw", {}, format="json"),
        404,
        "not_found",
    )
    error(
        client.post(f"/api/v1/tars/{records['tar']}/appeals", {"reason": "x"}, format="json"),
        404,
        "not_found",
    )
    # The workflow kernel checks the role first: a member may never cancel a talk, and is
    # told so before anything about the record is read (403 reveals nothing about it).
    expected = (403, "permission_denied") if persona == "other_member" else (404, "not_found")
    error(
        client.post(f"/api/v1/peer-to-peer/{records['p2p']}/cancel", {}, format="json"),
        *expected,
    )


@pytest.mark.parametrize("persona", ["member", "provider", "nurse", "memberservices", "manager"])
def test_the_member_their_provider_and_plan_staff_see_them(api, records, persona):
    client = api(persona)
    assert client.get(f"/api/v1/appeals/{records['appeal']}/").status_code == 200
    assert client.get(f"/api/v1/imr/{records['imr']}/").status_code == 200
    assert [a["id"] for a in client.get("/api/v1/appeals/").json()["results"]] == [
        records["appeal"]
    ]
    assert [i["id"] for i in client.get("/api/v1/imr/").json()["results"]] == [records["imr"]]


@pytest.mark.parametrize("persona", ["coordinator", "memberservices"])
def test_intake_and_member_services_track_an_imr_without_its_clinical_record(
    api, records, persona, world
):
    """Least privilege (PRODUCT §2; issue 12): they see the case, its status and dates, not
    the packet or the questions drawn from the clinical record."""
    client = api(persona)
    body = client.get(f"/api/v1/imr/{records['imr']}/").json()
    assert body["number"] and body["status"] == "referred"
    assert body["questions"] is None and body["packet"] is None
    error(client.get(f"/api/v1/imr/{records['imr']}/packet"), 404, "not_found")
    page = Client()
    page.force_login(world.users[persona])
    response = page.get(f"/imr/{records['imr']}/")
    assert response.status_code == 200
    assert b"Relevant medical history" not in response.content
    assert b"referral packet" not in response.content
    assert page.get(f"/imr/{records['imr']}/packet").status_code == 404


def test_clinical_staff_see_the_imr_packet_and_questions(api, records):
    body = api("nurse").get(f"/api/v1/imr/{records['imr']}/").json()
    assert body["questions"] and body["packet"].endswith("/packet")
    assert api("nurse").get(f"/api/v1/imr/{records['imr']}/packet").status_code == 200
