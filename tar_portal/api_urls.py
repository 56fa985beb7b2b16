from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.api import TokenApi
from authorizations import api as tars
from authorizations.clock_api import ClockPreviewApi
from criteria.api import CoverageRequirementsApi, CriteriaEvaluateApi, CriteriaSetListApi
from members.api import MemberDetailApi, MemberListApi

urlpatterns = [
    path("auth/token/", TokenApi.as_view(), name="api-token"),
    path("members/", MemberListApi.as_view(), name="api-members"),
    path("members/<str:cin>/", MemberDetailApi.as_view(), name="api-member"),
    path("providers/", tars.ProviderListApi.as_view(), name="api-providers"),
    path("providers/<str:npi>/", tars.ProviderDetailApi.as_view(), name="api-provider"),
    path("referrals/", tars.ReferralListCreateApi.as_view(), name="api-referrals"),
    path("referrals/<int:referral_id>/", tars.ReferralDetailApi.as_view(), name="api-referral"),
    path("tars/", tars.TarListCreateApi.as_view(), name="api-tars"),
    path("tars/<int:tar_id>/", tars.TarDetailApi.as_view(), name="api-tar"),
    path("tars/<int:tar_id>/history", tars.TarHistoryApi.as_view(), name="api-tar-history"),
    path("tars/<int:tar_id>/claim", tars.TarClaimApi.as_view(), name="api-tar-claim"),
    path("tars/<int:tar_id>/release", tars.TarReleaseApi.as_view(), name="api-tar-release"),
    path("tars/<int:tar_id>/refer", tars.TarReferApi.as_view(), name="api-tar-refer"),
    path(
        "tars/<int:tar_id>/request-info",
        tars.TarRequestInfoApi.as_view(),
        name="api-tar-request-info",
    ),
    path("tars/<int:tar_id>/respond", tars.TarRespondApi.as_view(), name="api-tar-respond"),
    path("tars/<int:tar_id>/withdraw", tars.TarWithdrawApi.as_view(), name="api-tar-withdraw"),
    path("tars/<int:tar_id>/decision", tars.TarDecisionApi.as_view(), name="api-tar-decision"),
    path("tars/<int:tar_id>/extend", tars.TarExtendApi.as_view(), name="api-tar-extend"),
    path(
        "tars/<int:tar_id>/attachments",
        tars.TarAttachmentsApi.as_view(),
        name="api-tar-attachments",
    ),
    path(
        "attachments/<int:attachment_id>/download",
        tars.AttachmentDownloadApi.as_view(),
        name="api-attachment-download",
    ),
    path("clock/preview", ClockPreviewApi.as_view(), name="api-clock-preview"),
    path(
        "coverage-requirements",
        CoverageRequirementsApi.as_view(),
        name="api-coverage-requirements",
    ),
    path("criteria/evaluate", CriteriaEvaluateApi.as_view(), name="api-criteria-evaluate"),
    path("criteria/sets", CriteriaSetListApi.as_view(), name="api-criteria-sets"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
