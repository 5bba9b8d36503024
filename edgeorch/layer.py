"""The one way sync code (services, views, Celery tasks) sends on the channel layer: ``call``.

Event loops (and so channels-redis's per-loop connections) live as long as their thread, instead of one new
loop and connection per ``async_to_sync`` call:

- a send the caller waits for (an agent command) runs on the calling thread's own loop, with no hand-over to
  another thread, and sends from one thread leave in the order they were made;
- a send nobody waits for (a dashboard event) goes to the process's sender thread, off the caller's path,
  where such sends leave one at a time in the order they were made.

In a server's database thread (a consumer's ``sync_to_async``), the server's own loop and connections are
used instead, as ``async_to_sync`` does there, with the same order per *lane* (``agents``, ``events``). Why,
with figures: docs/benchmarks.md, "Notes: the channel layer".
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


_local = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop:
    """This thread's own loop (not running: ``call`` runs each waited send to completion on it)."""
    loop = getattr(_local, "loop", None)
    if loop is None or _local.pid != os.getpid():  # a forked child must not share its parent's selector
        loop = _local.loop = asyncio.new_event_loop()
        _local.pid = os.getpid()
    return loop


class _Sender:
    """A daemon thread running an event loop for the process's fire-and-forget sends."""

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
    """The server's loop when called from one of its database threads, else None. asgiref leaves the loop
    in the thread's locals after the call; a closed one (an ``async_to_sync`` that has returned, as tests
    make on the main thread) can run nothing, so it is not a server's."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is None or getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    if loop.is_closed():
        return None
    return loop


def call(function: Callable[..., Awaitable[Any]], *args: Any, wait: bool = True, lane: str = "events") -> Any:
    """Run ``function(*args)`` (a channel-layer coroutine) from sync code.

    ``wait=True`` returns its result (raising its exception); ``wait=False`` returns at once and logs a
    failure — for sends whose failure the caller could not act on (dashboard events).
    """
    loop = _server_loop()
    if loop is None and wait:
        return _thread_loop().run_until_complete(function(*args))
    if loop is None:
        loop = _sender_loop()
    elif wait:
        return async_to_sync(_in_turn)(lane, function, *args)
    elif not loop.is_running():
        # Waiting on a server loop that has stopped (a disconnect handled during shutdown) would hang this
        # thread for good, and with it the server's exit; a send handed to it would never run.
        return None
    asyncio.run_coroutine_threadsafe(_in_turn(lane, function, *args), loop).add_done_callback(_log_failure)
    return None


def drain(lane: str = "events", timeout: float = 5.0) -> None:
    """Wait until every fire-and-forget send this process made on ``lane`` so far has left (for code that
    reads what was published, as tests do). Sends made from a server's own threads are the server's."""
    with _sender_lock:
        sender = _sender if _sender is not None and _sender.pid == os.getpid() else None
    if sender is None:
        return

    async def nothing() -> None:
        return None

    asyncio.run_coroutine_threadsafe(_in_turn(lane, nothing), sender.loop).result(timeout)


def _log_failure(future: concurrent.futures.Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("a channel-layer send failed", exc_info=future.exception())
