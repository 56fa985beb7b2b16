from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AuthorizationsConfig(AppConfig):
    name = "authorizations"

    def ready(self) -> None:
        from authorizations.calendar import CALENDAR_MODELS, calendar_changed
        from authorizations.deadlines import escalations_notify, escalations_notify_batch
        from authorizations.models import EventKind
        from authorizations.workflow import outbox

        # A missed decision deadline is escalated to the UM manager and the physicians.
        outbox.register(
            "escalations",
            escalations_notify,
            kinds=[EventKind.TAR_BREACHED],
            handle_batch=escalations_notify_batch,
        )

        # Any edit of the business calendar bumps its cache version (authorizations.calendar).
        for model in CALENDAR_MODELS:
            post_save.connect(calendar_changed, sender=model, dispatch_uid=f"calendar-{model}")
            post_delete.connect(calendar_changed, sender=model, dispatch_uid=f"calendar-d-{model}")
