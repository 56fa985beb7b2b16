"""The requesting provider changes the service lines of an open request (issue 14; the kernel
action AMEND_LINES): before a decision only, criteria evaluated again on the changed lines,
one history row and one event, and the clock kept (PRODUCT §4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from authorizations import services
from authorizations.models import (
    DomainEvent,
    EventKind,
    HistoryAction,
    Recommendation,
    Tar,
    TarStatus,
)
from authorizations.services import LineAmendment, LineInput
from authorizations.transitions import TAR, Action
from authorizations.workflow import available_actions
from tar_portal.errors import DomainError, ErrorCode

pytestmark = [pytest.mark.django_db, pytest.mark.clock()]


def _line(code="64483", units=1, days=10, span=30, dx=("M54.16",)) -> LineInput:
    start = timezone.localdate() + timedelta(days=days)
    return LineInput(
        code=code,
        units=units,
        service_date_from=start,
        service_date_to=start + timedelta(days=span),
        diagnosis_codes=list(dx),
        spinal_region="lumbar",
    )


def _amend(world, tar_id, persona="provider", **changes) -> Tar:
    return services.tar_amend_lines(
        tar_id=tar_id,
        user=world.users[persona],
        amendment=LineAmendment(**changes),
        reason="Corrected by the office.",
    )


def test_change_add_and_cancel_keep_status_and_clock(world, submit, tar_payload):
    body = tar_payload()
    body["lines"].append(dict(body["lines"][0], code="64484", units=2))
    tar_id = submit(lines=body["lines"])
    before = Tar.objects.get(pk=tar_id)
    due, rule = before.decision_due_at, before.decision_due_rule

    tar = _amend(
        world,
        tar_id,
        change={1: _line(units=2, days=12)},
        cancel=[2],
        add=[_line(code="64490", days=14, span=0)],
    )

    assert tar.status == TarStatus.SUBMITTED
    assert tar.decision_due_at == due and tar.decision_due_rule == rule
    lines = {line.line_number: line for line in tar.lines.all()}
    assert sorted(lines) == [1, 3]  # numbers stay stable; the new line is the next one
    assert lines[1].units == 2
    assert lines[1].service_date_from == timezone.localdate() + timedelta(days=12)
    assert lines[3].code == "64490" and lines[3].family  # the facet family, from the code
    assert lines[3].criteria_set_id is not None and lines[3].recommendation

    entry = tar.history.get(action=HistoryAction.LINES_AMENDED)
    assert entry.from_status == entry.to_status == TarStatus.SUBMITTED
    assert entry.actor == world.users["provider"]
    assert entry.detail["clock"] == "kept"
    assert [c["code"] for c in entry.detail["cancelled"]] == ["64484"]
    assert entry.detail["changed"][0]["before"]["units"] == 1
    assert entry.detail["changed"][0]["after"]["units"] == 2
    assert [a["line_number"] for a in entry.detail["added"]] == [3]
    event = DomainEvent.objects.get(kind=EventKind.TAR_LINES_AMENDED)
    assert event.tar_id == tar_id and event.payload["cancelled"][0]["units"] == 2
    # Only the changed and the added line were evaluated again.
    evaluated = tar.history.filter(action=HistoryAction.EVALUATED).order_by("-at", "-pk").first()
    assert [x["line_number"] for x in evaluated.detail["lines"]] == [1, 3]


def test_criteria_are_evaluated_again_on_the_changed_line(world, submit):
    tar_id = submit()
    assert Tar.objects.get(pk=tar_id).lines.get().recommendation == (Recommendation.MEETS_CRITERIA)
    # An ESI line changed to a facet medial branch block is judged by the facet set, whose
    # questions the ESI answers do not answer: no longer "meets criteria".
    tar = _amend(world, tar_id, change={1: _line(code="64490", span=0)})
    line = tar.lines.get()
    assert (line.code, line.family, line.criteria_set.family) == ("64490",) + ("facet_mbb",) * 2
    assert line.recommendation != Recommendation.MEETS_CRITERIA


@pytest.mark.parametrize("persona", ["provider", "coordinator"])
def test_offered_to_the_requestor_and_intake_while_open(world, submit, persona):
    tar = Tar.objects.get(pk=submit())
    assert Action.AMEND_LINES in available_actions(TAR, tar, world.users[persona])
    assert Action.AMEND_LINES not in available_actions(TAR, tar, world.users["nurse"])


def test_a_decided_request_cannot_be_amended(world, submit):
    tar_id = submit()
    services.tar_decide(tar_id=tar_id, user=world.users["physician"], outcome=TarStatus.APPROVED)
    with pytest.raises(DomainError) as error:
        _amend(world, tar_id, change={1: _line(units=3)})
    assert error.value.code == ErrorCode.INVALID_TRANSITION
    assert "before the decision" in error.value.message
    assert Tar.objects.get(pk=tar_id).lines.get().units == 1


def test_a_pended_request_can_be_amended_and_stays_pended(world, submit):
    tar_id = submit()
    services.tar_request_info(tar_id=tar_id, user=world.users["nurse"], message="Imaging?")
    tar = _amend(world, tar_id, change={1: _line(units=2)})
    assert tar.status == TarStatus.PENDED
    assert tar.lines.get().units == 2


def test_another_organization_sees_no_such_request(world, submit):
    tar_id = submit()
    with pytest.raises(DomainError) as error:
        _amend(world, tar_id, "provider2", change={1: _line(units=3)})
    assert error.value.code == ErrorCode.NOT_FOUND


def test_nurse_may_not_amend(world, submit):
    with pytest.raises(DomainError) as error:
        _amend(world, submit(), "nurse", change={1: _line(units=3)})
    assert error.value.code == ErrorCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({}, "lines"),
        ({"cancel": [1]}, "lines"),  # every line: a withdrawal, not an amendment
        ({"change": {7: _line}}, "lines"),
        ({"change": {1: "same"}}, "lines"),  # sent again as it was
        ({"change": {1: "bad-code"}}, "change[0].code"),
        ({"add": ["past"]}, "add[0].service_date_from"),
    ],
)
def test_bad_amendments_are_400_and_change_nothing(world, submit, tar_payload, changes, field):
    tar_id = submit()
    line = Tar.objects.get(pk=tar_id).lines.get()
    values = {
        "same": LineInput(
            code=line.code,
            units=line.units,
            service_date_from=line.service_date_from,
            service_date_to=line.service_date_to,
            diagnosis_codes=list(line.diagnosis_codes),
            spinal_region=line.spinal_region,
        ),
        "bad-code": _line(code="6448"),
        "past": _line(days=-3),
    }
    resolved = {
        key: (
            {n: values.get(v, _line()) if not callable(v) else _line() for n, v in value.items()}
            if isinstance(value, dict)
            else [values.get(v, v) for v in value]
        )
        for key, value in changes.items()
    }
    with pytest.raises(DomainError) as error:
        _amend(world, tar_id, **resolved)
    assert error.value.code == ErrorCode.INVALID
    assert field in error.value.fields, error.value.fields
    tar = Tar.objects.get(pk=tar_id)
    assert [(x.line_number, x.units) for x in tar.lines.all()] == [(1, 1)]
    assert not tar.history.filter(action=HistoryAction.LINES_AMENDED).exists()


def test_the_requestor_reads_the_change_in_its_own_words(world, submit):
    from authorizations.history_audience import history_for_audience

    tar = _amend(world, submit(), change={1: _line(units=2)})
    rows = history_for_audience(role="provider", entries=tar.history.all())
    (row,) = [r for r in rows if r.action == HistoryAction.LINES_AMENDED]
    assert row.action_label == "Requested services changed by the provider"
    assert row.reason == "Corrected by the office."
    member_rows = history_for_audience(role="member", entries=tar.history.all())
    (member_row,) = [r for r in member_rows if r.action == HistoryAction.LINES_AMENDED]
    assert member_row.reason == ""  # the office's note is not written to the member
