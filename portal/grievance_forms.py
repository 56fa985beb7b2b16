"""Forms of the grievance pages: they bind and check shapes; grievances.services decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from grievances.models import GrievanceChannel, GrievanceKind

TEXTAREA = forms.Textarea(attrs={"rows": 5})


class GrievanceFileForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is it about?"), choices=GrievanceKind.choices)
    description = forms.CharField(
        label=_("Tell us what happened"), max_length=8000, widget=TEXTAREA
    )
    tar = forms.CharField(
        label=_("Request number, if it is about a request"),
        required=False,
        max_length=20,
        help_text=_("For example TAR-2026-000123."),
    )
    expedited = forms.BooleanField(
        label=_("Waiting 30 days could seriously harm my health (urgent: answered in 72 hours)"),
        required=False,
    )
    expedited_reason = forms.CharField(
        label=_("Why it is urgent"), required=False, max_length=4000, widget=TEXTAREA
    )


class StaffGrievanceFileForm(GrievanceFileForm):
    """Member services entering a call (or the coordinator a letter), with its true time."""

    member = forms.CharField(label="Member CIN", max_length=20)
    channel = forms.ChoiceField(label="Received by", choices=GrievanceChannel.choices)
    received_at = forms.DateTimeField(
        label="Received at (Pacific)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for now.",
    )

    field_order = ["member", "channel", "received_at"]


class ResolveForm(forms.Form):
    prefix = "resolve"

    resolution = forms.CharField(
        label="Resolution (goes into the member's letter)", max_length=8000, widget=TEXTAREA
    )


class WithdrawForm(forms.Form):
    prefix = "withdraw"

    reason = forms.CharField(label="Reason", required=False, max_length=4000, widget=TEXTAREA)
