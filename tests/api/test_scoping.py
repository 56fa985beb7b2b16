"""Role scoping (PRODUCT §2): every role against another organization's or another member's
TARs, RAFs, attachments and member records. What a caller may not see answers 404, the same
as what does not exist, so scoping never reveals that a request or member exists."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from authorizations.models import HistoryAction, HistoryEntry
from tests import factories

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PLAN_STAFF = ["coordinator", "nurse", "nurse2", "physician", "physician2", "memberservices"]
PLAN_STAFF_AND_MANAGER = [*PLAN_STAFF, "manager"]
# Plan staff who see no clinical data (PRODUCT §2, 002 "Confidentiality"): intake and member
# services; and the Health Services staff who do.
NON_CLINICAL_STAFF = ["coordinator", "memberservices"]
CLINICAL_STAFF = [p for p in PLAN_STAFF_AND_MANAGER if p not in NON_CLINICAL_STAFF]


@pytest.fixture
def tars(world, submit):
    """A Redwood TAR for member 1 and a Coastal TAR for member 2, with one PDF each."""
    redwood = submit("provider")
    coastal = submit(
        "provider2",
        member=world.other_member.cin,
        servicing_provider=world.coastal_specialist.npi,
        referral=world.other_referral.pk,
    )
    return {"redwood": redwood, "coastal": coastal}


@pytest.fixture
def attachments(api, tars):
    ids = {}
    for name, persona in (("redwood", "provider"), ("coastal", "provider2")):
        response = api(persona).post(
            f"/api/v1/tars/{tars[name]}/attachments",
            {"file": SimpleUploadedFile("notes.pdf", PDF_BYTES, "application/pdf")},
            format="multipart",
        )
        assert response.status_code == 201, response.json()
        ids[name] = response.json()["id"]
    return ids


def _list_ids(client, url: str, **params) -> set[int]:
    response = client.get(url, {"page_size": 200, **params})
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def _assert_not_found(response) -> None:
    assert response.status_code == 404, (response.status_code, response.content[:300])
    assert response.json() == {"code": "not_found", "message": "Not found.", "fields": {}}


# --- who sees which TAR ----------------------------------------------------------------------

# (persona, TARs it sees): the Redwood TAR is member 1's at Redwood, the Coastal one member 2's.
TAR_VISIBILITY = [
    pytest.param("provider", {"redwood"}, id="provider-sees-own-org-only"),
    pytest.param("provider2", {"coastal"}, id="provider2-sees-own-org-only"),
    pytest.param("pcp", set(), id="pcp-office-not-on-specialist-tars"),
    pytest.param("member", {"redwood"}, id="member-sees-own-only"),
    pytest.param("other_member", {"coastal"}, id="other-member-sees-own-only"),
    *[pytest.param(p, {"redwood", "coastal"}, id=f"{p}-sees-all") for p in PLAN_STAFF_AND_MANAGER],
]


@pytest.mark.parametrize(("persona", "visible"), TAR_VISIBILITY)
def test_tar_list_is_scoped(api, tars, persona, visible):
    assert _list_ids(api(persona), "/api/v1/tars/") == {tars[name] for name in visible}


@pytest.mark.parametrize(("persona", "visible"), TAR_VISIBILITY)
def test_tar_detail_and_history_are_scoped(api, tars, persona, visible):
    client = api(persona)
    for name, tar_id in tars.items():
        detail = client.get(f"/api/v1/tars/{tar_id}/")
        history = client.get(f"/api/v1/tars/{tar_id}/history")
        if name in visible:
            assert detail.status_code == 200
            assert detail.json()["id"] == tar_id
            assert history.status_code == 200
            assert history.json()[0]["action"] == "created"
        else:
            _assert_not_found(detail)
            _assert_not_found(history)


def test_list_filter_by_member_does_not_widen_scope(api, tars, world):
    """Asking for another organization's member by CIN filters inside the scope, never past it."""
    response = api("provider").get("/api/v1/tars/", {"member": world.other_member.cin})
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"assigned_to": "abc"}, "assigned_to", id="assigned-to-not-an-id"),
        pytest.param({"assigned_to": "9" * 30}, "assigned_to", id="assigned-to-too-big"),
        pytest.param({"due_before": "soon"}, "due_before", id="due-before-not-a-date"),
        pytest.param({"due_before": "2026-02-30"}, "due_before", id="due-before-impossible"),
        pytest.param({"ordering": "member"}, "ordering", id="unknown-ordering"),
    ],
)
def test_bad_list_filters_are_a_400_not_a_500(api, tars, params, field):
    response = api("nurse").get("/api/v1/tars/", params)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]


def test_list_filters_narrow_the_list(api, world, tars):
    client = api("nurse")
    url = "/api/v1/tars/"
    everything = set(tars.values())
    assert _list_ids(client, url, assigned_to=world.users["nurse"].pk) == set()
    assert _list_ids(client, url, assigned_to="none") == everything
    api("nurse").post(f"/api/v1/tars/{tars['coastal']}/claim")
    assert _list_ids(client, url, assigned_to=world.users["nurse"].pk) == {tars["coastal"]}
    assert _list_ids(client, url, assigned_to="none") == {tars["redwood"]}
    assert _list_ids(client, url, due_before="2000-01-01") == set()
    assert _list_ids(client, url, due_before="2999-01-01T00:00:00Z") == everything
    assert _list_ids(client, url, member=world.other_member.cin.lower()) == {tars["coastal"]}
    assert _list_ids(client, url, status="in_review") == {tars["coastal"]}
    assert _list_ids(client, url, status="submitted,in_review") == everything


def test_unknown_tar_and_foreign_tar_answer_alike(api, tars):
    client = api("provider2")
    foreign = client.get(f"/api/v1/tars/{tars['redwood']}/")
    missing = client.get("/api/v1/tars/999999/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


# Provider actions on another organization's TAR: 404 (the service checks scope before state).
PROVIDER_ACTIONS = [
    pytest.param("withdraw", {"reason": "duplicate"}, id="withdraw"),
    pytest.param("respond", {"response": "Here is the MRI report."}, id="respond"),
]


@pytest.mark.parametrize(("action", "body"), PROVIDER_ACTIONS)
def test_provider_cannot_act_on_other_organizations_tar(api, tars, action, body):
    _assert_not_found(api("provider2").post(f"/api/v1/tars/{tars['redwood']}/{action}", body))


@pytest.mark.parametrize(("action", "body"), PROVIDER_ACTIONS)
def test_pcp_office_cannot_act_on_specialist_tar(api, tars, action, body):
    _assert_not_found(api("pcp").post(f"/api/v1/tars/{tars['redwood']}/{action}", body))


def test_provider_cannot_upload_to_other_organizations_tar(api, tars):
    response = api("provider2").post(
        f"/api/v1/tars/{tars['redwood']}/attachments",
        {"file": SimpleUploadedFile("x.pdf", PDF_BYTES, "application/pdf")},
        format="multipart",
    )
    _assert_not_found(response)


# Staff-only workflow actions: a provider or member is refused by role (403) whether or not
# the TAR exists, so the answer reveals nothing either.
STAFF_ACTIONS = [
    pytest.param("claim", {}, id="claim"),
    pytest.param("release", {}, id="release"),
    pytest.param("refer", {"note": "x"}, id="refer"),
    pytest.param("request-info", {"message": "Send the MRI."}, id="request-info"),
    pytest.param(
        "decision",
        {"outcome": "closed", "reason_code": "duplicate", "rationale": "Duplicate."},
        id="decision",
    ),
]


@pytest.mark.parametrize("persona", ["provider2", "member", "other_member", "pcp"])
@pytest.mark.parametrize(("action", "body"), STAFF_ACTIONS)
def test_outsiders_cannot_take_staff_actions(api, tars, persona, action, body):
    client = api(persona)
    foreign = client.post(f"/api/v1/tars/{tars['redwood']}/{action}", body, format="json")
    missing = client.post(f"/api/v1/tars/999999/{action}", body, format="json")
    assert foreign.status_code == missing.status_code == 403
    assert foreign.json()["code"] == "permission_denied"
    assert foreign.json() == missing.json()


@pytest.mark.parametrize("persona", ["member", "other_member"])
def test_member_cannot_withdraw_or_respond(api, tars, persona):
    for action in ("withdraw", "respond"):
        response = api(persona).post(
            f"/api/v1/tars/{tars['redwood']}/{action}", {"response": "x"}, format="json"
        )
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


# --- what a member sees of their own TAR ---------------------------------------------------


def test_member_detail_hides_answers_and_attachments(api, tars, attachments):
    body = api("member").get(f"/api/v1/tars/{tars['redwood']}/").json()
    assert "answers" not in body
    assert body["attachments"] == []
    assert body["number"].startswith("TAR-")


def test_member_detail_keeps_criteria_results_but_not_the_facts_behind_them(api, tars):
    """The evaluation echoes the clinical answers as each criterion's facts."""
    body = api("member").get(f"/api/v1/tars/{tars['redwood']}/").json()
    evaluations = [*body["evaluation"], *(line["evaluation"] for line in body["lines"])]
    assert len(evaluations) == 2
    for evaluation in evaluations:
        assert evaluation["criteria_set"] == "esi"
        assert evaluation["criteria"]
        for criterion in evaluation["criteria"]:
            assert "facts" not in criterion
            assert criterion["result"] == "met"
            assert criterion["text"]
    # The stored evaluation is untouched: staff still see the facts.
    staff = api("nurse").get(f"/api/v1/tars/{tars['redwood']}/").json()
    assert staff["evaluation"][0]["criteria"][3]["facts"]["pain_score"] == 7
    assert staff["lines"][0]["evaluation"]["criteria"][3]["facts"]["pain_score"] == 7


def test_provider_and_staff_detail_show_answers_and_attachments(api, tars, attachments):
    for persona in ("provider", "nurse"):
        body = api(persona).get(f"/api/v1/tars/{tars['redwood']}/").json()
        assert body["answers"]["pain_score"] == 7
        assert [a["id"] for a in body["attachments"]] == [attachments["redwood"]]


@pytest.mark.parametrize("persona", NON_CLINICAL_STAFF)
def test_intake_and_member_services_detail_hides_the_clinical_record(
    api, tars, attachments, persona
):
    api("nurse").post(f"/api/v1/tars/{tars['redwood']}/claim")
    api("nurse").post(
        f"/api/v1/tars/{tars['redwood']}/request-info", {"message": "Send the MRI."}, format="json"
    )
    api("provider").post(
        f"/api/v1/tars/{tars['redwood']}/respond",
        {"response": "MRI shows L4-L5 stenosis."},
        format="json",
    )
    body = api(persona).get(f"/api/v1/tars/{tars['redwood']}/").json()
    assert body["number"].startswith("TAR-")
    assert body["member"] and body["status"]
    assert [line["code"] for line in body["lines"]] == body["codes"]
    for key in ("answers", "evaluation", "attachments"):
        assert key not in body, key
    for line in body["lines"]:
        assert "evaluation" not in line
    [info] = body["information_requests"]
    assert info["message"] == "Send the MRI."
    assert info["responded_at"]
    assert "response" not in info
    assert "stenosis" not in str(body)


@pytest.mark.parametrize("persona", CLINICAL_STAFF)
def test_health_services_staff_detail_shows_the_clinical_record(api, tars, attachments, persona):
    body = api(persona).get(f"/api/v1/tars/{tars['redwood']}/").json()
    assert body["answers"]["pain_score"] == 7
    assert body["evaluation"][0]["criteria"][3]["facts"]["pain_score"] == 7
    assert body["lines"][0]["evaluation"]["criteria_set"] == "esi"
    assert [a["id"] for a in body["attachments"]] == [attachments["redwood"]]


def test_member_history_hides_staff_reads(api, tars):
    api("nurse").get(f"/api/v1/tars/{tars['redwood']}/")  # writes a clinical_read row
    for persona in ("member", "provider"):
        actions = [
            h["action"] for h in api(persona).get(f"/api/v1/tars/{tars['redwood']}/history").json()
        ]
        assert "clinical_read" not in actions
    staff_actions = [
        h["action"] for h in api("manager").get(f"/api/v1/tars/{tars['redwood']}/history").json()
    ]
    assert "clinical_read" in staff_actions


# --- attachments ---------------------------------------------------------------------------

# (persona, attachments it may list and download)
ATTACHMENT_VISIBILITY = [
    pytest.param("provider", {"redwood"}, id="provider-own-org"),
    pytest.param("provider2", {"coastal"}, id="provider2-own-org"),
    pytest.param("pcp", set(), id="pcp-office-none"),
    pytest.param("member", set(), id="member-never"),
    pytest.param("other_member", set(), id="other-member-never"),
    *[pytest.param(p, set(), id=f"{p}-never") for p in NON_CLINICAL_STAFF],
    *[pytest.param(p, {"redwood", "coastal"}, id=f"{p}-all") for p in CLINICAL_STAFF],
]


@pytest.mark.parametrize(("persona", "visible"), ATTACHMENT_VISIBILITY)
def test_attachment_list_and_download_are_scoped(api, tars, attachments, persona, visible):
    client = api(persona)
    for name in ("redwood", "coastal"):
        listing = client.get(f"/api/v1/tars/{tars[name]}/attachments")
        download = client.get(f"/api/v1/attachments/{attachments[name]}/download")
        if name in visible:
            assert listing.status_code == 200
            assert [a["id"] for a in listing.json()] == [attachments[name]]
            assert download.status_code == 200
            assert b"".join(download.streaming_content) == PDF_BYTES
        else:
            _assert_not_found(listing)
            _assert_not_found(download)


def test_unknown_attachment_and_foreign_attachment_answer_alike(api, attachments):
    client = api("provider2")
    foreign = client.get(f"/api/v1/attachments/{attachments['redwood']}/download")
    missing = client.get("/api/v1/attachments/999999/download")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


# --- referrals (RAFs) ----------------------------------------------------------------------

# world.referral: Valley (PCP) → Redwood for member 1; world.other_referral: Valley → Coastal
# for member 2.
REFERRAL_VISIBILITY = [
    pytest.param("provider", {"referral"}, id="provider-referred-to"),
    pytest.param("provider2", {"other_referral"}, id="provider2-referred-to"),
    pytest.param("pcp", {"referral", "other_referral"}, id="pcp-referred-from"),
    pytest.param("member", {"referral"}, id="member-own"),
    pytest.param("other_member", {"other_referral"}, id="other-member-own"),
    *[
        pytest.param(p, {"referral", "other_referral"}, id=f"{p}-all")
        for p in PLAN_STAFF_AND_MANAGER
    ],
]


@pytest.mark.parametrize(("persona", "visible"), REFERRAL_VISIBILITY)
def test_referral_list_and_detail_are_scoped(api, world, persona, visible):
    client = api(persona)
    all_refs = {"referral": world.referral.pk, "other_referral": world.other_referral.pk}
    assert _list_ids(client, "/api/v1/referrals/") == {all_refs[name] for name in visible}
    for name, pk in all_refs.items():
        response = client.get(f"/api/v1/referrals/{pk}/")
        if name in visible:
            assert response.status_code == 200
            assert response.json()["number"].startswith("RAF-")
        else:
            _assert_not_found(response)


@pytest.mark.parametrize("persona", ["provider", "provider2"])
def test_office_that_is_not_the_pcp_cannot_create_a_referral(api, world, persona):
    response = api(persona).post(
        "/api/v1/referrals/",
        {
            "member": world.member.cin,
            "to_organization": world.coastal.pk,
            "specialty": "pain_medicine",
            "reason": "Back pain",
            "diagnosis_codes": ["M54.16"],
            "valid_from": "2026-01-01",
            "valid_to": "2026-06-01",
        },
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


# --- member lookup -------------------------------------------------------------------------


@pytest.fixture
def stranger(world):
    """A member no test office cares for: no PCP there, no referral, no request."""
    return factories.MemberFactory(date_of_birth="1981-05-17")


def _lookup(client, cin: str, dob: str | None = None) -> list[str]:
    params = {"cin": cin}
    if dob is not None:
        params["date_of_birth"] = dob
    response = client.get("/api/v1/members/", params)
    assert response.status_code == 200, response.json()
    return [row["cin"] for row in response.json()["results"]]


def _full_record(client, person) -> bool | None:
    """Provider lookups take CIN and date of birth (issue 12): True when the record comes with
    demographics, False for eligibility only, None when nothing is found."""
    dob = str(person.date_of_birth)
    response = client.get("/api/v1/members/", {"cin": person.cin, "date_of_birth": dob})
    assert response.status_code == 200, response.json()
    rows = response.json()["results"]
    return None if not rows else "last_name" in rows[0]


# (persona, which of member / other_member / stranger it sees in full)
MEMBER_LOOKUP = [
    pytest.param("provider", {"member"}, id="provider-finds-its-referred-member"),
    pytest.param("provider2", {"other_member"}, id="provider2-finds-its-referred-member"),
    pytest.param("pcp", {"member", "other_member"}, id="pcp-finds-its-panel"),
    pytest.param("member", {"member"}, id="member-finds-only-self"),
    pytest.param("other_member", {"other_member"}, id="other-member-finds-only-self"),
    *[
        pytest.param(p, {"member", "other_member", "stranger"}, id=f"{p}-finds-all")
        for p in PLAN_STAFF_AND_MANAGER
    ],
]
PROVIDERS = {"provider", "provider2", "pcp"}


@pytest.mark.parametrize(("persona", "visible"), MEMBER_LOOKUP)
def test_member_lookup_by_cin_is_scoped(api, world, stranger, persona, visible):
    people = {"member": world.member, "other_member": world.other_member, "stranger": stranger}
    client = api(persona)
    for name, person in people.items():
        dob = {"date_of_birth": str(person.date_of_birth)}
        if persona in PROVIDERS:
            # Everyone is found with CIN + date of birth; only related members in full.
            assert _full_record(client, person) is (name in visible), name
            detail = client.get(f"/api/v1/members/{person.cin}/", dob)
            assert detail.status_code == 200
            assert ("last_name" in detail.json()) is (name in visible)
            continue
        found = _lookup(client, person.cin)
        assert found == ([person.cin] if name in visible else []), name
        detail = client.get(f"/api/v1/members/{person.cin}/")
        if name in visible:
            assert detail.status_code == 200
            assert detail.json()["cin"] == person.cin
        else:
            _assert_not_found(detail)


@pytest.mark.parametrize(("persona", "visible"), MEMBER_LOOKUP)
def test_member_list_is_scoped(api, world, stranger, persona, visible):
    people = {"member": world.member, "other_member": world.other_member, "stranger": stranger}
    response = api(persona).get("/api/v1/members/", {"page_size": 200})
    if persona in PROVIDERS:
        # Providers do not browse members: they look one up with CIN + date of birth.
        assert response.status_code == 400
        assert "cin" in response.json()["fields"]
        return
    assert response.status_code == 200
    cins = {row["cin"] for row in response.json()["results"]}
    assert {people[name].cin for name in visible} <= cins
    assert not {people[name].cin for name in set(people) - visible} & cins


def test_provider_finds_a_stranger_only_with_matching_date_of_birth(api, stranger):
    client = api("provider")
    assert client.get("/api/v1/members/", {"cin": stranger.cin}).status_code == 400
    assert _lookup(client, stranger.cin, "1981-05-18") == []
    assert _lookup(client, stranger.cin, "1981-05-17") == [stranger.cin]
    # Lower-case CIN is the same member.
    assert _lookup(client, stranger.cin.lower(), "1981-05-17") == [stranger.cin]


def test_member_cannot_find_another_member_even_with_date_of_birth(api, world):
    dob = world.other_member.date_of_birth.isoformat()
    assert _lookup(api("member"), world.other_member.cin, dob) == []


def test_member_lookup_rejects_a_malformed_date_of_birth(api, stranger):
    response = api("provider").get(
        "/api/v1/members/", {"cin": stranger.cin, "date_of_birth": "17/05/1981"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "date_of_birth" in response.json()["fields"]


def test_providers_do_not_get_member_addresses(api, world):
    dob = world.member.date_of_birth.isoformat()
    provider_row = (
        api("provider")
        .get("/api/v1/members/", {"cin": world.member.cin, "date_of_birth": dob})
        .json()
    )
    staff_row = api("nurse").get("/api/v1/members/", {"cin": world.member.cin}).json()
    assert "address_line1" not in provider_row["results"][0]
    assert staff_row["results"][0]["address_line1"] == world.member.address_line1


# --- the clinical-read history -------------------------------------------------------------


def _clinical_reads(tar_id: int) -> list[HistoryEntry]:
    return list(HistoryEntry.objects.filter(tar_id=tar_id, action=HistoryAction.CLINICAL_READ))


@pytest.mark.parametrize("persona", CLINICAL_STAFF)
def test_plan_staff_read_of_tar_detail_is_recorded(api, world, tars, persona):
    assert _clinical_reads(tars["redwood"]) == []
    assert api(persona).get(f"/api/v1/tars/{tars['redwood']}/").status_code == 200
    reads = _clinical_reads(tars["redwood"])
    assert len(reads) == 1
    assert reads[0].actor == world.users[persona]
    assert reads[0].actor_role == world.users[persona].role
    assert reads[0].member == world.member


@pytest.mark.parametrize("persona", ["provider", "member"])
def test_provider_and_member_reads_are_not_recorded_as_clinical_reads(api, tars, persona):
    assert api(persona).get(f"/api/v1/tars/{tars['redwood']}/").status_code == 200
    assert _clinical_reads(tars["redwood"]) == []


@pytest.mark.parametrize("persona", NON_CLINICAL_STAFF)
def test_intake_and_member_services_reads_are_not_recorded_as_clinical_reads(api, tars, persona):
    """They are shown no clinical data, so the audit must not say they read it."""
    assert api(persona).get(f"/api/v1/tars/{tars['redwood']}/").status_code == 200
    assert _clinical_reads(tars["redwood"]) == []


def test_refused_read_is_not_recorded(api, tars):
    api("provider2").get(f"/api/v1/tars/{tars['redwood']}/")
    assert _clinical_reads(tars["redwood"]) == []
