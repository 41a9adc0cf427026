from django.urls import path

from comms import views

app_name = "comms"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("legal/", views.legal_dashboard, name="legal"),
    path("inbox/", views.inbox, name="inbox"),
    path("incidents/<int:incident_id>/updates/", views.update_record, name="update-record"),
    path("incidents/<int:incident_id>/cadence/", views.cadence_change, name="cadence-change"),
]
