"""Bad input never gives a 500: each form answers with its errors (400), a refused action
with the service's message (403/409), an unknown object with 404."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.services import draft_create

pytestmark = pytest.mark.django_db

JUNK = {
    "cin": "<script>alert(1)</script>",
    "date_of_birth": "2026-13-45",
    "request_type": "yesterday",
    "urgency": "\x00",
    "line_count": "-3",
    "line-0-code": "ABCDEFG",
    "line-0-units": "-5",
    "line-0-service_date_from": "31/31/2031",
    "line-0-criteria_set": "nonsense",
    "pain_score": "99",
    "levels": "many",
    "mbb_relief_percents": "1, x, 3",
    "contraindications": ["__none__", "infection"],
    "outcome": "maybe",
    "reason_code": "because",
    "criteria_refs": ["esi:1999:99", "::"],
    "new_due_at": "not a date",
    "reason": "x" * 50_000,
    "missing_keys": ["no_such_key"],
    "message": "",
    "action": "remove_line-999",
    "page": "-1",
    "line-1-approved_units": "1e9",
}


@pytest.fixture
def tar_id(submit):
    return submit()


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("provider", "/provider/tars/{id}/respond"),
        ("provider", "/provider/tars/{id}/documents"),
        ("provider", "/provider/referrals/new"),
        ("pcp", "/provider/referrals/new"),
        ("nurse", "/review/tars/{id}/claim"),
        ("nurse", "/review/tars/{id}/release"),
        ("nurse", "/review/tars/{id}/approve"),
        ("nurse", "/review/tars/{id}/request-info"),
        ("nurse", "/review/tars/{id}/extend"),
        ("nurse", "/review/tars/{id}/refer"),
        ("nurse", "/review/tars/{id}/close"),
        ("physician", "/physician/tars/{id}/"),
        ("member", "/member/tars/{id}/criteria-copy"),
        ("provider", "/accounts/login/"),
    ],
)
def test_junk_posts_never_fail_with_500(client_for, tar_id, persona, url):
    response = client_for(persona).post(url.format(id=tar_id), JUNK)
    assert response.status_code < 500


@pytest.mark.parametrize("step", ["member", "request", "questions", "documents", "review"])
def test_junk_in_every_draft_step_never_fails_with_500(client_for, world, step):
    client = client_for("provider")
    draft = draft_create(user=world.users["provider"])
    # A member first, so that the later steps are reached rather than redirected.
    client.post(
        f"/provider/drafts/{draft.pk}/member",
        {"cin": world.member.cin, "date_of_birth": "1970-01-01", "action": "lookup"},
    )
    assert client.post(f"/provider/drafts/{draft.pk}/{step}", JUNK).status_code < 500
    assert (
        client.post(
            f"/provider/drafts/{draft.pk}/{step}", JUNK, headers={"X-Autosave": "1"}
        ).status_code
        < 500
    )
    assert client.get(f"/provider/drafts/{draft.pk}/{step}").status_code == 200
    assert client.post(f"/provider/drafts/{draft.pk}/submit").status_code == 400


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("nurse", "/review/?status=bogus&urgency=x&request_type=y&family=z&assignee=9999&page=x"),
        ("nurse", "/review/?page=99999"),
        ("nurse", "/review/tars/99999999999999999999/"),
        ("provider", "/provider/?page=abc"),
        ("provider", "/provider/tars/0/"),
        ("provider", "/provider/drafts/424242/member"),
        ("provider", "/provider/drafts/1/not-a-step"),
        ("physician", "/physician/?page=0"),
        ("member", "/member/?page=%00"),
        ("member", "/member/tars/424242/"),
    ],
)
def test_junk_urls_never_fail_with_500(client_for, world, persona, url):
    assert client_for(persona).get(url).status_code in (200, 400, 404)


def test_a_bad_filter_shows_the_error_and_the_default_queue(client_for, tar_id):
    response = client_for("nurse").get("/review/?urgency=sometimes")
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    assert b"TAR-" in response.content


def test_not_a_pdf_is_refused_with_the_services_words(client_for, tar_id):
    upload = SimpleUploadedFile("notes.pdf", b"just some text", content_type="application/pdf")
    response = client_for("provider").post(
        f"/provider/tars/{tar_id}/documents", {"file": upload, "description": "notes"}
    )
    assert response.status_code == 400
    assert b"Upload a PDF, PNG, JPEG or TIFF file" in response.content


def test_an_extension_past_the_cap_shows_the_clock_rule(client_for, api, tar_id):
    api("nurse").post(f"/api/v1/tars/{tar_id}/claim")
    response = client_for("nurse").post(
        f"/review/tars/{tar_id}/extend",
        {
            "extend-reason": "information_not_received",
            "extend-new_due_at": "2099-01-01T12:00",
            "extend-note": "Waiting for the MRI.",
        },
    )
    assert response.status_code == 409
    assert b"passes the cap" in response.content


def test_a_nurse_cannot_approve_what_fails_the_criteria(client_for, api, submit):
    tar_id = submit(answers={"radicular_findings": False})
    api("nurse").post(f"/api/v1/tars/{tar_id}/claim")
    response = client_for("nurse").post(f"/review/tars/{tar_id}/approve", {"approve-rationale": ""})
    assert response.status_code == 403
    assert b"need a physician" in response.content


def test_a_physician_involved_in_the_care_is_refused_with_the_reason(client_for, world, tar_id):
    physician = world.users["physician"]
    physician.provider = world.redwood_specialist
    physician.save()
    response = client_for("physician").post(
        f"/physician/tars/{tar_id}/",
        {
            "outcome": "denied",
            "reason_code": "medical_necessity",
            "rationale": "No.",
            "criteria_refs": ["esi:2026.1:1"],
        },
    )
    assert response.status_code == 403
    assert b"another physician must decide it" in response.content


def test_a_denial_without_criteria_is_refused_field_by_field(client_for, api, tar_id):
    api("nurse").post(f"/api/v1/tars/{tar_id}/refer")
    response = client_for("physician").post(
        f"/physician/tars/{tar_id}/",
        {"outcome": "denied", "reason_code": "medical_necessity", "rationale": ""},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Cite the criteria used" in body
    assert "Explain the decision in plain words" in body
