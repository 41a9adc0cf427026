"""Admin: policy and templates are editable; records of what happened are read-only, since
they change only through the console's services, which write the timeline."""

from django.contrib import admin

from comms.models import (
    AudienceClock,
    CadenceDefault,
    CommsPolicy,
    Deadline,
    Dispatch,
    Draft,
    EngineHeartbeat,
    FactSheetRevision,
    MessageTemplate,
    NoticeClock,
    Notification,
    PublishedUpdate,
)
from incidents.admin import ReadOnlyAdmin


@admin.register(CommsPolicy)
class CommsPolicyAdmin(admin.ModelAdmin):
    list_display = ["district", "student_data_needs_legal"]


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["district", "kind", "audience", "pre_reviewed_by_legal", "updated_at"]
    list_filter = ["district", "audience"]
    readonly_fields = ["pre_reviewed_by_legal", "reviewed_by"]


@admin.register(CadenceDefault)
class CadenceDefaultAdmin(admin.ModelAdmin):
    list_display = ["district", "audience", "phase", "interval_minutes"]


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["incident", "kind", "subject", "generation", "due_at", "status", "fired_at"]
    list_filter = ["status", "kind"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "channel", "subject", "status", "attempts", "created_at"]
    list_filter = ["status", "channel"]


@admin.register(Dispatch)
class DispatchAdmin(ReadOnlyAdmin):
    list_display = ["update", "channel", "destination", "status", "attempts"]


@admin.register(EngineHeartbeat)
class EngineHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "beat_at"]


for model in (AudienceClock, PublishedUpdate, FactSheetRevision, Draft, NoticeClock):
    admin.site.register(model, ReadOnlyAdmin)
