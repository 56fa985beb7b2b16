from django.urls import path

from fhir import views

app_name = "fhir"

urlpatterns: list = [
    # Da Vinci PAS (PRODUCT §11).
    path("fhir/metadata", views.MetadataView.as_view(), name="metadata"),
    path("fhir/Claim/$submit", views.ClaimSubmitView.as_view(), name="claim-submit"),
    path("fhir/Claim/$inquire", views.ClaimInquireView.as_view(), name="claim-inquire"),
]
