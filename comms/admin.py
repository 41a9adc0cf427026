"""Admin: policy and templates are editable; records of what happened are read-only, since
they change only through the console's services, which write the timeline."""

import csv

from django.contrib import admin
from django.http import HttpResponse
from django.utils import timezone

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
    Subscriber,
)
from incidents.admin import ReadOnlyAdmin
from incidents.text import spreadsheet_safe


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


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    """Families subscribed on the public status page. The district can export them and
    delete them; nobody adds or edits one here, since only a confirmation subscribes."""

    list_display = ["address", "channel", "district", "confirmed_at", "created_at"]
    list_filter = ["district", "channel", ("confirmed_at", admin.EmptyFieldListFilter)]
    search_fields = ["address"]
    fields = ["district", "channel", "address", "schools", "created_at", "confirmed_at"]
    readonly_fields = fields
    actions = ["export_csv"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Export the selected subscribers as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="subscribers-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(["district", "channel", "address", "schools", "created_at", "confirmed_at"])
        for row in queryset.select_related("district").prefetch_related("schools"):
            writer.writerow(
                [
                    row.district.slug,
                    row.channel,
                    spreadsheet_safe(row.address),
                    "; ".join(s.name for s in row.schools.all()),
                    row.created_at.isoformat(),
                    row.confirmed_at.isoformat() if row.confirmed_at else "",
                ]
            )
        return response


@admin.register(EngineHeartbeat)
class EngineHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "beat_at"]


for model in (AudienceClock, PublishedUpdate, FactSheetRevision, Draft, NoticeClock):
    admin.site.register(model, ReadOnlyAdmin)
