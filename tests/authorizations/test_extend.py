"""Extensions (PRODUCT §4): reasons, caps and counts, delay notices, history."""

from datetime import timedelta

import pytest
from django.utils import timezone

from authorizations.models import Extension, HistoryEntry, Tar
from notifications.models import Notice

pytestmark = pytest.mark.django_db


def _extend(api, tar_id, *, days_after_receipt, persona="nurse", reason="expert_review_needed"):
    tar = Tar.objects.get(pk=tar_id)
    new_due = tar.received_at + timedelta(days=days_after_receipt)
    return api(persona).post(
        f"/api/v1/tars/{tar_id}/extend",
        {"reason": reason, "new_due_at": new_due.isoformat(), "note": "Pain specialist review."},
        format="json",
    )


def test_routine_request_can_be_extended_twice_within_21_days(api, submit):
    tar_id = submit()
    first = _extend(api, tar_id, days_after_receipt=12)
    assert first.status_code == 200, first.json()
    assert first.json()["extension_count"] == 1
    assert first.json()["decision_due_rule"] == "extension_1"
    second = _extend(api, tar_id, days_after_receipt=20)
    assert second.status_code == 200
    third = _extend(api, tar_id, days_after_receipt=20.5)
    assert third.status_code == 409
    assert third.json()["fields"]["new_due_at"] == ["extension_limit_reached"]
    assert Extension.objects.filter(tar_id=tar_id).count() == 2


def test_extension_beyond_the_21_day_cap_is_refused(api, submit):
    response = _extend(api, submit(), days_after_receipt=23)
    assert response.status_code == 409
    assert response.json()["code"] == "clock_rule"
    assert response.json()["fields"]["new_due_at"] == ["extension_beyond_cap"]


def test_urgent_request_extends_once_to_14_days(api, submit):
    tar_id = submit(urgency="urgent", urgency_reason="New foot drop.")
    assert _extend(api, tar_id, days_after_receipt=13).status_code == 200
    assert _extend(api, tar_id, days_after_receipt=13.5).status_code == 409


def test_post_service_requests_cannot_be_extended(api, submit, tar_payload):
    day = timezone.localdate() - timedelta(days=3)
    lines = tar_payload()["lines"]
    lines[0].update(service_date_from=day.isoformat(), service_date_to=day.isoformat())
    tar_id = submit(request_type="post_service", date_of_service=day.isoformat(), lines=lines)
    response = _extend(api, tar_id, days_after_receipt=31)
    assert response.status_code == 409
    assert response.json()["fields"]["new_due_at"] == ["extension_not_allowed"]


def test_extension_needs_a_known_reason(api, submit):
    response = _extend(api, submit(), days_after_receipt=10, reason="because")
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]


def test_provider_cannot_extend(api, submit):
    assert _extend(api, submit(), days_after_receipt=10, persona="provider").status_code == 403


def test_extension_records_who_why_and_owes_delay_notices(
    api, submit, world, django_capture_on_commit_callbacks
):
    tar_id = submit()
    old_due = Tar.objects.get(pk=tar_id).decision_due_at
    with django_capture_on_commit_callbacks(execute=True):
        assert _extend(api, tar_id, days_after_receipt=12).status_code == 200
    extension = Extension.objects.get(tar_id=tar_id)
    assert extension.extended_by == world.users["nurse"]
    assert extension.reason == "expert_review_needed"
    assert extension.previous_due_at == old_due
    history = HistoryEntry.objects.get(tar_id=tar_id, action="extended")
    assert history.detail["extension_reason"] == "expert_review_needed"
    delay = Notice.objects.filter(tar_id=tar_id, kind="delay")
    assert sorted(delay.values_list("audience", flat=True)) == ["member", "provider"]
    # The delay notice must go out before the old deadline passes.
    assert all(n.due_at == old_due for n in delay)
