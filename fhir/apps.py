from django.apps import AppConfig


class FhirConfig(AppConfig):
    """The FHIR face of the workflow: Da Vinci PAS $submit/$inquire, subscriptions, CRD and
    DTR, SMART backend authorization (CMS-0057-F; PRODUCT §11)."""

    name = "fhir"
    verbose_name = "FHIR prior-authorization API"
