"""Inter-rater reliability audits (seed 002 "Inter-Rater Reliability"; PRODUCT §10).

- `IrrAudit`: one a year; the seed of its random draw is recorded, so the draw can be redone.
- `IrrReviewerSample`: one per audited reviewer: their decisions in the year and the sample
  size (50 or 5 %, whichever is less, at least one).
- `IrrCase`: one sampled decision, re-reviewed blind by a second reviewer. A workflow record:
  its status changes only through the kernel (reports/machines.py), which writes the
  request's history and an event; it never changes the request.
- `CorrectiveActionPlan`: opened when a reviewer's agreement is below the target.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# 002: "A performance target of 90% accuracy is set for inter-rater reliability."
IRR_TARGET_PERCENT = 90
# 002: "50 cases or 5% of reviewer case load, whichever is less".
IRR_MAX_CASES = 50
IRR_SHARE_PERCENT = 5


class IrrAudit(models.Model):
    year = models.PositiveSmallIntegerField(unique=True)
    seed = models.BigIntegerField(
        help_text="The random draw's seed: the same seed draws the same cases."
    )
    target_percent = models.PositiveSmallIntegerField(default=IRR_TARGET_PERCENT)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="irr_audits_opened"
    )
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-year"]
        permissions = [
            (
                "view_program_reports",
                "Can read the program-oversight reports and IRR summaries (quality committee)",
            )
        ]

    def __str__(self) -> str:
        return f"IRR audit {self.year}"


class IrrReviewerSample(models.Model):
    audit = models.ForeignKey(IrrAudit, on_delete=models.PROTECT, related_name="samples")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewer_role = models.CharField(max_length=20)
    decisions_in_year = models.PositiveIntegerField()
    sample_size = models.PositiveIntegerField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["audit", "reviewer__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["audit", "reviewer"], name="irr_sample_once_per_reviewer"
            )
        ]


class IrrCaseStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned to a second reviewer"
    REVIEWED = "reviewed", "Second review recorded"


class IrrCase(models.Model):
    audit = models.ForeignKey(IrrAudit, on_delete=models.PROTECT, related_name="cases")
    sample = models.ForeignKey(IrrReviewerSample, on_delete=models.PROTECT, related_name="cases")
    reference = models.CharField(max_length=20, unique=True, help_text="IRR-YYYY-NNNN")
    tar = models.ForeignKey(
        "authorizations.Tar", on_delete=models.PROTECT, related_name="irr_cases"
    )
    decision = models.ForeignKey(
        "authorizations.Decision",
        on_delete=models.PROTECT,
        related_name="irr_cases",
        help_text="The original decision audited (never shown to the second reviewer).",
    )
    original_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    second_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="irr_cases_assigned"
    )
    status = models.CharField(
        max_length=20, choices=IrrCaseStatus.choices, default=IrrCaseStatus.ASSIGNED
    )
    # The criteria set of the case's first line with one, for the per-set summary.
    criteria_set = models.CharField(max_length=40, blank=True)
    line_outcomes = models.JSONField(default=list, blank=True)
    criteria_not_met = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    agrees = models.BooleanField(null=True, blank=True)
    disagreement = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["reference"]
        constraints = [
            models.UniqueConstraint(
                fields=["audit", "decision"], name="irr_case_once_per_decision"
            ),
            models.CheckConstraint(
                name="irr_case_not_self_reviewed",
                condition=~Q(second_reviewer=models.F("original_reviewer")),
            ),
        ]
        indexes = [models.Index(fields=["second_reviewer", "status"], name="irr_case_queue_idx")]

    def __str__(self) -> str:
        return self.reference


class CorrectiveActionPlan(models.Model):
    """002: "If a reviewer falls below the targeted threshold, a corrective action plan is
    initiated and monitored and results are presented to the Q/UAC"."""

    audit = models.ForeignKey(IrrAudit, on_delete=models.PROTECT, related_name="action_plans")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    score_percent = models.DecimalField(max_digits=4, decimal_places=1)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actions = models.TextField()
    due_date = models.DateField()
    re_audit_date = models.DateField()
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["audit", "reviewer__username"]
        constraints = [
            models.UniqueConstraint(fields=["audit", "reviewer"], name="irr_plan_once_per_reviewer")
        ]


# --- pre-aggregates of the figures (issue 13: the dashboard and CMS metrics at 1M requests) ---
# Maintained by reports.aggregates from the event outbox and rebuilt by
# `manage.py rebuild_report_aggregates`; never written by hand.


class DecisionFact(models.Model):
    """One row per request with a first decision: what every decision figure reads of it, as
    of that first decision (PRODUCT §10: a later decision on appeal or IMR is not a
    determination of its own). Recomputed from the request's own rows, so a re-delivered
    event writes the same row again."""

    # No database constraints on these keys: the rows are derived and rebuilt by TRUNCATE,
    # which a deferred foreign-key check inside the same transaction would refuse.
    tar = models.OneToOneField(
        "authorizations.Tar",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    decided_at = models.DateTimeField()
    day = models.DateField(help_text="The first decision's day, Pacific time.")
    year = models.PositiveSmallIntegerField(help_text="The first decision's year, Pacific.")
    request_type = models.CharField(max_length=20)
    urgency = models.CharField(max_length=20)
    organization = models.ForeignKey(
        "authorizations.ProviderOrganization",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    outcome = models.CharField(max_length=20)
    reason_code = models.CharField(max_length=40)
    automated = models.BooleanField()
    on_time = models.BooleanField(help_text="Decided by the decision deadline.")
    extended = models.BooleanField(help_text="The decision deadline was extended.")
    # A CMS-0057-F determination (PRODUCT §10): prior-authorization type, and an approval,
    # modification, denial or denying closure.
    cms_determination = models.BooleanField()
    decision_microseconds = models.BigIntegerField(
        help_text="received_at to the first decision, exactly (for the exact median)."
    )

    class Meta:
        indexes = [
            models.Index(fields=["day"], name="report_fact_day_idx"),
            # The CMS medians: ORDER BY … OFFSET over one year and urgency, index only.
            models.Index(
                fields=["year", "urgency", "decision_microseconds"],
                name="report_fact_median_idx",
                condition=Q(cms_determination=True),
            ),
        ]


class AggregateGrain(models.TextChoices):
    KIND = "kind", "Request type, urgency and organization"
    FAMILY = "family", "Procedure family"
    REVIEWER = "reviewer", "Reviewer"


class DailyDecisions(models.Model):
    """First decisions of one Pacific day, counted by one grain of dimensions: by request
    type × urgency × organization (`kind`), by procedure family (`family`: a request counts
    once in each family of its lines) or by reviewer (`reviewer`). Sums of these rows over a
    period give the same figures as the from-scratch SQL over the decisions."""

    day = models.DateField()
    grain = models.CharField(max_length=10, choices=AggregateGrain.choices)
    request_type = models.CharField(max_length=20, blank=True)
    urgency = models.CharField(max_length=20, blank=True)
    organization = models.ForeignKey(
        "authorizations.ProviderOrganization",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    family = models.CharField(max_length=40, null=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    decided = models.PositiveIntegerField()
    on_time = models.PositiveIntegerField()
    extended = models.PositiveIntegerField()
    determined = models.PositiveIntegerField(help_text="Decisions that decided the service.")
    determined_microseconds = models.BigIntegerField(
        help_text="Sum of received-to-decision times of the determinations."
    )
    extended_approved = models.PositiveIntegerField()
    approved = models.PositiveIntegerField()
    auto_approved = models.PositiveIntegerField()
    modified = models.PositiveIntegerField()
    denied_medical = models.PositiveIntegerField()
    denied_other = models.PositiveIntegerField()
    not_eligible = models.PositiveIntegerField()
    not_a_benefit = models.PositiveIntegerField()
    duplicate = models.PositiveIntegerField()
    no_auth = models.PositiveIntegerField()
    adverse = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["grain", "day"], name="report_daily_grain_day_idx")]


class DailyAppeals(models.Model):
    """Appeals resolved on one Pacific day, by the request's type and urgency: what the
    dashboard's appeal figures and the CMS "approved after appeal" item sum (PRODUCT §10)."""

    day = models.DateField()
    request_type = models.CharField(max_length=20)
    urgency = models.CharField(max_length=20)
    resolved = models.PositiveIntegerField()
    overturned = models.PositiveIntegerField(help_text="Overturned in full or in part.")
    upheld = models.PositiveIntegerField()
    on_time = models.PositiveIntegerField(help_text="Resolved by the resolution deadline.")

    class Meta:
        indexes = [models.Index(fields=["day"], name="report_appeals_day_idx")]


class DailyNotices(models.Model):
    """Notices with a clock of their own due on one Pacific day, by the request's type and
    urgency and the notice's audience: what the notice timeliness of the dashboard and of the
    timeliness report sums (PRODUCT §4, §7, §10). Recomputed from the notices of the day after
    every event that creates or sends one (reports.aggregates)."""

    day = models.DateField(help_text="The notice's due day, Pacific time.")
    request_type = models.CharField(max_length=20)
    urgency = models.CharField(max_length=20)
    audience = models.CharField(max_length=10)
    due = models.PositiveIntegerField()
    on_time = models.PositiveIntegerField(help_text="Sent by the notice's deadline.")
    late = models.PositiveIntegerField(help_text="Sent after the notice's deadline.")
    unsent = models.PositiveIntegerField(help_text="Not sent yet.")

    class Meta:
        indexes = [models.Index(fields=["day"], name="report_notices_day_idx")]


class RequestFact(models.Model):
    """One row per request: what the received, late-submission, pend and breach figures read
    of it (PRODUCT §10). Recomputed from the request's own rows after each of its events."""

    tar = models.OneToOneField(
        "authorizations.Tar",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    received_day = models.DateField(help_text="The request's receipt day, Pacific time.")
    request_type = models.CharField(max_length=20)
    late_submission = models.BooleanField()
    late_submission_rule = models.CharField(max_length=60)
    information_requests = models.PositiveIntegerField()
    breach_day = models.DateField(null=True, help_text="The missed deadline's day, Pacific.")
    breach_urgent = models.BooleanField(default=False)
    breach_open = models.BooleanField(default=False, help_text="Breached and still open.")

    class Meta:
        indexes = [
            models.Index(fields=["received_day"], name="report_request_received_idx"),
            models.Index(fields=["breach_day"], name="report_request_breach_idx"),
        ]


class DailyReceived(models.Model):
    """Requests received on one Pacific day, by request type and late-submission rule: the
    late submissions and the pend rate (reports.figures late_submissions, pends)."""

    day = models.DateField()
    request_type = models.CharField(max_length=20)
    late_submission = models.BooleanField()
    late_submission_rule = models.CharField(max_length=60)
    received = models.PositiveIntegerField()
    pended = models.PositiveIntegerField(help_text="With at least one information request.")
    # reports.figures.pends counts a request once per information request (its LEFT JOIN).
    received_rows = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="report_received_day_idx")]


class DailyBreaches(models.Model):
    """Decision deadlines missed on one Pacific day (reports.figures.breaches)."""

    day = models.DateField()
    breached = models.PositiveIntegerField()
    urgent = models.PositiveIntegerField()
    still_open = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="report_breaches_day_idx")]


class DailyInformationRequests(models.Model):
    """Information requests made on one Pacific day: answered, and their summed answer time
    (an interval, so the mean is the database's own interval division, as AVG gives)."""

    day = models.DateField()
    requests = models.PositiveIntegerField()
    answered = models.PositiveIntegerField()
    answer_total = models.DurationField(null=True)

    class Meta:
        indexes = [models.Index(fields=["day"], name="report_pends_day_idx")]
