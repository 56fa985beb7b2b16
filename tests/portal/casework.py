"""Helpers for the appeal, peer-to-peer, IMR, intake and member-services page tests: a request
denied by `physician` (so `physician2` is the independent reviewer), an appeal, a talk."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from appeals import services as appeals
from authorizations import services
from authorizations.models import Tar
from tests import factories

ESI_REF = "esi:2026.1:1"
# The ESI answers with radicular findings missing: criterion 1 is not met.
NOT_MET = {**factories.ESI_MEETS, "radicular_findings": False}
DENIAL_RATIONALE = "History, exam and imaging do not show radicular pain."
# The smallest PDF the content sniffing accepts.
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def deny(world, tar_id: int, persona: str = "physician") -> Tar:
    services.tar_decide(
        tar_id=tar_id,
        user=world.users[persona],
        outcome="denied",
        reason_code="medical_necessity",
        rationale=DENIAL_RATIONALE,
        criteria_refs=[ESI_REF],
    )
    return Tar.objects.get(pk=tar_id)


def denied_tar(world, submit, **overrides) -> int:
    """A Redwood request for `member`, denied for medical necessity by `physician`."""
    overrides.setdefault("answers", NOT_MET)
    tar_id = submit("provider", **overrides)
    deny(world, tar_id)
    return tar_id


def member_appeal(world, tar_id: int, **kwargs):
    kwargs.setdefault("reason", "My pain runs down my leg every day; I need this injection.")
    return appeals.appeal_file(tar_id=tar_id, user=world.users["member"], **kwargs)


def talk(world, tar_id: int):
    return appeals.peer_to_peer_request(
        tar_id=tar_id,
        user=world.users["provider"],
        contact_phone="(707) 555-0100",
        proposed_times=[timezone.now() + timedelta(days=2)],
        topic="The MRI shows L5 root compression.",
    )


def local_input(value) -> str:
    """A datetime-local input value in Pacific time."""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")
