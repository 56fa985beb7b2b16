"""The new-TAR flow through the Django test client: drafts that survive a closed tab, the
coverage answer, the questionnaire, documents and the submission."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from authorizations.models import Tar
from portal.models import TarDraft
from tests.portal.browser import TINY_PDF

pytestmark = pytest.mark.django_db


def _start(client) -> int:
    response = client.post("/provider/drafts/new")
    assert response.status_code == 302
    return TarDraft.objects.latest("id").pk


def _request_step(world, code="64483", **extra) -> dict:
    start = timezone.localdate() + timedelta(days=10)
    return {
        "request_type": "pre_service",
        "urgency": "routine",
        "servicing_provider": world.redwood_specialist.npi,
        "referral": str(world.referral.pk),
        "place_of_service": "24",
        "line_count": "1",
        "line-0-code": code,
        "line-0-diagnosis_codes": "M54.16",
        "line-0-units": "1",
        "line-0-spinal_region": "lumbar",
        "line-0-service_date_from": start.isoformat(),
        "line-0-service_date_to": (start + timedelta(days=30)).isoformat(),
        "action": "continue",
        **extra,
    }


def _member_step(client, draft, world):
    return client.post(
        f"/provider/drafts/{draft}/member",
        {"cin": world.member.cin, "date_of_birth": "1970-01-01", "action": "continue"},
    )


def test_a_draft_is_autosaved_and_resumed(client_for, world):
    client = client_for("provider")
    draft = _start(client)
    response = client.post(
        f"/provider/drafts/{draft}/member",
        {"cin": world.member.cin, "date_of_birth": ""},
        headers={"X-Autosave": "1"},
    )
    assert response.status_code == 204
    # The tab is closed; the provider comes back through the dashboard.
    dashboard = client.get("/provider/").content.decode()
    assert f"/provider/drafts/{draft}/member" in dashboard
    resumed = client.get(f"/provider/drafts/{draft}/member").content.decode()
    assert f'value="{world.member.cin}"' in resumed


def test_the_member_lookup_shows_eligibility(client_for, world):
    client = client_for("provider")
    draft = _start(client)
    page = client.post(
        f"/provider/drafts/{draft}/member",
        {"cin": world.member.cin, "date_of_birth": "1970-01-01", "action": "lookup"},
    )
    assert page.status_code == 200
    assert b"Eligible for Medi-Cal with the plan" in page.content
    wrong = client.post(
        f"/provider/drafts/{draft}/member",
        {"cin": world.member.cin, "date_of_birth": "1980-01-01", "action": "lookup"},
    )
    assert wrong.status_code == 400
    assert b"No member with this CIN and date of birth" in wrong.content


def test_no_tar_needed_is_said_at_once(client_for, world):
    client = client_for("provider")
    draft = _start(client)
    _member_step(client, draft, world)
    response = client.post(f"/provider/drafts/{draft}/request", _request_step(world, code="62367"))
    assert response.status_code == 400
    assert b"No TAR is needed for some services" in response.content
    assert b"need no prior authorization" in response.content


def test_a_whole_submission_through_the_portal(
    client_for, world, django_capture_on_commit_callbacks
):
    client = client_for("provider")
    draft = _start(client)
    assert _member_step(client, draft, world).status_code == 302
    response = client.post(f"/provider/drafts/{draft}/request", _request_step(world))
    assert response["Location"].endswith("/questions")
    questions = client.get(f"/provider/drafts/{draft}/questions").content.decode()
    assert "How many weeks has this pain lasted?" in questions
    bad = client.post(f"/provider/drafts/{draft}/questions", {"pain_score": "11"})
    assert bad.status_code == 400
    answers = {
        "radicular_findings": "true",
        "pain_duration_weeks": "10",
        "pain_score": "7",
        "function_scale_documented": "true",
        "conservative_care_weeks": "8",
        "conservative_modalities": ["medications", "physical_therapy"],
        "imaging_guidance": "fluoroscopy",
        "approach": "transforaminal",
        "levels": "1",
        "prior_sessions_12mo": "0",
    }
    assert client.post(f"/provider/drafts/{draft}/questions", answers).status_code == 302
    upload = SimpleUploadedFile("note.pdf", TINY_PDF, content_type="application/pdf")
    client.post(f"/provider/drafts/{draft}/documents", {"file": upload, "action": "upload"})
    review = client.get(f"/provider/drafts/{draft}/review").content.decode()
    assert "If you submit now, the plan's decision is due by" in review
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/provider/drafts/{draft}/submit")
    tar = Tar.objects.get()
    assert response["Location"] == f"/provider/tars/{tar.pk}/submitted"
    assert tar.channel == "portal"
    assert tar.answers["conservative_modalities"] == ["medications", "physical_therapy"]
    assert tar.lines.get().recommendation == "meets_criteria"
    assert tar.attachments.count() == 1
    assert not TarDraft.objects.filter(pk=draft).exists()
    confirmation = client.get(response["Location"]).content.decode()
    assert tar.number in confirmation
    # A second click finds no draft: no second request.
    assert client.post(f"/provider/drafts/{draft}/submit").status_code == 404
    assert Tar.objects.count() == 1


def test_a_request_without_a_raf_is_confirmed_then_received_flagged(client_for, world):
    """Issue 11 row 8 (PRODUCT §4 "received, not refused"): the portal warns before
    submitting; once the provider confirms, the plan receives the request, flagged."""
    client = client_for("provider")
    draft = _start(client)
    _member_step(client, draft, world)
    client.post(f"/provider/drafts/{draft}/request", _request_step(world, referral=""))
    client.post(f"/provider/drafts/{draft}/questions", {})
    response = client.post(f"/provider/drafts/{draft}/submit")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Before you submit" in page
    assert "Pain-management procedures need a referral (RAF)" in page
    assert 'name="acknowledge_warnings" value="yes"' in page
    assert Tar.objects.count() == 0
    response = client.post(f"/provider/drafts/{draft}/submit", {"acknowledge_warnings": "yes"})
    tar = Tar.objects.get()
    assert response["Location"] == f"/provider/tars/{tar.pk}/submitted"
    assert (tar.status, tar.channel, tar.referral) == ("submitted", "portal", None)
    assert [flag["field"] for flag in tar.intake_flags] == ["referral"]
    assert tar.decision_due_at is not None
    queue = client_for("nurse").get("/review/").content.decode()
    assert tar.number in queue and "Flagged at receipt" in queue


def test_lines_are_added_and_removed(client_for, world):
    client = client_for("provider")
    draft = _start(client)
    _member_step(client, draft, world)
    page = client.post(f"/provider/drafts/{draft}/request", _request_step(world, action="add_line"))
    assert b"Service line 2" in page.content
    page = client.post(
        f"/provider/drafts/{draft}/request",
        {**_request_step(world), "line_count": "2", "action": "remove_line-1"},
    )
    assert b"Service line 2" not in page.content


def test_deleting_a_draft(client_for, world):
    client = client_for("provider")
    draft = _start(client)
    client.post(f"/provider/drafts/{draft}/delete")
    assert not TarDraft.objects.filter(pk=draft).exists()


def test_a_pcp_office_creates_a_referral(client_for, world):
    from authorizations.models import Referral

    client = client_for("pcp")
    today = timezone.localdate()
    response = client.post(
        "/provider/referrals/new",
        {
            "member": world.other_member.cin,
            "to_organization": str(world.redwood.pk),
            "specialty": "pain_medicine",
            "reason": "Neck pain",
            "diagnosis_codes": "M54.2",
            "valid_from": today.isoformat(),
            "valid_to": (today + timedelta(days=90)).isoformat(),
            "visits_authorized": "2",
        },
    )
    assert response.status_code == 302
    assert Referral.objects.filter(reason="Neck pain", member=world.other_member).exists()
    refused = client_for("provider").post(
        "/provider/referrals/new",
        {
            "member": world.member.cin,
            "to_organization": str(world.coastal.pk),
            "specialty": "pain_medicine",
            "reason": "x",
            "diagnosis_codes": "M54.2",
            "valid_from": today.isoformat(),
            "valid_to": today.isoformat(),
            "visits_authorized": "1",
        },
    )
    assert refused.status_code == 403
    assert b"Only the member&#x27;s assigned primary-care office" in refused.content
