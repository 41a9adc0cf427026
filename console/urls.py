"""The console's pages: the incident pages and the communications pages."""

from django.urls import path

from console.views import comms, exercises, schools, translations
from console.views import incidents as views

# The response team's incident pages, under /incidents/ (namespace "incidents").
incident_patterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_new, name="new"),
    path("settings/", views.district_settings, name="settings"),
    path("academics/", schools.academics_dashboard, name="academics"),
    path("guidance/", schools.school_guidance, name="guidance"),
    path("briefing/", schools.board_briefing, name="briefing"),
    path(
        "questions/<int:question_id>/answer/",
        schools.question_answer,
        name="question-answer",
    ),
    path("<int:incident_id>/", views.incident_detail, name="detail"),
    path("<int:incident_id>/roles/", views.incident_role_assign, name="assign-role"),
    path("<int:incident_id>/duties/<int:duty_id>/done/", views.duty_done, name="duty-done"),
    path("<int:incident_id>/guidance/edit/", schools.guidance_edit, name="guidance-edit"),
    path("<int:incident_id>/guidance/nudge/", schools.guidance_nudge, name="guidance-nudge"),
    path(
        "<int:incident_id>/guidance/acknowledge/",
        schools.guidance_acknowledge,
        name="guidance-ack",
    ),
    path("<int:incident_id>/questions/", schools.question_ask, name="question-ask"),
    path("<int:incident_id>/decisions/", schools.decision_record, name="decisions"),
    path("<int:incident_id>/review/", schools.review_page, name="review"),
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

# The communications and legal pages, under /comms/ (namespace "comms").
comms_patterns = [
    path("", comms.dashboard, name="dashboard"),
    path("legal/", comms.legal_dashboard, name="legal"),
    path("inbox/", comms.inbox, name="inbox"),
    path("incidents/<int:incident_id>/cadence/", comms.cadence_change, name="cadence-change"),
    path("incidents/<int:incident_id>/facts/", comms.fact_sheet, name="facts"),
    path("incidents/<int:incident_id>/drafts/new/", comms.draft_new, name="draft-new"),
    path("incidents/<int:incident_id>/heading/new/", comms.heading_new, name="heading-new"),
    path("incidents/<int:incident_id>/drafters/", comms.drafter_change, name="drafters"),
    path("drafts/<int:draft_id>/", comms.draft_detail, name="draft"),
    path("drafts/<int:draft_id>/check/", comms.draft_check, name="draft-check"),
    path("drafts/<int:draft_id>/export.txt", comms.draft_export, name="draft-export"),
    path(
        "drafts/<int:draft_id>/translations/",
        translations.translation_request,
        name="translation-request",
    ),
    path("drafts/<int:draft_id>/<slug:action>/", comms.draft_action, name="draft-action"),
    path("translations/", translations.translation_list, name="translations"),
    path(
        "translations/<int:translation_id>/",
        translations.translation_detail,
        name="translation",
    ),
    path(
        "translations/<int:translation_id>/machine/",
        translations.translation_machine,
        name="translation-machine",
    ),
    path(
        "translations/<int:translation_id>/approve/",
        translations.translation_approve,
        name="translation-approve",
    ),
    path("templates/", comms.templates_page, name="templates"),
    path("notices/<int:notice_id>/given/", comms.notice_given, name="notice-given"),
]

# The facilitator's exercise controls, under /exercises/ (namespace "exercises").
exercise_patterns = [
    path("", exercises.control, name="control"),
    path("start/", exercises.start, name="start"),
    path("scenarios/", exercises.scenario_upload, name="scenario-upload"),
    path("<int:exercise_id>/report/", exercises.report, name="report"),
    path("<int:exercise_id>/report.csv", exercises.report, {"fmt": "csv"}, name="report-csv"),
    path("<int:exercise_id>/report.json", exercises.report, {"fmt": "json"}, name="report-json"),
    path("<int:exercise_id>/<slug:action>/", exercises.act, name="act"),
]
