"""An independent feasibility checker: recomputes every route of a plan from the problem alone.

This module is the trust anchor for the numbers evfleet reports. It shares no code with the
routing engine (it never imports :mod:`evfleet.routing`) and walks each route one stop at a
time, as literally as the rules read. Units: m, s, Wh, kg.

Rules, per route (stops are numbered from 0 in ``Route.visits``; stop ``len(visits)`` is the
return to the depot):

* The vehicle leaves its type's depot at ``max(start_s or shift_start_s, depot.tw_early_s)``
  (a ``start_s`` before ``shift_start_s`` is a violation), with ``start_energy_wh`` in the
  battery and every client's demand on board (deliveries): the demands must not exceed
  ``capacity_kg``, and each delivery lowers the load carried on the following arcs.
* Each arc must exist (finite matrix entries); it takes ``duration_s[i, j]`` seconds and
  ``arc_energy_wh(i, j, distance_m[i, j], load_kg)`` Wh, with the load carried on that arc;
  the energy on arrival must be >= 0.
* At a client, service starts at ``max(arrival, tw_early_s)`` and must start by
  ``tw_late_s``; the vehicle leaves ``service_s`` later.
* At a charger an electric vehicle charges to ``battery_wh`` (``RechargePolicy.FULL``, any
  ``charge_wh`` is ignored) or by ``charge_wh`` (``RechargePolicy.PARTIAL``; none given: to
  ``battery_wh``). With an unlimited battery there is nothing to fill and nothing is charged.
  Charging starts at ``max(arrival, open_s)``, takes ``function.charge_time_s(arrival
  energy, new energy)`` and must end by ``close_s``; the new energy must not exceed
  ``battery_wh``. A diesel vehicle must not visit chargers.
* The vehicle must be back at the depot by ``depot.tw_late_s`` and by ``shift_end_s``, and
  the route (departure to return, waiting included) must last at most ``max_duration_s``.

Across routes: every client exactly once, at most ``count`` used routes per vehicle type.
Routes without visits are not used: they cost nothing and count as no vehicle.

Tolerances: a time limit is broken when it is exceeded by more than ``TIME_TOL_S`` (1e-6 s);
a battery bound when it is crossed by more than ``ENERGY_REL_TOL`` (1e-9) times
``battery_wh`` (times 1 Wh for an unlimited battery); the capacity when it is exceeded by
more than ``LOAD_REL_TOL`` (1e-9) times ``capacity_kg``. The tolerances absorb floating-point
rounding only; they never make a plan with a real violation pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from evfleet.problem import Charger, Client, Objective, Problem, RechargePolicy, VehicleType
from evfleet.solution import Route, Solution, Visit

TIME_TOL_S = 1e-6
"""Slack on every time limit, in s."""
ENERGY_REL_TOL = 1e-9
"""Slack on the battery bounds, as a fraction of ``battery_wh``."""
LOAD_REL_TOL = 1e-9
"""Slack on the capacity, as a fraction of ``capacity_kg``."""


class Kind(StrEnum):
    """The kinds of violation the checker reports (``Violation.kind``)."""

    VEHICLE_TYPE = "vehicle-type"
    """The route names a vehicle type the problem does not have."""
    LOCATION = "location"
    """A visit to a location index that does not exist or is a depot."""
    SHIFT_START = "shift-start"
    """The route starts before its vehicle type's shift."""
    NO_ARC = "no-arc"
    """The matrices have no arc (an infinite distance or duration) into this stop."""
    CAPACITY = "capacity"
    """The route's demands exceed the vehicle capacity."""
    TIME_WINDOW = "time-window"
    """Service at a client starts after its window closes."""
    ENERGY = "energy"
    """The battery runs below zero on an arc."""
    OVERCHARGE = "overcharge"
    """Charging would fill the battery beyond ``battery_wh``."""
    CHARGE_AMOUNT = "charge-amount"
    """A ``charge_wh`` that is negative, not finite, or given at a client."""
    CHARGER_CLOSED = "charger-closed"
    """Charging does not fit within the charger's opening hours."""
    DIESEL_CHARGING = "diesel-charging"
    """A diesel vehicle visits a charger."""
    DEPOT_CLOSED = "depot-closed"
    """The vehicle returns after the depot closes."""
    SHIFT_END = "shift-end"
    """The vehicle returns after its shift ends."""
    MAX_DURATION = "max-duration"
    """The route lasts longer than ``max_duration_s``."""
    MISSING_CLIENT = "missing-client"
    """A client no route visits."""
    DUPLICATE_CLIENT = "duplicate-client"
    """A client visited more than once (reported at each visit after the first)."""
    FLEET_SIZE = "fleet-size"
    """More used routes of a vehicle type than it has vehicles."""


@dataclass(frozen=True)
class Violation:
    """One broken rule: where (route and stop index, location name), what kind, and why.

    ``route`` is ``None`` for a missing client; ``stop`` is ``None`` for a rule about the
    route as a whole and ``len(visits)`` for the return to the depot.
    """

    route: int | None
    stop: int | None
    location: str | None
    kind: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class StopReport:
    """What happens at one stop; stop ``len(visits)`` is the return to the depot.

    Times in s from the start of the day, energies in Wh, loads in kg. ``start_s`` is when
    service or charging starts (after waiting); ``load_kg`` is the load on board on leaving.
    """

    stop: int
    location: str
    arrival_s: float
    start_s: float
    waiting_s: float
    service_s: float
    charging_s: float
    departure_s: float
    load_kg: float
    energy_arrival_wh: float
    energy_departure_wh: float
    charged_wh: float


@dataclass(frozen=True)
class RouteReport:
    """One route as the checker recomputed it (m, s, Wh, kg; cost in the problem's currency).

    ``load_kg`` is the load on leaving the depot (the sum of the route's demands);
    ``duration_s`` runs from departure to return, waiting included. A route the checker
    could not follow (unknown vehicle type or location) has zero totals and no timeline.
    """

    route: int
    vehicle_type: int
    used: bool
    start_s: float = 0.0
    end_s: float = 0.0
    distance_m: float = 0.0
    driving_s: float = 0.0
    service_s: float = 0.0
    charging_s: float = 0.0
    waiting_s: float = 0.0
    duration_s: float = 0.0
    load_kg: float = 0.0
    energy_charged_wh: float = 0.0
    min_energy_wh: float = math.inf
    cost: float = 0.0
    timeline: tuple[StopReport, ...] = ()


@dataclass(frozen=True)
class CheckReport:
    """The verdict on a solution, with its recomputed totals and objective.

    ``objective_value`` follows the problem's convention: total distance in m for
    ``VEHICLES_THEN_DISTANCE`` (the vehicle count is ``vehicles``) and ``DISTANCE``; driving
    plus charging time in hours for ``DRIVING_AND_CHARGING_TIME`` (Montoya); total cost for
    ``COST`` (fixed cost per used vehicle + cost_per_m·distance + cost_per_s·duration +
    fuel_cost_per_l·litres + energy_cost_per_wh·Wh drawn from the battery + energy charged on
    the way at each charger's ``price_per_kwh`` less the depot price it replaces +
    carbon_price_per_kg·(co2e_kg_per_l·litres + co2e_kg_per_wh·Wh drawn)).
    """

    problem_name: str
    objective: Objective
    objective_value: float
    vehicles: int
    distance_m: float
    driving_s: float
    service_s: float
    charging_s: float
    waiting_s: float
    duration_s: float
    energy_charged_wh: float
    cost: float
    routes: tuple[RouteReport, ...]
    violations: tuple[Violation, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def objective_key(self) -> tuple[float, ...]:
        """The objective as a tuple that compares lexicographically (smaller is better)."""
        if self.objective is Objective.VEHICLES_THEN_DISTANCE:
            return (float(self.vehicles), self.objective_value)
        return (self.objective_value,)

    def objective_text(self) -> str:
        """The objective as the benchmark set prints it, e.g. ``vehicles 2, distance 257.75``."""
        if self.objective is Objective.VEHICLES_THEN_DISTANCE:
            return f"vehicles {self.vehicles}, distance {self.objective_value:.2f}"
        if self.objective is Objective.DISTANCE:
            return f"distance {self.objective_value:.2f}"
        if self.objective is Objective.DRIVING_AND_CHARGING_TIME:
            return f"driving and charging time {self.objective_value:.2f} h"
        return f"cost {self.objective_value:.2f}"

    def format(self) -> str:
        """The objective, the verdict and every violation, one per line."""
        lines = [self.objective_text()]
        if self.feasible:
            lines.append("feasible")
        else:
            lines.append(f"INFEASIBLE: {len(self.violations)} violation(s)")
            lines.extend(f"  {v.message}" for v in self.violations)
        return "\n".join(lines)


def check(problem: Problem, solution: Solution) -> CheckReport:
    """Recomputes every route of ``solution`` on ``problem`` and lists every broken rule."""
    names = problem.location_names()
    violations: list[Violation] = []
    reports = [
        _check_route(problem, names, r, route, violations)
        for r, route in enumerate(solution.routes)
    ]
    _check_clients(problem, names, solution, violations)
    _check_fleet(problem, solution, violations)

    distance = sum(rep.distance_m for rep in reports)
    driving = sum(rep.driving_s for rep in reports)
    charging = sum(rep.charging_s for rep in reports)
    cost = sum(rep.cost for rep in reports)
    if problem.objective is Objective.DRIVING_AND_CHARGING_TIME:
        value = (driving + charging) / 3600.0
    elif problem.objective is Objective.COST:
        value = cost
    else:
        value = distance
    return CheckReport(
        problem_name=problem.name,
        objective=problem.objective,
        objective_value=value,
        vehicles=sum(1 for route in solution.routes if route.visits),
        distance_m=distance,
        driving_s=driving,
        service_s=sum(rep.service_s for rep in reports),
        charging_s=charging,
        waiting_s=sum(rep.waiting_s for rep in reports),
        duration_s=sum(rep.duration_s for rep in reports),
        energy_charged_wh=sum(rep.energy_charged_wh for rep in reports),
        cost=cost,
        routes=tuple(reports),
        violations=tuple(violations),
    )


def _fmt(x: float) -> str:
    """A number for messages: rounded to 6 decimals, without float noise."""
    return repr(round(float(x), 6)) if math.isfinite(x) else repr(float(x))


def _where(r: int, stop: int | None, name: str | None, route: Route) -> str:
    if stop is None:
        return f"route {r}"
    if stop == len(route.visits):
        return f"route {r}, return to depot {name}"
    return f"route {r}, stop {stop}" + ("" if name is None else f" ({name})")


def _energy_tolerance(vt: VehicleType) -> float:
    return ENERGY_REL_TOL * (vt.battery_wh if math.isfinite(vt.battery_wh) else 1.0)


def _check_route(
    problem: Problem, names: list[str], r: int, route: Route, violations: list[Violation]
) -> RouteReport:
    """Walks one route stop by stop; appends its violations and returns its report."""

    def violate(stop: int | None, name: str | None, kind: Kind, text: str) -> None:
        message = f"{_where(r, stop, name, route)}: {text}"
        violations.append(Violation(r, stop, name, kind.value, message))

    if not route.visits:
        return RouteReport(route=r, vehicle_type=route.vehicle_type, used=False)
    if not 0 <= route.vehicle_type < len(problem.vehicle_types):
        violate(None, None, Kind.VEHICLE_TYPE, f"unknown vehicle type {route.vehicle_type}")
        return RouteReport(route=r, vehicle_type=route.vehicle_type, used=True)
    bad_stops = False
    for k, visit in enumerate(route.visits):
        loc = visit.location
        if not problem.num_depots <= loc < problem.num_locations:
            bad_stops = True
            what = f"depot {names[loc]}" if 0 <= loc < problem.num_depots else "unknown"
            text = f"location {loc} is {what}; a route visits only clients and chargers"
            violate(k, None, Kind.LOCATION, text)
    if bad_stops:
        return RouteReport(route=r, vehicle_type=route.vehicle_type, used=True)

    vt = problem.vehicle_types[route.vehicle_type]
    depot = problem.depots[vt.depot]
    depot_loc = vt.depot  # depots come first in the location order
    energy_tol = _energy_tolerance(vt)

    # Departure.
    if route.start_s is not None and not math.isfinite(route.start_s):
        violate(None, None, Kind.SHIFT_START, f"start time {route.start_s} is not a number")
        start = max(vt.shift_start_s, depot.tw_early_s)
    else:
        if route.start_s is not None and route.start_s < vt.shift_start_s - TIME_TOL_S:
            violate(
                None,
                None,
                Kind.SHIFT_START,
                f"starts at {_fmt(route.start_s)} s, before the shift starts at "
                f"{_fmt(vt.shift_start_s)} s",
            )
        wanted = vt.shift_start_s if route.start_s is None else route.start_s
        start = max(wanted, depot.tw_early_s)

    # Load: every delivery is on board when the vehicle leaves the depot.
    demands = [_demand_kg(problem, v) for v in route.visits]
    cumulative = 0.0
    for k, demand in enumerate(demands):
        cumulative += demand
        if cumulative > vt.capacity_kg + LOAD_REL_TOL * vt.capacity_kg:
            violate(
                k,
                names[route.visits[k].location],
                Kind.CAPACITY,
                f"the demands up to here add up to {_fmt(cumulative)} kg, above the vehicle "
                f"capacity of {_fmt(vt.capacity_kg)} kg",
            )
            break
    load = sum(demands)

    t = start
    energy = vt.start_energy_wh
    min_energy = energy
    distance_m = driving_s = service_total = charging_total = waiting_total = 0.0
    charged_total = energy_cost = consumed_wh = 0.0
    timeline: list[StopReport] = []
    prev = depot_loc
    stops = [*route.visits, Visit(depot_loc)]
    for k, visit in enumerate(stops):
        loc = visit.location
        name = names[loc]
        arc_m = float(problem.distance_m[prev, loc])
        arc_s = float(problem.duration_s[prev, loc])
        if not (math.isfinite(arc_m) and math.isfinite(arc_s)):
            violate(k, name, Kind.NO_ARC, f"there is no arc from {names[prev]} to {name}")
        arc_wh = vt.arc_energy_wh(prev, loc, arc_m, load)
        energy -= arc_wh
        consumed_wh += arc_wh
        distance_m += arc_m
        driving_s += arc_s
        arrival = t + arc_s
        if energy < -energy_tol:
            violate(
                k,
                name,
                Kind.ENERGY,
                f"arrives with {_fmt(energy)} Wh in the battery, below zero "
                f"(after the arc from {names[prev]})",
            )
        min_energy = min(min_energy, energy)
        energy_arrival = energy
        begin = arrival
        service = charging = charged = 0.0
        site = problem.location(loc)

        if isinstance(site, Client):
            begin = max(arrival, site.tw_early_s)
            if begin > site.tw_late_s + TIME_TOL_S:
                violate(
                    k,
                    name,
                    Kind.TIME_WINDOW,
                    f"service starts at {_fmt(begin)} s, after the window closes at "
                    f"{_fmt(site.tw_late_s)} s",
                )
            if visit.charge_wh is not None:
                violate(k, name, Kind.CHARGE_AMOUNT, "charge_wh is given at a client")
            service = site.service_s
            load -= site.demand_kg
        elif isinstance(site, Charger):
            if not vt.is_electric:
                violate(
                    k, name, Kind.DIESEL_CHARGING, f"diesel vehicle type {vt.name!r} cannot charge"
                )
            else:
                # Unlimited battery: there is nothing to fill.
                target = vt.battery_wh if math.isfinite(vt.battery_wh) else energy
                amount = visit.charge_wh
                if problem.recharge is RechargePolicy.PARTIAL and amount is not None:
                    if math.isfinite(amount) and amount >= 0.0:
                        target = energy + amount
                    else:
                        violate(k, name, Kind.CHARGE_AMOUNT, f"charge_wh {amount!r} is not >= 0")
                        target = energy
                if target > vt.battery_wh + energy_tol:
                    violate(
                        k,
                        name,
                        Kind.OVERCHARGE,
                        f"charging to {_fmt(target)} Wh exceeds the battery capacity of "
                        f"{_fmt(vt.battery_wh)} Wh",
                    )
                    target = vt.battery_wh
                target = max(target, energy)
                begin = max(arrival, site.open_s)
                number = loc - problem.num_depots - problem.num_clients
                function = problem.charging_function(route.vehicle_type, number)
                charging = function.charge_time_s(energy, target)
                if begin + charging > site.close_s + TIME_TOL_S:
                    violate(
                        k,
                        name,
                        Kind.CHARGER_CLOSED,
                        f"charging from {_fmt(begin)} s to {_fmt(begin + charging)} s does not "
                        f"fit the opening hours {_fmt(site.open_s)}-{_fmt(site.close_s)} s",
                    )
                # With an unlimited battery both are infinite and nothing is charged.
                charged = target - energy if math.isfinite(energy) else 0.0
                energy = target
                # Paid at the charger's price instead of the depot's.
                energy_cost += charged * (site.price_per_kwh / 1000.0 - vt.energy_cost_per_wh)
        else:  # the return to the depot
            if arrival > depot.tw_late_s + TIME_TOL_S:
                violate(
                    k,
                    name,
                    Kind.DEPOT_CLOSED,
                    f"arrives at {_fmt(arrival)} s, after the depot closes at "
                    f"{_fmt(depot.tw_late_s)} s",
                )
            if arrival > vt.shift_end_s + TIME_TOL_S:
                violate(
                    k,
                    name,
                    Kind.SHIFT_END,
                    f"arrives at {_fmt(arrival)} s, after the shift ends at "
                    f"{_fmt(vt.shift_end_s)} s",
                )

        waiting = begin - arrival
        t = begin + service + charging
        service_total += service
        charging_total += charging
        waiting_total += waiting
        charged_total += charged
        timeline.append(
            StopReport(
                stop=k,
                location=name,
                arrival_s=arrival,
                start_s=begin,
                waiting_s=waiting,
                service_s=service,
                charging_s=charging,
                departure_s=t,
                load_kg=load,
                energy_arrival_wh=energy_arrival,
                energy_departure_wh=energy,
                charged_wh=charged,
            )
        )
        prev = loc

    duration = t - start
    if duration > vt.max_duration_s + TIME_TOL_S:
        violate(
            None,
            None,
            Kind.MAX_DURATION,
            f"lasts {_fmt(duration)} s, longer than the maximum of {_fmt(vt.max_duration_s)} s",
        )
    fuel_l = vt.fuel_l_per_m * distance_m if not vt.is_electric else 0.0
    co2e_kg = fuel_l * vt.co2e_kg_per_l + consumed_wh * vt.co2e_kg_per_wh
    cost = (
        vt.fixed_cost
        + vt.cost_per_m * distance_m
        + vt.cost_per_s * duration
        + fuel_l * vt.fuel_cost_per_l
        + consumed_wh * vt.energy_cost_per_wh
        + energy_cost
        + problem.carbon_price_per_kg * co2e_kg
    )
    return RouteReport(
        route=r,
        vehicle_type=route.vehicle_type,
        used=True,
        start_s=start,
        end_s=t,
        distance_m=distance_m,
        driving_s=driving_s,
        service_s=service_total,
        charging_s=charging_total,
        waiting_s=waiting_total,
        duration_s=duration,
        load_kg=sum(demands),
        energy_charged_wh=charged_total,
        min_energy_wh=min_energy,
        cost=cost,
        timeline=tuple(timeline),
    )


def _demand_kg(problem: Problem, visit: Visit) -> float:
    site = problem.location(visit.location)
    return site.demand_kg if isinstance(site, Client) else 0.0


def _check_clients(
    problem: Problem, names: list[str], solution: Solution, violations: list[Violation]
) -> None:
    """Every client exactly once: reports repeat visits where they happen, then the missing."""
    seen: dict[int, tuple[int, int]] = {}
    for r, route in enumerate(solution.routes):
        for k, visit in enumerate(route.visits):
            loc = visit.location
            if not problem.is_client(loc):
                continue
            if loc in seen:
                r0, k0 = seen[loc]
                message = (
                    f"route {r}, stop {k} ({names[loc]}): client already visited "
                    f"by route {r0}, stop {k0}"
                )
                violations.append(Violation(r, k, names[loc], Kind.DUPLICATE_CLIENT.value, message))
            else:
                seen[loc] = (r, k)
    for c in range(problem.num_clients):
        loc = problem.client_index(c)
        if loc not in seen:
            message = f"client {names[loc]} is not visited by any route"
            violations.append(Violation(None, None, names[loc], Kind.MISSING_CLIENT.value, message))


def _check_fleet(problem: Problem, solution: Solution, violations: list[Violation]) -> None:
    """At most ``count`` used routes per vehicle type: reports each route beyond the count."""
    used: dict[int, int] = {}
    for r, route in enumerate(solution.routes):
        if not route.visits or not 0 <= route.vehicle_type < len(problem.vehicle_types):
            continue
        vt = problem.vehicle_types[route.vehicle_type]
        used[route.vehicle_type] = used.get(route.vehicle_type, 0) + 1
        if vt.count is not None and used[route.vehicle_type] > vt.count:
            message = (
                f"route {r}: vehicle type {vt.name!r} has only {vt.count} vehicle(s), "
                f"this is its route number {used[route.vehicle_type]}"
            )
            violations.append(Violation(r, None, None, Kind.FLEET_SIZE.value, message))
