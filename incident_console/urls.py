"""URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from comms import views as comms_views
from incidents import health
from incidents import views as incident_views

urlpatterns = [
    path("", incident_views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", incident_views.SignOutView.as_view(), name="logout"),
    path("health/live", health.health_live, name="health-live"),
    path("health/ready", health.health_ready, name="health-ready"),
    path("incidents/", include("incidents.urls")),
    path("comms/", include("comms.urls")),
    path("status/<slug:slug>/", comms_views.status_page, name="status-page"),
    path("admin/", admin.site.urls),
]

handler400 = "incidents.views.bad_request"
handler403 = "incidents.views.permission_denied"
handler404 = "incidents.views.page_not_found"
