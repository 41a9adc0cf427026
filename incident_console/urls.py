"""URL configuration."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from console import health
from console.urls import comms_patterns, exercise_patterns, incident_patterns
from console.views import comms as comms_views
from console.views import incidents as incident_views
from console.views import subscriptions as subscription_views

# The admin signs in on the console's sign-in page, code step included, never on its own form.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", incident_views.home, name="home"),
    # Browsers ask for /favicon.ico on pages that name no icon (error pages, exports).
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("accounts/", include("signin.urls")),
    path("health/live", health.health_live, name="health-live"),
    path("health/ready", health.health_ready, name="health-ready"),
    path("incidents/", include((incident_patterns, "incidents"))),
    path("comms/", include((comms_patterns, "comms"))),
    path("exercises/", include((exercise_patterns, "exercises"))),
    path("status/<slug:slug>/", comms_views.status_page, name="status-page"),
    path(
        "status/<slug:slug>/incidents/<int:incident_id>/",
        comms_views.status_incident,
        name="status-incident",
    ),
    path("status/<slug:slug>/feed.atom", comms_views.status_feed, name="status-feed"),
    path(
        "status/<slug:slug>/schools/<int:school_id>/feed.atom",
        comms_views.status_school_feed,
        name="status-school-feed",
    ),
    path("status/<slug:slug>/status.json", comms_views.status_json, name="status-json"),
    path("status/<slug:slug>/language/", comms_views.status_language, name="status-language"),
    path("status/<slug:slug>/subscribe/", subscription_views.subscribe, name="status-subscribe"),
    path(
        "status/<slug:slug>/subscribe/code/",
        subscription_views.confirm_code,
        name="status-confirm-code",
    ),
    path(
        "status/<slug:slug>/subscribe/confirm/<str:token>/",
        subscription_views.confirm_link,
        name="status-confirm",
    ),
    path(
        "status/<slug:slug>/unsubscribe/<str:token>/",
        subscription_views.unsubscribe,
        name="status-unsubscribe",
    ),
    path("hooks/twilio/status/", subscription_views.twilio_status, name="twilio-status"),
    path("admin/", admin.site.urls),
]

handler400 = "console.views.incidents.bad_request"
handler403 = "console.views.incidents.permission_denied"
handler404 = "console.views.incidents.page_not_found"
handler500 = "console.views.incidents.server_error"
