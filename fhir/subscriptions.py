"""PAS subscriptions (R4 Subscriptions Backport; Da Vinci PAS 2.2.1 "PASSubscriptionTopic"):
who may subscribe, what each event owes, and the delivery of notifications with retries
(PRODUCT §11).

- A subscription belongs to the caller's provider organization and hears of that
  organization's requests only (as requester or as servicing provider). A filter naming
  another organization is refused.
- The event outbox (authorizations.workflow.outbox) hands each decision and pend of a
  request to `on_event` once; it writes one Delivery per active subscription of the
  request's organizations, unique per (subscription, event), with the subscription's next
  event number. Nothing is sent inside that transaction.
- `deliveries_send` (Celery, nudged after commit and every minute by beat) claims due
  deliveries with SKIP LOCKED and a lease, POSTs the notification Bundle (history Bundle:
  SubscriptionStatus Parameters, then the full PAS response Bundle as of the send), records
  the attempt (status code or exception type, never the body), and marks the delivery
  delivered on a 2xx answer, or retries with exponential backoff up to MAX_ATTEMPTS.
  A delivered notification is never sent again. A worker that dies between the POST and
  the update leaves the lease to expire and the notification is sent again with the same
  event number, so a receiver deduplicates on (subscription, event-number).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from authorizations.models import DomainEvent, EventKind, Provider, Tar, TarStatus
from fhir.auth_http import FhirError
from fhir.auth_models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Subscription,
    SubscriptionStatus,
)
from fhir.responses import pas_response_bundle
from fhir.secrets import SealError
from fhir.smart import Caller

logger = logging.getLogger(__name__)

TOPIC = "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic"
BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
FILTER_CRITERIA = BACKPORT + "backport-filter-criteria"
PAYLOAD_CONTENT = BACKPORT + "backport-payload-content"
HEARTBEAT_PERIOD = BACKPORT + "backport-heartbeat-period"
PAS_SUBSCRIPTION = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-subscription"
STATUS_PROFILE = BACKPORT + "backport-subscription-status-r4"
FHIR_JSON = "application/fhir+json"
CONSUMER = "fhir.subscriptions"  # stored in EventConsumption: never renamed

# PRODUCT §11: "on every decision or pend". A pend is a request waiting on the plan (A4):
# received and not decided at once, information asked, deadline extended.
DECISION_KINDS = frozenset({EventKind.TAR_DECIDED, EventKind.TAR_REDECIDED})
PEND_KINDS = frozenset(
    {EventKind.TAR_SUBMITTED, EventKind.TAR_INFO_REQUESTED, EventKind.TAR_EXTENDED}
)
NOTIFIED_KINDS = DECISION_KINDS | PEND_KINDS
_PENDED = frozenset(
    {TarStatus.SUBMITTED, TarStatus.IN_REVIEW, TarStatus.PENDED, TarStatus.REFERRED}
)

MAX_SUBSCRIPTIONS_PER_ORGANIZATION = 20
MAX_HEADERS = 5
MAX_ATTEMPTS = 10
LEASE = timedelta(minutes=2)
SEND_TIMEOUT_SECONDS = 10
BATCH = 20
# The beat runs the sender every minute (TAR_FHIR_DELIVERIES_SECONDS): no finer heartbeat.
MIN_HEARTBEAT_SECONDS = 60
MAX_HEARTBEAT_SECONDS = 24 * 3600


def _backoff(attempts: int) -> timedelta:
    """30 s, 1, 2, 4 ... minutes, at most an hour."""
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), timedelta(hours=1))


# --------------------------------------------------------------------------------------------
# The resource


def _extension_value(element: Any, url: str, key: str) -> Any:
    if not isinstance(element, Mapping):
        return None
    for extension in element.get("extension") or []:
        if isinstance(extension, Mapping) and extension.get("url") == url:
            return extension.get(key)
    return None


def _organization_identifiers(caller: Caller) -> set[str]:
    """What a filter may name for the caller's organization: its TIN, its providers' NPIs."""
    organization = caller.organization
    identifiers = set(
        Provider.objects.filter(organization=organization).values_list("npi", flat=True)
    )
    if organization.tax_id:
        identifiers.add(organization.tax_id)
    return {i for i in identifiers if i}


def endpoint_allowed(url: str) -> str | None:
    """Why a rest-hook endpoint is refused, or None. https only, and no loopback or private
    address, unless FHIR_ALLOW_HTTP_ENDPOINTS (development and tests)."""
    parts = urlsplit(url)
    if getattr(settings, "FHIR_ALLOW_HTTP_ENDPOINTS", False):
        return None if parts.scheme in ("http", "https") and parts.hostname else "Not a URL."
    if parts.scheme != "https" or not parts.hostname:
        return "channel.endpoint must be an https URL."
    host = parts.hostname
    if host == "localhost" or host.endswith(".localhost"):
        return "channel.endpoint may not be a local address."
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if address.is_private or address.is_loopback or address.is_link_local:
        return "channel.endpoint may not be a private or local address."
    return None


def _header_lines(channel: Mapping[str, Any]) -> list[str]:
    headers = channel.get("header") or []
    if not isinstance(headers, list) or len(headers) > MAX_HEADERS:
        raise FhirError(400, "invalid", f"channel.header: a list of at most {MAX_HEADERS}.")
    lines = []
    for header in headers:
        if not isinstance(header, str) or ":" not in header or len(header) > 1000:
            raise FhirError(400, "invalid", 'channel.header entries are "Name: value" strings.')
        name = header.split(":", 1)[0].strip()
        if not name or any(c in header for c in "\r\n") or name.lower() in ("content-type", "host"):
            raise FhirError(400, "invalid", f"channel.header {name[:40]!r} is not allowed.")
        lines.append(header)
    return lines


def _heartbeat_period(channel: Mapping[str, Any]) -> int | None:
    """The backport heartbeat-period extension on the channel (seconds), or None."""
    for extension in channel.get("extension") or []:
        if isinstance(extension, Mapping) and extension.get("url") == HEARTBEAT_PERIOD:
            value = extension.get("valueUnsignedInt", extension.get("valueInteger"))
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not MIN_HEARTBEAT_SECONDS <= value <= MAX_HEARTBEAT_SECONDS
            ):
                raise FhirError(
                    400,
                    "invalid",
                    f"heartbeatPeriod: whole seconds from {MIN_HEARTBEAT_SECONDS} to "
                    f"{MAX_HEARTBEAT_SECONDS}.",
                )
            return value
    return None


@transaction.atomic
def subscription_create(
    *, caller: Caller, resource: Any, now: datetime | None = None
) -> Subscription:
    """A new active subscription of the caller's organization, from an R4 backport
    Subscription resource. FhirError 400 for what the PAS topic does not allow; 403 for a
    filter naming another organization."""
    now = now or timezone.now()
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "Subscription":
        raise FhirError(400, "invalid", "Send a Subscription resource.")
    if resource.get("criteria") != TOPIC:
        raise FhirError(400, "not-supported", f"criteria must be the PAS topic {TOPIC}.")
    if resource.get("status") not in (None, "requested", "active"):
        raise FhirError(400, "invalid", "status must be requested.")
    channel = resource.get("channel")
    if not isinstance(channel, Mapping) or channel.get("type") != "rest-hook":
        raise FhirError(400, "not-supported", "channel.type must be rest-hook.")
    endpoint = channel.get("endpoint")
    if not isinstance(endpoint, str) or len(endpoint) > 500:
        raise FhirError(400, "invalid", "channel.endpoint is required (a URL).")
    refused = endpoint_allowed(endpoint)
    if refused:
        raise FhirError(400, "invalid", refused)
    if channel.get("payload") not in (None, FHIR_JSON):
        raise FhirError(400, "not-supported", f"channel.payload must be {FHIR_JSON}.")
    content = _extension_value(channel.get("_payload"), PAYLOAD_CONTENT, "valueCode")
    if content not in (None, "full-resource"):
        raise FhirError(400, "not-supported", "Only full-resource payloads are sent.")
    headers = _header_lines(channel)
    heartbeat = _heartbeat_period(channel)
    criteria_filter = _extension_value(resource.get("_criteria"), FILTER_CRITERIA, "valueString")
    if criteria_filter is not None:
        name, _, value = str(criteria_filter).partition("=")
        if name.strip() != "orgIdentifier" or not value.strip():
            raise FhirError(400, "invalid", "The only filter is orgIdentifier=<NPI or TIN>.")
        if value.strip() not in _organization_identifiers(caller):
            # The caller's own organization only (PRODUCT §11: sees only its own requests).
            raise FhirError(403, "forbidden", "The filter names another organization.")
    end = None
    if resource.get("end"):
        end = parse_datetime(str(resource["end"]))
        if end is None or end <= now:
            raise FhirError(400, "invalid", "end must be an instant in the future.")
    active = (
        Subscription.objects.select_for_update()
        .filter(organization=caller.organization)
        .exclude(status=SubscriptionStatus.OFF)
    )
    if active.count() >= MAX_SUBSCRIPTIONS_PER_ORGANIZATION:
        raise FhirError(
            422, "too-costly", f"At most {MAX_SUBSCRIPTIONS_PER_ORGANIZATION} subscriptions."
        )
    subscription = Subscription(
        organization=caller.organization,
        client=caller.client,
        created_by=caller.user,
        # Active once the endpoint answers the handshake (handshakes_send).
        status=SubscriptionStatus.REQUESTED,
        topic=TOPIC,
        reason=str(resource.get("reason") or "")[:200],
        endpoint=endpoint,
        content="full-resource",
        end=end,
        heartbeat_period=heartbeat,
        created_at=now,
    )
    subscription.headers = headers  # sealed at rest (fhir.secrets)
    subscription.full_clean()
    subscription.save()
    return subscription


def subscriptions_visible(*, caller: Caller):
    return Subscription.objects.filter(organization=caller.organization).order_by("pk")


def subscription_get(*, caller: Caller, pk: int) -> Subscription:
    """The caller's organization's subscription; another's is the same 404 as none."""
    subscription = subscriptions_visible(caller=caller).filter(pk=pk).first()
    if subscription is None:
        raise FhirError(404, "not-found", f"Subscription/{pk} is not known.")
    return subscription


def subscription_delete(*, caller: Caller, subscription: Subscription) -> None:
    """Turn it off: nothing more is owed or sent (the rows stay for the audit)."""
    with transaction.atomic():
        Subscription.objects.filter(pk=subscription.pk, organization=caller.organization).update(
            status=SubscriptionStatus.OFF
        )
        Delivery.objects.filter(subscription=subscription, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.ABANDONED
        )


def subscription_resource(subscription: Subscription) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "type": "rest-hook",
        "endpoint": subscription.endpoint,
        "payload": FHIR_JSON,
        "_payload": {"extension": [{"url": PAYLOAD_CONTENT, "valueCode": subscription.content}]},
    }
    if subscription.header_names:
        # The names only: values are the receiver's own secrets (encrypted at rest).
        channel["header"] = [f"{name}: ***" for name in subscription.header_names]
    resource: dict[str, Any] = {
        "resourceType": "Subscription",
        "id": str(subscription.pk),
        "meta": {"profile": [PAS_SUBSCRIPTION]},
        "status": subscription.status,
        "reason": subscription.reason or "PAS notifications for the organization's requests.",
        "criteria": TOPIC,
        "channel": channel,
    }
    if subscription.heartbeat_period:
        channel["extension"] = [
            {"url": HEARTBEAT_PERIOD, "valueUnsignedInt": subscription.heartbeat_period}
        ]
    if subscription.end:
        resource["end"] = subscription.end.isoformat()
    return resource


def subscription_search_bundle(*, caller: Caller, base_url: str) -> dict[str, Any]:
    rows = list(subscriptions_visible(caller=caller))
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(rows),
        "entry": [
            {
                "fullUrl": f"{base_url}Subscription/{row.pk}",
                "resource": subscription_resource(row),
                "search": {"mode": "match"},
            }
            for row in rows
        ],
    }


# --------------------------------------------------------------------------------------------
# What an event owes (the outbox consumer)


def deliveries_owe(event: DomainEvent) -> int:
    """What an event owes: one Delivery per active subscription of the request's
    organizations. Called once per event by the outbox consumer (fhir.tasks), in the
    outbox's transaction. Returns how many deliveries it wrote."""
    if event.kind not in NOTIFIED_KINDS or event.tar_id is None:
        return 0
    tar = Tar.objects.only(
        "pk", "status", "requesting_organization_id", "servicing_organization_id"
    ).get(pk=event.tar_id)
    if event.kind in PEND_KINDS and tar.status not in _PENDED:
        return 0  # decided since (e.g. approved at once): the decision's event notifies
    now = timezone.now()
    organizations = {tar.requesting_organization_id, tar.servicing_organization_id}
    subscriptions = (
        Subscription.objects.select_for_update()
        .filter(organization_id__in=organizations)
        .exclude(status=SubscriptionStatus.OFF)
        .filter(Q(end__isnull=True) | Q(end__gt=now))
        .order_by("pk")
    )
    created = 0
    for subscription in subscriptions:
        if Delivery.objects.filter(subscription=subscription, event=event).exists():
            continue
        Subscription.objects.filter(pk=subscription.pk).update(
            events_since_start=F("events_since_start") + 1
        )
        subscription.refresh_from_db(fields=["events_since_start"])
        Delivery.objects.create(
            subscription=subscription,
            event=event,
            event_number=subscription.events_since_start,
            next_attempt_at=now,
            created_at=now,
        )
        created += 1
    return created


# --------------------------------------------------------------------------------------------
# Sending


def notification_bundle(delivery: Delivery, *, now: datetime) -> dict[str, Any]:
    """The backport event-notification: a history Bundle whose first entry is the
    SubscriptionStatus Parameters and whose second is the full PAS response Bundle."""
    subscription = delivery.subscription
    base = settings.PORTAL_BASE_URL.rstrip("/") + "/fhir"
    tar_id = delivery.event.tar_id
    if tar_id is None:  # only request events are delivered (deliveries_owe)
        raise ValueError(f"delivery {delivery.pk}: its event names no request")
    tar = Tar.objects.get(pk=tar_id)
    response = pas_response_bundle(tar, now=now)
    focus_url = f"{base}/Bundle/{response.get('id') or f'notification-{delivery.pk}'}"
    status = {
        "resourceType": "Parameters",
        "meta": {"profile": [STATUS_PROFILE]},
        "parameter": [
            {
                "name": "subscription",
                "valueReference": {"reference": f"{base}/Subscription/{subscription.pk}"},
            },
            {"name": "topic", "valueCanonical": TOPIC},
            {"name": "status", "valueCode": "active"},
            {"name": "type", "valueCode": "event-notification"},
            {
                "name": "events-since-subscription-start",
                "valueString": str(subscription.events_since_start),
            },
            {
                "name": "notification-event",
                "part": [
                    {"name": "event-number", "valueString": str(delivery.event_number)},
                    {"name": "timestamp", "valueInstant": delivery.event.created_at.isoformat()},
                    {"name": "focus", "valueReference": {"reference": focus_url}},
                ],
            },
        ],
    }
    return {
        "resourceType": "Bundle",
        "type": "history",
        "timestamp": now.isoformat(),
        "entry": [
            {
                "fullUrl": f"urn:uuid:status-{subscription.pk}-{delivery.event_number}",
                "resource": status,
                "request": {
                    "method": "GET",
                    "url": f"{base}/Subscription/{subscription.pk}/$status",
                },
                "response": {"status": "200"},
            },
            {
                "fullUrl": focus_url,
                "resource": response,
                "request": {"method": "GET", "url": focus_url},
                "response": {"status": "200"},
            },
        ],
    }


def _claim(now: datetime) -> list[int]:
    with transaction.atomic():
        due = list(
            Delivery.objects.filter(next_attempt_at__lte=now)
            .filter(
                Q(status=DeliveryStatus.PENDING)
                | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
            )
            # Nothing is sent before the handshake is answered (R4 Subscriptions Backport).
            .exclude(subscription__status=SubscriptionStatus.REQUESTED)
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:BATCH]
        )
        Delivery.objects.filter(pk__in=due).update(
            status=DeliveryStatus.SENDING, claimed_until=now + LEASE
        )
    return due


def _post(delivery: Delivery, body: dict[str, Any]) -> tuple[int | None, str]:
    return _post_to(delivery.subscription, body)


def _post_to(subscription: Subscription, body: dict[str, Any]) -> tuple[int | None, str]:
    """POST a notification: (status code or None, '' on a 2xx or why not: an exception type
    or "HTTP status", never a message or the body)."""
    headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
    try:
        lines = subscription.headers
    except SealError:
        return None, "SealError"  # the key changed with no fallback: retried, then abandoned
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    try:
        answer = requests.post(
            subscription.endpoint,
            json=body,
            headers=headers,
            timeout=SEND_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        return None, type(exc).__name__
    return answer.status_code, "" if 200 <= answer.status_code < 300 else "HTTP status"


def delivery_send(delivery_id: int, *, now: datetime | None = None) -> str:
    """Send one claimed delivery and record the outcome. Returns the delivery's status."""
    now = now or timezone.now()
    delivery = Delivery.objects.select_related("subscription", "event").get(pk=delivery_id)
    if delivery.status != DeliveryStatus.SENDING:
        return delivery.status
    subscription = delivery.subscription
    if subscription.status == SubscriptionStatus.OFF or (
        subscription.end is not None and subscription.end <= now
    ):
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.ABANDONED, claimed_until=None
        )
        return DeliveryStatus.ABANDONED
    started = time.monotonic()
    status_code, error = _post(delivery, notification_bundle(delivery, now=now))
    elapsed = int((time.monotonic() - started) * 1000)
    attempts = delivery.attempts + 1
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery, at=now, status_code=status_code, error=error, duration_ms=elapsed
        )
        if not error:
            Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
                status=DeliveryStatus.DELIVERED,
                attempts=attempts,
                delivered_at=now,
                claimed_until=None,
            )
            Subscription.objects.filter(pk=subscription.pk, status=SubscriptionStatus.ERROR).update(
                status=SubscriptionStatus.ACTIVE
            )
            Subscription.objects.filter(pk=subscription.pk).update(last_sent_at=now)
            return DeliveryStatus.DELIVERED
        final = attempts >= MAX_ATTEMPTS
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.ABANDONED if final else DeliveryStatus.PENDING,
            attempts=attempts,
            next_attempt_at=now + _backoff(attempts),
            claimed_until=None,
        )
        Subscription.objects.filter(pk=subscription.pk, status=SubscriptionStatus.ACTIVE).update(
            status=SubscriptionStatus.ERROR
        )
    # Ids, the attempt number and the answer's status only: never the body (PHI).
    logger.warning(
        "subscription %s delivery %s attempt %s failed: %s %s",
        subscription.pk,
        delivery.pk,
        attempts,
        status_code,
        error,
    )
    return DeliveryStatus.ABANDONED if final else DeliveryStatus.PENDING


# --------------------------------------------------------------------------------------------
# Handshake and heartbeat (R4 Subscriptions Backport, as PAS 2.2.1 uses it)


def status_bundle(subscription: Subscription, kind: str, *, now: datetime) -> dict[str, Any]:
    """A notification without events: a history Bundle whose only entry is the
    SubscriptionStatus Parameters of type `handshake` or `heartbeat`."""
    base = settings.PORTAL_BASE_URL.rstrip("/") + "/fhir"
    status = "requested" if kind == "handshake" else subscription.status
    parameters = {
        "resourceType": "Parameters",
        "meta": {"profile": [STATUS_PROFILE]},
        "parameter": [
            {
                "name": "subscription",
                "valueReference": {"reference": f"{base}/Subscription/{subscription.pk}"},
            },
            {"name": "topic", "valueCanonical": TOPIC},
            {"name": "status", "valueCode": status},
            {"name": "type", "valueCode": kind},
            {
                "name": "events-since-subscription-start",
                "valueString": str(subscription.events_since_start),
            },
        ],
    }
    return {
        "resourceType": "Bundle",
        "type": "history",
        "timestamp": now.isoformat(),
        "entry": [
            {
                "fullUrl": f"urn:uuid:{kind}-{subscription.pk}-{int(now.timestamp())}",
                "resource": parameters,
                "request": {
                    "method": "GET",
                    "url": f"{base}/Subscription/{subscription.pk}/$status",
                },
                "response": {"status": "200"},
            }
        ],
    }


def status_search_bundle(subscription: Subscription) -> dict[str, Any]:
    """The `$status` answer: a searchset Bundle holding the SubscriptionStatus (query-status)."""
    now = timezone.now()
    entry = status_bundle(subscription, "query-status", now=now)["entry"][0]
    parameters = entry["resource"]
    for parameter in parameters["parameter"]:
        if parameter["name"] == "status":
            parameter["valueCode"] = subscription.status
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": now.isoformat(),
        "total": 1,
        "entry": [
            {"fullUrl": entry["fullUrl"], "resource": parameters, "search": {"mode": "match"}}
        ],
    }


def handshake_send(subscription_id: int, *, now: datetime | None = None) -> str:
    """The handshake of a requested subscription: POST a `handshake` notification; a 2xx
    answer makes it active, anything else puts it in error (the backport's requested → active
    | error). Claimed by a lease on `handshake_at`, so two workers do not both send it.
    Returns the subscription's status after."""
    now = now or timezone.now()
    claimed = (
        Subscription.objects.filter(pk=subscription_id, status=SubscriptionStatus.REQUESTED)
        .filter(Q(handshake_at__isnull=True) | Q(handshake_at__lt=now - LEASE))
        .update(handshake_at=now)
    )
    subscription = Subscription.objects.get(pk=subscription_id)
    if not claimed:
        return subscription.status
    status_code, error = _post_to(subscription, status_bundle(subscription, "handshake", now=now))
    outcome = SubscriptionStatus.ERROR if error else SubscriptionStatus.ACTIVE
    Subscription.objects.filter(pk=subscription.pk, status=SubscriptionStatus.REQUESTED).update(
        status=outcome,
        handshake_status_code=status_code,
        handshake_error=error,
        last_sent_at=now,
    )
    if error:
        logger.warning(
            "subscription %s handshake failed: %s %s", subscription.pk, status_code, error
        )
    return outcome


def handshakes_send(*, now: datetime | None = None) -> int:
    """Handshake every requested subscription not being handshaken. Returns how many were
    tried."""
    now = now or timezone.now()
    pending = list(
        Subscription.objects.filter(status=SubscriptionStatus.REQUESTED)
        .filter(Q(handshake_at__isnull=True) | Q(handshake_at__lt=now - LEASE))
        .values_list("pk", flat=True)[:BATCH]
    )
    for subscription_id in pending:
        handshake_send(subscription_id, now=now)
    return len(pending)


def heartbeats_send(*, now: datetime | None = None) -> int:
    """A `heartbeat` notification to each active subscription with a heartbeatPeriod that
    was sent nothing for that long (the beat runs this every minute). A failed heartbeat puts
    the subscription in error (the next delivered notification makes it active again).
    Returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    candidates = (
        Subscription.objects.filter(
            status=SubscriptionStatus.ACTIVE, heartbeat_period__isnull=False
        )
        .filter(Q(end__isnull=True) | Q(end__gt=now))
        .order_by("pk")
    )
    for subscription in candidates:
        last = subscription.last_sent_at or subscription.handshake_at or subscription.created_at
        period = timedelta(seconds=subscription.heartbeat_period or 0)
        if last + period > now:
            continue
        # Claimed by moving last_sent_at: a second worker sees it moved and sends nothing.
        if not Subscription.objects.filter(
            pk=subscription.pk, last_sent_at=subscription.last_sent_at
        ).update(last_sent_at=now):
            continue
        status_code, error = _post_to(
            subscription, status_bundle(subscription, "heartbeat", now=now)
        )
        if error:
            Subscription.objects.filter(
                pk=subscription.pk, status=SubscriptionStatus.ACTIVE
            ).update(status=SubscriptionStatus.ERROR)
            logger.warning(
                "subscription %s heartbeat failed: %s %s", subscription.pk, status_code, error
            )
        else:
            sent += 1
    return sent


def deliveries_send(*, now: datetime | None = None) -> dict[str, int]:
    """Send every due delivery (claimed in batches). Safe to run twice at once."""
    counts = {"delivered": 0, "pending": 0, "abandoned": 0}
    while True:
        at = now or timezone.now()
        claimed = _claim(at)
        for delivery_id in claimed:
            outcome = delivery_send(delivery_id, now=at)
            counts[str(outcome)] = counts.get(str(outcome), 0) + 1
        if len(claimed) < BATCH:
            return counts
