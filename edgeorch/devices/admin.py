from django.contrib import admin

from .models import Device, EnrollmentToken


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "status", "last_seen", "hostname", "agent_version", "profile"]
    list_filter = ["status", "role"]
    search_fields = ["name", "hostname"]
    readonly_fields = ["id", "credential_hash", "channel_name", "last_seq", "dropped_records"]


@admin.register(EnrollmentToken)
class EnrollmentTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "uses", "max_uses", "expires_at", "revoked"]
    readonly_fields = ["token_hash", "prefix", "uses"]
