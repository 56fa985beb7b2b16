"""Rebuild the figures' pre-aggregates from every decision on record (reports.aggregates).

The outbox keeps them current as decisions are made; a bulk load (the demo history, the
benchmark) writes decisions without events, so it is followed by this command."""

import time

from django.core.management.base import BaseCommand

from reports.aggregates import rebuild


class Command(BaseCommand):
    help = "Rebuild the report pre-aggregates (decision facts and daily rows) from scratch."

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        facts, daily = rebuild()
        self.stdout.write(
            self.style.SUCCESS(
                f"Report aggregates rebuilt: {facts} decision facts, {daily} daily rows "
                f"({time.monotonic() - started:.1f} s)."
            )
        )
