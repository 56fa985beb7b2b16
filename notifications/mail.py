"""E-mail that a letter is ready, without PHI (issue 12).

Mail leaves the plan's systems in the clear: it says that a letter is ready and links to it
behind the portal login. No attachment, no member name, no CIN, no decision; the request
number is the plan's reference only (it identifies no one without signing in).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse

from notifications.models import Audience, Letter


def letter_link(letter: Letter) -> str:
    """The page, behind login, where the letter's reader finds it."""
    name = "portal:member-tar" if letter.audience == Audience.MEMBER else "portal:provider-tar"
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse(name, args=[letter.tar_id])


def letter_ready_email(*, letter: Letter, tar_number: str, to: str) -> EmailMessage:
    return EmailMessage(
        subject=f"{settings.PLAN_NAME}: a letter is ready for request {tar_number}",
        body=(
            f"A new letter about request {tar_number} is ready in the {settings.PLAN_NAME} "
            "portal. For your privacy it is not attached to this message.\n\n"
            f"Sign in to read it: {letter_link(letter)}\n\n"
            "Please do not reply to this message; call Utilization Management at "
            f"{settings.PLAN_UM_PHONE} with questions."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
