"""Documents on appeals (issue 15): the member's appeal form and appeal page take papers from
the member's doctor, checked like a request's documents (type by content, size, count),
stored privately; the appeal's reviewers read them (each read recorded); nobody else can."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from appeals.models import Appeal, AppealDocument
from authorizations.models import HistoryAction, HistoryEntry
from tests.portal.casework import TINY_PDF, denied_tar, member_appeal

pytestmark = pytest.mark.django_db

REASON = {"reason": "My pain runs down my leg every day.", "expedited": "no"}


def _pdf(name: str = "letter.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, TINY_PDF, "application/pdf")


def test_the_member_sends_papers_with_the_appeal_and_the_physician_reads_them(
    world, submit, client_for
):
    tar_id = denied_tar(world, submit)
    member = client_for("member")
    form = member.get(f"/member/tars/{tar_id}/appeal").content.decode()
    assert 'enctype="multipart/form-data"' in form and 'name="documents"' in form
    response = member.post(
        f"/member/tars/{tar_id}/appeal",
        {**REASON, "documents": [_pdf("dr-lee.pdf"), _pdf("mri.pdf")]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    appeal = Appeal.objects.get(tar_id=tar_id)
    documents = list(AppealDocument.objects.filter(appeal=appeal))
    assert [d.original_name for d in documents] == ["dr-lee.pdf", "mri.pdf"]
    assert all(d.content_type == "application/pdf" and d.sha256 for d in documents)
    assert "dr-lee" not in documents[0].file.name  # the stored name is ours
    page = client_for("member").get(f"/member/tars/{tar_id}/").content.decode()
    assert "dr-lee.pdf" in page and "Papers you sent" in page
    physician = client_for("physician2")
    html = physician.get(f"/physician/appeals/{appeal.pk}/").content.decode()
    url = f"/appeal-documents/{documents[0].pk}/download"
    assert "Documents sent with the appeal" in html and url in html
    download = physician.get(url)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == TINY_PDF
    assert download["Cache-Control"] == "private, no-store"
    assert HistoryEntry.objects.filter(
        tar_id=tar_id, action=HistoryAction.ATTACHMENT_READ, detail__appeal_document=documents[0].pk
    ).exists()
    assert client_for("member").get(url).status_code == 200


def test_more_papers_can_be_added_on_the_open_appeal(world, submit, client_for):
    tar_id = denied_tar(world, submit)
    appeal = member_appeal(world, tar_id)
    page = client_for("member").get(f"/member/tars/{tar_id}/").content.decode()
    assert f'action="/member/appeals/{appeal.pk}/documents"' in page
    response = client_for("member").post(
        f"/member/appeals/{appeal.pk}/documents", {"documents": [_pdf("later.pdf")]}, follow=True
    )
    assert "We added 1 paper(s) to your appeal" in response.content.decode()
    assert AppealDocument.objects.filter(appeal=appeal, original_name="later.pdf").exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("fake.pdf", b"<html>not a pdf</html>", "application/pdf"), "PDF, PNG"),
        (SimpleUploadedFile("empty.pdf", b"", "application/pdf"), "empty"),
    ],
)
def test_a_bad_paper_is_refused_beside_the_field_and_files_no_appeal(
    world, submit, client_for, upload, message
):
    tar_id = denied_tar(world, submit)
    response = client_for("member").post(
        f"/member/tars/{tar_id}/appeal", {**REASON, "documents": [upload]}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Appeal.objects.filter(tar_id=tar_id).exists()
    assert not AppealDocument.objects.exists()


def test_too_large_or_too_many_papers_are_refused(world, submit, client_for, settings):
    tar_id = denied_tar(world, submit)
    settings.ATTACHMENT_MAX_BYTES = 100
    big = SimpleUploadedFile("big.pdf", TINY_PDF + b" " * 200, "application/pdf")
    response = client_for("member").post(
        f"/member/tars/{tar_id}/appeal", {**REASON, "documents": [big]}
    )
    assert (
        response.status_code == 400 and "At most 100 bytes per file." in response.content.decode()
    )
    settings.ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    response = client_for("member").post(
        f"/member/tars/{tar_id}/appeal",
        {**REASON, "documents": [_pdf(f"{n}.pdf") for n in range(6)]},
    )
    assert response.status_code == 400 and "at most 5 files" in response.content.decode()
    assert not Appeal.objects.filter(tar_id=tar_id).exists()


def test_nobody_else_sees_or_adds_papers(world, submit, client_for):
    tar_id = denied_tar(world, submit)
    appeal = member_appeal(world, tar_id)
    client_for("member").post(f"/member/appeals/{appeal.pk}/documents", {"documents": [_pdf()]})
    document = AppealDocument.objects.get(appeal=appeal)
    url = f"/appeal-documents/{document.pk}/download"
    for persona in ("other_member", "provider2"):
        assert client_for(persona).get(url).status_code == 404, persona
    assert client_for("member").get("/appeal-documents/999999/download").status_code == 404
    response = client_for("other_member").post(
        f"/member/appeals/{appeal.pk}/documents", {"documents": [_pdf("x.pdf")]}
    )
    assert response.status_code == 404
    assert AppealDocument.objects.filter(appeal=appeal).count() == 1
