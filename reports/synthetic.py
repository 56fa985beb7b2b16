"""A year of decided requests for the demo, written in bulk (seed_report_history).

`make run` must start in seconds, so this does not run the workflow once per request: it writes
the rows the workflow would have written — requests with their clocks, lines, first decisions,
extensions, information requests, breaches and escalations, notices with their send times,
appeals (some overturned, with the later decision), IMR determinations and history rows — for
both demo organizations and every procedure family, some late, some extended. The figures of
the dashboard, the reports and the public page are then computed from these rows exactly as
from real ones. Everything is drawn from a fixed seed, so two demos show the same year.

Only for the demo: `seed_report_history` refuses production settings, as seed_demo does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max

from accounts.models import Role, User
from appeals.models import Appeal, ImrCase
from authorizations.clocks import PACIFIC
from authorizations.models import (
    Breach,
    Decision,
    Escalation,
    Extension,
    HistoryEntry,
    InformationRequest,
    NumberSequence,
    Provider,
    ServiceLine,
    Tar,
)
from criteria.models import CriteriaSet
from members.models import Member
from notifications.models import Notice

# family → (a code of it, its default criteria set) (criteria.catalog CODE_RANGES)
FAMILY_CODES = {
    "esi": ("64483", "esi"),
    "facet_mbb": ("64493", "facet_mbb"),
    "facet_rfa": ("64635", "facet_rfa"),
    "scs": ("63650", "scs_trial"),
    "pump": ("62324", "pump_trial"),
}
FAMILY_WEIGHTS = {"esi": 45, "facet_mbb": 25, "facet_rfa": 15, "scs": 10, "pump": 5}
BATCH = 500
MARKER = "Demo history (generated in bulk by seed_report_history)"


@dataclass
class Generated:
    tars: int = 0
    decisions: int = 0
    appeals: int = 0
    imr: int = 0
    notices: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _business_hour(rng: random.Random, day: datetime) -> datetime:
    return day.replace(hour=rng.randint(8, 16), minute=rng.randint(0, 59))


@transaction.atomic
def generate_demo_history(
    *,
    now: datetime,
    days: int = 365,
    per_day: float = 6.0,
    seed: int = 2026,
) -> Generated:
    """Write `days` days of history ending yesterday. Needs the demo world (seed_demo)."""
    rng = random.Random(seed)
    now = now.astimezone(PACIFIC)
    users = {u.username: u for u in User.objects.filter(is_active=True)}
    nurses = [u for u in users.values() if u.role == Role.NURSE]
    physicians = [u for u in users.values() if u.role == Role.PHYSICIAN]
    submitters = [u for u in users.values() if u.role == Role.PROVIDER and u.organization_id]
    members = list(Member.objects.order_by("pk")[:20])
    providers = {
        p.organization_id: p
        for p in Provider.objects.filter(pain_specialist_credentialed_from__isnull=False)
    }
    submitters = [u for u in submitters if u.organization_id in providers]
    managers = [u for u in users.values() if u.role == Role.MANAGER]
    if not (nurses and physicians and submitters and members and managers):
        raise RuntimeError("The demo world is missing: run seed_demo first.")
    sets = {}
    for cs in CriteriaSet.objects.order_by("set_id", "effective_from"):
        sets[cs.set_id] = cs  # the latest of each set
    start_day = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    numbers: dict[int, int] = {}
    for seq in NumberSequence.objects.filter(prefix="TAR"):
        numbers[seq.year] = seq.last_value

    tars: list[Tar] = []
    plans: list[dict[str, Any]] = []
    for offset in range(days):
        day = start_day + timedelta(days=offset)
        if day.weekday() >= 5 and rng.random() < 0.7:
            continue
        for _ in range(max(0, round(rng.gauss(per_day, 1.5)))):
            received = _business_hour(rng, day)
            submitter = rng.choice(submitters)
            provider = providers[submitter.organization_id]
            urgent = rng.random() < 0.15
            request_type = _pick(rng, {"pre_service": 78, "concurrent": 10, "post_service": 12})
            if request_type == "post_service":
                urgent = False
            family = _pick(rng, FAMILY_WEIGHTS)
            due = received + (timedelta(hours=72) if urgent else timedelta(days=5))
            if request_type == "post_service":
                due = received + timedelta(days=30)
            extended = not urgent and request_type != "post_service" and rng.random() < 0.08
            final_due = due + timedelta(days=14) if extended else due
            # Most decisions come well inside the clock; a few late ones make the breaches.
            span = (final_due - received).total_seconds() / 3600
            late = rng.random() < 0.04
            hours = span * (rng.uniform(1.02, 1.4) if late else rng.uniform(0.05, 0.9))
            decided_at = received + timedelta(hours=hours)
            if decided_at >= now - timedelta(hours=2):
                continue  # not yet decided: the seeded open queue covers that
            year = received.year
            numbers[year] = numbers.get(year, 0) + 1
            outcome = _pick(
                rng,
                {
                    "approved": 70,
                    "modified": 7,
                    "denied": 12,
                    "not_eligible": 3,
                    "not_a_benefit": 1,
                    "duplicate": 3,
                    "no_authorization_required": 2,
                    "withdrawn": 2,
                },
            )
            medical = outcome in ("modified", "denied")
            decider = (
                rng.choice(physicians) if medical or rng.random() < 0.25 else rng.choice(nurses)
            )
            automated = outcome == "approved" and rng.random() < 0.12
            status = (
                outcome if outcome in ("approved", "modified", "denied", "withdrawn") else "closed"
            )
            reason = {
                "denied": "medical_necessity",
                "modified": "medical_necessity",
                "not_eligible": "not_eligible",
                "not_a_benefit": "not_a_benefit",
                "duplicate": "duplicate",
                "no_authorization_required": "no_authorization_required",
            }.get(outcome, "")
            late_submission = request_type == "post_service" and rng.random() < 0.25
            tars.append(
                Tar(
                    number=f"TAR-{year}-{numbers[year]:06d}",
                    member=rng.choice(members),
                    requesting_provider=provider,
                    servicing_provider=provider,
                    requesting_organization_id=provider.organization_id,
                    servicing_organization_id=provider.organization_id,
                    place_of_service="24",
                    request_type=request_type,
                    urgency="urgent" if urgent else "routine",
                    urgency_reason="Severe radicular pain with new weakness." if urgent else "",
                    channel=_pick(rng, {"portal": 70, "fax": 15, "api": 10, "phone": 5}),
                    received_at=received,
                    status=status,
                    answers={},
                    date_of_service=received.date() - timedelta(days=rng.randint(5, 40))
                    if request_type == "post_service"
                    else None,
                    late_submission=late_submission,
                    late_submission_rule="15 business days after the date of service"
                    if late_submission
                    else "",
                    submitted_by=submitter,
                    effective_received_at=received,
                    decision_due_at=final_due,
                    decision_due_rule="urgent_72h" if urgent else "routine_5bd",
                    original_decision_due_at=due,
                    extension_count=1 if extended else 0,
                    breached_at=final_due if late and outcome != "withdrawn" else None,
                    decided_at=None if outcome == "withdrawn" else decided_at,
                    decided_by=None if outcome == "withdrawn" or automated else decider,
                    reason_code=reason,
                    provider_notice_due_at=None
                    if outcome == "withdrawn"
                    else decided_at + timedelta(hours=24),
                    provider_notice_rule="" if outcome == "withdrawn" else "decision_plus_24h",
                    member_notice_due_at=None
                    if outcome == "withdrawn"
                    else decided_at + timedelta(days=2),
                    created_at=received,
                )
            )
            plans.append(
                {
                    "family": family,
                    "outcome": outcome,
                    "status": status,
                    "reason": reason,
                    "decided_at": decided_at,
                    "decider": None if automated else decider,
                    "automated": automated,
                    "extended": extended,
                    "late": late,
                    "pended": rng.random() < 0.18,
                    "appeal": medical and rng.random() < 0.3,
                }
            )
    Tar.objects.bulk_create(tars, batch_size=BATCH)
    if not tars or tars[0].pk is None:  # a backend without RETURNING: read the ids back
        by_number = dict(
            Tar.objects.filter(number__in=[t.number for t in tars]).values_list("number", "pk")
        )
        for tar in tars:
            tar.pk = tar.id = by_number[tar.number]
    for year, value in numbers.items():
        NumberSequence.objects.update_or_create(
            prefix="TAR", year=year, defaults={"last_value": value}
        )

    lines, decisions, extensions, infos, breaches = [], [], [], [], []
    history, notices = [], []
    for tar, plan in zip(tars, plans, strict=True):
        code, set_id = FAMILY_CODES[plan["family"]]
        cs = sets.get(set_id)
        line_outcome = {
            "approved": "approved",
            "modified": "modified",
            "denied": "denied",
            "withdrawn": "pending",
        }.get(plan["outcome"], "closed")
        service_day = (tar.received_at + timedelta(days=10)).date()
        lines.append(
            ServiceLine(
                tar=tar,
                line_number=1,
                code=code,
                diagnosis_codes=["M54.16"],
                units=2 if plan["outcome"] == "modified" else 1,
                spinal_region="lumbar",
                service_date_from=service_day,
                service_date_to=service_day + timedelta(days=30),
                family=plan["family"],
                criteria_set=cs,
                outcome=line_outcome,
                approved_units=1 if line_outcome in ("approved", "modified") else None,
            )
        )
        history.append(
            HistoryEntry(
                tar=tar,
                member_id=tar.member_id,
                actor=tar.submitted_by,
                actor_role=Role.PROVIDER,
                action="created",
                to_status="submitted",
                reason=MARKER,
                at=tar.received_at,
            )
        )
        if plan["extended"]:
            extensions.append(
                Extension(
                    tar=tar,
                    reason="information_not_received",
                    note="Imaging report requested.",
                    previous_due_at=tar.original_decision_due_at,
                    new_due_at=tar.decision_due_at,
                    extended_by=rng.choice(nurses),
                    extended_at=tar.received_at + timedelta(days=2),
                )
            )
        if plan["pended"]:
            asked = tar.received_at + timedelta(hours=rng.uniform(1, 8))
            answered = asked + timedelta(hours=rng.uniform(2, 60))
            infos.append(
                InformationRequest(
                    tar=tar,
                    message="Please send the most recent imaging report.",
                    requested_by=rng.choice(nurses),
                    requested_at=asked,
                    response="Report attached.",
                    responded_by=tar.submitted_by if answered < plan["decided_at"] else None,
                    responded_at=answered if answered < plan["decided_at"] else None,
                )
            )
        if plan["outcome"] == "withdrawn":
            continue
        refs = []
        if plan["outcome"] in ("denied", "modified") and cs is not None:
            refs = [{"ref": f"{cs.set_id}:{cs.version}:{rng.choice([1, 2, 3])}"}]
        decisions.append(
            Decision(
                tar=tar,
                outcome=line_outcome,
                reason_code=plan["reason"],
                rationale=MARKER,
                criteria_refs=refs,
                line_outcomes=[{"line_number": 1, "code": code, "outcome": line_outcome}],
                decided_by=plan["decider"],
                automated=plan["automated"],
                decided_at=plan["decided_at"],
            )
        )
        history.append(
            HistoryEntry(
                tar=tar,
                member_id=tar.member_id,
                actor=plan["decider"],
                actor_role=plan["decider"].role if plan["decider"] else "system",
                action="decided",
                from_status="in_review",
                to_status=plan["status"],
                reason=MARKER,
                at=plan["decided_at"],
            )
        )
        if plan["late"]:
            breaches.append(
                Breach(
                    tar=tar,
                    due_at=tar.decision_due_at,
                    rule=tar.decision_due_rule,
                    detected_at=tar.decision_due_at,
                )
            )
        kind = {"approved": "approval", "modified": "modification", "denied": "denial"}.get(
            plan["outcome"], "closure"
        )
        if plan["outcome"] in ("not_eligible", "not_a_benefit"):
            kind = "denial"
        for audience, due, late_share in (
            ("provider", tar.provider_notice_due_at, 0.03),
            ("member", tar.member_notice_due_at, 0.06),
        ):
            hours_to_send = (
                rng.uniform(0.2, 20) if rng.random() > late_share else rng.uniform(26, 80)
            )
            sent = plan["decided_at"] + timedelta(hours=hours_to_send)
            notices.append(
                Notice(
                    tar=tar,
                    kind=kind,
                    audience=audience,
                    event_key=f"demo-decision-{tar.number}",
                    due_at=due,
                    due_rule="demo",
                    status="sent",
                    created_at=plan["decided_at"],
                    sent_at=sent,
                    sent_on_time=sent <= due,
                    delivered_via="portal" if audience == "provider" else "mail",
                    attempts=1,
                )
            )
    ServiceLine.objects.bulk_create(lines, batch_size=BATCH)
    Decision.objects.bulk_create(decisions, batch_size=BATCH)
    Extension.objects.bulk_create(extensions, batch_size=BATCH)
    InformationRequest.objects.bulk_create(infos, batch_size=BATCH)
    Breach.objects.bulk_create(breaches, batch_size=BATCH)
    HistoryEntry.objects.bulk_create(history, batch_size=BATCH)
    Notice.objects.bulk_create(notices, batch_size=BATCH)
    if breaches:
        stored = Breach.objects.filter(tar__in=[b.tar for b in breaches])
        manager = managers[0]
        Escalation.objects.bulk_create(
            [
                Escalation(
                    breach=b,
                    tar_id=b.tar_id,
                    roles=["manager", "physician"],
                    created_at=b.due_at,
                    notified_at=b.due_at,
                    acknowledged_by=manager,
                    acknowledged_at=b.due_at + timedelta(hours=3),
                )
                for b in stored
            ],
            batch_size=BATCH,
        )
    appeals_made, imr_made = _appeals(
        rng, tars, plans, decisions, users=users, physicians=physicians, now=now
    )
    return Generated(
        tars=len(tars),
        decisions=len(decisions),
        appeals=appeals_made,
        imr=imr_made,
        notices=len(notices),
    )


def _appeals(rng, tars, plans, decisions, *, users, physicians, now) -> tuple[int, int]:
    """Appeals of some adverse decisions: most resolved (a third overturned, with the later
    decision written), a few referred to IMR with a determination."""
    by_tar = {
        d.tar_id: d
        for d in Decision.objects.filter(
            tar__in=[t for t, p in zip(tars, plans, strict=True) if p["appeal"]]
        )
    }
    member_user = next((u for u in users.values() if u.role == Role.MEMBER), None)
    filer = member_user or next(u for u in users.values() if u.role == Role.MEMBER_SERVICES)
    last = Appeal.objects.aggregate(n=Max("pk"))["n"] or 0
    appeals, later = [], []
    for index, (tar, plan) in enumerate(zip(tars, plans, strict=True)):
        decision = by_tar.get(tar.pk)
        if decision is None:
            continue
        received = decision.decided_at + timedelta(days=rng.randint(3, 30))
        if received > now - timedelta(days=2):
            continue
        resolved = received + timedelta(days=rng.uniform(3, 29))
        open_ = resolved > now
        outcome = (
            ""
            if open_
            else _pick(rng, {"upheld": 60, "overturned": 25, "partially_overturned": 15})
        )
        appeals.append(
            Appeal(
                number=f"APL-{received.year}-D{last + index + 1:05d}",
                tar=tar,
                member_id=tar.member_id,
                decision=decision,
                filer="member_services",
                filed_by=filer,
                reason="The member says the pain stops them working.",
                received_at=received,
                notice_date=decision.decided_at.date(),
                filing_deadline_at=decision.decided_at + timedelta(days=60),
                status="received" if open_ else "resolved",
                resolution_due_at=received + timedelta(days=30),
                resolution_due_rule="standard_30d",
                original_resolution_due_at=received + timedelta(days=30),
                outcome=outcome,
                rationale=MARKER if outcome else "",
                decided_by=None
                if open_
                else rng.choice([p for p in physicians if p != plan["decider"]] or physicians),
                resolved_at=None if open_ else resolved,
                created_at=received,
            )
        )
        if outcome in ("overturned", "partially_overturned"):
            later.append(
                Decision(
                    tar=tar,
                    outcome="approved" if outcome == "overturned" else "modified",
                    reason_code="",
                    rationale=MARKER,
                    line_outcomes=[
                        {
                            "line_number": 1,
                            "outcome": "approved" if outcome == "overturned" else "modified",
                        }
                    ],
                    decided_by=appeals[-1].decided_by,
                    decided_at=resolved,
                )
            )
    Appeal.objects.bulk_create(appeals, batch_size=BATCH)
    Decision.objects.bulk_create(later, batch_size=BATCH)
    upheld = [
        a
        for a in Appeal.objects.filter(outcome="upheld", rationale=MARKER).select_related("tar")[:8]
    ]
    imrs = []
    for n, appeal in enumerate(upheld, start=1):
        received = appeal.resolved_at + timedelta(days=3)
        due = received + timedelta(days=7)
        determined = received + timedelta(days=rng.uniform(2, 9))
        if determined > now:
            continue
        imrs.append(
            ImrCase(
                number=f"IMR-{received.year}-D{n:04d}",
                tar=appeal.tar,
                member_id=appeal.member_id,
                appeal=appeal,
                decision=appeal.decision,
                status="determination_received",
                referral_reason="appeal",
                reviewer_kind="imro",
                reviewer_name="Independent Review Partners",
                review_type="standard",
                patient_reference=f"DEMO-IMR-{appeal.pk}",
                questions=["Is the service medically necessary for this member?"],
                pertinent_history=MARKER,
                clinical_data=MARKER,
                packet={},
                referred_by=appeal.decided_by,
                referred_at=received,
                received_at=received,
                due_at=due,
                target_at=received + timedelta(days=5),
                due_rule="imr_standard_5bd",
                original_due_at=due,
                determination=_pick(
                    rng, {"upheld": 60, "overturned": 30, "partially_overturned": 10}
                ),
                analysis=MARKER,
                determination_received_at=determined,
                determination_late=determined > due,
            )
        )
    ImrCase.objects.bulk_create(imrs, batch_size=BATCH)
    return len(appeals), len(imrs)
