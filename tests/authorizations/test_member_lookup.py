"""Member lookup without an oracle (issue 12): a provider finds a member only with CIN and
date of birth and sees eligibility only, unless the office has a relationship with the member
(assigned PCP, a valid RAF to it, or one of its requests that plan staff acted on). Unknown
CINs and unrelated members answer alike, in lookups and in submissions; every provider lookup
is audited; lookups and logins are throttled per user and per address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from authorizations import services
from authorizations.member_lookup import MEMBER_NOT_AVAILABLE
from members.models import LookupOutcome, MemberLookup
from tests import factories

pytestmark = pytest.mark.django_db

DEMOGRAPHICS = {"first_name", "last_name", "date_of_birth", "pcp", "pcp_name", "hospice"}


@pytest.fixture
def stranger(world):
    """A member no test office has a relationship with."""
    return factories.MemberFactory(date_of_birth="1981-05-17", hospice=True)


def _lookup(client, cin: str, dob: str | None = None):
    params = {"cin": cin}
    if dob is not None:
        params["date_of_birth"] = dob
    return client.get("/api/v1/members/", params)


def _rows(response) -> list[dict]:
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_provider_needs_the_date_of_birth_too(api, world):
    response = _lookup(api("provider"), world.member.cin)
    assert response.status_code == 400
    assert "date_of_birth" in response.json()["fields"]
    detail = api("provider").get(f"/api/v1/members/{world.member.cin}/")
    assert detail.status_code == 400


def test_provider_sees_only_eligibility_of_an_unrelated_member(api, stranger):
    [row] = _rows(_lookup(api("provider"), stranger.cin, "1981-05-17"))
    assert row == {
        "cin": stranger.cin,
        "eligible_today": True,
        "eligibility_spans": [{"start_date": "2024-01-01", "end_date": None}],
        "relationship": False,
    }
    detail = api("provider").get(
        f"/api/v1/members/{stranger.cin}/", {"date_of_birth": "1981-05-17"}
    )
    assert detail.status_code == 200
    assert not DEMOGRAPHICS & set(detail.json())


def test_provider_sees_demographics_of_a_referred_member(api, world):
    dob = world.member.date_of_birth.isoformat()
    [row] = _rows(_lookup(api("provider"), world.member.cin, dob))
    assert row["relationship"] is True
    assert row["last_name"] == world.member.last_name
    assert set(row) >= DEMOGRAPHICS


def test_the_pcp_office_sees_its_panel(api, world):
    dob = world.other_member.date_of_birth.isoformat()
    [row] = _rows(_lookup(api("pcp"), world.other_member.cin, dob))
    assert row["relationship"] is True


def test_an_expired_referral_is_no_relationship(api, world):
    world.referral.__class__.objects.filter(pk=world.referral.pk).update(
        valid_from=timezone.localdate() - timedelta(days=100),
        valid_to=timezone.localdate() - timedelta(days=1),
    )
    dob = world.member.date_of_birth.isoformat()
    [row] = _rows(_lookup(api("provider"), world.member.cin, dob))
    assert row["relationship"] is False


def test_a_bare_submission_is_no_relationship_but_staff_acting_on_it_is(api, world, submit):
    """provider2 (Coastal) gets a RAF for member 1, submits, then the RAF is cancelled."""
    referral = services.referral_create(
        user=world.users["pcp"],
        member_cin=world.member.cin,
        to_organization_id=world.coastal.pk,
        specialty="pain_medicine",
        reason="Second opinion",
        diagnosis_codes=["M54.16"],
        valid_from=timezone.localdate() - timedelta(days=1),
        valid_to=timezone.localdate() + timedelta(days=300),
        visits_authorized=1,
    )
    tar_id = submit(
        "provider2",
        servicing_provider=world.coastal_specialist.npi,
        referral=referral.pk,
    )
    referral.__class__.objects.filter(pk=referral.pk).update(status="cancelled")
    dob = world.member.date_of_birth.isoformat()
    [row] = _rows(_lookup(api("provider2"), world.member.cin, dob))
    assert row["relationship"] is False  # only its own, untouched submission
    services.tar_claim(tar_id=tar_id, user=world.users["nurse"])
    [row] = _rows(_lookup(api("provider2"), world.member.cin, dob))
    assert row["relationship"] is True


def test_the_history_branch_reads_the_members_own_rows_not_the_offices_history(
    world, submit, stranger
):
    """Issue 16: whether staff acted on one of the office's requests for this member is read
    from the member's own history rows (an index on the member), not by hashing every staff action
    on the office's requests — which grew with the office's whole history."""
    from django.db import connection

    from accounts.models import Role
    from authorizations.member_lookup import relationship_q
    from authorizations.models import HistoryEntry, Tar
    from members.models import Member

    tar = Tar.objects.get(pk=submit("provider"))
    # A plan's shape: many members with a few history rows each, all on the office's requests.
    others = Member.objects.bulk_create(
        Member(
            cin=f"H{n:07d}X",
            first_name="History",
            last_name=f"Member{n}",
            date_of_birth=stranger.date_of_birth,
            address_line1="1 Test Street",
            city="Santa Rosa",
            postal_code="95401",
        )
        for n in range(3000)
    )
    HistoryEntry.objects.bulk_create(
        HistoryEntry(
            tar=tar,
            member=others[n % len(others)],
            actor=world.users["nurse"],
            actor_role=Role.NURSE,
            action="claimed",
        )
        for n in range(30_000)
    )
    with connection.cursor() as cursor:
        for table in ("historyentry", "tar", "provider", "referral"):
            cursor.execute(f"ANALYZE authorizations_{table}")
        cursor.execute("ANALYZE members_member")
    scoped = Member.objects.filter(relationship_q(world.redwood.pk), pk=stranger.pk)
    sql, params = scoped.query.sql_with_params()
    # The statement is correlated to the member (what the code controls) ...
    assert 'U0."member_id" = ("members_member"."id")' in sql, sql
    assert " IN (SELECT" not in sql, sql
    # ... so the planner probes the member's rows instead of hashing the office's history.
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    history = plan[plan.index("authorizations_historyentry") :]
    assert "Index Cond: (member_id = members_member.id)" in history, plan
    assert "Seq Scan on authorizations_historyentry" not in plan, plan
    assert not scoped.exists()  # the stranger has no relationship with Redwood
    assert Member.objects.filter(relationship_q(world.redwood.pk), pk=others[0].pk).exists()


def test_unknown_cin_and_wrong_birth_date_answer_alike(api, stranger):
    client = api("provider")
    unknown = _lookup(client, "99999999Z", "1981-05-17")
    wrong_dob = _lookup(client, stranger.cin, "1981-05-18")
    assert unknown.status_code == wrong_dob.status_code == 200
    assert (
        unknown.json()
        == wrong_dob.json()
        == {
            "count": 0,
            "count_capped": False,
            "next": None,
            "previous": None,
            "results": [],
        }
    )
    one = client.get("/api/v1/members/99999999Z/", {"date_of_birth": "1981-05-17"})
    two = client.get(f"/api/v1/members/{stranger.cin}/", {"date_of_birth": "1981-05-18"})
    assert one.status_code == two.status_code == 404
    assert one.json() == two.json()


def test_coverage_lookup_does_not_tell_an_unrelated_member_from_an_unknown_cin(api, stranger):
    client = api("provider")
    day = (timezone.localdate() + timedelta(days=5)).isoformat()
    known = client.get(
        "/api/v1/coverage-requirements", {"member": stranger.cin, "code": "64483", "date": day}
    )
    unknown = client.get(
        "/api/v1/coverage-requirements", {"member": "99999999Z", "code": "64483", "date": day}
    )
    assert known.status_code == unknown.status_code
    assert known.json() == unknown.json()


def test_every_provider_lookup_is_audited(api, world, stranger):
    client = api("provider")
    _lookup(client, stranger.cin, "1981-05-17")
    _lookup(client, "99999999Z", "1981-05-17")
    _lookup(client, world.member.cin, world.member.date_of_birth.isoformat())
    rows = list(MemberLookup.objects.order_by("id"))
    assert [(r.cin, r.member, r.outcome) for r in rows] == [
        (stranger.cin, stranger, LookupOutcome.ELIGIBILITY_ONLY),
        ("99999999Z", None, LookupOutcome.NOT_FOUND),
        (world.member.cin, world.member, LookupOutcome.RELATED),
    ]
    assert {r.user for r in rows} == {world.users["provider"]}
    assert {r.organization for r in rows} == {world.redwood}
    assert {r.channel for r in rows} == {"api"}
    with pytest.raises(RuntimeError):
        rows[0].save()


def test_portal_lookup_shows_eligibility_only_and_is_audited(world, stranger):
    client = Client()
    client.force_login(world.users["provider"])
    draft_url = client.post("/provider/drafts/new").url
    response = client.post(
        draft_url, {"cin": stranger.cin, "date_of_birth": "1981-05-17", "action": "lookup"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Eligible for Medi-Cal" in page
    assert stranger.last_name not in page
    assert "Continue with this member" not in page
    lookup = MemberLookup.objects.get()
    assert (lookup.channel, lookup.outcome) == ("portal", LookupOutcome.ELIGIBILITY_ONLY)


# --- submissions ---------------------------------------------------------------------------


def _member_errors(response) -> dict:
    assert response.status_code == 400, response.json()
    return response.json()


def test_submission_errors_do_not_tell_unknown_from_unrelated_members(api, tar_payload, stranger):
    client = api("provider")
    unknown = _member_errors(
        client.post("/api/v1/tars/", tar_payload(member="99999999Z"), format="json")
    )
    unrelated = _member_errors(
        client.post("/api/v1/tars/", tar_payload(member=stranger.cin), format="json")
    )
    assert unknown == unrelated
    assert unknown["fields"]["member"] == [MEMBER_NOT_AVAILABLE]
    assert stranger.cin not in str(unrelated) and "99999999Z" not in str(unknown)


def test_not_eligible_member_of_the_office_is_received_with_a_warning(api, tar_payload, world):
    """Issue 11 row 8 (PRODUCT §4): a request for a member the office cares for is received
    even when the member is not eligible; the warning tells the office no more than its own
    eligibility lookup does. Unknown and unrelated members are still refused alike (above)."""
    world.member.eligibility_spans.all().delete()
    response = api("provider").post("/api/v1/tars/", tar_payload(), format="json")
    assert response.status_code == 201, response.json()
    assert [w["field"] for w in response.json()["warnings"]] == ["member"]


# --- throttling ----------------------------------------------------------------------------


def test_member_lookups_are_throttled_per_user(api, world, settings):
    settings.TAR_THROTTLE_RATES = {**settings.TAR_THROTTLE_RATES, "member_lookup_user": "3/min"}
    client = api("provider")
    for _ in range(3):
        assert _lookup(client, "99999999Z", "1981-05-17").status_code == 200
    response = _lookup(client, "99999999Z", "1981-05-17")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert "Retry-After" in response
    # Another user at the same address still has their own allowance.
    assert _lookup(api("provider2"), "99999999Z", "1981-05-17").status_code == 200


def test_member_lookups_are_throttled_per_address(api, world, settings):
    settings.TAR_THROTTLE_RATES = {**settings.TAR_THROTTLE_RATES, "member_lookup_address": "2/min"}
    assert _lookup(api("provider"), "99999999Z", "1981-05-17").status_code == 200
    assert _lookup(api("provider2"), "99999999Z", "1981-05-17").status_code == 200
    assert _lookup(api("pcp"), "99999999Z", "1981-05-17").status_code == 429
    other = api("pcp")
    response = other.get(
        "/api/v1/members/",
        {"cin": "99999999Z", "date_of_birth": "1981-05-17"},
        REMOTE_ADDR="10.0.0.9",
    )
    assert response.status_code == 200


def test_token_logins_are_throttled_per_username_and_address(world, settings):
    settings.TAR_THROTTLE_RATES = {
        **settings.TAR_THROTTLE_RATES,
        "login_username": "2/min",
        "login_address": "4/min",
    }
    client = APIClient()

    def login(username, **extra):
        return client.post(
            "/api/v1/auth/token/",
            {"username": username, "password": "pw-for-tests-1"},
            format="json",
            **extra,
        )

    assert login("nurse").status_code == 200
    assert login("nurse").status_code == 200
    throttled = login("nurse", REMOTE_ADDR="10.0.0.7")  # another address, same username
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert login("nurse2").status_code == 200
    assert login("physician").status_code == 200
    assert login("manager").status_code == 429  # fifth from 127.0.0.1


def test_portal_logins_are_throttled(world, settings):
    settings.TAR_THROTTLE_RATES = {**settings.TAR_THROTTLE_RATES, "login_address": "2/min"}
    client = Client()
    for _ in range(2):
        response = client.post("/accounts/login/", {"username": "x", "password": "y"})
        assert response.status_code == 400
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 429
