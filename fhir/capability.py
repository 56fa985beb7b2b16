"""`GET /fhir/metadata`: the CapabilityStatement, naming exactly what this server serves
(PRODUCT §11). Each line below is a route in fhir/urls.py; tests/fhir/test_pas_metadata.py
checks that every operation and interaction named here answers, and nothing else is named."""

from __future__ import annotations

from django.conf import settings

from fhir.responses import fhir_base

PAS_IG = "http://hl7.org/fhir/us/davinci-pas/ImplementationGuide/hl7.fhir.us.davinci-pas"
PAS_SERVER = "http://hl7.org/fhir/us/davinci-pas/CapabilityStatement/IntermediaryCapabilities"
SUBMIT = "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-submit"
INQUIRE = "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-inquiry"
QUESTIONNAIRE_PACKAGE = (
    "http://hl7.org/fhir/us/davinci-dtr/OperationDefinition/Questionnaire-questionnaire-package"
)
PAS_SUBSCRIPTION_TOPIC = "http://hl7.org/fhir/us/davinci-pas/SubscriptionTopic/PASSubscriptionTopic"
BACKPORT_SUBSCRIPTION = (
    "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription"
)


def capability_statement() -> dict:
    base = fhir_base()
    portal = settings.PORTAL_BASE_URL.rstrip("/")
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-01",
        "publisher": settings.PLAN_NAME,
        "kind": "instance",
        "implementation": {"description": "TAR Portal prior-authorization API", "url": base},
        "software": {"name": "TAR Portal"},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "implementationGuide": [PAS_IG + "|2.2.1"],
        "instantiates": [PAS_SERVER + "|2.2.1"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": "Authorization: Bearer <token>: a TAR Portal API token of a "
                    "provider-office user, or a SMART Backend Services access token "
                    f"(client credentials, private_key_jwt) from {portal}/oauth/token; "
                    f"configuration at {portal}/.well-known/smart-configuration.",
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/"
                            "oauth-uris",
                            "extension": [{"url": "token", "valueUri": f"{portal}/oauth/token"}],
                        }
                    ],
                },
                "resource": [
                    {
                        "type": "Claim",
                        "supportedProfile": [
                            "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-claim",
                            "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
                            "profile-claim-update",
                            "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
                            "profile-claim-inquiry",
                        ],
                        "operation": [
                            {"name": "submit", "definition": SUBMIT},
                            {"name": "inquire", "definition": INQUIRE},
                        ],
                    },
                    {
                        "type": "Subscription",
                        "supportedProfile": [BACKPORT_SUBSCRIPTION],
                        "interaction": [
                            {"code": "create"},
                            {"code": "read"},
                            {"code": "delete"},
                            {"code": "search-type"},
                        ],
                        # Instance level: GET Subscription/{id}/$status (issue 14).
                        "operation": [
                            {
                                "name": "status",
                                "definition": "http://hl7.org/fhir/uv/subscriptions-backport/"
                                "OperationDefinition/backport-subscription-status",
                            }
                        ],
                        "extension": [
                            {
                                "url": "http://hl7.org/fhir/uv/subscriptions-backport/"
                                "StructureDefinition/capabilitystatement-subscriptiontopic-"
                                "canonical",
                                "valueCanonical": PAS_SUBSCRIPTION_TOPIC,
                            }
                        ],
                    },
                    {
                        "type": "Questionnaire",
                        "operation": [
                            {"name": "questionnaire-package", "definition": QUESTIONNAIRE_PACKAGE}
                        ],
                    },
                ],
            }
        ],
    }
