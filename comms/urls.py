from django.urls import path

from comms import views

app_name = "comms"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("legal/", views.legal_dashboard, name="legal"),
]
