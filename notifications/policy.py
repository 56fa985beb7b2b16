"""What each domain event owes: the notices, to whom, of which kind, due when, under which
rule (PRODUCT §4, §7). One table, read by the notices consumer of the event outbox
(notifications.services.notices_for_event). Each entry reads the event's payload, written
with the change, so a notice owed minutes later is owed as of the change itself.

The event key of a notice names the record it is about (`decision:<id>`, `extension:<id>`):
with the unique (tar, event key, kind, audience) it makes owing a notice twice a no-op, and
the letter builders find their record by it (notifications.letter_contexts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils.dateparse import parse_datetime

from authorizations import clocks
from authorizations.models import DomainEvent, EventKind, ReasonCode, TarStatus
from notifications.models import Audience, NoticeKind

_DECISION_KINDS = {
    TarStatus.APPROVED: NoticeKind.APPROVAL,
    TarStatus.MODIFIED: NoticeKind.MODIFICATION,
    TarStatus.DENIED: NoticeKind.DENIAL,
}
# A closure because the member is not eligible, the service is not a benefit, or the request
# came without the RAF or credentialed specialist it needs (000 VI.B-C) is still an adverse
# benefit determination (42 CFR 438.400(b)(1)): the member gets a denial notice.
ADVERSE_CLOSURES = (
    ReasonCode.NOT_ELIGIBLE,
    ReasonCode.NOT_A_BENEFIT,
    ReasonCode.REQUIREMENTS_NOT_MET,
)
_BOTH = (Audience.PROVIDER, Audience.MEMBER)


@dataclass(frozen=True)
class Owed:
    event_key: str
    kind: str
    audience: str
    due_at: datetime
    rule: str


def _at(value: str | None) -> datetime:
    parsed = parse_datetime(value or "")
    if parsed is None:
        raise ValueError(f"event payload has no time: {value!r}")
    return parsed


def _decision(event: DomainEvent) -> list[Owed]:
    payload = event.payload
    outcome, reason = payload["outcome"], payload.get("reason_code", "")
    kind = _DECISION_KINDS.get(outcome)
    if outcome == TarStatus.CLOSED:
        kind = NoticeKind.DENIAL if reason in ADVERSE_CLOSURES else NoticeKind.CLOSURE
    if kind is None:
        return []
    key = f"decision:{payload['decision']}"
    owed = [
        Owed(
            key,
            kind,
            Audience.PROVIDER,
            _at(payload["provider_notice_due_at"]),
            payload["provider_notice_rule"],
        )
    ]
    if kind != NoticeKind.CLOSURE:
        # A closure that is not adverse tells the provider only.
        owed.append(
            Owed(
                key,
                kind,
                Audience.MEMBER,
                _at(payload["member_notice_due_at"]),
                payload["member_notice_rule"],
            )
        )
    return owed


def _extension(event: DomainEvent) -> list[Owed]:
    # The delay notice must go out before the old deadline passes (H&S 1367.01(h)(5)).
    key = f"extension:{event.payload['extension']}"
    due = _at(event.payload["previous_due_at"])
    return [
        Owed(key, NoticeKind.DELAY, audience, due, "delay_notice_before_old_deadline")
        for audience in _BOTH
    ]


def _information_request(event: DomainEvent) -> list[Owed]:
    return [
        Owed(
            f"information_request:{event.payload['information_request']}",
            NoticeKind.INFORMATION_REQUEST,
            Audience.PROVIDER,
            _at(event.payload["requested_at"]),
            "information_request_immediate",
        )
    ]


def _untimely(event_key: str, detected_at: datetime) -> Owed:
    # 42 CFR 438.404(c)(5), 438.408(c)(3): a missed deadline is an adverse determination. Due
    # the day the engine records the miss: a deadline that ends at 23:59:59 is only seen
    # missed the next minute, and the notice cannot be owed before anyone knows.
    due = clocks.untimely_notice_deadline(breached_at=detected_at)
    return Owed(event_key, NoticeKind.UNTIMELY, Audience.MEMBER, due.due_at, due.rule)


def _breach(event: DomainEvent) -> list[Owed]:
    return [_untimely("breach", event.created_at)]


def _appeal_exhausted(event: DomainEvent) -> list[Owed]:
    return [_untimely(f"appeal_exhausted:{event.subject_id}", event.created_at)]


def _appeal_resolution(event: DomainEvent) -> list[Owed]:
    due = _at(event.payload["notice_due_at"])
    rule = event.payload.get("resolution_due_rule", "")
    return [
        Owed(f"appeal_resolution:{event.subject_id}", NoticeKind.APPEAL_RESOLUTION, a, due, rule)
        for a in _BOTH
    ]


def _appeal_extension(event: DomainEvent) -> list[Owed]:
    return [
        Owed(
            f"appeal_extension:{event.payload['extension']}",
            NoticeKind.DELAY,
            audience,
            # 42 CFR 438.408(c)(2)(ii): written notice of the reason within 2 calendar days.
            _at(event.payload["notice_due_at"]),
            "appeal_extension_notice_2_calendar_days",
        )
        for audience in _BOTH
    ]


def _imr_outcome(event: DomainEvent) -> list[Owed]:
    key = f"imr_outcome:{event.subject_id}"
    return [
        # 003 G.4; 002 table: the provider copy within 24 hours of the decision.
        Owed(
            key,
            NoticeKind.IMR_OUTCOME,
            Audience.PROVIDER,
            _at(event.payload["provider_notice_due_at"]),
            clocks.Rule.PROVIDER_NOTICE_24_HOURS_AFTER_DECISION,
        ),
        # 002 footnote; H&S 1367.01: the member's mailed within 2 business days.
        Owed(
            key,
            NoticeKind.IMR_OUTCOME,
            Audience.MEMBER,
            _at(event.payload["member_notice_due_at"]),
            clocks.Rule.MEMBER_NOTICE_2_BUSINESS_DAYS,
        ),
    ]


def _services_reduced(event: DomainEvent) -> list[Owed]:
    # 42 CFR 431.211, 438.404(c)(1): the member's notice of a reduction or termination of
    # authorized services at least 10 days before it takes effect (clocks.reduction_notice_
    # deadline chose the binding rule); the provider's copy by the same date.
    key = f"decision:{event.payload['decision']}"
    due = _at(event.payload["member_notice_due_at"])
    rule = event.payload["member_notice_rule"]
    return [Owed(key, NoticeKind.MODIFICATION, audience, due, rule) for audience in _BOTH]


def _appeal_downgraded(event: DomainEvent) -> list[Owed]:
    # 42 CFR 438.410(c)(2): written notice of the downgrade within 2 calendar days.
    due = _at(event.payload["notice_due_at"])
    rule = event.payload["notice_rule"]
    key = f"appeal_downgrade:{event.subject_id}"
    return [Owed(key, NoticeKind.APPEAL_DOWNGRADE, audience, due, rule) for audience in _BOTH]


# Every event that owes a notice; the others owe none.
POLICY: dict[str, Callable[[DomainEvent], list[Owed]]] = {
    EventKind.TAR_DECIDED: _decision,
    EventKind.TAR_EXTENDED: _extension,
    EventKind.TAR_INFO_REQUESTED: _information_request,
    EventKind.TAR_BREACHED: _breach,
    EventKind.APPEAL_RESOLVED: _appeal_resolution,
    EventKind.APPEAL_EXTENDED: _appeal_extension,
    EventKind.APPEAL_EXHAUSTED: _appeal_exhausted,
    EventKind.IMR_DECIDED: _imr_outcome,
    EventKind.TAR_SERVICES_REDUCED: _services_reduced,
    EventKind.APPEAL_DOWNGRADED: _appeal_downgraded,
}


# Grievance events that owe the member a letter (notifications.grievance_letters): the
# acknowledgement within 5 calendar days (H&S 1368(a)(4); 28 CCR 1300.68(d)(1)) and the
# resolution within 30 calendar days, 72 hours when expedited (H&S 1368(a)(5), 1368.01(b)).
# Their due times are on the grievance (grievances.clocks); a grievance has no request, so
# these are not request notices.
GRIEVANCE_LETTER_EVENTS = (EventKind.GRIEVANCE_ACKNOWLEDGED, EventKind.GRIEVANCE_RESOLVED)


def notices_owed(event: DomainEvent) -> list[Owed]:
    entry = POLICY.get(event.kind)
    return entry(event) if entry is not None else []
