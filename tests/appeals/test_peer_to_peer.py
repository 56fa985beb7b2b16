"""Peer-to-peer talks (002 "Denial Determinations"): the requesting provider asks to discuss
a pending or adverse decision with the physician reviewer; the plan schedules it; the
physician records the outcome and links any changed decision."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from appeals.models import Appeal, PeerToPeer
from authorizations.models import HistoryEntry, Tar
from tests.appeals.conftest import NOT_MET, OVERTURN_BODY, decision_of, error

pytestmark = pytest.mark.django_db


def _ask(api, tar_id: int, persona: str = "provider", **body):
    soon = timezone.now() + timedelta(days=1)
    payload = {
        "contact_phone": "(707) 555-0199",
        "proposed_times": [soon.isoformat(), (soon + timedelta(hours=3)).isoformat()],
        "topic": "The MRI shows foraminal stenosis at L5-S1.",
    }
    payload.update(body)
    return api(persona).post(f"/api/v1/tars/{tar_id}/peer-to-peer", payload, format="json")


def _schedule(api, p2p_id: int, persona: str = "physician", **body):
    payload = {"scheduled_at": (timezone.now() + timedelta(days=1)).isoformat()}
    payload.update(body)
    return api(persona).post(f"/api/v1/peer-to-peer/{p2p_id}/schedule", payload, format="json")


def _outcome(api, p2p_id: int, persona: str = "physician", **body):
    payload = {"outcome": "decision_stands", "summary": "Discussed; no new findings."}
    payload.update(body)
    return api(persona).post(f"/api/v1/peer-to-peer/{p2p_id}/outcome", payload, format="json")


def test_the_provider_asks_about_a_denial_and_the_physician_holds_the_talk(api, denied):
    tar_id = denied()
    response = _ask(api, tar_id)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "requested"
    assert body["decision"] is not None  # the adverse decision discussed
    assert len(body["proposed_times"]) == 2

    scheduled = _schedule(api, body["id"])
    assert scheduled.status_code == 200, scheduled.json()
    assert scheduled.json()["status"] == "scheduled"
    assert scheduled.json()["physician"] == "physician"

    held = _outcome(api, body["id"])
    assert held.status_code == 200, held.json()
    assert held.json()["status"] == "held"
    assert held.json()["outcome"] == "decision_stands"
    actions = list(
        HistoryEntry.objects.filter(tar_id=tar_id, action__startswith="p2p_").values_list(
            "action", flat=True
        )
    )
    assert actions == ["p2p_requested", "p2p_scheduled", "p2p_held"]


def test_a_talk_about_a_pending_request_links_the_decision_it_led_to(api, submit, decide):
    tar_id = submit("provider", answers=NOT_MET)  # pending, headed for a denial
    p2p_id = _ask(api, tar_id).json()["id"]
    assert _schedule(api, p2p_id, "nurse", physician=_physician_id(api)).status_code == 200
    held = _outcome(api, p2p_id, outcome="decision_changed", summary="Will approve.")
    assert held.status_code == 200, held.json()
    decide(tar_id, {"outcome": "approved"})  # the physician changes course via tar_decide
    linked = api("physician").post(
        f"/api/v1/peer-to-peer/{p2p_id}/link", {"decision": decision_of(tar_id).pk}, format="json"
    )
    assert linked.status_code == 200, linked.json()
    assert linked.json()["changed_decision"] == decision_of(tar_id).pk


def _physician_id(api) -> int:
    return User.objects.get(username="physician").pk


def test_a_talk_can_link_the_appeal_that_changed_the_decision(api, appeal_id):
    tar_id = Appeal.objects.get(pk=appeal_id).tar_id
    p2p_id = _ask(api, tar_id).json()["id"]
    # The deciding physician holds the talk; the appeal goes to one who held no part in any
    # earlier level, the talk included (42 CFR 438.406(b)(2)).
    assert _schedule(api, p2p_id, "physician").status_code == 200
    assert _outcome(api, p2p_id, "physician", outcome="decision_changed").status_code == 200
    decided = api("physician2").post(
        f"/api/v1/appeals/{appeal_id}/decide", OVERTURN_BODY, format="json"
    )
    assert decided.status_code == 200
    linked = api("physician").post(
        f"/api/v1/peer-to-peer/{p2p_id}/link", {"appeal": appeal_id}, format="json"
    )
    assert linked.json()["changed_by_appeal"] == appeal_id


def test_only_the_requesting_office_asks_and_only_once_at_a_time(api, denied):
    tar_id = denied()
    error(_ask(api, tar_id, "member"), 403, "permission_denied")
    error(_ask(api, tar_id, "provider2"), 404, "not_found")
    assert _ask(api, tar_id).status_code == 201
    error(_ask(api, tar_id), 409, "invalid_transition")


def test_proposed_times_are_in_the_future(api, denied):
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    body = error(_ask(api, denied(), proposed_times=[past]), 400, "invalid")
    assert "proposed_times" in body["fields"]


def test_a_physician_in_conflict_cannot_be_scheduled_and_only_the_talks_physician_records_it(
    api, world, denied
):
    tar_id = denied()
    p2p_id = _ask(api, tar_id).json()["id"]
    Tar.objects.filter(pk=tar_id).update(servicing_provider=world.users["physician2"].provider)
    error(_schedule(api, p2p_id, "physician2"), 403, "conflict_of_interest")
    assert _schedule(api, p2p_id, "physician").status_code == 200
    error(_outcome(api, p2p_id, "physician2"), 403, "permission_denied")
    error(_outcome(api, p2p_id, "nurse"), 403, "physician_required")


def test_the_provider_may_cancel_a_talk_before_it_is_held(api, denied):
    p2p_id = _ask(api, denied()).json()["id"]
    response = api("provider").post(
        f"/api/v1/peer-to-peer/{p2p_id}/cancel", {"reason": "Resolved by phone."}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert PeerToPeer.objects.get(pk=p2p_id).status == "cancelled"
    error(_schedule(api, p2p_id), 409, "invalid_transition")
