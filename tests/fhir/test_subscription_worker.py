"""Subscription notifications with a real Celery worker against Redis (PRODUCT §11): the
outbox consumer and the sender run in the worker, POST to a real receiver on 127.0.0.1, retry
after a failure, and two overlapping sends still deliver once."""

from __future__ import annotations

import json

import pytest
from celery import group
from django.test import Client
from django.utils import timezone

from fhir.auth_models import Delivery, DeliveryAttempt, Subscription
from fhir.tasks import deliveries_send_task
from tests.fhir.smart_helpers import access_token, receiver, register
from tests.fhir.test_subscription import resource
from tests.integration.conftest import worker_queue  # noqa: F401 - the fixture
from tests.integration.processes import start_worker, wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_notifies_once_and_retries_after_a_failure(world, submit, worker_queue):  # noqa: F811
    client, key = register(world.redwood)
    token = access_token(Client(), client, key, "system/Subscription.*")
    with receiver(answers=[200, 500]) as server:  # the handshake, then a failure
        created = Client().post(
            "/fhir/Subscription",
            json.dumps(resource(server.url)),
            content_type="application/fhir+json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert created.status_code == 201
        worker = start_worker(worker_queue)
        try:
            wait_for(lambda: Subscription.objects.get().status == "active")  # the handshake
            submit()  # commits; the outbox nudge runs in the worker, which owes and sends
            wait_for(lambda: DeliveryAttempt.objects.count() == 1)
            assert Delivery.objects.get().status == "pending"  # the receiver said 500
            Delivery.objects.update(next_attempt_at=timezone.now())  # the retry falls due
            # Two overlapping runs, as when beat fires while a nudge still runs.
            group(deliveries_send_task.s(), deliveries_send_task.s()).apply_async().get(timeout=60)
            wait_for(lambda: Delivery.objects.get().status == "delivered")
            deliveries_send_task.apply_async().get(timeout=60)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert len(server.bodies) == 3  # the handshake, the failed POST and the one delivery
    assert server.bodies[0]["entry"][0]["resource"]["parameter"][3]["valueCode"] == "handshake"
    assert DeliveryAttempt.objects.count() == 2
    body = server.bodies[-1]
    assert body["type"] == "history"
    assert body["entry"][1]["resource"]["entry"][0]["resource"]["resourceType"] == "ClaimResponse"
