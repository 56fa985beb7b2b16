"""Grievances (PRODUCT §4; 42 CFR 438.400(b) "grievance", 438.402, 438.406, 438.408(b);
H&S 1368, 1368.01; 28 CCR 1300.68, 1300.68.01; APL 21-011): a member's expression of
dissatisfaction about anything other than an adverse benefit determination. A workflow record
on the kernel (grievances.machines.GRIEVANCE): its status changes only through `perform`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class GrievanceStatus(models.TextChoices):
    RECEIVED = "received", "Received"  # filed; the acknowledgement is owed
    ACKNOWLEDGED = "acknowledged", "Acknowledged"  # the acknowledgement letter was recorded
    RESOLVED = "resolved", "Resolved"  # the resolution letter is owed / sent
    WITHDRAWN = "withdrawn", "Withdrawn"  # the member withdrew it


OPEN_GRIEVANCE_STATUSES = (GrievanceStatus.RECEIVED, GrievanceStatus.ACKNOWLEDGED)


class GrievanceKind(models.TextChoices):
    # Stable: a retired kind is never reused (STYLE §4).
    # PRODUCT §4: a disagreement with an extension of a decision deadline is a grievance
    # (42 CFR 438.404(c)(4)(ii): the extension notice tells the member of this right).
    EXTENSION = "extension", "Disagrees with an extension of a deadline"
    # 42 CFR 438.410(c)(2): a refused request for an expedited appeal.
    NOT_EXPEDITED = "not_expedited", "Disagrees with a decision not to expedite"
    QUALITY_OF_CARE = "quality_of_care", "Quality of care"
    ACCESS = "access", "Access or timeliness of care"
    CONDUCT = "conduct", "Rudeness or conduct of a provider or plan staff"
    COMMUNICATION = "communication", "Language, interpreter or communication"
    RIGHTS = "rights", "Member rights (privacy, discrimination)"
    OTHER = "other", "Something else"


class FilerKind(models.TextChoices):
    MEMBER = "member", "The member (online)"
    MEMBER_SERVICES = "member_services", "Member services (the member called)"
    # 42 CFR 438.402(c)(1)(ii): a provider may file on the member's behalf with the member's
    # written consent.
    PROVIDER = "provider", "A provider on the member's behalf"


class GrievanceChannel(models.TextChoices):
    ONLINE = "online", "Online"
    PHONE = "phone", "Phone"
    WRITING = "writing", "In writing (mail or fax)"


class Grievance(models.Model):
    number = models.CharField(max_length=20, unique=True)  # GRV-YYYY-NNNNNN
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="grievances"
    )
    # The request it is about, when it is about one (an extension, a refused expedite).
    tar = models.ForeignKey(
        "authorizations.Tar",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grievances",
    )
    kind = models.CharField(max_length=20, choices=GrievanceKind.choices)
    description = models.TextField()
    filer_kind = models.CharField(max_length=20, choices=FilerKind.choices)
    channel = models.CharField(max_length=10, choices=GrievanceChannel.choices)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="grievances_filed"
    )
    # A provider filing for the member: its organization (scope) and the consent on file.
    provider_organization = models.ForeignKey(
        "authorizations.ProviderOrganization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grievances",
    )
    consent_signed_on = models.DateField(null=True, blank=True)
    consent_reference = models.CharField(
        max_length=200, blank=True, help_text="Where the member's written consent is kept."
    )
    # 42 CFR 438.408(b)(3); H&S 1368.01(b): a serious threat to the member's health.
    expedited = models.BooleanField(default=False)
    expedited_reason = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=GrievanceStatus.choices, default=GrievanceStatus.RECEIVED
    )
    received_at = models.DateTimeField()
    acknowledgement_due_at = models.DateTimeField()
    acknowledgement_due_rule = models.CharField(max_length=60)
    resolution_due_at = models.DateTimeField()
    resolution_due_rule = models.CharField(max_length=60)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolution = models.TextField(blank=True, help_text="What the plan found and did.")
    # The deadline engine (grievances.sweep): when each deadline was seen missed.
    acknowledgement_overdue_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["resolution_due_at", "id"]
        indexes = [
            models.Index(fields=["member", "received_at"], name="grievance_member_idx"),
            # The deadline sweep reads only open grievances.
            models.Index(
                fields=["resolution_due_at"],
                name="grievance_open_due_idx",
                condition=Q(status__in=["received", "acknowledged"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="grievance_provider_has_consent",
                condition=~Q(filer_kind="provider")
                | (Q(consent_signed_on__isnull=False) & Q(provider_organization__isnull=False)),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_GRIEVANCE_STATUSES
