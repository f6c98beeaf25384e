"""A small Munich plan and a seeded van that drives it, for the tracking tests.

The van is the fleet simulator's (:mod:`evfleet.simulator`), which is independent of the
tracking code: it follows the plan's polyline (here straight legs), adds Gaussian GPS noise
in metres, waits for time windows as the plan does, and drains the battery along each leg
by the plan's own energy times a drain factor. Its noise models are switched off here so
that the tests control delays and drain exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from evfleet import Model, Problem
from evfleet.checker import check
from evfleet.network.base import LatLon, haversine_m
from evfleet.report.plan_json import plan_to_dict
from evfleet.simulator import (
    NoiseSettings,
    Phase,
    VanOptions,
    VanRun,
    Weather,
    WeatherSettings,
    simulate_van,
)
from evfleet.simulator.van import offset_m
from evfleet.solution import Route, Solution, Visit
from evfleet.telemetry import TelemetryMessage
from evfleet.tracking import PlannedRoute, StopKind, planned_route

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
    """Drives a planned route and records telemetry every ``dt_s`` seconds: the fleet
    simulator's van (:func:`evfleet.simulator.simulate_van`) without its noise models, so
    that every leg takes exactly its planned time × ``pace``, every stop its planned time and
    the weather changes nothing.

    ``pace`` multiplies every planned driving time (1.5: 50 % slower); ``drain`` multiplies
    the plan's leg energy; ``noise_m`` is the GPS noise (m, 1 sigma) while driving and
    ``stop_jitter_m`` while parked; it drives straight legs even when the plan has a
    road geometry (a test bends the plan's line to see the van off it); ``detour`` = (leg
    number, offset m, from fraction, to fraction) pushes the van's fixes north off a leg;
    ``late_start_s`` delays leaving the depot.
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

    def run(self) -> list[TelemetryMessage]:
        """Drives the whole route; returns the messages (in order)."""
        noise = NoiseSettings(
            gps_sigma_m=self.noise_m,
            parked_sigma_m=self.stop_jitter_m,
            jitter_clip_sigmas=4.0,
            traffic_sigma=0.0,
            service_sigma=0.0,
            min_service_s=0.0,
        )
        calm = Weather(WeatherSettings(diurnal_amplitude_k=0.0, drift_sigma_k=0.0))
        run = simulate_van(
            replace(self.route, geometry=()),  # straight legs, whatever the plan's line says
            self.vehicle_id,
            day_start=DAY_START,
            interval_s=self.dt_s,
            noise=noise,
            weather=calm,
            options=VanOptions(
                late_start_s=self.late_start_s,
                pace=self.pace,
                drain=self.drain,
                pre_trip_s=self.pre_trip_s,
            ),
            seed=self.seed,
            phase_s=0.0,
            soc_decimals=self.soc_decimals,
        )
        self.messages = [self._detoured(run, m) for m in run.messages]
        self.truth = Truth(
            arrival_s={s.id: s.arrival_s for s in run.stops},
            departure_s={s.id: s.departure_s for s in run.stops if s.kind is not StopKind.DEPOT},
            depot_departure_s=run.depot_departure_s,
            return_s=run.return_s,
        )
        return self.messages

    def _detoured(self, run: VanRun, m: TelemetryMessage) -> TelemetryMessage:
        if self.detour is None:
            return m
        leg, offset, f0, f1 = self.detour
        t = (m.timestamp - DAY_START).total_seconds()
        seg = run.segment_at(t)
        if seg.phase is not Phase.DRIVING or seg.leg != leg or not f0 <= seg.fraction(t) <= f1:
            return m
        self.detour_times.append(t)
        p = offset_m(LatLon(m.latitude_deg, m.longitude_deg), offset, 0.0)
        return replace(m, latitude_deg=p.lat, longitude_deg=p.lon)


def the_route(
    initial_energy_wh: float | None = None,
) -> tuple[Problem, PlannedRoute, dict[str, object]]:
    """The problem, its one planned route and the plan document."""
    problem = munich_problem(initial_energy_wh)
    _, doc = munich_plan(problem)
    return problem, planned_route(doc, 1), doc
