"""Grievance pages (issue 11 row 10): the member files and sees only their own, member services
enters a call, the coordinator acknowledges and resolves; bad input is a 400 page, never 500."""

from __future__ import annotations

import pytest

from grievances.models import Grievance
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(world):
    world.users["grievances"] = factories.UserFactory(username="grievances", role="grievances")
    return world.users["grievances"]


def test_member_files_and_follows_their_grievance(client_for, world):
    client = client_for("member")
    response = client.post(
        "/grievances/new",
        {"kind": "access", "description": "No appointment for 6 weeks."},
    )
    grievance = Grievance.objects.get()
    assert response.status_code == 302
    assert grievance.member == world.member and grievance.filer_kind == "member"
    page = client.get("/grievances/").content.decode()
    assert grievance.number in page
    detail = client.get(f"/grievances/{grievance.pk}/").content.decode()
    assert "No appointment for 6 weeks." in detail
    assert "Acknowledge (send the letter)" not in detail  # not offered to a member
    other = client_for("other_member")
    assert other.get(f"/grievances/{grievance.pk}/").status_code == 404
    assert grievance.number not in other.get("/grievances/").content.decode()


def test_member_services_enters_a_call(client_for, world):
    response = client_for("memberservices").post(
        "/grievances/new",
        {
            "member": world.member.cin,
            "channel": "phone",
            "kind": "extension",
            "description": "Disagrees with the extension.",
        },
    )
    assert response.status_code == 302
    assert Grievance.objects.get().filer_kind == "member_services"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "bogus", "description": "x"},
        {"kind": "access", "description": ""},
        {"kind": "access", "description": "x", "expedited": "on", "expedited_reason": ""},
        {"kind": "access", "description": "x", "tar": "TAR-1999-000001"},
    ],
)
def test_bad_input_is_a_400_page(client_for, world, body):
    response = client_for("member").post("/grievances/new", body)
    assert response.status_code == 400
    assert not Grievance.objects.exists()


def test_coordinator_acknowledges_and_resolves(client_for, world, coordinator):
    client_for("member").post("/grievances/new", {"kind": "access", "description": "Late."})
    grievance = Grievance.objects.get()
    client = client_for("grievances")
    queue = client.get("/grievances/").content.decode()
    assert grievance.number in queue and world.member.cin in queue
    assert client.post(f"/grievances/{grievance.pk}/acknowledge").status_code == 302
    empty = client.post(f"/grievances/{grievance.pk}/resolve", {"resolve-resolution": ""})
    assert empty.status_code == 400
    done = client.post(
        f"/grievances/{grievance.pk}/resolve", {"resolve-resolution": "We called the clinic."}
    )
    assert done.status_code == 302
    grievance.refresh_from_db()
    assert (grievance.status, grievance.resolution) == ("resolved", "We called the clinic.")
    # A member may not take the coordinator's actions, even by posting.
    assert client_for("member").post(f"/grievances/{grievance.pk}/acknowledge").status_code == 403
