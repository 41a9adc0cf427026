"""Websocket routes."""

from django.urls import path

from console.consumers import DistrictConsumer, IncidentConsumer

websocket_urlpatterns = [
    path("ws/incidents/<int:incident_id>/", IncidentConsumer.as_asgi()),
    path("ws/district/", DistrictConsumer.as_asgi()),
]
