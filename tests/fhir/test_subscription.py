"""PAS subscriptions (PRODUCT §11): scoped to the caller's organization; each decision or pend
of its requests notified to a real HTTP receiver on 127.0.0.1, exactly once per event, with a
retry after a receiver failure."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tokens import token_issue
from authorizations.models import DomainEvent, EventKind
from authorizations.workflow.outbox import events_dispatch
from fhir.auth_models import Delivery, DeliveryAttempt, Subscription
from fhir.subscriptions import TOPIC, deliveries_send, handshakes_send
from tests.conftest import BUSINESS_MORNING
from tests.fhir.smart_helpers import access_token, receiver, register

pytestmark = [pytest.mark.django_db, pytest.mark.clock(BUSINESS_MORNING)]
ALL = "system/Subscription.* system/Claim.write"


def resource(endpoint: str, **changes) -> dict:
    """The official PAS example (Subscription-PASSubscriptionExample) with our endpoint."""
    body = {
        "resourceType": "Subscription",
        "meta": {
            "profile": [
                "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-subscription"
            ]
        },
        "status": "requested",
        "reason": "Receive notifications about claim responses for my organization.",
        "criteria": TOPIC,
        "channel": {
            "type": "rest-hook",
            "endpoint": endpoint,
            "payload": "application/fhir+json",
            "_payload": {
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content",
                        "valueCode": "full-resource",
                    }
                ]
            },
            "header": ["Authorization: Bearer receiver-secret"],
        },
    }
    body.update(changes)
    return body


def _filter(identifier: str) -> dict:
    return {
        "extension": [
            {
                "url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria",
                "valueString": f"orgIdentifier={identifier}",
            }
        ]
    }


@pytest.fixture
def tokens(world):
    """A SMART access token for a client of Redwood ("a") and of Coastal ("b")."""
    http = Client()
    a, key_a = register(world.redwood)
    b, key_b = register(world.coastal, "ES384")
    return {"a": access_token(http, a, key_a, ALL), "b": access_token(http, b, key_b, ALL)}


def _post(token: str, body) -> object:
    return Client().post(
        "/fhir/Subscription",
        json.dumps(body),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def _get(token: str, path: str = "/fhir/Subscription"):
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_client_subscribes_for_its_organization(world, tokens):
    response = _post(
        tokens["a"],
        resource("http://127.0.0.1:9/notify", _criteria=_filter(world.redwood_specialist.npi)),
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "requested"  # active once the handshake is answered
    assert body["criteria"] == TOPIC
    assert body["channel"]["header"] == ["Authorization: ***"]  # the receiver's secret stays
    assert response["Location"].endswith(f"/fhir/Subscription/{body['id']}")
    stored = Subscription.objects.get(pk=body["id"])
    assert stored.organization == world.redwood
    assert stored.headers == ["Authorization: Bearer receiver-secret"]
    assert _get(tokens["a"], f"/fhir/Subscription/{body['id']}").json()["id"] == body["id"]


def test_organization_b_cannot_see_delete_or_filter_on_as_subscriptions(world, tokens):
    created = _post(tokens["a"], resource("http://127.0.0.1:9/notify")).json()
    path = f"/fhir/Subscription/{created['id']}"
    assert _get(tokens["b"], path).status_code == 404
    deleted = Client().delete(path, HTTP_AUTHORIZATION=f"Bearer {tokens['b']}")
    assert deleted.status_code == 404
    assert Subscription.objects.get(pk=created["id"]).status == "requested"
    assert _get(tokens["b"]).json()["total"] == 0
    assert _get(tokens["a"]).json()["total"] == 1
    # B may not subscribe to A's requests by naming A's NPI in the filter.
    refused = _post(
        tokens["b"],
        resource("http://127.0.0.1:9/notify", _criteria=_filter(world.redwood_specialist.npi)),
    )
    assert refused.status_code == 403
    assert refused.json()["resourceType"] == "OperationOutcome"


def test_a_deleted_subscription_is_off(world, tokens):
    created = _post(tokens["a"], resource("http://127.0.0.1:9/notify")).json()
    path = f"/fhir/Subscription/{created['id']}"
    assert Client().delete(path, HTTP_AUTHORIZATION=f"Bearer {tokens['a']}").status_code == 200
    assert _get(tokens["a"], path).json()["status"] == "off"


def test_an_api_token_of_a_provider_user_may_subscribe(world):
    key, _expiry = token_issue(user=world.users["provider2"])
    response = _post(key, resource("http://127.0.0.1:9/notify"))
    assert response.status_code == 201
    assert Subscription.objects.get().organization == world.coastal
    nurse_key, _ = token_issue(user=world.users["nurse"])
    assert _post(nurse_key, resource("http://127.0.0.1:9/notify")).status_code == 403
    assert _post("nonsense", resource("http://127.0.0.1:9/notify")).status_code == 401


@pytest.mark.parametrize(
    "changes",
    [
        {"criteria": "http://example.org/SubscriptionTopic/other"},
        {"channel": {"type": "email", "endpoint": "mailto:x@example.org"}},
        {"channel": {"type": "rest-hook", "endpoint": "ftp://x"}},
        {"channel": {"type": "rest-hook"}},
        {
            "channel": {
                "type": "rest-hook",
                "endpoint": "http://127.0.0.1:9/",
                "payload": "application/xml",
            }
        },
        {
            "channel": {
                "type": "rest-hook",
                "endpoint": "http://127.0.0.1:9/",
                "header": ["Host: evil"],
            }
        },
        {
            "channel": {
                "type": "rest-hook",
                "endpoint": "http://127.0.0.1:9/",
                "header": ["X: a\r\nY: b"],
            }
        },
        {"resourceType": "Patient"},
        {"end": "2020-01-01T00:00:00Z"},
        {
            "_criteria": _filter("x").copy()
            | {
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria",
                        "valueString": "patient=1",
                    }
                ]
            }
        },
    ],
)
def test_a_subscription_the_topic_does_not_allow_gets_400(tokens, changes):
    response = _post(tokens["a"], resource("http://127.0.0.1:9/notify") | changes)
    assert response.status_code == 400, response.json()
    assert response.json()["issue"][0]["diagnostics"]
    assert not Subscription.objects.exists()


def test_not_json_gets_400(tokens):
    response = Client().post(
        "/fhir/Subscription",
        "{",
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=f"Bearer {tokens['a']}",
    )
    assert response.status_code == 400


def test_production_refuses_http_and_local_endpoints(tokens, settings):
    settings.FHIR_ALLOW_HTTP_ENDPOINTS = False
    for endpoint in (
        "http://ehr.example.org/n",
        "https://127.0.0.1/n",
        "https://localhost/n",
        "https://10.0.0.5/n",
    ):
        assert _post(tokens["a"], resource(endpoint)).status_code == 400
    assert _post(tokens["a"], resource("https://ehr.example.org/notify")).status_code == 201


# ---------------------------------------------------------------------------------------------
# Delivery


def _decide(api, tar_id: int, outcome: str = "approved") -> None:
    response = api("nurse").post(
        f"/api/v1/tars/{tar_id}/decision", {"outcome": outcome}, format="json"
    )
    assert response.status_code == 200, response.json()


def test_each_event_is_delivered_once_with_a_retry_after_a_failure(
    world, tokens, submit, api, caplog
):
    with receiver(answers=[200, 200, 500]) as server:
        assert _post(tokens["a"], resource(server.url)).status_code == 201
        coastal = _post(tokens["b"], resource(server.url + "/coastal")).json()
        assert handshakes_send() == 2  # both answered: active
        del server.bodies[:2]
        tar_id = submit()  # Redwood's request: pended (A4) for review
        events_dispatch()
        delivery = Delivery.objects.get()
        assert delivery.event.kind == EventKind.TAR_SUBMITTED
        assert delivery.event_number == 1

        now = timezone.now()
        with caplog.at_level(logging.INFO):
            assert deliveries_send(now=now)["pending"] == 1  # the receiver answered 500
        delivery.refresh_from_db()
        assert delivery.status == "pending"
        assert delivery.next_attempt_at == now + timedelta(seconds=30)
        assert deliveries_send(now=now + timedelta(seconds=10)) == {
            "delivered": 0,
            "pending": 0,
            "abandoned": 0,
        }  # not yet due
        assert deliveries_send(now=now + timedelta(seconds=31))["delivered"] == 1
        assert deliveries_send(now=now + timedelta(hours=2))["delivered"] == 0  # never again
        assert len(server.bodies) == 2
        assert [a.status_code for a in DeliveryAttempt.objects.order_by("pk")] == [500, 200]

        # The decision is the second event of this subscription.
        _decide(api, tar_id)
        events_dispatch()
        deliveries_send(now=now + timedelta(hours=3))
        events_dispatch()
        deliveries_send(now=now + timedelta(hours=4))
    assert len(server.bodies) == 3
    assert Delivery.objects.filter(status="delivered").count() == 2
    # Coastal's subscription heard nothing of Redwood's request.
    assert not Delivery.objects.filter(subscription_id=coastal["id"]).exists()

    pended, decided = server.bodies[1], server.bodies[2]
    for body, number in ((pended, "1"), (decided, "2")):
        assert body["resourceType"] == "Bundle" and body["type"] == "history"
        status, response = (e["resource"] for e in body["entry"])
        assert status["resourceType"] == "Parameters"
        parameters = {p["name"]: p for p in status["parameter"]}
        assert parameters["topic"]["valueCanonical"] == TOPIC
        assert parameters["type"]["valueCode"] == "event-notification"
        event = {p["name"]: p for p in parameters["notification-event"]["part"]}
        assert event["event-number"]["valueString"] == number
        assert event["focus"]["valueReference"]["reference"] == body["entry"][1]["fullUrl"]
        assert response["resourceType"] == "Bundle"
        assert response["entry"][0]["resource"]["resourceType"] == "ClaimResponse"
    assert server.headers[1]["Authorization"] == "Bearer receiver-secret"
    assert server.headers[1]["Content-Type"] == "application/fhir+json"
    claim_response = decided["entry"][1]["resource"]["entry"][0]["resource"]
    assert claim_response["outcome"] == "complete"
    assert "A1" in json.dumps(claim_response)
    assert "A4" in json.dumps(pended["entry"][1]["resource"]["entry"][0]["resource"])
    # No PHI in the log of the failure: ids and the status only.
    member = world.member
    for record in caplog.records:
        text = record.getMessage()
        assert member.cin not in text and member.last_name not in text


def test_an_approved_at_once_request_is_not_notified_as_pended(world, tokens, submit, api):
    with receiver() as server:
        _post(tokens["a"], resource(server.url))
        handshakes_send()
        tar_id = submit()
        _decide(api, tar_id)  # decided before the outbox ran
        events_dispatch()
        deliveries_send()
    kinds = list(Delivery.objects.values_list("event__kind", flat=True))
    assert kinds == [EventKind.TAR_DECIDED]
    assert len(server.bodies) == 2  # the handshake and the decision


def test_a_delivery_is_given_up_after_the_last_attempt(world, tokens, submit):
    with receiver(answers=[200] + [503] * 20) as server:
        _post(tokens["a"], resource(server.url))
        handshakes_send()
        submit()
        events_dispatch()
        at = timezone.now()
        for _ in range(12):
            at += timedelta(hours=2)
            deliveries_send(now=at)
    delivery = Delivery.objects.get()
    assert delivery.status == "abandoned"
    assert delivery.attempts == 10
    assert len(server.bodies) == 11  # the handshake and ten attempts
    assert Subscription.objects.get().status == "error"


def test_a_subscription_turned_off_is_owed_nothing(world, tokens, submit):
    created = _post(tokens["a"], resource("http://127.0.0.1:9/notify")).json()
    Client().delete(
        f"/fhir/Subscription/{created['id']}", HTTP_AUTHORIZATION=f"Bearer {tokens['a']}"
    )
    submit()
    events_dispatch()
    assert not Delivery.objects.exists()
    assert DomainEvent.objects.filter(processed_at__isnull=False).exists()


def test_the_admin_shows_deliveries_and_attempts(world, tokens, submit):
    from accounts.models import Role, User

    with receiver(answers=[200, 500]) as server:
        _post(tokens["a"], resource(server.url))
        handshakes_send()
        submit()
        events_dispatch()
        deliveries_send()
    admin_user = User.objects.create_superuser("root", "root@example.org", "pw", role=Role.INTAKE)
    browser = Client()
    browser.force_login(admin_user)
    delivery = Delivery.objects.get()
    page = browser.get(f"/admin/fhir/delivery/{delivery.pk}/change/")
    assert page.status_code == 200
    assert "500" in page.content.decode()
    assert browser.get("/admin/fhir/subscription/").status_code == 200
    listing = browser.get(f"/admin/fhir/subscription/{delivery.subscription_id}/change/")
    assert "receiver-secret" not in listing.content.decode()
