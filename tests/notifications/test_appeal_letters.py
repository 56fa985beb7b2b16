"""Appeal resolution letters from a real appeal (appeals.services builds the context,
this module renders, stores and delivers it)."""

from __future__ import annotations

import pytest

from appeals import services as appeals
from authorizations import clocks
from notifications.models import Notice
from tests.notifications.conftest import ESI_SHORT_CARE, letter_for, letter_pdf
from tests.notifications.elements import day
from tests.notifications.pdf import has

pytestmark = pytest.mark.django_db


def test_upheld_appeal_sends_state_hearing_rights_with_the_120_day_date(
    submit, deny, world, run_hooks
):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    appeal = run_hooks(
        appeals.appeal_file,
        tar_id=tar_id,
        user=world.users["member"],
        reason="My pain is worse and I cannot wait 4 more weeks.",
    )
    run_hooks(
        appeals.appeal_decide,
        appeal_id=appeal.pk,
        user=world.users["physician2"],
        outcome="upheld",
        rationale="The records still show 2 weeks of conservative care.",
        reason_code="medical_necessity",
        criteria_refs=["esi:2026.1:3"],
    )
    kinds = set(
        Notice.objects.filter(tar_id=tar_id, kind="appeal_resolution").values_list(
            "audience", "status"
        )
    )
    assert kinds == {("provider", "sent"), ("member", "owed")}
    for audience in ("member", "provider"):
        letter = letter_for(tar_id, "appeal_resolution", audience)
        due = clocks.state_hearing_deadline(resolution_date=letter.letter_date).due_at
        last_day = due.astimezone(clocks.PACIFIC).date()
        physician = world.users["physician2"].provider
        assert not has(
            letter_pdf(letter),
            "State Hearing",
            f"no later than {day(last_day, 'en')}",
            "120 calendar days",
            "The records still show 2 weeks of conservative care.",
            physician.name,
            "1-888-452-8609",
        )
