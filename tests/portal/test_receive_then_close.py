"""Receive, then close (issue 11 row 8; PRODUCT §4 "Incomplete or ineligible requests are
received, not refused"): a request the plan received for a member not eligible on the date of
service, without a valid RAF, or with a servicing provider not credentialed is recorded with its
true receipt time, its clock runs, it lands in the review queue flagged, and closing it owes
the notice the closure owes (notifications.policy). What cannot be attributed to a member and a
provider is still refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from authorizations import services
from authorizations.models import DomainEvent, EventKind, Tar
from notifications.models import Notice
from tests.portal.test_intake_pages import _body as intake_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_hooks(django_capture_on_commit_callbacks):
    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def _post(api, body, persona="provider"):
    return api(persona).post("/api/v1/tars/", body, format="json")


def test_api_receives_a_request_for_an_ineligible_member_with_warnings(api, tar_payload, world):
    world.member.eligibility_spans.update(end_date=timezone.localdate())
    response = _post(api, tar_payload())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [w["field"] for w in body["warnings"]] == ["member"]
    tar = Tar.objects.get(pk=body["id"])
    # Received: its number, receipt and clock, and the event every receipt writes.
    assert tar.received_at is not None and tar.decision_due_at is not None
    event = DomainEvent.objects.get(tar=tar, kind=EventKind.TAR_SUBMITTED)
    assert event.payload["intake_flags"] == body["warnings"]


def test_api_still_refuses_what_cannot_be_attributed(api, tar_payload):
    response = _post(api, tar_payload(member="99999999Z"))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Tar.objects.exists()


def test_the_openapi_schema_documents_the_warnings(api):
    schema = api("provider").get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/tars/"]["post"]
    assert "warnings" in operation["description"]


def test_intake_enters_a_fax_for_an_ineligible_member(client_for, world):
    """Today's code refused the fax with 400: the plan had it and could not record it."""
    world.member.eligibility_spans.update(end_date=timezone.localdate())
    received = (timezone.localtime() - timedelta(days=1)).replace(
        hour=11, minute=5, second=0, microsecond=0
    )
    response = client_for("coordinator").post("/intake/new", intake_body(world, received))
    assert response.status_code == 302, response.content.decode()[:2000]
    tar = Tar.objects.get()
    assert (tar.channel, tar.received_at) == ("fax", received)
    assert [flag["field"] for flag in tar.intake_flags] == ["member"]


def test_intake_enters_a_fax_from_an_uncredentialed_specialist(client_for, world):
    specialist = world.redwood_specialist
    specialist.pain_specialist_credentialed_to = timezone.localdate()
    specialist.save()
    received = timezone.localtime().replace(second=0, microsecond=0) - timedelta(hours=2)
    response = client_for("coordinator").post("/intake/new", intake_body(world, received))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [flag["field"] for flag in Tar.objects.get().intake_flags] == ["servicing_provider"]


def _notices(tar_id: int) -> set[tuple[str, str]]:
    return set(Notice.objects.filter(tar_id=tar_id).values_list("kind", "audience"))


def test_closing_a_flagged_ineligible_request_owes_the_member_a_denial_notice(
    api, tar_payload, world, run_hooks
):
    world.member.eligibility_spans.update(end_date=timezone.localdate())
    tar_id = _post(api, tar_payload()).json()["id"]
    run_hooks(
        services.tar_decide,
        tar_id=tar_id,
        user=world.users["nurse"],
        outcome="closed",
        reason_code="not_eligible",
        rationale="Your Medi-Cal with this plan ends before the date of the injection.",
    )
    assert _notices(tar_id) == {("denial", "provider"), ("denial", "member")}


def test_closing_a_request_received_without_a_raf_owes_the_member_a_denial_notice(
    api, tar_payload, world, run_hooks
):
    tar_id = _post(api, tar_payload(referral=None)).json()["id"]
    run_hooks(
        services.tar_decide,
        tar_id=tar_id,
        user=world.users["nurse"],
        outcome="closed",
        reason_code="requirements_not_met",
        rationale="No referral from your primary care provider came with the request.",
    )
    tar = Tar.objects.get(pk=tar_id)
    assert (tar.status, tar.reason_code) == ("closed", "requirements_not_met")
    assert _notices(tar_id) == {("denial", "provider"), ("denial", "member")}


def test_requirements_not_met_needs_the_flag(api, tar_payload, world):
    """Row 9's rule for the new ground: only a request received without them."""
    tar_id = _post(api, tar_payload()).json()["id"]
    body = {"outcome": "closed", "reason_code": "requirements_not_met", "rationale": "No RAF."}
    response = api("nurse").post(f"/api/v1/tars/{tar_id}/decision", body, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "physician_decision_required"
