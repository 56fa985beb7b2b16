from django.contrib import admin

from grievances.models import Grievance


@admin.register(Grievance)
class GrievanceAdmin(admin.ModelAdmin):
    """Read-only: a grievance changes only through the workflow (grievances.services), so
    its history and events stay whole."""

    list_display = [
        "number",
        "status",
        "kind",
        "filer_kind",
        "expedited",
        "received_at",
        "acknowledgement_due_at",
        "resolution_due_at",
        "breached_at",
    ]
    list_filter = ["status", "kind", "filer_kind", "expedited"]
    search_fields = ["number", "member__cin"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Grievance._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
