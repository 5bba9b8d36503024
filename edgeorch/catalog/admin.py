from django.contrib import admin

from .models import CutPoint, MLModel, Segment


@admin.register(MLModel)
class MLModelAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "task", "source", "node_count", "macs", "accuracy", "created_at"]
    list_filter = ["source", "task"]
    search_fields = ["name", "sha256"]
    readonly_fields = ["sha256", "source_sha256", "size_bytes", "opset", "macs", "params", "param_bytes"]


@admin.register(CutPoint)
class CutPointAdmin(admin.ModelAdmin):
    list_display = [
        "model",
        "index",
        "kind",
        "bytes",
        "macs_before",
        "macs_after",
        "fusion_penalty",
        "recommended",
    ]


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["model", "cuts", "index", "sha256", "size_bytes", "created_at"]
