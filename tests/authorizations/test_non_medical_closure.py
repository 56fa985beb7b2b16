"""A nurse's non-medical closure must be supported by the record (PRODUCT §2; issue 11 row 9):
`not_eligible` only when the eligibility spans show no coverage on the date of service,
`not_a_benefit` only when the plan's benefit table excludes the code, `duplicate` only when it
names a matching open or decided request. Otherwise 403 `physician_decision_required`: a
physician must decide (002: only a physician denies for medical necessity)."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from authorizations.models import Decision, Tar, TarStatus
from authorizations.transitions import TAR, supported_grounds
from authorizations.workflow import available_actions
from criteria.models import BenefitExclusion

pytestmark = pytest.mark.django_db


def _close(api, tar_id: int, reason: str, persona: str = "nurse", **extra):
    body = {"outcome": "closed", "reason_code": reason, "rationale": "Closed.", **extra}
    return api(persona).post(f"/api/v1/tars/{tar_id}/decision", body, format="json")


def _refused(response) -> None:
    assert response.status_code == 403, response.content[:300]
    assert response.json()["code"] == "physician_decision_required"


@pytest.mark.parametrize("reason", ["not_eligible", "not_a_benefit", "duplicate"])
def test_nurse_closure_the_record_does_not_support_needs_a_physician(api, submit, reason):
    """An eligible member, a covered service, no earlier request: each label is refused."""
    tar_id = submit()
    _refused(_close(api, tar_id, reason))
    tar = Tar.objects.get(pk=tar_id)
    assert tar.status == TarStatus.SUBMITTED
    assert not Decision.objects.filter(tar=tar).exists()


def test_nurse_cannot_deny_as_not_eligible_an_eligible_member(api, submit):
    tar_id = submit()
    body = {"outcome": "denied", "reason_code": "not_eligible", "rationale": "Not eligible."}
    _refused(api("nurse").post(f"/api/v1/tars/{tar_id}/decision", body, format="json"))


def test_not_eligible_is_allowed_when_the_spans_show_no_coverage(api, submit, world):
    tar_id = submit()
    world.member.eligibility_spans.update(end_date=timezone.localdate())
    response = _close(api, tar_id, "not_eligible")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "closed"


def test_not_a_benefit_is_allowed_when_the_benefit_table_excludes_the_code(api, submit):
    tar_id = submit()
    BenefitExclusion.objects.create(
        code="64483", start_date=date(2020, 1, 1), reason="Test exclusion.", source="test"
    )
    response = _close(api, tar_id, "not_a_benefit")
    assert response.status_code == 200, response.json()


def test_a_benefit_exclusion_that_ended_before_the_service_does_not_support_it(api, submit):
    tar_id = submit()
    BenefitExclusion.objects.create(
        code="64483",
        start_date=date(2020, 1, 1),
        end_date=timezone.localdate(),
        reason="Ended.",
        source="test",
    )
    _refused(_close(api, tar_id, "not_a_benefit"))


def test_duplicate_names_the_matching_request(api, submit):
    earlier = Tar.objects.get(pk=submit())
    tar_id = submit()
    response = _close(api, tar_id, "duplicate", duplicate_of=earlier.number)
    assert response.status_code == 200, response.json()
    assert Decision.objects.get(tar_id=tar_id).duplicate_of == earlier


def test_duplicate_of_another_members_request_is_refused(api, submit, world):
    other = Tar.objects.get(
        pk=submit(
            "provider2",
            member=world.other_member.cin,
            servicing_provider=world.coastal_specialist.npi,
            referral=world.other_referral.pk,
        )
    )
    tar_id = submit()
    _refused(_close(api, tar_id, "duplicate", duplicate_of=other.number))


def test_duplicate_of_an_unknown_number_is_a_clear_400(api, submit):
    tar_id = submit()
    response = _close(api, tar_id, "duplicate", duplicate_of="TAR-1999-000001")
    assert response.status_code == 400
    assert "duplicate_of" in response.json()["fields"]


def test_a_physician_may_close_on_any_non_medical_ground(api, submit):
    tar_id = submit()
    response = _close(api, tar_id, "not_a_benefit", persona="physician")
    assert response.status_code == 200, response.json()


def test_the_close_action_is_offered_only_when_a_ground_is_supported(submit, world):
    nurse = world.users["nurse"]
    tar = Tar.objects.get(pk=submit())
    assert supported_grounds(tar) == []
    assert "close" not in available_actions(TAR, tar, nurse)
    assert "close" in available_actions(TAR, tar, world.users["physician"])
    world.member.eligibility_spans.update(end_date=timezone.localdate())
    assert supported_grounds(tar) == ["not_eligible"]
    assert "close" in available_actions(TAR, tar, nurse)
