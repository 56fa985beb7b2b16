from django.db import models
from django.utils import timezone


class NoticeKind(models.TextChoices):
    APPROVAL = "approval", "Approval"
    MODIFICATION = "modification", "Modification"
    DENIAL = "denial", "Denial"
    DELAY = "delay", "Delay (extension)"
    INFORMATION_REQUEST = "information_request", "Request for information"
    UNTIMELY = "untimely", "Untimely decision"
    CLOSURE = "closure", "Closure (non-medical)"
    APPEAL_RESOLUTION = "appeal_resolution", "Appeal resolution"
    IMR_OUTCOME = "imr_outcome", "IMR outcome"
    CRITERIA_COPY = "criteria_copy", "Criteria copy"


ADVERSE_KINDS = (NoticeKind.DENIAL, NoticeKind.MODIFICATION, NoticeKind.DELAY, NoticeKind.UNTIMELY)


class Audience(models.TextChoices):
    PROVIDER = "provider", "Provider"
    MEMBER = "member", "Member"


class NoticeStatus(models.TextChoices):
    OWED = "owed", "Owed"  # the event happened; the notice must go out by due_at
    SENT = "sent", "Sent"  # delivered (provider inbox/e-mail) or handed to the mail house
    FAILED = "failed", "Failed"  # delivery failed after retries; staff must act


class Notice(models.Model):
    """A notice the plan owes because of an event, tracked against its clock (PRODUCT §4, §7).
    One row per (TAR, event, kind, audience): a repeated event hook is a no-op."""

    tar = models.ForeignKey("authorizations.Tar", on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=30, choices=NoticeKind.choices)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    event_key = models.CharField(max_length=60)
    due_at = models.DateTimeField()
    due_rule = models.CharField(max_length=60)
    status = models.CharField(
        max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.OWED
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    overdue_at = models.DateTimeField(
        null=True, blank=True, help_text="Set once by the deadline sweep when due_at passed."
    )

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tar", "event_key", "kind", "audience"], name="notice_once_per_event"
            )
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="notice_owed_due_idx",
                condition=models.Q(status="owed", overdue_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.audience} for TAR {self.tar_id}"
