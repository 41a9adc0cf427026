from django.contrib import admin

from signin.models import DistrictIdentityProvider, SecurityEvent


@admin.register(DistrictIdentityProvider)
class DistrictIdentityProviderAdmin(admin.ModelAdmin):
    list_display = ["district", "provider", "allowed_domains", "enabled"]
    list_filter = ["provider", "enabled"]
    fields = ["district", "provider", "client_id", "secret", "tenant", "allowed_domains", "enabled"]


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """The sign-in record: read-only, so the audit trail cannot be edited from the admin."""

    list_display = ["at", "kind", "identifier", "user", "district", "method", "address"]
    list_filter = ["kind", "district", "method"]
    search_fields = ["identifier", "user__username", "address"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
