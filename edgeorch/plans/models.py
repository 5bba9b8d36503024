"""What the planner reads about the fleet: measured block times and measured links.

Agents fill these (the execution issue's profiling and probing jobs); the planner only reads the latest rows.
``LinkSample`` belongs in telemetry by the architecture and lives here until that app can take it.
"""

from __future__ import annotations

from django.db import models

from .choices import ProfileSource


class BlockProfile(models.Model):
    """One profiling run of one model on one device: per-block median and 90th-percentile seconds.

    ``median_s[i]`` and ``p90_s[i]`` are block ``i``'s times (``None`` where a block was not timed), with
    block indices as in ``MLModel.blocks``. ``thermal`` is what the device reported at the time (``temp.*``,
    ``cpu.throttle_factor``): a profile measured while throttled is scaled back to full speed before use.
    """

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="block_profiles")
    model = models.ForeignKey("catalog.MLModel", on_delete=models.CASCADE, related_name="block_profiles")
    measured_at = models.DateTimeField()
    median_s = models.JSONField(help_text="Per block: median seconds, or null where not timed")
    p90_s = models.JSONField(help_text="Per block: 90th-percentile seconds, or null where not timed")
    runs = models.PositiveIntegerField(default=0, help_text="Timed runs per block")
    thermal = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=10, choices=ProfileSource.choices, default=ProfileSource.MEASURED)

    class Meta:
        ordering = ["-measured_at"]
        indexes = [models.Index(fields=["device", "model", "-measured_at"])]

    def __str__(self) -> str:
        return f"{self.model} on {self.device} at {self.measured_at:%Y-%m-%d %H:%M}"

    @property
    def complete(self) -> bool:
        """Every block was timed."""
        return all(t is not None for t in self.median_s)


class LinkSample(models.Model):
    """One measurement of the network from ``device_from`` to ``device_to`` (null: the control plane).

    Bandwidth in bits per second (as agents probe it), RTT and jitter in seconds, loss as a fraction.
    """

    device_from = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="links_out")
    device_to = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.CASCADE, related_name="links_in"
    )
    bandwidth_bps = models.FloatField()
    rtt_s = models.FloatField()
    jitter_s = models.FloatField(default=0.0)
    loss = models.FloatField(default=0.0)
    measured_at = models.DateTimeField()

    class Meta:
        ordering = ["-measured_at"]
        indexes = [models.Index(fields=["device_from", "device_to", "-measured_at"])]

    def __str__(self) -> str:
        return (
            f"{self.device_from} -> {self.device_to or 'control plane'}: "
            f"{self.bandwidth_bps / 1e6:.1f} Mbit/s"
        )
