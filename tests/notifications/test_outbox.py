"""Notices follow from domain events through the outbox: a failure between the decision's
commit and the notice's recording loses nothing, and nothing is owed twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from authorizations import services as tar_services
from authorizations.models import DomainEvent, EventConsumption, EventKind, Tar
from authorizations.workflow import outbox
from notifications import services as notice_services
from notifications.models import Notice
from tests.notifications.conftest import DENIAL_RATIONALE, ESI_SHORT_CARE

pytestmark = pytest.mark.django_db


def _deny(tar_id, world):
    return tar_services.tar_decide(
        tar_id=tar_id,
        user=world.users["physician"],
        outcome="denied",
        reason_code="medical_necessity",
        rationale=DENIAL_RATIONALE,
        criteria_refs=["esi:2026.1:3"],
    )


def test_a_notice_lost_after_the_decision_commits_is_owed_by_the_next_catch_up(
    submit, world, monkeypatch, django_capture_on_commit_callbacks
):
    tar_id = submit(answers=ESI_SHORT_CARE)

    def crash(event):
        raise ConnectionError("lost the database between commit and notice")

    monkeypatch.setattr(notice_services, "notices_owed", crash)
    with django_capture_on_commit_callbacks(execute=True):
        _deny(tar_id, world)
    # The decision stands; its notices are not recorded; the event says what is still owed.
    assert Tar.objects.get(pk=tar_id).status == "denied"
    assert Notice.objects.filter(tar_id=tar_id).count() == 0
    event = DomainEvent.objects.get(tar_id=tar_id, kind=EventKind.TAR_DECIDED)
    assert event.processed_at is None
    # Failed twice in the pass: the notices, and the reports' pre-aggregates, which wait for
    # the notices the event owes (reports.aggregates).
    assert event.attempts == 2
    assert event.last_error in {  # the type only: no PHI
        "notices: ConnectionError",
        "report_aggregates: NoticesNotYetCreated",
    }
    assert event.next_attempt_at > timezone.now()

    monkeypatch.undo()
    # Not before its backoff...
    assert outbox.events_dispatch() == 0
    assert Notice.objects.filter(tar_id=tar_id).count() == 0
    # ...and then the beat's catch-up records them, exactly once.
    later = event.next_attempt_at + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.events_dispatch(now=later) >= 1
        assert outbox.events_dispatch(now=later + timedelta(minutes=5)) == 0
    notices = Notice.objects.filter(tar_id=tar_id)
    assert sorted(notices.values_list("audience", flat=True)) == ["member", "provider"]
    assert {n.kind for n in notices} == {"denial"}
    assert EventConsumption.objects.filter(event=event, consumer="notices").count() == 1
    event.refresh_from_db()
    assert event.processed_at is not None


def test_a_decision_whose_nudge_never_ran_is_found_by_the_catch_up(submit, world):
    """The process died right after the commit: no after-commit callback ran at all."""
    tar_id = submit(answers=ESI_SHORT_CARE)
    _deny(tar_id, world)  # on-commit callbacks are not run in this test
    assert Notice.objects.filter(tar_id=tar_id).count() == 0
    outbox.events_dispatch()
    assert Notice.objects.filter(tar_id=tar_id).count() == 2
    outbox.events_dispatch()
    assert Notice.objects.filter(tar_id=tar_id).count() == 2


def test_a_failing_consumer_does_not_hold_up_the_others(submit, world, monkeypatch):
    handled = []
    outbox.register("test-recorder", lambda event: handled.append(event.kind))
    try:
        monkeypatch.setattr(
            notice_services, "notices_owed", lambda event: (_ for _ in ()).throw(RuntimeError())
        )
        tar_id = submit(answers=ESI_SHORT_CARE)
        _deny(tar_id, world)
        outbox.events_dispatch()
        assert EventKind.TAR_DECIDED in handled
        event = DomainEvent.objects.get(tar_id=tar_id, kind=EventKind.TAR_DECIDED)
        assert event.processed_at is None  # the notices are still owed
        # The recorder (and any other registered consumer, e.g. fhir.subscriptions) is done;
        # the failing one is not.
        consumed = set(event.consumptions.values_list("consumer", flat=True))
        assert "test-recorder" in consumed and "notices" not in consumed
        # Tried again later, the recorder does not see the event a second time.
        monkeypatch.undo()
        outbox.events_dispatch(now=event.next_attempt_at + timedelta(seconds=1))
        assert handled.count(EventKind.TAR_DECIDED) == 1
        assert Notice.objects.filter(tar_id=tar_id).count() == 2
    finally:
        outbox._consumers.pop("test-recorder", None)


def test_events_that_owe_nothing_are_processed_without_notices(submit, world):
    tar_id = submit()
    tar_services.tar_claim(tar_id=tar_id, user=world.users["nurse"])
    outbox.events_dispatch()
    assert not DomainEvent.objects.filter(tar_id=tar_id, processed_at__isnull=True).exists()
    assert Notice.objects.filter(tar_id=tar_id).count() == 0
