"""Forms of the portal pages. They parse what a person typed into the values the services take;
every business rule (what is allowed, by whom, when) stays in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from authorizations.models import (
    NON_MEDICAL_REASONS,
    ExtensionReason,
    PlaceOfService,
    ReasonCode,
    RequestType,
    Specialty,
    SpinalRegion,
    TarStatus,
    Urgency,
)
from criteria import catalog
from members.validators import CIN_RE, normalize_cin
from portal.templatetags.portal_dates import when

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXTAREA = forms.Textarea(attrs={"rows": 3})
NOT_ANSWERED = ""
NONE_OF_THESE = "__none__"
# The answer keys a nurse may ask for: the §6 catalogue, in its order.
ANSWER_KEY_CHOICES = [(key, question["label"]) for key, question in catalog.QUESTIONS.items()]


def split_codes(value: str) -> list[str]:
    """'M54.16, M51.26' or one per line → ['M54.16', 'M51.26']."""
    return [part.strip() for part in value.replace("\n", ",").replace(";", ",").split(",") if part]


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class OtpCodeForm(forms.Form):
    """The 6-digit code of an authenticator app (accounts.otp); spaces are ignored."""

    code = forms.CharField(
        label=_("Verification code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Enter the 6 digits your authenticator app shows."))
        return code


# --- provider: new TAR ---------------------------------------------------------------------


class MemberLookupForm(forms.Form):
    cin = forms.CharField(
        label="Member CIN",
        max_length=20,
        help_text="Medi-Cal client index number: 8 digits and a letter, e.g. 91234567A.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    date_of_birth = forms.DateField(label="Date of birth", widget=DATE_WIDGET)

    def clean_cin(self) -> str:
        cin = normalize_cin(self.cleaned_data["cin"])
        if not CIN_RE.match(cin):
            raise forms.ValidationError("A CIN is 8 digits followed by 1 letter, e.g. 91234567A.")
        return cin


class ServiceSettingFields(forms.Form):
    """Where the service happens and the post-service dates: the same fields on the provider's
    request step and on the intake coordinator's entry form."""

    place_of_service = forms.ChoiceField(
        label="Place of service", choices=PlaceOfService.choices, initial=PlaceOfService.OFFICE
    )
    servicing_facility = forms.CharField(
        label="Facility (if not the provider's office)", required=False, max_length=160
    )
    date_of_service = forms.DateField(
        label="Date of service",
        required=False,
        widget=DATE_WIDGET,
        help_text="Post-service requests only.",
    )
    primary_denial_date = forms.DateField(
        label="Primary insurer's denial date",
        required=False,
        widget=DATE_WIDGET,
        help_text="Post-service requests only, if another insurer denied first.",
    )
    retro_eligibility_date = forms.DateField(
        label="Retroactive eligibility granted on",
        required=False,
        widget=DATE_WIDGET,
        help_text="Post-service requests only, if Medi-Cal was granted retroactively.",
    )


class RequestForm(ServiceSettingFields):
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
        help_text="Urgent: the standard time frame could seriously harm the member's life, "
        "health or function.",
    )
    urgency_reason = forms.CharField(
        label="Why is it urgent?",
        required=False,
        max_length=2000,
        widget=TEXTAREA,
        help_text="Required for an urgent request.",
    )
    servicing_provider = forms.ChoiceField(label="Servicing provider")
    referral = forms.ChoiceField(
        label="Referral (RAF) from the member's PCP",
        required=False,
        help_text="Pain-management procedures need a valid referral to your organization.",
    )

    def __init__(self, *args, providers=(), referrals=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["servicing_provider"].choices = [
            (p.npi, f"{p.name}, {p.credentials} (NPI {p.npi})".replace(",  (", " ("))
            for p in providers
        ]
        self.referrals = list(referrals)
        self.fields["referral"].choices = [("", "No referral")] + [
            (
                str(r.pk),
                f"{r.number}: {r.reason} (valid {when(r.valid_from)} – {when(r.valid_to)})",
            )
            for r in self.referrals
        ]


class LineForm(forms.Form):
    code = forms.CharField(
        label="Procedure code (CPT/HCPCS)",
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "text", "spellcheck": "false"}),
    )
    criteria_set = forms.ChoiceField(
        label="Purpose (codes with two uses only)",
        required=False,
        choices=[
            ("", "The code's usual purpose"),
            ("pump_trial", "Intrathecal pump trial (62322–62323)"),
            ("scs_permanent", "Permanent spinal cord stimulator (63650)"),
        ],
    )
    diagnosis_codes = forms.CharField(
        label="Diagnosis codes (ICD-10-CM)",
        max_length=200,
        help_text="Separate codes with commas, e.g. M54.16, M51.26.",
    )
    units = forms.IntegerField(label="Units", min_value=1, max_value=999, initial=1)
    spinal_region = forms.ChoiceField(
        label="Spinal region",
        required=False,
        choices=[("", "Not applicable"), *SpinalRegion.choices],
    )
    service_date_from = forms.DateField(label="Service from", widget=DATE_WIDGET)
    service_date_to = forms.DateField(label="Service to", widget=DATE_WIDGET)
    modifiers = forms.CharField(
        label="Modifiers",
        required=False,
        max_length=20,
        help_text="Optional, separated by commas, e.g. 50, RT.",
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip().upper()

    def clean_diagnosis_codes(self) -> list[str]:
        codes = split_codes(self.cleaned_data["diagnosis_codes"])
        if not codes:
            raise forms.ValidationError("Give at least one diagnosis code.")
        if len(codes) > 12:
            raise forms.ValidationError("At most 12 diagnosis codes.")
        return codes

    def clean_modifiers(self) -> list[str]:
        modifiers = [m.upper() for m in split_codes(self.cleaned_data.get("modifiers") or "")]
        if len(modifiers) > 4:
            raise forms.ValidationError("At most 4 modifiers.")
        return modifiers


def question_field(question: dict[str, Any]) -> forms.Field:
    """A form field for one §6 question. Every field may stay unanswered: the criteria engine
    then reports the criterion as unknown and the nurse asks for it."""
    kind = question["type"]
    common = {"label": question["label"], "help_text": question["help_text"], "required": False}
    labels = question.get("choice_labels") or {}
    if kind == "int":
        return forms.IntegerField(
            min_value=question.get("min"), max_value=question.get("max"), **common
        )
    if kind == "bool":
        return forms.TypedChoiceField(
            choices=[("true", "Yes"), ("false", "No"), (NOT_ANSWERED, "Not known yet")],
            coerce=lambda value: value == "true",
            empty_value=None,
            widget=forms.RadioSelect,
            initial=NOT_ANSWERED,
            **common,
        )
    if kind == "enum":
        return forms.ChoiceField(
            choices=[
                *((c, labels.get(c, c)) for c in question["choices"]),
                (NOT_ANSWERED, "Not known yet"),
            ],
            widget=forms.RadioSelect,
            initial=NOT_ANSWERED,
            **common,
        )
    if kind == "list":
        return forms.MultipleChoiceField(
            choices=[
                *((c, labels.get(c, c)) for c in question["choices"]),
                (NONE_OF_THESE, "None of these"),
            ],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    # int_list
    common["help_text"] = f"{question['help_text']} Separate numbers with commas."
    return forms.CharField(max_length=200, **common)


class QuestionsForm(forms.Form):
    """The questionnaire the criteria sets of the request's codes need (PRODUCT §6)."""

    def __init__(self, *args, keys: list[str] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.keys = [key for key in keys if key in catalog.QUESTIONS]
        for key in self.keys:
            self.fields[key] = question_field(catalog.QUESTIONS[key])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for key in self.keys:
            question = catalog.QUESTIONS[key]
            value = cleaned.get(key)
            if question["type"] == "list" and value and NONE_OF_THESE in value and len(value) > 1:
                self.add_error(key, "Choose “None of these” alone, or the ones that apply.")
            if question["type"] == "int_list" and value:
                parts = split_codes(value)
                if not all(part.lstrip("-").isdigit() for part in parts):
                    self.add_error(key, "Enter whole numbers separated by commas.")
        return cleaned

    def answers(self) -> dict[str, Any]:
        """The §6 answers given (unanswered keys left out), checked by the catalogue."""
        answers: dict[str, Any] = {}
        for key in self.keys:
            question = catalog.QUESTIONS[key]
            value = self.cleaned_data.get(key)
            if question["type"] == "list":
                if not value:
                    continue
                answers[key] = [] if NONE_OF_THESE in value else list(value)
            elif question["type"] == "int_list":
                if value:
                    answers[key] = [int(part) for part in split_codes(value)]
            elif question["type"] == "enum":
                if value:
                    answers[key] = value
            elif value is not None:
                answers[key] = value
        return answers

    def validated_answers(self) -> dict[str, Any] | None:
        """answers() checked by the catalogue; None (with field errors) if any is invalid."""
        answers = self.answers()
        errors = catalog.validate_answers(answers)
        for key, message in errors.items():
            self.add_error(key if key in self.fields else None, message)
        return None if errors else answers


class DocumentForm(forms.Form):
    file = forms.FileField(
        label="Document",
        help_text="PDF, PNG, JPEG or TIFF, at most 20 MB (checked by its content).",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.tif,.tiff"}),
    )
    description = forms.CharField(label="Description", required=False, max_length=200)


class RespondForm(QuestionsForm):
    """Answer an information request: the missing answers and a message."""

    response = forms.CharField(
        label="Your response",
        required=False,
        max_length=8000,
        widget=TEXTAREA,
        help_text="Anything the nurse should know. Give a response, answers, or both.",
    )


class ReferralForm(forms.Form):
    member = forms.CharField(label="Member CIN", max_length=20)
    to_organization = forms.ChoiceField(label="Refer to organization")
    to_provider = forms.CharField(
        label="Specialist's NPI",
        required=False,
        max_length=10,
        help_text="Optional: name one specialist of that organization.",
    )
    specialty = forms.ChoiceField(
        label="Specialty", choices=Specialty.choices, initial=Specialty.PAIN_MEDICINE
    )
    reason = forms.CharField(label="Reason for the referral", max_length=2000, widget=TEXTAREA)
    diagnosis_codes = forms.CharField(
        label="Diagnosis codes (ICD-10-CM)",
        max_length=200,
        help_text="Separate codes with commas, e.g. M54.16.",
    )
    valid_from = forms.DateField(label="Valid from", widget=DATE_WIDGET)
    valid_to = forms.DateField(label="Valid to", widget=DATE_WIDGET)
    visits_authorized = forms.IntegerField(
        label="Visits authorized", min_value=1, max_value=99, initial=1
    )

    def __init__(self, *args, organizations=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_organization"].choices = [(str(o.pk), o.name) for o in organizations]

    def clean_diagnosis_codes(self) -> list[str]:
        codes = split_codes(self.cleaned_data["diagnosis_codes"])
        if not codes:
            raise forms.ValidationError("Give at least one diagnosis code.")
        return codes[:12]


# --- nurse ---------------------------------------------------------------------------------


QUEUE_VIEWS = [
    ("", "All open requests"),
    ("mine", "Mine"),
    ("due24", "Due in 24 h"),
    ("referred", "Referred by me"),
]


class QueueFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="TAR number, CIN, member name, NPI or organization",
    )
    view = forms.ChoiceField(label="View", required=False, choices=QUEUE_VIEWS)
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            ("", "Open for nurse review"),
            *((s.value, s.label) for s in TarStatus),
        ],
    )
    # The empty choice names the filter ("Any urgency"): on the one-line filter bar the
    # labels are read by screen readers only.
    urgency = forms.ChoiceField(
        label="Urgency", required=False, choices=[("", "Any urgency"), *Urgency.choices]
    )
    request_type = forms.ChoiceField(
        label="Request type",
        required=False,
        choices=[("", "Any request type"), *RequestType.choices],
    )
    family = forms.ChoiceField(
        label="Procedure family",
        required=False,
        choices=[("", "Any procedure family"), *catalog.FAMILIES.items()],
    )
    assignee = forms.ChoiceField(label="Assigned to", required=False)

    def __init__(self, *args, nurses=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            ("", "Assigned to anyone"),
            ("me", "Assigned to me"),
            ("none", "Nobody (unclaimed)"),
            *((str(n.pk), n.get_full_name() or n.username) for n in nurses),
        ]


class ApproveForm(forms.Form):
    prefix = "approve"  # several action forms share one page: unique ids

    rationale = forms.CharField(
        label="Note (optional)", required=False, max_length=8000, widget=TEXTAREA
    )


class RequestInfoForm(forms.Form):
    prefix = "info"  # several action forms share one page: unique ids

    message = forms.CharField(
        label="What is needed from the provider",
        max_length=4000,
        widget=TEXTAREA,
        help_text="Plain words; the provider sees this message.",
    )
    missing_keys = forms.MultipleChoiceField(
        label="Answers to ask for",
        required=False,
        choices=ANSWER_KEY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="The provider gets a form with these questions.",
    )

    def __init__(self, *args, keys: list[str] | None = None, **kwargs) -> None:
        """`keys`: the questions of the case's criteria sets, in their order (issue 15: an
        ESI case is not offered the 27 questions of every set). None offers them all."""
        super().__init__(*args, **kwargs)
        if keys:
            labels = dict(ANSWER_KEY_CHOICES)
            self.fields["missing_keys"].choices = [(k, labels[k]) for k in keys if k in labels]


class ExtendForm(forms.Form):
    prefix = "extend"  # several action forms share one page: unique ids

    reason = forms.ChoiceField(label="Reason for the extension", choices=ExtensionReason.choices)
    new_due_at = forms.DateTimeField(
        label="New decision due (Pacific time)",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    note = forms.CharField(
        label="What is needed, and why",
        max_length=4000,
        widget=TEXTAREA,
        help_text="The delay notice to the provider and the member states this.",
    )


class ReferForm(forms.Form):
    prefix = "refer"  # several action forms share one page: unique ids

    note = forms.CharField(
        label="Note for the physician", required=False, max_length=4000, widget=TEXTAREA
    )


class CloseForm(forms.Form):
    prefix = "close"  # several action forms share one page: unique ids

    reason_code = forms.ChoiceField(
        label="Reason",
        choices=[(code.value, code.label) for code in NON_MEDICAL_REASONS],
    )
    rationale = forms.CharField(
        label="Explanation in plain words",
        max_length=8000,
        widget=TEXTAREA,
        help_text="It goes into the notice.",
    )
    duplicate_of = forms.ChoiceField(
        label="Duplicates request",
        required=False,
        choices=[],
        help_text="For a duplicate: the open or decided request it repeats.",
    )

    def __init__(self, *args, grounds=None, duplicates=(), **kwargs) -> None:
        """PRODUCT §2: only the grounds the record supports are offered (`grounds`), and a
        duplicate names one of the member's matching requests (`duplicates`)."""
        super().__init__(*args, **kwargs)
        if grounds is not None:
            self.fields["reason_code"].choices = [
                (code.value, code.label) for code in NON_MEDICAL_REASONS if code in grounds
            ]
        self.fields["duplicate_of"].choices = [("", "—")] + [
            (tar.number, f"{tar.number} ({tar.get_status_display()})") for tar in duplicates
        ]


# --- physician -----------------------------------------------------------------------------


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Decision",
        choices=[("approved", "Approve"), ("modified", "Modify"), ("denied", "Deny")],
        widget=forms.RadioSelect,
    )
    reason_code = forms.ChoiceField(
        label="Reason code",
        required=False,
        choices=[("", "None (approval)"), *ReasonCode.choices],
        help_text="Required to modify or deny.",
    )
    rationale = forms.CharField(
        label="Rationale in plain language",
        required=False,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Specific to the member's condition; it goes into the member's letter.",
    )
    criteria_refs = forms.MultipleChoiceField(
        label="Criteria cited",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Cite the criteria the decision rests on (set, version, criterion).",
    )

    def __init__(self, *args, criteria_choices=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["criteria_refs"].choices = list(criteria_choices)


class LineDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome for this line",
        required=False,
        choices=[
            ("", "Same as the decision"),
            ("approved", "Approve"),
            ("modified", "Modify"),
            ("denied", "Deny"),
        ],
    )
    approved_units = forms.IntegerField(
        label="Approved units", required=False, min_value=1, max_value=999
    )
    approved_date_from = forms.DateField(label="Approved from", required=False, widget=DATE_WIDGET)
    approved_date_to = forms.DateField(label="Approved to", required=False, widget=DATE_WIDGET)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        changed = any(
            cleaned.get(name)
            for name in ("approved_units", "approved_date_from", "approved_date_to")
        )
        if changed and not cleaned.get("outcome"):
            self.add_error("outcome", "Choose the line's outcome when you change units or dates.")
        return cleaned
