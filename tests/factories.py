"""factory_boy factories and the fixed test world (personas)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import count

import factory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from authorizations.calendar import plan_holidays_seed
from authorizations.models import OrganizationKind, Provider, ProviderOrganization, Specialty
from authorizations.services import referral_create
from authorizations.validators import npi_check_digit
from criteria.pa_list import pa_list_seed
from criteria.services import criteria_publish_catalog
from members.models import EligibilitySpan, Member

# The world's manager's TOTP key (hex): tests compute its codes (tests/accounts/test_totp.py).
MANAGER_OTP_KEY = "00112233445566778899aabbccddeeff00112233"

ESI_MEETS = {
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

_npi_seq = count(100000001)
_cin_seq = count(10000001)


def next_npi() -> str:
    first_nine = f"{next(_npi_seq):09d}"
    return first_nine + npi_check_digit(first_nine)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderOrganization

    name = factory.Sequence(lambda n: f"Organization {n}")
    kind = OrganizationKind.PAIN_CLINIC
    email = factory.Sequence(lambda n: f"org{n}@example.org")


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    npi = factory.LazyFunction(next_npi)
    name = factory.Sequence(lambda n: f"Dr. Provider {n}")
    credentials = "MD"
    organization = factory.SubFactory(OrganizationFactory)
    specialty = Specialty.PAIN_MEDICINE
    pain_specialist_credentialed_from = date(2020, 1, 1)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member
        skip_postgeneration_save = True

    cin = factory.LazyFunction(lambda: f"{next(_cin_seq):08d}A")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Member{n}")
    date_of_birth = date(1970, 1, 1)
    address_line1 = "1 Test Street"
    city = "Santa Rosa"
    postal_code = "95401"

    @factory.post_generation
    def eligible(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            EligibilitySpan.objects.create(member=obj, start_date=date(2024, 1, 1))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.NURSE
    # PRODUCT §7: a physician account always has a direct telephone.
    direct_phone = factory.LazyAttributeSequence(
        lambda user, n: f"(707) 555-{2000 + n % 8000:04d}" if user.role == Role.PHYSICIAN else ""
    )
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


@dataclass
class World:
    users: dict[str, User]
    redwood: ProviderOrganization
    coastal: ProviderOrganization
    valley: ProviderOrganization
    redwood_specialist: Provider
    coastal_specialist: Provider
    pcp: Provider
    physician_provider: Provider
    member: Member
    other_member: Member
    referral: object
    other_referral: object


def build_world() -> World:
    criteria_publish_catalog()
    # A transactional test flushes the migration-seeded rows; put them back.
    plan_holidays_seed()
    pa_list_seed()
    redwood = OrganizationFactory(name="Redwood Pain Specialists")
    coastal = OrganizationFactory(name="Coastal Spine & Pain Center")
    valley = OrganizationFactory(name="Valley Family Medicine", kind=OrganizationKind.PRIMARY_CARE)
    plan = OrganizationFactory(name="Plan physicians", kind=OrganizationKind.OTHER)
    redwood_specialist = ProviderFactory(organization=redwood)
    coastal_specialist = ProviderFactory(organization=coastal)
    pcp = ProviderFactory(
        organization=valley,
        specialty=Specialty.FAMILY_MEDICINE,
        is_pcp=True,
        pain_specialist_credentialed_from=None,
    )
    physician_provider = ProviderFactory(
        organization=plan,
        specialty=Specialty.UTILIZATION_REVIEW,
        pain_specialist_credentialed_from=None,
    )
    physician2_provider = ProviderFactory(
        organization=plan,
        specialty=Specialty.UTILIZATION_REVIEW,
        pain_specialist_credentialed_from=None,
    )
    member = MemberFactory(pcp=pcp)
    other_member = MemberFactory(pcp=pcp)
    users = {
        "provider": UserFactory(
            username="provider",
            role=Role.PROVIDER,
            organization=redwood,
            provider=redwood_specialist,
        ),
        "provider2": UserFactory(
            username="provider2",
            role=Role.PROVIDER,
            organization=coastal,
            provider=coastal_specialist,
        ),
        "pcp": UserFactory(username="pcp", role=Role.PROVIDER, organization=valley, provider=pcp),
        "coordinator": UserFactory(username="coordinator", role=Role.INTAKE),
        "nurse": UserFactory(username="nurse", role=Role.NURSE),
        "nurse2": UserFactory(username="nurse2", role=Role.NURSE),
        "physician": UserFactory(
            username="physician",
            role=Role.PHYSICIAN,
            provider=physician_provider,
            direct_phone="(707) 555-0161",
        ),
        "physician2": UserFactory(
            username="physician2",
            role=Role.PHYSICIAN,
            provider=physician2_provider,
            direct_phone="(707) 555-0162",
        ),
        "member": UserFactory(username="member", role=Role.MEMBER, member=member),
        "other_member": UserFactory(username="other_member", role=Role.MEMBER, member=other_member),
        "memberservices": UserFactory(username="memberservices", role=Role.MEMBER_SERVICES),
        "manager": UserFactory(username="manager", role=Role.MANAGER),
    }
    # The manager must sign in with a code (accounts.otp): the persona has an authenticator.
    TOTPDevice.objects.create(
        user=users["manager"], name="Test authenticator", key=MANAGER_OTP_KEY, confirmed=True
    )
    today = timezone.localdate()
    referral = referral_create(
        user=users["pcp"],
        member_cin=member.cin,
        to_organization_id=redwood.pk,
        specialty=Specialty.PAIN_MEDICINE,
        reason="Lumbar radiculopathy",
        diagnosis_codes=["M54.16"],
        valid_from=today - timedelta(days=10),
        valid_to=today + timedelta(days=300),
        visits_authorized=4,
    )
    other_referral = referral_create(
        user=users["pcp"],
        member_cin=other_member.cin,
        to_organization_id=coastal.pk,
        specialty=Specialty.PAIN_MEDICINE,
        reason="Lumbar radiculopathy",
        diagnosis_codes=["M54.16"],
        valid_from=today - timedelta(days=10),
        valid_to=today + timedelta(days=300),
        visits_authorized=4,
    )
    return World(
        users=users,
        redwood=redwood,
        coastal=coastal,
        valley=valley,
        redwood_specialist=redwood_specialist,
        coastal_specialist=coastal_specialist,
        pcp=pcp,
        physician_provider=physician_provider,
        member=member,
        other_member=other_member,
        referral=referral,
        other_referral=other_referral,
    )
