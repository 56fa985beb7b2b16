from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Program oversight: the UM manager's dashboard, timeliness and outcome reports, the public
    CMS-0057-F metrics and inter-rater reliability audits (PRODUCT §10; seed 002)."""

    name = "reports"
