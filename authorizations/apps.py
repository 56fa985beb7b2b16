from django.apps import AppConfig


class AuthorizationsConfig(AppConfig):
    name = "authorizations"

    def ready(self) -> None:
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
