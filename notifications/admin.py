"""Notices, letters and print batches in the admin: read-only records; the actions call the
services (which check the user's role), never change rows themselves."""

from django.contrib import admin, messages

from notifications import services
from notifications.models import (
    CriteriaCopyRequest,
    Delivery,
    Letter,
    Notice,
    PrintBatch,
    PrintBatchItem,
)
from tar_portal.errors import DomainError


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LetterInline(ReadOnlyMixin, admin.TabularInline):
    model = Letter
    extra = 0
    fields = ["version", "language", "large_print", "letter_date", "page_count", "sha256"]
    readonly_fields = fields


@admin.register(Notice)
class NoticeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "tar",
        "kind",
        "audience",
        "due_at",
        "status",
        "sent_at",
        "sent_on_time",
        "attempts",
        "last_error",
        "overdue_at",
    ]
    # "status = Failed" is the staff work list of notices that could not be delivered.
    list_filter = ["status", "kind", "audience", "sent_on_time", "delivered_via"]
    search_fields = ["tar__number"]
    list_select_related = ["tar"]
    inlines = [LetterInline]
    actions = ["retry_delivery"]

    @admin.action(description="Try delivering the selected failed notices again")
    def retry_delivery(self, request, queryset):
        retried = 0
        for notice in queryset:
            try:
                services.notice_retry(notice_id=notice.pk, user=request.user)
                retried += 1
            except DomainError as exc:
                self.message_user(request, f"{notice}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{retried} notice(s) queued again.")


@admin.register(Letter)
class LetterAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "tar",
        "kind",
        "audience",
        "version",
        "language",
        "large_print",
        "letter_date",
        "created_at",
    ]
    list_filter = ["kind", "audience", "language", "large_print"]
    search_fields = ["tar__number", "sha256"]
    list_select_related = ["tar"]
    exclude = ["file"]  # opened through the entitlement-checked download view only


class PrintBatchItemInline(ReadOnlyMixin, admin.TabularInline):
    model = PrintBatchItem
    extra = 0
    fields = ["position", "letter", "first_page", "page_count"]
    readonly_fields = fields


@admin.register(PrintBatch)
class PrintBatchAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["pk", "status", "letter_count", "page_count", "created_at", "mailed_at"]
    list_filter = ["status"]
    exclude = ["file"]
    inlines = [PrintBatchItemInline]
    actions = ["mark_mailed"]

    @admin.action(description="Mark the selected batches as mailed by the mail house")
    def mark_mailed(self, request, queryset):
        for batch in queryset:
            try:
                services.print_batch_mark_mailed(batch_id=batch.pk, user=request.user)
            except DomainError as exc:
                self.message_user(request, f"{batch}: {exc.message}", messages.ERROR)
                return
        self.message_user(request, "Marked as mailed.")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["letter", "channel", "recipient", "batch", "delivered_at"]
    list_filter = ["channel"]


@admin.register(CriteriaCopyRequest)
class CriteriaCopyRequestAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["tar", "requested_for", "requested_by", "requested_at", "fulfilled_at"]
    list_filter = ["requested_for"]
    search_fields = ["tar__number"]
