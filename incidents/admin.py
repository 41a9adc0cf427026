from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from incidents import duties, events
from incidents.models import (
    District,
    Incident,
    IncidentRole,
    RoleGrant,
    School,
    System,
    TimelineEntry,
    User,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records of what happened: they change only through the console's services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SchoolInline(admin.TabularInline):
    model = School
    extra = 0


class SystemInline(admin.TabularInline):
    model = System
    extra = 0


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [SchoolInline, SystemInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            duties.district_set_up(district=obj)


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    extra = 0


@admin.register(User)
class ConsoleUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "district", "is_active"]
    list_filter = ["district", "role_grants__role", "is_active"]
    fieldsets = [
        *UserAdmin.fieldsets,
        ("District", {"fields": ["district", "schools"]}),
    ]
    filter_horizontal = ["schools", "groups", "user_permissions"]
    inlines = [RoleGrantInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:
            # Roles or activity may have changed: open sockets reconnect and are checked
            # again, so a removed role stops receiving within seconds.
            events.access_changed_on_commit(form.instance.pk)


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["title", "district", "status", "severity", "is_exercise", "declared_at"]
    list_filter = ["district", "status", "is_exercise"]
    # Incidents change only through the console's services, which write the timeline.
    readonly_fields = [f.name for f in Incident._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(IncidentRole)
class IncidentRoleAdmin(admin.ModelAdmin):
    list_display = ["incident", "function", "user", "assigned_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(TimelineEntry)
class TimelineEntryAdmin(admin.ModelAdmin):
    list_display = ["incident", "sequence", "at", "kind", "summary", "actor"]
    list_filter = ["kind"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
