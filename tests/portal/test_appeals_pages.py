"""The appeal, peer-to-peer and IMR pages through the Django test client: each page calls its
service once and shows the service's refusal; nothing of another organization or member is
ever shown (404); bad input never gives a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from appeals import services as appeals
from appeals.models import Appeal, ImrCase, PeerToPeer
from authorizations.models import Tar
from notifications.models import Letter, Notice
from tests.conftest import BUSINESS_MORNING
from tests.portal.casework import (
    ESI_REF,
    TINY_PDF,
    denied_tar,
    local_input,
    member_appeal,
    talk,
)

pytestmark = pytest.mark.django_db

REFERRAL = {
    "referral_reason": "medical_necessity_denial",
    "treating_physician_certified": "on",
    "reviewer_kind": "imro",
    "reviewer_name": "MAXIMUS Federal Services",
    "reviewer_specialty": "Pain medicine",
    "review_type": "standard",
    "questions": "Is a transforaminal ESI medically necessary?\nWould a second level help?",
    "pertinent_history": "Lumbar radiculopathy for 10 weeks; MRI shows L5 root compression.",
    "clinical_data": "8 weeks of physical therapy and NSAIDs without relief.",
}


@pytest.fixture
def denied(world, submit) -> int:
    return denied_tar(world, submit)


@pytest.fixture
def appeal(world, denied) -> Appeal:
    return member_appeal(world, denied)


def _refer(world, tar_id: int, persona: str = "physician", **changes) -> ImrCase:
    data = {**REFERRAL, **changes}
    return appeals.imr_refer(
        tar_id=tar_id,
        user=world.users[persona],
        data=appeals.ImrReferralInput(
            referral_reason=data["referral_reason"],
            reviewer_kind=data["reviewer_kind"],
            reviewer_name=data["reviewer_name"],
            review_type=data["review_type"],
            questions=data["questions"].splitlines(),
            pertinent_history=data["pertinent_history"],
            clinical_data=data["clinical_data"],
            treating_physician_certified=True,
        ),
    )


# --- member -----------------------------------------------------------------------------------


def test_a_member_appeals_a_denial_and_sees_its_status_and_due_date(client_for, world, denied):
    client = client_for("member")
    page = client.get(f"/member/tars/{denied}/").content.decode()
    assert "Appeal this decision" in page
    response = client.post(
        f"/member/tars/{denied}/appeal",
        {"reason": "The pain runs down my leg.", "expedited": "no", "expedited_reason": ""},
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get(tar_id=denied)
    assert appeal.filer == "member" and not appeal.expedited
    page = client.get(f"/member/tars/{denied}/").content.decode()
    assert appeal.number in page
    assert "We will decide by" in page
    local = timezone.localtime(appeal.resolution_due_at)
    assert f"{local:%b} {local.day}, {local.year}, 11:59 PM PT" in page  # portal_dates.when
    assert "Appeal this decision" not in page  # one appeal per decision
    assert "peer-to-peer" not in page.lower()  # talks are for providers


def test_an_expedited_appeal_states_why(client_for, denied):
    response = client_for("member").post(
        f"/member/tars/{denied}/appeal", {"reason": "Pain.", "expedited": "yes"}
    )
    assert response.status_code == 400
    assert b"Say why waiting 30 days could seriously harm" in response.content
    assert not Appeal.objects.exists()


def test_the_appeal_form_speaks_spanish(client_for, denied):
    client = client_for("member")
    client.cookies["django_language"] = "es"
    page = client.get(f"/member/tars/{denied}/appeal").content.decode()
    assert "¿Por qué debe cambiar la decisión?" in page
    assert "Enviar mi apelación" in page
    assert "(obligatorio)" in page


def test_an_open_request_cannot_be_appealed_and_the_page_says_why(client_for, submit):
    tar_id = submit()
    assert (
        b"Appeal this decision" not in client_for("member").get(f"/member/tars/{tar_id}/").content
    )
    response = client_for("member").post(
        f"/member/tars/{tar_id}/appeal", {"reason": "No.", "expedited": "no"}
    )
    assert response.status_code == 409
    # An open request within its deadline and never extended carries no adverse determination.
    assert b"There is no adverse determination to appeal." in response.content


def test_the_member_lists_their_appeals(client_for, appeal):
    assert appeal.number in client_for("member").get("/member/appeals/").content.decode()
    assert appeal.number not in client_for("other_member").get("/member/appeals/").content.decode()


# --- provider ---------------------------------------------------------------------------------


def test_a_provider_appeals_only_with_the_members_written_consent(client_for, denied):
    client = client_for("provider")
    assert b"Appeal for the member" in client.get(f"/provider/tars/{denied}/").content
    body = {"reason": "MRI shows L5 compression.", "expedited": "no"}
    response = client.post(f"/provider/tars/{denied}/appeal", body)
    assert response.status_code == 400
    assert b"only with the member&#x27;s written consent" in response.content
    response = client.post(f"/provider/tars/{denied}/appeal", {**body, "member_consent": "on"})
    assert response.status_code == 302
    appeal = Appeal.objects.get(tar_id=denied)
    assert appeal.filer == "provider" and appeal.member_consent
    page = client.get(f"/provider/tars/{denied}/").content.decode()
    assert appeal.number in page and "Provider on the member" in page


# The proposed times are typed as Pacific wall-clock minutes a day or two ahead: when that lands
# in the hour that repeats as daylight saving ends, the form rightly refuses the ambiguous time.
@pytest.mark.clock(BUSINESS_MORNING)
def test_a_provider_asks_for_a_peer_to_peer_talk_and_can_cancel_it(client_for, denied):
    client = client_for("provider")
    soon = timezone.now() + timedelta(days=2)
    response = client.post(
        f"/provider/tars/{denied}/peer-to-peer",
        {
            "contact_phone": "(707) 555-0100",
            "proposed_time_1": local_input(soon),
            "proposed_time_2": local_input(soon + timedelta(hours=3)),
            "topic": "The new MRI.",
        },
    )
    assert response.status_code == 302
    p2p = PeerToPeer.objects.get(tar_id=denied)
    assert len(p2p.proposed_times) == 2 and p2p.status == "requested"
    page = client.get(f"/provider/tars/{denied}/").content.decode()
    assert "Peer-to-peer talks" in page and "Requested" in page
    assert "Ask for a peer-to-peer talk" not in page  # one open talk per request
    assert client.post(f"/provider/peer-to-peer/{p2p.pk}/cancel").status_code == 302
    p2p.refresh_from_db()
    assert p2p.status == "cancelled"


def test_a_talk_in_the_past_is_refused_with_the_services_words(client_for, denied):
    response = client_for("provider").post(
        f"/provider/tars/{denied}/peer-to-peer",
        {"contact_phone": "1", "proposed_time_1": "2020-01-01T10:00"},
    )
    assert response.status_code == 400
    assert b"Propose times in the future." in response.content


def test_a_provider_withdraws_an_open_request(client_for, submit):
    tar_id = submit()
    client = client_for("provider")
    assert b"Withdraw this request" in client.get(f"/provider/tars/{tar_id}/").content
    response = client.post(f"/provider/tars/{tar_id}/withdraw", {"reason": "Member moved."})
    assert response.status_code == 302
    assert Tar.objects.get(pk=tar_id).status == "withdrawn"
    again = client.post(f"/provider/tars/{tar_id}/withdraw", {"reason": ""})
    assert again.status_code == 409


def test_the_provider_lists_the_organizations_appeals_and_talks(client_for, world, appeal):
    talk(world, appeal.tar_id)
    page = client_for("provider").get("/provider/appeals/").content.decode()
    assert appeal.number in page and "Requested" in page
    assert appeal.number not in client_for("provider2").get("/provider/appeals/").content.decode()


# --- physician: appeals -----------------------------------------------------------------------


def test_the_appeals_queue_puts_expedited_appeals_first(client_for, world, submit):
    standard = member_appeal(world, denied_tar(world, submit))
    expedited = member_appeal(
        world, denied_tar(world, submit), expedited=True, expedited_reason="Severe pain."
    )
    page = client_for("physician").get("/physician/appeals/").content.decode()
    assert page.index(expedited.number) < page.index(standard.number)


def test_the_physician_who_denied_gets_the_services_refusal(client_for, appeal):
    client = client_for("physician")
    assert client.get(f"/physician/appeals/{appeal.pk}/").status_code == 200
    response = client.post(
        f"/physician/appeals/{appeal.pk}/", {"outcome": "overturned", "rationale": "Agreed."}
    )
    assert response.status_code == 403
    assert b"You took part in the decision under appeal" in response.content
    appeal.refresh_from_db()
    assert appeal.status == "received"


def test_another_physician_overturns_and_member_and_provider_see_the_letter(
    client_for, appeal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("physician2").post(
            f"/physician/appeals/{appeal.pk}/",
            {"outcome": "overturned", "rationale": "The new MRI shows L5 root compression."},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    appeal.refresh_from_db()
    assert appeal.status == "resolved" and appeal.outcome == "overturned"
    assert Tar.objects.get(pk=appeal.tar_id).status == "approved"
    assert Notice.objects.filter(tar_id=appeal.tar_id, kind="appeal_resolution").count() == 2
    for persona, url in (
        ("member", f"/member/tars/{appeal.tar_id}/"),
        ("provider", f"/provider/tars/{appeal.tar_id}/"),
    ):
        page = client_for(persona).get(url).content.decode()
        assert "Appeal decision" in page
        letter = Letter.objects.get(
            tar_id=appeal.tar_id, kind="appeal_resolution", audience=persona
        )
        assert f"/api/v1/letters/{letter.pk}/download" in page
    member_page = client_for("member").get(f"/member/tars/{appeal.tar_id}/").content.decode()
    assert "The decision was changed: approved" in member_page
    assert ">Approved<" in member_page or "Approved</dd>" in member_page


def test_an_upheld_appeal_must_cite_the_criteria(client_for, appeal):
    client = client_for("physician2")
    response = client.post(
        f"/physician/appeals/{appeal.pk}/",
        {"outcome": "upheld", "reason_code": "medical_necessity", "rationale": "Still no."},
    )
    assert response.status_code == 400
    assert b"Cite the criteria used" in response.content
    response = client.post(
        f"/physician/appeals/{appeal.pk}/",
        {
            "outcome": "upheld",
            "reason_code": "medical_necessity",
            "rationale": "Still no radicular findings.",
            "criteria_refs": [ESI_REF],
        },
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.outcome == "upheld" and appeal.state_hearing_due_at is not None


def test_a_partial_overturn_needs_the_line_decisions(client_for, appeal):
    client = client_for("physician2")
    body = {
        "outcome": "partially_overturned",
        "reason_code": "medical_necessity",
        "rationale": "One level only.",
        "criteria_refs": [ESI_REF],
    }
    response = client.post(f"/physician/appeals/{appeal.pk}/", body)
    assert response.status_code == 400
    assert b"Give the line decisions" in response.content
    response = client.post(
        f"/physician/appeals/{appeal.pk}/",
        {**body, "line-1-outcome": "approved", "line-1-approved_units": "5"},
    )
    assert response.status_code == 400
    assert b"Cannot approve more units than requested." in response.content


def test_an_appeal_is_extended_once(client_for, appeal):
    client = client_for("physician2")
    body = {"extend-reason": "information_needed", "extend-note": "Waiting for the new MRI."}
    response = client.post(f"/physician/appeals/{appeal.pk}/extend", body)
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.resolution_due_at > appeal.original_resolution_due_at
    again = client.post(f"/physician/appeals/{appeal.pk}/extend", body)
    assert again.status_code == 409
    assert b"only one extension is allowed" in again.content


# --- physician: peer-to-peer --------------------------------------------------------------------


# As above: the time of the talk is typed as Pacific wall-clock minutes a day ahead.
@pytest.mark.clock(BUSINESS_MORNING)
def test_a_physician_schedules_the_talk_and_records_its_outcome(client_for, world, denied):
    p2p = talk(world, denied)
    client = client_for("physician2")
    assert f"Talk {p2p.pk}" in client.get("/physician/peer-to-peer/").content.decode()
    when = timezone.now() + timedelta(days=1)
    response = client.post(
        f"/physician/peer-to-peer/{p2p.pk}/schedule",
        {
            "schedule-scheduled_at": local_input(when),
            "schedule-physician": str(world.users["physician2"].pk),
        },
    )
    assert response.status_code == 302
    p2p.refresh_from_db()
    assert p2p.status == "scheduled" and p2p.physician == world.users["physician2"]
    # Only the physician who holds the talk records it (the service says so).
    refused = client_for("physician").post(
        f"/physician/peer-to-peer/{p2p.pk}/outcome",
        {"outcome-outcome": "decision_stands", "outcome-summary": "Discussed."},
    )
    assert refused.status_code == 403
    assert b"The physician who held the talk records its outcome." in refused.content
    response = client_for("physician2").post(
        f"/physician/peer-to-peer/{p2p.pk}/outcome",
        {"outcome-outcome": "more_information", "outcome-summary": "The office sends the MRI."},
    )
    assert response.status_code == 302
    p2p.refresh_from_db()
    assert p2p.status == "held" and p2p.outcome == "more_information"


# --- independent medical review -----------------------------------------------------------------


def test_a_physician_refers_a_case_to_imr(client_for, denied):
    client = client_for("physician")
    page = client.get(f"/physician/tars/{denied}/imr").content.decode()
    assert "The service was denied, modified or delayed as not medically necessary" in page
    response = client.post(f"/physician/tars/{denied}/imr", REFERRAL)
    assert response.status_code == 302
    imr = ImrCase.objects.get(tar_id=denied)
    assert response["Location"] == f"/imr/{imr.pk}/"
    assert imr.questions == [
        "Is a transforaminal ESI medically necessary?",
        "Would a second level help?",
    ]
    assert imr.status == "referred" and imr.review_type == "standard"


def test_a_referral_states_what_003_asks_for(client_for, denied):
    response = client_for("physician").post(
        f"/physician/tars/{denied}/imr",
        {**REFERRAL, "treating_physician_certified": "", "review_type": "expedited"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "003 B.5" in body
    assert not ImrCase.objects.exists()


def test_staff_track_file_the_determination_and_decide(client_for, world, denied):
    imr = _refer(world, denied)
    assert imr.number in client_for("nurse").get("/imr/").content.decode()
    packet = client_for("nurse").get(f"/imr/{imr.pk}/packet.pdf")
    assert packet.status_code == 200 and packet["Content-Type"] == "application/pdf"
    response = client_for("nurse").post(
        f"/imr/{imr.pk}/determination",
        {
            "determination-file": SimpleUploadedFile("d.pdf", TINY_PDF, "application/pdf"),
            "determination-determination": "overturned",
            "determination-analysis": "Radicular findings are documented.",
            "determination-reviewer_qualifications": "Board-certified pain medicine",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    imr.refresh_from_db()
    assert imr.status == "determination_received"
    response = client_for("physician2").post(
        f"/imr/{imr.pk}/decision",
        {"final-outcome": "overturned", "final-rationale": "The reviewer found it necessary."},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    imr.refresh_from_db()
    assert imr.status == "decided"
    assert Tar.objects.get(pk=denied).status == "approved"


def test_the_determination_must_be_a_pdf(client_for, world, denied):
    imr = _refer(world, denied)
    response = client_for("nurse").post(
        f"/imr/{imr.pk}/determination",
        {
            "determination-file": SimpleUploadedFile("d.pdf", b"not a pdf", "application/pdf"),
            "determination-determination": "upheld",
            "determination-analysis": "x",
            "determination-reviewer_qualifications": "y",
        },
    )
    assert response.status_code == 400
    assert b"The determination must be a PDF" in response.content


def test_the_tracking_list_flags_an_overdue_review(client_for, world, denied):
    imr = _refer(world, denied)
    ImrCase.objects.filter(pk=imr.pk).update(due_at=timezone.now() - timedelta(hours=1))
    page = client_for("manager").get("/imr/?overdue=").content.decode()
    assert imr.number in page and "Overdue</strong>" in page


# --- scoping ------------------------------------------------------------------------------------


@pytest.fixture
def records(world, appeal):
    return {
        "tar": appeal.tar_id,
        "appeal": appeal.pk,
        "p2p": talk(world, appeal.tar_id).pk,
        "imr": _refer(world, appeal.tar_id).pk,
    }


@pytest.mark.parametrize(
    "url",
    [
        "/provider/tars/{tar}/appeal",
        "/provider/tars/{tar}/peer-to-peer",
        "/provider/tars/{tar}/withdraw",
    ],
)
def test_provider2_gets_404_on_redwoods_appeal_pages(client_for, records, url):
    client = client_for("provider2")
    assert client.get(url.format(**records)).status_code == 404
    assert client.post(url.format(**records), {"reason": "x"}).status_code == 404


def test_provider2_cannot_cancel_redwoods_talk(client_for, records):
    response = client_for("provider2").post(f"/provider/peer-to-peer/{records['p2p']}/cancel")
    assert response.status_code == 404
    assert PeerToPeer.objects.get(pk=records["p2p"]).status == "requested"


def test_another_member_gets_404_on_the_appeal_page(client_for, records):
    client = client_for("other_member")
    url = f"/member/tars/{records['tar']}/appeal"
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "x", "expedited": "no"}).status_code == 404
    assert Appeal.objects.count() == 1


@pytest.mark.parametrize("persona", ["provider", "provider2", "member", "other_member"])
@pytest.mark.parametrize(
    "url",
    [
        "/imr/",
        "/imr/{imr}/",
        "/imr/{imr}/packet.pdf",
        "/physician/appeals/",
        "/physician/appeals/{appeal}/",
        "/physician/peer-to-peer/{p2p}/",
        "/physician/tars/{tar}/imr",
        "/member-services/tars/{tar}/",
        "/intake/tars/{tar}/",
    ],
)
def test_staff_pages_are_refused_to_providers_and_members(client_for, records, persona, url):
    assert client_for(persona).get(url.format(**records)).status_code == 403


def test_unknown_records_are_not_found(client_for):
    assert client_for("physician").get("/physician/appeals/424242/").status_code == 404
    assert client_for("physician").get("/physician/peer-to-peer/424242/").status_code == 404
    assert client_for("nurse").get("/imr/424242/").status_code == 404
    assert client_for("nurse").get("/imr/424242/packet.pdf").status_code == 404


# --- bad input ----------------------------------------------------------------------------------

JUNK = {
    "reason": "x" * 50_000,
    "expedited": "maybe",
    "expedited_reason": "\x00",
    "member_consent": "sure",
    "contact_phone": "<script>",
    "proposed_time_1": "31/31/2031 25:99",
    "proposed_time_2": "tomorrow",
    "outcome": "both",
    "reason_code": "because",
    "rationale": "",
    "criteria_refs": ["esi:1999:99", "::"],
    "line-1-outcome": "sideways",
    "line-1-approved_units": "1e9",
    "extend-reason": "bored",
    "extend-new_due_at": "not a date",
    "schedule-scheduled_at": "yesterday",
    "schedule-physician": "-1",
    "outcome-outcome": "x",
    "outcome-decision": "99999999999999999999",
    "cancel-reason": "y" * 10_000,
    "referral_reason": "whim",
    "appeal": "abc",
    "review_type": "instant",
    "questions": "",
    "determination-determination": "?",
    "determination-received_at": "2999-99-99",
    "final-outcome": "maybe",
    "final-line-1-approved_date_from": "2026-02-31",
    "received_at": "0000-00-00T00:00",
    "cin": "\x00",
}


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("member", "/member/tars/{tar}/appeal"),
        ("provider", "/provider/tars/{tar}/appeal"),
        ("provider", "/provider/tars/{tar}/peer-to-peer"),
        ("provider", "/provider/tars/{tar}/withdraw"),
        ("provider", "/provider/peer-to-peer/{p2p}/cancel"),
        ("physician2", "/physician/appeals/{appeal}/"),
        ("physician2", "/physician/appeals/{appeal}/extend"),
        ("physician2", "/physician/peer-to-peer/{p2p}/schedule"),
        ("physician2", "/physician/peer-to-peer/{p2p}/outcome"),
        ("physician2", "/physician/peer-to-peer/{p2p}/cancel"),
        ("physician2", "/physician/tars/{tar}/imr"),
        ("nurse", "/imr/{imr}/determination"),
        ("physician2", "/imr/{imr}/decision"),
        ("memberservices", "/member-services/"),
        ("memberservices", "/member-services/tars/{tar}/appeal"),
        ("memberservices", "/member-services/tars/{tar}/criteria-copy"),
        ("coordinator", "/intake/new"),
        ("coordinator", "/intake/tars/{tar}/documents"),
    ],
)
def test_junk_posts_never_fail_with_500(client_for, records, persona, url):
    response = client_for(persona).post(url.format(**records), JUNK)
    assert response.status_code < 500


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("nurse", "/imr/?status=bogus&review_type=x&overdue=perhaps&page=-3"),
        ("nurse", "/imr/?page=99999"),
        ("physician", "/physician/appeals/?page=abc"),
        ("member", "/member/appeals/?page=%00"),
        ("provider", "/provider/appeals/?page=0"),
        ("coordinator", "/intake/?page=x"),
        ("memberservices", "/member-services/members/424242/"),
        ("memberservices", "/member-services/members/1/?page=-1"),
    ],
)
def test_junk_urls_never_fail_with_500(client_for, records, persona, url):
    assert client_for(persona).get(url).status_code in (200, 400, 404)
