"""Attachments (README; PRODUCT §3): PDF, PNG, JPEG or TIFF, sniffed by content, at most
ATTACHMENT_MAX_BYTES, stored outside the web root and served only to those entitled."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from authorizations.models import Attachment, HistoryAction, HistoryEntry

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<< /Type /Catalog >>endobj\ntrailer<< /Root 1 0 R >>\n%%EOF\n"


def _image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not a PDF")
    return buffer.getvalue()


def _upload(client, tar_id: int, name: str, data: bytes, content_type: str = "application/pdf"):
    return client.post(
        f"/api/v1/tars/{tar_id}/attachments",
        {"file": SimpleUploadedFile(name, data, content_type), "description": "Imaging"},
        format="multipart",
    )


def _bad_file(response) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == "invalid"
    assert "file" in body["fields"]
    assert Attachment.objects.count() == 0


@pytest.fixture
def tar(submit) -> int:
    return submit("provider")


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        pytest.param("mri.pdf", PDF, "application/pdf", id="pdf"),
        pytest.param("xray.png", _image("PNG"), "image/png", id="png"),
        pytest.param("photo.jpg", _image("JPEG"), "image/jpeg", id="jpeg"),
        pytest.param("scan.tif", _image("TIFF"), "image/tiff", id="tiff"),
    ],
)
def test_allowed_types_are_stored(api, world, tar, name, data, content_type):
    response = _upload(api("provider"), tar, name, data, content_type)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["content_type"] == content_type
    assert body["original_name"] == name
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["description"] == "Imaging"
    attachment = Attachment.objects.get(pk=body["id"])
    assert attachment.uploaded_by == world.users["provider"]
    with attachment.file.open("rb") as handle:
        assert handle.read() == data
    added = HistoryEntry.objects.get(tar_id=tar, action=HistoryAction.ATTACHMENT_ADDED)
    assert added.detail["attachment"] == attachment.pk
    assert added.actor == world.users["provider"]


def test_a_pdf_name_holding_a_zip_is_refused(api, tar):
    _bad_file(_upload(api("provider"), tar, "records.pdf", _zip(), "application/pdf"))


def test_a_pdf_name_holding_text_is_refused(api, tar):
    _bad_file(_upload(api("provider"), tar, "records.pdf", b"just some text\n" * 10))


def test_type_comes_from_the_content_not_the_name(api, tar):
    png = _image("PNG")
    response = _upload(api("provider"), tar, "notes.txt", png, "text/plain")
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == "image/png"
    attachment = Attachment.objects.get(pk=response.json()["id"])
    # The stored name is ours, with the sniffed type's extension; the client's name is kept
    # only as a label.
    assert attachment.file.name.endswith(".png")
    assert "notes" not in Path(attachment.file.name).name
    assert attachment.original_name == "notes.txt"


def test_a_path_in_the_client_name_never_reaches_the_disk(api, tar, settings):
    response = _upload(api("provider"), tar, "../../etc/evil.pdf", PDF)
    assert response.status_code == 201, response.json()
    attachment = Attachment.objects.get(pk=response.json()["id"])
    stored = Path(attachment.file.path).resolve()
    assert stored.is_relative_to(Path(settings.PRIVATE_STORAGE_ROOT).resolve())
    assert ".." not in attachment.file.name
    assert "evil" not in attachment.file.name


def test_an_empty_file_is_refused(api, tar):
    _bad_file(_upload(api("provider"), tar, "empty.pdf", b""))


def test_no_file_is_refused(api, tar):
    response = api("provider").post(
        f"/api/v1/tars/{tar}/attachments", {"description": "x"}, format="multipart"
    )
    _bad_file(response)


def test_a_file_over_the_limit_is_refused(api, tar, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    data = PDF + b"%" * (1025 - len(PDF))
    assert len(data) == 1025
    _bad_file(_upload(api("provider"), tar, "big.pdf", data))


def test_a_file_at_the_limit_is_accepted(api, tar, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    data = PDF + b"%" * (1024 - len(PDF))
    response = _upload(api("provider"), tar, "exact.pdf", data)
    assert response.status_code == 201, response.json()
    assert response.json()["size"] == 1024


def test_files_are_stored_in_private_storage_not_the_web_root(api, tar, settings):
    response = _upload(api("provider"), tar, "mri.pdf", PDF)
    attachment = Attachment.objects.get(pk=response.json()["id"])
    stored = Path(attachment.file.path).resolve()
    assert stored.is_file()
    assert stored.read_bytes() == PDF
    assert stored.is_relative_to(Path(settings.PRIVATE_STORAGE_ROOT).resolve())
    assert not stored.is_relative_to(Path(settings.STATIC_ROOT).resolve())
    # No public URL: the only way to the bytes is the checked download view.
    anonymous = Client()
    for url in (f"/{attachment.file.name}", f"{settings.STATIC_URL}{attachment.file.name}"):
        response = anonymous.get(url)
        assert response.status_code == 404
        assert PDF not in b"".join(getattr(response, "streaming_content", [response.content]))


@pytest.mark.parametrize(
    ("persona", "status", "code"),
    [
        pytest.param("member", 403, "permission_denied", id="member"),
        pytest.param("memberservices", 403, "permission_denied", id="memberservices"),
        pytest.param("pcp", 404, "not_found", id="pcp-office-not-on-the-request"),
        pytest.param("provider2", 404, "not_found", id="other-organization"),
    ],
)
def test_those_who_may_not_add_documents_are_refused(api, tar, persona, status, code):
    response = _upload(api(persona), tar, "mri.pdf", PDF)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert Attachment.objects.count() == 0


def test_provider_cannot_add_documents_to_a_closed_request(api, tar):
    api("provider").post(f"/api/v1/tars/{tar}/withdraw", {"reason": "x"}, format="json")
    response = _upload(api("provider"), tar, "late.pdf", PDF)
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert Attachment.objects.count() == 0


def test_intake_coordinator_can_attach_scanned_pages(api, tar):
    response = _upload(api("coordinator"), tar, "fax.tif", _image("TIFF"), "image/tiff")
    assert response.status_code == 201, response.json()


# --- download ------------------------------------------------------------------------------


@pytest.fixture
def attachment_id(api, tar) -> int:
    response = _upload(api("provider"), tar, "mri report.pdf", PDF)
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def _download(client, attachment_id: int):
    return client.get(f"/api/v1/attachments/{attachment_id}/download")


@pytest.mark.parametrize(
    "persona",
    ["provider", "nurse", "physician", "manager"],
)
def test_download_returns_the_bytes_to_those_entitled(api, attachment_id, persona):
    response = _download(api(persona), attachment_id)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


# Intake and member services see no clinical records (PRODUCT §2, 002 "Confidentiality").
@pytest.mark.parametrize(
    "persona", ["provider2", "pcp", "member", "other_member", "coordinator", "memberservices"]
)
def test_download_is_404_to_everyone_else(api, attachment_id, persona):
    response = _download(api(persona), attachment_id)
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "fields": {}}


def test_anonymous_download_is_refused(attachment_id):
    from rest_framework.test import APIClient

    response = APIClient().get(f"/api/v1/attachments/{attachment_id}/download")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("persona", ["nurse", "physician", "manager"])
def test_staff_download_is_recorded(api, world, tar, attachment_id, persona):
    assert _download(api(persona), attachment_id).status_code == 200
    reads = HistoryEntry.objects.filter(tar_id=tar, action=HistoryAction.ATTACHMENT_READ)
    assert reads.count() == 1
    read = reads.get()
    assert read.actor == world.users[persona]
    assert read.detail == {"attachment": attachment_id}
    assert read.member == world.member


def test_provider_download_is_not_recorded_as_a_staff_read(api, tar, attachment_id):
    assert _download(api("provider"), attachment_id).status_code == 200
    assert not HistoryEntry.objects.filter(tar_id=tar, action=HistoryAction.ATTACHMENT_READ)


def test_refused_download_is_not_recorded(api, tar, attachment_id):
    _download(api("provider2"), attachment_id)
    assert not HistoryEntry.objects.filter(tar_id=tar, action=HistoryAction.ATTACHMENT_READ)


def test_a_pdf_named_html_downloads_as_a_pdf(api, tar):
    """A PDF/HTML polyglot named `.html` is stored as the PDF it sniffs as, and is never
    handed back under a name a browser would open as a page."""
    response = _upload(api("provider"), tar, "results.html", PDF, content_type="text/html")
    assert response.status_code == 201, response.json()
    download = api("nurse").get(f"/api/v1/attachments/{response.json()['id']}/download")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert 'filename="results.pdf"' in download["Content-Disposition"]


def test_a_failure_after_the_file_is_written_leaves_no_file(api, tar, monkeypatch, settings):
    from authorizations.services import attachments

    def fail(**kwargs):
        raise RuntimeError("the history could not be written")

    monkeypatch.setattr(attachments, "history_record", fail)
    with pytest.raises(RuntimeError):
        _upload(api("provider"), tar, "report.pdf", PDF)
    stored = [p for p in Path(settings.PRIVATE_STORAGE_ROOT).rglob("*") if p.is_file()]
    assert stored == []
