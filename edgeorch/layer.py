"""The one way sync code (services, views, Celery tasks) sends on the channel layer: ``call``.

``async_to_sync`` outside a server runs each coroutine on a new event loop, and channels-redis keeps its
connections per loop: every send from a Celery worker paid a fresh loop and a fresh Redis connection
(3-5 ms, measured in bench/bench_jobs.py). Here a process keeps one sender loop in a daemon thread for its
whole life (re-created after a fork), so a send costs one Redis round trip.

Sends from one process in one *lane* leave in the order they were made (a lane takes them one at a
time): a job's ``planning`` event can never overtake its ``running`` one, nor a ``deploy`` its ``run``.
Agent commands and dashboard events are separate lanes, so a command never waits behind a group send.

In a server's database thread (a consumer's ``sync_to_async``), the server's own loop and connections are
used instead, as ``async_to_sync`` does there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync

log = logging.getLogger(__name__)

SEND_TIMEOUT_S = 10.0


_turns: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Lock] = {}


async def _in_turn(lane: str, function: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run a lane's sends one at a time per loop: the lock is fair (FIFO), and coroutines handed to a loop
    start in the order they were handed over, so sends leave in the order they were made."""
    key = (asyncio.get_running_loop(), lane)
    turn = _turns.get(key)
    if turn is None:
        turn = _turns[key] = asyncio.Lock()
    async with turn:
        return await function(*args)


class _Sender:
    """A daemon thread running an event loop for the process's sends."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="channel-layer-sender", daemon=True).start()


_sender: _Sender | None = None
_sender_lock = threading.Lock()


def _sender_loop() -> asyncio.AbstractEventLoop:
    global _sender
    with _sender_lock:
        if _sender is None or _sender.pid != os.getpid():  # a forked child has no thread of its parent's
            _sender = _Sender()
        return _sender.loop


def _server_loop() -> asyncio.AbstractEventLoop | None:
    """The server's loop when called from one of its database threads, else None."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is None or getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    return loop


def call(function: Callable[..., Awaitable[Any]], *args: Any, wait: bool = True, lane: str = "events") -> Any:
    """Run ``function(*args)`` (a channel-layer coroutine) from sync code, after every send this process
    made before it in ``lane``.

    ``wait=True`` returns its result (raising its exception); ``wait=False`` returns at once and logs a
    failure — for sends whose failure the caller could not act on (after-commit hooks, dashboard events).
    """
    loop = _server_loop()
    if loop is not None and wait:
        return async_to_sync(_in_turn)(lane, function, *args)
    if loop is not None:
        # Waiting on a server loop that has stopped (a disconnect handled during shutdown) would hang this
        # thread for good, and with it the server's exit: hand the send over and return.
        if not loop.is_running():
            return None
    else:
        loop = _sender_loop()
    future = asyncio.run_coroutine_threadsafe(_in_turn(lane, function, *args), loop)
    if wait:
        return future.result(SEND_TIMEOUT_S)
    future.add_done_callback(_log_failure)
    return None


def _log_failure(future: concurrent.futures.Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("a channel-layer send failed", exc_info=future.exception())
