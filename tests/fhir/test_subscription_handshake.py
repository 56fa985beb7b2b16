"""Subscription handshake and heartbeat (R4 Subscriptions Backport, as PAS 2.2.1 uses it;
issue 14), against a real HTTP receiver on 127.0.0.1: a new subscription is `requested`
until its endpoint answers the handshake (then active, or error), nothing else is sent
before; heartbeats go out at the heartbeatPeriod when nothing else did."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from authorizations.workflow.outbox import events_dispatch
from fhir.auth_models import Delivery, Subscription
from fhir.subscriptions import (
    HEARTBEAT_PERIOD,
    STATUS_PROFILE,
    TOPIC,
    deliveries_send,
    handshake_send,
    handshakes_send,
    heartbeats_send,
)
from fhir.tasks import deliveries_send_task
from tests.conftest import BUSINESS_MORNING
from tests.fhir.smart_helpers import receiver
from tests.fhir.test_subscription import _post, resource, tokens  # noqa: F401 - the fixture

pytestmark = [pytest.mark.django_db, pytest.mark.clock(BUSINESS_MORNING)]


def _status(body: dict) -> dict:
    assert body["resourceType"] == "Bundle" and body["type"] == "history"
    (entry,) = body["entry"]
    parameters = entry["resource"]
    assert parameters["resourceType"] == "Parameters"
    assert parameters["meta"]["profile"] == [STATUS_PROFILE]
    return {p["name"]: p for p in parameters["parameter"]}


def _with_heartbeat(url: str, seconds) -> dict:
    body = resource(url)
    body["channel"]["extension"] = [{"url": HEARTBEAT_PERIOD, "valueUnsignedInt": seconds}]
    return body


def test_the_handshake_activates_the_subscription(world, tokens):  # noqa: F811
    with receiver() as server:
        created = _post(tokens["a"], resource(server.url)).json()
        assert created["status"] == "requested"
        assert handshakes_send() == 1
        assert handshakes_send() == 0  # once
    subscription = Subscription.objects.get(pk=created["id"])
    assert subscription.status == "active"
    assert subscription.handshake_status_code == 200
    (body,) = server.bodies
    parameters = _status(body)
    assert parameters["type"]["valueCode"] == "handshake"
    assert parameters["status"]["valueCode"] == "requested"
    assert parameters["topic"]["valueCanonical"] == TOPIC
    assert parameters["subscription"]["valueReference"]["reference"].endswith(
        f"/fhir/Subscription/{created['id']}"
    )
    assert "notification-event" not in parameters
    # The client's own header goes with it (decrypted for the send only).
    assert server.headers[0]["Authorization"] == "Bearer receiver-secret"
    shown = Client().get(
        f"/fhir/Subscription/{created['id']}", HTTP_AUTHORIZATION=f"Bearer {tokens['a']}"
    )
    assert shown.json()["status"] == "active"


@pytest.mark.parametrize("answers", [[500], [404]])
def test_a_refused_handshake_puts_it_in_error(world, tokens, answers):  # noqa: F811
    with receiver(answers=answers) as server:
        created = _post(tokens["a"], resource(server.url)).json()
        assert handshake_send(int(created["id"])) == "error"
    subscription = Subscription.objects.get(pk=created["id"])
    assert subscription.status == "error"
    assert subscription.handshake_status_code == answers[0]
    assert subscription.handshake_error == "HTTP status"


def test_an_unreachable_endpoint_puts_it_in_error(world, tokens):  # noqa: F811
    created = _post(tokens["a"], resource("http://127.0.0.1:9/notify")).json()
    assert handshake_send(int(created["id"])) == "error"
    subscription = Subscription.objects.get(pk=created["id"])
    assert subscription.handshake_status_code is None
    assert subscription.handshake_error == "ConnectionError"


def test_nothing_is_sent_before_the_handshake(world, tokens, submit):  # noqa: F811
    with receiver() as server:
        _post(tokens["a"], resource(server.url))
        submit()
        events_dispatch()
        assert deliveries_send()["delivered"] == 0  # held: the subscription is requested
        assert Delivery.objects.get().status == "pending"
        assert server.bodies == []
        # The beat's run: the handshake first, then what waited for it.
        counts = deliveries_send_task()
    assert counts["handshakes"] == 1 and counts["delivered"] == 1
    handshake, notification = server.bodies
    assert _status(handshake)["type"]["valueCode"] == "handshake"
    assert notification["entry"][0]["resource"]["parameter"][3]["valueCode"] == (
        "event-notification"
    )


def test_heartbeats_at_the_heartbeat_period_when_nothing_else_was_sent(world, tokens, submit):  # noqa: F811
    with receiver() as server:
        created = _post(tokens["a"], _with_heartbeat(server.url, 120)).json()
        assert created["channel"]["extension"] == [
            {"url": HEARTBEAT_PERIOD, "valueUnsignedInt": 120}
        ]
        now = timezone.now()
        handshake_send(int(created["id"]), now=now)
        assert heartbeats_send(now=now + timedelta(seconds=60)) == 0  # not yet
        assert heartbeats_send(now=now + timedelta(seconds=120)) == 1
        assert heartbeats_send(now=now + timedelta(seconds=150)) == 0  # just sent
        # A notification resets the heartbeat's clock.
        submit()
        events_dispatch()
        assert deliveries_send(now=now + timedelta(seconds=200))["delivered"] == 1
        assert heartbeats_send(now=now + timedelta(seconds=250)) == 0
        assert heartbeats_send(now=now + timedelta(seconds=320)) == 1
    kinds = [b["entry"][0]["resource"]["parameter"][3]["valueCode"] for b in server.bodies]
    assert kinds == ["handshake", "heartbeat", "event-notification", "heartbeat"]
    heartbeat = _status(server.bodies[1])
    assert heartbeat["status"]["valueCode"] == "active"
    assert heartbeat["events-since-subscription-start"]["valueString"] == "0"
    assert _status(server.bodies[3])["events-since-subscription-start"]["valueString"] == "1"


def test_no_heartbeat_without_a_period_or_once_off(world, tokens):  # noqa: F811
    with receiver() as server:
        plain = _post(tokens["a"], resource(server.url)).json()
        beating = _post(tokens["a"], _with_heartbeat(server.url, 60)).json()
        now = timezone.now()
        handshakes_send(now=now)
        Client().delete(
            f"/fhir/Subscription/{beating['id']}", HTTP_AUTHORIZATION=f"Bearer {tokens['a']}"
        )
        assert heartbeats_send(now=now + timedelta(hours=1)) == 0
    assert len(server.bodies) == 2  # the two handshakes
    assert Subscription.objects.get(pk=plain["id"]).heartbeat_period is None


def test_a_failed_heartbeat_puts_it_in_error(world, tokens):  # noqa: F811
    with receiver(answers=[200, 503]) as server:
        created = _post(tokens["a"], _with_heartbeat(server.url, 60)).json()
        now = timezone.now()
        handshake_send(int(created["id"]), now=now)
        assert heartbeats_send(now=now + timedelta(minutes=1)) == 0
    assert Subscription.objects.get(pk=created["id"]).status == "error"
    assert len(server.bodies) == 2


@pytest.mark.parametrize("value", [0, 30, 86401, "60", True, -5])
def test_a_bad_heartbeat_period_is_refused(world, tokens, value):  # noqa: F811
    response = _post(tokens["a"], _with_heartbeat("http://127.0.0.1:9/notify", value))
    assert response.status_code == 400
    assert "heartbeatPeriod" in json.dumps(response.json())
    assert not Subscription.objects.exists()


def test_status_operation_answers_the_callers_own_subscription(world, tokens):  # noqa: F811
    with receiver() as server:
        created = _post(tokens["a"], resource(server.url)).json()
        handshakes_send()
    path = f"/fhir/Subscription/{created['id']}/$status"
    answer = Client().get(path, HTTP_AUTHORIZATION=f"Bearer {tokens['a']}")
    assert answer.status_code == 200
    bundle = answer.json()
    assert bundle["type"] == "searchset" and bundle["total"] == 1
    parameters = {p["name"]: p for p in bundle["entry"][0]["resource"]["parameter"]}
    assert parameters["type"]["valueCode"] == "query-status"
    assert parameters["status"]["valueCode"] == "active"
    assert Client().get(path, HTTP_AUTHORIZATION=f"Bearer {tokens['b']}").status_code == 404
    assert Client().get(path).status_code == 401
