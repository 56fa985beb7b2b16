"""Notices the plan owes, the letters that carry them, and their delivery (PRODUCT §4, §7).

- `Notice`: a notice owed because of an event, tracked against its clock.
- `Letter`: one rendered, immutable PDF for a notice; a correction is a new version.
- `PrintBatch` / `PrintBatchItem`: member letters handed to the mail house in one PDF.
- `Delivery`: each time a letter left the plan (e-mail to a provider office, mail to a member).
- `CriteriaCopyRequest`: a member or provider asked for the criteria used (H&S 1363.5).
"""

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from authorizations.storage import private_storage


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
    # 42 CFR 438.410(c): an expedited appeal moved to the standard timeframe.
    APPEAL_DOWNGRADE = "appeal_downgrade", "Expedited appeal moved to standard"
    CRITERIA_COPY = "criteria_copy", "Criteria copy"


ADVERSE_KINDS = (NoticeKind.DENIAL, NoticeKind.MODIFICATION, NoticeKind.DELAY, NoticeKind.UNTIMELY)


class Audience(models.TextChoices):
    PROVIDER = "provider", "Provider"
    MEMBER = "member", "Member"


class NoticeStatus(models.TextChoices):
    OWED = "owed", "Owed"  # the event happened; the notice must go out by due_at
    SENT = "sent", "Sent"  # delivered (provider inbox/e-mail) or handed to the mail house
    FAILED = "failed", "Failed"  # delivery failed after retries; staff must act


# The only moves a notice's status makes; `services._notice_set_status` applies them with an
# update filtered on the old status, so a late or repeated task never undoes a newer state.
NOTICE_TRANSITIONS: dict[str, frozenset[str]] = {
    NoticeStatus.SENT: frozenset({NoticeStatus.OWED, NoticeStatus.FAILED}),
    NoticeStatus.FAILED: frozenset({NoticeStatus.OWED}),
    NoticeStatus.OWED: frozenset({NoticeStatus.FAILED}),  # staff asked to try again
}


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", "E-mail to the provider office"  # with the PDF attached
    MAIL = "mail", "First-class mail (mail house)"  # member copies, from a print batch
    PORTAL = "portal", "Portal inbox only"  # the office has no e-mail address on file


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
    # Whether sent_at met due_at; written together with sent_at (reports count late notices).
    sent_on_time = models.BooleanField(null=True, blank=True)
    delivered_via = models.CharField(max_length=10, choices=DeliveryChannel.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the last delivery attempt started: a notice still owed long after it (its worker
    # was killed mid-task) is queued again by the stalled-notice job.
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
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
            ),
            models.Index(
                fields=["-failed_at"], name="notice_failed_idx", condition=Q(status="failed")
            ),
            # The reports' notice timeliness by due day (reports.aggregates) and today's notices
            # read live (reports.figures).
            models.Index(fields=["due_at"], name="notice_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.audience} for TAR {self.tar_id}"


class Letter(models.Model):
    """One rendered letter. Immutable: the PDF, its hash and what it says never change; a
    corrected letter is a new row with the next version that `supersedes` this one."""

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="letters")
    tar = models.ForeignKey("authorizations.Tar", on_delete=models.PROTECT, related_name="letters")
    audience = models.CharField(max_length=10, choices=Audience.choices)
    kind = models.CharField(max_length=30, choices=NoticeKind.choices)
    language = models.CharField(max_length=5)
    large_print = models.BooleanField(default=False)
    # The member's alternate format when the letter was made (braille and audio are produced
    # by the mail house from this letter; see print batches).
    alternate_format = models.CharField(max_length=20, blank=True)
    version = models.PositiveSmallIntegerField(default=1)
    letter_date = models.DateField(help_text="The date printed on the letter (Pacific).")
    file = models.FileField(storage=private_storage, upload_to="letters/%Y/%m/")
    size = models.PositiveIntegerField()
    page_count = models.PositiveSmallIntegerField()
    sha256 = models.CharField(max_length=64)
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    correction_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for letters made by the system; the staff user for a correction.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # A retried generation task hits this and becomes a no-op.
            models.UniqueConstraint(fields=["notice", "version"], name="letter_notice_version"),
            models.CheckConstraint(
                name="letter_correction_supersedes",
                condition=Q(version=1, supersedes__isnull=True)
                | Q(version__gt=1, supersedes__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["tar", "audience"], name="letter_tar_audience_idx")]

    def __str__(self) -> str:
        return f"{self.kind} letter v{self.version} ({self.audience}) for TAR {self.tar_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("A letter is immutable; issue a corrected version instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("A letter is never deleted; it is part of the record.")

    @property
    def filename(self) -> str:
        return f"{self.kind}-{self.audience}-{self.letter_date:%Y%m%d}-v{self.version}.pdf"


class PrintBatchStatus(models.TextChoices):
    BUILT = "built", "Built"  # the merged PDF is ready for the mail house
    MAILED = "mailed", "Mailed"  # the mail house confirmed it mailed the batch


class PrintBatch(models.Model):
    """Member letters merged into one PDF for the mail house (the only mocked part)."""

    status = models.CharField(
        max_length=10, choices=PrintBatchStatus.choices, default=PrintBatchStatus.BUILT
    )
    file = models.FileField(storage=private_storage, upload_to="print-batches/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    letter_count = models.PositiveIntegerField()
    page_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    mailed_at = models.DateTimeField(null=True, blank=True)
    mailed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "print batches"

    def __str__(self) -> str:
        return f"Print batch {self.pk} ({self.letter_count} letters, {self.status})"


class PrintBatchItem(models.Model):
    batch = models.ForeignKey(PrintBatch, on_delete=models.PROTECT, related_name="items")
    # A letter goes into one batch only.
    letter = models.OneToOneField(Letter, on_delete=models.PROTECT, related_name="print_item")
    position = models.PositiveIntegerField()
    first_page = models.PositiveIntegerField(help_text="1-based page in the batch PDF.")
    page_count = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="print_item_position")
        ]


class Delivery(models.Model):
    """A letter left the plan: e-mailed to a provider office or mailed to a member.
    Append-only; the unique constraint makes a retried send record once."""

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=DeliveryChannel.choices)
    recipient = models.CharField(max_length=254, help_text="E-mail address or mailing name.")
    batch = models.ForeignKey(
        PrintBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    delivered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["delivered_at", "id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "channel", "recipient"], name="delivery_once_per_recipient"
            )
        ]


class CriteriaCopyRequestedFor(models.TextChoices):
    MEMBER = "member", "Member"  # asked in the portal or through member services
    PROVIDER = "provider", "Provider"  # the requesting or servicing office


class CriteriaCopyRequest(models.Model):
    """A request for a copy of the criteria used in a decision (H&S 1363.5; 002 "Availability
    of Criteria"). Fulfilled when the copy letter is in the requester's portal inbox; its
    mailing or e-mailing is tracked on the notice."""

    tar = models.ForeignKey(
        "authorizations.Tar", on_delete=models.PROTECT, related_name="criteria_copy_requests"
    )
    decision = models.ForeignKey(
        "authorizations.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="criteria_copy_requests",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_for = models.CharField(max_length=10, choices=CriteriaCopyRequestedFor.choices)
    # The exact set versions the copy contains: [{"criteria_set": "esi", "version": "2026.1"}].
    criteria_sets = models.JSONField(default=list)
    requested_at = models.DateTimeField(default=timezone.now)
    notice = models.OneToOneField(
        Notice, null=True, blank=True, on_delete=models.PROTECT, related_name="criteria_copy"
    )
    letter = models.ForeignKey(
        Letter, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"Criteria copy for TAR {self.tar_id} ({self.requested_for})"


class MemberLetter(models.Model):
    """What every member letter outside the request notices keeps (grievance and appeal
    letters): rendered once from its event, immutable, with its hash, in the member's written
    language and format, and when the law wanted it sent. `store_once` writes it; each kind
    declares its own `file` (its folder) and its once-per-kind constraint."""

    language = models.CharField(max_length=5)
    large_print = models.BooleanField(default=False)
    letter_date = models.DateField()
    due_at = models.DateTimeField(help_text="When the law wants it sent by.")
    size = models.PositiveIntegerField()
    page_count = models.PositiveSmallIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    file: FieldFile  # each kind's own FileField (its folder)

    class Meta:
        abstract = True

    @property
    def sent_on_time(self) -> bool:
        return self.created_at <= self.due_at

    def store_once(self, pdf: bytes, page_count: int, filename: str) -> bool:
        """Write the PDF and the row. False, leaving no file behind, when the letter of this
        kind exists already (its unique constraint: a re-delivered event makes none)."""
        self.size, self.page_count = len(pdf), page_count
        self.sha256 = hashlib.sha256(pdf).hexdigest()
        self.file.save(filename, ContentFile(pdf), save=False)
        try:
            with transaction.atomic():
                self.save()
        except IntegrityError:
            self.file.delete(save=False)
            return False
        return True


class GrievanceLetterKind(models.TextChoices):
    # H&S 1368(a)(4); 28 CCR 1300.68(d)(1): written acknowledgement within 5 calendar days.
    ACKNOWLEDGEMENT = "grievance_ack", "Grievance acknowledgement"
    # H&S 1368(a)(5); 42 CFR 438.408(d)(1): written resolution.
    RESOLUTION = "grievance_resolution", "Grievance resolution"


class GrievanceLetter(MemberLetter):
    """A grievance letter to the member, rendered once from its event (immutable, with its
    hash), in the member's written language and format (002 "No Cost Linguistic Services":
    grievance acknowledgement and resolution letters are translated)."""

    grievance = models.ForeignKey(
        "grievances.Grievance", on_delete=models.PROTECT, related_name="letters"
    )
    kind = models.CharField(max_length=30, choices=GrievanceLetterKind.choices)
    file = models.FileField(storage=private_storage, upload_to="grievance-letters/%Y/%m/")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["grievance", "kind"], name="grievance_letter_once_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for grievance {self.grievance_id}"


class AppealLetterKind(models.TextChoices):
    # 42 CFR 438.406(b)(1); 28 CCR 1300.68(d)(1): the appeal acknowledged in writing within 5
    # calendar days of receipt.
    ACKNOWLEDGEMENT = "appeal_ack", "Appeal acknowledgement"


class AppealLetter(MemberLetter):
    """A letter to the member about their appeal that is not a request notice (the
    acknowledgement), rendered once from its event, immutable with its hash, in the member's
    written language and format."""

    appeal = models.ForeignKey(
        "appeals.Appeal", on_delete=models.PROTECT, related_name="member_letters"
    )
    kind = models.CharField(max_length=30, choices=AppealLetterKind.choices)
    file = models.FileField(storage=private_storage, upload_to="appeal-letters/%Y/%m/")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["appeal", "kind"], name="appeal_letter_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} for appeal {self.appeal_id}"
