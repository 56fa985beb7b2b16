from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from authorizations.workflow import outbox
        from notifications.appeal_letters import APPEAL_LETTER_EVENTS, appeal_letters_for_event
        from notifications.grievance_letters import grievance_letters_for_event
        from notifications.policy import GRIEVANCE_LETTER_EVENTS, POLICY
        from notifications.services import notices_for_event, notices_for_events

        # The notices owed by workflow events (notifications.policy), after commit.
        outbox.register("notices", notices_for_event, kinds=POLICY, handle_batch=notices_for_events)
        # Grievance letters (notifications.grievance_letters; H&S 1368(a)(4)-(5)).
        outbox.register(
            "grievance_letters", grievance_letters_for_event, kinds=GRIEVANCE_LETTER_EVENTS
        )
        # The appeal acknowledgement (notifications.appeal_letters; 28 CCR 1300.68(d)(1)).
        outbox.register("appeal_letters", appeal_letters_for_event, kinds=APPEAL_LETTER_EVENTS)
