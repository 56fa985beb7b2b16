from django.urls import include, path

from portal.views import (
    accounts,
    common,
    grievances,
    imr,
    intake,
    member,
    member_appeals,
    member_services,
    notice_calls,
    physician,
    physician_appeals,
    provider,
    provider_appeals,
    review,
)

app_name = "portal"

urlpatterns = [
    path("", common.home, name="home"),
    # grievances (member, member services, grievance coordinator)
    path("grievances/", grievances.grievance_list, name="grievances"),
    path("grievances/new", grievances.grievance_new, name="grievance-new"),
    path("grievances/<int:grievance_id>/", grievances.grievance_detail, name="grievance"),
    path(
        "grievances/<int:grievance_id>/acknowledge",
        grievances.grievance_acknowledge,
        name="grievance-acknowledge",
    ),
    path(
        "grievances/<int:grievance_id>/resolve",
        grievances.grievance_resolve,
        name="grievance-resolve",
    ),
    path(
        "grievances/<int:grievance_id>/withdraw",
        grievances.grievance_withdraw,
        name="grievance-withdraw",
    ),
    path("accounts/login/", accounts.login_view, name="login"),
    path("accounts/logout/", accounts.logout_view, name="logout"),
    path("accounts/verify/", accounts.otp_verify_view, name="otp-verify"),
    path("accounts/two-step/", accounts.otp_enrol_view, name="otp-enrol"),
    path("accounts/", accounts.account_view, name="account"),
    path("i18n/", include("django.conf.urls.i18n")),
    # provider
    path("provider/", provider.dashboard, name="provider-dashboard"),
    path("provider/drafts/new", provider.draft_new, name="draft-new"),
    path("provider/drafts/<int:draft_id>/delete", provider.draft_delete, name="draft-delete"),
    path("provider/drafts/<int:draft_id>/submit", provider.draft_submit, name="draft-submit"),
    path("provider/drafts/<int:draft_id>/<slug:step>", provider.draft_step, name="draft-step"),
    path("provider/tars/<int:tar_id>/", provider.tar_detail, name="provider-tar"),
    path(
        "provider/tars/<int:tar_id>/submitted",
        provider.tar_submitted,
        name="provider-tar-submitted",
    ),
    path("provider/tars/<int:tar_id>/respond", provider.tar_respond, name="provider-tar-respond"),
    path(
        "provider/tars/<int:tar_id>/documents",
        provider.tar_document_add,
        name="provider-tar-documents",
    ),
    path(
        "provider/tars/<int:tar_id>/appeal", provider_appeals.appeal_new, name="provider-appeal-new"
    ),
    path(
        "provider/tars/<int:tar_id>/peer-to-peer",
        provider_appeals.peer_to_peer_new,
        name="provider-peer-to-peer-new",
    ),
    path(
        "provider/tars/<int:tar_id>/withdraw", provider_appeals.withdraw, name="provider-withdraw"
    ),
    path(
        "provider/peer-to-peer/<int:p2p_id>/cancel",
        provider_appeals.peer_to_peer_cancel,
        name="provider-peer-to-peer-cancel",
    ),
    path("provider/appeals/", provider_appeals.appeal_list, name="provider-appeals"),
    path("provider/referrals/", provider.referral_list, name="provider-referrals"),
    path("provider/diagnoses", provider.diagnosis_lookup, name="provider-diagnosis-lookup"),
    path("provider/referrals/new", provider.referral_new, name="provider-referral-new"),
    # nurse (and read-only plan staff)
    path("review/", review.queue, name="review-queue"),
    path("review/tars/<int:tar_id>/", review.review, name="review-tar"),
    path("review/bulk", review.bulk, name="review-bulk"),
    path(
        "review/attachments/<int:attachment_id>/preview",
        review.attachment_preview,
        name="attachment-preview",
    ),
    path("review/tars/<int:tar_id>/claim", review.claim, name="review-claim"),
    path("review/tars/<int:tar_id>/release", review.release, name="review-release"),
    path("review/tars/<int:tar_id>/approve", review.approve, name="review-approve"),
    path("review/tars/<int:tar_id>/request-info", review.request_info, name="review-request-info"),
    path("review/tars/<int:tar_id>/extend", review.extend, name="review-extend"),
    path("review/tars/<int:tar_id>/refer", review.refer, name="review-refer"),
    path("review/tars/<int:tar_id>/close", review.close, name="review-close"),
    path(
        "review/tars/<int:tar_id>/oral-notice",
        notice_calls.tar_oral_notice,
        name="tar-oral-notice",
    ),
    path(
        "physician/tars/<int:tar_id>/reduce",
        notice_calls.tar_reduce_services,
        name="physician-reduce-services",
    ),
    path(
        "physician/appeals/<int:appeal_id>/downgrade",
        notice_calls.appeal_downgrade,
        name="physician-appeal-downgrade",
    ),
    path(
        "physician/appeals/<int:appeal_id>/oral-notice",
        notice_calls.appeal_oral_notice,
        name="physician-appeal-oral-notice",
    ),
    # physician
    path("physician/", physician.queue, name="physician-queue"),
    path("physician/tars/<int:tar_id>/", physician.decide, name="physician-tar"),
    path(
        "physician/tars/<int:tar_id>/imr", physician_appeals.imr_refer, name="physician-imr-refer"
    ),
    path("physician/appeals/", physician_appeals.appeal_queue, name="physician-appeals"),
    path(
        "physician/appeals/<int:appeal_id>/",
        physician_appeals.appeal_decide,
        name="physician-appeal",
    ),
    path(
        "physician/appeals/<int:appeal_id>/extend",
        physician_appeals.appeal_extend,
        name="physician-appeal-extend",
    ),
    path(
        "physician/peer-to-peer/",
        physician_appeals.peer_to_peer_list,
        name="physician-peer-to-peer-list",
    ),
    path(
        "physician/peer-to-peer/<int:p2p_id>/",
        physician_appeals.peer_to_peer_detail,
        name="physician-peer-to-peer",
    ),
    path(
        "physician/peer-to-peer/<int:p2p_id>/schedule",
        physician_appeals.peer_to_peer_schedule,
        name="physician-peer-to-peer-schedule",
    ),
    path(
        "physician/peer-to-peer/<int:p2p_id>/outcome",
        physician_appeals.peer_to_peer_outcome,
        name="physician-peer-to-peer-outcome",
    ),
    path(
        "physician/peer-to-peer/<int:p2p_id>/cancel",
        physician_appeals.peer_to_peer_cancel,
        name="physician-peer-to-peer-cancel",
    ),
    # independent medical review (plan staff; the forms are the roles' the services allow)
    path("imr/", imr.imr_list, name="imr-list"),
    path("imr/<int:imr_id>/", imr.imr_detail, name="imr-detail"),
    path("imr/<int:imr_id>/packet.pdf", imr.imr_packet, name="imr-packet"),
    path("imr/<int:imr_id>/determination", imr.imr_determination, name="imr-determination"),
    path("imr/<int:imr_id>/decision", imr.imr_decide, name="imr-decide"),
    # intake coordinator
    path("intake/", intake.home, name="intake-home"),
    path("intake/new", intake.new, name="intake-new"),
    path("intake/tars/<int:tar_id>/", intake.entry, name="intake-tar"),
    path("intake/tars/<int:tar_id>/documents", intake.entry_documents, name="intake-documents"),
    # member services
    path("member-services/", member_services.home, name="member-services-home"),
    path(
        "member-services/members/<int:member_id>/",
        member_services.member_detail,
        name="member-services-member",
    ),
    path(
        "member-services/tars/<int:tar_id>/",
        member_services.tar_detail,
        name="member-services-tar",
    ),
    path(
        "member-services/tars/<int:tar_id>/criteria-copy",
        member_services.criteria_copy,
        name="member-services-criteria-copy",
    ),
    path(
        "member-services/tars/<int:tar_id>/appeal",
        member_services.appeal_new,
        name="member-services-appeal-new",
    ),
    # member
    path("member/", member.home, name="member-home"),
    path("member/tars/<int:tar_id>/", member.tar_detail, name="member-tar"),
    path(
        "member/tars/<int:tar_id>/criteria-copy",
        member.criteria_copy,
        name="member-criteria-copy",
    ),
    path("member/tars/<int:tar_id>/appeal", member_appeals.appeal_new, name="member-appeal-new"),
    path("member/appeals/", member_appeals.appeal_list, name="member-appeals"),
    path(
        "member/appeals/<int:appeal_id>/documents",
        member_appeals.appeal_documents_add,
        name="member-appeal-documents",
    ),
    path(
        "appeal-documents/<int:document_id>/download",
        member_appeals.appeal_document_download,
        name="appeal-document",
    ),
    path(
        "member/appeal-letters/<int:letter_id>/download",
        member_appeals.appeal_letter_download,
        name="member-appeal-letter",
    ),
]
