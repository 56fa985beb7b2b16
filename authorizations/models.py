import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from authorizations.storage import private_storage
from authorizations.validators import validate_npi
from members.models import Member
from tar_portal.versioned import shared_cache


class OrganizationKind(models.TextChoices):
    PRIMARY_CARE = "primary_care", "Primary-care office"
    PAIN_CLINIC = "pain_clinic", "Pain clinic"
    HOSPITAL = "hospital", "Hospital or surgery center"
    OTHER = "other", "Other"


class ProviderOrganization(models.Model):
    name = models.CharField(max_length=160, unique=True)
    kind = models.CharField(max_length=20, choices=OrganizationKind.choices)
    tax_id = models.CharField("TIN", max_length=10, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    fax = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True, help_text="Where provider notices are e-mailed.")
    address = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Specialty(models.TextChoices):
    FAMILY_MEDICINE = "family_medicine", "Family medicine"
    INTERNAL_MEDICINE = "internal_medicine", "Internal medicine"
    PAIN_MEDICINE = "pain_medicine", "Pain medicine"
    ANESTHESIOLOGY = "anesthesiology", "Anesthesiology"
    PHYSICAL_MEDICINE = "physical_medicine", "Physical medicine and rehabilitation"
    NEUROSURGERY = "neurosurgery", "Neurosurgery"
    ORTHOPEDICS = "orthopedics", "Orthopedic surgery"
    FACILITY = "facility", "Facility"
    UTILIZATION_REVIEW = "utilization_review", "Utilization review (plan physician)"


class NetworkStatus(models.TextChoices):
    IN_NETWORK = "in_network", "In network"
    OUT_OF_NETWORK = "out_of_network", "Out of network"


class Provider(models.Model):
    npi = models.CharField("NPI", max_length=10, unique=True, validators=[validate_npi])
    name = models.CharField(max_length=160)
    credentials = models.CharField(max_length=20, blank=True, help_text="MD, DO, NP…")
    organization = models.ForeignKey(
        ProviderOrganization, on_delete=models.PROTECT, related_name="providers"
    )
    specialty = models.CharField(max_length=30, choices=Specialty.choices)
    taxonomy_code = models.CharField(max_length=10, blank=True)
    network_status = models.CharField(
        max_length=20, choices=NetworkStatus.choices, default=NetworkStatus.IN_NETWORK
    )
    is_pcp = models.BooleanField("primary care provider", default=False)
    # 000: only a provider credentialed as a Pain Management Specialist acts as one.
    pain_specialist_credentialed_from = models.DateField(null=True, blank=True)
    pain_specialist_credentialed_to = models.DateField(null=True, blank=True)
    phone = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.npi})"

    def is_credentialed_pain_specialist_on(self, day) -> bool:
        start, end = self.pain_specialist_credentialed_from, self.pain_specialist_credentialed_to
        return start is not None and start <= day and (end is None or day <= end)


class ReferralStatus(models.TextChoices):
    ACTIVE = "active", "Active"  # usable by the specialist within its dates
    CANCELLED = "cancelled", "Cancelled"  # withdrawn by the PCP office


class Referral(models.Model):
    """A RAF: the member's PCP refers the member to a specialist (000 VI.C)."""

    number = models.CharField(max_length=20, unique=True)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="referrals")
    referring_provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="referrals_made"
    )
    referring_organization = models.ForeignKey(
        ProviderOrganization, on_delete=models.PROTECT, related_name="referrals_made"
    )
    to_organization = models.ForeignKey(
        ProviderOrganization, on_delete=models.PROTECT, related_name="referrals_received"
    )
    to_provider = models.ForeignKey(
        Provider,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_received",
    )
    specialty = models.CharField(max_length=30, choices=Specialty.choices)
    reason = models.TextField()
    diagnosis_codes = models.JSONField(default=list)
    valid_from = models.DateField()
    valid_to = models.DateField()
    visits_authorized = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="referral_valid_to_after_from",
                condition=Q(valid_to__gte=models.F("valid_from")),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def is_valid_on(self, day) -> bool:
        return self.status == ReferralStatus.ACTIVE and self.valid_from <= day <= self.valid_to


class RequestType(models.TextChoices):
    PRE_SERVICE = "pre_service", "Pre-service"
    CONCURRENT = "concurrent", "Concurrent"
    POST_SERVICE = "post_service", "Post-service (retrospective)"


class Urgency(models.TextChoices):
    URGENT = "urgent", "Urgent"
    ROUTINE = "routine", "Routine"


class Channel(models.TextChoices):
    PORTAL = "portal", "Portal"
    API = "api", "API"
    FAX = "fax", "Fax"
    MAIL = "mail", "Mail"
    PHONE = "phone", "Phone"
    FHIR = "fhir", "FHIR API"  # Da Vinci PAS $submit from an EHR or intermediary (PRODUCT §11)


class PlaceOfService(models.TextChoices):
    # CMS place-of-service codes used for these services.
    OFFICE = "11", "11 Office"
    OUTPATIENT_HOSPITAL_ON_CAMPUS = "22", "22 On-campus outpatient hospital"
    AMBULATORY_SURGERY_CENTER = "24", "24 Ambulatory surgical center"
    INPATIENT_HOSPITAL = "21", "21 Inpatient hospital"
    OUTPATIENT_HOSPITAL_OFF_CAMPUS = "19", "19 Off-campus outpatient hospital"
    HOSPICE = "34", "34 Hospice"
    HOME = "12", "12 Home"


class SpinalRegion(models.TextChoices):
    CERVICAL = "cervical", "Cervical"
    THORACIC = "thoracic", "Thoracic"
    LUMBAR = "lumbar", "Lumbar"
    SACRAL = "sacral", "Sacral"


class TarStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"  # received, waiting for a nurse
    IN_REVIEW = "in_review", "In review"  # claimed by a nurse
    PENDED = "pended", "Pended for information"  # information requested; the clock runs on
    REFERRED = "referred", "Referred to physician"  # waiting for a physician reviewer
    APPROVED = "approved", "Approved"  # every line approved as requested
    MODIFIED = "modified", "Modified"  # approved in part (fewer units, other dates)
    DENIED = "denied", "Denied"  # adverse determination
    CLOSED = "closed", "Closed"  # non-medical closure: not eligible, duplicate, no TAR needed
    WITHDRAWN = "withdrawn", "Withdrawn"  # withdrawn by the requesting provider


OPEN_STATUSES = (TarStatus.SUBMITTED, TarStatus.IN_REVIEW, TarStatus.PENDED, TarStatus.REFERRED)
DECIDED_STATUSES = (TarStatus.APPROVED, TarStatus.MODIFIED, TarStatus.DENIED, TarStatus.CLOSED)


class ReasonCode(models.TextChoices):
    # Stable: a retired code is never reused (PRODUCT §8).
    MEDICAL_NECESSITY = "medical_necessity", "Does not meet medical-necessity criteria"
    NOT_A_BENEFIT = "not_a_benefit", "Not a covered benefit"
    NOT_ELIGIBLE = "not_eligible", "Member not eligible on the date of service"
    DUPLICATE = "duplicate", "Duplicate request"
    NO_AUTHORIZATION_REQUIRED = "no_authorization_required", "No authorization required"
    # 000 VI.B-C: received without a valid RAF from the member's PCP, or for a servicing
    # provider not credentialed as a pain management specialist (PRODUCT §4 "received, not
    # refused"): closed on that ground, with the member's denial notice.
    REQUIREMENTS_NOT_MET = (
        "requirements_not_met",
        "Referral (RAF) or specialist credentialing requirement not met",
    )


NON_MEDICAL_REASONS = (
    ReasonCode.NOT_A_BENEFIT,
    ReasonCode.NOT_ELIGIBLE,
    ReasonCode.DUPLICATE,
    ReasonCode.NO_AUTHORIZATION_REQUIRED,
    ReasonCode.REQUIREMENTS_NOT_MET,
)


class ExtensionReason(models.TextChoices):
    # Stable: a retired code is never reused (PRODUCT §4, §8).
    INFORMATION_NOT_RECEIVED = "information_not_received", "Information requested, not received"
    EXPERT_REVIEW_NEEDED = "expert_review_needed", "Specialist or expert review needed"
    ADDITIONAL_EXAM_NEEDED = "additional_exam_needed", "Additional examination or test needed"
    REQUESTED_BY_MEMBER_OR_PROVIDER = (
        "requested_by_member_or_provider",
        "Requested by the member or provider",
    )


class Tar(models.Model):
    number = models.CharField(max_length=20, unique=True)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="tars")
    requesting_provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="tars_requested"
    )
    servicing_provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="tars_serviced"
    )
    # Denormalised from the providers so that scoping a list is one indexed filter.
    requesting_organization = models.ForeignKey(
        ProviderOrganization, on_delete=models.PROTECT, related_name="tars_requested"
    )
    servicing_organization = models.ForeignKey(
        ProviderOrganization, on_delete=models.PROTECT, related_name="tars_serviced"
    )
    servicing_facility = models.CharField(max_length=160, blank=True)
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="tars"
    )
    place_of_service = models.CharField(max_length=2, choices=PlaceOfService.choices)
    request_type = models.CharField(max_length=20, choices=RequestType.choices)
    urgency = models.CharField(max_length=10, choices=Urgency.choices)
    urgency_reason = models.TextField(blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(help_text="The true receipt time (PRODUCT §3).")
    status = models.CharField(
        max_length=20, choices=TarStatus.choices, default=TarStatus.SUBMITTED, db_index=True
    )
    answers = models.JSONField(default=dict, blank=True)
    # Post-service (002 "Post-Service Retrospective Review").
    date_of_service = models.DateField(null=True, blank=True)
    primary_denial_date = models.DateField(null=True, blank=True)
    retro_eligibility_date = models.DateField(null=True, blank=True)
    late_submission = models.BooleanField(default=False)
    late_submission_rule = models.CharField(max_length=60, blank=True)
    # PRODUCT §4 "received, not refused": what was wrong with the request as received (member
    # not eligible, no valid RAF, servicing provider not credentialed), each {"field",
    # "message"}. The request is in the queue flagged; staff close or decide it.
    intake_flags = models.JSONField(default=list, blank=True)

    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tars_submitted"
    )
    idempotency_key = models.CharField(max_length=120, null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tars_assigned",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    status_before_pend = models.CharField(max_length=20, choices=TarStatus.choices, blank=True)

    # Clock (PRODUCT §4); written only through the transition service.
    effective_received_at = models.DateTimeField()
    decision_due_at = models.DateTimeField()
    decision_due_rule = models.CharField(max_length=60)
    original_decision_due_at = models.DateTimeField()
    extension_count = models.PositiveSmallIntegerField(default=0)
    breached_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tars_decided",
    )
    reason_code = models.CharField(max_length=40, choices=ReasonCode.choices, blank=True)
    provider_notice_due_at = models.DateTimeField(null=True, blank=True)
    provider_notice_rule = models.CharField(max_length=60, blank=True)
    member_notice_due_at = models.DateTimeField(null=True, blank=True)
    member_notice_rule = models.CharField(max_length=60, blank=True)
    # 42 CFR 438.400(b)(5), 438.404(c)(5): a decision not made in time is a deemed denial. Set
    # once, when the member (or someone for them) appeals the breached request; a later
    # decision on the request never clears it (the appeal stands on it).
    deemed_denied_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["decision_due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="tar_idempotency_key_per_user",
            ),
            models.CheckConstraint(
                name="urgent_tar_states_reason",
                condition=~Q(urgency="urgent") | ~Q(urgency_reason=""),
            ),
        ]
        indexes = [
            # The nurse queue: open requests by decision due time.
            models.Index(fields=["status", "decision_due_at"], name="tar_status_due_idx"),
            # The queue's age column sorted, per status (portal.selectors.queue_page).
            models.Index(fields=["status", "received_at", "id"], name="tar_status_received_idx"),
            # Staff lists without a status filter: ordered by due time, id as tie-break.
            models.Index(fields=["decision_due_at", "id"], name="tar_due_id_idx"),
            # The deadline sweep: open, not yet breached, by due time (PRODUCT §4).
            models.Index(
                fields=["decision_due_at"],
                name="tar_open_due_idx",
                condition=Q(breached_at__isnull=True)
                & Q(status__in=["submitted", "in_review", "pended", "referred"]),
            ),
            # Staff queues (nurse: submitted/in review/pended; physician: referred) walk only
            # the open requests in due order: the decided history is not in this index, so a
            # page costs the same at 1M TARs as at 1k (issue 16).
            models.Index(
                fields=["decision_due_at", "id"],
                name="tar_open_queue_idx",
                condition=Q(status__in=["submitted", "in_review", "pended", "referred"]),
            ),
            # A provider's lists: one index per organization role, each walked in the list's
            # keyset order and merged (selectors.tar_scope_branches, issue 16).
            models.Index(
                fields=["requesting_organization", "-received_at", "-id"],
                name="tar_req_org_recv_idx",
            ),
            models.Index(
                fields=["servicing_organization", "-received_at", "-id"],
                name="tar_srv_org_recv_idx",
            ),
            models.Index(
                fields=["requesting_organization", "decision_due_at", "id"],
                name="tar_req_org_due_idx",
            ),
            models.Index(
                fields=["servicing_organization", "decision_due_at", "id"],
                name="tar_srv_org_due_idx",
            ),
            # The provider dashboard's open tabs (needs your action, in review) and their
            # capped counts: the organization's open requests of one status, newest first,
            # walked per status and merged (portal.selectors.provider_tab_branches); the
            # decided history is not in them (issue 16).
            models.Index(
                fields=["requesting_organization", "status", "-received_at", "-id"],
                name="tar_req_org_open_idx",
                condition=Q(status__in=["submitted", "in_review", "pended", "referred"]),
            ),
            models.Index(
                fields=["servicing_organization", "status", "-received_at", "-id"],
                name="tar_srv_org_open_idx",
                condition=Q(status__in=["submitted", "in_review", "pended", "referred"]),
                # The servicing-only stream leaves out what the office itself requested.
                include=["requesting_organization"],
            ),
            # The intake desk's list: requests received by fax, mail or phone, latest first.
            models.Index(
                fields=["-received_at", "-id"],
                name="tar_intake_recv_idx",
                condition=Q(channel__in=["fax", "mail", "phone"]),
            ),
            models.Index(fields=["member", "-received_at"], name="tar_member_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class LineOutcome(models.TextChoices):
    PENDING = "pending", "Pending"  # not yet decided
    APPROVED = "approved", "Approved"
    MODIFIED = "modified", "Modified"
    DENIED = "denied", "Denied"
    CLOSED = "closed", "Closed"


class Recommendation(models.TextChoices):
    MEETS_CRITERIA = "meets_criteria", "Meets criteria"  # a nurse may approve
    NEEDS_INFORMATION = "needs_information", "Needs information"  # ask the provider
    REFER_TO_PHYSICIAN = "refer_to_physician", "Refer to physician"  # never an auto-denial


class ServiceLine(models.Model):
    tar = models.ForeignKey(Tar, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=5)
    modifiers = models.JSONField(default=list, blank=True)
    diagnosis_codes = models.JSONField(default=list)
    units = models.PositiveIntegerField()
    spinal_region = models.CharField(max_length=10, choices=SpinalRegion.choices, blank=True)
    service_date_from = models.DateField()
    service_date_to = models.DateField()
    criteria_set_choice = models.CharField(max_length=40, blank=True)
    family = models.CharField(max_length=40, blank=True, db_index=True)
    # Criteria evaluation at submission (issue: criteria engine), with the set version used.
    criteria_set = models.ForeignKey(
        "criteria.CriteriaSet", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    evaluation = models.JSONField(default=dict, blank=True)
    recommendation = models.CharField(max_length=20, choices=Recommendation.choices, blank=True)
    outcome = models.CharField(max_length=10, choices=LineOutcome.choices, default="pending")
    approved_units = models.PositiveIntegerField(null=True, blank=True)
    approved_date_from = models.DateField(null=True, blank=True)
    approved_date_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["tar", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["tar", "line_number"], name="service_line_number"),
            models.CheckConstraint(name="service_line_units_positive", condition=Q(units__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.tar_id}/{self.line_number} {self.code}"


class Attachment(models.Model):
    tar = models.ForeignKey(Tar, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(storage=private_storage, upload_to="attachments/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class Decision(models.Model):
    """One decision on a TAR, immutable once written (what the letters cite)."""

    tar = models.ForeignKey(Tar, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(max_length=10, choices=LineOutcome.choices)
    reason_code = models.CharField(max_length=40, choices=ReasonCode.choices, blank=True)
    rationale = models.TextField(blank=True)
    criteria_refs = models.JSONField(default=list, blank=True)
    line_outcomes = models.JSONField(default=list, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    automated = models.BooleanField(default=False)
    decided_at = models.DateTimeField(default=timezone.now)
    # A `duplicate` closure names the request it duplicates (PRODUCT §2).
    duplicate_of = models.ForeignKey(
        Tar, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["decided_at", "id"]


class Extension(models.Model):
    tar = models.ForeignKey(Tar, on_delete=models.PROTECT, related_name="extensions")
    reason = models.CharField(max_length=40, choices=ExtensionReason.choices)
    note = models.TextField(blank=True, help_text="What is needed from the provider or member.")
    previous_due_at = models.DateTimeField()
    new_due_at = models.DateTimeField()
    extended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    extended_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["extended_at", "id"]


class InformationRequest(models.Model):
    tar = models.ForeignKey(Tar, on_delete=models.PROTECT, related_name="information_requests")
    message = models.TextField()
    missing_keys = models.JSONField(default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    response = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]


class HistoryAction(models.TextChoices):
    CREATED = "created", "Created"
    STATUS_CHANGED = "status_changed", "Status changed"
    DECIDED = "decided", "Decided"
    EXTENDED = "extended", "Deadline extended"
    INFORMATION_REQUESTED = "information_requested", "Information requested"
    INFORMATION_RECEIVED = "information_received", "Information received"
    ATTACHMENT_ADDED = "attachment_added", "Attachment added"
    CLINICAL_READ = "clinical_read", "Clinical record read by plan staff"
    ATTACHMENT_READ = "attachment_read", "Attachment opened by plan staff"
    REFERRAL_CREATED = "referral_created", "Referral created"
    BREACHED = "breached", "Decision deadline breached"
    NOTICE_OVERDUE = "notice_overdue", "Notice not sent by its deadline"
    EVALUATED = "evaluated", "Criteria evaluated"
    # Appeals, peer-to-peer talks and independent medical review (the appeals app) write on
    # the request's history too: one vocabulary for every record (STYLE §4: never reused).
    APPEAL_FILED = "appeal_filed", "Appeal filed"
    APPEAL_EXTENDED = "appeal_extended", "Appeal deadline extended"
    APPEAL_RESOLVED = "appeal_resolved", "Appeal resolved"
    APPEAL_EXHAUSTED = "appeal_exhausted", "Appeal deadline missed (exhausted)"
    APPEAL_WITHDRAWN = "appeal_withdrawn", "Appeal withdrawn"
    PEER_TO_PEER_REQUESTED = "p2p_requested", "Peer-to-peer talk requested"
    PEER_TO_PEER_SCHEDULED = "p2p_scheduled", "Peer-to-peer talk scheduled"
    PEER_TO_PEER_HELD = "p2p_held", "Peer-to-peer talk held"
    PEER_TO_PEER_CANCELLED = "p2p_cancelled", "Peer-to-peer talk cancelled"
    PEER_TO_PEER_LINKED = "p2p_linked", "Peer-to-peer talk linked to a changed decision"
    IMR_REFERRED = "imr_referred", "Referred to independent medical review"
    IMR_EXTENDED = "imr_extended", "IMR deadline extended"
    IMR_DETERMINATION = "imr_determination", "IMR determination received"
    IMR_DECIDED = "imr_decided", "Final coverage decision after IMR"
    IMR_OVERDUE = "imr_overdue", "IMR determination overdue"
    IMR_WITHDRAWN = "imr_withdrawn", "IMR referral withdrawn"
    IMR_PACKET_READ = "imr_packet_read", "IMR referral packet opened by plan staff"
    # Inter-rater reliability audits (reports app): recorded, never a change to the request.
    IRR_ASSIGNED = "irr_assigned", "Drawn for an inter-rater reliability audit"
    IRR_REVIEWED = "irr_reviewed", "Inter-rater reliability second review recorded"
    # Issue 11 (appeals branch): deemed denials, oral notice, expedited-appeal downgrades and
    # reductions of authorized concurrent services.
    DEEMED_DENIED = "deemed_denied", "Deemed denial recorded (no decision in time)"
    ORAL_NOTICE = "oral_notice", "Oral notice attempted"
    APPEAL_DOWNGRADED = "appeal_downgraded", "Expedited appeal moved to the standard timeframe"
    SERVICES_REDUCED = "services_reduced", "Authorized services reduced or terminated"
    # The requesting provider changes the service lines of an open request (issue 14).
    LINES_AMENDED = "lines_amended", "Service lines changed by the provider"
    # Grievances (the grievances app), on the member's history.
    GRIEVANCE_FILED = "grievance_filed", "Grievance filed"
    GRIEVANCE_ACKNOWLEDGED = "grievance_acknowledged", "Grievance acknowledged"
    GRIEVANCE_RESOLVED = "grievance_resolved", "Grievance resolved"
    GRIEVANCE_WITHDRAWN = "grievance_withdrawn", "Grievance withdrawn"
    GRIEVANCE_OVERDUE = "grievance_overdue", "Grievance deadline missed (escalated)"


class HistoryEntry(models.Model):
    """Append-only: who did what, when and why (PRODUCT §3). Never updated or deleted; on
    PostgreSQL a trigger refuses UPDATE and DELETE (migration 0003_history_append_only)."""

    tar = models.ForeignKey(
        Tar, null=True, blank=True, on_delete=models.PROTECT, related_name="history"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="history")
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="history"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=30, choices=HistoryAction.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "history entries"
        indexes = [
            models.Index(fields=["tar", "at"], name="history_tar_idx"),
            models.Index(fields=["member", "at"], name="history_member_idx"),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("History entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("History entries are append-only.")


class NumberSequence(models.Model):
    """Per-year counters for TAR-YYYY-NNNNNN and RAF-YYYY-NNNNNN, taken under a row lock."""

    prefix = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="number_sequence_prefix_year")
        ]


class PlanHoliday(models.Model):
    """A day the plan's UM department is closed: the plan's own calendar, one row per holiday
    and year (PRODUCT §4; issue 11 row 17). Seeded once from the `holidays` library's
    California list, keeping only the state's paid holidays (Gov. Code 19853; CalHR), then
    kept by the UM manager in the admin. A library upgrade never moves a deadline."""

    date = models.DateField(unique=True)
    name = models.CharField(max_length=120)
    source = models.CharField(
        max_length=200,
        help_text="Why the plan is closed that day, e.g. 'Gov. Code 19853 (CalHR state holiday)'.",
    )

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class PlanCalendarVersion(models.Model):
    """One row: a fresh random token on every holiday edit, written in the edit's transaction,
    so each process knows its cached calendar is stale (authorizations/calendar.py). A token,
    not a counter: an edit rolled back and another committed can never share a version."""

    token = models.CharField(max_length=32, default="")

    # With a shared cache (Redis) the committed token is also kept there, so a clock costs no
    # query between edits (issue 16). The row stays the truth: the key is dropped while an edit
    # is open and set again once it commits; a process that finds no key reads the row.
    CACHE_KEY = "plan-calendar-version"
    # Tokens this process wrote and has not seen commit: never published to the cache, so a
    # rolled-back edit can never be taken for the plan's calendar.
    _uncommitted: set[str] = set()

    @classmethod
    def bump(cls) -> None:
        token = uuid.uuid4().hex
        if not cls.objects.filter(pk=1).update(token=token):
            cls.objects.update_or_create(pk=1, defaults={"token": token})
        if shared_cache():
            cls._uncommitted.add(token)
            cache.delete(cls.CACHE_KEY)

            def publish() -> None:
                cls._uncommitted.discard(token)
                cache.set(cls.CACHE_KEY, token, None)

            transaction.on_commit(publish)

    @classmethod
    def current(cls) -> str:
        shared = shared_cache()
        if shared and (token := cache.get(cls.CACHE_KEY)):
            return token
        token = cls.objects.filter(pk=1).values_list("token", flat=True).first() or ""
        if shared and token and token not in cls._uncommitted:
            # `add` never overwrites a newer token an edit committed meanwhile.
            cache.add(cls.CACHE_KEY, token, None)
        return token


@receiver([post_save, post_delete], sender=PlanHoliday)
def _plan_calendar_changed(**kwargs) -> None:
    # Every edit, however made (admin, shell, a queryset delete), bumps the calendar version in
    # its own transaction, so no process keeps computing deadlines from the old list.
    # (bulk_create and queryset.update send no signal: their callers bump themselves.)
    PlanCalendarVersion.bump()


class PlanDataChangeAction(models.TextChoices):
    ADDED = "added", "Added"
    CHANGED = "changed", "Changed"
    REMOVED = "removed", "Removed"


class PlanHolidayChange(models.Model):
    """Who changed the plan's calendar, what and when (append-only; PRODUCT §4)."""

    holiday_date = models.DateField()
    action = models.CharField(max_length=10, choices=PlanDataChangeAction.choices)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.changed_at:%Y-%m-%d %H:%M} {self.action} {self.holiday_date}"


class DeadlineAlert(models.Model):
    """A due-soon alert raised once per TAR, horizon and deadline (PRODUCT §4 deadline engine).
    The unique constraint makes a second sweep, a retried task or an overlapping sweep a
    no-op; an extension gives a new deadline and so new alerts."""

    tar = models.ForeignKey(Tar, on_delete=models.CASCADE, related_name="deadline_alerts")
    hours_before = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    raised_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["raised_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tar", "hours_before", "due_at"], name="deadline_alert_once"
            )
        ]


class Breach(models.Model):
    """The decision deadline passed with no decision (42 CFR 438.404(c)(5)). One per TAR."""

    tar = models.OneToOneField(Tar, on_delete=models.PROTECT, related_name="breach")
    due_at = models.DateTimeField(help_text="The deadline that was missed (the breach time).")
    rule = models.CharField(max_length=60)
    detected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-due_at", "id"]


class Escalation(models.Model):
    """A breach escalated to the UM manager and the physician reviewers. One per breach."""

    breach = models.OneToOneField(Breach, on_delete=models.PROTECT, related_name="escalation")
    tar = models.ForeignKey(Tar, on_delete=models.PROTECT, related_name="escalations")
    roles = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]


class OralNoticeSubject(models.TextChoices):
    # What an oral notice was about; each is a place where a rule asks for one. Stable codes.
    # H&S 1367.01(h)(3); 42 CFR 438.210(d)(2): an urgent decision is told to the provider
    # by telephone as well as in writing.
    URGENT_DECISION = "urgent_decision", "Urgent (expedited) decision"
    # 42 CFR 438.210(d)(1)(ii), 438.404(c)(4): an extension of the decision deadline.
    EXTENSION = "extension", "Extension of the decision deadline"
    # 42 CFR 438.410(c)(2), 438.408(c)(2)(i): an expedited appeal moved to standard.
    APPEAL_DOWNGRADE = "appeal_downgrade", "Expedited appeal moved to the standard timeframe"
    # 42 CFR 438.408(c)(2)(i): an appeal extension not asked for by the member.
    APPEAL_EXTENSION = "appeal_extension", "Extension of the appeal deadline"
    # 42 CFR 438.408(d)(2)(ii): the resolution of an expedited appeal.
    EXPEDITED_APPEAL_RESOLUTION = "expedited_appeal_resolution", "Expedited appeal resolution"


class OralNoticeParty(models.TextChoices):
    MEMBER = "member", "Member"
    REPRESENTATIVE = "representative", "Member's authorized representative"
    PROVIDER = "provider", "Requesting provider's office"


class OralNoticeOutcome(models.TextChoices):
    # Stable codes: "reasonable efforts" are shown by each attempt and how it ended.
    REACHED = "reached", "Reached and told"
    LEFT_MESSAGE = "left_message", "Left a message"
    NO_ANSWER = "no_answer", "No answer"
    WRONG_NUMBER = "wrong_number", "Wrong or disconnected number"
    DECLINED = "declined", "Reached; declined to talk"


class OralNotice(models.Model):
    """One attempt to tell someone by telephone (who called, whom, when, how it ended). The
    rules ask for "reasonable efforts" at oral notice (42 CFR 438.408(c)(2)(i),
    438.410(c)(2)); the record of each attempt is what shows them. Append-only."""

    tar = models.ForeignKey(Tar, on_delete=models.PROTECT, related_name="oral_notices")
    subject = models.CharField(max_length=40, choices=OralNoticeSubject.choices)
    # The appeal it concerns, for the appeal subjects (the appeals app's id; no key, so the
    # request's app does not depend on the appeals app).
    appeal_ref = models.PositiveBigIntegerField(null=True, blank=True)
    party = models.CharField(max_length=20, choices=OralNoticeParty.choices)
    phone = models.CharField(max_length=30, help_text="The number called.")
    outcome = models.CharField(max_length=20, choices=OralNoticeOutcome.choices)
    note = models.TextField(blank=True)
    attempted_at = models.DateTimeField()
    attempted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["attempted_at", "id"]
        indexes = [models.Index(fields=["tar", "subject"], name="oral_notice_tar_subject_idx")]


class ServiceReductionKind(models.TextChoices):
    REDUCTION = "reduction", "Reduction"  # fewer units or a shorter period than authorized
    TERMINATION = "termination", "Termination"  # no further services after the effective date


class ServiceReduction(models.Model):
    """A reduction or termination of services already authorized under concurrent review
    (42 CFR 438.400(b)(2), 438.404(c)(1), 431.211; H&S 1367.01(h)(3)). The member is told at
    least 10 calendar days before it takes effect; an appeal filed in time keeps the services
    going until the appeal is resolved (42 CFR 438.420)."""

    tar = models.ForeignKey(Tar, on_delete=models.PROTECT, related_name="reductions")
    decision = models.OneToOneField(
        Decision, on_delete=models.PROTECT, related_name="reduction", help_text="What changes."
    )
    kind = models.CharField(max_length=20, choices=ServiceReductionKind.choices)
    effective_on = models.DateField(help_text="The first day the change applies (Pacific).")
    advance_notice_rule = models.CharField(max_length=60)
    notice_due_at = models.DateTimeField(help_text="The written notice is mailed by then.")
    # The lines as authorized before the change, to restore them while aid is paid pending.
    previous_lines = models.JSONField(default=list)
    care_plan_note = models.TextField(
        help_text="H&S 1367.01(h)(3): how the treating provider was told and the care plan."
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "id"]


# The event outbox (authorizations.workflow) lives in its own module.
from authorizations.event_models import *  # noqa: E402,F403
