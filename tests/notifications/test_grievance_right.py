"""A delay (extension) notice states the member's right to file a grievance (PRODUCT §7;
42 CFR 438.404(c)(4)(ii); H&S 1368), in the member's language, read back from the PDF."""

from __future__ import annotations

from datetime import timedelta

import pytest

from authorizations import services as tar_services
from authorizations.models import Tar
from tests.notifications.conftest import ESI_SHORT_CARE, letter_for, letter_pdf
from tests.notifications.pdf import has, pdf_text

pytestmark = pytest.mark.django_db


def _extend(world, run_hooks, tar_id):
    tar = Tar.objects.get(pk=tar_id)
    run_hooks(
        tar_services.tar_extend,
        tar_id=tar_id,
        user=world.users["physician"],
        reason="expert_review_needed",
        new_due_at=tar.received_at + timedelta(days=12),
        note="A spine specialist will review the MRI before we decide.",
    )


def test_the_delay_letter_tells_the_member_of_the_grievance_right(submit, world, run_hooks):
    tar_id = submit(answers=ESI_SHORT_CARE)
    _extend(world, run_hooks, tar_id)
    member = pdf_text(letter_pdf(letter_for(tar_id, "delay", "member")))
    assert not has(
        member,
        "your right to file a grievance",
        "you can file a grievance",
        "within 5 days",
        "within 30 days",
        "within 72 hours",
    )
    provider = pdf_text(letter_pdf(letter_for(tar_id, "delay", "provider")))
    assert not has(provider, "The member may file a grievance with the plan about this extension")


def test_the_spanish_delay_letter_states_it_in_spanish(submit, world, run_hooks, spanish_member):
    member, referral = spanish_member
    tar_id = submit(answers=ESI_SHORT_CARE, member=member.cin, referral=referral.pk)
    _extend(world, run_hooks, tar_id)
    text = pdf_text(letter_pdf(letter_for(tar_id, "delay", "member")))
    assert not has(text, "su derecho a presentar una queja", "dentro de 30 días")
