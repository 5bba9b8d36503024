"""The emulated conditions the control plane changes while agents run: the links to peers (``shape``) and a
background tenant sharing the emulated device (``tenant``)."""

from __future__ import annotations

import asyncio
import logging

from edgeorch_wire.links import LinkSpecError, parse_links
from edgeorch_wire.protocol import Shape, Tenant

from .state import Shared

log = logging.getLogger(__name__)


class Conditions:
    def __init__(self, shared: Shared):
        self.shared = shared

    async def shape(self, message: Shape) -> None:
        try:
            specs = parse_links(message.links, "shape.links")  # no base directory: no CSV files from afar
        except LinkSpecError as exc:
            log.warning("ignoring a shape message: %s", exc)
            return
        self.shared.links.update(specs)
        log.info(
            "emulated links now: %s", ", ".join(f"{p} {'set' if s else 'removed'}" for p, s in specs.items())
        )

    async def tenant(self, message: Tenant) -> None:
        device = self.shared.device
        if device is None:
            log.warning("ignoring a tenant message: this agent emulates no device (run it with --profile)")
            return
        # Off the event loop: stopping the tenant joins its thread.
        await asyncio.to_thread(device.set_background_load, message.share)
        log.info("background load now %.2f", message.share)
