from django.contrib import admin

from .models import BlockProfile, LinkSample


@admin.register(BlockProfile)
class BlockProfileAdmin(admin.ModelAdmin):
    list_display = ["model", "device", "measured_at", "source", "runs"]
    list_filter = ["source"]
    list_select_related = ["model", "device"]


@admin.register(LinkSample)
class LinkSampleAdmin(admin.ModelAdmin):
    list_display = ["device_from", "device_to", "bandwidth_bps", "rtt_s", "loss", "measured_at"]
    list_select_related = ["device_from", "device_to"]
