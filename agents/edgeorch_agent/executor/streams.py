"""This agent as a stream's source: frames emitted at the session's rate (at most ``max_in_flight`` between
source and end), each awaited until its DONE frame comes back (or ``frame_timeout``), reported in batches
(``stream_report``) and summed up at the end (``stream_done``); ``stream_switch`` reroutes the next frames
(an ``ans`` stream's with ``ans``: to another variant's arms, learned apart), ``stream_stop`` ends the
emitting early.

With ``failover`` (a session whose failover policy is not ``none``) nothing is lost: the source keeps each
frame's input until its answer; a frame that fails or is cut off on its route waits for the control plane's
failover ``stream_switch`` (at most ``frame_timeout``) and is sent again on the new route, once, its record
saying so (``resent``, ``failover_s``); an answer that still comes from the old route is discarded. A frame
whose deadline (``deadline_s``) passed while it waited is not sent again: it fails with ``deadline: ...``.

Every frame carries the session's priority class and its deadline (its start plus ``deadline_s``) to every
stage, whose queue serves the most urgent first and drops a frame that could only be late (``qos``,
docs/qos.md): its record says ``dropped`` and why, and it is not sent again.

The frames come from the stream's ``source`` (``inputs``: a video, a camera, images, pushed frames), each
made the model's input by the ``preprocess`` spec, or without a source are the session's input tensor. The
stream sends min(``frames``, what the source has) frames; a source that cannot give its frames (a bad path,
an undecodable file) or a frame that does not fit the first stage's input fails the session (a stage error
for request -1), after which the frames already sent finish and are reported as usual."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from edgeorch_wire import dynamic, preprocess
from edgeorch_wire.aio import within
from edgeorch_wire.codecs import CodecError
from edgeorch_wire.frames import Done
from edgeorch_wire.protocol import (
    Budget,
    Stalled,
    Stream,
    StreamDone,
    StreamReport,
    StreamStop,
    StreamSwitch,
)

from ..dataplane import AuthError, PeerUnreachable
from ..learning.controller import AnsController, Choice, open_for
from ..runtime import DeployError, StageError, TensorSpec
from . import budget as budgets
from .inputs import FrameSource, InputError, Pushed, TensorFrames, open_source
from .routing import Router
from .sources import Route, Source
from .state import FrameKey, RouteLost, Shared, announce_switch, next_route

log = logging.getLogger(__name__)

STALL_REPEAT_S = 1.0  # a stalled stream asks for a liveness check at most this often
# Request ids of the looks beside local frames (``_look``): from 2^31 up, below 2^32 (a FRAME header's
# request id), so never a frame's; the control plane ignores a stage failure of a stream's request >= 0.
LOOK_FIRST = 2**31


@dataclass
class StreamState:
    message: Stream
    route: Route
    frames_from: FrameSource | None = None  # where the frames come from (kept across a stream_switch)
    prepare: preprocess.Preprocess | None = None
    expect: TensorSpec | None = None  # what each prepared frame must be: the first stage's input
    sent: int = 0
    ok: int = 0
    emitting: int = -1  # the number of the frame being emitted now (-1: none yet)
    batch: list[dict[str, Any]] = field(default_factory=list)
    frames: set[asyncio.Task[None]] = field(default_factory=set)
    inputs: dict[int, np.ndarray] = field(default_factory=dict)  # failover: each frame's input until it ends
    switched: asyncio.Event = field(default_factory=asyncio.Event)  # set (and replaced) at each switch
    stall_quiet_until: float = 0.0  # monotonic: no second ``stalled`` before then
    ans: AnsController | None = None  # an ``ans`` stream: the arm of each frame, learned here
    # ans: each frame in flight's arm, and the controller that chose it (a switch to another variant's arms
    # leaves the frames out on the old ones teaching their own)
    arms: dict[int, tuple[AnsController, Choice]] = field(default_factory=dict)
    learners: dict[str, AnsController] = field(default_factory=dict)  # ans: key -> controller, this stream's
    # ans: a local frame in flight with a look beside it -> its input and deployment; the looks out now
    look_inputs: dict[int, tuple[np.ndarray, str]] = field(default_factory=dict)
    looks: set[asyncio.Task[None]] = field(default_factory=set)
    # dynamic: the configurations (as the rule sees them, and as sent), each frame in flight's choice, and the
    # last queueing each stage reported on a frame's trace (its key: the stage's index)
    options: list[dynamic.Option] = field(default_factory=list)
    configs: list[dict[str, Any]] = field(default_factory=list)
    chosen: dict[int, dict[str, Any]] = field(default_factory=dict)
    queued: dict[str, float] = field(default_factory=dict)

    @property
    def failover(self) -> bool:
        return self.message.failover


class Streams:
    def __init__(
        self,
        shared: Shared,
        source: Source,
        router: Router,
        frame_timeout: float,
        state_dir: Path | None = None,
    ):
        self.shared = shared
        self.state_dir = state_dir  # where learned state is kept across restarts (None: memory only)
        self.source = source
        self.router = router
        self.frame_timeout = frame_timeout
        self.running: dict[str, StreamState] = {}  # session -> its state, for stream_switch
        # session -> the coordinator's budget for it (``budget``; kept from before its stream starts)
        self.budgets: dict[str, budgets.Budget] = {}
        self.looks_sent = 0  # looks beside local frames sent by this agent (their request ids)

    async def stream(self, message: Stream) -> None:
        state = StreamState(message, Route(message.deployment_id, message.first_stage, message.entry))
        try:
            await self.source.check_route(state.route)
            if message.ans is not None:
                state.ans = await self._open_ans(message, message.ans, state.learners)
            if message.dynamic is not None:
                state.options, state.configs = await self._open_dynamic(message, message.dynamic)
            await self._open_frames(state)
        except (StageError, DeployError) as exc:
            await self._close_frames(state)
            await self.router.fail(
                message.deployment_id, message.first_stage, -1, message.session_id, None, str(exc)
            )
            await self.shared.outbox(StreamDone(message.session_id, 0, 0), None)
            return
        emitter = asyncio.create_task(self._emit(state), name=f"stream-{message.session_id}")
        self.shared.emitters[message.session_id] = (message.deployment_id, emitter)
        self.running[message.session_id] = state
        try:
            await asyncio.wait({emitter})  # ends when all frames are out or at stream_stop (a cancel)
            await self._close_frames(state)
            if state.frames:
                await asyncio.wait(state.frames)
        finally:
            for look in list(state.looks):  # looks still out: what they would teach is given up
                look.cancel()
            if state.looks:
                await asyncio.wait(state.looks)
            self.shared.emitters.pop(message.session_id, None)
            self.running.pop(message.session_id, None)
            self.budgets.pop(message.session_id, None)
            emitter.cancel()
            await self._close_frames(state)
        await self._flush(state)
        await self.shared.outbox(StreamDone(message.session_id, state.sent, state.ok), None)

    async def _open_ans(
        self, message: Stream | StreamSwitch, spec: dict[str, Any], learners: dict[str, AnsController]
    ) -> AnsController:
        """The stream's controller for ``spec`` (``learning.controller.open_for``: its state loaded from the
        device when one was kept under its key); each arm's route checked (an edge's entry secret noted for
        its DONE frames)."""
        for arm in spec["arms"]:
            await self.source.check_route(
                Route(message.deployment_id, int(arm["first_stage"]), arm.get("entry"))
            )
        controller = await asyncio.to_thread(open_for, spec, self.state_dir, learners)
        if controller.loaded:
            log.info("session %s: ans state for %s loaded", message.session_id, controller.key)
        return controller

    async def _open_dynamic(
        self, message: Stream | StreamSwitch, spec: dict[str, Any]
    ) -> tuple[list[dynamic.Option], list[dict[str, Any]]]:
        """A dynamic stream's configurations on ``message``'s deployment, as the rule sees them and as sent,
        each one's route checked (an edge's entry secret noted)."""
        options: list[dynamic.Option] = []
        configs: list[dict[str, Any]] = []
        for config in spec["configs"]:
            deployment = config.get("deployment_id") or message.deployment_id
            await self.source.check_route(Route(deployment, int(config["first_stage"]), config.get("entry")))
            configs.append({**config, "deployment_id": deployment})
            options.append(
                dynamic.Option(
                    float(config["accuracy"]),
                    tuple((str(s["stage"]), float(s["compute_s"])) for s in config["stages"]),
                    float(config.get("transfer_s", 0.0)),
                )
            )
        return options, configs

    async def _open_frames(self, state: StreamState) -> None:
        """The stream's frame source, opened, with its preprocessing and the input its frames must fit."""
        message = state.message
        if message.source is None:
            state.frames_from = TensorFrames(await self.source.input(message.input_url))
            return
        if message.preprocess is not None:
            try:
                state.prepare = preprocess.parse(message.preprocess, "stream.preprocess", strict=False)
            except preprocess.PreprocessError as exc:
                raise InputError(str(exc)) from None
        state.expect = self._expected_input(message)
        frames = open_source(message.source, message.session_id)
        state.frames_from = frames
        if isinstance(frames, Pushed):
            self.shared.pushed[message.session_id] = frames
        await frames.open()

    def _expected_input(self, message: Stream) -> TensorSpec | None:
        """The input the prepared frames must be: as the message says, else the local first stage's."""
        given = (message.source or {}).get("input")
        if isinstance(given, dict) and "shape" in given and "dtype" in given:
            try:
                return TensorSpec.from_dict({"name": "input", **given})
            except (TypeError, ValueError, KeyError):
                return None
        deployment = self.shared.deployments.get(message.deployment_id)
        stage = deployment.stages.get(message.first_stage) if deployment else None
        if stage is None or len(stage.spec.inputs) != 1:
            return None
        return stage.spec.inputs[0]

    async def _close_frames(self, state: StreamState) -> None:
        frames = state.frames_from
        if frames is not None:
            if self.shared.pushed.get(state.message.session_id) is frames:
                del self.shared.pushed[state.message.session_id]
            await frames.close()

    async def _next_frame(self, state: StreamState, request_id: int) -> np.ndarray | None:
        """The stream's next frame made the model's input, or None when the source has ended; raises
        ``InputError`` when it cannot be read or does not fit."""
        frames = state.frames_from
        assert frames is not None
        spec = state.prepare

        def prepare(frame: np.ndarray) -> np.ndarray:
            if spec is None:
                return frame
            try:
                return preprocess.apply(spec, frame)
            except preprocess.PreprocessError as exc:
                raise InputError(f"frame {request_id} of {frames.what}: {exc}") from None

        array = await frames.read(prepare)
        if array is not None and state.expect is not None and not isinstance(frames, TensorFrames):
            try:
                state.expect.check(str(array.dtype), array.shape, "the model's")
            except StageError as exc:
                how = f"preprocess {spec.to_dict()}" if spec is not None else "no preprocess spec"
                raise InputError(f"frame {request_id} of {frames.what} ({how}) does not fit: {exc}") from None
        return array

    async def _emit(self, state: StreamState) -> None:
        message = state.message
        loop = asyncio.get_running_loop()
        slots = asyncio.Semaphore(message.max_in_flight)
        begin = loop.time()
        first = message.first_request
        for request_id in range(first, first + message.frames):
            await asyncio.sleep(max(0.0, begin + (request_id - first) / message.rate - loop.time()))
            await slots.acquire()  # pipelining, bounded: at most max_in_flight frames between source and end
            state.emitting = request_id
            try:
                array = await self._next_frame(state, request_id)
            except InputError as exc:
                slots.release()
                route = state.route
                await self.router.fail(
                    route.deployment_id, route.first_stage, -1, message.session_id, None, str(exc)
                )
                return  # the session has failed: no more frames; those in flight finish and are reported
            if array is None:
                slots.release()
                return  # the source has ended: the stream ends with it
            # Read the route per frame: a stream_switch changes it between two frames, never within one.
            route = state.route
            budget = self.budgets.get(message.session_id)  # the coordinator's: allowed edges, their rates
            if budget is not None and budget.deployment_id not in (None, route.deployment_id):
                budget = None  # set for the route before a re-plan: lifted until the next one comes
            refused: str | None = None
            if state.ans is not None:  # ans: this frame's arm, chosen here, among the arms its budget allows
                avoid = frozenset(
                    cut
                    for cut, arm in state.ans.routes.items()
                    if budget is not None
                    and not budget.allows(self._edge(route.deployment_id, int(arm["first_stage"]), arm))
                )
                # A look beside a local frame only without a budget (it would spend the edge's share) and
                # without failover (a resent frame's look would go twice).
                period = None if budget is not None or state.failover else 1.0 / message.rate
                choice = state.ans.choose(array, avoid, period_s=period)
                state.arms[request_id] = (state.ans, choice)
                if choice.look is not None:
                    state.look_inputs[request_id] = (array, route.deployment_id)
                route = Route(route.deployment_id, choice.first_stage, choice.entry)
            elif state.options:  # dynamic: the most accurate configuration that meets its deadline now
                allowed = [
                    i
                    for i, config in enumerate(state.configs)
                    if budget is None
                    or budget.allows(self._edge(config["deployment_id"], int(config["first_stage"]), config))
                ]
                if allowed:  # of the configurations its budget allows now
                    pick, _ = dynamic.choose(
                        [state.options[i] for i in allowed], message.deadline_s, state.queued
                    )
                    config = state.chosen[request_id] = state.configs[allowed[pick]]
                    route = Route(config["deployment_id"], int(config["first_stage"]), config.get("entry"))
                else:
                    refused = "budget: no configuration's edge is within this session's budget now"
            if budget is not None and refused is None:
                edge = self._edge(route.deployment_id, route.first_stage, {"entry": route.entry})
                if not budget.take(edge):
                    refused = budget.why_not(edge)
            if refused is not None:  # over its budget, with no allowed alternative: dropped at the source
                slots.release()
                held = state.arms.pop(request_id, None)
                if held is not None:
                    held[0].finished(held[1])
                    self._then_look(state, request_id, held, False)
                state.batch.append(
                    {
                        "request_id": request_id,
                        "trace": [],
                        "latency_s": 0.0,
                        "ok": False,
                        "error": refused,
                        "dropped": True,
                        "deployment": route.deployment_id,
                        "priority": message.priority,
                        **({"deadline_s": message.deadline_s} if message.deadline_s is not None else {}),
                    }
                )
                if len(state.batch) >= message.report_every:
                    await self._flush(state)
                continue
            key = (route.deployment_id, message.session_id, request_id)
            self.shared.waiters[key] = loop.create_future()
            started = time.time()
            try:
                await self.source.enter(
                    route,
                    request_id,
                    message.session_id,
                    array,
                    priority=message.priority,
                    deadline=_deadline(message, started),
                )
            except (StageError, CodecError, AuthError, PeerUnreachable) as exc:
                if not (state.failover and isinstance(exc, PeerUnreachable)):
                    self.shared.waiters.pop(key)
                    slots.release()
                    held = state.arms.pop(request_id, None)
                    failed = held[1] if held is not None else None
                    served = state.chosen.pop(request_id, None)
                    if held is not None:
                        held[0].finished(held[1])
                        self._then_look(state, request_id, held, False)
                    await self.router.fail(
                        route.deployment_id, route.first_stage, request_id, message.session_id, None, str(exc)
                    )
                    state.batch.append(
                        {
                            "request_id": request_id,
                            "trace": [],
                            "latency_s": time.time() - started,
                            "ok": False,
                            "error": str(exc),
                            **({"arm": failed.cut} if failed is not None else {}),
                            **({"config": served["name"]} if served is not None else {}),
                        }
                    )
                    continue
                # Its first stage's device is unreachable: kept, and sent again on the failover route.
                self.shared.waiters[key].set_exception(RouteLost(f"its first stage was unreachable: {exc}"))
            state.sent += 1
            if state.failover:
                state.inputs[request_id] = array
            frame = asyncio.create_task(self._await_frame(key, started, state, slots))
            state.frames.add(frame)
            frame.add_done_callback(state.frames.discard)

    async def _await_frame(
        self, key: FrameKey, started: float, state: StreamState, slots: asyncio.Semaphore
    ) -> None:
        done: Done | None = None
        resent, failover_s, error = False, 0.0, ""
        try:
            while True:
                waiter = self.shared.waiters[key]
                try:
                    answer, ended = await self._answer(state, key, waiter, time.time())
                    done, error = answer, answer.error or ""
                    done_error = error
                except TimeoutError:
                    done, ended = None, time.time()
                    error = done_error = f"no completion within {self.frame_timeout:.0f}s"
                except RouteLost as exc:
                    done, ended = None, time.time()
                    error = done_error = str(exc)
                finally:
                    self.shared.waiters.pop(key, None)
                if done is not None and (done.ok or done.dropped):
                    break  # answered, or dropped: its deadline could not be met, and cannot be now either
                if not state.failover or resent:
                    break
                # Failover: wait for the control plane's new route, then send the kept input once more.
                waited = time.time()
                route = await next_route(state, key[0], self.frame_timeout)
                failover_s = time.time() - waited
                if route is None:
                    error = f"{done_error}; no failover route within {self.frame_timeout:g} s"
                    done, ended = None, time.time()
                    break
                deadline = state.message.deadline_s
                if deadline is not None and time.time() - started > deadline:
                    # Its answer could only come late: it fails, saying so, and the new route is spared it.
                    error = (
                        f"deadline: {deadline * 1e3:.0f} ms passed during recovery ({done_error}; "
                        f"{failover_s * 1e3:.0f} ms waiting for the failover route)"
                    )
                    done, ended = None, time.time()
                    break
                key = (route.deployment_id, key[1], key[2])
                self.shared.waiters[key] = asyncio.get_running_loop().create_future()
                resent = True
                try:
                    await self.source.enter(
                        route,
                        key[2],
                        key[1],
                        state.inputs[key[2]],
                        priority=state.message.priority,
                        deadline=_deadline(state.message, started),
                    )
                except (StageError, CodecError, AuthError, PeerUnreachable) as exc:
                    self.shared.waiters.pop(key, None)
                    error, done, ended = f"{done_error}; sent again: {exc}", None, time.time()
                    break
        finally:
            slots.release()
            state.inputs.pop(key[2], None)
        ok = done is not None and done.ok
        state.ok += ok
        record: dict[str, Any] = {
            "request_id": key[2],
            "trace": done.trace if done else [],
            "latency_s": ended - started,
            "ok": ok,
            "error": None if ok else error,
            "output": done.output if done is not None and done.ok else None,
            "deployment": key[0],
            "priority": state.message.priority,
        }
        if done is not None and done.dropped:
            record["dropped"] = True
        if state.message.deadline_s is not None:
            record["deadline_s"] = state.message.deadline_s
        held = state.arms.pop(key[2], None)
        if held is not None:
            controller, choice = held
            controller.finished(choice)
            record["arm"] = choice.cut
            if ok and done is not None and not resent:
                controller.observe(choice, done.trace, ended - started, self.shared.device_id)
            elif not resent:  # no answer: the arm took at least this long (censored evidence)
                trace = done.trace if done is not None else []
                controller.observe_unanswered(choice, trace, ended - started, self.shared.device_id)
            self._then_look(state, key[2], held, ok and not resent)
        served = state.chosen.pop(key[2], None)
        if served is not None:
            record["config"] = served["name"]
            if ok:
                record["accuracy"] = float(served["accuracy"])
        if done is not None and state.options:  # the queueing each stage reported: the next choices' view
            for step in done.trace:
                if isinstance(step, dict) and "stage" in step and "queue_s" in step:
                    state.queued[str(step["stage"])] = float(step["queue_s"])
        if resent:
            record.update(resent=True, failover_s=round(failover_s, 6))
        elif failover_s:  # it waited for a failover route and its deadline passed meanwhile
            record["failover_s"] = round(failover_s, 6)
        state.batch.append(record)
        if len(state.batch) >= state.message.report_every:
            await self._flush(state)

    def _then_look(
        self, state: StreamState, request_id: int, held: tuple[AnsController, Choice], send: bool
    ) -> None:
        """After a local frame that carries a look (``Choice.look``): the look sent (``send``: the local
        frame was answered), else given up."""
        controller, choice = held
        kept = state.look_inputs.pop(request_id, None)
        if choice.look is None:
            return
        if not send or kept is None:
            controller.look_dropped(choice.look)
            return
        task = asyncio.create_task(self._look(state, controller, choice.look, *kept))
        state.looks.add(task)
        task.add_done_callback(state.looks.discard)

    async def _look(
        self, state: StreamState, controller: AnsController, look: Choice, array: np.ndarray, deployment: str
    ) -> None:
        """A look beside a local frame: the frame, already answered by the device, sent on ``look``'s arm
        as a request of its own (``LOOK_FIRST`` + n, never reported as a frame); its answer (or none)
        teaches the arm as an offloaded frame's would (docs/learning.md, "Looks beside local frames")."""
        request_id = LOOK_FIRST + self.looks_sent % LOOK_FIRST
        self.looks_sent += 1
        session_id = state.message.session_id
        key = (deployment, session_id, request_id)
        waiter = self.shared.waiters[key] = asyncio.get_running_loop().create_future()
        controller.look_sent(look)
        started = time.time()
        done: Done | None = None
        try:
            await self.source.enter(
                Route(deployment, look.first_stage, look.entry),
                request_id,
                session_id,
                array,
                priority=state.message.priority,
                deadline=_deadline(state.message, started),
            )
            done, ended = await within(waiter, self.frame_timeout)
        except (StageError, CodecError, AuthError, PeerUnreachable, RouteLost):
            return  # not sent, or its route lost: nothing learned
        except TimeoutError:
            ended = time.time()
        finally:
            self.shared.waiters.pop(key, None)
            controller.finished(look)
        if done is not None and done.ok:
            controller.observe(look, done.trace, ended - started, self.shared.device_id)
        else:  # dropped, failed or unanswered: it took at least this long
            trace = done.trace if done is not None else []
            controller.observe_unanswered(look, trace, ended - started, self.shared.device_id)

    async def _answer(
        self, state: StreamState, key: FrameKey, waiter: asyncio.Future[tuple[Done, float]], since: float
    ) -> tuple[Done, float]:
        """The frame's answer within ``frame_timeout``. A failover stream's frame still unanswered after its
        budget (``stall_s``) makes the source send ``stalled`` once, so that the control plane checks that
        the route's devices are alive (a frozen device closes no socket), and goes on waiting."""
        budget = state.message.stall_s
        if not state.failover or budget is None:
            return await within(waiter, self.frame_timeout)
        # asyncio.wait, not wait_for: running out of budget must not cancel the future still awaited.
        done, _ = await asyncio.wait({waiter}, timeout=max(0.0, since + budget - time.time()))
        if not done:
            now = time.monotonic()
            if now >= state.stall_quiet_until:
                state.stall_quiet_until = now + max(STALL_REPEAT_S, budget)
                waited = time.time() - since
                await self.shared.outbox(Stalled(key[1], key[0], key[2], round(waited, 6)), None)
            return await within(waiter, max(0.0, since + self.frame_timeout - time.time()))
        return waiter.result()

    async def _flush(self, state: StreamState) -> None:
        if state.batch:
            frames, state.batch = state.batch, []
            arms, learned_on = None, None
            if state.ans is not None:  # what it has learned so far, kept on the device and reported
                arms, learned_on = state.ans.report(), state.route.deployment_id
                for controller in list(state.learners.values()):
                    await asyncio.to_thread(controller.save)
            report = StreamReport(state.message.session_id, frames, arms=arms, arms_deployment=learned_on)
            await self.shared.outbox(report, None)

    async def switch(self, message: StreamSwitch) -> None:
        """Route the stream's next frames to another deployment; frames already sent finish where they are."""
        state = self.running.get(message.session_id)
        if state is None:
            log.info(
                "ignoring stream_switch %s: session %s is not streaming here",
                message.switch_id,
                message.session_id,
            )
            return
        route = Route(message.deployment_id, message.first_stage, message.entry, message.switch_id)
        ans = state.ans
        # dynamic: the new deployment's configurations (none: its route alone)
        options: list[dynamic.Option] = []
        configs: list[dict[str, Any]] = []
        try:
            await self.source.check_route(route)
            if message.dynamic is not None:
                options, configs = await self._open_dynamic(message, message.dynamic)
            if message.ans is not None and state.ans is not None:  # another variant's arms: learned apart
                await self._flush(state)  # what was learned on the old arms, reported as theirs
                ans = await self._open_ans(message, message.ans, state.learners)
        except (StageError, DeployError) as exc:
            log.warning("refusing stream_switch %s: %s", message.switch_id, exc)
            return
        state.route, state.ans = route, ans
        state.options, state.configs, state.queued = options, configs, {}
        emitter = self.shared.emitters.get(message.session_id)
        if emitter is not None:
            self.shared.emitters[message.session_id] = (message.deployment_id, emitter[1])
        if message.failover and state.failover:
            # The old route lost a device: the frames still out on it will not come back; they go again.
            self.shared.routes_lost(message.session_id, message.deployment_id, message.switch_id)
        announce_switch(state)
        log.info(
            "session %s now streams to deployment %s (switch %s)",
            message.session_id,
            message.deployment_id,
            message.switch_id,
        )

    def _edge(self, deployment_id: str, first_stage: int, holder: dict[str, Any]) -> str | None:
        """The edge a request entering there goes to first (``budget.edge_of``); ``holder``'s ``entry``."""
        return budgets.edge_of(
            self.shared.deployments, self.shared.device_id, deployment_id, first_stage, holder.get("entry")
        )

    async def budget(self, message: Budget) -> None:
        """The coordinator's budget for a session this agent sources, from its next frame on (kept until the
        stream starts if it has not yet); ``edges`` null: no limit."""
        if message.edges is None:
            self.budgets.pop(message.session_id, None)
        else:
            self.budgets[message.session_id] = budgets.Budget(
                message.budget_id, message.edges, message.deployment_id
            )
        log.info(
            "session %s: budget %s: %s",
            message.session_id,
            message.budget_id,
            "no limit"
            if message.edges is None
            else ", ".join(f"{e['device_id']} {float(e['share']):.0%}" for e in message.edges) or "no edge",
        )

    async def stop(self, message: StreamStop) -> None:
        emitter = self.shared.emitters.get(message.session_id)
        if emitter is not None:
            emitter[1].cancel()  # frames in flight still finish and are reported


def _deadline(message: Stream, started: float) -> float | None:
    """A frame's absolute deadline (Unix seconds): its start plus the session's ``deadline_s``, if any."""
    return None if message.deadline_s is None else started + message.deadline_s
