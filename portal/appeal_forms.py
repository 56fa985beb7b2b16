"""Forms of the appeal, peer-to-peer and independent medical review (IMR) pages. They parse what
a person typed into the values `appeals.services` takes; whether the action is allowed
(by whom, from which status, within which deadline) is the service's to say."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from appeals.models import (
    AppealExtensionReason,
    AppealOutcome,
    ImrDetermination,
    ImrExpeditedBasis,
    ImrReferralReason,
    ImrReviewerKind,
    ImrReviewType,
    ImrSeriousCondition,
    PeerToPeerOutcome,
)
from authorizations.models import (
    OralNoticeOutcome,
    OralNoticeParty,
    OralNoticeSubject,
    ReasonCode,
    ServiceReductionKind,
)
from portal.forms import TEXTAREA

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def datetime_field(label: str, *, required: bool = True, help_text: str = "") -> forms.Field:
    """A datetime-local input, read in Pacific time (the project's TIME_ZONE)."""
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def lines_of(value: str) -> list[str]:
    """One entry per line of a textarea, blank lines dropped."""
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


YES_NO = [("no", _("No")), ("yes", _("Yes"))]


def _yes_no_field(label, help_text="") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        initial="no",
        widget=forms.RadioSelect,
    )


# --- filing an appeal ------------------------------------------------------------------------


DOCUMENTS_HELP = _(
    "PDF, PNG, JPEG or TIFF files, up to 5 at a time. "
    "The doctor who reviews your appeal will read them."
)
DOCUMENT_TYPES = ".pdf,.png,.jpg,.jpeg,.tif,.tiff"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern); the documents' own checks
    (type by content, size) are the service's (appeals.services.documents)."""

    def __init__(self, *args, max_files: int = 5, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": DOCUMENT_TYPES}))
        self.max_files = max_files
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > self.max_files:
            raise forms.ValidationError(
                _("Send at most %(n)d files at a time.") % {"n": self.max_files}
            )
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        return [single(f, initial) for f in files]


def _documents_field() -> MultipleFileField:
    return MultipleFileField(
        label=_("Papers from your doctor (optional)"),
        required=False,
        help_text=DOCUMENTS_HELP,
    )


class MemberAppealForm(forms.Form):
    """The member's own appeal, in English or Spanish (PRODUCT §3 written language)."""

    reason = forms.CharField(
        label=_("Why should the decision change?"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Tell us in your own words. You can add papers from your doctor below."),
    )
    expedited = _yes_no_field(
        _("Do you need a fast (expedited) appeal?"),
        _(
            "A fast appeal is decided within 72 hours. Ask for one if waiting up to 30 days "
            "could seriously harm your life, health or ability to function."
        ),
    )
    expedited_reason = forms.CharField(
        label=_("Why can you not wait 30 days?"),
        required=False,
        max_length=4000,
        widget=TEXTAREA,
        help_text=_("Only needed for a fast appeal."),
    )
    documents = _documents_field()


class AppealDocumentsForm(forms.Form):
    """More papers for an open appeal, from the member's appeal page."""

    documents = MultipleFileField(
        label=_("Add papers from your doctor"),
        help_text=DOCUMENTS_HELP,
    )


class ProviderAppealForm(forms.Form):
    """A provider appealing for the member, with the member's written consent."""

    reason = forms.CharField(
        label="Why the decision should change",
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Clinical reasons; add new records to the request's documents.",
    )
    expedited = _yes_no_field(
        "Expedited appeal?",
        "Decided within 72 hours when the standard 30 days could seriously jeopardize the "
        "member's life, health or ability to attain, maintain or regain maximum function.",
    )
    expedited_reason = forms.CharField(
        label="Why the standard time frame could harm the member",
        required=False,
        max_length=4000,
        widget=TEXTAREA,
        help_text="Required for an expedited appeal.",
    )
    # Not required here: the service refuses without it and says why (42 CFR 438.402(c)).
    member_consent = forms.BooleanField(
        label="I have the member's written consent to appeal for them",
        required=False,
        help_text="Keep the signed consent in the member's chart.",
    )


class MemberServicesAppealForm(forms.Form):
    """An appeal entered by member services for a member who called or wrote."""

    received_at = datetime_field(
        "Received at (Pacific time)",
        help_text="When the member called, or when the letter arrived: the appeal clock "
        "starts then.",
    )
    reason = forms.CharField(
        label="The member's reason, in their words",
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    expedited = _yes_no_field(
        "Did the member ask for a fast (expedited) appeal?",
        "Decided within 72 hours when waiting 30 days could seriously harm the member.",
    )
    expedited_reason = forms.CharField(
        label="Why the member cannot wait 30 days",
        required=False,
        max_length=4000,
        widget=TEXTAREA,
        help_text="Required for an expedited appeal.",
    )


# --- provider: peer-to-peer and withdrawal -----------------------------------------------------


class PeerToPeerRequestForm(forms.Form):
    contact_phone = forms.CharField(
        label="Phone number the physician reviewer can call",
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    proposed_time_1 = datetime_field("First proposed time (Pacific)")
    proposed_time_2 = datetime_field("Second proposed time (Pacific)", required=False)
    proposed_time_3 = datetime_field("Third proposed time (Pacific)", required=False)
    topic = forms.CharField(
        label="What you would like to discuss",
        required=False,
        max_length=4000,
        widget=TEXTAREA,
    )

    def proposed_times(self) -> list:
        return [
            self.cleaned_data[name]
            for name in ("proposed_time_1", "proposed_time_2", "proposed_time_3")
            if self.cleaned_data.get(name)
        ]


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why is the request withdrawn?",
        required=False,
        max_length=2000,
        widget=TEXTAREA,
        help_text="Optional; it is kept in the request's history.",
    )


class CancelForm(forms.Form):
    prefix = "cancel"  # several action forms share one page: unique ids

    reason = forms.CharField(label="Reason", required=False, max_length=2000, widget=TEXTAREA)


# --- physician: appeals ------------------------------------------------------------------------


class AppealDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Appeal decision",
        choices=[
            (AppealOutcome.UPHELD, "Uphold: the decision stands"),
            (AppealOutcome.OVERTURNED, "Overturn: approve as requested"),
            (
                AppealOutcome.PARTIALLY_OVERTURNED,
                "Partially overturn: approve in part (give the line decisions below)",
            ),
        ],
        widget=forms.RadioSelect,
    )
    reason_code = forms.ChoiceField(
        label="Reason code",
        required=False,
        choices=[("", "Keep the original reason"), *ReasonCode.choices],
        help_text="For an upheld or partly overturned appeal.",
    )
    rationale = forms.CharField(
        label="Rationale in plain language",
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Specific to the member's condition; it goes into the resolution letter.",
    )
    criteria_refs = forms.MultipleChoiceField(
        label="Criteria cited",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Required when the appeal stays adverse for medical necessity.",
    )

    def __init__(self, *args, criteria_choices=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["criteria_refs"].choices = list(criteria_choices)


class AppealExtendForm(forms.Form):
    prefix = "extend"  # several action forms share one page: unique ids

    reason = forms.ChoiceField(
        label="Reason for the extension", choices=AppealExtensionReason.choices
    )
    new_due_at = datetime_field(
        "New resolution due (Pacific time)",
        required=False,
        help_text="Leave empty for the latest allowed (14 calendar days more).",
    )
    note = forms.CharField(
        label="Why, and what is needed",
        max_length=4000,
        widget=TEXTAREA,
        help_text="The notice to the member states this.",
    )


class OralNoticeForm(forms.Form):
    """One telephone notice attempt (42 CFR 438.408(c)(2)(i), 438.410(c)(2); H&S
    1367.01(h)(3)): the subjects on offer are the ones a rule asks for here now."""

    prefix = "call"  # several action forms share one page: unique ids

    subject = forms.ChoiceField(label="What the call was about")
    party = forms.ChoiceField(label="Whom you called", choices=OralNoticeParty.choices)
    phone = forms.CharField(label="Number called", max_length=30)
    outcome = forms.ChoiceField(label="How it ended", choices=OralNoticeOutcome.choices)
    attempted_at = datetime_field(
        "When (Pacific time)", required=False, help_text="Leave empty for now."
    )
    note = forms.CharField(label="Note", max_length=2000, required=False, widget=TEXTAREA)

    def __init__(self, *args, subjects: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(OralNoticeSubject.choices)
        self.fields["subject"].choices = [(s, labels[s]) for s in subjects or []]


class AppealDowngradeForm(forms.Form):
    """42 CFR 438.410(c): refuse the request for an expedited appeal; the call attempt is
    recorded with it when made."""

    prefix = "downgrade"  # several action forms share one page: unique ids

    reason = forms.CharField(
        label="Why the standard timeframe does not endanger the member",
        max_length=4000,
        widget=TEXTAREA,
        help_text="The written notice to the member states this.",
    )
    party = forms.ChoiceField(
        label="Whom you called",
        choices=[("", "No call yet"), *OralNoticeParty.choices],
        required=False,
    )
    phone = forms.CharField(label="Number called", max_length=30, required=False)
    outcome = forms.ChoiceField(
        label="How the call ended",
        choices=[("", "—"), *OralNoticeOutcome.choices],
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("party") and not (data.get("phone") and data.get("outcome")):
            raise forms.ValidationError("Give the number called and how the call ended.")
        return data


# --- physician: peer-to-peer -------------------------------------------------------------------


class PeerToPeerScheduleForm(forms.Form):
    prefix = "schedule"  # several action forms share one page: unique ids

    scheduled_at = datetime_field("Time of the talk (Pacific)")
    physician = forms.ChoiceField(label="Physician reviewer")

    def __init__(self, *args, physicians=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["physician"].choices = [
            (str(p.pk), p.get_full_name() or p.username) for p in physicians
        ]


class PeerToPeerOutcomeForm(forms.Form):
    prefix = "outcome"  # several action forms share one page: unique ids

    outcome = forms.ChoiceField(
        label="Outcome of the talk", choices=PeerToPeerOutcome.choices, widget=forms.RadioSelect
    )
    summary = forms.CharField(
        label="Summary of the talk", max_length=8000, widget=forms.Textarea(attrs={"rows": 4})
    )
    held_at = datetime_field("Held at (Pacific)", required=False, help_text="Leave empty for now.")
    decision = forms.ChoiceField(
        label="The changed decision (if any)",
        required=False,
        help_text="A decision on this request made after the talk was asked for.",
    )

    def __init__(self, *args, decisions=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [("", "None")] + [
            (
                str(d.pk),
                f"{d.get_outcome_display()} on {d.decided_at:%m/%d/%Y %H:%M}",
            )
            for d in decisions
        ]


# --- physician and staff: independent medical review -------------------------------------------


class ImrReferForm(forms.Form):
    referral_reason = forms.ChoiceField(
        label="Why the case goes to independent review",
        choices=ImrReferralReason.choices,
        widget=forms.RadioSelect,
    )
    serious_condition = forms.ChoiceField(
        label="Seriousness of the condition",
        required=False,
        choices=[("", "Not stated"), *ImrSeriousCondition.choices],
        help_text="Needed when an experimental therapy was denied for a serious condition "
        "(003 B.4).",
    )
    treating_physician_certified = forms.BooleanField(
        label="The treating physician certified that standard therapies failed and recommended "
        "a more beneficial one in writing (003 B.5)",
        required=False,
    )
    experimental_investigational = forms.BooleanField(
        label="The service is experimental or investigational", required=False
    )
    reviewer_kind = forms.ChoiceField(
        label="Independent reviewer", choices=ImrReviewerKind.choices, widget=forms.RadioSelect
    )
    reviewer_name = forms.CharField(label="Reviewer's name or organization", max_length=160)
    reviewer_specialty = forms.CharField(
        label="Reviewer's specialty", required=False, max_length=120
    )
    review_type = forms.ChoiceField(
        label="Type of review", choices=ImrReviewType.choices, widget=forms.RadioSelect
    )
    expedited_basis = forms.ChoiceField(
        label="Basis for an expedited review",
        required=False,
        choices=[("", "Not expedited"), *ImrExpeditedBasis.choices],
        help_text="Required for an expedited review (003 G.2.a).",
    )
    appeal = forms.ChoiceField(
        label="Appeal under review",
        required=False,
        help_text="The open appeal this review belongs to, if any.",
    )
    questions = forms.CharField(
        label="Questions for the independent reviewer (item i)",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One question per line.",
    )
    pertinent_history = forms.CharField(
        label="Relevant medical history (item f)",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    clinical_data = forms.CharField(
        label="Treatment and clinical findings (item g)",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, appeals=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["appeal"].choices = [("", "None (or the open appeal, if there is one)")] + [
            (str(a.pk), f"{a.number}, received {a.received_at:%m/%d/%Y}") for a in appeals
        ]

    def clean_questions(self) -> list[str]:
        questions = lines_of(self.cleaned_data["questions"])
        if len(questions) > 20:
            raise forms.ValidationError("At most 20 questions.")
        return questions


class ImrDeterminationForm(forms.Form):
    prefix = "determination"  # several action forms share one page: unique ids

    file = forms.FileField(
        label="The reviewer's written determination (PDF)",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
    )
    determination = forms.ChoiceField(
        label="Determination", choices=ImrDetermination.choices, widget=forms.RadioSelect
    )
    analysis = forms.CharField(
        label="The reviewer's analysis",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    reviewer_qualifications = forms.CharField(
        label="Qualifications of each reviewer",
        max_length=20000,
        widget=TEXTAREA,
        help_text="One reviewer per line, e.g. board-certified anesthesiologist, pain medicine.",
    )
    received_at = datetime_field(
        "Received at (Pacific)", required=False, help_text="Leave empty for now."
    )

    def clean_reviewer_qualifications(self) -> list[str]:
        qualifications = lines_of(self.cleaned_data["reviewer_qualifications"])
        if len(qualifications) > 10:
            raise forms.ValidationError("At most 10 reviewers.")
        return qualifications


class ImrFinalDecisionForm(AppealDecisionForm):
    """The plan physician's coverage decision after the determination. On a request still
    open it is a first decision (approve, modify, deny); otherwise it upholds, overturns or
    partly overturns, as an appeal resolution does."""

    prefix = "final"  # several action forms share one page: unique ids

    OPEN_CHOICES = [("approved", "Approve"), ("modified", "Modify"), ("denied", "Deny")]

    def __init__(self, *args, request_open: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outcome"].label = "Final coverage decision"
        if request_open:
            self.fields["outcome"].choices = self.OPEN_CHOICES
            self.fields["reason_code"].choices = [("", "None (approval)"), *ReasonCode.choices]
        self.fields[
            "rationale"
        ].help_text = "Plain words; the member and the provider receive it with the determination."


# --- helpers -----------------------------------------------------------------------------------


def line_errors_to_forms(exc_fields: dict[str, list[str]], line_forms: list[tuple]) -> None:
    """'lines[2].approved_units' → the field of line 2's form; 'lines' → every line form."""
    for key, items in exc_fields.items():
        if key == "lines":
            for _line, lf in line_forms[:1]:
                for message in items:
                    lf.add_error(None, message)
            continue
        if not key.startswith("lines[") or "]." not in key:
            continue
        number, _sep, name = key[len("lines[") :].partition("].")
        for line, lf in line_forms:
            if str(line.line_number) == number and name in lf.fields:
                for message in items:
                    lf.add_error(name, message)


class ReduceServicesForm(forms.Form):
    """A reduction or termination of authorized concurrent services (42 CFR 431.211)."""

    prefix = "reduce"  # several action forms share one page: unique ids

    kind = forms.ChoiceField(label="Change", choices=ServiceReductionKind.choices)
    effective_on = forms.DateField(
        label="Takes effect on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="At least 10 days after today: the member's notice goes out first.",
    )
    rationale = forms.CharField(label="Why, in plain words", max_length=8000, widget=TEXTAREA)
    care_plan_note = forms.CharField(
        label="How the treating provider was told, and the care plan",
        max_length=4000,
        widget=TEXTAREA,
    )
    criteria_refs = forms.MultipleChoiceField(label="Criteria used", required=False)

    def __init__(self, *args, criteria_choices=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["criteria_refs"].choices = list(criteria_choices)
