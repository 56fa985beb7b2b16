"""Every write to appeals, peer-to-peer talks and IMR cases, one module per subject."""

from appeals.services.appeals import (
    adverse_notice_dated,
    appeal_decide,
    appeal_downgrade,
    appeal_extend,
    appeal_file,
    appeal_withdraw,
)
from appeals.services.documents import (
    appeal_document_add,
    appeal_document_check,
    appeal_document_get,
)
from appeals.services.imr import (
    ImrReferralInput,
    imr_extend,
    imr_final_decision,
    imr_record_determination,
    imr_refer,
    imr_withdraw,
)
from appeals.services.oral_notice import appeal_oral_notice_record
from appeals.services.packets import (
    PACKET_ITEMS,
    imr_packet_context,
    imr_packet_pdf,
    imr_packet_record_read,
)
from appeals.services.peer_to_peer import (
    MAX_PROPOSED_TIMES,
    peer_to_peer_cancel,
    peer_to_peer_link,
    peer_to_peer_record_outcome,
    peer_to_peer_request,
    peer_to_peer_schedule,
)
from appeals.services.redetermination import appeal_resolve

__all__ = [
    "MAX_PROPOSED_TIMES",
    "PACKET_ITEMS",
    "ImrReferralInput",
    "adverse_notice_dated",
    "appeal_decide",
    "appeal_document_add",
    "appeal_document_check",
    "appeal_document_get",
    "appeal_downgrade",
    "appeal_extend",
    "appeal_file",
    "appeal_oral_notice_record",
    "appeal_resolve",
    "appeal_withdraw",
    "imr_extend",
    "imr_final_decision",
    "imr_packet_context",
    "imr_packet_pdf",
    "imr_packet_record_read",
    "imr_record_determination",
    "imr_refer",
    "imr_withdraw",
    "peer_to_peer_cancel",
    "peer_to_peer_link",
    "peer_to_peer_record_outcome",
    "peer_to_peer_request",
    "peer_to_peer_schedule",
]
