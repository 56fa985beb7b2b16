from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "role", "organization", "member", "is_active", "locked_until"]
    list_filter = ["role", "is_active", "is_staff"]
    list_select_related = ["organization", "member"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (
            "Role and binding",
            {
                "fields": (
                    "role",
                    "organization",
                    "provider",
                    "member",
                    "direct_phone",
                    # 42 CFR 438.406(b)(2): the reporting line appeal independence reads.
                    "supervisor",
                )
            },
        ),
        ("Lockout", {"fields": ("failed_login_count", "locked_until")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Role and binding", {"fields": ("role", "organization", "provider", "member")}),
    )
    autocomplete_fields = ["organization", "provider", "member", "supervisor"]
