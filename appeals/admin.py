from django.contrib import admin

from appeals.models import Appeal, ImrCase, PeerToPeer
from authorizations.admin import ReadOnlyAdminMixin


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "tar",
        "filer",
        "expedited",
        "late",
        "status",
        "outcome",
        "resolution_due_at",
        "exhausted_at",
    ]
    list_filter = ["status", "outcome", "expedited", "late", "filer"]
    search_fields = ["number", "tar__number", "member__cin"]
    list_select_related = ["tar"]


@admin.register(PeerToPeer)
class PeerToPeerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["tar", "status", "scheduled_at"]
    list_filter = ["status"]
    search_fields = ["tar__number"]


@admin.register(ImrCase)
class ImrCaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The IMR tracking list: open cases by due date, overdue ones flagged."""

    list_display = [
        "number",
        "tar",
        "review_type",
        "reviewer_kind",
        "status",
        "due_at",
        "overdue_at",
        "determination",
    ]
    list_filter = ["status", "review_type", "reviewer_kind", "determination"]
    search_fields = ["number", "tar__number", "member__cin"]
    list_select_related = ["tar"]
    ordering = ["due_at"]
