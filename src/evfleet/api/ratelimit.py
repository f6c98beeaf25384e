"""A sliding-window counter of attempts per key, for limiting logins.

The counts live in the memory of the web process: with one uvicorn worker (``evfleet serve``)
that is every attempt. Behind several web processes each keeps its own count, so the
effective limit is multiplied by their number; a shared store would be the next step.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["SlidingWindowLimiter"]


class SlidingWindowLimiter:
    """At most ``limit`` events per key within any ``window_s`` seconds."""

    def __init__(
        self, limit: int, window_s: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be >= 1 and window_s > 0")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        events = self._events.get(key)
        if events is None:
            return deque()
        while events and events[0] <= now - self.window_s:
            events.popleft()
        if not events:
            del self._events[key]
        return events

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again (0: it may now)."""
        with self._lock:
            now = self._clock()
            events = self._prune(key, now)
            if len(events) < self.limit:
                return 0
            return max(1, math.ceil(events[0] + self.window_s - now))

    def hit(self, key: str) -> None:
        """Records one event for ``key``."""
        with self._lock:
            now = self._clock()
            self._prune(key, now)
            self._events.setdefault(key, deque()).append(now)
            if len(self._events) > 100_000:  # bound memory under a flood of distinct keys
                oldest = next(iter(self._events))
                del self._events[oldest]

    def reset(self, key: str) -> None:
        """Forgets the events of ``key`` (after a successful login)."""
        with self._lock:
            self._events.pop(key, None)
