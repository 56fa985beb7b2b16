from django.urls import path

from criteria import views

urlpatterns = [
    path("", views.criteria_index, name="criteria-index"),
    path("<str:set_id>/<str:version>/", views.criteria_detail, name="criteria-detail"),
]
