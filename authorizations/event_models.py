"""The event outbox: one row per workflow change, written in the same transaction as the
change (authorizations.workflow.perform), consumed after commit (authorizations.workflow.outbox).

Imported at the end of authorizations/models.py, so these are models of the `authorizations`
app. Kinds are stable strings: a retired kind is never reused (STYLE §4).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

__all__ = ["DomainEvent", "EventConsumption", "EventKind"]


class EventKind(models.TextChoices):
    # Requests (TARs)
    TAR_SUBMITTED = "tar.submitted", "Request received"
    TAR_CLAIMED = "tar.claimed", "Request claimed for review"
    TAR_RELEASED = "tar.released", "Request released to the queue"
    TAR_INFO_REQUESTED = "tar.info_requested", "Information requested"
    TAR_INFO_RECEIVED = "tar.info_received", "Information received"
    TAR_REFERRED = "tar.referred", "Referred to a physician"
    TAR_DECIDED = "tar.decided", "Request decided"  # approve, modify, deny or close
    TAR_WITHDRAWN = "tar.withdrawn", "Request withdrawn"
    TAR_EXTENDED = "tar.extended", "Decision deadline extended"
    # A decided request decided again by an appeal's or an IMR's result; the appeal's or the
    # IMR's own event owes the notices.
    TAR_REDECIDED = "tar.redecided", "Request decided again (appeal or IMR)"
    TAR_BREACHED = "tar.breached", "Decision deadline missed"  # the deadline engine
    # Issue 11 (appeals branch)
    TAR_DEEMED_DENIED = "tar.deemed_denied", "Deemed denial recorded"  # an appeal of a breach
    TAR_ORAL_NOTICE = "tar.oral_notice", "Oral notice attempted"
    TAR_SERVICES_REDUCED = "tar.services_reduced", "Authorized services reduced or terminated"
    # Issue 14: the requesting provider added, changed or cancelled lines of an open request.
    TAR_LINES_AMENDED = "tar.lines_amended", "Service lines changed by the provider"
    # A notice of the request went out (notifications; not a workflow record): the reports'
    # notice pre-aggregates follow it (issue 13).
    NOTICE_SENT = "notice.sent", "Notice sent"
    # Appeals
    APPEAL_FILED = "appeal.filed", "Appeal filed"
    APPEAL_EXTENDED = "appeal.extended", "Appeal deadline extended"
    APPEAL_RESOLVED = "appeal.resolved", "Appeal resolved"
    APPEAL_EXHAUSTED = "appeal.exhausted", "Appeal deadline missed"  # the deadline engine
    APPEAL_WITHDRAWN = "appeal.withdrawn", "Appeal withdrawn"
    APPEAL_DOWNGRADED = "appeal.downgraded", "Expedited appeal moved to standard"
    # Peer-to-peer talks
    PEER_TO_PEER_REQUESTED = "p2p.requested", "Peer-to-peer talk requested"
    PEER_TO_PEER_SCHEDULED = "p2p.scheduled", "Peer-to-peer talk scheduled"
    PEER_TO_PEER_HELD = "p2p.held", "Peer-to-peer talk held"
    PEER_TO_PEER_LINKED = "p2p.linked", "Peer-to-peer talk linked to a decision"
    PEER_TO_PEER_CANCELLED = "p2p.cancelled", "Peer-to-peer talk cancelled"
    # Independent medical review
    IMR_REFERRED = "imr.referred", "Referred to independent medical review"
    IMR_EXTENDED = "imr.extended", "IMR deadline extended"
    IMR_DETERMINATION = "imr.determination", "IMR determination received"
    IMR_DECIDED = "imr.decided", "Final coverage decision after IMR"
    IMR_WITHDRAWN = "imr.withdrawn", "IMR referral withdrawn"
    # Inter-rater reliability audits (reports app); they change nothing on the request.
    IRR_ASSIGNED = "irr.assigned", "Drawn for an inter-rater reliability audit"
    IRR_REVIEWED = "irr.reviewed", "Inter-rater reliability second review recorded"
    # Grievances (the grievances app; 42 CFR 438.402, 438.408(b); H&S 1368)
    GRIEVANCE_FILED = "grievance.filed", "Grievance filed"
    GRIEVANCE_ACKNOWLEDGED = "grievance.acknowledged", "Grievance acknowledged"
    GRIEVANCE_RESOLVED = "grievance.resolved", "Grievance resolved"
    GRIEVANCE_WITHDRAWN = "grievance.withdrawn", "Grievance withdrawn"
    # The deadline engine: acknowledgement or resolution not sent in time; escalated.
    GRIEVANCE_ACK_OVERDUE = "grievance.ack_overdue", "Grievance acknowledgement overdue"
    GRIEVANCE_BREACHED = "grievance.breached", "Grievance resolution deadline missed"


class DomainEvent(models.Model):
    """Something that happened to a workflow record, as of the moment it happened: the payload
    carries what consumers need (ids, due times), so a consumer running minutes later acts
    on the change itself, not on whatever the record says by then."""

    kind = models.CharField(max_length=40, choices=EventKind.choices)
    subject_type = models.CharField(max_length=20, help_text="tar, appeal, p2p, imr or grievance")
    subject_id = models.BigIntegerField()
    # Empty only for a record about no request (a grievance about quality of care).
    tar = models.ForeignKey(
        "authorizations.Tar",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_role = models.CharField(max_length=20, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    # A consumer that failed: tried again from next_attempt_at with backoff (outbox).
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            # The outbox query reads only unprocessed events.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="event_unprocessed_idx",
                condition=Q(processed_at__isnull=True),
            ),
            models.Index(fields=["tar", "created_at"], name="event_tar_idx"),
            models.Index(fields=["kind", "created_at"], name="event_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject_type}:{self.subject_id}"


class EventConsumption(models.Model):
    """A consumer handled an event. Unique per (event, consumer): written in the consumer's
    own transaction with what it did, so a retried or overlapping run does it once."""

    event = models.ForeignKey(DomainEvent, on_delete=models.CASCADE, related_name="consumptions")
    consumer = models.CharField(max_length=40)
    consumed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "consumer"], name="event_consumed_once")
        ]
