from django.contrib import admin

from authorizations.calendar import plan_holiday_delete, plan_holiday_save
from authorizations.models import (
    Attachment,
    Decision,
    DomainEvent,
    Extension,
    HistoryEntry,
    InformationRequest,
    PlanHoliday,
    PlanHolidayChange,
    Provider,
    ProviderOrganization,
    Referral,
    ServiceLine,
    Tar,
)


class ReadOnlyAdminMixin:
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
class ReferralAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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


class ServiceLineInline(ReadOnlyAdminMixin, admin.TabularInline):
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


class HistoryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = HistoryEntry
    extra = 0
    fields = ["at", "actor", "action", "from_status", "to_status", "reason"]
    readonly_fields = fields


@admin.register(Tar)
class TarAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
class AttachmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["original_name", "tar", "content_type", "size", "uploaded_at"]
    search_fields = ["tar__number"]
    exclude = ["file"]  # opened through the entitlement-checked download view only


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["tar", "outcome", "reason_code", "decided_by", "automated", "decided_at"]
    list_filter = ["outcome", "reason_code", "automated"]


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["tar", "reason", "previous_due_at", "new_due_at", "extended_by"]


@admin.register(InformationRequest)
class InformationRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["tar", "requested_at", "requested_by", "responded_at"]


@admin.register(HistoryEntry)
class HistoryEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["at", "tar", "member", "actor", "action", "from_status", "to_status"]
    list_filter = ["action"]
    search_fields = ["tar__number", "member__cin"]
    list_select_related = ["tar", "member", "actor"]


@admin.register(PlanHoliday)
class PlanHolidayAdmin(admin.ModelAdmin):
    """The plan's holidays, kept by the UM manager (PRODUCT §4). Every save and delete goes
    through the calendar service: the change is recorded and every process's cached calendar
    is invalidated."""

    list_display = ["date", "name", "source"]
    list_filter = [("date", admin.DateFieldListFilter)]
    search_fields = ["name"]
    date_hierarchy = "date"

    def save_model(self, request, obj, form, change):
        plan_holiday_save(holiday=obj, user=request.user)

    def delete_model(self, request, obj):
        plan_holiday_delete(holiday=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for holiday in queryset:
            plan_holiday_delete(holiday=holiday, user=request.user)


@admin.register(PlanHolidayChange)
class PlanHolidayChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["changed_at", "changed_by", "action", "holiday_date", "before", "after"]
    list_filter = ["action"]


@admin.register(DomainEvent)
class DomainEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The event outbox: what happened, and whether every consumer has handled it."""

    list_display = ["pk", "kind", "subject_type", "subject_id", "created_at", "processed_at"]
    list_filter = ["kind", "subject_type", ("processed_at", admin.EmptyFieldListFilter)]
    search_fields = ["tar__number"]
    list_select_related = ["tar"]
