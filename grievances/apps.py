from django.apps import AppConfig


class GrievancesConfig(AppConfig):
    """Grievances: a member's expression of dissatisfaction, with their acknowledgement and
    resolution clocks (42 CFR 438.402, 438.408; H&S 1368; PRODUCT §4)."""

    name = "grievances"

    def ready(self) -> None:
        from authorizations.models import EventKind
        from authorizations.workflow import outbox
        from grievances.sweep import grievance_escalations_notify

        outbox.register(
            "grievance_escalations",
            grievance_escalations_notify,
            kinds=[EventKind.GRIEVANCE_ACK_OVERDUE, EventKind.GRIEVANCE_BREACHED],
        )
