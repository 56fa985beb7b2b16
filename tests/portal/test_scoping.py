"""Nothing of another organization or member is ever shown: every portal page answers 404 for
a request the caller may not see, and 403 for a page their role does not use."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from authorizations.models import HistoryAction, HistoryEntry
from portal.services import draft_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def redwood_tar(submit):
    return submit()


@pytest.mark.parametrize(
    "url",
    [
        "/provider/tars/{id}/",
        "/provider/tars/{id}/submitted",
    ],
)
def test_provider2_cannot_open_redwoods_request(client_for, redwood_tar, url):
    response = client_for("provider2").get(url.format(id=redwood_tar))
    assert response.status_code == 404


@pytest.mark.parametrize("url", ["/provider/tars/{id}/respond", "/provider/tars/{id}/documents"])
def test_provider2_cannot_post_to_redwoods_request(client_for, redwood_tar, url):
    response = client_for("provider2").post(url.format(id=redwood_tar), {"response": "x"})
    assert response.status_code == 404


def test_provider2_lists_only_its_own_requests(client_for, redwood_tar, world):
    from authorizations.models import Tar

    number = Tar.objects.get(pk=redwood_tar).number
    assert number in client_for("provider").get("/provider/").content.decode()
    page = client_for("provider2").get("/provider/").content.decode()
    assert number not in page
    assert world.member.cin not in page


def test_referrals_of_other_organizations_are_not_listed(client_for, world):
    page = client_for("provider2").get("/provider/referrals/").content.decode()
    assert world.referral.number not in page
    assert world.other_referral.number in page  # to Coastal


def test_another_members_request_is_not_found(client_for, redwood_tar):
    client = client_for("other_member")
    assert client.get(f"/member/tars/{redwood_tar}/").status_code == 404
    assert client.post(f"/member/tars/{redwood_tar}/criteria-copy").status_code == 404
    assert client_for("member").get(f"/member/tars/{redwood_tar}/").status_code == 200


def test_member_lists_only_their_own_requests(client_for, redwood_tar):
    from authorizations.models import Tar

    number = Tar.objects.get(pk=redwood_tar).number
    assert number in client_for("member").get("/member/").content.decode()
    assert number not in client_for("other_member").get("/member/").content.decode()


def test_a_drafts_belong_to_their_author(client_for, world):
    draft = draft_create(user=world.users["provider"])
    client = client_for("provider2")
    assert client.get(f"/provider/drafts/{draft.pk}/member").status_code == 404
    assert client.post(f"/provider/drafts/{draft.pk}/delete").status_code == 404
    assert client.post(f"/provider/drafts/{draft.pk}/submit").status_code == 404
    assert client_for("provider").get(f"/provider/drafts/{draft.pk}/member").status_code == 200


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("provider", "/review/"),
        ("provider", "/review/tars/{id}/"),
        ("provider", "/physician/"),
        ("provider", "/member/"),
        ("member", "/provider/"),
        ("member", "/review/tars/{id}/"),
        ("member", "/physician/tars/{id}/"),
        ("nurse", "/provider/"),
        ("nurse", "/member/"),
        ("nurse", "/physician/tars/{id}/"),
        ("physician", "/review/"),
        ("physician", "/provider/tars/{id}/"),
        ("coordinator", "/review/"),
    ],
)
def test_pages_of_another_role_are_forbidden(client_for, redwood_tar, persona, url):
    response = client_for(persona).get(url.format(id=redwood_tar))
    assert response.status_code == 403
    assert b"You do not have access to this page." in response.content


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("physician", "/review/tars/{id}/claim"),
        ("physician", "/review/tars/{id}/approve"),
        ("provider", "/review/tars/{id}/refer"),
        ("member", "/review/tars/{id}/close"),
        ("nurse", "/physician/tars/{id}/"),
        ("nurse", "/member/tars/{id}/criteria-copy"),
    ],
)
def test_actions_of_another_role_are_forbidden(client_for, redwood_tar, persona, url):
    assert client_for(persona).post(url.format(id=redwood_tar)).status_code == 403


@pytest.mark.parametrize(
    "url", ["/provider/", "/review/", "/physician/", "/member/", "/review/tars/1/"]
)
def test_signed_out_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_plan_staff_may_read_a_request_but_only_nurses_act(client_for, redwood_tar):
    page = client_for("manager").get(f"/review/tars/{redwood_tar}/")
    assert page.status_code == 200
    assert b"Claim this request" not in page.content
    assert b"Claim this request" in client_for("nurse").get(f"/review/tars/{redwood_tar}/").content


def test_notices_are_shown_to_their_audience_only(
    client_for, api, redwood_tar, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api("nurse").post(f"/api/v1/tars/{redwood_tar}/claim")
        api("nurse").post(
            f"/api/v1/tars/{redwood_tar}/decision", {"outcome": "approved"}, format="json"
        )
    provider_page = client_for("provider").get(f"/provider/tars/{redwood_tar}/").content.decode()
    member_page = client_for("member").get(f"/member/tars/{redwood_tar}/").content.decode()
    nurse_page = client_for("nurse").get(f"/review/tars/{redwood_tar}/").content.decode()
    assert "(Member)" not in provider_page
    assert "Approval notice" in member_page
    assert "(Provider)" in nurse_page and "(Member)" in nurse_page


# --- least privilege among plan staff (PRODUCT §2, 002 "Confidentiality") ------------------

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CLINICAL_SECTIONS = [b"Clinical answers", b"Answers used", b"/api/v1/attachments/", b"mri-report"]


@pytest.fixture
def attached_tar(api, redwood_tar):
    response = api("provider").post(
        f"/api/v1/tars/{redwood_tar}/attachments",
        {"file": SimpleUploadedFile("mri-report.pdf", PDF_BYTES, "application/pdf")},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    return redwood_tar


@pytest.mark.parametrize(
    ("persona", "own_page"),
    [
        ("coordinator", "/intake/tars/{id}/"),
        ("memberservices", "/member-services/tars/{id}/"),
    ],
)
def test_intake_and_member_services_pages_show_no_clinical_record(
    client_for, attached_tar, persona, own_page
):
    client = client_for(persona)
    page = client.get(own_page.format(id=attached_tar))
    assert page.status_code == 200
    for text in CLINICAL_SECTIONS:
        assert text not in page.content, text
    # The nurse's case page is not theirs to read: they are sent to their own.
    review = client.get(f"/review/tars/{attached_tar}/")
    assert review.status_code == 302
    assert review["Location"] == own_page.format(id=attached_tar)
    assert not HistoryEntry.objects.filter(
        tar_id=attached_tar, action=HistoryAction.CLINICAL_READ
    ).exists()


def test_intake_sees_how_many_pages_are_attached(client_for, attached_tar):
    page = client_for("coordinator").get(f"/intake/tars/{attached_tar}/")
    assert b"1 document attached." in page.content
    assert b"Attach pages" in page.content


@pytest.mark.parametrize("persona", ["nurse", "manager"])
def test_health_services_case_page_shows_answers_criteria_and_documents(
    client_for, attached_tar, persona
):
    page = client_for(persona).get(f"/review/tars/{attached_tar}/")
    assert page.status_code == 200
    for text in CLINICAL_SECTIONS:
        assert text in page.content, text
    assert HistoryEntry.objects.filter(
        tar_id=attached_tar, action=HistoryAction.CLINICAL_READ
    ).exists()
