"""Criteria texts for each reader on the pages (issue 15): nurse, physician and provider
screens show the clinical wording and rule names in words; member screens keep the member's
own wording; a criteria copy still being mailed is shown, not asked for again."""

from __future__ import annotations

import re

import pytest

from authorizations import services
from criteria import catalog
from notifications import services as notification_services
from notifications.models import CriteriaCopyRequest, Notice
from tests import factories
from tests.portal.casework import NOT_MET, deny

pytestmark = pytest.mark.django_db

MEMBER_VOICE = catalog.criterion_text("esi:2026.1:1", "member")
STAFF_VOICE = catalog.criterion_text("esi:2026.1:1", "staff")
# Ids staff must never read: set and family ids, citations, status codes, clock rule ids.
RAW_IDS = re.compile(
    r"\b(esi|facet_mbb|facet_rfa|scs_trial|pump_trial) 2026\.\d|esi:2026|\(esi\)|"
    r"in_review|\bsubmitted →|routine_5_business_days|urgent_72_hours"
)


def _text(html: str) -> str:
    """The page's visible words (attribute values such as form refs are not shown)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _no_raw_ids(html: str) -> None:
    found = RAW_IDS.search(_text(html))
    assert found is None, found.group(0)


def test_the_nurse_and_physician_read_the_clinical_wording_and_no_ids(client_for, api, submit):
    tar_id = submit(answers=NOT_MET)
    api("nurse").post(f"/api/v1/tars/{tar_id}/claim")
    nurse = client_for("nurse").get(f"/review/tars/{tar_id}/").content.decode()
    assert STAFF_VOICE in nurse and MEMBER_VOICE not in nurse
    assert "Epidural steroid injection 2026.1" in nurse
    _no_raw_ids(nurse)
    api("nurse").post(f"/api/v1/tars/{tar_id}/refer", {"note": "No radicular signs."})
    physician = client_for("physician").get(f"/physician/tars/{tar_id}/").content.decode()
    assert STAFF_VOICE in physician and MEMBER_VOICE not in physician
    _no_raw_ids(physician)
    queue = client_for("physician").get("/physician/").content.decode()
    assert STAFF_VOICE in queue and MEMBER_VOICE not in queue
    _no_raw_ids(queue)
    _no_raw_ids(client_for("nurse").get("/review/").content.decode())


def test_the_provider_reads_the_clinical_wording_and_the_member_their_own(
    client_for, world, submit
):
    tar_id = submit(answers=NOT_MET)
    deny(world, tar_id)
    provider = client_for("provider").get(f"/provider/tars/{tar_id}/").content.decode()
    assert STAFF_VOICE in provider and MEMBER_VOICE not in provider
    member = client_for("member").get(f"/member/tars/{tar_id}/").content.decode()
    assert MEMBER_VOICE in member and STAFF_VOICE not in member
    decided = client_for("nurse").get(f"/review/tars/{tar_id}/").content.decode()
    assert "Epidural steroid injection 2026.1, criterion 1" in decided
    _no_raw_ids(decided)


def test_a_criteria_copy_on_its_way_is_shown_with_its_date_not_sent_twice(
    client_for, world, submit
):
    tar_id = submit(answers=factories.ESI_MEETS)
    services.tar_decide(tar_id=tar_id, user=world.users["nurse"], outcome="approved")
    member = client_for("member")
    url = f"/member/tars/{tar_id}/criteria-copy"
    first = member.post(url, follow=True).content.decode()
    assert "Thank you. We will send you a free copy" in first
    assert "already on its way" in first
    again = member.post(url, follow=True).content.decode()
    assert "already on its way: you asked for it on" in again
    assert f'action="/member/tars/{tar_id}/criteria-copy"' not in again
    assert CriteriaCopyRequest.objects.filter(tar_id=tar_id).count() == 1
    # Member services asking for the member while it is being mailed makes no second copy.
    notification_services.criteria_copy_request(
        tar_id=tar_id, user=world.users["memberservices"], requested_for="member"
    )
    assert CriteriaCopyRequest.objects.filter(tar_id=tar_id).count() == 1
    # Once mailed, the member may ask again.
    Notice.objects.filter(tar_id=tar_id, kind="criteria_copy").update(status="sent")
    assert f'action="/member/tars/{tar_id}/criteria-copy"' in (
        client_for("member").get(f"/member/tars/{tar_id}/").content.decode()
    )
