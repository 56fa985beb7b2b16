from django.urls import path

from fhir import auth_views, hook_views, views

app_name = "fhir"

urlpatterns: list = [
    # Da Vinci PAS (PRODUCT §11).
    path("fhir/metadata", views.MetadataView.as_view(), name="metadata"),
    path("fhir/Claim/$submit", views.ClaimSubmitView.as_view(), name="claim-submit"),
    path("fhir/Claim/$inquire", views.ClaimInquireView.as_view(), name="claim-inquire"),
    # fhir-auth: SMART Backend Services, subscriptions, CRD and DTR (PRODUCT §11).
    path("oauth/token", auth_views.token, name="oauth-token"),
    path(
        ".well-known/smart-configuration",
        auth_views.smart_configuration,
        name="smart-configuration",
    ),
    path(
        "fhir/.well-known/smart-configuration",
        auth_views.smart_configuration,
        name="fhir-smart-configuration",
    ),
    path("fhir/Subscription", auth_views.subscription_collection, name="subscription-list"),
    path("fhir/Subscription/<int:pk>", auth_views.subscription_detail, name="subscription-detail"),
    path(
        "fhir/Subscription/<int:pk>/$status",
        auth_views.subscription_status,
        name="subscription-status",
    ),
    path("cds-services", hook_views.discovery, name="cds-discovery"),
    path("cds-services/<str:service_id>", hook_views.service, name="cds-service"),
    path(
        "fhir/Questionnaire/$questionnaire-package",
        hook_views.questionnaire_package,
        name="questionnaire-package",
    ),
]
