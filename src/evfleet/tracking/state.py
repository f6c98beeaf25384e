"""Latest known state per vehicle, from telemetry that may arrive duplicated or out of order.

MQTT QoS 1 delivers at least once, and HTTP clients retry: the same message can come twice,
and a late message can overtake nothing or be overtaken. :class:`StateStore` turns that into
an exactly-once, monotone view:

* **duplicate**: a ``seq`` already seen for the vehicle (within the last ``dedupe_window``
  sequence numbers) is ignored;
* **late**: a message older than the latest state (a lower ``seq``, or a higher ``seq`` with
  an earlier fix time) does not overwrite it; it is reported (it is still valid history for
  storage);
* **future**: a fix time more than ``max_future_s`` after the receive time is ignored (a bad
  device clock would otherwise freeze the state);
* **restart**: a lower ``seq`` whose fix time is more than ``restart_gap_s`` after the latest
  state is taken as a device restart (its counter began again): accepted, and the duplicate
  window starts afresh.

Accepted messages update the position and every signal they carry; a signal a message leaves
out keeps its last value, except the speed (an instantaneous value: ``None`` when absent).
Times are POSIX seconds (UTC).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from evfleet.network.base import LatLon
from evfleet.telemetry import TelemetryMessage

__all__ = ["Applied", "Outcome", "StateStore", "VehicleState"]


class Outcome(StrEnum):
    """What :meth:`StateStore.apply` did with a message."""

    ACCEPTED = "accepted"
    RESTART = "restart"
    DUPLICATE = "duplicate"
    LATE = "late"
    FUTURE = "future"

    @property
    def accepted(self) -> bool:
        """Whether the message updated the state."""
        return self in (Outcome.ACCEPTED, Outcome.RESTART)


@dataclass(frozen=True)
class VehicleState:
    """The latest state of one vehicle, merged from its accepted messages.

    ``seq`` and ``timestamp`` are those of the newest accepted message (its fix);
    ``position`` in WGS 84 degrees, ``speed_m_per_s`` in m/s, ``odometer_m`` and ``range_m``
    in m, ``soc_pct`` in %, ``air_temperature_c`` in °C; ``None`` when never reported.
    ``soc_time_s`` is when the SoC was last reported (POSIX s). ``accepted`` counts the
    messages merged.
    """

    vehicle_id: str
    seq: int
    timestamp: datetime
    position: LatLon
    heading_deg: float | None
    speed_m_per_s: float | None
    odometer_m: int | None
    soc_pct: float | None
    soc_time_s: float | None
    range_m: int | None
    is_charging: bool | None
    air_temperature_c: float | None
    accepted: int = 1

    @property
    def time_s(self) -> float:
        """The fix time as POSIX seconds."""
        return self.timestamp.timestamp()

    @classmethod
    def first(cls, m: TelemetryMessage) -> VehicleState:
        return cls(
            vehicle_id=m.vehicle_id,
            seq=m.seq,
            timestamp=m.timestamp,
            position=LatLon(m.latitude_deg, m.longitude_deg),
            heading_deg=m.heading_deg,
            speed_m_per_s=m.speed_m_per_s,
            odometer_m=m.odometer_m,
            soc_pct=m.soc_pct,
            soc_time_s=None if m.soc_pct is None else m.time_s,
            range_m=m.range_m,
            is_charging=m.is_charging,
            air_temperature_c=m.air_temperature_c,
        )

    def merged(self, m: TelemetryMessage) -> VehicleState:
        """This state updated by the newer message ``m``."""
        return replace(
            self,
            seq=m.seq,
            timestamp=m.timestamp,
            position=LatLon(m.latitude_deg, m.longitude_deg),
            heading_deg=m.heading_deg if m.heading_deg is not None else self.heading_deg,
            speed_m_per_s=m.speed_m_per_s if m.speed_m_per_s is not None else None,
            odometer_m=m.odometer_m if m.odometer_m is not None else self.odometer_m,
            soc_pct=m.soc_pct if m.soc_pct is not None else self.soc_pct,
            soc_time_s=m.time_s if m.soc_pct is not None else self.soc_time_s,
            range_m=m.range_m if m.range_m is not None else self.range_m,
            is_charging=m.is_charging if m.is_charging is not None else self.is_charging,
            air_temperature_c=(
                m.air_temperature_c if m.air_temperature_c is not None else self.air_temperature_c
            ),
            accepted=self.accepted + 1,
        )


@dataclass(frozen=True)
class Applied:
    """The result of one :meth:`StateStore.apply`: the outcome, a reason when the message was
    ignored or restarted the sequence, and the vehicle's state afterwards."""

    message: TelemetryMessage
    outcome: Outcome
    state: VehicleState | None
    reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome.accepted


class _Book:
    """Per-vehicle bookkeeping: the state and the recently seen sequence numbers."""

    __slots__ = ("seen", "state")

    def __init__(self, state: VehicleState) -> None:
        self.state = state
        self.seen: set[int] = {state.seq}


class StateStore:
    """Latest :class:`VehicleState` per vehicle (see the module docstring for the rules).

    ``dedupe_window`` is how many sequence numbers below the latest are remembered for
    duplicate detection (older ones count as late); ``restart_gap_s`` and ``max_future_s``
    are in s.
    """

    def __init__(
        self,
        *,
        dedupe_window: int = 4096,
        restart_gap_s: float = 600.0,
        max_future_s: float = 300.0,
    ) -> None:
        if dedupe_window < 1:
            raise ValueError("dedupe_window must be >= 1")
        self.dedupe_window = dedupe_window
        self.restart_gap_s = restart_gap_s
        self.max_future_s = max_future_s
        self._books: dict[str, _Book] = {}

    def get(self, vehicle_id: str) -> VehicleState | None:
        """The latest state of ``vehicle_id``, ``None`` before its first accepted message."""
        book = self._books.get(vehicle_id)
        return None if book is None else book.state

    def __iter__(self) -> Iterator[VehicleState]:
        return (b.state for b in self._books.values())

    def __len__(self) -> int:
        return len(self._books)

    def apply(self, message: TelemetryMessage, received_at: datetime | None = None) -> Applied:
        """Merges ``message`` when it is newer than the vehicle's state; says what happened.

        ``received_at`` (timezone-aware) enables the future-timestamp check.
        """
        if received_at is not None:
            ahead = (message.timestamp - received_at).total_seconds()
            if ahead > self.max_future_s:
                book = self._books.get(message.vehicle_id)
                return Applied(
                    message,
                    Outcome.FUTURE,
                    None if book is None else book.state,
                    f"fix time is {ahead:.0f} s after it was received",
                )
        book = self._books.get(message.vehicle_id)
        if book is None:
            state = VehicleState.first(message)
            self._books[message.vehicle_id] = _Book(state)
            return Applied(message, Outcome.ACCEPTED, state)
        latest = book.state
        if message.seq in book.seen:
            return Applied(message, Outcome.DUPLICATE, latest, f"seq {message.seq} already seen")
        gap = message.time_s - latest.time_s
        if message.seq < latest.seq:
            if gap > self.restart_gap_s:
                book.state = latest.merged(message)
                book.seen = {message.seq}
                return Applied(
                    message,
                    Outcome.RESTART,
                    book.state,
                    f"seq went back from {latest.seq} to {message.seq} with a fix {gap:.0f} s "
                    "newer: device restart",
                )
            self._remember(book, message.seq)
            return Applied(
                message, Outcome.LATE, latest, f"seq {message.seq} is older than {latest.seq}"
            )
        if gap < 0:
            self._remember(book, message.seq)
            return Applied(
                message,
                Outcome.LATE,
                latest,
                f"fix time is {-gap:.1f} s older than the latest state's",
            )
        book.state = latest.merged(message)
        self._remember(book, message.seq)
        return Applied(message, Outcome.ACCEPTED, book.state)

    def _remember(self, book: _Book, seq: int) -> None:
        book.seen.add(seq)
        if len(book.seen) > 2 * self.dedupe_window:
            floor = book.state.seq - self.dedupe_window
            book.seen = {s for s in book.seen if s >= floor}
