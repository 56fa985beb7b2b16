"""Fixtures for the notices tests: real flows through the services, and letters read back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from authorizations import services as tar_services
from authorizations.models import Specialty
from members.models import AlternateFormat, WrittenLanguage
from notifications.models import Letter
from tests import factories

# ESI answers that fail criterion 3 (conservative care for at least 4 weeks with 2 kinds).
ESI_SHORT_CARE = {
    **factories.ESI_MEETS,
    "conservative_care_weeks": 2,
    "conservative_modalities": ["medications"],
}
DENIAL_RATIONALE = (
    "Your records show only 2 weeks of pain medicine and no physical therapy before this "
    "injection; the plan asks for at least 4 weeks of two kinds of care first."
)


@pytest.fixture
def run_hooks(django_capture_on_commit_callbacks):
    """Run what services schedule after commit (the notice hooks and, eagerly, the tasks)."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def spanish_member(world):
    """A Spanish-reading member who wants large print (PRODUCT §9: 90000006F), with a RAF."""
    member = factories.MemberFactory(
        pcp=world.pcp,
        first_name="Lucía",
        last_name="Ramírez",
        written_language=WrittenLanguage.SPANISH,
        alternate_format=AlternateFormat.LARGE_PRINT,
    )
    today = timezone.localdate()
    referral = tar_services.referral_create(
        user=world.users["pcp"],
        member_cin=member.cin,
        to_organization_id=world.redwood.pk,
        specialty=Specialty.PAIN_MEDICINE,
        reason="Radiculopatía lumbar",
        diagnosis_codes=["M54.16"],
        valid_from=today - timedelta(days=5),
        valid_to=today + timedelta(days=200),
        visits_authorized=4,
    )
    factories.UserFactory(username="member_es", role="member", member=member)
    return member, referral


@pytest.fixture
def deny(world, run_hooks):
    """deny(tar_id) → a physician's medical-necessity denial citing ESI criterion 3."""

    def do(tar_id: int, **overrides):
        kwargs = {
            "tar_id": tar_id,
            "user": world.users["physician"],
            "outcome": "denied",
            "reason_code": "medical_necessity",
            "rationale": DENIAL_RATIONALE,
            "criteria_refs": ["esi:2026.1:3"],
        }
        kwargs.update(overrides)
        return run_hooks(tar_services.tar_decide, **kwargs)

    return do


def letter_for(tar_id: int, kind: str, audience: str, version: int = 1) -> Letter:
    return Letter.objects.get(tar_id=tar_id, kind=kind, audience=audience, version=version)


def letter_pdf(letter: Letter) -> bytes:
    with letter.file.open("rb") as handle:
        return handle.read()
