from django.contrib import admin

from comms.models import EngineHeartbeat


@admin.register(EngineHeartbeat)
class EngineHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at"]
