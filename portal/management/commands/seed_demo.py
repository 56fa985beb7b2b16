"""Load the demo world of PRODUCT §9. Safe to run again: it changes nothing that exists."""

from __future__ import annotations

import os
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from accounts.otp import otp_device_get
from authorizations import services
from authorizations.calendar import plan_holidays_seed
from authorizations.models import (
    OrganizationKind,
    Provider,
    ProviderOrganization,
    Referral,
    Specialty,
    Tar,
)
from authorizations.transitions import duplicate_candidates
from authorizations.validators import npi_check_digit
from authorizations.workflow.outbox import events_dispatch
from criteria.pa_list import pa_list_seed
from criteria.services import criteria_publish_catalog
from members.models import AlternateFormat, EligibilitySpan, Member, WrittenLanguage
from notifications.models import Letter, Notice, NoticeStatus
from notifications.services import notice_deliver

DEFAULT_PASSWORD = "demo-pass-2026"  # noqa: S105 - PRODUCT §9 demo default, never production
# The demo manager's TOTP key: RFC 6238's test secret "12345678901234567890", base32
# GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ (README, demo logins). Public on purpose: demo only.
DEMO_MANAGER_OTP_KEY = "3132333435363738393031323334353637383930"

ESI_ANSWERS = {
    "radicular_findings": True,
    "pain_duration_weeks": 10,
    "pain_score": 7,
    "function_scale_documented": True,
    "conservative_care_weeks": 8,
    "conservative_modalities": ["medications", "physical_therapy"],
    "imaging_guidance": "fluoroscopy",
    "approach": "transforaminal",
    "levels": 1,
    "spinal_region": "lumbar",
    "prior_sessions_12mo": 0,
}

# Plan-staff groups: what each role may see in the admin (view only, except the manager).
STAFF_GROUP_PERMISSIONS = {
    "Grievance coordinators": ["view_grievance", "view_grievanceletter", "view_member"],
    "UM nurses": [
        "view_tar",
        "view_serviceline",
        "view_historyentry",
        "view_member",
        "view_eligibilityspan",
        "view_provider",
        "view_providerorganization",
        "view_referral",
        "view_criteriaset",
        "view_notice",
        "view_attachment",
    ],
    "Physician reviewers": [
        "view_tar",
        "view_serviceline",
        "view_historyentry",
        "view_member",
        "view_eligibilityspan",
        "view_provider",
        "view_referral",
        "view_criteriaset",
        "view_decision",
        "view_notice",
    ],
    "Intake coordinators": [
        "view_tar",
        "view_member",
        "view_eligibilityspan",
        "view_provider",
        "view_providerorganization",
        "view_referral",
    ],
    "Member services": [
        "view_tar",
        "view_member",
        "view_eligibilityspan",
        "view_notice",
        "view_criteriaset",
    ],
}
ROLE_GROUP = {
    Role.NURSE: "UM nurses",
    Role.PHYSICIAN: "Physician reviewers",
    Role.INTAKE: "Intake coordinators",
    Role.MEMBER_SERVICES: "Member services",
    Role.GRIEVANCE_COORDINATOR: "Grievance coordinators",
}


def _npi(seed: int) -> str:
    first_nine = f"{seed:09d}"
    return first_nine + npi_check_digit(first_nine)


class Command(BaseCommand):
    help = "Load the demo world (PRODUCT §9). Refuses to run with production settings."

    def handle(self, *args, **options) -> None:
        if getattr(settings, "IS_PRODUCTION", False):
            raise CommandError("seed_demo refuses to run with production settings.")
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        criteria_publish_catalog()
        plan_holidays_seed()
        pa_list_seed()
        with transaction.atomic():
            world = self._world(password)
        if not Tar.objects.filter(idempotency_key__startswith="demo-").exists():
            self._tars(world)
        # A year of decided history and a finished IRR audit for the dashboard and the
        # reports (the reports app's command, called by name: portal does not import reports).
        call_command("seed_report_history", stdout=self.stdout)
        letters = self._letters()
        # Fresh statistics after the bulk load, so the first requests get the plans the
        # indexes were made for (issue 16: before ANALYZE the prior-sessions query took a
        # 121 ms plan). PostgreSQL and SQLite both know the statement.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo world ready: {User.objects.count()} users, {Member.objects.count()} "
                f"members, {Tar.objects.count()} TARs, {letters} letters. Password for every "
                "demo login: "
                "$DEMO_PASSWORD (default demo-pass-2026)."
            )
        )

    def _letters(self) -> int:
        """What the seeded changes owe, done now in this process: the event outbox consumed
        and every owed notice's letter made, so a fresh demo shows its letters at once and
        starts with none overdue (the worker only starts after the seed)."""
        events_dispatch()
        for notice_id in Notice.objects.filter(status=NoticeStatus.OWED).values_list(
            "pk", flat=True
        ):
            notice_deliver(notice_id=notice_id)
        return Letter.objects.count()

    # --- people and organizations ------------------------------------------------------------

    def _world(self, password: str) -> dict:
        today = timezone.localdate()
        org = {}
        for key, name, kind in [
            ("redwood", "Redwood Pain Specialists", OrganizationKind.PAIN_CLINIC),
            ("coastal", "Coastal Spine & Pain Center", OrganizationKind.PAIN_CLINIC),
            ("valley", "Valley Family Medicine", OrganizationKind.PRIMARY_CARE),
            ("plan", "Golden Valley Health Plan — Utilization Management", OrganizationKind.OTHER),
        ]:
            org[key], _ = ProviderOrganization.objects.get_or_create(
                name=name,
                defaults={
                    "kind": kind,
                    "phone": "(707) 555-0" + str(100 + len(org)),
                    "fax": "(707) 555-0" + str(200 + len(org)),
                    "email": f"{key}@example.org",
                    "address": f"{100 + len(org)} Main Street, Santa Rosa, CA 95401",
                },
            )
        credentialed_since = date(2020, 1, 1)
        prov = {}
        for key, seed, name, creds, organization, specialty, extra in [
            (
                "redwood",
                123456789,
                "Dr. Maya Chen",
                "MD",
                "redwood",
                Specialty.PAIN_MEDICINE,
                {"pain_specialist_credentialed_from": credentialed_since},
            ),
            ("redwood_np", 123456780, "Jordan Lee", "NP", "redwood", Specialty.PAIN_MEDICINE, {}),
            (
                "coastal",
                223456789,
                "Dr. Luis Ortega",
                "DO",
                "coastal",
                Specialty.ANESTHESIOLOGY,
                {"pain_specialist_credentialed_from": credentialed_since},
            ),
            (
                "pcp",
                323456789,
                "Dr. Sarah Patel",
                "MD",
                "valley",
                Specialty.FAMILY_MEDICINE,
                {"is_pcp": True},
            ),
            (
                "physician",
                423456789,
                "Dr. Ana Ruiz",
                "MD",
                "plan",
                Specialty.UTILIZATION_REVIEW,
                {},
            ),
            (
                "physician2",
                423456780,
                "Dr. Samuel Okafor",
                "DO",
                "plan",
                Specialty.UTILIZATION_REVIEW,
                {},
            ),
        ]:
            prov[key], _ = Provider.objects.get_or_create(
                npi=_npi(seed),
                defaults={
                    "name": name,
                    "credentials": creds,
                    "organization": org[organization],
                    "specialty": specialty,
                    "phone": "(707) 555-0150",
                    **extra,
                },
            )

        members = {}
        specs = [
            ("90000001A", "Alex", "Rivera", date(1975, 4, 12), {}),
            ("90000002B", "Beatrice", "Young", date(1941, 9, 3), {"hospice": True}),
            ("90000003C", "Carlos", "Mendoza", date(1962, 1, 30), {"cancer_diagnosis": True}),
            ("90000004D", "Dana", "Brooks", date(1958, 6, 21), {"terminal_condition": True}),
            ("90000005E", "Evan", "Price", date(1990, 11, 2), {}),
            (
                "90000006F",
                "Fernanda",
                "Reyes",
                date(1968, 2, 14),
                {
                    "written_language": WrittenLanguage.SPANISH,
                    "alternate_format": AlternateFormat.LARGE_PRINT,
                },
            ),
        ]
        first_of_month = today.replace(day=1)
        last_month_end = first_of_month - timedelta(days=1)
        for index, (cin, first, last, dob, flags) in enumerate(specs):
            member, created = Member.objects.get_or_create(
                cin=cin,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "date_of_birth": dob,
                    "address_line1": f"{200 + index} Oak Avenue",
                    "city": "Santa Rosa",
                    "postal_code": "95404",
                    "phone": f"(707) 555-01{10 + index}",
                    "pcp": prov["pcp"],
                    **flags,
                },
            )
            if created:
                if cin == "90000005E":
                    # Not eligible since last month.
                    EligibilitySpan.objects.create(
                        member=member,
                        start_date=date(2024, 1, 1),
                        end_date=last_month_end.replace(day=1) - timedelta(days=1),
                    )
                else:
                    EligibilitySpan.objects.create(member=member, start_date=date(2024, 1, 1))
            members[cin] = member

        users = {}
        for username, role, extra in [
            (
                "provider",
                Role.PROVIDER,
                {"organization": org["redwood"], "provider": prov["redwood"]},
            ),
            (
                "provider2",
                Role.PROVIDER,
                {"organization": org["coastal"], "provider": prov["coastal"]},
            ),
            ("pcp", Role.PROVIDER, {"organization": org["valley"], "provider": prov["pcp"]}),
            ("coordinator", Role.INTAKE, {}),
            ("nurse", Role.NURSE, {}),
            ("nurse2", Role.NURSE, {}),
            (
                "physician",
                Role.PHYSICIAN,
                {"provider": prov["physician"], "direct_phone": "(707) 555-0161"},
            ),
            (
                "physician2",
                Role.PHYSICIAN,
                {"provider": prov["physician2"], "direct_phone": "(707) 555-0162"},
            ),
            ("member", Role.MEMBER, {"member": members["90000001A"]}),
            ("memberservices", Role.MEMBER_SERVICES, {}),
            # Works the grievance queue (issue 11 row 10; H&S 1368).
            ("grievances", Role.GRIEVANCE_COORDINATOR, {}),
            ("manager", Role.MANAGER, {}),
        ]:
            user = User.objects.filter(username=username).first()
            if user is None:
                staff = role in ROLE_GROUP or role == Role.MANAGER
                user = User(
                    username=username,
                    role=role,
                    is_staff=staff,
                    is_superuser=role == Role.MANAGER,
                    first_name=username.capitalize(),
                    email=f"{username}@example.org",
                    **extra,
                )
                user.set_password(password)
                user.full_clean(exclude=["password"])
                user.save()
                if role in ROLE_GROUP:
                    user.groups.add(self._group(ROLE_GROUP[role]))
            if role == Role.MANAGER and otp_device_get(user=user) is None:
                # The manager must sign in with a code (accounts.otp); the demo's authenticator
                # has the published RFC 6238 test secret (README, demo logins).
                TOTPDevice.objects.create(
                    user=user, name="Demo authenticator", key=DEMO_MANAGER_OTP_KEY, confirmed=True
                )
            users[username] = user

        referrals = {}
        for key, member, to_org, to_provider in [
            ("redwood", members["90000001A"], org["redwood"], prov["redwood"]),
            ("redwood6", members["90000006F"], org["redwood"], None),
            ("coastal", members["90000006F"], org["coastal"], None),
            ("coastal3", members["90000003C"], org["coastal"], None),
        ]:
            referral = Referral.objects.filter(member=member, to_organization=to_org).first()
            if referral is None:
                referral = services.referral_create(
                    user=users["pcp"],
                    member_cin=member.cin,
                    to_organization_id=to_org.pk,
                    to_provider_npi=to_provider.npi if to_provider else "",
                    specialty=Specialty.PAIN_MEDICINE,
                    reason="Chronic low back pain radiating to the leg despite therapy.",
                    diagnosis_codes=["M54.16"],
                    valid_from=today - timedelta(days=30),
                    valid_to=today + timedelta(days=335),
                    visits_authorized=6,
                )
            referrals[key] = referral
        return {
            "org": org,
            "prov": prov,
            "members": members,
            "users": users,
            "referrals": referrals,
        }

    def _group(self, name: str) -> Group:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(codename__in=STAFF_GROUP_PERMISSIONS[name]))
        return group

    # --- a spread of TARs in every status ----------------------------------------------------

    def _tars(self, world: dict) -> None:
        users, prov, refs = world["users"], world["prov"], world["referrals"]
        now = timezone.now()

        def submit(
            key,
            user,
            cin,
            servicing,
            referral,
            *,
            hours_ago=2,
            urgent=False,
            code="64483",
            answers=None,
            request_type="pre_service",
            days_ahead=10,
        ):
            when = now - timedelta(hours=hours_ago)
            start = timezone.localdate(when) + timedelta(days=days_ahead)
            if request_type == "post_service":
                start = timezone.localdate(when) - timedelta(days=5)
            data = services.TarInput(
                member=cin,
                servicing_provider=servicing.npi,
                request_type=request_type,
                urgency="urgent" if urgent else "routine",
                urgency_reason="Severe radicular pain with new weakness." if urgent else "",
                place_of_service="24",
                referral=referral.pk,
                lines=[
                    services.LineInput(
                        code=code,
                        units=1,
                        service_date_from=start,
                        service_date_to=start + timedelta(days=30),
                        diagnosis_codes=["M54.16"],
                        spinal_region="lumbar",
                    )
                ],
                answers=ESI_ANSWERS if answers is None else answers,
                date_of_service=start if request_type == "post_service" else None,
            )
            tar, _ = services.tar_submit(
                user=user,
                data=data,
                idempotency_key=f"demo-{key}",
                default_channel="portal",
                now=when,
            )
            return tar

        nurse, nurse2 = users["nurse"], users["nurse2"]
        physician = users["physician"]
        redwood, coastal = users["provider"], users["provider2"]
        weak = {**ESI_ANSWERS, "conservative_care_weeks": 2}
        incomplete = {k: v for k, v in ESI_ANSWERS.items() if k != "pain_score"}

        # Redwood Pain Specialists (provider)
        submit("r-submitted", redwood, "90000001A", prov["redwood"], refs["redwood"], hours_ago=1)
        submit(
            "r-urgent",
            redwood,
            "90000001A",
            prov["redwood"],
            refs["redwood"],
            hours_ago=60,
            urgent=True,
            days_ahead=1,
        )
        tar = submit(
            "r-in-review", redwood, "90000001A", prov["redwood"], refs["redwood"], hours_ago=30
        )
        services.tar_claim(tar_id=tar.pk, user=nurse)
        tar = submit(
            "r-pended",
            redwood,
            "90000001A",
            prov["redwood"],
            refs["redwood"],
            answers=incomplete,
            hours_ago=26,
        )
        services.tar_claim(tar_id=tar.pk, user=nurse)
        services.tar_request_info(
            tar_id=tar.pk,
            user=nurse,
            message="Please send the baseline pain score (0-10).",
            missing_keys=["pain_score"],
        )
        tar = submit(
            "r-referred",
            redwood,
            "90000006F",
            prov["redwood"],
            refs["redwood6"],
            answers=weak,
            hours_ago=50,
        )
        services.tar_claim(tar_id=tar.pk, user=nurse2)
        services.tar_refer(tar_id=tar.pk, user=nurse2, note="Conservative care under 4 weeks.")
        tar = submit(
            "r-approved", redwood, "90000001A", prov["redwood"], refs["redwood"], hours_ago=80
        )
        services.tar_claim(tar_id=tar.pk, user=nurse)
        services.tar_decide(tar_id=tar.pk, user=nurse, outcome="approved")
        tar = submit(
            "r-denied",
            redwood,
            "90000006F",
            prov["redwood"],
            refs["redwood6"],
            answers=weak,
            hours_ago=70,
        )
        services.tar_refer(tar_id=tar.pk, user=nurse)
        services.tar_decide(
            tar_id=tar.pk,
            user=physician,
            outcome="denied",
            reason_code="medical_necessity",
            rationale="Your records show 2 weeks of physical therapy and medicines. The plan's "
            "rule asks for at least 4 weeks of such care before this injection.",
            criteria_refs=["esi:2026.1:3"],
        )
        tar = submit(
            "r-closed", redwood, "90000001A", prov["redwood"], refs["redwood"], hours_ago=20
        )
        services.tar_decide(
            tar_id=tar.pk,
            user=nurse,
            outcome="closed",
            reason_code="duplicate",
            rationale="The same service is already requested under another TAR.",
            # PRODUCT §2: a duplicate closure names the request it repeats.
            duplicate_of=duplicate_candidates(tar)[0].number,
        )
        tar = submit(
            "r-withdrawn", redwood, "90000001A", prov["redwood"], refs["redwood"], hours_ago=10
        )
        services.tar_withdraw(tar_id=tar.pk, user=redwood, reason="Member chose to wait.")

        # Coastal Spine & Pain Center (provider2)
        submit("c-submitted", coastal, "90000006F", prov["coastal"], refs["coastal"], hours_ago=5)
        tar = submit(
            "c-modified",
            coastal,
            "90000006F",
            prov["coastal"],
            refs["coastal"],
            answers=weak,
            hours_ago=90,
        )
        services.tar_refer(tar_id=tar.pk, user=nurse)
        line = tar.lines.get()
        services.tar_decide(
            tar_id=tar.pk,
            user=physician,
            outcome="modified",
            reason_code="medical_necessity",
            rationale="One session is approved now; the second needs proof of relief first.",
            criteria_refs=["esi:2026.1:8"],
            line_decisions=[
                services.LineDecision(
                    line_number=1,
                    outcome="modified",
                    approved_units=1,
                    approved_date_from=line.service_date_from,
                    approved_date_to=line.service_date_from + timedelta(days=14),
                )
            ],
        )
        submit(
            "c-post",
            coastal,
            "90000003C",
            prov["coastal"],
            refs["coastal3"],
            hours_ago=3,
            request_type="post_service",
        )
