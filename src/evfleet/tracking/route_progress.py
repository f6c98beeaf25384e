"""Route progress: off-route detection, next stop, and ETA and SoC forecasts for every
remaining stop (pure; times in s since the plan's midnight, m, Wh, kg, %).

**Off route.** The van's distance from the planned polyline (the plan's road geometry, or
straight legs depot → stops → depot without one) above ``off_route_m`` for
``off_route_fixes`` consecutive fixes sets *off route*; ``on_route_fixes`` consecutive fixes
within it clear it.

**ETA model.** Each remaining leg takes its *planned* driving time ``T`` (the plan's
arrival minus the previous stop's departure; with a :class:`~evfleet.problem.Problem`, its
duration matrix, which is the same for planned legs and also covers re-ordered ones) times
the **pace ratio** ``ρ``, the observed ratio of actual to planned driving time so far::

    ρ = (A + w) / (P + w),   clamped to [pace_min, pace_max]

``A`` is the actual driving time of the legs completed on this route (arrival minus the
previous departure, as detected from the geofences) plus the time spent on the current
leg, ``P`` their planned driving time (for the current leg: ``T`` times the fraction of the
leg covered, measured along the polyline), and ``w = pace_prior_s`` a prior of planned
driving at ratio 1, so that a minute's jam at the start does not triple every ETA. From the
van's position, the current leg's remainder takes ``ρ·T·(fraction left)`` (off route:
``ρ`` times the great-circle distance to the stop, times ``circuity``, at the leg's planned
speed). Then, stop by stop: ``arrival = previous departure + ρ·T``; ``start = max(arrival,
window start)`` (waiting for the window); ``departure = start + planned service`` (at a
charger: the planned charging time, lengthened at the plan's average charging rate by the
energy the van arrives short of the plan). A stop the van is at departs at ``max(now,
start + service)``. A van still at the depot leaves at ``max(now, planned start)``.

**SoC model.** Starting from the latest measured SoC (as Wh of the plan's ``battery_wh``;
without one, the plan's own energy at the van's position), each remaining leg uses its
energy times the **energy ratio** ``ε`` (measured to predicted energy on completed legs and
the current one, with a prior of ``energy_prior_wh`` at ratio 1, clamped). Leg energy is
``VehicleType.arc_energy_wh(i, j, distance, load)`` with the load still on board (the
route's demands less every client already served) when a Problem is given; otherwise the
plan's own energy drop over the leg (its SoC drop, so the plan's loads). A planned charger
stop charges to the plan's departure energy (never lower than the arrival). Predictions are
the energy on arrival at each remaining stop and at the return to the depot.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

from evfleet.network.base import LatLon
from evfleet.problem import Problem, VehicleType
from evfleet.tracking.geo import Polyline, distance_m
from evfleet.tracking.plan import (
    PlannedRoute,
    PlannedStop,
    StopKind,
    location_indices,
    stop_positions,
)
from evfleet.tracking.stops import StopChange, StopStatus, StopTracker

HISTORY_S = 900.0
"""How far back (s) measured energies are kept to date a departure's energy."""

__all__ = [
    "Forecast",
    "OffRouteDetector",
    "ProgressSettings",
    "ProgressTracker",
    "RouteModel",
    "StopForecast",
]


@dataclass(frozen=True)
class ProgressSettings:
    """Off-route and forecast parameters (m, s, Wh; ratios are plain numbers)."""

    off_route_m: float = 150.0
    off_route_fixes: int = 3
    on_route_fixes: int = 2
    circuity: float = 1.3
    """Road distance over great-circle distance, for trips off the plan."""
    pace_prior_s: float = 600.0
    pace_min: float = 0.5
    pace_max: float = 3.0
    energy_prior_wh: float = 1500.0
    energy_ratio_min: float = 0.7
    energy_ratio_max: float = 2.5

    def __post_init__(self) -> None:
        if not self.off_route_m > 0 or self.off_route_fixes < 1 or self.on_route_fixes < 1:
            raise ValueError("off_route_m must be > 0 and the fix counts >= 1")
        if not self.circuity >= 1.0:
            raise ValueError("circuity must be >= 1")
        if not 0 < self.pace_min <= 1.0 <= self.pace_max:
            raise ValueError("need 0 < pace_min <= 1 <= pace_max")
        if not 0 < self.energy_ratio_min <= 1.0 <= self.energy_ratio_max:
            raise ValueError("need 0 < energy_ratio_min <= 1 <= energy_ratio_max")
        if self.pace_prior_s < 0 or self.energy_prior_wh < 0:
            raise ValueError("priors must be >= 0")


@dataclass(frozen=True)
class StopForecast:
    """The forecast for one stop (s since midnight, Wh, %).

    ``arrived``: the van is there now, and ``arrival_s`` is the actual arrival. ``energy_wh``
    and ``soc_pct`` are on arrival (``None`` without a battery to predict).
    """

    stop: PlannedStop
    arrival_s: float
    start_s: float
    departure_s: float
    energy_wh: float | None
    soc_pct: float | None
    arrived: bool = False

    @property
    def delay_s(self) -> float:
        """Predicted arrival minus planned arrival, in s (positive: late)."""
        return self.arrival_s - self.stop.arrival_s

    @property
    def slack_s(self) -> float:
        """Window end minus predicted start, in s (``inf`` without a window end)."""
        return self.stop.tw_late_s - self.start_s


@dataclass(frozen=True)
class Forecast:
    """Where the van stands and what comes next, at ``time_s``.

    ``stops``: the stops the van is at (``arrived``), then every remaining stop in plan
    order, the depot return last. ``energy_now_wh`` / ``soc_now_pct`` are the starting point
    of the SoC forecast (``soc_source``: ``"measured"`` or ``"plan"``); ``load_kg`` is on
    board; ``line_distance_m`` the distance from the planned polyline.
    """

    time_s: float
    stops: tuple[StopForecast, ...]
    next_stop: PlannedStop | None
    pace_ratio: float
    energy_ratio: float
    energy_now_wh: float | None
    soc_now_pct: float | None
    soc_source: str | None
    load_kg: float
    off_route: bool
    line_distance_m: float

    @property
    def remaining(self) -> tuple[StopForecast, ...]:
        """Forecasts of the stops not yet reached (the depot return last)."""
        return tuple(f for f in self.stops if not f.arrived)

    @property
    def return_forecast(self) -> StopForecast | None:
        """The forecast of the return to the depot, ``None`` once back."""
        rem = self.remaining
        return rem[-1] if rem and rem[-1].stop.kind is StopKind.DEPOT else None


# --------------------------------------------------------------------------- the model


class RouteModel:
    """What a route's forecasts need, computed once: nodes (0 = depot start, ``k`` = stop
    with sequence ``k``, ``n + 1`` = depot return), chainages, planned legs, loads.

    ``problem`` (optional) supplies the duration matrix and the energy model.
    """

    def __init__(
        self, route: PlannedRoute, problem: Problem | None = None, circuity: float = 1.3
    ) -> None:
        self.route = route
        self.circuity = circuity
        self.nodes: tuple[PlannedStop, ...] = (_start_node(route), *route.all_stops)
        n = len(self.nodes)
        positions = list(stop_positions(route))
        self.polyline = Polyline.of(list(route.geometry) if route.geometry else positions)
        self.chain = self._chainages(positions)
        self.problem = problem
        self.vehicle: VehicleType | None = None
        self.indices: tuple[int, ...] | None = None
        if problem is not None:
            self.indices = location_indices(route, problem)
            self.vehicle = problem.vehicle_types[route.vehicle_type_index]
        # Planned driving time and energy of leg k (from node k - 1 to node k), k >= 1.
        self.drive_s = [0.0] * n
        self.leg_wh: list[float | None] = [None] * n
        for k in range(1, n):
            prev, cur = self.nodes[k - 1], self.nodes[k]
            self.drive_s[k] = max(cur.arrival_s - prev.departure_s, 0.0)
            if prev.energy_departure_wh is not None and cur.energy_arrival_wh is not None:
                self.leg_wh[k] = max(prev.energy_departure_wh - cur.energy_arrival_wh, 0.0)
        # Load on board leaving node k, as planned.
        self.load_after = [route.start_load_kg] * n
        for k in range(1, n):
            self.load_after[k] = self.load_after[k - 1] - self.nodes[k].demand_kg
        driving = sum(self.drive_s)
        length = self.polyline.length_m
        road = route.distance_m if route.distance_m is not None and route.distance_m > 0 else 0.0
        self.road_scale = road / length if road > 0 and length > 0 else 1.0
        """Road metres per polyline metre (above 1 when the polyline is straight legs)."""
        road = road or length
        self.speed_m_per_s = road / driving if driving > 0 and road > 0 else 8.0
        """The plan's average driving speed (m/s)."""
        known = [w for w in self.leg_wh[1:] if w is not None]
        planned_wh = sum(known) if len(known) == n - 1 else None
        self.wh_per_m: float | None = None
        if self.vehicle is not None and self.indices is not None:
            total_wh = total_m = 0.0
            for k in range(1, n):
                i, j = self.indices[k - 1], self.indices[k]
                d = float(self.problem.distance_m[i, j]) if self.problem is not None else 0.0
                total_m += d
                total_wh += self.vehicle.arc_energy_wh(i, j, d, self.load_after[k - 1])
            if total_m > 0:
                self.wh_per_m = total_wh / total_m
        elif planned_wh is not None and road > 0:
            self.wh_per_m = planned_wh / road

    def _chainages(self, positions: list[LatLon]) -> list[float]:
        """Chainage of every node along the polyline, searched forward from the last."""
        chain: list[float] = []
        lo = 0.0
        for k, p in enumerate(positions):
            if k == len(positions) - 1:
                c = self.polyline.length_m
            else:
                c = self.polyline.project(p, lo).chainage_m if k else 0.0
            chain.append(c)
            lo = c
        return chain

    @property
    def battery_wh(self) -> float | None:
        b = self.route.battery_wh
        return b if b is not None and math.isfinite(b) and b > 0 else None

    def node_of(self, stop: PlannedStop) -> int:
        return stop.sequence

    def leg(self, a: int, b: int, load_kg: float) -> tuple[float, float | None, float]:
        """Planned (driving s, energy Wh, road m) from node ``a`` to node ``b`` carrying
        ``load_kg`` (energy ``None`` when unknown)."""
        if a == b:
            return 0.0, 0.0, 0.0
        pa, pb = self.nodes[a].position, self.nodes[b].position
        if self.problem is not None and self.indices is not None and self.vehicle is not None:
            i, j = self.indices[a], self.indices[b]
            d = float(self.problem.distance_m[i, j])
            t = float(self.problem.duration_s[i, j])
            if math.isfinite(d) and math.isfinite(t):
                return t, self.vehicle.arc_energy_wh(i, j, d, load_kg), d
        if a < b:
            drive = sum(self.drive_s[a + 1 : b + 1])
            parts = self.leg_wh[a + 1 : b + 1]
            energy = None if any(w is None for w in parts) else sum(w or 0.0 for w in parts)
            return drive, energy, max(self.chain[b] - self.chain[a], 0.0) * self.road_scale
        road = distance_m(pa, pb) * self.circuity
        wh = None if self.wh_per_m is None else road * self.wh_per_m
        return road / self.speed_m_per_s, wh, road


def _start_node(route: PlannedRoute) -> PlannedStop:
    return PlannedStop(
        sequence=0,
        id=route.depot_id,
        kind=StopKind.DEPOT,
        position=route.depot_position,
        arrival_s=route.start_s,
        start_s=route.start_s,
        departure_s=route.start_s,
        dwell_s=0.0,
        energy_arrival_wh=route.start_energy_wh,
        energy_departure_wh=route.start_energy_wh,
    )


# ---------------------------------------------------------------------------- trackers


class OffRouteDetector:
    """Off route after ``off_fixes`` consecutive distances above ``threshold_m``; back on
    after ``on_fixes`` consecutive distances within it."""

    def __init__(self, threshold_m: float, off_fixes: int, on_fixes: int) -> None:
        self.threshold_m = threshold_m
        self.off_fixes = off_fixes
        self.on_fixes = on_fixes
        self.off_route = False
        self._run = 0

    def update(self, distance_m: float) -> bool | None:
        """Feeds one distance (m); returns the new flag when it flips, else ``None``."""
        outside = distance_m > self.threshold_m
        if outside != self.off_route:
            self._run += 1
            if self._run >= (self.off_fixes if outside else self.on_fixes):
                self.off_route = outside
                self._run = 0
                return outside
        else:
            self._run = 0
        return None


@dataclass(frozen=True)
class _Leg:
    """The leg being driven: from node ``a`` toward node ``b``, with the fraction left
    (``None`` off the line) and the remaining planned driving time (s) and energy (Wh)."""

    a: int
    b: int
    fraction_left: float | None
    drive_s: float
    energy_wh: float | None


class ProgressTracker:
    """Pace, energy ratio, off-route state and forecasts of one route."""

    def __init__(
        self,
        route: PlannedRoute,
        problem: Problem | None = None,
        settings: ProgressSettings | None = None,
    ) -> None:
        self.settings = settings or ProgressSettings()
        self.model = RouteModel(route, problem, self.settings.circuity)
        s = self.settings
        self.off_route = OffRouteDetector(s.off_route_m, s.off_route_fixes, s.on_route_fixes)
        self.line_distance_m = 0.0
        self._actual_s = 0.0
        self._planned_s = 0.0
        self._actual_wh = 0.0
        self._planned_wh = 0.0
        self._leg_start_s: float | None = None
        self._leg_start_wh: float | None = None
        self._leg_from = 0
        self._depot_leg = False
        self._history: deque[tuple[float, float]] = deque()
        """Recent (time s, measured energy Wh), to read the energy at an event's time."""
        self._pace = 1.0
        self._ratio = 1.0
        self._last: Forecast | None = None

    # ------------------------------------------------------------------------ helpers

    def _energy(self, soc_pct: float | None) -> float | None:
        battery = self.model.battery_wh
        if soc_pct is None or battery is None:
            return None
        return battery * soc_pct / 100.0

    def _ratio_of(self, actual: float, planned: float, prior: float, lo: float, hi: float) -> float:
        if planned + prior <= 0:
            return 1.0
        return min(max((actual + prior) / (planned + prior), lo), hi)

    def _load(self, stops: StopTracker) -> float:
        load = self.model.route.start_load_kg
        for v in stops.visits:
            if v.stop.kind is StopKind.CLIENT and (
                v.status is not StopStatus.PENDING or v.delivered_s is not None
            ):
                load -= v.stop.demand_kg
        return max(load, 0.0)

    def _current_leg(self, position: LatLon, a: int, b: int, load_kg: float, on_line: bool) -> _Leg:
        m = self.model
        drive, energy, road = m.leg(a, b, load_kg)
        ca, cb = m.chain[a], m.chain[b]
        if on_line and cb > ca:
            proj = m.polyline.project(position, ca, cb)
            if proj.distance_m <= self.settings.off_route_m:
                left = min(max((cb - proj.chainage_m) / (cb - ca), 0.0), 1.0)
                return _Leg(a, b, left, drive * left, None if energy is None else energy * left)
        # Off the line (or a leg against the plan's direction): great circle to the stop.
        to_go = distance_m(position, m.nodes[b].position) * self.settings.circuity
        speed = road / drive if drive > 0 and road > 0 else m.speed_m_per_s
        wh_per_m = energy / road if energy is not None and road > 0 else m.wh_per_m
        return _Leg(a, b, None, to_go / speed, None if wh_per_m is None else to_go * wh_per_m)

    # ------------------------------------------------------------------------ update

    def update(
        self,
        time_s: float,
        position: LatLon,
        soc_pct: float | None,
        stops: StopTracker,
        changes: list[StopChange],
        *,
        full: bool = True,
    ) -> tuple[Forecast, bool | None]:
        """Feeds one fix after ``stops`` has seen it (``changes`` are its stop changes);
        returns the forecast and the off-route flip (``None``: no change).

        With ``full`` false and a forecast made before, only the bookkeeping and the
        off-route check run, and the previous forecast comes back with this fix's time,
        off-route state and distance to the line (the forecast of every stop is the
        costly part; a caller may make it every few seconds instead of at every fix).
        """
        m = self.model
        s = self.settings
        energy_now = self._energy(soc_pct)
        if energy_now is not None:
            self._history.append((time_s, energy_now))
        self._bookkeep(changes, stops)

        self.line_distance_m = m.polyline.project(position).distance_m
        flip = None
        if stops.left_depot and not stops.completed and not stops.current:
            flip = self.off_route.update(self.line_distance_m)
        elif self.off_route.off_route:
            self.off_route.off_route = False
            flip = False
        if not full and self._last is not None:
            self._last = replace(
                self._last,
                time_s=time_s,
                off_route=self.off_route.off_route,
                line_distance_m=self.line_distance_m,
            )
            return self._last, flip

        load = self._load(stops)
        remaining = [m.node_of(p) for p in stops.remaining]
        current = stops.current
        leg: _Leg | None = None
        now = time_s
        if not current and stops.left_depot and remaining:
            a = m.node_of(stops.last_departed) if stops.last_departed is not None else 0
            leg = self._current_leg(position, a, remaining[0], load, not self.off_route.off_route)
            dwelling = stops.dwelling
            if dwelling is not None and m.nodes[remaining[0]] in dwelling[0]:
                # At the next stop, arrival not yet confirmed: it arrived when the dwell began.
                leg = _Leg(a, remaining[0], 0.0, 0.0, 0.0)
                now = min(dwelling[1], time_s)
            # Partial-leg observations for the ratios (only when the leg start is known).
            if leg.fraction_left is not None and self._leg_start_s is not None:
                drive_all, energy_all, _ = m.leg(a, remaining[0], load)
                done = 1.0 - leg.fraction_left
                self._pace = self._ratio_of(
                    self._actual_s + max(now - self._leg_start_s, 0.0),
                    self._planned_s + drive_all * done,
                    s.pace_prior_s,
                    s.pace_min,
                    s.pace_max,
                )
                if (
                    energy_all is not None
                    and energy_now is not None
                    and (self._leg_start_wh is not None and self._leg_start_wh >= energy_now)
                ):
                    self._ratio = self._ratio_of(
                        self._actual_wh + self._leg_start_wh - energy_now,
                        self._planned_wh + energy_all * done,
                        s.energy_prior_wh,
                        s.energy_ratio_min,
                        s.energy_ratio_max,
                    )
        source: str | None = "measured" if energy_now is not None else None
        if energy_now is None and m.battery_wh is not None:
            energy_now = self._plan_energy(stops, leg)
            source = None if energy_now is None else "plan"
        forecast = self._forecast(now, stops, leg, remaining, load, energy_now)
        battery = m.battery_wh
        self._last = Forecast(
            time_s=time_s,
            stops=forecast,
            next_stop=m.nodes[remaining[0]] if remaining else None,
            pace_ratio=self._pace,
            energy_ratio=self._ratio,
            energy_now_wh=energy_now,
            soc_now_pct=(
                None if energy_now is None or battery is None else 100 * energy_now / battery
            ),
            soc_source=source,
            load_kg=load,
            off_route=self.off_route.off_route,
            line_distance_m=self.line_distance_m,
        )
        return self._last, flip

    def _energy_at(self, time_s: float | None) -> float | None:
        """The last measured energy at or before ``time_s`` (Wh), from recent fixes."""
        if time_s is None:
            return None
        found = None
        for t, e in self._history:
            if t > time_s:
                break
            found = e
        return found if found is not None else (self._history[0][1] if self._history else None)

    def _bookkeep(self, changes: list[StopChange], stops: StopTracker) -> None:
        """Completed legs feed the ratios; departures start a new leg."""
        s = self.settings
        if not self._depot_leg and stops.left_depot:
            self._depot_leg = True
            self._leg_start_s = stops.depot_departure_s
            self._leg_start_wh = self._energy_at(stops.depot_departure_s)
            self._leg_from = 0
        for change in changes:
            node = self.model.node_of(change.stop)
            energy_now = self._energy_at(change.time_s)
            if change.status is StopStatus.ARRIVED:
                if self._leg_start_s is not None:
                    # Load on the leg: what was on board before this stop's delivery.
                    load = self._load(stops) + (
                        change.stop.demand_kg if change.stop.kind is StopKind.CLIENT else 0.0
                    )
                    drive, energy, _ = self.model.leg(self._leg_from, node, load)
                    actual = change.time_s - self._leg_start_s
                    if drive > 0 and actual >= 0:
                        self._actual_s += actual
                        self._planned_s += drive
                    if (
                        energy is not None
                        and energy > 0
                        and energy_now is not None
                        and self._leg_start_wh is not None
                        and self._leg_start_wh >= energy_now
                    ):
                        self._actual_wh += self._leg_start_wh - energy_now
                        self._planned_wh += energy
                self._leg_start_s = None
                self._leg_start_wh = None
                self._pace = self._ratio_of(
                    self._actual_s, self._planned_s, s.pace_prior_s, s.pace_min, s.pace_max
                )
                self._ratio = self._ratio_of(
                    self._actual_wh,
                    self._planned_wh,
                    s.energy_prior_wh,
                    s.energy_ratio_min,
                    s.energy_ratio_max,
                )
            elif change.status is StopStatus.DEPARTED:
                self._leg_start_s = change.time_s
                self._leg_start_wh = energy_now
                self._leg_from = node
        while len(self._history) > 1 and self._history[0][0] < min(
            self._history[-1][0] - HISTORY_S, self._leg_start_s or math.inf
        ):
            self._history.popleft()

    def _plan_energy(self, stops: StopTracker, leg: _Leg | None) -> float | None:
        """The plan's energy at the van's position, when no SoC was measured."""
        m = self.model
        if stops.current:
            return stops.current[0].stop.energy_arrival_wh
        if leg is None:
            last = stops.last_departed
            node = m.nodes[0] if last is None else last
            return node.energy_departure_wh
        start = m.nodes[leg.a].energy_departure_wh
        if start is None:
            return None
        _, energy, _ = m.leg(leg.a, leg.b, m.load_after[leg.a])
        left = leg.fraction_left if leg.fraction_left is not None else 1.0
        return start - (energy or 0.0) * (1.0 - left)

    def _forecast(
        self,
        now: float,
        stops: StopTracker,
        leg: _Leg | None,
        remaining: list[int],
        load: float,
        energy: float | None,
    ) -> tuple[StopForecast, ...]:
        m = self.model
        out: list[StopForecast] = []

        cursor: int
        t: float
        if stops.current:
            visits = sorted(stops.current, key=lambda v: v.stop.sequence)
            arrival = min(v.arrival_s or now for v in visits)
            start = max(arrival, min(v.stop.tw_early_s for v in visits))
            dwell = 0.0
            for v in visits:
                dwell += v.stop.dwell_s
                if v.stop.kind is StopKind.CHARGER and energy is not None:
                    dwell += self._extra_charging_s(v.stop, energy)
                    energy = self._charged(v.stop, energy)
            t = max(now, start + dwell)
            for v in visits:
                out.append(
                    StopForecast(v.stop, v.arrival_s or arrival, start, t, None, None, arrived=True)
                )
            cursor = visits[-1].stop.sequence
        elif leg is not None:
            cursor = leg.b
            t = now + self._pace * leg.drive_s
            if energy is not None and leg.energy_wh is not None:
                energy -= self._ratio * leg.energy_wh
            elif energy is not None:
                energy = None
            t, energy, load = self._at_stop(m.nodes[leg.b], t, energy, load, out)
            remaining = remaining[1:]
        else:
            cursor = 0 if stops.last_departed is None else stops.last_departed.sequence
            t = max(now, m.route.start_s) if not stops.left_depot else now
        for node in remaining:
            drive, leg_wh, _ = m.leg(cursor, node, load)
            t += self._pace * drive
            if energy is not None:
                energy = None if leg_wh is None else energy - self._ratio * leg_wh
            t, energy, load = self._at_stop(m.nodes[node], t, energy, load, out)
            cursor = node
        return tuple(out)

    def _at_stop(
        self,
        stop: PlannedStop,
        arrival: float,
        energy: float | None,
        load: float,
        out: list[StopForecast],
    ) -> tuple[float, float | None, float]:
        battery = self.model.battery_wh
        start = max(arrival, stop.tw_early_s) if stop.kind is not StopKind.DEPOT else arrival
        dwell = stop.dwell_s
        after = energy
        if stop.kind is StopKind.CHARGER and energy is not None:
            dwell += self._extra_charging_s(stop, energy)
            after = self._charged(stop, energy)
        out.append(
            StopForecast(
                stop,
                arrival,
                start,
                start + dwell,
                energy,
                None if energy is None or battery is None else 100.0 * energy / battery,
            )
        )
        if stop.kind is StopKind.CLIENT:
            load = max(load - stop.demand_kg, 0.0)
        return start + dwell, after, load

    def _charged(self, stop: PlannedStop, energy: float) -> float:
        """Energy after a planned charging stop: the plan's target, never below arrival."""
        target = stop.energy_departure_wh
        battery = self.model.battery_wh
        after = energy if target is None else max(energy, target)
        return after if battery is None else min(after, battery)

    def _extra_charging_s(self, stop: PlannedStop, energy: float) -> float:
        """Extra charging time when arriving with less than planned (plan's average rate)."""
        planned_arrival = stop.energy_arrival_wh
        if planned_arrival is None or stop.charged_wh <= 0 or stop.dwell_s <= 0:
            return 0.0
        short = planned_arrival - energy
        return max(short, 0.0) * stop.dwell_s / stop.charged_wh
