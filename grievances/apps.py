from django.apps import AppConfig


class GrievancesConfig(AppConfig):
    """Grievances: a member's expression of dissatisfaction, with their acknowledgement and
    resolution clocks (42 CFR 438.402, 438.408; H&S 1368; PRODUCT §4)."""

    name = "grievances"
