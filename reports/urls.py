from django.urls import path, re_path

from reports import views

app_name = "reports"

urlpatterns = [
    path("reports/", views.dashboard, name="dashboard"),
    path("reports/requests/", views.requests, name="requests"),
    path("reports/irr/", views.irr_home, name="irr"),
    path("reports/irr/open", views.irr_open, name="irr-open"),
    path("reports/irr/<int:year>/", views.irr_audit, name="irr-audit"),
    path("reports/irr/<int:year>.csv", views.irr_audit_csv, name="irr-audit-csv"),
    path("reports/irr/<int:year>.pdf", views.irr_audit_pdf, name="irr-audit-pdf"),
    path("reports/irr/plans/<int:plan_id>/", views.irr_plan, name="irr-plan"),
    path("irr/cases/", views.irr_my_cases, name="irr-my-cases"),
    path("irr/cases/<int:case_id>/", views.irr_case, name="irr-case"),
    path("reports/<slug:slug>/", views.report_page, name="report"),
    path("reports/<slug:slug>.csv", views.report_csv, name="report-csv"),
    path("reports/<slug:slug>.pdf", views.report_pdf, name="report-pdf"),
    path("transparency/prior-authorization/", views.transparency, name="transparency"),
    re_path(
        r"^transparency/prior-authorization/(?P<year>[^/]+)\.(?P<ext>json|csv)$",
        views.transparency_download,
        name="transparency-download",
    ),
]
