"""Issue 11 row 16 on the staff pages: the downgrade, telephone-notice and reduction forms are
offered only when the workflow machine offers the action (`available_actions`), post to
their services, and show a refusal (400/409) without a 500 or any change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appeals.models import Appeal
from authorizations import services
from authorizations.models import OralNotice, ServiceReduction, Tar, TarStatus
from tests.conftest import BUSINESS_MORNING
from tests.portal.casework import denied_tar, member_appeal

pytestmark = [pytest.mark.django_db, pytest.mark.clock(BUSINESS_MORNING)]

DOWNGRADE = "Move to the standard timeframe"
CALL = "Record a telephone notice attempt"
REDUCE = "Reduce or end the authorized services"


def _expedited(world, submit) -> Appeal:
    return member_appeal(
        world, denied_tar(world, submit), expedited=True, expedited_reason="I cannot sleep."
    )


def test_the_appeal_page_offers_the_downgrade_only_for_an_expedited_appeal(
    world, submit, client_for
):
    standard = member_appeal(world, denied_tar(world, submit))
    page = client_for("physician2").get(f"/physician/appeals/{standard.pk}/")
    assert page.status_code == 200
    assert DOWNGRADE not in page.content.decode()

    appeal = _expedited(world, submit)
    client = client_for("physician2")
    assert DOWNGRADE in client.get(f"/physician/appeals/{appeal.pk}/").content.decode()
    url = f"/physician/appeals/{appeal.pk}/downgrade"
    refused = client.post(url, {"downgrade-reason": ""})
    assert refused.status_code == 400
    assert Appeal.objects.get(pk=appeal.pk).expedited
    moved = client.post(
        url,
        {
            "downgrade-reason": "She walks and works; 30 days do not endanger her health.",
            "downgrade-party": "member",
            "downgrade-phone": "(707) 555-0123",
            "downgrade-outcome": "no_answer",
        },
    )
    assert moved.status_code == 302
    appeal.refresh_from_db()
    assert not appeal.expedited and appeal.downgraded_at is not None
    assert OralNotice.objects.get(tar=appeal.tar).outcome == "no_answer"
    after = client.get(f"/physician/appeals/{appeal.pk}/").content.decode()
    assert f"/physician/appeals/{appeal.pk}/downgrade" not in after
    assert CALL in after
    # Again: the machine no longer offers it, and the service refuses it (409).
    again = client.post(url, {"downgrade-reason": "Again."})
    assert again.status_code == 409


def test_a_telephone_notice_is_recorded_from_the_review_page_after_an_urgent_decision(
    world, submit, client_for
):
    tar_id = submit("provider", urgency="urgent", urgency_reason="Cannot walk.")
    client = client_for("nurse")
    assert CALL not in client.get(f"/review/tars/{tar_id}/").content.decode()
    services.tar_decide(tar_id=tar_id, user=world.users["physician"], outcome="approved")
    assert CALL in client.get(f"/review/tars/{tar_id}/").content.decode()
    url = f"/review/tars/{tar_id}/oral-notice"
    body = {
        "call-subject": "urgent_decision",
        "call-party": "provider",
        "call-phone": "(707) 555-0100",
        "call-outcome": "reached",
    }
    assert client.post(url, {**body, "call-outcome": "maybe"}).status_code == 400
    assert client.post(url, {**body, "call-phone": "1"}).status_code == 400
    assert not OralNotice.objects.exists()
    assert client.post(url, body).status_code == 302
    assert OralNotice.objects.get(tar_id=tar_id).party == "provider"


def test_the_physician_page_offers_a_reduction_of_authorized_concurrent_services(
    world, submit, client_for
):
    tar_id = submit("provider", request_type="concurrent")
    client = client_for("physician")
    assert REDUCE not in client.get(f"/physician/tars/{tar_id}/").content.decode()
    services.tar_decide(tar_id=tar_id, user=world.users["physician"], outcome="approved")
    assert REDUCE in client.get(f"/physician/tars/{tar_id}/").content.decode()
    assert REDUCE not in client_for("nurse").get(f"/review/tars/{tar_id}/").content.decode()
    client = client_for("physician")
    url = f"/physician/tars/{tar_id}/reduce"
    body = {
        "reduce-kind": "termination",
        "reduce-effective_on": (BUSINESS_MORNING.date() + timedelta(days=3)).isoformat(),
        "reduce-rationale": "No lasting relief from two injections.",
        "reduce-care_plan_note": "Told Dr. Lee by phone; physical therapy continues.",
        "reduce-criteria_refs": ["esi:2026.1:1"],
    }
    too_soon = client.post(url, body)
    assert too_soon.status_code == 400
    assert "431.211" in too_soon.content.decode()
    assert Tar.objects.get(pk=tar_id).status == TarStatus.APPROVED
    body["reduce-effective_on"] = (BUSINESS_MORNING.date() + timedelta(days=14)).isoformat()
    assert client.post(url, body).status_code == 302
    assert ServiceReduction.objects.get(tar_id=tar_id).kind == "termination"
    assert Tar.objects.get(pk=tar_id).status == TarStatus.MODIFIED
