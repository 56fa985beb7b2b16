"""The workflow kernel (authorizations.workflow): one place changes a status, in the order
role → scope → authority → state, with one history row and one domain event per change; the
actions offered are the actions possible."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from appeals.machines import APPEAL, IMR, PEER_TO_PEER
from authorizations import services
from authorizations.models import DomainEvent, EventKind, HistoryEntry, Tar
from authorizations.selectors import tar_scope_q, tar_visible_to
from authorizations.transitions import TAR, Action
from authorizations.workflow import available_actions
from tar_portal.errors import DomainError, ErrorCode
from tests.factories import ESI_MEETS

ROOT = Path(__file__).resolve().parents[2]
KERNEL = ROOT / "authorizations" / "workflow" / "machine.py"
APPS = [
    "accounts",
    "members",
    "criteria",
    "authorizations",
    "appeals",
    "grievances",
    "notifications",
    "portal",
    "reports",
    "fhir",
]
WORKFLOW_MODELS = {"Tar", "Appeal", "PeerToPeer", "ImrCase", "Grievance", "IrrCase"}
WEAK = {**ESI_MEETS, "conservative_care_weeks": 2}


def _source_files() -> list[Path]:
    return [
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and path != KERNEL
    ]


def _status_writes(tree: ast.AST) -> list[int]:
    """Lines that set a workflow record's status outside the kernel: `x.status = ...`, and
    `Tar(status=...)` / `Appeal.objects.create(status=...)` / `....update(status=...)`."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    lines.append(node.lineno)
        if isinstance(node, ast.Call) and any(k.arg == "status" for k in node.keywords):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            called_on = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
            model_call = name in WORKFLOW_MODELS
            manager_call = name in ("create", "update", "get_or_create", "update_or_create") and (
                any(model in called_on for model in WORKFLOW_MODELS) or name == "update"
            )
            if model_call or manager_call:
                lines.append(node.lineno)
    return lines


# Delivery states of notices and print batches are not workflow records: they move in one
# function filtered on the old status (notifications.services._notice_set_status, and the
# print-batch updates beside it).
DELIVERY_STATES = ROOT / "notifications" / "services.py"
# Not workflow records either, each for its reason:
NOT_WORKFLOW = {
    DELIVERY_STATES,
    # FHIR subscription and delivery states (on, error, off; pending, sent, abandoned): the
    # delivery plumbing of the outbox consumer, like notices' delivery states.
    ROOT / "fhir" / "subscriptions.py",
    # HTTP status codes of the FHIR/OAuth error exceptions (`self.status = 401`).
    ROOT / "fhir" / "smart.py",
    ROOT / "fhir" / "auth_http.py",
    # The demo's year of finished history (`seed_report_history`, run by seed_demo only),
    # written in bulk as records that were already decided; no live record changes there.
    ROOT / "reports" / "synthetic.py",
}


def test_no_status_is_assigned_outside_the_workflow_kernel():
    offenders = []
    for path in _source_files():
        if path in NOT_WORKFLOW:
            continue
        for line in _status_writes(ast.parse(path.read_text())):
            offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == []


def test_the_ast_check_would_catch_a_status_assignment():
    tree = ast.parse(
        "tar.status = 'approved'\n"
        "Appeal.objects.filter(pk=1).update(status='resolved')\n"
        "Tar(number='x', status='submitted')\n"
    )
    assert _status_writes(tree) == [1, 2, 3]


@pytest.mark.parametrize(
    "persona", ["provider", "provider2", "member", "other_member", "nurse", "physician", "pcp"]
)
def test_the_kernels_scope_check_agrees_with_the_list_scope(submit, world, persona):
    tar = Tar.objects.get(pk=submit())
    user = world.users[persona]
    scope = tar_scope_q(user)
    listed = scope is not None and Tar.objects.filter(scope, pk=tar.pk).exists()
    assert tar_visible_to(tar, user) == listed


def test_each_change_writes_one_history_row_and_one_event(submit, world):
    tar_id = submit()
    before_history = HistoryEntry.objects.filter(tar_id=tar_id).count()
    before_events = DomainEvent.objects.filter(tar_id=tar_id).count()
    services.tar_claim(tar_id=tar_id, user=world.users["nurse"])
    assert HistoryEntry.objects.filter(tar_id=tar_id).count() == before_history + 1
    event = DomainEvent.objects.filter(tar_id=tar_id).latest("pk")
    assert DomainEvent.objects.filter(tar_id=tar_id).count() == before_events + 1
    assert event.kind == EventKind.TAR_CLAIMED
    assert event.payload["from"] == "submitted" and event.payload["to"] == "in_review"
    assert event.actor == world.users["nurse"]
    assert event.processed_at is None  # consumed after commit, never inside the change


def test_a_submission_writes_its_event_with_the_request(submit):
    tar_id = submit()
    kinds = list(DomainEvent.objects.filter(tar_id=tar_id).values_list("kind", flat=True))
    assert kinds == [EventKind.TAR_SUBMITTED]


def test_a_refused_change_writes_nothing(submit, world, api):
    tar_id = submit()
    history = HistoryEntry.objects.filter(tar_id=tar_id).count()
    events = DomainEvent.objects.filter(tar_id=tar_id).count()
    response = api("nurse").post(f"/api/v1/tars/{tar_id}/respond", {"response": "x"})
    assert response.status_code == 403
    response = api("provider").post(f"/api/v1/tars/{tar_id}/respond", {"response": "x"})
    assert response.status_code == 409  # not pended
    assert HistoryEntry.objects.filter(tar_id=tar_id).count() == history
    assert DomainEvent.objects.filter(tar_id=tar_id).count() == events


def test_the_role_is_checked_before_the_body_is_read(submit, api):
    """A caller who may never decide gets 403, not a 400 about the body it sent."""
    tar_id = submit()
    response = api("member").post(
        f"/api/v1/tars/{tar_id}/decision", {"outcome": "nonsense"}, format="json"
    )
    assert response.status_code == 403
    response = api("provider").post(
        f"/api/v1/tars/{tar_id}/extend", {"reason": "nonsense"}, format="json"
    )
    assert response.status_code == 403


def test_role_before_scope_before_state(submit, api, world):
    tar_id = submit()
    services.tar_claim(tar_id=tar_id, user=world.users["nurse"])
    # Another organization's provider: may withdraw requests, may not see this one → 404.
    assert api("provider2").post(f"/api/v1/tars/{tar_id}/withdraw", {}).status_code == 404
    # A member may never withdraw → 403 whoever's request it is.
    assert api("other_member").post(f"/api/v1/tars/{tar_id}/withdraw", {}).status_code == 403
    # Claimed already: the second claim is a state conflict.
    response = api("nurse2").post(f"/api/v1/tars/{tar_id}/claim", {})
    assert response.status_code == 409
    assert response.json()["code"] == "claimed_by_other"


def test_the_nurse_is_offered_what_the_nurse_can_do(submit, world):
    nurse = world.users["nurse"]
    tar = Tar.objects.get(pk=submit())
    assert available_actions(TAR, tar, nurse) == [
        Action.CLAIM,
        Action.REQUEST_INFO,
        Action.REFER,
        Action.APPROVE,
        Action.MODIFY,
        Action.DENY,
        # No close: an eligible member, a covered code, no earlier request: the record
        # supports no non-medical ground (PRODUCT §2; issue 11 row 9).
        Action.EXTEND,
    ]
    services.tar_claim(tar_id=tar.pk, user=nurse)
    tar.refresh_from_db()
    assert Action.CLAIM not in available_actions(TAR, tar, nurse)
    assert Action.RELEASE in available_actions(TAR, tar, nurse)
    # Another nurse sees a claimed request with nothing to do on it.
    assert available_actions(TAR, tar, world.users["nurse2"]) == []


def test_a_nurse_is_not_offered_approval_of_lines_that_fail_the_criteria(submit, world):
    tar = Tar.objects.get(pk=submit(answers=WEAK))
    offered = available_actions(TAR, tar, world.users["nurse"])
    assert Action.APPROVE not in offered and Action.MODIFY not in offered
    assert Action.REFER in offered


def test_after_referral_the_nurse_is_not_offered_approval_or_a_second_referral(submit, world):
    tar_id = submit(answers=WEAK)
    services.tar_refer(tar_id=tar_id, user=world.users["nurse"])
    tar = Tar.objects.get(pk=tar_id)
    offered = available_actions(TAR, tar, world.users["nurse"])
    assert not {Action.CLAIM, Action.REFER, Action.APPROVE, Action.MODIFY} & set(offered)
    assert {Action.APPROVE, Action.DENY} <= set(
        available_actions(TAR, tar, world.users["physician"])
    )


def test_the_members_pcp_is_offered_no_decision(submit, world):
    """002 conflict of interest: the member's PCP (a physician user) may not decide."""
    tar_id = submit(answers=WEAK)
    services.tar_refer(tar_id=tar_id, user=world.users["nurse"])
    tar = Tar.objects.get(pk=tar_id)
    pcp_physician = world.users["physician"]
    pcp_physician.provider = tar.member.pcp
    assert not {Action.APPROVE, Action.DENY, Action.MODIFY, Action.CLOSE} & set(
        available_actions(TAR, tar, pcp_physician)
    )


def test_offered_actions_succeed(submit, world):
    """Every action offered to the nurse on a fresh request is possible now: take each in
    turn on its own request."""
    nurse = world.users["nurse"]
    for action in available_actions(TAR, Tar.objects.get(pk=submit()), nurse):
        tar_id = submit()
        if action == Action.CLAIM:
            services.tar_claim(tar_id=tar_id, user=nurse)
        elif action == Action.REFER:
            services.tar_refer(tar_id=tar_id, user=nurse)
        elif action == Action.REQUEST_INFO:
            services.tar_request_info(tar_id=tar_id, user=nurse, message="MRI report, please.")
        elif action == Action.APPROVE:
            services.tar_decide(tar_id=tar_id, user=nurse, outcome="approved")
        else:
            continue  # these need a body of choices (lines, reasons, dates) tested elsewhere
        assert DomainEvent.objects.filter(tar_id=tar_id).count() == 2


def test_every_machine_names_its_history_and_event_from_the_enums():
    from authorizations.models import HistoryAction

    for machine in (TAR, APPEAL, PEER_TO_PEER, IMR):
        for transition in machine.transitions:
            assert transition.history in HistoryAction.values, (machine.name, transition)
            assert transition.event in EventKind.values, (machine.name, transition)


def test_pending_without_saying_what_is_needed_is_a_400_not_a_500(submit, world):
    """`invalid(message, message=...)` once clashed with its own parameter (a TypeError, so a
    500 from every caller that skips the API serializer: the portal, intake)."""
    tar_id = submit()
    with pytest.raises(DomainError) as excinfo:
        services.tar_request_info(tar_id=tar_id, user=world.users["nurse"], message="  ")
    assert excinfo.value.code == ErrorCode.INVALID
    assert excinfo.value.fields == {"message": ["This field is required."]}
    assert Tar.objects.get(pk=tar_id).status == "submitted"
