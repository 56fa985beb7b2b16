from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.html import format_html_join

from criteria.models import (
    BenefitExclusion,
    CriteriaSet,
    CriteriaSetSetting,
    PaListChange,
    PaListEntry,
)
from criteria.pa_list import pa_list_entry_delete, pa_list_entry_save


@admin.register(CriteriaSet)
class CriteriaSetAdmin(admin.ModelAdmin):
    """Published versions are immutable: shown read-only, each version its own row, so that
    versions of one set can be compared side by side (select the set in the filter)."""

    list_display = [
        "set_id",
        "version",
        "title",
        "effective_from",
        "effective_to",
        "criteria_count",
    ]
    list_filter = ["set_id", "family"]
    search_fields = ["set_id", "title"]
    readonly_fields = [
        "set_id",
        "version",
        "title",
        "family",
        "effective_from",
        "effective_to",
        "sources",
        "published_at",
        "criteria_text",
    ]
    exclude = ["definition"]
    actions = ["compare_side_by_side"]

    @admin.action(description="Compare the selected versions side by side")
    def compare_side_by_side(self, request, queryset):
        versions = list(queryset.order_by("set_id", "effective_from", "version"))
        numbers = sorted({c["number"] for v in versions for c in v.criteria})
        rows = [
            {
                "number": number,
                "texts": [
                    next((c["text"] for c in v.criteria if c["number"] == number), "—")
                    for v in versions
                ],
            }
            for number in numbers
        ]
        for row in rows:
            row["changed"] = len(set(row["texts"])) > 1
        return TemplateResponse(
            request,
            "admin/criteria/compare.html",
            {
                **self.admin_site.each_context(request),
                "versions": versions,
                "rows": rows,
                "title": "Criteria versions side by side",
            },
        )

    @admin.display(description="criteria")
    def criteria_count(self, obj: CriteriaSet) -> int:
        return len(obj.criteria)

    @admin.display(description="numbered criteria")
    def criteria_text(self, obj: CriteriaSet) -> str:
        return format_html_join(
            "",
            "<p><strong>{}.</strong> {}</p>",
            ((c.get("number"), c.get("text")) for c in obj.criteria),
        )

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(CriteriaSetSetting)
class CriteriaSetSettingAdmin(admin.ModelAdmin):
    list_display = ["set_id", "auto_approve"]


@admin.register(PaListEntry)
class PaListEntryAdmin(admin.ModelAdmin):
    """The plan's prior-authorization list, kept by the UM manager (PRODUCT §5). Every save and
    delete goes through criteria.pa_list, which records who changed what and when."""

    list_display = [
        "code_from",
        "code_to",
        "tar_required",
        "rule",
        "effective_from",
        "effective_to",
        "source",
        "description",
    ]
    list_filter = ["tar_required", "rule"]
    search_fields = ["code_from", "code_to", "description", "source"]

    def save_model(self, request, obj, form, change):
        pa_list_entry_save(entry=obj, user=request.user)

    def delete_model(self, request, obj):
        pa_list_entry_delete(entry=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for entry in queryset:
            pa_list_entry_delete(entry=entry, user=request.user)


@admin.register(PaListChange)
class PaListChangeAdmin(admin.ModelAdmin):
    list_display = ["changed_at", "changed_by", "action", "entry_id_at_change", "before", "after"]
    list_filter = ["action"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BenefitExclusion)
class BenefitExclusionAdmin(admin.ModelAdmin):
    """The benefit table a nurse's `not_a_benefit` closure is checked against (PRODUCT §2)."""

    list_display = ["code", "start_date", "end_date", "reason", "source"]
    search_fields = ["code", "reason"]

    def has_delete_permission(self, request, obj=None):
        # End a row instead: a closure made under it must stay explained.
        return False
