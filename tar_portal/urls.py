from django.contrib import admin
from django.urls import include, path

from tar_portal import views

admin.site.site_header = "TAR Portal administration"
admin.site.site_title = "TAR Portal"

# The API first: Django tries patterns in order, and an API call (the busiest path) would
# otherwise be matched against every page pattern of the apps mounted at "" before its own.
urlpatterns = [
    path("api/v1/", include("tar_portal.api_urls")),
    path("", include("fhir.urls")),
    path("", include("reports.urls")),
    path("", include("grievances.urls")),
    path("", include("portal.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("criteria/", include("criteria.urls")),
]

handler400 = "tar_portal.views.bad_request"
handler403 = "tar_portal.views.permission_denied"
handler404 = "tar_portal.views.page_not_found"
handler500 = "tar_portal.views.server_error"
