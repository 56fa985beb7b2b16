from django.conf import settings
from django.db import models
from django.utils import timezone

from authorizations.models import ProviderOrganization, Tar


class PasRequest(models.Model):
    """A Da Vinci PAS request Bundle that became a TAR through `Claim/$submit` (PRODUCT §11).

    It keeps what the FHIR answer must echo and nothing the TAR already holds: the Bundle's
    identifier (a retried submit with the same identifier from the same organization gets the
    same answer instead of a second TAR), the Claim's identifier (what `ClaimResponse.request`
    and `$inquire` name), and which Claim.item became which service line."""

    tar = models.OneToOneField(Tar, on_delete=models.PROTECT, related_name="pas_request")
    organization = models.ForeignKey(
        ProviderOrganization, on_delete=models.PROTECT, related_name="pas_requests"
    )
    bundle_system = models.CharField(max_length=255, blank=True)
    bundle_value = models.CharField(max_length=255)
    claim_system = models.CharField(max_length=255, blank=True)
    claim_value = models.CharField(max_length=255)
    # [{"sequence": Claim.item.sequence, "line_number": int | None, "trace": [identifiers]}];
    # line_number None: an item that needs no TAR (answered NA, no service line).
    items = models.JSONField(default=list, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "bundle_system", "bundle_value"],
                name="pas_request_bundle_identifier_per_org",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "claim_value"], name="pas_request_claim_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.bundle_system}|{self.bundle_value} → {self.tar_id}"


# SMART clients, subscriptions and deliveries (fhir-auth), kept in their own module.
from fhir.auth_models import *  # noqa: E402, F403
