from django.contrib import admin

from authorizations.models import (
    Appeal,
    Attachment,
    CalendarAdjustment,
    Decision,
    Extension,
    HistoryEntry,
    ImrCase,
    InformationRequest,
    PeerToPeer,
    Provider,
    ProviderOrganization,
    Referral,
    ServiceLine,
    Tar,
)


class ReadOnlyMixin:
    """Records written only by services (workflow, history): viewable, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProviderOrganization)
class ProviderOrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "phone", "email"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "npi",
        "organization",
        "specialty",
        "network_status",
        "is_pcp",
        "pain_specialist_credentialed_from",
        "pain_specialist_credentialed_to",
    ]
    list_filter = ["specialty", "network_status", "is_pcp"]
    search_fields = ["name", "npi", "organization__name"]
    list_select_related = ["organization"]


@admin.register(Referral)
class ReferralAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "member",
        "referring_provider",
        "to_organization",
        "valid_from",
        "valid_to",
        "status",
    ]
    list_filter = ["status", "specialty"]
    search_fields = ["number", "member__cin"]
    list_select_related = ["member", "referring_provider", "to_organization"]


class ServiceLineInline(ReadOnlyMixin, admin.TabularInline):
    model = ServiceLine
    extra = 0
    fields = [
        "line_number",
        "code",
        "units",
        "spinal_region",
        "service_date_from",
        "service_date_to",
        "family",
        "recommendation",
        "outcome",
        "approved_units",
    ]
    readonly_fields = fields


class HistoryInline(ReadOnlyMixin, admin.TabularInline):
    model = HistoryEntry
    extra = 0
    fields = ["at", "actor", "action", "from_status", "to_status", "reason"]
    readonly_fields = fields


@admin.register(Tar)
class TarAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "status",
        "member",
        "requesting_organization",
        "request_type",
        "urgency",
        "received_at",
        "decision_due_at",
        "breached_at",
    ]
    list_filter = ["status", "request_type", "urgency", "channel", "late_submission"]
    search_fields = ["number", "member__cin"]
    list_select_related = ["member", "requesting_organization"]
    date_hierarchy = "received_at"
    inlines = [ServiceLineInline, HistoryInline]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["original_name", "tar", "content_type", "size", "uploaded_at"]
    search_fields = ["tar__number"]
    exclude = ["file"]  # opened through the entitlement-checked download view only


@admin.register(Decision)
class DecisionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["tar", "outcome", "reason_code", "decided_by", "automated", "decided_at"]
    list_filter = ["outcome", "reason_code", "automated"]


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["tar", "reason", "previous_due_at", "new_due_at", "extended_by"]


@admin.register(InformationRequest)
class InformationRequestAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["tar", "requested_at", "requested_by", "responded_at"]


@admin.register(HistoryEntry)
class HistoryEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["at", "tar", "member", "actor", "action", "from_status", "to_status"]
    list_filter = ["action"]
    search_fields = ["tar__number", "member__cin"]
    list_select_related = ["tar", "member", "actor"]


@admin.register(CalendarAdjustment)
class CalendarAdjustmentAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]


@admin.register(Appeal)
class AppealAdmin(ReadOnlyMixin, admin.ModelAdmin):
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
class PeerToPeerAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["tar", "status", "scheduled_at"]
    list_filter = ["status"]
    search_fields = ["tar__number"]


@admin.register(ImrCase)
class ImrCaseAdmin(ReadOnlyMixin, admin.ModelAdmin):
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
