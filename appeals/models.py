"""Appeals, peer-to-peer review and independent medical review (IMR) records.

The tables keep the names they had when these were models of the `authorizations` app
(`db_table`), so moving them here moved no data (migration appeals 0001). Every status changes
only through the machines in appeals/machines.py, applied by authorizations.workflow.perform.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from authorizations.storage import private_storage

__all__ = [
    "EXPERIMENTAL_REASONS",
    "OPEN_APPEAL_STATUSES",
    "OPEN_IMR_STATUSES",
    "OPEN_PEER_TO_PEER_STATUSES",
    "AdverseNoticeDate",
    "Appeal",
    "AppealBasis",
    "AppealDocument",
    "AppealExtension",
    "AppealExtensionReason",
    "AppealFiler",
    "AppealOutcome",
    "AppealStatus",
    "ImrCase",
    "ImrDetermination",
    "ImrExpeditedBasis",
    "ImrReferralReason",
    "ImrReviewType",
    "ImrReviewerKind",
    "ImrSeriousCondition",
    "ImrStatus",
    "PeerToPeer",
    "PeerToPeerOutcome",
    "PeerToPeerStatus",
]


# --- appeals -------------------------------------------------------------------------------


class AppealStatus(models.TextChoices):
    RECEIVED = "received", "Received"  # filed; the resolution clock runs
    # The plan missed the resolution deadline: the member may go straight to a State Hearing
    # (42 CFR 438.408(c)(3)); the plan still owes a resolution.
    EXHAUSTED = "exhausted", "Exhausted (deadline missed)"
    RESOLVED = "resolved", "Resolved"  # a physician decided it; see the outcome
    WITHDRAWN = "withdrawn", "Withdrawn"  # the member (or someone for them) withdrew it


OPEN_APPEAL_STATUSES = (AppealStatus.RECEIVED, AppealStatus.EXHAUSTED)


class AppealOutcome(models.TextChoices):
    UPHELD = "upheld", "Upheld"  # the adverse decision stands; the TAR is unchanged
    OVERTURNED = "overturned", "Overturned"  # approved as requested
    PARTIALLY_OVERTURNED = "partially_overturned", "Partially overturned"  # approved in part


class AppealFiler(models.TextChoices):
    MEMBER = "member", "Member"  # the member filed it in the portal
    # A provider for the member, with the member's written consent (42 CFR 438.402(c)(1)(ii))
    PROVIDER = "provider", "Provider on the member's behalf"
    MEMBER_SERVICES = "member_services", "Member services for the member"  # by phone or mail


class AppealBasis(models.TextChoices):
    # What the appeal is against: every adverse benefit determination (42 CFR 438.400(b)).
    # Stable codes.
    # A denial or modification, or a non-medical denial (not eligible, not a benefit).
    DECISION = "decision", "An adverse decision"
    # A delay (extension) notice: the member may appeal the delay itself (PRODUCT §4).
    DELAY = "delay", "A delay of the decision"
    # No decision in time: a deemed denial (438.400(b)(5), 438.404(c)(5)).
    DEEMED_DENIAL = "deemed_denial", "No decision in time (deemed denial)"


class AppealExtensionReason(models.TextChoices):
    # Stable: a retired code is never reused. 42 CFR 438.408(c)(1)(i) and (ii).
    REQUESTED_BY_MEMBER = "requested_by_member", "The member asked for more time"
    INFORMATION_NEEDED = (
        "information_needed",
        "More information is needed and the delay is in the member's interest",
    )


class Appeal(models.Model):
    """A member's appeal of an adverse decision on a TAR (42 CFR 438.402-438.408)."""

    number = models.CharField(max_length=20, unique=True)
    tar = models.ForeignKey("authorizations.Tar", on_delete=models.PROTECT, related_name="appeals")
    # Denormalised from the TAR so that a member's list is one indexed filter.
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="appeals")
    basis = models.CharField(
        max_length=20, choices=AppealBasis.choices, default=AppealBasis.DECISION
    )
    decision = models.ForeignKey(
        "authorizations.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
        help_text="The adverse decision appealed (empty for a delay or a deemed denial).",
    )
    tar_extension = models.ForeignKey(
        "authorizations.Extension",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
        help_text="The delay appealed (basis delay).",
    )
    filer = models.CharField(max_length=20, choices=AppealFiler.choices)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appeals_filed"
    )
    filing_provider = models.ForeignKey(
        "authorizations.Provider",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals_filed",
    )
    member_consent = models.BooleanField(
        default=False, help_text="The member's written consent for a provider to appeal."
    )
    reason = models.TextField(help_text="Why the member disagrees, in their words.")
    expedited = models.BooleanField(default=False)
    expedited_reason = models.TextField(blank=True)
    received_at = models.DateTimeField(help_text="The true receipt time of the appeal.")
    notice_date = models.DateField(
        help_text="The date on the adverse notice (the latest corrected letter's), or the day "
        "the decision deadline passed for a deemed denial."
    )
    filing_deadline_at = models.DateTimeField()
    filing_deadline_rule = models.CharField(max_length=60, blank=True)
    # 42 CFR 438.402(c)(2)(ii): filed after 60 days. Accepted and flagged, never lost.
    late = models.BooleanField(default=False)
    status = models.CharField(
        max_length=20, choices=AppealStatus.choices, default=AppealStatus.RECEIVED
    )
    resolution_due_at = models.DateTimeField()
    resolution_due_rule = models.CharField(max_length=60)
    original_resolution_due_at = models.DateTimeField()
    exhausted_at = models.DateTimeField(
        null=True, blank=True, help_text="The missed deadline; set once by the deadline sweep."
    )
    outcome = models.CharField(max_length=30, choices=AppealOutcome.choices, blank=True)
    rationale = models.TextField(blank=True)
    criteria_refs = models.JSONField(default=list, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals_decided",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_decision = models.OneToOneField(
        "authorizations.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resolved_appeal",
        help_text="The decision written on the TAR by the resolution.",
    )
    notice_due_at = models.DateTimeField(
        null=True, blank=True, help_text="When the resolution notice is due."
    )
    state_hearing_due_at = models.DateTimeField(
        null=True, blank=True, help_text="42 CFR 438.408(f)(2): 120 days after an adverse result."
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # 42 CFR 438.410(c): a refused request for an expedited appeal, moved to the standard
    # timeframe; the written notice is due within 2 calendar days.
    downgraded_at = models.DateTimeField(null=True, blank=True)
    downgraded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals_downgraded",
    )
    downgrade_reason = models.TextField(blank=True)
    downgrade_notice_due_at = models.DateTimeField(null=True, blank=True)
    # 42 CFR 438.420: an appeal of a reduction or termination filed in time keeps the
    # authorized services going until the resolution (aid paid pending).
    continued_care = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "authorizations_appeal"
        ordering = ["resolution_due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tar"],
                condition=Q(status__in=["received", "exhausted"]),
                name="appeal_one_open_per_tar",
            ),
            models.UniqueConstraint(
                fields=["decision"],
                condition=~Q(status="withdrawn"),
                name="appeal_once_per_decision",
            ),
            models.CheckConstraint(
                name="appeal_provider_has_consent",
                condition=~Q(filer="provider") | Q(member_consent=True),
            ),
            models.CheckConstraint(
                name="appeal_expedited_states_reason",
                condition=Q(expedited=False) | ~Q(expedited_reason=""),
            ),
            models.CheckConstraint(
                name="appeal_basis_names_its_subject",
                condition=(Q(basis="decision") & Q(decision__isnull=False))
                | (Q(basis="delay") & Q(tar_extension__isnull=False))
                | Q(basis="deemed_denial"),
            ),
            models.CheckConstraint(
                name="appeal_resolved_has_outcome",
                condition=~Q(status="resolved") | ~Q(outcome=""),
            ),
        ]
        indexes = [
            # The deadline sweep: open appeals not yet exhausted, by due time.
            models.Index(
                fields=["resolution_due_at"],
                name="appeal_open_due_idx",
                condition=Q(status="received"),
            ),
            models.Index(fields=["member", "-received_at"], name="appeal_member_idx"),
            models.Index(fields=["status", "resolution_due_at"], name="appeal_status_due_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_APPEAL_STATUSES


class AdverseNoticeDate(models.Model):
    """The date printed on a member's adverse notice, recorded when the letter is made (by the
    notifications app, which sits above this one). The 60-day appeal window counts from it
    (42 CFR 438.402(c)(2)(ii)); a corrected letter is a new row with its own date, and the
    latest restarts the window."""

    tar = models.ForeignKey(
        "authorizations.Tar", on_delete=models.PROTECT, related_name="adverse_notice_dates"
    )
    event_key = models.CharField(max_length=60, help_text="The notice's event key.")
    kind = models.CharField(max_length=30, help_text="The notice kind (denial, delay, ...).")
    letter_date = models.DateField()
    version = models.PositiveSmallIntegerField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["letter_date", "version", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tar", "event_key", "kind", "version"], name="adverse_notice_date_once"
            )
        ]


class AppealExtension(models.Model):
    """42 CFR 438.408(c): one extension of up to 14 calendar days. One row per appeal at most;
    the one-to-one key makes a second extension impossible even under a race."""

    appeal = models.OneToOneField(Appeal, on_delete=models.PROTECT, related_name="extension")
    reason = models.CharField(max_length=40, choices=AppealExtensionReason.choices)
    note = models.TextField(help_text="Why, and what is needed; printed on the notice.")
    previous_due_at = models.DateTimeField()
    new_due_at = models.DateTimeField()
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    extended_at = models.DateTimeField(default=timezone.now)
    notice_due_at = models.DateTimeField(
        help_text="42 CFR 438.408(c)(2)(ii): written notice within 2 calendar days."
    )

    class Meta:
        db_table = "authorizations_appealextension"
        ordering = ["extended_at", "id"]


# --- peer-to-peer --------------------------------------------------------------------------


class PeerToPeerStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"  # the provider asked; waiting for a time
    SCHEDULED = "scheduled", "Scheduled"  # a time and a physician reviewer are set
    HELD = "held", "Held"  # the talk took place; its outcome is recorded
    CANCELLED = "cancelled", "Cancelled"  # withdrawn by the provider or cancelled by the plan


OPEN_PEER_TO_PEER_STATUSES = (PeerToPeerStatus.REQUESTED, PeerToPeerStatus.SCHEDULED)


class PeerToPeerOutcome(models.TextChoices):
    DECISION_STANDS = "decision_stands", "The decision stands"  # nothing changes
    # The physician changes the decision (tar_decide while pending, or the appeal path)
    DECISION_CHANGED = "decision_changed", "The decision is changed"
    MORE_INFORMATION = "more_information", "The provider will send more information"


class PeerToPeer(models.Model):
    """A requesting provider's talk with the physician reviewer about a pending or adverse
    decision (002 "Denial Determinations": the practitioner may discuss any denial or
    potential denial with the CMO or a physician designee)."""

    tar = models.ForeignKey(
        "authorizations.Tar", on_delete=models.PROTECT, related_name="peer_to_peers"
    )
    decision = models.ForeignKey(
        "authorizations.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="peer_to_peers",
        help_text="The adverse decision discussed; empty while the request is pending.",
    )
    status = models.CharField(
        max_length=20, choices=PeerToPeerStatus.choices, default=PeerToPeerStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requesting_provider = models.ForeignKey(
        "authorizations.Provider",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="peer_to_peers",
    )
    requested_at = models.DateTimeField(default=timezone.now)
    proposed_times = models.JSONField(default=list, blank=True)
    contact_phone = models.CharField(max_length=30)
    topic = models.TextField(blank=True, help_text="What the provider wants to discuss.")
    physician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="peer_to_peers",
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    held_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=30, choices=PeerToPeerOutcome.choices, blank=True)
    summary = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The link to what changed because of the talk (a new decision, or an appeal's resolution).
    changed_decision = models.ForeignKey(
        "authorizations.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    changed_by_appeal = models.ForeignKey(
        Appeal, null=True, blank=True, on_delete=models.PROTECT, related_name="peer_to_peers"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)

    class Meta:
        db_table = "authorizations_peertopeer"
        ordering = ["-requested_at", "-id"]
        verbose_name = "peer-to-peer talk"
        constraints = [
            models.UniqueConstraint(
                fields=["tar"],
                condition=Q(status__in=["requested", "scheduled"]),
                name="p2p_one_open_per_tar",
            ),
            models.CheckConstraint(
                name="p2p_scheduled_has_time_and_physician",
                condition=~Q(status="scheduled")
                | Q(scheduled_at__isnull=False, physician__isnull=False),
            ),
            models.CheckConstraint(
                name="p2p_held_has_outcome", condition=~Q(status="held") | ~Q(outcome="")
            ),
        ]

    def __str__(self) -> str:
        return f"Peer-to-peer {self.pk} for TAR {self.tar_id}"


# --- independent medical review ------------------------------------------------------------


class ImrStatus(models.TextChoices):
    REFERRED = "referred", "Referred"  # the packet went to the reviewer; determination awaited
    # The reviewer's written determination is on file; the plan physician decides next
    DETERMINATION_RECEIVED = "determination_received", "Determination received"
    DECIDED = "decided", "Decided"  # the plan physician made the final coverage decision
    WITHDRAWN = "withdrawn", "Withdrawn"  # the referral was cancelled before a determination


OPEN_IMR_STATUSES = (ImrStatus.REFERRED, ImrStatus.DETERMINATION_RECEIVED)


class ImrReferralReason(models.TextChoices):
    """Why a physician sends a case to an independent reviewer (003 §B), in the product's
    words. Stable: a retired code is never reused."""

    # 003 B.1
    TREATMENT_EFFICACY = (
        "treatment_efficacy",
        "How well the treatment works, or for whom it is suited",
    )
    # 003 B.2
    EXPERIMENTAL_REQUEST = (
        "experimental_request",
        "The service asked for is considered experimental or investigational",
    )
    # 003 B.3
    APPEAL = "appeal", "The decision is under appeal"
    # 003 B.4
    EXPERIMENTAL_DENIAL_SERIOUS_CONDITION = (
        "experimental_denial_serious_condition",
        "An experimental or investigational therapy was denied for a life-threatening or "
        "seriously debilitating condition",
    )
    # 003 B.5 (needs the treating physician's certification and recommendation)
    MEDICAL_NECESSITY_DENIAL = (
        "medical_necessity_denial",
        "The service was denied, modified or delayed as not medically necessary; the treating "
        "physician certifies standard therapies failed and recommends a more beneficial one",
    )
    # 003 B.6
    NEW_USE_OF_EXISTING_TECHNOLOGY = (
        "new_use_of_existing_technology",
        "An existing technology or medicine used in a different way",
    )


# 003 §C: the reasons that make a benefit-exclusion case eligible for review.
EXPERIMENTAL_REASONS = (
    ImrReferralReason.EXPERIMENTAL_REQUEST,
    ImrReferralReason.EXPERIMENTAL_DENIAL_SERIOUS_CONDITION,
)


class ImrSeriousCondition(models.TextChoices):
    # 003 III.C
    LIFE_THREATENING = "life_threatening", "Life-threatening"
    # 003 III.D
    SERIOUSLY_DEBILITATING = "seriously_debilitating", "Seriously debilitating"


class ImrReviewerKind(models.TextChoices):
    IMRO = "imro", "Contracted independent medical review organization"  # 003 VI.A
    SPECIALIST = "specialist", "Case-matched independent specialist"  # 003 VI.A, case by case


class ImrReviewType(models.TextChoices):
    # Same values as clocks.ImrKind.
    STANDARD = "standard", "Standard"  # 003 G.1: 5 business days of the reviewer's receipt
    EXPEDITED = "expedited", "Expedited"  # 003 G.2: 24 hours, once extendable by 24 hours
    RETROSPECTIVE = "retrospective", "Retrospective"  # 003 G.3: 5 to 7 business days


class ImrExpeditedBasis(models.TextChoices):
    # 003 G.2.a.1
    IMMINENT_SERIOUS_THREAT = (
        "imminent_serious_threat",
        "Imminent and serious threat to the member's health (such as severe pain or possible "
        "loss of life, limb or major bodily function)",
    )
    # 003 G.2.a.2
    LESS_EFFECTIVE_IF_DELAYED = (
        "less_effective_if_delayed",
        "The therapy would be much less effective if not started promptly",
    )


class ImrDetermination(models.TextChoices):
    UPHELD = "upheld", "The plan's decision is upheld"  # the reviewer agrees with the plan
    OVERTURNED = "overturned", "The plan's decision is overturned"  # the service is warranted
    PARTIALLY_OVERTURNED = "partially_overturned", "Partly overturned"  # warranted in part


class ImrCase(models.Model):
    """One referral to an independent medical reviewer (003 MCUP3138), from the packet sent to
    the final coverage decision and the notices."""

    number = models.CharField(max_length=20, unique=True)
    tar = models.ForeignKey(
        "authorizations.Tar", on_delete=models.PROTECT, related_name="imr_cases"
    )
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="imr_cases")
    appeal = models.ForeignKey(
        Appeal, null=True, blank=True, on_delete=models.PROTECT, related_name="imr_cases"
    )
    decision = models.ForeignKey(
        "authorizations.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="imr_cases",
        help_text="The decision under review, if one was made.",
    )
    status = models.CharField(max_length=30, choices=ImrStatus.choices, default=ImrStatus.REFERRED)
    referral_reason = models.CharField(max_length=50, choices=ImrReferralReason.choices)
    serious_condition = models.CharField(
        max_length=30, choices=ImrSeriousCondition.choices, blank=True
    )
    treating_physician_certified = models.BooleanField(default=False)
    experimental_investigational = models.BooleanField(default=False)
    reviewer_kind = models.CharField(max_length=20, choices=ImrReviewerKind.choices)
    reviewer_name = models.CharField(max_length=160)
    reviewer_specialty = models.CharField(max_length=120, blank=True)
    review_type = models.CharField(max_length=20, choices=ImrReviewType.choices)
    expedited_basis = models.CharField(max_length=40, choices=ImrExpeditedBasis.choices, blank=True)
    # 003 F.2.a: an internal identifier for the review, not the member's Medi-Cal ID.
    patient_reference = models.CharField(max_length=20, unique=True)
    questions = models.JSONField(default=list, help_text="003 F.2.i")
    pertinent_history = models.TextField(help_text="003 F.2.f")
    clinical_data = models.TextField(help_text="003 F.2.g")
    # 003 F.2.b-e as sent: service lines, diagnoses, the request's information and the
    # practitioner's documents, frozen at referral so the packet always shows what was sent.
    packet = models.JSONField(default=dict)
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="imr_referred"
    )
    referred_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(help_text="When the reviewer received the case.")
    due_at = models.DateTimeField()
    target_at = models.DateTimeField()
    due_rule = models.CharField(max_length=60)
    original_due_at = models.DateTimeField()
    extended_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    overdue_at = models.DateTimeField(
        null=True, blank=True, help_text="Set once by the deadline sweep when due_at passed."
    )
    determination = models.CharField(max_length=30, choices=ImrDetermination.choices, blank=True)
    analysis = models.TextField(blank=True)
    reviewer_qualifications = models.JSONField(default=list, blank=True)
    determination_received_at = models.DateTimeField(null=True, blank=True)
    determination_late = models.BooleanField(default=False)
    determination_attachment = models.ForeignKey(
        "authorizations.Attachment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    determination_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    final_outcome = models.CharField(max_length=20, blank=True)
    final_rationale = models.TextField(blank=True)
    final_decision = models.ForeignKey(
        "authorizations.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # 003 F.6: a summary of the case, attached to the member's TAR.
    case_summary = models.ForeignKey(
        "authorizations.Attachment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    provider_notice_due_at = models.DateTimeField(null=True, blank=True)
    member_notice_due_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "authorizations_imrcase"
        ordering = ["due_at", "id"]
        verbose_name = "IMR case"
        constraints = [
            models.UniqueConstraint(
                fields=["tar"],
                condition=Q(status__in=["referred", "determination_received"]),
                name="imr_one_open_per_tar",
            ),
            models.CheckConstraint(
                name="imr_expedited_states_basis",
                condition=~Q(review_type="expedited") | ~Q(expedited_basis=""),
            ),
            models.CheckConstraint(
                name="imr_only_expedited_extends",
                condition=Q(extended_at__isnull=True) | Q(review_type="expedited"),
            ),
        ]
        indexes = [
            # The deadline sweep: determinations awaited and not yet flagged, by due time.
            models.Index(
                fields=["due_at"],
                name="imr_awaiting_due_idx",
                condition=Q(status="referred", overdue_at__isnull=True),
            ),
            # The staff tracking list (003 F.7): by status and due date.
            models.Index(fields=["status", "due_at"], name="imr_status_due_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_IMR_STATUSES


class AppealDocument(models.Model):
    """A document sent with an appeal (a letter or records from the member's doctor; 42 CFR
    438.406(b)(4): the member may present evidence). Checked by its content like a request's
    documents (authorizations.services.attachments), stored privately under a name of ours,
    read by the appeal's reviewers, and every staff read recorded."""

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="documents")
    file = models.FileField(storage=private_storage, upload_to="appeal-documents/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.original_name} on appeal {self.appeal_id}"
