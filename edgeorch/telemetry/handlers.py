"""The telemetry an agent sends over its websocket (registered with the gateway when the app is ready)."""

from __future__ import annotations

from edgeorch_wire import protocol as p

from edgeorch.gateway.registry import Refusal, handles

from .ingest import get_ingestor
from .services import BatchRefused


@handles(p.Telemetry)
async def telemetry(device_pk, message: p.Telemetry) -> p.Ack:
    """Store through the process-wide ingestor (many agents share few transactions); acknowledge what was
    stored, so that the agent forgets it."""
    try:
        result = await get_ingestor().submit(str(device_pk), message)
    except BatchRefused as exc:  # this batch alone (the others of its flush were stored)
        raise Refusal("store_refused", f"telemetry not stored: {exc}") from None
    except Exception:
        # Not acknowledged: the agent keeps the records and sends them again.
        raise Refusal("store_failed", "telemetry could not be stored now; it will be retried") from None
    return p.Ack(seqs=result.seqs, stored=result.stored, duplicates=result.duplicates)
