from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from accounts.api import TokenApi
from authorizations import api as tars
from authorizations.clock_api import ClockPreviewApi
from authorizations.concurrent_api import TarOralNoticeApi, TarReduceServicesApi
from authorizations.coverage_api import CoverageRequirementsApi, CriteriaEvaluateApi
from authorizations.member_api import MemberDetailApi, MemberListApi
from criteria.api import CriteriaSetListApi, QuestionnaireApi
from grievances import api as grievances
from notifications import api as letters

_docs_csp = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})

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
    path("tars/<int:tar_id>/oral-notices", TarOralNoticeApi.as_view(), name="api-tar-oral-notices"),
    path(
        "tars/<int:tar_id>/reduce-services",
        TarReduceServicesApi.as_view(),
        name="api-tar-reduce-services",
    ),
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
    # Grievances (42 CFR 438.402; H&S 1368)
    path("grievances/", grievances.GrievanceListCreateApi.as_view(), name="api-grievances"),
    path(
        "grievances/<int:grievance_id>/",
        grievances.GrievanceDetailApi.as_view(),
        name="api-grievance",
    ),
    path(
        "grievances/<int:grievance_id>/acknowledge",
        grievances.GrievanceAcknowledgeApi.as_view(),
        name="api-grievance-acknowledge",
    ),
    path(
        "grievances/<int:grievance_id>/resolve",
        grievances.GrievanceResolveApi.as_view(),
        name="api-grievance-resolve",
    ),
    path(
        "grievances/<int:grievance_id>/withdraw",
        grievances.GrievanceWithdrawApi.as_view(),
        name="api-grievance-withdraw",
    ),
    path("clock/preview", ClockPreviewApi.as_view(), name="api-clock-preview"),
    path(
        "coverage-requirements",
        CoverageRequirementsApi.as_view(),
        name="api-coverage-requirements",
    ),
    path("criteria/evaluate", CriteriaEvaluateApi.as_view(), name="api-criteria-evaluate"),
    path("criteria/sets", CriteriaSetListApi.as_view(), name="api-criteria-sets"),
    path("criteria/questionnaire", QuestionnaireApi.as_view(), name="api-criteria-questionnaire"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split Swagger view serves its start-up script as a file: no inline script (CSP).
    # Both docs renderers set inline styles, allowed on these two pages only (no PHI here).
    path(
        "docs/",
        _docs_csp(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path(
        "redoc/",
        _docs_csp(SpectacularRedocView.as_view(url_name="api-schema")),
        name="api-redoc",
    ),
]

# Letters and criteria copies (notifications).
urlpatterns += [
    path("tars/<int:tar_id>/letters", letters.TarLettersApi.as_view(), name="api-tar-letters"),
    path(
        "letters/<int:letter_id>/download",
        letters.LetterDownloadApi.as_view(),
        name="api-letter-download",
    ),
    path(
        "tars/<int:tar_id>/criteria-copy",
        letters.TarCriteriaCopyApi.as_view(),
        name="api-tar-criteria-copy",
    ),
]

# Appeals, peer-to-peer talks and independent medical review (appeals.api).
from appeals import api as appeals  # noqa: E402

urlpatterns += [
    path("tars/<int:tar_id>/appeals", appeals.TarAppealsApi.as_view(), name="api-tar-appeals"),
    path("appeals/", appeals.AppealListApi.as_view(), name="api-appeals"),
    path("appeals/<int:appeal_id>/", appeals.AppealDetailApi.as_view(), name="api-appeal"),
    path(
        "appeals/<int:appeal_id>/extend",
        appeals.AppealExtendApi.as_view(),
        name="api-appeal-extend",
    ),
    path(
        "appeals/<int:appeal_id>/decide",
        appeals.AppealDecideApi.as_view(),
        name="api-appeal-decide",
    ),
    path(
        "appeals/<int:appeal_id>/downgrade",
        appeals.AppealDowngradeApi.as_view(),
        name="api-appeal-downgrade",
    ),
    path(
        "appeals/<int:appeal_id>/oral-notices",
        appeals.AppealOralNoticeApi.as_view(),
        name="api-appeal-oral-notices",
    ),
    path(
        "appeals/<int:appeal_id>/withdraw",
        appeals.AppealWithdrawApi.as_view(),
        name="api-appeal-withdraw",
    ),
    path(
        "tars/<int:tar_id>/peer-to-peer",
        appeals.TarPeerToPeerApi.as_view(),
        name="api-tar-peer-to-peer",
    ),
    path("peer-to-peer/", appeals.PeerToPeerListApi.as_view(), name="api-peer-to-peers"),
    path(
        "peer-to-peer/<int:p2p_id>/",
        appeals.PeerToPeerDetailApi.as_view(),
        name="api-peer-to-peer",
    ),
    path(
        "peer-to-peer/<int:p2p_id>/schedule",
        appeals.PeerToPeerScheduleApi.as_view(),
        name="api-peer-to-peer-schedule",
    ),
    path(
        "peer-to-peer/<int:p2p_id>/outcome",
        appeals.PeerToPeerOutcomeApi.as_view(),
        name="api-peer-to-peer-outcome",
    ),
    path(
        "peer-to-peer/<int:p2p_id>/link",
        appeals.PeerToPeerLinkApi.as_view(),
        name="api-peer-to-peer-link",
    ),
    path(
        "peer-to-peer/<int:p2p_id>/cancel",
        appeals.PeerToPeerCancelApi.as_view(),
        name="api-peer-to-peer-cancel",
    ),
    path("tars/<int:tar_id>/imr", appeals.TarImrApi.as_view(), name="api-tar-imr"),
    path("imr/", appeals.ImrListApi.as_view(), name="api-imrs"),
    path("imr/<int:imr_id>/", appeals.ImrDetailApi.as_view(), name="api-imr"),
    path("imr/<int:imr_id>/packet", appeals.ImrPacketApi.as_view(), name="api-imr-packet"),
    path("imr/<int:imr_id>/extend", appeals.ImrExtendApi.as_view(), name="api-imr-extend"),
    path(
        "imr/<int:imr_id>/determination",
        appeals.ImrDeterminationApi.as_view(),
        name="api-imr-determination",
    ),
    path(
        "imr/<int:imr_id>/final-decision",
        appeals.ImrFinalDecisionApi.as_view(),
        name="api-imr-final-decision",
    ),
    path("imr/<int:imr_id>/withdraw", appeals.ImrWithdrawApi.as_view(), name="api-imr-withdraw"),
]

# Program oversight: the public CMS-0057-F metrics and the IRR second review (reports.api).
from reports import api as reports  # noqa: E402

urlpatterns += [
    path(
        "reports/prior-authorization-metrics",
        reports.PriorAuthorizationMetricsApi.as_view(),
        name="api-prior-authorization-metrics",
    ),
    path("irr/cases/", reports.IrrCaseListApi.as_view(), name="api-irr-cases"),
    path("irr/cases/<int:case_id>/", reports.IrrCaseDetailApi.as_view(), name="api-irr-case"),
    path(
        "irr/cases/<int:case_id>/review",
        reports.IrrCaseReviewApi.as_view(),
        name="api-irr-case-review",
    ),
]
