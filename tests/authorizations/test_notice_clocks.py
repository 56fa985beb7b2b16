"""Notice and decision clocks after issue 11, rows 3-5, through the services and the outbox:
the member notice within the federal limit, the provider notice after an urgent extension,
and the deadline brought back when the information an extension waited for arrives.

Pinned at BUSINESS_MORNING, Wed 2027-04-14 10:00 PDT (no holiday near it)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from authorizations import clocks, services
from authorizations.calendar import plan_calendar
from authorizations.models import Tar
from authorizations.workflow.outbox import events_dispatch
from notifications.models import Audience, Notice
from tests.conftest import BUSINESS_MORNING

pytestmark = [pytest.mark.django_db, pytest.mark.clock(BUSINESS_MORNING)]

PT = ZoneInfo("America/Los_Angeles")
DENY = {
    "outcome": "denied",
    "reason_code": "medical_necessity",
    "rationale": "Conservative care has not been tried for long enough.",
    "criteria_refs": ["esi:2026.1:1"],
}


def pt(*args):
    return datetime(*args, tzinfo=PT)


def _decide(world, tar_id, at):
    return services.tar_decide(tar_id=tar_id, user=world.users["physician"], now=at, **DENY)


def _notice(tar_id, audience):
    return Notice.objects.get(tar_id=tar_id, audience=audience, kind="denial")


def test_urgent_member_notice_is_due_72_hours_after_receipt_when_decided_at_hour_70(world, submit):
    """Row 3: 42 CFR 438.210(d)(2), 438.404(c)(6). Today's code gave 2 business days after the
    decision: Sat 04-17 08:00 → Tue 04-20 23:59:59, days after the 72-hour limit."""
    tar_id = submit(urgency="urgent", urgency_reason="New foot drop.")
    received = Tar.objects.get(pk=tar_id).received_at
    decided = received + timedelta(hours=70)  # Sat 2027-04-17 08:00 PDT
    tar = _decide(world, tar_id, decided)
    assert tar.member_notice_due_at == received + timedelta(hours=72)
    assert tar.member_notice_rule == clocks.Rule.MEMBER_NOTICE_URGENT_72_HOURS
    events_dispatch(now=decided)
    notice = _notice(tar_id, Audience.MEMBER)
    assert notice.due_at == pt(2027, 4, 17, 10)
    assert notice.due_rule == "member_notice_urgent_72_hours"


def test_routine_member_notice_is_due_7_calendar_days_after_receipt(world, submit):
    """Row 3: 42 CFR 438.210(d)(1) from 2026. Received Wed 04-14 10:00, decided Tue 04-20
    10:00: 2 business days would be Thu 04-22; the 7th calendar day, Wed 04-21, binds."""
    tar_id = submit()
    decided = pt(2027, 4, 20, 10)
    tar = _decide(world, tar_id, decided)
    assert tar.member_notice_due_at == pt(2027, 4, 21, 23, 59, 59)
    assert tar.member_notice_rule == "member_notice_routine_7_calendar_days"
    events_dispatch(now=decided)
    assert _notice(tar_id, Audience.MEMBER).due_rule == "member_notice_routine_7_calendar_days"


def test_urgent_provider_notice_after_an_extension_is_due_24_hours_after_the_decision(
    world, submit
):
    """Row 4: PRODUCT §4 "Provider notice after an extension". Received Wed 04-14 10:00,
    extended on Fri 04-16 to Tue 04-27 10:00, decided Fri 04-23 10:00: the provider notice
    is due Sat 04-24 10:00, not at receipt + 72 h (Sat 04-17, before the decision)."""
    tar_id = submit(urgency="urgent", urgency_reason="New foot drop.")
    services.tar_extend(
        tar_id=tar_id,
        user=world.users["nurse"],
        reason="expert_review_needed",
        new_due_at=pt(2027, 4, 27, 10),
        note="Neurosurgery opinion needed.",
        now=pt(2027, 4, 16, 10),
    )
    extended = Tar.objects.get(pk=tar_id)
    # Undecided, the provider notice is owed by the extended deadline.
    assert extended.provider_notice_due_at == pt(2027, 4, 27, 10)
    assert extended.provider_notice_rule == "provider_notice_extended_deadline"
    decided = pt(2027, 4, 23, 10)
    tar = _decide(world, tar_id, decided)
    assert tar.provider_notice_due_at == pt(2027, 4, 24, 10)
    assert tar.provider_notice_rule == "provider_notice_24_hours_after_decision"
    # The member's: 2 business days (Tue 04-27 23:59:59) or the extended deadline, earlier.
    assert tar.member_notice_due_at == pt(2027, 4, 27, 10)
    assert tar.member_notice_rule == "member_notice_extended_deadline"
    events_dispatch(now=decided)
    provider = _notice(tar_id, Audience.PROVIDER)
    assert provider.due_at == pt(2027, 4, 24, 10) and provider.due_at > decided


def test_information_after_an_extension_brings_the_deadline_back_to_the_original_window(
    world, submit
):
    """Row 5: H&S 1367.01(h)(5); PRODUCT §4 due = min(extended, max(original, arrival +
    window)). Routine, received Wed 04-14 10:00: original due Wed 04-21 23:59:59. Extended
    to Wed 05-05 23:59:59 for information; it arrives Mon 04-19 10:00, so the decision is due
    5 business days later, Mon 04-26 23:59:59."""
    tar_id = submit()
    tar = Tar.objects.get(pk=tar_id)
    assert tar.original_decision_due_at == pt(2027, 4, 21, 23, 59, 59)
    nurse = world.users["nurse"]
    services.tar_extend(
        tar_id=tar_id,
        user=nurse,
        reason="information_not_received",
        new_due_at=pt(2027, 5, 5, 23, 59, 59),
        note="Imaging report needed.",
        now=pt(2027, 4, 15, 10),
    )
    services.tar_request_info(tar_id=tar_id, user=nurse, message="Send the MRI report.")
    tar = services.tar_receive_info(
        tar_id=tar_id,
        user=world.users["provider"],
        response="MRI report attached.",
        now=pt(2027, 4, 19, 10),
    )
    assert tar.decision_due_at == pt(2027, 4, 26, 23, 59, 59)
    assert tar.decision_due_rule == "information_received_original_window"


@pytest.mark.parametrize(
    ("arrived", "due", "rule"),
    [
        # arrives Thu 04-15: + 5 business days = Thu 04-22, after the original Wed 04-21.
        (pt(2027, 4, 15, 10), pt(2027, 4, 22, 23, 59, 59), "information_received_original_window"),
        # arrives the same hour as receipt: + 5 bd = Wed 04-21, never earlier than the original.
        (
            pt(2027, 4, 14, 10),
            pt(2027, 4, 21, 23, 59, 59),
            "information_received_original_deadline",
        ),
        # arrives Thu 04-29: + 5 bd = Thu 05-06, past the extended deadline Wed 05-05.
        (pt(2027, 4, 29, 10), pt(2027, 5, 5, 23, 59, 59), "information_received_extended_deadline"),
        # arrives Fri 04-16 at 18:00 (after hours): counted from Mon 04-19 → Mon 04-26.
        (pt(2027, 4, 16, 18), pt(2027, 4, 26, 23, 59, 59), "information_received_original_window"),
    ],
)
def test_deadline_after_information_formula(world, arrived, due, rule):
    result = clocks.deadline_after_information(
        received_at=pt(2027, 4, 14, 10),
        request_type="pre_service",
        urgency="routine",
        original_due_at=pt(2027, 4, 21, 23, 59, 59),
        extended_due_at=pt(2027, 5, 5, 23, 59, 59),
        arrived_at=arrived,
        calendar=plan_calendar(),
    )
    assert (result.due_at, result.rule) == (due, rule)


def test_urgent_deadline_after_information_is_72_hours_from_arrival(world):
    result = clocks.deadline_after_information(
        received_at=pt(2027, 4, 14, 10),
        request_type="pre_service",
        urgency="urgent",
        original_due_at=pt(2027, 4, 17, 10),
        extended_due_at=pt(2027, 4, 28, 10),
        arrived_at=pt(2027, 4, 20, 9),
        calendar=plan_calendar(),
    )
    assert (result.due_at, result.rule) == (
        pt(2027, 4, 23, 9),
        "information_received_original_window",
    )
