"""GET /tars/{id}/letters, GET /letters/{id}/download and POST /tars/{id}/criteria-copy:
scoped to those entitled (404 for everyone else)."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from authorizations.models import HistoryEntry, ServiceLine
from criteria import catalog
from notifications.models import CriteriaCopyRequest
from tests.notifications.conftest import ESI_SHORT_CARE, letter_for, letter_pdf
from tests.notifications.pdf import has, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def denied(submit, deny):
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    return tar_id


def _letters(api, persona, tar_id):
    return api(persona).get(reverse("api-tar-letters", kwargs={"tar_id": tar_id}))


def _download(api, persona, letter_id):
    return api(persona).get(reverse("api-letter-download", kwargs={"letter_id": letter_id}))


def test_each_party_lists_only_its_own_copies(api, denied):
    provider = _letters(api, "provider", denied)
    assert provider.status_code == 200
    assert [(x["kind"], x["audience"]) for x in provider.json()] == [("denial", "provider")]
    member = _letters(api, "member", denied)
    assert [x["audience"] for x in member.json()] == ["member"]
    staff = _letters(api, "nurse", denied)
    assert sorted(x["audience"] for x in staff.json()) == ["member", "provider"]
    first = staff.json()[0]
    assert first["current"] is True and first["version"] == 1
    assert first["download_url"] == reverse(
        "api-letter-download", kwargs={"letter_id": first["id"]}
    )


def test_outsiders_get_404_for_the_list(api, denied):
    assert _letters(api, "provider2", denied).status_code == 404
    assert _letters(api, "other_member", denied).status_code == 404


def test_download_returns_the_stored_pdf_privately(api, denied):
    letter = letter_for(denied, "denial", "provider")
    response = _download(api, "provider", letter.pk)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == letter.sha256
    assert "attachment" in response["Content-Disposition"]


def test_download_scoping(api, denied):
    provider_copy = letter_for(denied, "denial", "provider")
    member_copy = letter_for(denied, "denial", "member")
    assert _download(api, "provider2", provider_copy.pk).status_code == 404
    assert _download(api, "other_member", member_copy.pk).status_code == 404
    assert _download(api, "provider", member_copy.pk).status_code == 404
    assert _download(api, "member", provider_copy.pk).status_code == 404
    assert _download(api, "member", member_copy.pk).status_code == 200
    assert _download(api, "memberservices", member_copy.pk).status_code == 200
    assert _download(api, "provider", 999999).status_code == 404
    assert APIClient().get(
        reverse("api-letter-download", kwargs={"letter_id": member_copy.pk})
    ).status_code in (401, 403)


def test_staff_opening_a_letter_is_written_to_the_history(api, denied, world):
    letter = letter_for(denied, "denial", "member")
    assert _download(api, "nurse", letter.pk).status_code == 200
    entry = HistoryEntry.objects.get(
        tar_id=denied, action="clinical_read", actor=world.users["nurse"]
    )
    assert entry.detail["letter"] == letter.pk


def _copy(api, persona, tar_id, **body):
    return api(persona).post(
        reverse("api-tar-criteria-copy", kwargs={"tar_id": tar_id}), body, format="json"
    )


def test_member_gets_a_copy_of_the_exact_criteria_version_used(api, denied, run_hooks):
    response = run_hooks(_copy, api, "member", denied)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["requested_for"] == "member"
    assert body["criteria_sets"] == [{"criteria_set": "esi", "version": "2026.1"}]
    # The letter is made by a task after commit; the request records when it was fulfilled.
    request = CriteriaCopyRequest.objects.get(pk=body["id"])
    assert request.fulfilled_at is not None and request.fulfilled_at >= request.requested_at
    letter = request.letter
    assert (letter.kind, letter.audience) == ("criteria_copy", "member")
    text = pdf_text(letter_pdf(letter))
    esi = catalog.CRITERIA_SETS["esi"]
    needles = [
        "Epidural steroid injection criteria (esi), version 2026.1",
        "Criterion 3 (cited in the decision):",
        *[f"Criterion {c['number']}" for c in esi["criteria"]],
        *[c["text"] for c in esi["criteria"]],
        *esi["sources"],
        esi["disclosure"]["en"],
    ]
    assert not has(text, *needles)
    # The member can download it; the provider cannot.
    assert _download(api, "member", letter.pk).status_code == 200
    assert _download(api, "provider", letter.pk).status_code == 404


def test_provider_copy_is_for_the_office_and_emailed(api, denied, world, run_hooks):
    from django.core import mail

    before = len(mail.outbox)
    response = run_hooks(_copy, api, "provider", denied)
    assert response.status_code == 201
    assert response.json()["requested_for"] == "provider"
    request = CriteriaCopyRequest.objects.get(pk=response.json()["id"])
    assert request.notice.audience == "provider" and request.notice.kind == "criteria_copy"
    request.notice.refresh_from_db()
    assert request.notice.status == "sent" and request.notice.due_rule
    [message] = mail.outbox[before:]
    assert message.to == [world.redwood.email]
    assert message.attachments == []  # a link behind login, never the letter (issue 12)
    assert f"/provider/tars/{denied}/" in message.body


def test_member_services_asks_for_a_spanish_member(api, submit, deny, spanish_member, run_hooks):
    member, referral = spanish_member
    tar_id = submit(answers=ESI_SHORT_CARE, member=member.cin, referral=referral.pk)
    deny(tar_id)
    response = run_hooks(_copy, api, "memberservices", tar_id, requested_for="member")
    assert response.status_code == 201
    request = CriteriaCopyRequest.objects.get(pk=response.json()["id"])
    assert request.letter is not None and request.fulfilled_at is not None
    letter = request.letter
    assert (letter.language, letter.large_print) == ("es", True)
    esi = catalog.CRITERIA_SETS["esi"]
    assert not has(
        letter_pdf(letter),
        "Criterios de inyección epidural de esteroides (esi), versión 2026.1",
        "Criterio 3 (citado en la decisión):",
        *[c["text_es"] for c in esi["criteria"]],
        esi["disclosure"]["es"],
    )


def test_criteria_copy_scoping_and_validation(api, denied):
    assert _copy(api, "provider2", denied).status_code == 404
    assert _copy(api, "other_member", denied).status_code == 404
    assert _copy(api, "member", denied, requested_for="provider").status_code == 403
    assert _copy(api, "provider", denied, requested_for="member").status_code == 403
    bad = _copy(api, "member", denied, requested_for="neighbour")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_no_criteria_applied_means_nothing_to_copy(api, submit):
    tar_id = submit()
    ServiceLine.objects.filter(tar_id=tar_id).update(criteria_set=None)
    response = _copy(api, "member", tar_id)
    assert response.status_code == 409


def test_criteria_copy_before_a_decision_uses_the_evaluated_versions(api, submit, run_hooks):
    tar_id = submit()
    response = run_hooks(_copy, api, "member", tar_id)
    assert response.status_code == 201
    assert response.json()["criteria_sets"] == [{"criteria_set": "esi", "version": "2026.1"}]
    assert response.json()["decision"] is None
