"""The admin of SMART clients (registered by the UM manager or an administrator) and of
subscriptions and their deliveries (read-only: what was sent, when, what the receiver said)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction

from fhir.auth_models import (
    Delivery,
    DeliveryAttempt,
    SmartClient,
    SmartScope,
    Subscription,
)
from fhir.smart import client_register, jwks_check


class SmartClientForm(forms.ModelForm):
    jwks = forms.CharField(
        label="JWK Set (public keys)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text='Paste the client\'s public JWK Set: {"keys": [...]} (RS384 or ES384).',
    )
    jwks_uri = forms.URLField(
        required=False,
        assume_scheme="https",
        help_text="Or where the client publishes its JWK Set (https).",
    )
    scopes = forms.MultipleChoiceField(
        choices=SmartScope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = SmartClient
        fields = ["name", "organization", "jwks", "jwks_uri", "scopes", "cds_issuer", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["organization"].disabled = True  # a client never changes organization
            self.initial["jwks"] = (
                json.dumps(self.instance.jwks, indent=2) if self.instance.jwks else ""
            )
        else:
            self.initial.setdefault("scopes", [s.value for s in SmartScope])

    def clean_jwks(self) -> dict[str, Any]:
        text = (self.cleaned_data.get("jwks") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            raise ValidationError("This is not JSON.") from None
        try:
            jwks_check(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("jwks") and not cleaned.get("jwks_uri"):
            raise ValidationError("Register the client's keys: a JWK Set or a jwks_uri.")
        return cleaned


@admin.register(SmartClient)
class SmartClientAdmin(admin.ModelAdmin):
    form = SmartClientForm
    list_display = ["name", "client_id", "organization", "is_active", "created_at"]
    list_filter = ["is_active", "organization"]
    search_fields = ["name", "client_id", "organization__name"]
    readonly_fields = ["client_id", "service_user", "created_at"]

    def get_fields(self, request, obj=None):
        fields = ["name", "organization", "jwks", "jwks_uri", "scopes", "cds_issuer", "is_active"]
        return fields + (["client_id", "service_user", "created_at"] if obj else [])

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            # Deactivating a client revokes its tokens at once (fhir.smart checks is_active).
            return
        created = client_register(
            name=form.cleaned_data["name"],
            organization=form.cleaned_data["organization"],
            jwks=form.cleaned_data["jwks"],
            jwks_uri=form.cleaned_data["jwks_uri"],
            scopes=list(form.cleaned_data["scopes"]),
        )
        obj.pk = created.pk
        obj.client_id = created.client_id
        obj.service_user = created.service_user
        obj.is_active = form.cleaned_data["is_active"]
        SmartClient.objects.filter(pk=created.pk).update(is_active=obj.is_active)
        obj._state.adding = False


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["at", "status_code", "error", "duration_ms"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "subscription",
        "event_number",
        "event_kind",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status"]
    inlines = [DeliveryAttemptInline]
    readonly_fields = [
        "subscription",
        "event",
        "event_number",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "delivered_at",
        "created_at",
    ]

    @admin.display(description="event")
    def event_kind(self, obj: Delivery) -> str:
        return obj.event.get_kind_display()

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organization", "client", "status", "endpoint", "created_at"]
    list_filter = ["status", "organization"]
    # The endpoint's own headers (its secrets) are not shown.
    fields = [
        "organization",
        "client",
        "created_by",
        "status",
        "topic",
        "reason",
        "endpoint",
        "content",
        "end",
        "events_since_start",
        "heartbeat_period",
        "handshake_at",
        "handshake_status_code",
        "handshake_error",
        "last_sent_at",
        "created_at",
    ]
    readonly_fields = [f for f in fields if f != "status"]

    def has_add_permission(self, request) -> bool:
        return False
