from django.contrib import admin

from members.models import EligibilitySpan, Member


class EligibilitySpanInline(admin.TabularInline):
    model = EligibilitySpan
    extra = 0


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["cin", "last_name", "first_name", "date_of_birth", "pcp", "written_language"]
    list_filter = ["written_language", "alternate_format", "hospice", "terminal_condition"]
    search_fields = ["cin", "last_name", "first_name"]
    list_select_related = ["pcp"]
    autocomplete_fields = ["pcp"]
    inlines = [EligibilitySpanInline]


@admin.register(EligibilitySpan)
class EligibilitySpanAdmin(admin.ModelAdmin):
    list_display = ["member", "start_date", "end_date", "retroactive", "granted_on"]
    list_filter = ["retroactive"]
    search_fields = ["member__cin"]
    list_select_related = ["member"]
