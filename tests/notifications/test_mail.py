"""Mail without PHI (issue 12): an e-mail says that a letter is ready and links to it behind
the portal login; no attachment, no member name, no CIN."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from authorizations.models import Tar
from notifications.mail import letter_link, letter_ready_email
from notifications.models import Letter
from tests.notifications.conftest import ESI_SHORT_CARE

pytestmark = pytest.mark.django_db


@pytest.fixture
def denied_letters(submit, deny, settings):
    settings.PORTAL_BASE_URL = "https://tar.example.org/"
    tar_id = submit(answers=ESI_SHORT_CARE)
    deny(tar_id)
    return Tar.objects.get(pk=tar_id)


def test_the_provider_email_carries_no_phi(denied_letters):
    tar = denied_letters
    [message] = mail.outbox
    text = f"{message.subject}\n{message.body}"
    assert message.attachments == []
    for phi in (tar.member.first_name, tar.member.last_name, tar.member.cin):
        assert phi not in text
    assert str(tar.member.date_of_birth.year) not in text
    assert "denied" not in text.lower() and "denial" not in text.lower()
    assert tar.number in message.subject  # the plan's reference only


def test_the_link_leads_to_the_letter_behind_login(denied_letters, world):
    tar = denied_letters
    provider_letter = Letter.objects.get(tar=tar, audience="provider")
    link = letter_link(provider_letter)
    assert link == f"https://tar.example.org/provider/tars/{tar.pk}/"
    path = link.removeprefix("https://tar.example.org")
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and anonymous.url.startswith("/accounts/login/")
    client = Client()
    client.force_login(world.users["provider"])
    page = client.get(path)
    assert page.status_code == 200
    assert f"/letters/{provider_letter.pk}/download".encode() in page.content


def test_a_member_letter_links_to_the_member_page(denied_letters):
    member_letter = Letter.objects.get(tar=denied_letters, audience="member")
    message = letter_ready_email(
        letter=member_letter, tar_number=denied_letters.number, to="member@example.org"
    )
    assert f"/member/tars/{denied_letters.pk}/" in message.body
    assert message.attachments == []
    assert denied_letters.member.last_name not in message.body
