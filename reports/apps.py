from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Program oversight: the UM manager's dashboard, timeliness and outcome reports, the public
    CMS-0057-F metrics and inter-rater reliability audits (PRODUCT §10; seed 002)."""

    name = "reports"

    def ready(self) -> None:
        from authorizations.workflow import outbox
        from reports.aggregates import (
            CONSUMER,
            CONSUMER_KINDS,
            aggregates_for_event,
            aggregates_for_events,
        )

        # The figures' pre-aggregates follow every decision and notice, after commit (issue 13).
        outbox.register(
            CONSUMER,
            aggregates_for_event,
            kinds=CONSUMER_KINDS,  # every kind
            handle_batch=aggregates_for_events,
        )
