"""The dashboard websocket: logged-in users subscribe to topics and get the matching events as JSON.

Every socket joins the ``dashboard`` group (low-rate events and batched telemetry) and filters here by its
topics; a ``session:<id>`` subscription also joins that session's own group for its per-frame events, and a
``users`` subscription the group that gets every session's (the Users page). The
socket only ever reads: what a user may change goes through the REST API and its permissions.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from edgeorch import events

CLOSE_NOT_LOGGED_IN = 4001
CLOSE_FOREIGN_ORIGIN = 4003
MAX_TOPICS = 50
TOPIC = re.compile(r"^(fleet|runs|alerts|users|device:[0-9a-f-]{36}|session:[0-9a-f-]{36}|job:\d{1,18})$")


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    topics: set[str]

    async def connect(self):
        self.topics = set()
        await self.accept()  # accept first, so that the close code reaches the browser
        user = self.scope.get("user")
        if not (user and user.is_authenticated):
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        if not same_origin(self.scope):
            # Another site's page must not read a logged-in user's fleet through their session cookie.
            await self.close(code=CLOSE_FOREIGN_ORIGIN)
            return
        await self.channel_layer.group_add(events.GROUP, self.channel_name)

    async def disconnect(self, code):
        await self.channel_layer.group_discard(events.GROUP, self.channel_name)
        for topic in getattr(self, "topics", ()):
            if events.has_own_group(topic):
                await self.channel_layer.group_discard(events.object_group(topic), self.channel_name)

    async def receive_json(self, content, **kwargs):
        wanted = content.get("subscribe") if isinstance(content, dict) else None
        if not isinstance(wanted, list) or not all(isinstance(t, str) and TOPIC.match(t) for t in wanted):
            await self.send_json(
                {"error": 'send {"subscribe": ["fleet" | "runs" | "alerts" | "users" | "device:<id>" | ...]}'}
            )
            return
        for topic in set(wanted[: MAX_TOPICS - len(self.topics)]) - self.topics:
            self.topics.add(topic)
            if events.has_own_group(topic):
                await self.channel_layer.group_add(events.object_group(topic), self.channel_name)
        await self.send_json({"subscribed": sorted(self.topics)})

    async def dashboard_event(self, message):
        event = forward(message["event"], self.topics)
        if event is not None:
            await self.send_json(event)


def same_origin(scope) -> bool:
    """The browser's Origin (if it sent one) names the host it connected to."""
    headers = dict(scope.get("headers", []))
    origin = headers.get(b"origin", b"").decode("latin-1")
    if not origin:
        return True
    return urlsplit(origin).netloc == headers.get(b"host", b"").decode("latin-1")


def forward(event: dict, topics: set[str]) -> dict | None:
    """What of ``event`` a socket subscribed to ``topics`` gets: nothing, all of it, or its own devices."""
    if not topics.intersection(event["topics"]):
        return None
    if event["kind"] != "telemetry" or "fleet" in topics:
        return event
    samples = [s for s in event["data"]["samples"] if f"device:{s['device']}" in topics]
    data = {**event["data"], "samples": samples}
    return {**event, "topics": [f"device:{s['device']}" for s in samples], "data": data}
