"""Owed notices past their due time are marked overdue once (the notices' deadline sweep)."""

from datetime import timedelta

from django.utils import timezone

from authorizations.models import HistoryEntry
from notifications.models import Notice
from notifications.services import notices_mark_overdue


def test_overdue_notices_are_marked_once(submit, api, django_capture_on_commit_callbacks):
    tar_id = submit()
    with django_capture_on_commit_callbacks(execute=True):
        api("nurse").post(f"/api/v1/tars/{tar_id}/decision", {"outcome": "approved"}, format="json")
    # The provider copy goes out at once (portal inbox and e-mail); the member's letter waits
    # for the mail house, so it is still owed.
    owed = list(Notice.objects.filter(tar_id=tar_id, status="owed"))
    assert [n.audience for n in owed] == ["member"]
    later = timezone.now() + timedelta(days=10)
    assert notices_mark_overdue(now=later) == 1
    assert notices_mark_overdue(now=later + timedelta(minutes=1)) == 0
    assert Notice.objects.get(pk=owed[0].pk).overdue_at == later
    assert HistoryEntry.objects.filter(tar_id=tar_id, action="notice_overdue").count() == 1
