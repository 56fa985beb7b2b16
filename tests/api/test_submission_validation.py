"""TAR submission validation (PRODUCT §3, §5, §8): every bad body is a 400 with the one error
shape `{"code", "message", "fields"}` naming the field at fault, and nothing is stored."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from authorizations.member_lookup import MEMBER_NOT_AVAILABLE
from authorizations.models import (
    HistoryEntry,
    NumberSequence,
    Referral,
    ServiceLine,
    Specialty,
    Tar,
)
from authorizations.services import referral_create
from members.models import EligibilitySpan
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/tars/"


def _today():
    return timezone.localdate()


def _line(**overrides) -> dict:
    start = _today() + timedelta(days=10)
    line = {
        "code": "64483",
        "diagnosis_codes": ["M54.16"],
        "units": 1,
        "spinal_region": "lumbar",
        "service_date_from": start.isoformat(),
        "service_date_to": (start + timedelta(days=30)).isoformat(),
    }
    line.update(overrides)
    return line


@pytest.fixture
def stored():
    """What is in the database before the request: a refused request must change none of it."""

    def snapshot() -> tuple[int, int, int, list]:
        return (
            Tar.objects.count(),
            ServiceLine.objects.count(),
            HistoryEntry.objects.filter(tar__isnull=False).count(),
            list(NumberSequence.objects.filter(prefix="TAR").values_list("last_value", flat=True)),
        )

    return snapshot


@pytest.fixture
def refused(stored):
    """refused(response, field) asserts a 400 naming `field`, in the error shape, with nothing
    stored. The snapshot is taken when the fixture is first used, i.e. before the request."""
    before = stored()

    def check(response, field: str, contains: str = "") -> dict:
        assert response.status_code == 400, (response.status_code, response.content[:500])
        body = response.json()
        assert set(body) == {"code", "message", "fields"}
        assert body["code"] == "invalid"
        assert isinstance(body["message"], str) and body["message"]
        assert field in body["fields"], body["fields"]
        assert all(isinstance(v, list) and v for v in body["fields"].values())
        if contains:
            assert any(contains in message for message in body["fields"][field]), body["fields"]
        assert stored() == before
        return body

    return check


def _received_flagged(response, field: str, contains: str) -> dict:
    """PRODUCT §4 "received, not refused": 201, the clock runs, the 201 body's `warnings`
    says why, and the stored request carries the flag into the review queue."""
    assert response.status_code == 201, (response.status_code, response.content[:500])
    body = response.json()
    assert body["status"] == "submitted"
    assert body["decision_due_at"] and body["received_at"]
    assert any(w["field"] == field and contains in w["message"] for w in body["warnings"]), body[
        "warnings"
    ]
    assert Tar.objects.get(pk=body["id"]).intake_flags == body["warnings"]
    return body


def _post(api, persona: str, body: dict, **extra):
    return api(persona).post(URL, body, format="json", **extra)


def _referral_for(world, member, **overrides) -> Referral:
    today = _today()
    args = {
        "user": world.users["pcp"],
        "member_cin": member.cin,
        "to_organization_id": world.redwood.pk,
        "specialty": Specialty.PAIN_MEDICINE,
        "reason": "Lumbar radiculopathy",
        "diagnosis_codes": ["M54.16"],
        "valid_from": today - timedelta(days=30),
        "valid_to": today + timedelta(days=300),
    }
    args.update(overrides)
    return referral_create(**args)


# --- member and eligibility ----------------------------------------------------------------


def test_unknown_member_cin_is_refused(api, tar_payload, refused):
    body = refused(_post(api, "provider", tar_payload(member="99999999Z")), "member")
    # One message for unknown, unrelated and not eligible (no oracle; issue 12).
    assert body["fields"]["member"] == [MEMBER_NOT_AVAILABLE]


def test_member_not_eligible_on_the_service_date_is_received_flagged(api, world, tar_payload):
    lapsed = factories.MemberFactory(pcp=world.pcp, eligible=False)
    EligibilitySpan.objects.create(
        member=lapsed, start_date=_today() - timedelta(days=400), end_date=_today() - timedelta(30)
    )
    referral = _referral_for(world, lapsed)
    body = tar_payload(member=lapsed.cin, referral=referral.pk)
    _received_flagged(_post(api, "provider", body), "member", "not eligible")


def test_post_service_covered_only_by_a_retroactive_span_is_accepted(api, world, tar_payload):
    """002 post-service review: a retroactive grant covers care given before it was granted."""
    today = _today()
    day = today - timedelta(days=5)
    retro = factories.MemberFactory(pcp=world.pcp, eligible=False)
    EligibilitySpan.objects.create(
        member=retro,
        start_date=today - timedelta(days=60),
        retroactive=True,
        granted_on=today - timedelta(days=2),
    )
    referral = _referral_for(world, retro)
    body = tar_payload(
        member=retro.cin,
        referral=referral.pk,
        request_type="post_service",
        date_of_service=day.isoformat(),
        retro_eligibility_date=(today - timedelta(days=2)).isoformat(),
        lines=[_line(service_date_from=day.isoformat(), service_date_to=day.isoformat())],
    )
    response = _post(api, "provider", body)
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["request_type"] == "post_service"
    assert created["decision_due_rule"] == "post_service_30_calendar_days"
    assert created["late_submission"] is False
    assert Tar.objects.get(pk=created["id"]).member == retro


# --- providers -----------------------------------------------------------------------------


def test_servicing_npi_with_a_bad_check_digit_is_refused(api, world, tar_payload, refused):
    npi = world.redwood_specialist.npi
    bad = npi[:9] + str((int(npi[9]) + 1) % 10)
    refused(
        _post(api, "provider", tar_payload(servicing_provider=bad)), "servicing_provider", "Luhn"
    )


def test_unknown_servicing_npi_is_refused(api, tar_payload, refused):
    unknown = factories.next_npi()  # a well-formed NPI no provider on file has
    body = tar_payload(servicing_provider=unknown)
    refused(_post(api, "provider", body), "servicing_provider", "No provider")


def test_requesting_provider_of_another_organization_is_refused(api, world, tar_payload, refused):
    body = tar_payload(requesting_provider=world.coastal_specialist.npi)
    refused(_post(api, "provider", body), "requesting_provider", "your own organization")


def test_servicing_provider_whose_pain_credential_ended_is_received_flagged(
    api, world, tar_payload
):
    """000: only a credentialed Pain Management Specialist acts as one."""
    specialist = world.redwood_specialist
    specialist.pain_specialist_credentialed_to = _today()
    specialist.save()
    _received_flagged(_post(api, "provider", tar_payload()), "servicing_provider", "credentialed")


# --- lines ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("6448", id="four-digits"),
        pytest.param("ABCDE", id="letters"),
        pytest.param("644831", id="six-digits"),
        pytest.param("J12345", id="hcpcs-too-long"),
        pytest.param("", id="blank"),
    ],
)
def test_malformed_procedure_code_is_refused(api, tar_payload, refused, code):
    refused(_post(api, "provider", tar_payload(lines=[_line(code=code)])), "lines[0].code")


def test_well_formed_hcpcs_code_is_not_a_code_error(api, tar_payload):
    response = _post(api, "provider", tar_payload(lines=[_line(code="J1234")]))
    fields = response.json().get("fields", {}) if response.status_code == 400 else {}
    assert "lines[0].code" not in fields
    assert response.status_code == 201, response.json()
    assert response.json()["lines"][0]["code"] == "J1234"


def test_lower_case_cpt_code_is_normalised(api, tar_payload):
    response = _post(api, "provider", tar_payload(lines=[_line(code="j1234")]))
    assert response.status_code == 201, response.json()
    assert response.json()["lines"][0]["code"] == "J1234"


@pytest.mark.parametrize(
    ("diagnosis", "says"),
    [
        pytest.param("M54", "not a billable code", id="category-not-billable"),
        pytest.param("M54.1", "not a billable code", id="subcategory-not-billable"),
        pytest.param("Q99.99", "not an ICD-10-CM code", id="non-existent"),
        pytest.param("banana", "not an ICD-10-CM code", id="nonsense"),
    ],
)
def test_bad_diagnosis_code_is_refused(api, tar_payload, refused, diagnosis, says):
    body = tar_payload(lines=[_line(diagnosis_codes=["M54.16", diagnosis])])
    refused(_post(api, "provider", body), "lines[0].diagnosis_codes", says)


def test_line_without_diagnosis_is_refused(api, tar_payload, refused):
    body = tar_payload(lines=[_line(diagnosis_codes=[])])
    refused(_post(api, "provider", body), "lines[0].diagnosis_codes")


@pytest.mark.parametrize("units", [0, -1, 1000], ids=["zero", "negative", "over-999"])
def test_bad_units_are_refused(api, tar_payload, refused, units):
    refused(_post(api, "provider", tar_payload(lines=[_line(units=units)])), "lines[0].units")


def test_service_date_to_before_from_is_refused(api, tar_payload, refused):
    start = _today() + timedelta(days=10)
    line = _line(
        service_date_from=start.isoformat(), service_date_to=(start - timedelta(1)).isoformat()
    )
    refused(_post(api, "provider", tar_payload(lines=[line])), "lines[0].service_date_to")


def test_pre_service_request_in_the_past_is_refused(api, tar_payload, refused):
    yesterday = _today() - timedelta(days=1)
    line = _line(service_date_from=yesterday.isoformat(), service_date_to=_today().isoformat())
    refused(_post(api, "provider", tar_payload(lines=[line])), "lines[0].service_date_from")


def test_second_line_error_names_the_second_line(api, tar_payload, refused):
    body = tar_payload(lines=[_line(), _line(units=0)])
    response = _post(api, "provider", body)
    refused(response, "lines[1].units")
    assert "lines[0].units" not in response.json()["fields"]


# --- urgency and request type --------------------------------------------------------------


def test_urgent_without_reason_is_refused(api, tar_payload, refused):
    refused(_post(api, "provider", tar_payload(urgency="urgent")), "urgency_reason")


def test_urgent_with_blank_reason_is_refused(api, tar_payload, refused):
    body = tar_payload(urgency="urgent", urgency_reason="   ")
    refused(_post(api, "provider", body), "urgency_reason")


def test_urgent_with_reason_is_accepted_on_the_72_hour_clock(api, tar_payload):
    body = tar_payload(urgency="urgent", urgency_reason="Progressive foot drop.")
    response = _post(api, "provider", body)
    assert response.status_code == 201, response.json()
    assert response.json()["decision_due_rule"].startswith("urgent")


def test_post_service_without_date_of_service_is_refused(api, tar_payload, refused):
    day = (_today() - timedelta(days=3)).isoformat()
    body = tar_payload(
        request_type="post_service",
        lines=[_line(service_date_from=day, service_date_to=day)],
    )
    refused(_post(api, "provider", body), "date_of_service")


# --- referral (RAF) and credentialing (000) ------------------------------------------------


def test_pain_procedure_without_referral_is_received_flagged(api, tar_payload):
    _received_flagged(_post(api, "provider", tar_payload(referral=None)), "referral", "RAF")


def test_referral_of_another_member_is_received_flagged(api, world, tar_payload):
    body = tar_payload(referral=world.other_referral.pk)
    _received_flagged(_post(api, "provider", body), "referral", "No such referral")


def test_referral_not_from_the_members_pcp_is_received_flagged(api, world, tar_payload):
    today = _today()
    other_doctor = factories.ProviderFactory(organization=world.valley, is_pcp=True)
    raf = Referral.objects.create(
        number="RAF-TEST-000001",
        member=world.member,
        referring_provider=other_doctor,
        referring_organization=world.valley,
        to_organization=world.redwood,
        specialty=Specialty.PAIN_MEDICINE,
        reason="Back pain",
        diagnosis_codes=["M54.16"],
        valid_from=today - timedelta(days=5),
        valid_to=today + timedelta(days=200),
        created_by=world.users["pcp"],
    )
    body = tar_payload(referral=raf.pk)
    _received_flagged(
        _post(api, "provider", body), "referral", "not from the member's assigned PCP"
    )


def test_referral_to_another_organization_is_received_flagged(api, world, tar_payload):
    """The RAF is to Redwood; the service would be given at Coastal."""
    body = tar_payload(servicing_provider=world.coastal_specialist.npi)
    _received_flagged(_post(api, "provider", body), "referral", "another organization")


def test_expired_referral_is_received_flagged(api, world, tar_payload):
    today = _today()
    expired = _referral_for(
        world,
        world.member,
        valid_from=today - timedelta(days=200),
        valid_to=today - timedelta(days=1),
    )
    _received_flagged(
        _post(api, "provider", tar_payload(referral=expired.pk)), "referral", "not valid on"
    )


def test_referral_ending_before_the_service_date_is_received_flagged(api, world, tar_payload):
    today = _today()
    short = _referral_for(world, world.member, valid_to=today + timedelta(days=5))
    _received_flagged(
        _post(api, "provider", tar_payload(referral=short.pk)), "referral", "not valid on"
    )


# --- receipt time and channel (PRODUCT §3, §8) ---------------------------------------------


def test_provider_cannot_set_the_receipt_time(api, tar_payload, refused):
    earlier = (timezone.now() - timedelta(days=2)).isoformat()
    refused(_post(api, "provider", tar_payload(received_at=earlier)), "received_at", "intake")


def test_provider_cannot_claim_a_fax_channel(api, tar_payload, refused):
    refused(_post(api, "provider", tar_payload(channel="fax")), "channel")


def test_intake_coordinator_keeps_the_true_receipt_time_and_channel(api, world, tar_payload):
    received = timezone.make_aware(datetime.combine(_today() - timedelta(days=2), time(10, 30)))
    body = tar_payload(
        requesting_provider=world.redwood_specialist.npi,
        received_at=received.isoformat(),
        channel="fax",
    )
    response = _post(api, "coordinator", body)
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["channel"] == "fax"
    assert datetime.fromisoformat(created["received_at"]) == received
    tar = Tar.objects.get(pk=created["id"])
    assert tar.received_at == received
    assert tar.channel == "fax"
    assert tar.submitted_by == world.users["coordinator"]
    assert tar.requesting_provider == world.redwood_specialist
    # The clock runs from the true receipt, not from when it was typed in.
    assert tar.decision_due_at < timezone.now() + timedelta(days=7)
    history = tar.history.get(action="created")
    assert history.detail["channel"] == "fax"
    assert datetime.fromisoformat(history.detail["received_at"]) == received


@pytest.mark.parametrize(
    ("received_at", "says"),
    [
        pytest.param(lambda: timezone.now() + timedelta(hours=3), "future", id="hours-ahead"),
        pytest.param(lambda: "9999-12-31T23:59:59Z", "future", id="year-9999"),
        pytest.param(lambda: timezone.now() - timedelta(days=400), "more than a year", id="old"),
        pytest.param(lambda: "0001-01-01T00:00:00Z", "", id="year-1"),
    ],
)
def test_intake_coordinator_cannot_set_an_impossible_receipt_time(
    api, world, tar_payload, refused, received_at, says
):
    value = received_at()
    body = tar_payload(
        requesting_provider=world.redwood_specialist.npi,
        received_at=value if isinstance(value, str) else value.isoformat(),
        channel="fax",
    )
    refused(_post(api, "coordinator", body), "received_at", says)


@pytest.mark.parametrize("channel", ["portal", "api"])
def test_intake_coordinator_enters_only_paper_and_phone_channels(
    api, world, tar_payload, refused, channel
):
    body = tar_payload(requesting_provider=world.redwood_specialist.npi, channel=channel)
    refused(_post(api, "coordinator", body), "channel")


def test_intake_coordinator_must_name_the_requesting_provider(api, tar_payload, refused):
    refused(_post(api, "coordinator", tar_payload(channel="fax")), "requesting_provider")


@pytest.mark.parametrize("persona", ["nurse", "physician", "member", "memberservices"])
def test_roles_that_do_not_submit_are_refused(api, tar_payload, stored, persona):
    before = stored()
    response = _post(api, persona, tar_payload())
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert stored() == before


# --- clinical answers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        pytest.param({"pain_score": 11}, "answers.pain_score", id="pain-score-11"),
        pytest.param({"pain_score": -1}, "answers.pain_score", id="pain-score-negative"),
        pytest.param({"pain_score": "7"}, "answers.pain_score", id="pain-score-string"),
        pytest.param({"radicular_findings": "yes"}, "answers.radicular_findings", id="bool"),
        pytest.param({"imaging_guidance": "x-ray"}, "answers.imaging_guidance", id="enum"),
        pytest.param(
            {"conservative_modalities": ["acupuncture"]},
            "answers.conservative_modalities",
            id="list-choice",
        ),
        pytest.param(
            {"conservative_modalities": "medications"},
            "answers.conservative_modalities",
            id="list-not-a-list",
        ),
        pytest.param({"favourite_colour": "blue"}, "answers.favourite_colour", id="unknown-key"),
    ],
)
def test_invalid_answers_are_refused(api, tar_payload, refused, answers, field):
    body = tar_payload()
    body["answers"] = {**body["answers"], **answers}
    refused(_post(api, "provider", body), field)


# --- malformed bodies: 400, never 500 ------------------------------------------------------


def test_garbage_json_body_is_a_400(api, stored):
    before = stored()
    response = api("provider").post(URL, data='{"member": ', content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == "invalid"
    assert stored() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"lines": "x"}, "lines", id="lines-a-string"),
        pytest.param({"lines": []}, "lines", id="lines-empty"),
        pytest.param({"lines": ["x"]}, "lines", id="line-a-string"),
        pytest.param({"answers": "x"}, "answers", id="answers-a-string"),
        pytest.param({"answers": [1, 2]}, "answers", id="answers-a-list"),
        pytest.param({"request_type": "someday"}, "request_type", id="unknown-request-type"),
        pytest.param({"urgency": "asap"}, "urgency", id="unknown-urgency"),
        pytest.param({"place_of_service": "99"}, "place_of_service", id="unknown-pos"),
        pytest.param({"referral": "abc"}, "referral", id="referral-not-an-id"),
        pytest.param({"received_at": "yesterday"}, "received_at", id="received-at-not-a-date"),
    ],
)
def test_wrong_types_are_a_400(api, tar_payload, refused, overrides, field):
    body = tar_payload(**overrides)
    response = _post(api, "provider", body)
    assert response.status_code == 400
    got = response.json()["fields"]
    assert any(
        key == field or key.startswith(f"{field}[") or key.startswith(f"{field}.") for key in got
    ), got
    refused(response, next(iter(got)))


@pytest.mark.parametrize(
    "line_overrides",
    [
        pytest.param({"units": "many"}, id="units-a-string"),
        pytest.param({"service_date_from": "2026-13-45"}, id="impossible-date"),
        pytest.param({"diagnosis_codes": "M54.16"}, id="diagnoses-a-string"),
        pytest.param({"modifiers": ["LT", "RIGHT"]}, id="modifier-too-long"),
        pytest.param({"spinal_region": "neck"}, id="unknown-region"),
    ],
)
def test_wrong_line_types_are_a_400(api, tar_payload, stored, line_overrides):
    before = stored()
    response = _post(api, "provider", tar_payload(lines=[_line(**line_overrides)]))
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == "invalid"
    assert any(key.startswith("lines") for key in body["fields"]), body["fields"]
    assert stored() == before


def test_missing_required_fields_are_named(api, refused):
    response = _post(api, "provider", {})
    body = refused(response, "member")
    for name in ("servicing_provider", "request_type", "urgency", "place_of_service", "lines"):
        assert name in body["fields"]


def test_every_error_is_reported_at_once(api, tar_payload, refused):
    """A provider fixes everything in one go: the 400 lists each field, not just the first."""
    body = tar_payload(
        member="99999999Z",
        urgency="urgent",
        lines=[_line(code="6448", units=0)],
    )
    result = refused(_post(api, "provider", body), "member")
    assert {"urgency_reason", "lines[0].code", "lines[0].units"} <= set(result["fields"])
