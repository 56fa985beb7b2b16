from django.apps import AppConfig


class AppealsConfig(AppConfig):
    """Appeals, peer-to-peer talks and independent medical review: the member's and the
    provider's ways to have a decision looked at again (42 CFR 438 subpart F; 002; 003)."""

    name = "appeals"
