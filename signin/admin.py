from django.contrib import admin

from incidents.admin import ReadOnlyAdmin
from signin.models import DistrictIdentityProvider, SecurityEvent


@admin.register(DistrictIdentityProvider)
class DistrictIdentityProviderAdmin(admin.ModelAdmin):
    list_display = ["district", "provider", "allowed_domains", "enabled"]
    list_filter = ["provider", "enabled"]
    fields = ["district", "provider", "client_id", "secret", "tenant", "allowed_domains", "enabled"]


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    """The sign-in record: read-only, so the audit trail cannot be edited from the admin."""

    list_display = ["at", "kind", "identifier", "user", "district", "method", "address"]
    list_filter = ["kind", "district", "method"]
    search_fields = ["identifier", "user__username", "address"]
    date_hierarchy = "at"
