"""Grievances on the workflow kernel (issue 11 row 10; PRODUCT §4; 42 CFR 438.402, 438.406,
438.408(b); H&S 1368): filed by the member, member services (phone) or a provider for the
member with written consent; acknowledged and resolved by the grievance coordinator; missed
deadlines recorded by the sweep and escalated; every read scoped to the caller."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from authorizations.models import DomainEvent, EventKind, HistoryEntry, Tar
from authorizations.workflow import outbox
from grievances.models import Grievance, GrievanceStatus
from grievances.sweep import grievance_deadline_sweep
from tests import factories
from tests.conftest import BUSINESS_MORNING

pytestmark = [pytest.mark.django_db, pytest.mark.clock(BUSINESS_MORNING)]

URL = "/api/v1/grievances/"


@pytest.fixture
def coordinator(world):
    user = factories.UserFactory(
        username="grievances", role="grievances", email="grievances@plan.example"
    )
    world.users["grievances"] = user
    return user


def _file(api, persona: str, **body):
    payload = {"kind": "quality_of_care", "description": "The clinic kept me waiting 3 hours."}
    payload.update(body)
    return api(persona).post(URL, payload, format="json")


def _created(response) -> dict:
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_member_files_online_for_themself(api, world):
    body = _created(_file(api, "member", member=world.other_member.cin))
    assert body["member"] == world.member.cin  # their own, whatever they typed
    assert (body["filer_kind"], body["channel"], body["status"]) == ("member", "online", "received")
    assert body["acknowledgement_due_rule"] == "grievance_ack_5_calendar_days"
    assert body["resolution_due_rule"] == "grievance_resolution_30_calendar_days"
    grievance = Grievance.objects.get(pk=body["id"])
    assert grievance.number.startswith("GRV-2027-")
    history = HistoryEntry.objects.get(member=world.member, action="grievance_filed")
    assert history.tar is None and history.actor == world.users["member"]
    event = DomainEvent.objects.get(kind=EventKind.GRIEVANCE_FILED)
    assert (event.subject_type, event.subject_id, event.tar) == ("grievance", grievance.pk, None)


def test_member_services_enters_a_call_with_its_true_time(api, world, submit):
    tar_id = submit()
    number = Tar.objects.get(pk=tar_id).number
    called = (BUSINESS_MORNING - timedelta(hours=3)).isoformat()
    body = _created(
        _file(
            api,
            "memberservices",
            member=world.member.cin,
            kind="extension",
            tar=number,
            received_at=called,
            description="Member disagrees with the 14-day extension of her request.",
        )
    )
    assert (body["filer_kind"], body["channel"], body["tar"]) == (
        "member_services",
        "phone",
        number,
    )
    assert body["received_at"] == "2027-04-14T07:00:00-07:00"


def test_a_provider_files_for_the_member_with_written_consent(api, world):
    body = _created(
        _file(
            api,
            "provider",
            member=world.member.cin,
            kind="access",
            consent_signed_on="2027-04-12",
            consent_reference="Signed consent form scanned as consent-0412.pdf",
        )
    )
    assert body["filer_kind"] == "provider"
    assert body["consent_signed_on"] == "2027-04-12"


def test_a_provider_without_the_members_consent_is_refused(api, world):
    response = _file(api, "provider", member=world.member.cin)
    assert response.status_code == 400
    assert {"consent_signed_on", "consent_reference"} <= set(response.json()["fields"])
    assert not Grievance.objects.exists()


def test_a_provider_cannot_file_for_a_member_it_does_not_care_for(api, world):
    stranger = factories.MemberFactory()
    response = _file(
        api,
        "provider2",
        member=stranger.cin,
        consent_signed_on="2027-04-12",
        consent_reference="form",
    )
    assert response.status_code == 400
    assert "member" in response.json()["fields"]


def test_an_expedited_grievance_is_due_in_72_hours(api, world):
    body = _created(
        _file(
            api,
            "memberservices",
            member=world.member.cin,
            kind="access",
            expedited=True,
            expedited_reason="Pump refill delayed; the member is in withdrawal.",
        )
    )
    assert body["resolution_due_rule"] == "grievance_resolution_expedited_72_hours"
    assert body["acknowledgement_due_at"] == body["resolution_due_at"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"kind": "nonsense"}, id="unknown-kind"),
        pytest.param({"description": ""}, id="empty-description"),
        pytest.param({"description": ["x"]}, id="description-not-text"),
        pytest.param({"expedited": True, "expedited_reason": ""}, id="expedited-without-reason"),
        pytest.param({"received_at": "yesterday"}, id="bad-time"),
        pytest.param({"member": "99999999Z"}, id="unknown-member"),
        pytest.param({"member": "", "kind": None}, id="null-kind"),
    ],
)
def test_bad_input_is_a_clear_400(api, world, body):
    payload = {"member": world.member.cin, **body}
    response = _file(api, "memberservices", **payload)
    assert response.status_code == 400, response.content[:300]
    assert set(response.json()) == {"code", "message", "fields"}
    assert not Grievance.objects.exists()


def test_a_member_cannot_set_the_receipt_time(api, world):
    response = _file(api, "member", received_at="2027-04-13T10:00:00-07:00")
    assert response.status_code == 400
    assert "received_at" in response.json()["fields"]


def test_only_the_coordinator_acknowledges_and_resolves(api, world, coordinator):
    grievance = _created(_file(api, "member"))
    gid = grievance["id"]
    for persona in ("member", "nurse", "memberservices"):
        response = api(persona).post(f"{URL}{gid}/acknowledge", {}, format="json")
        assert response.status_code == 403, persona
    assert grievance["actions"] == ["withdraw"]
    detail = api("grievances").get(f"{URL}{gid}/").json()
    assert detail["actions"] == ["acknowledge", "resolve", "withdraw"]
    acked = api("grievances").post(f"{URL}{gid}/acknowledge", {}, format="json")
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    again = api("grievances").post(f"{URL}{gid}/acknowledge", {}, format="json")
    assert again.status_code == 409
    empty = api("grievances").post(f"{URL}{gid}/resolve", {"resolution": " "}, format="json")
    assert empty.status_code == 400
    resolved = api("grievances").post(
        f"{URL}{gid}/resolve",
        {"resolution": "We spoke with the clinic; it now books no more than 2 per slot."},
        format="json",
    )
    assert resolved.status_code == 200
    assert resolved.json()["status"] == GrievanceStatus.RESOLVED
    actions = HistoryEntry.objects.filter(
        member=world.member, action__startswith="grievance"
    ).values_list("action", flat=True)
    assert list(actions) == ["grievance_filed", "grievance_acknowledged", "grievance_resolved"]


def test_scoping_member_provider_and_coordinator(api, world, coordinator):
    mine = _created(_file(api, "member"))["id"]
    theirs = _created(_file(api, "other_member"))["id"]
    by_redwood = _created(
        _file(
            api,
            "provider",
            member=world.member.cin,
            consent_signed_on="2027-04-01",
            consent_reference="form",
        )
    )["id"]

    def ids(persona):
        response = api(persona).get(URL)
        assert response.status_code == 200
        return {g["id"] for g in response.json()["results"]}

    assert ids("member") == {mine, by_redwood}
    assert ids("other_member") == {theirs}
    assert ids("provider") == {by_redwood}
    assert ids("provider2") == set()
    assert ids("nurse") == set()
    assert ids("grievances") == {mine, theirs, by_redwood}
    assert api("member").get(f"{URL}{theirs}/").status_code == 404
    assert api("provider2").get(f"{URL}{by_redwood}/").status_code == 404
    # A grievance you may not see cannot be acted on either (404, not 403).
    assert api("other_member").post(f"{URL}{mine}/withdraw", {}, format="json").status_code == 404


def test_a_missed_deadline_is_recorded_once_and_escalated(api, world, coordinator):
    gid = _created(_file(api, "member"))["id"]
    grievance = Grievance.objects.get(pk=gid)
    # Day 6: the acknowledgement is overdue; the resolution is not.
    day6 = grievance.acknowledgement_due_at + timedelta(minutes=1)
    result = grievance_deadline_sweep(now=day6)
    assert (result.acknowledgements_overdue, result.breached) == (1, 0)
    assert grievance_deadline_sweep(now=day6).acknowledgements_overdue == 0  # once
    # Day 31: resolution deadline missed.
    day31 = grievance.resolution_due_at + timedelta(minutes=1)
    assert grievance_deadline_sweep(now=day31).breached == 1
    grievance.refresh_from_db()
    assert grievance.breached_at == day31
    assert grievance.status == GrievanceStatus.RECEIVED  # still open, still owed
    kinds = list(
        DomainEvent.objects.filter(subject_type="grievance", subject_id=gid).values_list(
            "kind", flat=True
        )
    )
    assert kinds == [
        EventKind.GRIEVANCE_FILED,
        EventKind.GRIEVANCE_ACK_OVERDUE,
        EventKind.GRIEVANCE_BREACHED,
    ]
    breach = DomainEvent.objects.get(kind=EventKind.GRIEVANCE_BREACHED)
    assert breach.payload["escalated_to"] == ["manager", "grievances"]
    # The escalation consumer of the outbox mails the coordinators (number only, no PHI).
    mail.outbox.clear()
    outbox.events_dispatch(now=day31)
    sent = [m for m in mail.outbox if "Grievance" in m.subject]
    assert sent, [m.subject for m in mail.outbox]
    assert all(grievance.number in m.body for m in sent)
    assert all(world.member.last_name not in m.body for m in sent)
    assert "grievances@plan.example" in sent[0].to
