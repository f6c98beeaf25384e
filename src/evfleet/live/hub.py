"""In-process fan-out of live updates to WebSocket subscribers, per organisation.

Publishers (request threads, the MQTT feed thread) call :meth:`LiveHub.publish` with a
JSON-ready message; every subscriber of that organisation whose filter accepts it gets the
encoded text, handed to its own event loop. Positions and ETAs are *conflated*: a
subscriber holds at most one ``vehicle`` push per van and one ``eta`` push per route, the
newest, so a burst (a broker replaying its queue, a slow browser) costs memory per van,
not per fix, and the map shows where the vans are now. Other pushes (stop changes,
events) are kept in order; a subscriber that falls
:attr:`LiveHub.queue_size` of them behind is marked ``overflowed`` and gets no more (its
WebSocket handler closes the connection, and the client reconnects from a snapshot).
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LiveHub", "Subscription"]


@dataclass(eq=False)
class Subscription:
    """One subscriber: its loop, its pending pushes and its filter."""

    organisation_id: uuid.UUID
    loop: asyncio.AbstractEventLoop
    accept: Callable[[Mapping[str, Any]], bool]
    limit: int
    overflowed: bool = False
    latest: dict[str, str] = field(default_factory=dict)
    """The newest conflated push (per van, per route's ETAs) not yet sent."""
    others: deque[str] = field(default_factory=deque)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def _put(self, key: str | None, text: str) -> None:
        if self.overflowed:
            return
        if key is not None:
            self.latest.pop(key, None)  # keep arrival order: newest last
            self.latest[key] = text
        elif len(self.others) >= self.limit:
            self.overflowed = True
            self.others.clear()
            self.latest.clear()
        else:
            self.others.append(text)
        self.ready.set()

    async def take(self) -> list[str]:
        """Waits for pushes and returns them all (empty once overflowed)."""
        await self.ready.wait()
        self.ready.clear()
        if self.overflowed:
            return []
        out = list(self.others)
        out += self.latest.values()
        self.others.clear()
        self.latest.clear()
        return out


class LiveHub:
    """Subscribers per organisation; thread-safe :meth:`publish`."""

    def __init__(self, queue_size: int = 10_000) -> None:
        self.queue_size = queue_size
        self._subscriptions: dict[uuid.UUID, set[Subscription]] = {}
        self._lock = threading.Lock()

    def subscribe(
        self,
        organisation_id: uuid.UUID,
        accept: Callable[[Mapping[str, Any]], bool] | None = None,
    ) -> Subscription:
        """A new subscription on the running event loop (call from a coroutine)."""
        sub = Subscription(
            organisation_id,
            asyncio.get_running_loop(),
            accept or (lambda _message: True),
            self.queue_size,
        )
        with self._lock:
            self._subscriptions.setdefault(organisation_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stops deliveries to ``sub``."""
        with self._lock:
            subs = self._subscriptions.get(sub.organisation_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subscriptions[sub.organisation_id]

    def subscribers(self, organisation_id: uuid.UUID) -> int:
        """How many subscribers ``organisation_id`` has."""
        with self._lock:
            return len(self._subscriptions.get(organisation_id, ()))

    def publish(self, organisation_id: uuid.UUID, message: Mapping[str, Any]) -> int:
        """Sends ``message`` to the organisation's subscribers that accept it; how many."""
        with self._lock:
            subs = list(self._subscriptions.get(organisation_id, ()))
        if not subs:
            return 0
        kind = message.get("type")
        key = (
            f"vehicle:{message['vehicle_id']}"
            if kind == "vehicle"
            else f"eta:{message['route_id']}"
            if kind == "eta"
            else None
        )
        text: str | None = None
        sent = 0
        for sub in subs:
            if sub.overflowed or not sub.accept(message):
                continue
            if text is None:
                text = json.dumps(message, separators=(",", ":"), default=str)
            try:
                sub.loop.call_soon_threadsafe(sub._put, key, text)
            except RuntimeError:  # the subscriber's loop is closed: it is gone
                self.unsubscribe(sub)
                continue
            sent += 1
        return sent
