from django.apps import AppConfig


class FhirConfig(AppConfig):
    """The FHIR face of the workflow: Da Vinci PAS $submit/$inquire, subscriptions, CRD and
    DTR, SMART backend authorization (CMS-0057-F; PRODUCT §11)."""

    name = "fhir"
    verbose_name = "FHIR prior-authorization API"

    def ready(self) -> None:
        from authorizations.workflow.outbox import register
        from fhir.subscriptions import CONSUMER, NOTIFIED_KINDS
        from fhir.tasks import subscriptions_on_event

        # PRODUCT §11: a notification on each decision or pend, exactly once per event.
        register(CONSUMER, subscriptions_on_event, NOTIFIED_KINDS)
