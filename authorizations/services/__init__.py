"""Every write to providers, referrals and TARs (STYLE §2), one module per subject. Views,
forms, admin and tasks call these; they hold no business rules of their own. Every status
change is an action of the TAR machine applied by the workflow kernel
(authorizations.workflow.perform)."""

from authorizations.services.amendment import LineAmendment, tar_amend_lines
from authorizations.services.attachments import (
    ALLOWED_ATTACHMENT_TYPES,
    attachment_add,
    attachment_download_name,
    attachment_record_read,
    sniff_content_type,
)
from authorizations.services.decisions import (
    LineDecision,
    apply_line_decisions,
    authorize_decision,
    tar_decide,
)
from authorizations.services.evaluation import tar_evaluate_lines
from authorizations.services.history import history_record, tar_record_clinical_read
from authorizations.services.notice_calls import (
    OralNoticeInput,
    tar_oral_notice_record,
    tar_reduce_services,
)
from authorizations.services.referrals import referral_create
from authorizations.services.review import (
    tar_claim,
    tar_extend,
    tar_receive_info,
    tar_refer,
    tar_release,
    tar_request_info,
    tar_withdraw,
)
from authorizations.services.submission import (
    INTAKE_CHANNELS,
    PROVIDER_CHANNELS,
    LineInput,
    TarInput,
    tar_auto_approve,
    tar_input_problems,
    tar_submit,
)

__all__ = [
    "ALLOWED_ATTACHMENT_TYPES",
    "INTAKE_CHANNELS",
    "PROVIDER_CHANNELS",
    "LineAmendment",
    "LineDecision",
    "LineInput",
    "OralNoticeInput",
    "TarInput",
    "apply_line_decisions",
    "attachment_add",
    "attachment_download_name",
    "attachment_record_read",
    "authorize_decision",
    "history_record",
    "referral_create",
    "sniff_content_type",
    "tar_amend_lines",
    "tar_auto_approve",
    "tar_claim",
    "tar_decide",
    "tar_evaluate_lines",
    "tar_extend",
    "tar_input_problems",
    "tar_oral_notice_record",
    "tar_receive_info",
    "tar_record_clinical_read",
    "tar_reduce_services",
    "tar_refer",
    "tar_release",
    "tar_request_info",
    "tar_submit",
    "tar_withdraw",
]
