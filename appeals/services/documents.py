"""Documents on an appeal (issue 15: the member appeal form said "you may send papers from
your doctor" and had no upload). The same checks and storage as a request's documents
(authorizations.services.attachments: type by content, size limit, a stored name of ours,
private storage), scoped to who may see the appeal, and every staff read recorded."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.models import PLAN_STAFF_ROLES, Role, User
from appeals.models import OPEN_APPEAL_STATUSES, Appeal, AppealDocument
from authorizations.models import HistoryAction, Tar
from authorizations.selectors import tar_scope_q
from authorizations.services.attachments import (
    ALLOWED_ATTACHMENT_TYPES,
    upload_content_type,
    upload_sha256,
)
from authorizations.services.history import history_record
from tar_portal.errors import DomainError, ErrorCode

# Who may send documents with an appeal: the member, member services for them, and the
# provider office of the request (42 CFR 438.406(b)(4)). Plan reviewers read them.
UPLOADER_ROLES = frozenset({Role.MEMBER, Role.MEMBER_SERVICES, Role.PROVIDER})
MAX_DOCUMENTS_PER_UPLOAD = 5


def appeal_document_check(upload: UploadedFile) -> str:
    """The checked content type of an upload, or a field error: the same rules as a request's
    documents; pure apart from reading the upload, so a form can check before filing."""
    return upload_content_type(upload)


def _visible_appeals(user: User):
    """The appeals a user may see: a member their own, plan staff all, a provider office
    those on its requests."""
    if not user.is_authenticated or not user.is_active:
        return Appeal.objects.none()
    if user.role == Role.MEMBER:
        return (
            Appeal.objects.filter(member_id=user.member_id)
            if user.member_id
            else Appeal.objects.none()
        )
    if user.role in PLAN_STAFF_ROLES:
        return Appeal.objects.all()
    scope = tar_scope_q(user)
    if scope is None:
        return Appeal.objects.none()
    return Appeal.objects.filter(tar__in=Tar.objects.filter(scope))


def appeal_document_add(
    *, appeal_id: int, user: User, upload: UploadedFile, description: str = ""
) -> AppealDocument:
    if user.role not in UPLOADER_ROLES:
        raise DomainError(ErrorCode.PERMISSION_DENIED, "Your role may not add documents.")
    content_type = appeal_document_check(upload)
    digest = upload_sha256(upload)
    with transaction.atomic():
        appeal = (
            _visible_appeals(user)
            .select_for_update()
            .select_related("tar")
            .filter(pk=appeal_id)
            .first()
        )
        if appeal is None:
            raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
        if appeal.status not in OPEN_APPEAL_STATUSES:
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                "Documents can be added only while the appeal is open.",
            )
        document = AppealDocument(
            appeal=appeal,
            original_name=(upload.name or "document")[-200:],
            content_type=content_type,
            size=upload.size or 0,
            sha256=digest,
            description=(description or "")[:200],
            uploaded_by=user,
        )
        # The stored name is ours: never trust the client's name for the path.
        document.file.save(
            f"{appeal.number}-{digest[:16]}.{ALLOWED_ATTACHMENT_TYPES[content_type]}",
            upload,
            save=False,
        )
        try:
            document.save()
            history_record(
                tar=appeal.tar,
                member=appeal.member,
                actor=user,
                action=HistoryAction.ATTACHMENT_ADDED,
                detail={"appeal": appeal.pk, "appeal_document": document.pk, "size": document.size},
            )
        except BaseException:
            # The row goes with the transaction; the file must go with it (no orphaned PHI).
            document.file.delete(save=False)
            raise
    return document


def appeal_document_get(*, user: User, document_id: int) -> AppealDocument:
    """A document of an appeal the user may see (404 otherwise); a staff read is recorded."""
    document = (
        AppealDocument.objects.select_related("appeal__tar", "appeal__member")
        .filter(pk=document_id, appeal__in=_visible_appeals(user))
        .first()
    )
    if document is None:
        raise DomainError(ErrorCode.NOT_FOUND, "Not found.")
    if user.role in PLAN_STAFF_ROLES:
        history_record(
            tar=document.appeal.tar,
            member=document.appeal.member,
            actor=user,
            action=HistoryAction.ATTACHMENT_READ,
            detail={"appeal": document.appeal_id, "appeal_document": document.pk},
        )
    return document
