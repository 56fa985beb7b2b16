"""A year of decided requests and a finished IRR audit for the demo (PRODUCT §10; issue 13).

Run by seed_demo after the demo world; idempotent (a second run finds the history and stops).
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import Role, User
from authorizations.models import HistoryEntry
from reports import irr
from reports.aggregates import rebuild
from reports.models import IrrAudit, IrrCaseStatus
from reports.periods import pacific_today
from reports.synthetic import MARKER, generate_demo_history

# The demo's IRR audit: one reviewer (nurse2) disagrees on every third case, so the summary
# shows a reviewer under the 90 % target with a corrective action plan.
WEAK_REVIEWER = "nurse2"


class Command(BaseCommand):
    help = "Write a year of demo history (bulk) and a finished IRR audit. Demo only."

    def handle(self, *args, **options) -> None:
        if getattr(settings, "IS_PRODUCTION", False):
            raise CommandError("seed_report_history refuses to run with production settings.")
        if HistoryEntry.objects.filter(reason=MARKER).exists():
            self.stdout.write("Demo report history already present.")
            return
        started = time.monotonic()
        now = timezone.now()
        made = generate_demo_history(now=now)
        audit = self._irr_audit(now)
        # The bulk history wrote decisions without events: rebuild the figures' aggregates.
        facts, _daily = rebuild()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo report history: {made.tars} requests, {made.decisions} decisions, "
                f"{made.notices} notices, {made.appeals} appeals, {made.imr} IMR cases; "
                f"IRR audit {audit.year if audit else '-'}; {facts} decision facts "
                f"({time.monotonic() - started:.1f} s)."
            )
        )

    def _irr_audit(self, now) -> IrrAudit | None:
        manager = User.objects.filter(role=Role.MANAGER, is_active=True).order_by("pk").first()
        if manager is None:
            return None
        # The year holding most of the generated history.
        year = pacific_today(now - timedelta(days=182)).year
        if IrrAudit.objects.filter(year=year).exists():
            return None
        audit = irr.irr_audit_open(year=year, user=manager, seed=20260101, now=now)
        cases = audit.cases.select_related("decision", "second_reviewer", "original_reviewer")
        for n, case in enumerate(cases.filter(status=IrrCaseStatus.ASSIGNED).order_by("pk")):
            lines = [
                irr.LineReview(int(r["line_number"]), r["outcome"])
                for r in case.decision.line_outcomes
            ]
            refs = [r["ref"] for r in case.decision.criteria_refs]
            if case.original_reviewer.username == WEAK_REVIEWER and n % 3 == 0:
                other = "denied" if lines[0].outcome != "denied" else "approved"
                lines = [irr.LineReview(lines[0].line_number, other)]
            irr.irr_review(
                case_id=case.pk,
                user=case.second_reviewer,
                lines=lines,
                criteria_not_met=refs,
                comment="Demo second review.",
                now=now,
            )
        return audit
