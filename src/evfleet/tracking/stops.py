"""Stop arrival and departure from geofences and dwell time (pure; times in s, distances m).

A van **arrives** at a stop when it has stayed within the stop's fence for at least
``dwell_s`` while slow (speed ≤ ``still_speed_m_per_s``): the dwell clock starts at the
first slow fix within the *enter* radius and keeps running while fixes stay slow within
the larger *exit* radius (hysteresis, so GPS jitter around the edge neither restarts the
clock nor ends the visit). A fast fix, or one outside the exit radius, cancels the
candidate. The arrival time reported is when the dwell began, not when it was confirmed.

It **departs** after ``exit_fixes`` consecutive fixes outside the exit radius (one stray fix
is not a departure), or when it arrives at another stop; the departure time is the last
slow fix within the fence. A dwell is at the nearest pending stop; the pending stops within
``group_radius_m`` of it (several orders in one building) are arrived at and departed from
together. While the van is parked at a stop, another stop only becomes a candidate once the
van is nearer to it (jitter does not hop between neighbours).

Status goes ``pending → arrived → departed``; a client becomes ``delivered`` on departure
(unless ``delivered_on_departure`` is off) or by :meth:`StopTracker.confirm_delivery`
(proof of delivery from the driver's app). A stop is arrived at once: later visits are
ignored.

The depot return is the route's last stop; it only counts after the van has left the depot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from evfleet.network.base import LatLon
from evfleet.tracking.geo import distance_m
from evfleet.tracking.plan import PlannedRoute, PlannedStop, StopKind

__all__ = ["GeofenceSettings", "StopChange", "StopStatus", "StopTracker", "StopVisit"]


class StopStatus(StrEnum):
    PENDING = "pending"
    ARRIVED = "arrived"
    DEPARTED = "departed"
    DELIVERED = "delivered"

    @property
    def done(self) -> bool:
        """Whether the van has been and gone (departed or delivered)."""
        return self in (StopStatus.DEPARTED, StopStatus.DELIVERED)


@dataclass(frozen=True)
class GeofenceSettings:
    """Geofence and dwell parameters (m, s, m/s).

    ``radius_m`` is the enter radius, ``radius_by_stop`` overrides it per stop id; the exit
    radius is the enter radius plus ``exit_margin_m``. Pending stops within
    ``group_radius_m`` of the stop a dwell is at (one building) are served in that dwell.
    """

    radius_m: float = 60.0
    exit_margin_m: float = 40.0
    dwell_s: float = 60.0
    still_speed_m_per_s: float = 2.0
    exit_fixes: int = 2
    radius_by_stop: Mapping[str, float] = field(default_factory=dict)
    delivered_on_departure: bool = True
    group_radius_m: float = 25.0

    def __post_init__(self) -> None:
        for name in ("radius_m", "dwell_s", "still_speed_m_per_s", "group_radius_m"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not (math.isfinite(self.exit_margin_m) and self.exit_margin_m >= 0):
            raise ValueError("exit_margin_m must be >= 0 (the exit radius is the larger)")
        if self.exit_fixes < 1:
            raise ValueError("exit_fixes must be >= 1")
        for stop_id, r in self.radius_by_stop.items():
            if not (math.isfinite(r) and r > 0):
                raise ValueError(f"radius for stop {stop_id!r} must be > 0, got {r!r}")

    def enter_m(self, stop_id: str) -> float:
        """Enter radius of ``stop_id``, in m."""
        return self.radius_by_stop.get(stop_id, self.radius_m)

    def exit_m(self, stop_id: str) -> float:
        """Exit radius of ``stop_id``, in m."""
        return self.enter_m(stop_id) + self.exit_margin_m


@dataclass(frozen=True)
class StopVisit:
    """What has happened at one planned stop (times in s, ``None`` until known)."""

    stop: PlannedStop
    status: StopStatus = StopStatus.PENDING
    arrival_s: float | None = None
    departure_s: float | None = None
    delivered_s: float | None = None


@dataclass(frozen=True)
class StopChange:
    """A status change: ``stop`` reached ``status`` at ``time_s`` (the actual event time)."""

    stop: PlannedStop
    status: StopStatus
    time_s: float


class StopTracker:
    """Stop statuses of one route, updated fix by fix (fixes in time order)."""

    def __init__(self, route: PlannedRoute, settings: GeofenceSettings | None = None) -> None:
        self.route = route
        self.settings = settings or GeofenceSettings()
        self._visits: dict[str, StopVisit] = {}
        self._order: list[str] = []
        for s in route.all_stops:
            key = self._key(s)
            self._visits[key] = StopVisit(s)
            self._order.append(key)
        self.left_depot = False
        self.depot_departure_s: float | None = None
        """When the van left the depot (last slow fix there), ``None`` if never seen there."""
        self._depot_last_s: float | None = None
        self._depot_out = 0
        # The visit in progress (arrived stops) and its fence bookkeeping.
        self._current: list[str] = []
        self._last_inside_s = 0.0
        self._last_still_s: float | None = None
        self._out = 0
        # The candidate (slow in a fence, dwell not yet reached).
        self._candidate: list[str] = []
        self._since = 0.0
        self._last: tuple[float, LatLon] | None = None
        self.last_departed: PlannedStop | None = None
        """The stop most recently departed (``None``: none yet, the van comes from the depot)."""
        self.last_departure_s: float | None = None

    @staticmethod
    def _key(stop: PlannedStop) -> str:
        return f"{stop.sequence}:{stop.id}"

    # ------------------------------------------------------------------------ queries

    @property
    def visits(self) -> tuple[StopVisit, ...]:
        """Every stop's visit, in plan order (the depot return last)."""
        return tuple(self._visits[k] for k in self._order)

    def visit(self, stop: PlannedStop) -> StopVisit:
        return self._visits[self._key(stop)]

    @property
    def current(self) -> tuple[StopVisit, ...]:
        """The stops the van is at now (arrived, not yet departed)."""
        return tuple(self._visits[k] for k in self._current)

    @property
    def remaining(self) -> tuple[PlannedStop, ...]:
        """Stops not yet arrived at, in plan order (the depot return last unless reached)."""
        return tuple(
            self._visits[k].stop
            for k in self._order
            if self._visits[k].status is StopStatus.PENDING
        )

    @property
    def dwelling(self) -> tuple[tuple[PlannedStop, ...], float] | None:
        """The stops the van is dwelling at before the arrival is confirmed, and since when
        (s); ``None`` when it is not dwelling at a pending stop."""
        if not self._candidate:
            return None
        return tuple(self._visits[k].stop for k in self._candidate), self._since

    @property
    def completed(self) -> bool:
        """Whether the van is back at the depot."""
        return self._visits[self._order[-1]].status is not StopStatus.PENDING

    # ------------------------------------------------------------------------ updates

    def _set(self, key: str, **changes: Any) -> StopVisit:
        new = replace(self._visits[key], **changes)
        self._visits[key] = new
        return new

    def _pending_within(self, p: LatLon, exclude: list[str]) -> list[str]:
        found = []
        for key in self._order:
            v = self._visits[key]
            if v.status is not StopStatus.PENDING or key in exclude:
                continue
            if v.stop.kind is StopKind.DEPOT and not self.left_depot:
                continue
            if distance_m(p, v.stop.position) <= self.settings.enter_m(v.stop.id):
                found.append(key)
        return found

    def _group(self, key: str) -> list[str]:
        """``key`` and the pending stops co-located with it (within ``group_radius_m``)."""
        centre = self._visits[key].stop.position
        return [
            k
            for k in self._order
            if k == key
            or (
                self._visits[k].status is StopStatus.PENDING
                and k not in self._current
                and self._visits[k].stop.kind is not StopKind.DEPOT
                and distance_m(centre, self._visits[k].stop.position)
                <= self.settings.group_radius_m
            )
        ]

    def _distance(self, p: LatLon, key: str) -> float:
        return distance_m(p, self._visits[key].stop.position)

    def _inside(self, p: LatLon, keys: list[str]) -> bool:
        return any(
            distance_m(p, self._visits[k].stop.position)
            <= self.settings.exit_m(self._visits[k].stop.id)
            for k in keys
        )

    def _depart(self, time_s: float) -> list[StopChange]:
        changes: list[StopChange] = []
        for key in self._current:
            visit = self._visits[key]
            changes.append(StopChange(visit.stop, StopStatus.DEPARTED, time_s))
            if visit.delivered_s is not None:  # confirmed while there
                self._set(key, status=StopStatus.DELIVERED, departure_s=time_s)
            elif visit.stop.kind is StopKind.CLIENT and self.settings.delivered_on_departure:
                self._set(key, status=StopStatus.DELIVERED, departure_s=time_s, delivered_s=time_s)
                changes.append(StopChange(visit.stop, StopStatus.DELIVERED, time_s))
            else:
                self._set(key, status=StopStatus.DEPARTED, departure_s=time_s)
            self.last_departed = visit.stop
        self.last_departure_s = time_s
        self._current = []
        return changes

    def update(
        self, time_s: float, position: LatLon, speed_m_per_s: float | None = None
    ) -> list[StopChange]:
        """Feeds one fix (time in s, position, speed in m/s; ``None``: implied by the
        previous fix) and returns the status changes it causes, in order."""
        if speed_m_per_s is None:
            speed = 0.0
            if self._last is not None and time_s > self._last[0]:
                speed = distance_m(self._last[1], position) / (time_s - self._last[0])
        else:
            speed = abs(speed_m_per_s)
        self._last = (time_s, position)
        still = speed <= self.settings.still_speed_m_per_s
        changes: list[StopChange] = []
        self._track_depot(time_s, position, still)

        if self._current:
            if self._inside(position, self._current):
                self._last_inside_s = time_s
                self._out = 0
                if still:
                    self._last_still_s = time_s
            else:
                self._out += 1
                if self._out >= self.settings.exit_fixes:
                    leave = self._last_still_s
                    changes += self._depart(self._last_inside_s if leave is None else leave)

        if self._candidate and not (still and self._inside(position, self._candidate)):
            self._candidate = []
        if not self._candidate and still:
            found = self._pending_within(position, self._current)
            if found and self._current:
                # Parked at a stop: a nearby stop only becomes a candidate once the van is
                # nearer to it than to where it is (not through jitter while parked).
                here = min(self._distance(position, k) for k in self._current)
                found = [k for k in found if self._distance(position, k) < here]
            if found:
                nearest = min(found, key=lambda k: self._distance(position, k))
                self._candidate = self._group(nearest)
                self._since = time_s
        if self._candidate and time_s - self._since >= self.settings.dwell_s:
            if self._current:
                leave = self._last_still_s
                changes += self._depart(self._since if leave is None else min(leave, self._since))
            for key in self._candidate:
                visit = self._set(key, status=StopStatus.ARRIVED, arrival_s=self._since)
                changes.append(StopChange(visit.stop, StopStatus.ARRIVED, self._since))
            arrived_depot = any(
                self._visits[k].stop.kind is StopKind.DEPOT for k in self._candidate
            )
            self._current = [] if arrived_depot else self._candidate
            self._candidate = []
            self._last_inside_s = time_s
            self._last_still_s = time_s
            self._out = 0
        return changes

    def _track_depot(self, time_s: float, position: LatLon, still: bool) -> None:
        if self.left_depot:
            return
        depot = self.route.depot_position
        if distance_m(position, depot) <= self.settings.exit_m(self.route.depot_id):
            if still or self._depot_last_s is None:
                self._depot_last_s = time_s
            self._depot_out = 0
            return
        self._depot_out += 1
        if self._depot_last_s is None or self._depot_out >= self.settings.exit_fixes:
            self.left_depot = True
            self.depot_departure_s = self._depot_last_s
            self.last_departure_s = self._depot_last_s

    def confirm_delivery(self, stop_id: str, time_s: float) -> list[StopChange]:
        """Marks client ``stop_id`` delivered (proof of delivery) at ``time_s``; no change
        when it already is. A stop the van is at stays arrived (it departs when the van
        leaves); a pending one becomes delivered without an arrival. :class:`KeyError` for
        an unknown client stop."""
        for key in self._order:
            visit = self._visits[key]
            if visit.stop.id != stop_id or visit.stop.kind is not StopKind.CLIENT:
                continue
            if visit.delivered_s is not None:
                return []
            if visit.status is StopStatus.ARRIVED:
                self._set(key, delivered_s=time_s)
            else:
                self._set(key, status=StopStatus.DELIVERED, delivered_s=time_s)
            return [StopChange(visit.stop, StopStatus.DELIVERED, time_s)]
        raise KeyError(stop_id)
