from django.urls import include, path

from portal.views import accounts, common, member, physician, provider, review

app_name = "portal"

urlpatterns = [
    path("", common.home, name="home"),
    path("accounts/login/", accounts.login_view, name="login"),
    path("accounts/logout/", accounts.logout_view, name="logout"),
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
    path("provider/referrals/", provider.referral_list, name="provider-referrals"),
    path("provider/referrals/new", provider.referral_new, name="provider-referral-new"),
    # nurse (and read-only plan staff)
    path("review/", review.queue, name="review-queue"),
    path("review/tars/<int:tar_id>/", review.review, name="review-tar"),
    path("review/tars/<int:tar_id>/claim", review.claim, name="review-claim"),
    path("review/tars/<int:tar_id>/release", review.release, name="review-release"),
    path("review/tars/<int:tar_id>/approve", review.approve, name="review-approve"),
    path("review/tars/<int:tar_id>/request-info", review.request_info, name="review-request-info"),
    path("review/tars/<int:tar_id>/extend", review.extend, name="review-extend"),
    path("review/tars/<int:tar_id>/refer", review.refer, name="review-refer"),
    path("review/tars/<int:tar_id>/close", review.close, name="review-close"),
    # physician
    path("physician/", physician.queue, name="physician-queue"),
    path("physician/tars/<int:tar_id>/", physician.decide, name="physician-tar"),
    # member
    path("member/", member.home, name="member-home"),
    path("member/tars/<int:tar_id>/", member.tar_detail, name="member-tar"),
    path(
        "member/tars/<int:tar_id>/criteria-copy",
        member.criteria_copy,
        name="member-criteria-copy",
    ),
]
