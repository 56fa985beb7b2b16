"""Forms of the IRR pages: the blind second review and the corrective action plan."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Role, User
from reports.irr import LineReview
from reports.models import CorrectiveActionPlan

OUTCOME_LABELS = {
    "approved": "Approve",
    "modified": "Modify (approve in part)",
    "denied": "Deny",
    "closed": "Close (non-medical)",
}


class IrrReviewForm(forms.Form):
    comment = forms.CharField(
        label="Comment (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, case: dict[str, Any], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        for line in case["lines"]:
            self.fields[f"line_{line['line_number']}"] = forms.ChoiceField(
                label=f"Line {line['line_number']} ({line['code']}): your outcome",
                choices=[(o, OUTCOME_LABELS.get(o, o)) for o in case["outcome_choices"]],
                widget=forms.RadioSelect,
            )
        refs = [
            (c["ref"], f"{group['title']} {c['number']}: {c['text']}")
            for group in case["criteria"]
            for c in group["criteria"]
        ]
        self.fields["criteria_not_met"] = forms.MultipleChoiceField(
            label="Criteria you judge not met",
            choices=refs,
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        self.order_fields(
            [
                *(f"line_{line['line_number']}" for line in case["lines"]),
                "criteria_not_met",
                "comment",
            ]
        )

    def line_reviews(self) -> list[LineReview]:
        return [
            LineReview(
                line_number=line["line_number"],
                outcome=self.cleaned_data[f"line_{line['line_number']}"],
            )
            for line in self.case["lines"]
        ]


class PlanForm(forms.Form):
    owner = forms.ChoiceField(label="Owner")
    actions = forms.CharField(label="Actions", widget=forms.Textarea(attrs={"rows": 4}))
    due_date = forms.DateField(
        label="Actions due by", widget=forms.DateInput(attrs={"type": "date"})
    )
    re_audit_date = forms.DateField(
        label="Re-audit by", widget=forms.DateInput(attrs={"type": "date"})
    )
    close = forms.BooleanField(label="Close the plan", required=False)
    outcome = forms.CharField(
        label="What the plan achieved (to close it)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, plan: CorrectiveActionPlan, **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {
                "owner": str(plan.owner_id),
                "actions": plan.actions,
                "due_date": plan.due_date,
                "re_audit_date": plan.re_audit_date,
                "outcome": plan.outcome,
            },
        )
        super().__init__(*args, **kwargs)
        owners = User.objects.filter(
            is_active=True, role__in=[Role.MANAGER, Role.PHYSICIAN, Role.NURSE]
        ).order_by("username")
        self.fields["owner"].choices = [
            (str(u.pk), f"{u.username} ({u.get_role_display()})") for u in owners
        ]
