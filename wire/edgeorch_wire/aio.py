"""asyncio helpers shared by the agent and the control plane."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float | None) -> T:
    """``await awaitable``, raising ``TimeoutError`` after ``seconds`` (None: no limit; 0 or less: only if it
    is not done at once) and cancelling it then: ``asyncio.wait_for``'s job, in the caller's task.

    Not ``wait_for``: Python 3.11's returns the awaitable's result when the waiting task is cancelled in the
    same loop turn as the awaitable completes, swallowing the cancel. A task cancelled so goes on as if it
    never was: the agent's telemetry sender, cancelled as the sampler woke it, waited for a wake that never
    came, and the agent never stopped after the server closed (test_agent_control_probe hung 1 run in 25 on
    a loaded host). ``asyncio.timeout`` counts cancels (``Task.uncancel``) and lets the outer one through;
    it also spares ``wait_for``'s extra task per call (3.11 wraps a coroutine in one).
    """
    async with asyncio.timeout(seconds):
        return await awaitable
