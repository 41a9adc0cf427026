from django.urls import path

from incidents import school_views, views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_new, name="new"),
    path("settings/", views.district_settings, name="settings"),
    path("academics/", school_views.academics_dashboard, name="academics"),
    path("guidance/", school_views.school_guidance, name="guidance"),
    path("briefing/", school_views.board_briefing, name="briefing"),
    path(
        "questions/<int:question_id>/answer/",
        school_views.question_answer,
        name="question-answer",
    ),
    path("<int:incident_id>/", views.incident_detail, name="detail"),
    path("<int:incident_id>/roles/", views.incident_role_assign, name="assign-role"),
    path("<int:incident_id>/duties/<int:duty_id>/done/", views.duty_done, name="duty-done"),
    path("<int:incident_id>/guidance/edit/", school_views.guidance_edit, name="guidance-edit"),
    path("<int:incident_id>/guidance/nudge/", school_views.guidance_nudge, name="guidance-nudge"),
    path(
        "<int:incident_id>/guidance/acknowledge/",
        school_views.guidance_acknowledge,
        name="guidance-ack",
    ),
    path("<int:incident_id>/questions/", school_views.question_ask, name="question-ask"),
    path("<int:incident_id>/decisions/", school_views.decision_record, name="decisions"),
    path("<int:incident_id>/review/", school_views.review_page, name="review"),
    path(
        "<int:incident_id>/timeline.<str:fmt>",
        views.timeline_export,
        name="timeline-export",
    ),
    path(
        "<int:incident_id>/status/<slug:action>/",
        views.incident_transition,
        name="transition",
    ),
]
