"""The intake coordinator's pages: a fax, mail or phone request keeps its true receipt time and
channel (the decision clock runs from it), its scanned pages are attached, and the entries are
listed on the coordinator's home."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from authorizations import clocks
from authorizations.calendar import plan_calendar
from authorizations.models import Tar
from tests.conftest import BUSINESS_MORNING
from tests.portal.casework import TINY_PDF, local_input

pytestmark = pytest.mark.django_db

TOKEN = "0123456789abcdef0123456789abcdef"


def _body(world, received_at, **changes):
    start = timezone.localdate() + timedelta(days=10)
    body = {
        "token": TOKEN,
        "channel": "fax",
        "received_at": local_input(received_at),
        "member": world.member.cin.lower(),
        "requesting_provider": world.redwood_specialist.npi,
        "servicing_provider": world.redwood_specialist.npi,
        "referral": world.referral.number,
        "request_type": "pre_service",
        "urgency": "routine",
        "urgency_reason": "",
        "place_of_service": "24",
        "line-0-code": "64483",
        "line-0-diagnosis_codes": "M54.16",
        "line-0-units": "1",
        "line-0-spinal_region": "lumbar",
        "line-0-service_date_from": start.isoformat(),
        "line-0-service_date_to": (start + timedelta(days=30)).isoformat(),
        # Untouched spare lines, as the browser sends them.
        "line-1-units": "1",
        "line-2-units": "1",
    }
    body.update(changes)
    return body


@pytest.fixture
def two_days_ago():
    return (timezone.localtime() - timedelta(days=2)).replace(
        hour=16, minute=45, second=0, microsecond=0
    )


def test_a_fax_keeps_its_true_receipt_time_and_channel(client_for, world, two_days_ago):
    client = client_for("coordinator")
    body = _body(world, two_days_ago)
    body["scanned_pages"] = [
        SimpleUploadedFile("fax-p1.pdf", TINY_PDF, "application/pdf"),
        SimpleUploadedFile("fax-p2.pdf", TINY_PDF + b"\n", "application/pdf"),
    ]
    response = client.post("/intake/new", body)
    assert response.status_code == 302, response.content.decode()[:3000]
    tar = Tar.objects.get()
    assert response["Location"] == f"/intake/tars/{tar.pk}/"
    assert tar.channel == "fax"
    assert tar.received_at == two_days_ago
    assert tar.submitted_by == world.users["coordinator"]
    assert tar.referral == world.referral
    expected = clocks.decision_deadline(
        received_at=two_days_ago,
        request_type="pre_service",
        urgency="routine",
        calendar=plan_calendar(),
    )
    assert tar.decision_due_at == expected.due_at
    assert sorted(tar.attachments.values_list("original_name", flat=True)) == [
        "fax-p1.pdf",
        "fax-p2.pdf",
    ]
    entry = client.get(f"/intake/tars/{tar.pk}/").content.decode()
    assert "by fax" in entry and "2 documents attached." in entry
    # The pages are clinical records: intake attaches them but does not read them back
    # (PRODUCT §2, 002 "Confidentiality").
    assert "fax-p1.pdf" not in entry and "/api/v1/attachments/" not in entry
    home = client.get("/intake/").content.decode()
    assert tar.number in home and "Fax" in home


def test_a_double_submission_enters_one_request(client_for, world, two_days_ago):
    client = client_for("coordinator")
    body = _body(world, two_days_ago, channel="mail")
    assert client.post("/intake/new", body).status_code == 302
    assert client.post("/intake/new", body).status_code == 302
    tar = Tar.objects.get()
    assert tar.channel == "mail" and tar.received_at == two_days_ago


def test_a_phone_request_with_two_lines(client_for, world, two_days_ago):
    start = timezone.localdate() + timedelta(days=12)
    body = _body(
        world,
        two_days_ago,
        channel="phone",
        **{
            "line-1-code": "64484",
            "line-1-diagnosis_codes": "M54.16",
            "line-1-spinal_region": "lumbar",
            "line-1-service_date_from": start.isoformat(),
            "line-1-service_date_to": start.isoformat(),
        },
    )
    assert client_for("coordinator").post("/intake/new", body).status_code == 302
    tar = Tar.objects.get()
    assert tar.channel == "phone"
    assert list(tar.lines.order_by("line_number").values_list("code", flat=True)) == [
        "64483",
        "64484",
    ]


# "Tomorrow" is typed as Pacific wall-clock minutes: the day before daylight saving ends it can
# land in the hour that repeats, and the form refuses the ambiguous time before the service can
# say it is in the future.
@pytest.mark.clock(BUSINESS_MORNING)
def test_a_receipt_time_in_the_future_is_refused_by_the_service(client_for, world):
    tomorrow = timezone.localtime() + timedelta(days=1)
    response = client_for("coordinator").post("/intake/new", _body(world, tomorrow))
    assert response.status_code == 400
    assert b"The receipt time cannot be in the future." in response.content
    assert not Tar.objects.exists()


def test_an_unknown_referral_number_is_refused(client_for, world, two_days_ago):
    response = client_for("coordinator").post(
        "/intake/new", _body(world, two_days_ago, referral="RAF-1999-999999")
    )
    assert response.status_code == 400
    assert b"No referral with this number." in response.content


def test_a_provider_cannot_use_the_intake_pages(client_for, world, two_days_ago):
    client = client_for("provider")
    assert client.get("/intake/").status_code == 403
    assert client.post("/intake/new", _body(world, two_days_ago)).status_code == 403
    assert not Tar.objects.exists()


def test_pages_are_attached_to_an_entry_later(client_for, world, two_days_ago):
    client = client_for("coordinator")
    client.post("/intake/new", _body(world, two_days_ago))
    tar = Tar.objects.get()
    response = client.post(
        f"/intake/tars/{tar.pk}/documents",
        {"file": SimpleUploadedFile("late-page.pdf", TINY_PDF, "application/pdf")},
    )
    assert response.status_code == 302
    assert tar.attachments.get().original_name == "late-page.pdf"
    refused = client.post(
        f"/intake/tars/{tar.pk}/documents",
        {"file": SimpleUploadedFile("x.pdf", b"text", "application/pdf")},
    )
    assert refused.status_code == 400
    assert b"Upload a PDF, PNG, JPEG or TIFF file" in refused.content


def test_coordinator_starts_on_the_intake_page(client_for):
    response = client_for("coordinator").get("/")
    assert response.status_code == 302 and response["Location"] == "/intake/"
