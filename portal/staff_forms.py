"""Forms of the intake coordinator's and member services' pages. They parse what was typed;
`tar_submit`, `attachment_add`, `appeal_file` and `criteria_copy_request` decide."""

from __future__ import annotations

import re
import uuid

from django import forms

from authorizations.models import Channel, RequestType, Urgency
from members.validators import CIN_RE, normalize_cin
from portal.appeal_forms import datetime_field
from portal.forms import TEXTAREA, LineForm, ServiceSettingFields

# The channels an intake coordinator enters (PRODUCT §3); portal and API are the providers'.
INTAKE_CHANNEL_CHOICES = [
    (Channel.FAX, "Fax"),
    (Channel.MAIL, "Mail"),
    (Channel.PHONE, "Phone"),
]
INTAKE_LINES = 3
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _cin(value: str) -> str:
    cin = normalize_cin(value)
    if not CIN_RE.match(cin):
        raise forms.ValidationError("A CIN is 8 digits followed by 1 letter, e.g. 91234567A.")
    return cin


def _npi(value: str) -> str:
    npi = (value or "").strip()
    if not re.fullmatch(r"[0-9]{10}", npi):
        raise forms.ValidationError("An NPI is 10 digits.")
    return npi


class IntakeForm(ServiceSettingFields):
    """A TAR that came in by fax, mail or phone, entered with its true receipt time."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=32)
    channel = forms.ChoiceField(
        label="How it came in", choices=INTAKE_CHANNEL_CHOICES, widget=forms.RadioSelect
    )
    received_at = datetime_field(
        "Received at (Pacific time)",
        help_text="The true time the fax, letter or call came in (the fax header, the mail "
        "stamp, the call log): the decision clock starts then, not when you type it.",
    )
    member = forms.CharField(
        label="Member CIN",
        max_length=20,
        help_text="8 digits and a letter, e.g. 91234567A.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    requesting_provider = forms.CharField(
        label="Requesting provider's NPI",
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    servicing_provider = forms.CharField(
        label="Servicing provider's NPI",
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    referral = forms.CharField(
        label="Referral (RAF) number",
        required=False,
        max_length=20,
        help_text="As written on the request, e.g. RAF-2026-000123.",
    )
    request_type = forms.ChoiceField(
        label="Type of request",
        choices=RequestType.choices,
        initial=RequestType.PRE_SERVICE,
        widget=forms.RadioSelect,
    )
    urgency = forms.ChoiceField(
        label="Urgency",
        choices=Urgency.choices,
        initial=Urgency.ROUTINE,
        widget=forms.RadioSelect,
        help_text="Urgent only when the request says so and states why.",
    )
    urgency_reason = forms.CharField(
        label="Why it is urgent (as stated on the request)",
        required=False,
        max_length=2000,
        widget=TEXTAREA,
    )
    scanned_pages = MultipleFileField(
        label="Scanned pages",
        required=False,
        help_text="The fax or the scanned letter: PDF, PNG, JPEG or TIFF, at most 20 MB each. "
        "You can choose several files.",
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.fields["scanned_pages"].widget.attrs["accept"] = ".pdf,.png,.jpg,.jpeg,.tif,.tiff"

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if not TOKEN_RE.match(token):
            raise forms.ValidationError("Reload the page and enter the request again.")
        return token

    def clean_member(self) -> str:
        return _cin(self.cleaned_data["member"])

    def clean_requesting_provider(self) -> str:
        return _npi(self.cleaned_data["requesting_provider"])

    def clean_servicing_provider(self) -> str:
        return _npi(self.cleaned_data["servicing_provider"])

    def clean_referral(self) -> str:
        return (self.cleaned_data.get("referral") or "").strip().upper()


def intake_line_forms(data=None) -> list[LineForm]:
    """The first line is required; the others are used only when something is typed in them."""
    return [
        LineForm(
            data, prefix=f"line-{index}", empty_permitted=index > 0, use_required_attribute=False
        )
        for index in range(INTAKE_LINES)
    ]


class MemberSearchForm(forms.Form):
    cin = forms.CharField(
        label="Member CIN",
        max_length=20,
        help_text="Medi-Cal client index number: 8 digits and a letter, e.g. 91234567A.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_cin(self) -> str:
        return _cin(self.cleaned_data["cin"])
