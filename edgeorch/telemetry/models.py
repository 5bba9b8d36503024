"""Telemetry: what agents measure about their devices, raw and rolled up."""

from django.db import models


class TelemetryRecord(models.Model):
    """All of one device's metrics at one instant, as the agent sampled them.

    ``(device, seq)`` is unique: an agent resends what was not acknowledged, and the duplicates are dropped,
    so a record is stored exactly once. Metrics absent from ``metrics`` were not measured (no sensor).
    """

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="telemetry")
    seq = models.BigIntegerField()
    ts = models.DateTimeField(help_text="When the agent sampled it (agent clock)")
    received_at = models.DateTimeField(help_text="When the control plane stored it")
    metrics = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "seq"], name="telemetry_unique_device_seq")]
        indexes = [models.Index(fields=["device", "ts"])]
        ordering = ["device", "seq"]

    def __str__(self) -> str:
        return f"{self.device_id} #{self.seq}"


class TelemetryRollup(models.Model):
    """One minute of one device's telemetry: the mean of each metric over ``samples`` raw records.

    Raw records older than the raw retention are folded into these by the roll-up task, then deleted.
    """

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="telemetry_rollups")
    bucket = models.DateTimeField(help_text="Start of the minute")
    samples = models.PositiveIntegerField()
    metrics = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "bucket"], name="rollup_unique_device_bucket")
        ]
        ordering = ["device", "bucket"]

    def __str__(self) -> str:
        return f"{self.device_id} {self.bucket:%Y-%m-%d %H:%M}"


class TelemetryPeak(models.Model):
    """One device's peaks over one 30 s bucket of its raw records: what the fleet page's sparklines draw.

    Kept on PostgreSQL by the same statement that stores the records (``services._PG_INSERT``), so the
    fleet snapshot reads a few small rows per device instead of folding the raw JSON records of its window
    at every load. ``temp`` is the hottest ``temp.*`` sensor (``events.TEMP_MAX``); a metric the bucket's
    records lack stays null. Dropped with the raw records they summarise (``services.roll_up``).
    """

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="telemetry_peaks")
    bucket = models.BigIntegerField(help_text="Start of the bucket, epoch seconds (a multiple of 30)")
    cpu = models.FloatField(null=True, help_text="Highest cpu.percent")
    temp = models.FloatField(null=True, help_text="Highest temp.* of any sensor")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "bucket"], name="peak_unique_device_bucket")]
        ordering = ["device", "bucket"]

    def __str__(self) -> str:
        return f"{self.device_id} @{self.bucket}"
