from django.contrib import admin

from .models import TelemetryRecord, TelemetryRollup


@admin.register(TelemetryRecord)
class TelemetryRecordAdmin(admin.ModelAdmin):
    list_display = ["device", "seq", "ts", "received_at"]
    list_filter = ["device"]
    list_select_related = ["device"]


@admin.register(TelemetryRollup)
class TelemetryRollupAdmin(admin.ModelAdmin):
    list_display = ["device", "bucket", "samples"]
    list_select_related = ["device"]
