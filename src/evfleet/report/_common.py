"""What the report adapters share: the plan's used routes, positions, clocks and colours.

Real-world problems follow one convention: a location's ``x`` is its longitude and ``y`` its
latitude, in WGS 84 degrees; location names are order, charger and depot ids; times are
seconds since local midnight. Units: m, s, Wh, kg.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from evfleet.accounting import (
    DEFAULT_PRICES,
    PlanAccount,
    Prices,
    RouteAccount,
    account,
    diesel_counterfactual,
)
from evfleet.checker import CheckReport, RouteReport, StopReport, check
from evfleet.emissions import DEFAULT_FACTORS, Allocation, EmissionFactors
from evfleet.network.base import LatLon, RoadNetwork
from evfleet.problem import Problem, VehicleType
from evfleet.solution import Route, Solution

PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#393b79",
    "#637939",
    "#7f7f7f",
    "#843c39",
)
"""Route colours, one per route number (no yellow: that is the charging marker's colour)."""

Geometry = Mapping[int, Sequence[LatLon]]
"""Road polylines by route index in ``Solution.routes``, each from the depot back to it."""


@dataclass(frozen=True)
class UsedRoute:
    """A route with visits that the checker could follow.

    ``number`` is 1-based among the used routes (for people: "route 1"); ``index`` is the
    route's position in ``Solution.routes``; ``account`` is its account when one was given.
    """

    number: int
    index: int
    route: Route
    report: RouteReport
    vehicle: VehicleType
    account: RouteAccount | None

    @property
    def stops(self) -> tuple[StopReport, ...]:
        """The timeline without the return to the depot (one per visit)."""
        return self.report.timeline[:-1]

    @property
    def back(self) -> StopReport:
        """The return to the depot."""
        return self.report.timeline[-1]


def used_routes(
    problem: Problem, solution: Solution, report: CheckReport, plan: PlanAccount | None = None
) -> list[UsedRoute]:
    """The routes with visits and a timeline, numbered 1, 2, ... in solution order."""
    accounts = {ra.route: ra for ra in plan.routes} if plan is not None else {}
    result: list[UsedRoute] = []
    for index, (route, rep) in enumerate(zip(solution.routes, report.routes, strict=True)):
        if not route.visits or not rep.used or len(rep.timeline) != len(route.visits) + 1:
            continue
        result.append(
            UsedRoute(
                number=len(result) + 1,
                index=index,
                route=route,
                report=rep,
                vehicle=problem.vehicle_types[rep.vehicle_type],
                account=accounts.get(index),
            )
        )
    return result


def unassigned_clients(problem: Problem, solution: Solution) -> list[int]:
    """Location indices of the clients no route visits."""
    visited = {v.location for r in solution.routes for v in r.visits}
    return [
        problem.client_index(k)
        for k in range(problem.num_clients)
        if problem.client_index(k) not in visited
    ]


def colour(number: int) -> str:
    """The colour of route ``number`` (1-based), as ``#rrggbb``."""
    return PALETTE[(number - 1) % len(PALETTE)]


def finite(value: float) -> float | None:
    """``value`` as a float, or ``None`` when it is infinite or not a number (JSON has none)."""
    number = float(value)
    return number if math.isfinite(number) else None


def clock(seconds: float) -> str | None:
    """``HH:MM:SS`` for seconds since midnight (hours go on past 24); ``None`` if not finite."""
    if not math.isfinite(seconds):
        return None
    total = round(seconds)
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}:{secs:02d}"


def clock_hm(seconds: float) -> str:
    """``HH:MM`` for seconds since midnight, rounded to the minute; ``""`` if not finite."""
    if not math.isfinite(seconds):
        return ""
    total = round(seconds / 60.0)
    sign = "-" if total < 0 else ""
    hours, minutes = divmod(abs(total), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def window_text(early_s: float, late_s: float, *, sep: str = "-") -> str:
    """A time window as ``HH:MM-HH:MM`` (open ends shown as empty); ``""`` for no window."""
    if early_s <= 0.0 and not math.isfinite(late_s):
        return ""
    early = clock_hm(early_s) if early_s > 0.0 else ""
    return f"{early}{sep}{clock_hm(late_s)}"


def position(problem: Problem, loc: int) -> LatLon:
    """Location ``loc`` as (lat, lon) degrees: ``y`` is the latitude, ``x`` the longitude."""
    site = problem.location(loc)
    return LatLon(float(site.y), float(site.x))


def is_geographic(problem: Problem) -> bool:
    """Whether every location's ``x``/``y`` can be a longitude/latitude in degrees."""
    xs, ys = problem.coordinates()
    return bool(
        all(math.isfinite(v) and -180.0 <= v <= 180.0 for v in xs)
        and all(math.isfinite(v) and -90.0 <= v <= 90.0 for v in ys)
    )


def stop_positions(problem: Problem, route: Route, vehicle: VehicleType) -> list[LatLon]:
    """The route's positions: depot, every visit, depot again."""
    locs = [vehicle.depot, *route.locations(), vehicle.depot]
    return [position(problem, loc) for loc in locs]


def route_line(
    problem: Problem, used: UsedRoute, geometry: Geometry | None
) -> tuple[list[LatLon], str]:
    """The route's polyline and its source: ``"road"`` from ``geometry``, else ``"straight"``
    (stop to stop)."""
    if geometry is not None:
        line = geometry.get(used.index)
        if line is not None and len(line) >= 2:
            return [LatLon(float(p[0]), float(p[1])) for p in line], "road"
    return stop_positions(problem, used.route, used.vehicle), "straight"


def route_geometries(
    problem: Problem, solution: Solution, network: RoadNetwork
) -> dict[int, list[LatLon]]:
    """Road polylines of every route with visits, keyed by index in ``Solution.routes``.

    Each is the network's geometry of every leg (depot, visits, depot) joined end to end.
    """
    result: dict[int, list[LatLon]] = {}
    for index, route in enumerate(solution.routes):
        if not route.visits or not 0 <= route.vehicle_type < len(problem.vehicle_types):
            continue
        points = stop_positions(problem, route, problem.vehicle_types[route.vehicle_type])
        line: list[LatLon] = []
        for a, b in itertools.pairwise(points):
            leg = network.route_geometry(a, b)
            if line and leg and tuple(leg[0]) == tuple(line[-1]):
                leg = leg[1:]
            line.extend(LatLon(float(p[0]), float(p[1])) for p in leg)
        result[index] = line
    return result


def soc_pct(energy_wh: float, vehicle: VehicleType) -> float | None:
    """State of charge in % of the usable battery; ``None`` without a finite battery."""
    if not (vehicle.is_electric and math.isfinite(vehicle.battery_wh) and vehicle.battery_wh > 0):
        return None
    if not math.isfinite(energy_wh):
        return None
    return 100.0 * energy_wh / vehicle.battery_wh


def has_soc(vehicle: VehicleType) -> bool:
    """Whether the vehicle has a state of charge to show (electric, finite battery)."""
    return vehicle.is_electric and math.isfinite(vehicle.battery_wh) and vehicle.battery_wh > 0


def slug(text: str) -> str:
    """``text`` as a safe file-name part: lower case ``a-z0-9`` and dashes (``vehicle`` if
    nothing is left)."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned or "vehicle"


def charged_wh(stop: StopReport) -> float:
    """Energy charged at a stop in Wh (0 when not a number)."""
    return stop.charged_wh if math.isfinite(stop.charged_wh) else 0.0


def plan_accounts(
    problem: Problem,
    solution: Solution,
    *,
    factors: EmissionFactors = DEFAULT_FACTORS,
    prices: Prices = DEFAULT_PRICES,
    carbon_price_per_t: float = 0.0,
    country: str | None = None,
    allocation: Allocation = Allocation.TKM_SFD,
    diesel_type: VehicleType | None = None,
) -> tuple[CheckReport, PlanAccount, PlanAccount]:
    """The checker's report, the plan's account and its all-diesel counterfactual, made with
    the same factors and prices (what every report adapter takes)."""
    report = check(problem, solution)
    actual = account(
        problem,
        solution,
        factors=factors,
        prices=prices,
        carbon_price_per_t=carbon_price_per_t,
        country=country,
        allocation=allocation,
    )
    diesel = diesel_counterfactual(
        problem,
        solution,
        diesel_type,
        factors=factors,
        prices=prices,
        carbon_price_per_t=carbon_price_per_t,
        country=country,
        allocation=allocation,
    )
    return report, actual, diesel
