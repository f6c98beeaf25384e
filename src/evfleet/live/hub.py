"""In-process fan-out of live updates to WebSocket subscribers, per organisation.

Publishers (request threads, the MQTT feed thread) call :meth:`LiveHub.publish` with a
JSON-ready message; every subscriber of that organisation whose filter accepts it gets the
encoded text on its own bounded :class:`asyncio.Queue`, on its own event loop. A subscriber
that falls :attr:`LiveHub.queue_size` messages behind is marked ``overflowed`` and gets no
more (its WebSocket handler closes the connection, and the client reconnects and starts
again from a snapshot): a slow browser never holds up the others.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LiveHub", "Subscription"]


@dataclass(eq=False)
class Subscription:
    """One subscriber: its loop, queue of encoded messages and filter."""

    organisation_id: uuid.UUID
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str]
    accept: Callable[[Mapping[str, Any]], bool]
    overflowed: bool = field(default=False)

    def _put(self, text: str) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            # Drop what is queued and leave an empty text: the reader wakes, sees the
            # overflow and closes the connection.
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait("")


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
            asyncio.Queue(self.queue_size),
            accept or (lambda _message: True),
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
        text: str | None = None
        sent = 0
        for sub in subs:
            if sub.overflowed or not sub.accept(message):
                continue
            if text is None:
                text = json.dumps(message, separators=(",", ":"), default=str)
            try:
                sub.loop.call_soon_threadsafe(sub._put, text)
            except RuntimeError:  # the subscriber's loop is closed: it is gone
                self.unsubscribe(sub)
                continue
            sent += 1
        return sent
