"""One gate for input (issue 12; tar_portal/input_guard.py): control characters refused with
400 in every path, query parameter and body field; JSON size and depth capped; clock preview
outside the calendar's years is a 400; every /api/ 404 and 405 in the JSON error shape; a
refused upload leaves no file, and stored files are named by their sniffed type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from authorizations.models import Attachment, Tar
from portal.models import DraftDocument
from tar_portal.input_guard import CONTROL_MESSAGE

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<< /Type /Catalog >>endobj\ntrailer<< /Root 1 0 R >>\n%%EOF\n"
BAD = ["\x00", "\x01", "\x1b", "\x7f", "\x85"]


def _refused(response, field: str | None = None) -> dict:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == "invalid"
    if field is not None:
        assert field in body["fields"], body["fields"]
    return body


@pytest.mark.parametrize("char", BAD)
def test_control_characters_in_a_query_parameter(api, char):
    _refused(api("nurse").get("/api/v1/tars/", {"member": f"9000{char}0001A"}), "member")


def test_control_characters_in_a_parameter_name(api):
    body = _refused(api("nurse").get("/api/v1/tars/?sta%00tus=x"))
    assert "sta?tus" in body["fields"]


def test_control_characters_in_the_path(api):
    _refused(api("nurse").get("/api/v1/members/9000%000001A/"), "path")
    _refused(api("nurse").get("/api/v1/tars/1%1b/history"), "path")


@pytest.mark.parametrize("char", BAD)
def test_control_characters_in_a_nested_json_field(api, tar_payload, char):
    body = tar_payload()
    body["lines"][0]["code"] = f"644{char}83"
    body["servicing_facility"] = f"Redwood{char} ASC"
    response = api("provider").post("/api/v1/tars/", body, format="json")
    refused = _refused(response, "lines[0].code")
    assert refused["fields"]["lines[0].code"] == [CONTROL_MESSAGE]
    assert refused["fields"]["servicing_facility"] == [CONTROL_MESSAGE]
    assert Tar.objects.count() == 0


def test_control_characters_in_a_json_key(api, tar_payload):
    body = tar_payload(answers={"pain\x00score": 7})
    _refused(api("provider").post("/api/v1/tars/", body, format="json"), "answers.pain?score")


def test_tab_newline_and_carriage_return_are_fine(api, submit):
    tar_id = submit("provider")
    response = api("nurse").post(
        f"/api/v1/tars/{tar_id}/request-info",
        {"message": "Please send:\r\n\t- the MRI report\n\t- PT notes"},
        format="json",
    )
    assert response.status_code == 200, response.json()


def test_control_characters_in_a_form_field(api, submit):
    tar_id = submit("provider")
    response = api("provider").post(
        f"/api/v1/tars/{tar_id}/attachments",
        {"file": SimpleUploadedFile("mri.pdf", PDF, "application/pdf"), "description": "M\x00RI"},
        format="multipart",
    )
    _refused(response, "description")
    assert Attachment.objects.count() == 0


def test_control_characters_in_an_uploaded_file_name_never_reach_the_record(api, submit):
    """Django's multipart parser already drops them from file names; the gate checks again."""
    tar_id = submit("provider")
    response = api("provider").post(
        f"/api/v1/tars/{tar_id}/attachments",
        {"file": SimpleUploadedFile("mri\x01.pdf", PDF, "application/pdf")},
        format="multipart",
    )
    if response.status_code == 201:
        assert Attachment.objects.get().original_name == "mri.pdf"
    else:
        _refused(response, "file")


def test_portal_forms_refuse_control_characters_too(world):
    client = Client()
    response = client.post("/accounts/login/", {"username": "nurse\x00", "password": "x"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"characters that are not allowed" in response.content


def test_json_nesting_depth_is_capped(api):
    nested: object = "deep"
    for _ in range(40):
        nested = {"a": nested}
    response = api("provider").post(
        "/api/v1/criteria/evaluate", {"code": "64483", "answers": nested}, format="json"
    )
    body = _refused(response)
    assert "nested" in body["message"]


def test_json_body_size_is_capped(api, settings):
    settings.TAR_JSON_MAX_BYTES = 2000
    payload = json.dumps({"code": "64483", "answers": {"x": "y" * 3000}})
    response = api("provider").post(
        "/api/v1/criteria/evaluate", payload, content_type="application/json"
    )
    body = _refused(response)
    assert "larger" in body["message"]


@pytest.mark.parametrize("received_at", ["2150-01-01T09:00:00Z", "1999-06-01T09:00:00-07:00"])
def test_clock_preview_outside_the_calendar_is_a_400(api, received_at):
    response = api("provider").get(
        "/api/v1/clock/preview",
        {"received_at": received_at, "request_type": "pre_service", "urgency": "routine"},
    )
    _refused(response, "received_at")


def test_clock_preview_at_the_end_of_the_calendar_is_a_400_not_a_500(api):
    response = api("provider").get(
        "/api/v1/clock/preview",
        {
            "received_at": "2040-12-31T16:00:00-08:00",
            "request_type": "pre_service",
            "urgency": "routine",
        },
    )
    assert response.status_code in (200, 400)


@pytest.mark.parametrize(
    "path", ["/api/v1/tars/abc/", "/api/v1/no-such-thing/", "/api/v1/tars/999999/"]
)
@pytest.mark.parametrize("debug", [False, True])
def test_api_404s_are_json(api, settings, path, debug):
    settings.DEBUG = debug
    response = api("nurse").get(path)
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "fields": {}}


def test_api_405s_are_json(api):
    response = api("nurse").put("/api/v1/tars/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert set(response.json()) == {"code", "message", "fields"}


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_refused_upload_leaves_no_file(api, submit, settings):
    tar_id = submit("provider")
    client = api("provider")
    for name, data in [("notes.pdf", b"plain text, not a PDF"), ("empty.pdf", b"")]:
        response = client.post(
            f"/api/v1/tars/{tar_id}/attachments",
            {"file": SimpleUploadedFile(name, data, "application/pdf")},
            format="multipart",
        )
        assert response.status_code == 400
    response = client.post(
        f"/api/v1/tars/{tar_id}/attachments",
        {"file": SimpleUploadedFile("mri.pdf", PDF, "application/pdf"), "description": "\x00"},
        format="multipart",
    )
    assert response.status_code == 400
    assert _files(Path(settings.PRIVATE_STORAGE_ROOT)) == []


def test_stored_names_follow_the_sniffed_type(api, submit, world, settings):
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
        b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe"
        b"\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    tar_id = submit("provider")
    response = api("provider").post(
        f"/api/v1/tars/{tar_id}/attachments",
        {"file": SimpleUploadedFile("scan.pdf", png, "application/pdf")},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert Attachment.objects.get().file.name.endswith(".png")
    # The draft store of the portal, too.
    client = Client()
    client.force_login(world.users["provider"])
    draft_url = client.post("/provider/drafts/new").url
    documents_url = draft_url.replace("/member", "/documents")
    client.post(documents_url, {"file": SimpleUploadedFile("scan.pdf", png, "application/pdf")})
    document = DraftDocument.objects.get()
    assert document.file.name.endswith(".png")
