from django.contrib import admin

from notifications.models import Notice


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ["tar", "kind", "audience", "due_at", "status", "sent_at", "overdue_at"]
    list_filter = ["kind", "audience", "status"]
    search_fields = ["tar__number"]
    list_select_related = ["tar"]
    readonly_fields = ["tar", "kind", "audience", "event_key", "due_at", "due_rule", "created_at"]
