"""Documents on a request (PRODUCT §3): checked by their content, stored privately outside
the web root under a name of ours, and every staff read recorded."""

from __future__ import annotations

import hashlib
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.models import PLAN_STAFF_ROLES, Role, User
from authorizations.models import Attachment, HistoryAction
from authorizations.services.history import history_record
from authorizations.workflow import check_scope, lock_tar
from tar_portal.errors import DomainError, ErrorCode, invalid

ALLOWED_ATTACHMENT_TYPES = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/tiff": "tif",
}


def attachment_download_name(attachment: Attachment) -> str:
    """The name a download is saved under: the uploader's name with the extension of what
    the file really is (a PDF named `.html` downloads as `.pdf`, never as a page)."""
    stem = PurePath(attachment.original_name or "document").stem or "document"
    extension = ALLOWED_ATTACHMENT_TYPES.get(attachment.content_type, "bin")
    return f"{stem}.{extension}"


def sniff_content_type(head: bytes) -> str | None:
    """The type the bytes say they are (magic numbers), never the file name."""
    kind = filetype.guess(head)
    if kind is None:
        return None
    return kind.mime if kind.mime in ALLOWED_ATTACHMENT_TYPES else None


def upload_content_type(upload: UploadedFile) -> str:
    """The checked content type of an upload (not empty, within ATTACHMENT_MAX_BYTES, a PDF,
    PNG, JPEG or TIFF by its content), or a field error; every document upload's rules."""
    if upload.size is None or upload.size == 0:
        raise invalid("The file is empty.", file="The file is empty.")
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        readable = f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
        raise invalid("The file is too large.", file=f"At most {readable} per file.")
    upload.seek(0)
    content_type = sniff_content_type(upload.read(8192))
    upload.seek(0)
    if content_type is None:
        raise invalid(
            "Unsupported file type.",
            file="Upload a PDF, PNG, JPEG or TIFF file (checked by its content, not its name).",
        )
    return content_type


def upload_sha256(upload: UploadedFile) -> str:
    """The upload's SHA-256 (hex), read in chunks; the upload is left at its start."""
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def attachment_add(
    *, tar_id: int, user: User, upload: UploadedFile, description: str = ""
) -> Attachment:
    if user.role not in (Role.PROVIDER, Role.INTAKE, Role.NURSE, Role.PHYSICIAN):
        raise DomainError(ErrorCode.PERMISSION_DENIED, "Your role may not add documents.")
    content_type = upload_content_type(upload)
    digest = upload_sha256(upload)
    with transaction.atomic():
        tar = lock_tar(tar_id)
        check_scope(tar, user)
        if user.role == Role.PROVIDER and not tar.is_open:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "Documents can be added only while the request is open.",
            )
        attachment = Attachment(
            tar=tar,
            original_name=(upload.name or "document")[-200:],
            content_type=content_type,
            size=upload.size or 0,  # checked non-empty above
            sha256=digest,
            description=(description or "")[:200],
            uploaded_by=user,
        )
        # The stored name is ours: never trust the client's name for the path.
        attachment.file.save(
            f"{tar.number}-{digest[:16]}.{ALLOWED_ATTACHMENT_TYPES[content_type]}",
            upload,
            save=False,
        )
        try:
            attachment.save()
            history_record(
                tar=tar,
                member=tar.member,
                actor=user,
                action=HistoryAction.ATTACHMENT_ADDED,
                detail={
                    "attachment": attachment.pk,
                    "content_type": content_type,
                    "size": upload.size,
                },
            )
        except BaseException:
            # The row is rolled back with the transaction; the file must go with it, or a
            # copy of PHI stays on disk that no record points to.
            attachment.file.delete(save=False)
            raise
    return attachment


def attachment_record_read(*, attachment: Attachment, user: User) -> None:
    if user.role in PLAN_STAFF_ROLES:
        history_record(
            tar=attachment.tar,
            member=attachment.tar.member,
            actor=user,
            action=HistoryAction.ATTACHMENT_READ,
            detail={"attachment": attachment.pk},
        )
