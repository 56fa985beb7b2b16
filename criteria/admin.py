from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.html import format_html_join

from criteria.models import BenefitExclusion, CriteriaSet, CriteriaSetSetting


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


@admin.register(BenefitExclusion)
class BenefitExclusionAdmin(admin.ModelAdmin):
    """The benefit table a nurse's `not_a_benefit` closure is checked against (PRODUCT §2)."""

    list_display = ["code", "start_date", "end_date", "reason", "source"]
    search_fields = ["code", "reason"]

    def has_delete_permission(self, request, obj=None):
        # End a row instead: a closure made under it must stay explained.
        return False
