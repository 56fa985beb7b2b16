from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from authorizations.workflow import outbox
        from notifications.policy import POLICY
        from notifications.services import notices_for_event, notices_for_events

        # The notices owed by workflow events (notifications.policy), after commit.
        outbox.register("notices", notices_for_event, kinds=POLICY, handle_batch=notices_for_events)
