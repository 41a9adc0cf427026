from django.urls import path

from comms import views

app_name = "comms"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("legal/", views.legal_dashboard, name="legal"),
    path("inbox/", views.inbox, name="inbox"),
    path("incidents/<int:incident_id>/cadence/", views.cadence_change, name="cadence-change"),
    path("incidents/<int:incident_id>/facts/", views.fact_sheet, name="facts"),
    path("incidents/<int:incident_id>/drafts/new/", views.draft_new, name="draft-new"),
    path("incidents/<int:incident_id>/drafters/", views.drafter_change, name="drafters"),
    path("drafts/<int:draft_id>/", views.draft_detail, name="draft"),
    path("drafts/<int:draft_id>/check/", views.draft_check, name="draft-check"),
    path("drafts/<int:draft_id>/export.txt", views.draft_export, name="draft-export"),
    path("drafts/<int:draft_id>/<slug:action>/", views.draft_action, name="draft-action"),
    path("templates/", views.templates_page, name="templates"),
    path("notices/<int:notice_id>/given/", views.notice_given, name="notice-given"),
]
