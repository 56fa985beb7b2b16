"""`Idempotency-Key` on POST /api/v1/tars/ (README, PRODUCT §8): a retried submission returns
the first TAR instead of creating a second; keys are per user."""

from __future__ import annotations

import pytest

from authorizations.models import HistoryEntry, Tar

pytestmark = pytest.mark.django_db

URL = "/api/v1/tars/"


def _post(client, body, key: str | None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(URL, body, format="json", **headers)


def test_same_key_twice_returns_the_first_tar(api, tar_payload):
    client = api("provider")
    first = _post(client, tar_payload(), "retry-1")
    second = _post(client, tar_payload(), "retry-1")
    assert first.status_code == 201, first.json()
    assert second.status_code == 200, second.json()
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["number"] == first.json()["number"]
    assert second.json()["received_at"] == first.json()["received_at"]
    assert Tar.objects.count() == 1
    assert HistoryEntry.objects.filter(action="created").count() == 1


def test_same_key_with_a_different_body_is_422(api, tar_payload):
    """The key names the submission; a retry is never a second request, and reusing the key
    for another request is a client bug, refused with its own code (issue 12)."""
    client = api("provider")
    first = _post(client, tar_payload(), "retry-2")
    second = _post(client, tar_payload(place_of_service="22"), "retry-2")
    assert second.status_code == 422
    body = second.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in body["fields"]
    assert Tar.objects.count() == 1
    # The same body again is still the retry of the first.
    again = _post(client, tar_payload(), "retry-2")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


def test_a_changed_line_is_a_different_body(api, tar_payload):
    client = api("provider")
    body = tar_payload()
    _post(client, body, "retry-3")
    body["lines"][0]["units"] = 2
    assert _post(client, body, "retry-3").status_code == 422


def test_different_keys_make_two_tars(api, tar_payload):
    client = api("provider")
    first = _post(client, tar_payload(), "key-a")
    second = _post(client, tar_payload(), "key-b")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert first.json()["number"] != second.json()["number"]
    assert Tar.objects.count() == 2


def test_no_key_makes_a_new_tar_each_time(api, tar_payload):
    client = api("provider")
    assert _post(client, tar_payload(), None).status_code == 201
    assert _post(client, tar_payload(), None).status_code == 201
    assert Tar.objects.count() == 2
    assert not Tar.objects.exclude(idempotency_key=None).exists()


def test_same_key_from_another_user_is_a_separate_tar(api, world, tar_payload):
    """Keys are scoped to the user who sent them: one user's key never returns (or reveals)
    another user's request."""
    mine = _post(api("provider"), tar_payload(), "shared-key")
    theirs = _post(
        api("provider2"),
        tar_payload(
            member=world.other_member.cin,
            servicing_provider=world.coastal_specialist.npi,
            referral=world.other_referral.pk,
        ),
        "shared-key",
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["member"] == world.other_member.cin
    assert Tar.objects.count() == 2
    assert set(Tar.objects.values_list("submitted_by__username", flat=True)) == {
        "provider",
        "provider2",
    }


def test_refused_submission_does_not_burn_the_key(api, tar_payload):
    client = api("provider")
    bad = _post(client, tar_payload(urgency="urgent"), "fix-and-retry")
    assert bad.status_code == 400
    good = _post(client, tar_payload(), "fix-and-retry")
    assert good.status_code == 201, good.json()
    assert Tar.objects.count() == 1


def test_overlong_key_is_refused(api, tar_payload):
    response = _post(api("provider"), tar_payload(), "k" * 121)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "Idempotency-Key" in response.json()["fields"]
    assert Tar.objects.count() == 0
