"""Served requests' traces on disk until the control plane has stored them (``report_ack``).

Each trace is appended to its serving session's open batch file (one line of JSON, written as the request
ends, before any report); a report seals the batch (its file is not written again) and names it; the ack of
that name deletes the file. After a reconnect or a restart every file left is read and sent again, so a trace
reaches the control plane even when the agent dies between the request and the report, and at most once in
the database: it stores frames once per (session, request_id). A line torn by a kill is skipped.

Files: ``<directory>/<session_id>.<batch>.jsonl``, ``<batch>`` unique to this process.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class TraceSpool:
    def __init__(self, directory: Path | None):
        self.directory = directory
        self.open: dict[str, tuple[str, int]] = {}  # session -> (its open batch, the file's descriptor)
        self.sealed: set[str] = set()  # batches reported by this process, not acknowledged yet
        self._prefix = f"{time.time_ns():x}-{os.getpid()}"
        self._count = 0
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def add(self, session_id: str, entry: dict[str, Any]) -> None:
        if self.directory is None:
            return
        batch, fd = self.open.get(session_id) or self._start(session_id)
        try:
            os.write(fd, json.dumps(entry, separators=(",", ":")).encode() + b"\n")
        except (OSError, TypeError, ValueError) as exc:  # a full disk loses this trace, not the request
            log.warning("cannot spool a trace of session %s: %s", session_id, exc)

    def _start(self, session_id: str) -> tuple[str, int]:
        assert self.directory is not None
        self._count += 1
        batch = f"{self._prefix}-{self._count}"
        fd = os.open(self._path(session_id, batch), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.open[session_id] = (batch, fd)
        return batch, fd

    def seal(self, session_id: str) -> str | None:
        """Close the session's open batch and return its name (None: nothing spooled)."""
        opened = self.open.pop(session_id, None)
        if opened is None:
            return None
        os.close(opened[1])
        self.sealed.add(opened[0])
        return opened[0]

    def acked(self, session_id: str, batch: str) -> None:
        if self.directory is None or "/" in batch or "/" in session_id:
            return
        self.sealed.discard(batch)
        self._path(session_id, batch).unlink(missing_ok=True)

    def leftovers(self) -> list[tuple[str, str, list[dict[str, Any]]]]:
        """Every sealed batch on disk (this process's unacknowledged ones and any earlier process's):
        (session, batch, frames). Earlier processes' open batches count as sealed: nobody writes them now."""
        if self.directory is None:
            return []
        mine_open = {batch for batch, _ in self.open.values()}
        found = []
        for path in sorted(self.directory.glob("*.jsonl")):
            session_id, _, batch = path.stem.partition(".")
            if not batch or batch in mine_open:
                continue
            frames = []
            for line in path.read_bytes().splitlines():
                try:
                    frame = json.loads(line)
                except ValueError:
                    continue  # torn by a kill mid-write
                if isinstance(frame, dict):
                    frames.append(frame)
            if frames:
                found.append((session_id, batch, frames))
            else:
                path.unlink(missing_ok=True)
        return found

    def _path(self, session_id: str, batch: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{session_id}.{batch}.jsonl"

    def close(self) -> None:
        for _, fd in self.open.values():
            os.close(fd)
        self.open.clear()
