from django.conf import settings
from django.db import models
from django.utils import timezone

from authorizations.storage import private_storage


class TarDraft(models.Model):
    """A provider's unfinished TAR, saved on every step (and by the autosave script) so that a
    closed tab loses nothing. `data` holds each step's form fields as typed; nothing in it is
    trusted: the whole draft is validated again, by the services, when it is submitted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tar_drafts"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return f"Draft {self.pk} of {self.user_id}"

    @property
    def member_label(self) -> str:
        member = self.data.get("member_found") or {}
        return member.get("name") or self.data.get("member", {}).get("cin") or ""

    @property
    def codes(self) -> list[str]:
        return [
            line.get("code", "")
            for line in self.data.get("lines", [])
            if isinstance(line, dict) and line.get("code")
        ]


class DraftDocument(models.Model):
    """A document uploaded while drafting. A TAR does not exist yet, so the file waits here
    (private storage, like attachments) and is attached with `attachment_add` on submit."""

    draft = models.ForeignKey(TarDraft, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(storage=private_storage, upload_to="drafts/%Y/%m/")
    original_name = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    description = models.CharField(max_length=200, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name
