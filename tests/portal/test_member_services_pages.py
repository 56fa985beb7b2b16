"""Member services acts for a member who called: finds them by CIN, sees their requests and
notices, asks for a copy of the criteria for them, and enters their appeal with the time the
call or letter came in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from appeals.models import Appeal
from authorizations.models import Decision, Tar
from notifications.models import CriteriaCopyRequest
from tests.conftest import BUSINESS_MORNING
from tests.portal.casework import denied_tar, local_input

pytestmark = pytest.mark.django_db


@pytest.fixture
def denied(world, submit, django_capture_on_commit_callbacks) -> int:
    """Denied two hours ago, with its notices owed (the on-commit hooks run)."""
    with django_capture_on_commit_callbacks(execute=True):
        tar_id = denied_tar(world, submit)
    earlier = timezone.now() - timedelta(hours=2)
    Decision.objects.filter(tar_id=tar_id).update(decided_at=earlier)
    Tar.objects.filter(pk=tar_id).update(decided_at=earlier)
    return tar_id


def test_find_a_member_by_cin_and_see_their_requests_and_notices(client_for, world, denied):
    client = client_for("memberservices")
    assert client.get("/").status_code == 302
    response = client.post("/member-services/", {"cin": world.member.cin.lower()})
    assert response.status_code == 302
    assert response["Location"] == f"/member-services/members/{world.member.pk}/"
    page = client.get(response["Location"]).content.decode()
    number = Tar.objects.get(pk=denied).number
    assert world.member.full_name in page and number in page
    detail = client.get(f"/member-services/tars/{denied}/").content.decode()
    assert "Denial notice" in detail
    assert "Enter the member's appeal" in detail


def test_an_unknown_or_malformed_cin(client_for):
    client = client_for("memberservices")
    unknown = client.post("/member-services/", {"cin": "99999999Z"})
    assert unknown.status_code == 404
    assert b"No member with this CIN" in unknown.content
    malformed = client.post("/member-services/", {"cin": "12"})
    assert malformed.status_code == 400
    assert b"8 digits followed by 1 letter" in malformed.content


def test_a_criteria_copy_for_the_member(client_for, world, denied):
    response = client_for("memberservices").post(f"/member-services/tars/{denied}/criteria-copy")
    assert response.status_code == 302
    copy = CriteriaCopyRequest.objects.get(tar_id=denied)
    assert copy.requested_for == "member"
    assert copy.requested_by == world.users["memberservices"]


# "40 minutes ago" is Pacific wall-clock arithmetic typed into a datetime-local field: on the
# night daylight saving starts or ends it can name a time that does not exist or exists twice,
# which the form rightly refuses. A plain business morning keeps the call unambiguous.
@pytest.mark.clock(BUSINESS_MORNING)
def test_an_appeal_entered_for_the_member_keeps_the_time_of_the_call(client_for, world, denied):
    called = (timezone.localtime() - timedelta(minutes=40)).replace(second=0, microsecond=0)
    response = client_for("memberservices").post(
        f"/member-services/tars/{denied}/appeal",
        {
            "received_at": local_input(called),
            "reason": "The member says the pain is worse.",
            "expedited": "no",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    appeal = Appeal.objects.get(tar_id=denied)
    assert appeal.filer == "member_services"
    assert appeal.filed_by == world.users["memberservices"]
    assert appeal.received_at == called
    page = client_for("member").get(f"/member/tars/{denied}/").content.decode()
    assert appeal.number in page


def test_a_call_before_the_decision_is_refused_by_the_service(client_for, denied):
    response = client_for("memberservices").post(
        f"/member-services/tars/{denied}/appeal",
        {"received_at": "2020-01-01T09:00", "reason": "x", "expedited": "no"},
    )
    assert response.status_code == 400
    assert b"The appeal cannot be received before the determination it appeals." in response.content


@pytest.mark.parametrize("persona", ["member", "provider", "nurse", "coordinator"])
def test_only_member_services_uses_these_pages(client_for, world, denied, persona):
    client = client_for(persona)
    assert client.get("/member-services/").status_code == 403
    assert client.get(f"/member-services/members/{world.member.pk}/").status_code == 403
    assert client.post(f"/member-services/tars/{denied}/criteria-copy").status_code == 403
