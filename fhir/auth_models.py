"""The fhir-auth models, imported at the end of fhir/models.py so they belong to the `fhir` app:
SMART Backend Services clients and their access tokens, and FHIR subscriptions with their
deliveries (PRODUCT §11; issue 14).

Each client is bound to one provider organization and acts through its own service account
(a provider-role user of that organization), so a request it submits goes through the same
services, scoping and history as a provider user's, and the history names the client.
"""

from __future__ import annotations

__all__ = [
    "AccessToken",
    "AssertionUse",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "SmartClient",
    "SmartScope",
    "Subscription",
    "SubscriptionStatus",
    "all_scopes",
]

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from authorizations.models import DomainEvent, ProviderOrganization
from fhir.secrets import seal, unseal


class SmartScope(models.TextChoices):
    """SMART App Launch 1.0 system scopes this server grants (`system/Subscription.*` is the
    pair of the Subscription scopes below)."""

    CLAIM_WRITE = "system/Claim.write", "Submit, update and cancel prior-authorization requests"
    CLAIM_RESPONSE_READ = "system/ClaimResponse.read", "Inquire about request status"
    SUBSCRIPTION_READ = "system/Subscription.read", "Read its subscriptions"
    SUBSCRIPTION_WRITE = "system/Subscription.write", "Create and delete its subscriptions"


def all_scopes() -> list[str]:
    return [scope.value for scope in SmartScope]


class SmartClient(models.Model):
    """A registered backend client (an EHR or an intermediary) of one provider organization."""

    client_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=160)
    organization = models.ForeignKey(
        ProviderOrganization, on_delete=models.PROTECT, related_name="smart_clients"
    )
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="smart_client",
        help_text="The provider-role account the client acts as (created with the client).",
    )
    jwks = models.JSONField(
        default=dict,
        blank=True,
        help_text='The client\'s public keys as a JWK Set: {"keys": [...]} (RS384 or ES384).',
    )
    jwks_uri = models.URLField(
        blank=True, help_text="Or where the client publishes its JWK Set (https)."
    )
    scopes = models.JSONField(default=all_scopes, help_text="Scopes this client may be granted.")
    # CDS Hooks 2.0 "Trusting CDS Clients": the EHR signs each hook call with a JWT whose iss
    # is this identifier, verified with the same registered keys (never a jku it names).
    cds_issuer = models.CharField(
        "CDS Hooks issuer",
        max_length=255,
        blank=True,
        default="",
        help_text="The iss of the JWT this EHR signs its CDS Hooks calls with (blank: none).",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["cds_issuer"],
                name="smart_client_cds_issuer_once",
                condition=~Q(cds_issuer=""),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"


class AssertionUse(models.Model):
    """A client assertion's jti, kept until the assertion expires: a replay is refused
    (SMART Backend Services: the jti must not be reused while the assertion is valid)."""

    client = models.ForeignKey(SmartClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "jti"], name="smart_assertion_jti_once")
        ]
        indexes = [models.Index(fields=["expires_at"], name="smart_assertion_expiry_idx")]


class AccessToken(models.Model):
    """An issued access token, stored as its SHA-256 digest only (a database leak gives no
    usable token); short-lived and revoked with its client."""

    digest = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(SmartClient, on_delete=models.CASCADE, related_name="tokens")
    scopes = models.JSONField(default=list)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="smart_token_expiry_idx")]


class SubscriptionStatus(models.TextChoices):
    # Created; the handshake (R4 Subscriptions Backport) is not yet answered: nothing is sent.
    REQUESTED = "requested", "Requested (handshake pending)"
    ACTIVE = "active", "Active"  # notifications are sent
    ERROR = "error", "Error"  # deliveries keep failing; still retried
    OFF = "off", "Off"  # deleted by the client or ended; nothing is sent


class Subscription(models.Model):
    """An R4 backport Subscription to the PAS topic (rest-hook, full-resource), scoped to
    one organization: it hears of that organization's requests only."""

    organization = models.ForeignKey(
        ProviderOrganization, on_delete=models.PROTECT, related_name="fhir_subscriptions"
    )
    client = models.ForeignKey(
        SmartClient, null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    topic = models.CharField(max_length=200)
    reason = models.CharField(max_length=200, blank=True)
    endpoint = models.URLField(max_length=500)
    # The "Name: value" lines the client asked us to send (e.g. its own Authorization
    # header): encrypted at rest (fhir.secrets); only the names are kept in the clear, for
    # the API's answer ("Authorization: ***") and the admin.
    header_names = models.JSONField(default=list, blank=True)
    headers_sealed = models.TextField(blank=True, default="")
    content = models.CharField(max_length=20, default="full-resource")
    end = models.DateTimeField(null=True, blank=True)
    # SubscriptionStatus.eventsSinceSubscriptionStart: the next notification's number - 1.
    events_since_start = models.PositiveIntegerField(default=0)
    # Backport heartbeat-period (seconds): a heartbeat is sent when nothing else was.
    heartbeat_period = models.PositiveIntegerField(null=True, blank=True)
    # The handshake: when it was tried and what the endpoint answered (never the body).
    handshake_at = models.DateTimeField(null=True, blank=True)
    handshake_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    handshake_error = models.CharField(max_length=120, blank=True)
    # The last notification of any type sent (or being sent): when the next heartbeat is due.
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["organization"],
                name="fhir_sub_active_org_idx",
                condition=~Q(status="off"),
            )
        ]

    def __str__(self) -> str:
        return f"Subscription/{self.pk}"

    @property
    def headers(self) -> list[str]:
        """The header lines, decrypted (SealError when no configured key opens them)."""
        return unseal(self.headers_sealed)

    @headers.setter
    def headers(self, lines: list[str]) -> None:
        self.headers_sealed = seal(list(lines))
        self.header_names = [line.split(":", 1)[0].strip() for line in lines]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"  # new, or failed and waiting for its retry
    SENDING = "sending", "Being sent"  # claimed by a worker until claimed_until
    DELIVERED = "delivered", "Delivered"  # the receiver answered 2xx
    ABANDONED = "abandoned", "Abandoned"  # retries exhausted, or the subscription ended


class Delivery(models.Model):
    """One notification owed: unique per (subscription, event), so each event is notified to
    each subscription once; sent and retried by fhir.tasks."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(DomainEvent, on_delete=models.PROTECT, related_name="+")
    event_number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="fhir_delivery_once_per_event"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="fhir_delivery_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription} event {self.event_number}"


class DeliveryAttempt(models.Model):
    """One POST of a notification: what the receiver answered, never the body (PHI)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=120, blank=True)  # exception type, never a message
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
