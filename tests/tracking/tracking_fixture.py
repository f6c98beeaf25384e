"""A small Munich plan and a seeded van simulator that drives it, for the tracking tests.

The simulator is independent of the tracking code: it interpolates straight legs in
degrees (the plan has no road geometry, so its polyline is the straight legs), adds
Gaussian GPS noise in metres, waits for time windows as the plan does, and drains the
battery along each leg by the plan's own energy times a drain factor.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from evfleet import Model, Problem
from evfleet.checker import check
from evfleet.network.base import EARTH_RADIUS_M, LatLon, haversine_m
from evfleet.report.plan_json import plan_to_dict
from evfleet.solution import Route, Solution, Visit
from evfleet.telemetry import TelemetryMessage
from evfleet.tracking import PlannedRoute, PlannedStop, StopKind, planned_route

DAY_START = datetime(2026, 3, 2, tzinfo=UTC)
"""The plan's midnight (UTC keeps the arithmetic obvious)."""

DEPOT = (11.5600, 48.1400)
CLIENTS = (
    (11.5800, 48.1500),  # ORD-1
    (11.6000, 48.1450),  # ORD-2
    (11.6050, 48.1300),  # ORD-3 (tight window, see TIGHT_LATE_S)
    (11.5850, 48.1200),  # ORD-4
    (11.5851, 48.1201),  # ORD-5: same building as ORD-4 (about 13 m away)
)
"""Client positions as (lon, lat) degrees."""
CHARGERS = (
    ("CHG-EAST", 11.6100, 48.1380),
    ("CHG-WEST", 11.5000, 48.1400),
    ("CHG-SOUTH", 11.5900, 48.1150),
)
TIGHT_LATE_S = 9 * 3600 + 10 * 60
"""ORD-3's window ends at 09:10, 16 min after its planned start (08:53:56)."""
SPEED_M_PER_S = 8.0
BATTERY_WH = 20_000.0
WH_PER_M = 0.25


def munich_problem(initial_energy_wh: float | None = None) -> Problem:
    """Depot, 5 clients (300 s service, 30-70 kg), 3 chargers; an e-van with a 20 kWh
    battery at 0.25 Wh/m (leaving with ``initial_energy_wh``, default full); road = 1.3 ×
    great circle at 8 m/s."""
    m = Model("tracking-test")
    m.add_depot(*DEPOT, name="DEPOT", tw_early_s=6 * 3600, tw_late_s=20 * 3600)
    for k, (lon, lat) in enumerate(CLIENTS):
        m.add_client(
            lon,
            lat,
            name=f"ORD-{k + 1}",
            demand_kg=30.0 + 10 * k,
            service_s=300.0,
            tw_early_s=8 * 3600.0,
            tw_late_s=TIGHT_LATE_S if k == 2 else 14 * 3600.0,
        )
    for name, lon, lat in CHARGERS:
        m.add_charger(lon, lat, name=name, power_w=22_000)
    m.add_vehicle_type(
        name="eVan",
        count=1,
        capacity_kg=1000,
        battery_wh=BATTERY_WH,
        initial_energy_wh=initial_energy_wh,
        energy_wh_per_m=WH_PER_M,
        shift_start_s=8 * 3600,
        shift_end_s=19 * 3600,
    )
    xs, ys = m.data().coordinates()
    distance = haversine_m(ys[:, None], xs[:, None], ys[None, :], xs[None, :]) * 1.3
    m.set_matrices(distance, distance / SPEED_M_PER_S)
    return m.data()


def munich_plan(
    problem: Problem, charge_after: int | None = None
) -> tuple[Solution, dict[str, object]]:
    """One route depot → ORD-1 … ORD-5 → depot, leaving at 08:30, and its plan document;
    ``charge_after`` = k adds a charging stop at CHG-EAST after the k-th client."""
    visits = [Visit(problem.client_index(k)) for k in range(len(CLIENTS))]
    if charge_after is not None:
        visits.insert(charge_after, Visit(problem.charger_index(0)))
    solution = Solution((Route(0, tuple(visits), start_s=8 * 3600 + 30 * 60),), "tracking-test")
    report = check(problem, solution)
    assert report.feasible, report.violations
    return solution, plan_to_dict(problem, solution, report, None)


@dataclass(frozen=True)
class Truth:
    """What really happened in a simulation (s since midnight)."""

    arrival_s: dict[str, float] = field(default_factory=dict)
    departure_s: dict[str, float] = field(default_factory=dict)
    depot_departure_s: float = 0.0
    return_s: float = 0.0


@dataclass
class Van:
    """Drives a planned route and records telemetry every ``dt_s`` seconds.

    ``pace`` multiplies every planned driving time (1.5: 50 % slower); ``drain`` multiplies
    the plan's leg energy; ``noise_m`` is the GPS noise (m, 1 sigma) while driving and
    ``stop_jitter_m`` while parked; ``detour`` = (leg number, offset m, from fraction, to
    fraction) pushes the van sideways off a leg; ``late_start_s`` delays leaving the depot.
    """

    route: PlannedRoute
    vehicle_id: str = "van-1"
    dt_s: float = 10.0
    pace: float = 1.0
    drain: float = 1.0
    noise_m: float = 4.0
    stop_jitter_m: float = 8.0
    seed: int = 0
    detour: tuple[int, float, float, float] | None = None
    late_start_s: float = 0.0
    pre_trip_s: float = 600.0
    soc_decimals: int = 1
    messages: list[TelemetryMessage] = field(default_factory=list)
    truth: Truth = field(default_factory=Truth)
    detour_times: list[float] = field(default_factory=list)
    """Times (s) of the fixes sent while pushed off the route."""

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._seq = 0
        self._energy = self.route.start_energy_wh or BATTERY_WH

    # ----------------------------------------------------------------------- helpers

    def _offset(self, p: LatLon, north_m: float, east_m: float) -> LatLon:
        dlat = math.degrees(north_m / EARTH_RADIUS_M)
        dlon = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(p.lat))))
        return LatLon(p.lat + dlat, p.lon + dlon)

    def _emit(self, t: float, p: LatLon, speed: float, sigma: float) -> None:
        noisy = self._offset(p, self._rng.gauss(0, sigma), self._rng.gauss(0, sigma))
        self._seq += 1
        self.messages.append(
            TelemetryMessage(
                vehicle_id=self.vehicle_id,
                seq=self._seq,
                timestamp=DAY_START + timedelta(seconds=t),
                latitude_deg=noisy.lat,
                longitude_deg=noisy.lon,
                speed_m_per_s=max(speed + (self._rng.gauss(0, 0.3) if speed > 0 else 0.0), 0.0),
                soc_pct=round(100.0 * max(self._energy, 0.0) / BATTERY_WH, self.soc_decimals),
            )
        )

    def _park(self, t0: float, t1: float, p: LatLon, t: float) -> float:
        """Stands at ``p`` from ``t0`` to ``t1``; ``t`` is the next sample time."""
        while t <= t1:
            if t >= t0:
                self._emit(t, p, 0.0, self.stop_jitter_m)
            t += self.dt_s
        return t

    def _drive(
        self, t0: float, t1: float, a: PlannedStop | None, b: PlannedStop, leg: int, t: float
    ) -> float:
        pa = self.route.depot_position if a is None else a.position
        pb = b.position
        dist = float(haversine_m(pa.lat, pa.lon, pb.lat, pb.lon))
        speed = dist * 1.3 / (t1 - t0) if t1 > t0 else 0.0
        e_a = (self.route.start_energy_wh if a is None else a.energy_departure_wh) or 0.0
        e_b = b.energy_arrival_wh or 0.0
        leg_wh = max(e_a - e_b, 0.0) * self.drain
        last_f = 0.0
        while t < t1:
            f = (t - t0) / (t1 - t0)
            self._energy -= leg_wh * (f - last_f)
            last_f = f
            p = LatLon(pa.lat + f * (pb.lat - pa.lat), pa.lon + f * (pb.lon - pa.lon))
            if self.detour is not None and self.detour[0] == leg:
                _, offset, f0, f1 = self.detour
                if f0 <= f <= f1:
                    p = self._offset(p, offset, 0.0)
                    self.detour_times.append(t)
            self._emit(t, p, speed, self.noise_m)
            t += self.dt_s
        self._energy -= leg_wh * (1.0 - last_f)
        return t

    # ------------------------------------------------------------------------ driving

    def run(self) -> list[TelemetryMessage]:
        """Drives the whole route; returns the messages (in order)."""
        r = self.route
        depart = r.start_s + self.late_start_s
        t = depart - self.pre_trip_s
        t = self._park(t, depart, r.depot_position, t)
        truth = Truth(depot_departure_s=depart)
        prev: PlannedStop | None = None
        clock = depart
        for leg, stop in enumerate(r.all_stops, start=1):
            planned = stop.arrival_s - (r.start_s if prev is None else prev.departure_s)
            arrive = clock + planned * self.pace
            t = self._drive(clock, arrive, prev, stop, leg, t)
            truth.arrival_s[stop.id] = arrive
            if stop is r.end:
                truth = Truth(truth.arrival_s, truth.departure_s, depart, arrive)
                self._park(arrive, arrive + 300.0, stop.position, t)
                break
            start = max(arrive, stop.tw_early_s)
            leave = start + stop.dwell_s
            t = self._park(arrive, leave, stop.position, t)
            if stop.kind is StopKind.CHARGER and stop.energy_departure_wh is not None:
                self._energy = stop.energy_departure_wh  # charged to the plan's level
            truth.departure_s[stop.id] = leave
            clock = leave
            prev = stop
        self.truth = truth
        return self.messages


def the_route(
    initial_energy_wh: float | None = None,
) -> tuple[Problem, PlannedRoute, dict[str, object]]:
    """The problem, its one planned route and the plan document."""
    problem = munich_problem(initial_energy_wh)
    _, doc = munich_plan(problem)
    return problem, planned_route(doc, 1), doc
