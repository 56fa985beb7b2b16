"""A request's history as providers and members may see it (PRODUCT §2, issue 12).

Notes that staff write to each other — a nurse's referral note, a physician's comment, the
reasons written with appeal, peer-to-peer and IMR steps — are internal: providers and members
never see them. Neither do they see who on staff read the record. What they do see is said in
plain words: "Being reviewed by a nurse", never `in_review`.

One function serves the portal pages and the API (`authorizations.api.TarHistoryApi`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.models import PLAN_STAFF_ROLES, Role
from authorizations.models import HistoryAction, HistoryEntry

EXTERNAL_ROLES = frozenset({Role.PROVIDER, Role.MEMBER})

# Staff reads of the record are for the plan's audit, not for the requestor; so are the
# plan's inter-rater reliability audits of its own reviewers (PRODUCT §10).
_HIDDEN_ACTIONS = frozenset(
    {
        HistoryAction.CLINICAL_READ,
        HistoryAction.ATTACHMENT_READ,
        "imr_packet_read",
        HistoryAction.IRR_ASSIGNED,
        HistoryAction.IRR_REVIEWED,
    }
)

# The free text of a history row is shown only where it was written *to* that reader:
# the information request to the provider, the provider's own answer and withdrawal, the
# extension note and the decision's rationale (both are in the letters). Every other reason —
# the referral note above all — stays internal. Keyed by the transition (detail["action"]) or
# the history action.
_PUBLIC_REASONS = {
    Role.PROVIDER: frozenset(
        {"request_info", "receive_info", "withdraw", "extend", "approve", "modify", "deny"}
        | {"amend_lines"}
        | {"close", HistoryAction.EXTENDED}
    ),
    Role.MEMBER: frozenset(
        {"withdraw", "extend", "approve", "modify", "deny", "close", HistoryAction.EXTENDED}
    ),
}

# Detail keys that carry no note (codes, dates, ids); anything else is dropped.
_PUBLIC_DETAIL_KEYS = frozenset(
    {
        "channel",
        "received_at",
        "decision_due_at",
        "decision_due_rule",
        "late_submission",
        "extension_reason",
        "new_due_at",
    }
)

STATUS_LABELS = {
    "submitted": _("Received, waiting for review"),
    "in_review": _("Being reviewed by a nurse"),
    "pended": _("Waiting for information from the provider"),
    "referred": _("Being reviewed by a doctor"),
    "approved": _("Approved"),
    "modified": _("Approved with changes"),
    "denied": _("Denied"),
    "closed": _("Closed"),
    "withdrawn": _("Withdrawn by the provider"),
}

# Transitions (detail["action"]) first, then the history action.
ACTION_LABELS = {
    "claim": _("A nurse started the review"),
    "release": _("Back in line for review"),
    "refer": _("Sent to a doctor for review"),
    "request_info": _("Information requested from the provider"),
    "receive_info": _("Information received from the provider"),
    "withdraw": _("Request withdrawn"),
    "amend_lines": _("Requested services changed by the provider"),
    "approve": _("Decision made"),
    "modify": _("Decision made"),
    "deny": _("Decision made"),
    "close": _("Request closed"),
    "extend": _("Decision date extended"),
    "appeal_overturn": _("Appeal decided"),
    "appeal_partial": _("Appeal decided"),
    "appeal_uphold": _("Appeal decided"),
    "imr_overturn": _("Decision after independent medical review"),
    "imr_partial": _("Decision after independent medical review"),
    "imr_uphold": _("Decision after independent medical review"),
    HistoryAction.CREATED: _("Request received"),
    HistoryAction.DECIDED: _("Decision made"),
    HistoryAction.EXTENDED: _("Decision date extended"),
    HistoryAction.INFORMATION_REQUESTED: _("Information requested from the provider"),
    HistoryAction.INFORMATION_RECEIVED: _("Information received from the provider"),
    HistoryAction.ATTACHMENT_ADDED: _("Document added"),
    HistoryAction.BREACHED: _("Decision date passed without a decision"),
    HistoryAction.NOTICE_OVERDUE: _("A letter is late"),
    HistoryAction.EVALUATED: _("Checked against the plan's criteria"),
    "appeal_filed": _("Appeal received"),
    "appeal_extended": _("Appeal decision date extended"),
    "appeal_resolved": _("Appeal decided"),
    "appeal_exhausted": _("Appeal decision date passed"),
    "appeal_withdrawn": _("Appeal withdrawn"),
    "p2p_requested": _("Talk with the reviewing doctor requested"),
    "p2p_scheduled": _("Talk with the reviewing doctor scheduled"),
    "p2p_held": _("Talk with the reviewing doctor held"),
    "p2p_cancelled": _("Talk with the reviewing doctor cancelled"),
    "p2p_linked": _("Decision changed after the talk with the reviewing doctor"),
    "imr_referred": _("Sent for independent medical review"),
    "imr_extended": _("Independent medical review date extended"),
    "imr_determination": _("Independent medical review result received"),
    "imr_decided": _("Decision after independent medical review"),
    "imr_overdue": _("Independent medical review result is late"),
    "imr_withdrawn": _("Independent medical review withdrawn"),
}
_FALLBACK_ACTION = _("Request updated")


@dataclass(frozen=True)
class AudienceRow:
    at: datetime
    actor: str  # "plan" for any plan staff: staff names are not the requestor's business
    action: str  # the stable code (API contract); pages show `action_label`
    action_label: str
    from_status: str
    to_status: str
    status_label: str  # the status after this step, in words ("" when it did not change)
    reason: str  # only text written to this reader
    detail: dict[str, Any]


def _step(entry: HistoryEntry) -> str:
    return str((entry.detail or {}).get("action") or entry.action)


def _actor(entry: HistoryEntry) -> str:
    if entry.actor_role in PLAN_STAFF_ROLES:
        return "plan"
    return entry.actor.username if entry.actor is not None else "system"


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, _("Updated"))) if status else ""


def history_for_audience(*, role: str, entries: Iterable[HistoryEntry]) -> list[AudienceRow]:
    """The rows a provider or member sees, with internal notes and staff reads removed."""
    public = _PUBLIC_REASONS.get(role, frozenset())
    rows = []
    for entry in entries:
        if entry.action in _HIDDEN_ACTIONS:
            continue
        step = _step(entry)
        changed = bool(entry.to_status) and entry.to_status != entry.from_status
        rows.append(
            AudienceRow(
                at=entry.at,
                actor=_actor(entry),
                action=entry.action,
                action_label=str(
                    ACTION_LABELS.get(step) or ACTION_LABELS.get(entry.action) or _FALLBACK_ACTION
                ),
                from_status=entry.from_status,
                to_status=entry.to_status,
                status_label=status_label(entry.to_status) if changed else "",
                reason=entry.reason if (step in public or entry.action in public) else "",
                detail={k: v for k, v in (entry.detail or {}).items() if k in _PUBLIC_DETAIL_KEYS},
            )
        )
    return rows
