from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_new, name="new"),
    path("settings/", views.district_settings, name="settings"),
    path("academics/", views.academics_dashboard, name="academics"),
    path("guidance/", views.school_guidance, name="guidance"),
    path("briefing/", views.board_briefing, name="briefing"),
    path("<int:incident_id>/", views.incident_detail, name="detail"),
    path("<int:incident_id>/roles/", views.incident_role_assign, name="assign-role"),
    path("<int:incident_id>/panels/<slug:panel>/", views.incident_panel, name="panel"),
    path("<int:incident_id>/duties/<int:duty_id>/done/", views.duty_done, name="duty-done"),
    path(
        "<int:incident_id>/status/<slug:action>/",
        views.incident_transition,
        name="transition",
    ),
]
