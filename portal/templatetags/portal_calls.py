"""The action panels of issue 11 on the staff pages: a telephone notice attempt, an expedited
appeal moved to the standard timeframe, a reduction of authorized concurrent services. Each
panel shows only when the workflow machine offers its action to this user now
(`available_actions`), so a page never offers what the service would refuse."""

from __future__ import annotations

from typing import Any

from django import template

from appeals.machines import APPEAL, AppealAction, appeal_oral_notice_subjects
from authorizations.transitions import TAR, Action, oral_notice_subjects
from authorizations.workflow import available_actions
from portal.appeal_forms import AppealDowngradeForm, OralNoticeForm, ReduceServicesForm
from portal.views.physician import criteria_choices

register = template.Library()


@register.inclusion_tag("portal/_tar_calls.html", takes_context=True)
def tar_call_actions(context, tar) -> dict[str, Any]:
    user = context["request"].user
    actions = set(available_actions(TAR, tar, user))
    choices = criteria_choices(tar)[0] if Action.REDUCE_SERVICES in actions else []
    return {
        "tar": tar,
        "call_form": OralNoticeForm(subjects=oral_notice_subjects(tar))
        if Action.RECORD_ORAL_NOTICE in actions
        else None,
        "reduce_form": ReduceServicesForm(criteria_choices=choices)
        if Action.REDUCE_SERVICES in actions
        else None,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("portal/_appeal_calls.html", takes_context=True)
def appeal_call_actions(context, appeal) -> dict[str, Any]:
    user = context["request"].user
    actions = set(available_actions(APPEAL, appeal, user))
    return {
        "appeal": appeal,
        "downgrade_form": AppealDowngradeForm() if AppealAction.DOWNGRADE in actions else None,
        "call_form": OralNoticeForm(subjects=appeal_oral_notice_subjects(appeal))
        if AppealAction.RECORD_ORAL_NOTICE in actions
        else None,
        "csrf_token": context.get("csrf_token"),
    }
