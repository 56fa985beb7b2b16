"""Telephone notice attempts about an appeal (42 CFR 438.408(c)(2)(i), 438.408(d)(2)(ii),
438.410(c)(2)): who called whom, when, and how it ended, through the appeal machine. The
request's own attempts (urgent decisions, extensions) are the TAR machine's
(authorizations.services.notice_calls)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.models import User
from appeals.machines import APPEAL, AppealAction, appeal_oral_notice_subjects
from appeals.models import Appeal
from authorizations.models import OralNotice
from authorizations.services.notice_calls import (
    OralNoticeInput,
    oral_notice_validate,
    oral_notice_write,
)
from authorizations.workflow import perform


def appeal_oral_notice_record(
    *, appeal_id: int, user: User, data: OralNoticeInput, now: datetime | None = None
) -> OralNotice:
    now = now or timezone.now()
    written: dict[str, Any] = {}

    def apply(appeal: Appeal) -> dict[str, Any]:
        valid = oral_notice_validate(data, subjects=appeal_oral_notice_subjects(appeal), now=now)
        written.update(
            oral_notice_write(tar=appeal.tar, data=valid, user=user, appeal_ref=appeal.pk, now=now)
        )
        return written

    perform(
        APPEAL,
        AppealAction.RECORD_ORAL_NOTICE,
        record_id=appeal_id,
        user=user,
        apply=apply,
        now=now,
    )
    return OralNotice.objects.get(pk=written["oral_notice"])
