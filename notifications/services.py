"""Which notices an event owes, and by when (PRODUCT §4 and §7)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from authorizations import clocks
from authorizations.models import ReasonCode, Tar, TarStatus
from notifications.models import Audience, Notice, NoticeKind

_DECISION_KINDS = {
    TarStatus.APPROVED: NoticeKind.APPROVAL,
    TarStatus.MODIFIED: NoticeKind.MODIFICATION,
    TarStatus.DENIED: NoticeKind.DENIAL,
}
# A closure because the member is not eligible or the service is not a benefit is still an
# adverse benefit determination (42 CFR 438.400(b)): the member gets a denial notice.
_ADVERSE_CLOSURES = (ReasonCode.NOT_ELIGIBLE, ReasonCode.NOT_A_BENEFIT)


def _owe(
    tar: Tar, *, event_key: str, kind: str, audience: str, due_at: datetime, rule: str
) -> None:
    Notice.objects.get_or_create(
        tar=tar,
        event_key=event_key,
        kind=kind,
        audience=audience,
        defaults={"due_at": due_at, "due_rule": rule},
    )


@transaction.atomic
def notices_for_event(*, tar_id: int, event: str) -> list[Notice]:
    """Record the notices owed for an event. Idempotent: the unique (tar, event, kind,
    audience) makes a repeated call a no-op."""
    tar = Tar.objects.select_related("member").get(pk=tar_id)
    before = set(tar.notices.values_list("pk", flat=True))
    if event == "decision":
        decision = tar.decisions.order_by("-decided_at", "-id").first()
        if decision is None:
            return []
        key = f"decision:{decision.pk}"
        kind = _DECISION_KINDS.get(tar.status)
        if tar.status == TarStatus.CLOSED:
            kind = NoticeKind.DENIAL if tar.reason_code in _ADVERSE_CLOSURES else NoticeKind.CLOSURE
        if kind is None:
            return []
        assert tar.provider_notice_due_at is not None and tar.member_notice_due_at is not None
        _owe(
            tar,
            event_key=key,
            kind=kind,
            audience=Audience.PROVIDER,
            due_at=tar.provider_notice_due_at,
            rule=tar.provider_notice_rule,
        )
        if kind != NoticeKind.CLOSURE:
            _owe(
                tar,
                event_key=key,
                kind=kind,
                audience=Audience.MEMBER,
                due_at=tar.member_notice_due_at,
                rule="member_notice_2_business_days",
            )
    elif event == "extension":
        extension = tar.extensions.order_by("-extended_at", "-id").first()
        if extension is None:
            return []
        key = f"extension:{extension.pk}"
        # The delay notice must go out before the old deadline passes (H&S 1367.01(h)(5)).
        for audience in (Audience.PROVIDER, Audience.MEMBER):
            _owe(
                tar,
                event_key=key,
                kind=NoticeKind.DELAY,
                audience=audience,
                due_at=extension.previous_due_at,
                rule="delay_notice_before_old_deadline",
            )
    elif event == "information_request":
        request = tar.information_requests.order_by("-requested_at", "-id").first()
        if request is None:
            return []
        _owe(
            tar,
            event_key=f"information_request:{request.pk}",
            kind=NoticeKind.INFORMATION_REQUEST,
            audience=Audience.PROVIDER,
            due_at=request.requested_at,
            rule="information_request_immediate",
        )
    elif event == "breach":
        assert tar.breached_at is not None
        due = clocks.untimely_notice_deadline(breached_at=tar.breached_at)
        # 42 CFR 438.404(c)(5): an untimely decision is an adverse determination.
        _owe(
            tar,
            event_key="breach",
            kind=NoticeKind.UNTIMELY,
            audience=Audience.MEMBER,
            due_at=due.due_at,
            rule=due.rule,
        )
    else:
        raise ValueError(f"unknown notice event {event!r}")
    return list(tar.notices.exclude(pk__in=before))
