"""Writes to the portal's own records: the provider's TAR drafts. Submitting a draft hands it to
`authorizations.services.tar_submit` (and `attachment_add`), which decide everything."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.models import Role, User
from authorizations import services as tar_services
from authorizations.models import Channel, Tar
from authorizations.submission import tar_submit_guarded
from portal.models import DraftDocument, TarDraft
from tar_portal.errors import DomainError, ErrorCode, invalid

logger = logging.getLogger(__name__)

MAX_DRAFT_DOCUMENTS = 10
# Steps whose typed fields are kept in the draft (`data[step]`).
DRAFT_STEPS = ("member", "request", "lines", "questions")


def draft_create(*, user: User) -> TarDraft:
    if user.role != Role.PROVIDER:
        raise DomainError(ErrorCode.PERMISSION_DENIED, "Only provider users draft TARs.")
    return TarDraft.objects.create(user=user, data={})


def draft_update(*, draft: TarDraft, **values) -> TarDraft:
    """Merge step values into the draft. Values are what the person typed (strings and lists
    of strings), never trusted: the draft is validated again when it is submitted."""
    unknown = set(values) - {*DRAFT_STEPS, "member_found"}
    if unknown:
        raise ValueError(f"unknown draft keys {sorted(unknown)}")
    draft.data = {**draft.data, **values}
    draft.save(update_fields=["data", "updated_at"])
    return draft


def draft_delete(*, draft: TarDraft) -> None:
    for document in draft.documents.all():
        document.file.delete(save=False)
    draft.delete()


def draft_document_add(
    *, draft: TarDraft, upload: UploadedFile, description: str = ""
) -> DraftDocument:
    """Keep a document with the draft until the TAR exists. The type and size are checked now
    with the attachment rules so that the provider learns at once; `attachment_add` checks
    them again on submission."""
    if draft.documents.count() >= MAX_DRAFT_DOCUMENTS:
        raise invalid("Too many documents.", file=f"At most {MAX_DRAFT_DOCUMENTS} per request.")
    if not upload.size:
        raise invalid("The file is empty.", file="The file is empty.")
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        limit = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        raise invalid("The file is too large.", file=f"At most {limit} MB per file.")
    upload.seek(0)
    content_type = tar_services.sniff_content_type(upload.read(8192))
    if content_type is None:
        raise invalid(
            "Unsupported file type.",
            file="Upload a PDF, PNG, JPEG or TIFF file (checked by its content, not its name).",
        )
    upload.seek(0)
    document = DraftDocument(
        draft=draft,
        original_name=(upload.name or "document")[-200:],
        size=upload.size,
        description=(description or "")[:200],
    )
    # The stored name is ours, its extension the one of the sniffed type; the client's name
    # is only shown.
    extension = tar_services.ALLOWED_ATTACHMENT_TYPES[content_type]
    document.file.save(f"draft-{draft.pk}.{extension}", upload, save=False)
    document.save()
    draft.save(update_fields=["updated_at"])
    return document


def draft_document_remove(*, draft: TarDraft, document_id: int) -> None:
    document = draft.documents.filter(pk=document_id).first()
    if document is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
    document.file.delete(save=False)
    document.delete()


@dataclass
class SubmitResult:
    tar: Tar
    created: bool
    # Documents the attachment service refused after the TAR was stored: name → message.
    attachment_errors: dict[str, str] = field(default_factory=dict)


def draft_submit(
    *,
    draft: TarDraft,
    user: User,
    data: tar_services.TarInput,
    acknowledge_warnings: bool = False,
) -> SubmitResult:
    """Submit through the portal channel. The draft's id is the idempotency key, so a double
    click or a retried post returns the first TAR instead of a second one. A request with
    warnings (member not eligible, no valid RAF, specialist not credentialed) is submitted
    only once the provider confirmed them (`acknowledge_warnings`; PRODUCT §4)."""
    if draft.user_id != user.pk:
        raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
    tar, created = tar_submit_guarded(
        user=user,
        data=data,
        idempotency_key=f"portal-draft-{draft.pk}",
        default_channel=Channel.PORTAL,
        acknowledge_warnings=acknowledge_warnings,
    )
    result = SubmitResult(tar=tar, created=created)
    documents = list(draft.documents.all()) if created else []
    for document in documents:
        try:
            with document.file.open("rb") as handle:
                upload = UploadedFile(file=handle, name=document.original_name, size=document.size)
                tar_services.attachment_add(
                    tar_id=tar.pk, user=user, upload=upload, description=document.description
                )
        except DomainError as exc:
            messages = [m for ms in exc.fields.values() for m in ms] or [exc.message]
            result.attachment_errors[document.original_name] = " ".join(messages)
        except OSError:
            logger.exception("draft document %s could not be read", document.pk)
            result.attachment_errors[document.original_name] = "The file could not be read."
    with transaction.atomic():
        draft_delete(draft=draft)
    return result
