"""The reports of PRODUCT §10 as tables: each report is a list of sections, each section a
title, column headings and rows of cells (a value and, where the figure counts requests, the
link to the list of those requests). The page, the CSV and the PDF all print these, so the
three never disagree."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from reports import figures
from reports.periods import Period


@dataclass(frozen=True)
class Cell:
    value: Any
    href: str = ""

    @property
    def text(self) -> str:
        if self.value is None:
            return "n/a"
        if isinstance(self.value, datetime):
            return timezone.localtime(self.value).strftime("%Y-%m-%d %H:%M")
        return str(self.value)


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""


@dataclass
class Report:
    slug: str
    title: str
    period: Period
    sections: list[Section]
    note: str = ""


def requests_link(period: Period, **params: Any) -> str:
    query = {**period.as_query(), **{k: v for k, v in params.items() if v not in (None, "")}}
    return f"{reverse('reports:requests')}?{urlencode(query)}"


def _count(period: Period, value: int, **params: Any) -> Cell:
    return Cell(value, requests_link(period, **params) if value else "")


def timeliness_report(period: Period, *, now: datetime | None = None) -> Report:
    rows = figures.timeliness(period, now=now)
    decisions = Section(
        "Decisions and notices by request type and urgency (NCQA UM 5)",
        [
            "Request type",
            "Decided",
            "Decided on time",
            "On time %",
            "Extended",
            "Provider notices due",
            "Provider notices on time",
            "On time %",
            "Provider notices late",
            "Member notices due",
            "Member notices on time",
            "On time %",
            "Member notices late",
        ],
    )
    for row in rows:
        kind = {"request_type": row["request_type"], "urgency": row["urgency"]}
        decisions.rows.append(
            [
                Cell(row["label"]),
                _count(period, row["decided"], measure="decided", **kind),
                Cell(row["decided_on_time"]),
                Cell(row["decided_on_time_percent"]),
                Cell(row["extended"]),
                _count(
                    period,
                    row["provider_notices_due"],
                    measure="notices",
                    audience="provider",
                    **kind,
                ),
                Cell(row["provider_notices_on_time"]),
                Cell(row["provider_notices_on_time_percent"]),
                _count(
                    period,
                    row["provider_notices_late"],
                    measure="notices",
                    audience="provider",
                    on_time="no",
                    **kind,
                ),
                _count(
                    period, row["member_notices_due"], measure="notices", audience="member", **kind
                ),
                Cell(row["member_notices_on_time"]),
                Cell(row["member_notices_on_time_percent"]),
                _count(
                    period,
                    row["member_notices_late"],
                    measure="notices",
                    audience="member",
                    on_time="no",
                    **kind,
                ),
            ]
        )
    decisions.note = (
        "A decision is on time when the first decision was made by the decision deadline in "
        "force (a lawful extension moves it). Notices are counted in the period in which they "
        "were due; a late notice was sent after its deadline or is still unsent past it."
    )
    b = figures.breaches(period)
    breach = Section("Breaches and escalations", ["Figure", "Count"])
    breach.rows = [
        [Cell("Decision deadlines missed"), _count(period, b["breached"], measure="breached")],
        [Cell("of which urgent"), Cell(b["urgent"])],
        [Cell("of which still open"), Cell(b["still_open"])],
        [Cell("Escalated to the UM manager and physicians"), Cell(b["escalated"])],
        [Cell("Escalations acknowledged"), Cell(b["acknowledged"])],
    ]
    extensions = Section("Extensions by reason", ["Reason", "Count"])
    extensions.rows = [
        [Cell(e["label"]), _count(period, e["count"], measure="extended", reason=e["reason"])]
        for e in b["extensions"]
    ]
    a = figures.appeals(period)
    appeals = Section(
        "Appeals and IMR resolved on time", ["Figure", "Count", "On time", "On time %"]
    )
    appeals.rows = [
        [
            Cell("Appeals resolved"),
            Cell(a["resolved"]["resolved"]),
            Cell(a["resolved"]["on_time"]),
            Cell(a["resolved"]["on_time_percent"]),
        ],
        [
            Cell("IMR determinations received"),
            Cell(a["imr"]["determined"]),
            Cell(a["imr"]["on_time"]),
            Cell(a["imr"]["on_time_percent"]),
        ],
    ]
    late = figures.late_submissions(period)
    late_section = Section("Late retrospective submissions", ["Figure", "Count"])
    late_section.rows = [
        [Cell("Post-service requests received"), Cell(late["received"])],
        [Cell("Flagged late"), _count(period, late["late"], measure="late_submission")],
        [Cell("Late %"), Cell(late["late_percent"])],
    ]
    return Report(
        "timeliness",
        "Timeliness",
        period,
        [
            decisions,
            breach,
            extensions,
            appeals,
            late_section,
            *inventory_sections(period, now=now),
        ],
    )


def inventory_sections(period: Period, *, now: datetime | None = None) -> list[Section]:
    inv = figures.inventory(now=now)
    age = Section("Open requests by age (now)", ["Age", "Open requests"])
    age.rows = [
        [Cell(b["label"]), _count(period, b["count"], measure="open", bucket=b["key"])]
        for b in inv["by_age"]
    ]
    left = Section(
        "Open requests by time left to the decision deadline (now)", ["Time left", "Open requests"]
    )
    left.rows = [
        [Cell(b["label"]), _count(period, b["count"], measure="open", bucket=b["key"])]
        for b in inv["by_time_left"]
    ]
    return [age, left]


_OUTCOME_HEADINGS = [
    "Decided",
    *(label for _, label, _ in figures.OUTCOME_COLUMNS),
    "Denial %",
    "Modification %",
]


def _outcome_cells(period: Period, row: dict[str, Any], **params: Any) -> list[Cell]:
    return [
        _count(period, row["decided"], measure="decided", **params),
        *(
            _count(period, row[key], measure="decided", outcome=key, **params)
            for key, _, _ in figures.OUTCOME_COLUMNS
        ),
        Cell(row["denial_percent"]),
        Cell(row["modification_percent"]),
    ]


def outcomes_report(period: Period, *, now: datetime | None = None) -> Report:
    data = figures.outcomes(period)
    total = Section("All first decisions", ["", *_OUTCOME_HEADINGS])
    total.rows = [[Cell("All"), *_outcome_cells(period, data["total"])]]
    family = Section("By procedure family", ["Family", *_OUTCOME_HEADINGS])
    family.rows = [
        [Cell(r["label"]), *_outcome_cells(period, r, family=r["family"])]
        for r in data["by_family"]
    ]
    family.note = "A request with lines of two families is counted under each."
    org = Section("By requesting organization", ["Organization", *_OUTCOME_HEADINGS])
    org.rows = [
        [Cell(r["label"]), *_outcome_cells(period, r, organization=r["organization"])]
        for r in data["by_organization"]
    ]
    reviewer = Section("By reviewer", ["Reviewer", *_OUTCOME_HEADINGS])
    reviewer.rows = [
        [Cell(r["label"]), *_outcome_cells(period, r, reviewer=r["reviewer"])]
        for r in data["by_reviewer"]
    ]
    p = figures.pends(period)
    pends = Section("Pends for information and answer times", ["Figure", "Value"])
    pends.rows = [
        [Cell("Requests received"), _count(period, p["received"], measure="received")],
        [Cell("of which pended for information"), _count(period, p["pended"], measure="pended")],
        [Cell("Pend rate %"), Cell(p["pend_percent"])],
        [Cell("Information requests sent"), Cell(p["requests"])],
        [Cell("Answered"), Cell(p["answered"])],
        [Cell("Answered %"), Cell(p["answered_percent"])],
        [Cell("Mean answer time (hours)"), Cell(p["mean_answer_hours"])],
    ]
    work = Section(
        "Reviewer workload", ["Reviewer", "Role", "Decided", "On time %", "Open, assigned now"]
    )
    work.rows = [
        [
            Cell(w["username"]),
            Cell(w["role"]),
            _count(period, w["decided"], measure="decided", reviewer=w["reviewer"]),
            Cell(w["on_time_percent"]),
            Cell(w["open_assigned"]),
        ]
        for w in figures.workload(period)
    ]
    return Report("outcomes", "Outcomes", period, [total, family, org, reviewer, pends, work])


def appeals_report(period: Period, *, now: datetime | None = None) -> Report:
    a = figures.appeals(period)
    filed = Section("Appeals filed", ["Figure", "Count"])
    filed.rows = [
        [Cell("Filed"), _count(period, a["filed"]["filed"], measure="appealed")],
        [Cell("Expedited"), Cell(a["filed"]["expedited"])],
        [Cell("Filed after the 60-day window"), Cell(a["filed"]["late_filed"])],
    ]
    resolved = Section("Appeals resolved", ["Figure", "Count"])
    r = a["resolved"]
    resolved.rows = [
        [Cell("Resolved"), Cell(r["resolved"])],
        [Cell("Upheld"), Cell(r["upheld"])],
        [
            Cell("Overturned in full or in part"),
            _count(period, r["overturned"], measure="appealed", result="overturned"),
        ],
        [Cell("Overturn rate %"), Cell(r["overturn_percent"])],
        [Cell("Resolved on time"), Cell(r["on_time"])],
        [Cell("On time %"), Cell(r["on_time_percent"])],
    ]
    imr = Section("Independent medical review", ["Figure", "Count"])
    i = a["imr"]
    imr.rows = [
        [Cell("Determinations received"), Cell(i["determined"])],
        [Cell("Upheld"), Cell(i["upheld"])],
        [Cell("Overturned"), Cell(i["overturned"])],
        [Cell("Partly overturned"), Cell(i["partially_overturned"])],
        [Cell("Determinations on time"), Cell(i["on_time"])],
        [Cell("On time %"), Cell(i["on_time_percent"])],
    ]
    return Report("appeals", "Appeals and IMR", period, [filed, resolved, imr])


def late_submissions_report(period: Period, *, now: datetime | None = None) -> Report:
    late = figures.late_submissions(period)
    summary = Section("Post-service (retrospective) submissions", ["Figure", "Count"])
    summary.rows = [
        [Cell("Received"), Cell(late["received"])],
        [Cell("Late"), _count(period, late["late"], measure="late_submission")],
        [Cell("Late %"), Cell(late["late_percent"])],
    ]
    rules = Section("Late submissions by rule", ["Rule", "Count"])
    rules.rows = [[Cell(r["rule"]), Cell(r["count"])] for r in late["by_rule"]]
    return Report(
        "late-submissions",
        "Late retrospective submissions",
        period,
        [summary, rules],
        note=(
            "002 'Post-Service Retrospective Review': within 15 business days after the date of "
            "service, or 60 calendar days after a primary insurer's denial or a retroactive "
            "eligibility grant. Late requests are still reviewed."
        ),
    )


UNIVERSE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "Request"),
    ("request_type", "Request type"),
    ("urgency", "Urgency"),
    ("channel", "Channel"),
    ("organization", "Requesting organization"),
    ("received_at", "Received (Pacific)"),
    ("effective_received_at", "Clock starts"),
    ("decision_due_at", "Decision due"),
    ("decision_due_rule", "Rule"),
    ("extension_count", "Extensions"),
    ("first_decided_at", "First decision"),
    ("decided_on_time", "Decided on time"),
    ("status", "Status now"),
    ("reason_code", "Reason"),
    ("breached_at", "Breached"),
    ("provider_notice_due_at", "Provider notice due"),
    ("provider_notice_sent_at", "Provider notice sent"),
    ("member_notice_due_at", "Member notice due"),
    ("member_notice_sent_at", "Member notice sent"),
    ("late_submission", "Late submission"),
)


def universe_row(tar) -> list[Any]:
    """One request of the audit universe, its values in UNIVERSE_COLUMNS order (no member
    identity: the universe is what an auditor samples from, by request number)."""
    values = {
        "number": tar.number,
        "request_type": tar.request_type,
        "urgency": tar.urgency,
        "channel": tar.channel,
        "organization": tar.requesting_organization.name,
        "received_at": tar.received_at,
        "effective_received_at": tar.effective_received_at,
        "decision_due_at": tar.decision_due_at,
        "decision_due_rule": tar.decision_due_rule,
        "extension_count": tar.extension_count,
        "first_decided_at": tar.first_decided_at,
        "decided_on_time": None
        if tar.first_decided_at is None
        else ("yes" if tar.first_decided_at <= tar.decision_due_at else "no"),
        "status": tar.status,
        "reason_code": tar.reason_code,
        "breached_at": tar.breached_at,
        "provider_notice_due_at": tar.provider_notice_due_at,
        "provider_notice_sent_at": tar.provider_notice_sent_at,
        "member_notice_due_at": tar.member_notice_due_at,
        "member_notice_sent_at": tar.member_notice_sent_at,
        "late_submission": "yes" if tar.late_submission else "no",
    }
    return [values[key] for key, _ in UNIVERSE_COLUMNS]


def universe_section(period: Period, tars: Iterable[Any], *, title: str) -> Section:
    section = Section(title, [label for _, label in UNIVERSE_COLUMNS])
    section.rows = [[Cell(v) for v in universe_row(t)] for t in tars]
    return section


REPORTS: dict[str, tuple[str, Callable[..., Report]]] = {
    "timeliness": ("Timeliness", timeliness_report),
    "outcomes": ("Outcomes", outcomes_report),
    "appeals": ("Appeals and IMR", appeals_report),
    "late-submissions": ("Late retrospective submissions", late_submissions_report),
}
