"""A small real-world plan (Munich, x = longitude, y = latitude) and helpers for the tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from evfleet import Model, Problem, Solution
from evfleet.accounting import PlanAccount
from evfleet.checker import CheckReport
from evfleet.network.base import LatLon, haversine_m

CLIENTS = (
    (11.600, 48.160),
    (11.620, 48.120),
    (11.540, 48.100),
    (11.500, 48.130),
    (11.580, 48.180),
    (11.650, 48.150),
    (11.530, 48.170),
    (11.610, 48.090),
)
"""Client positions as (lon, lat) degrees."""


@dataclass(frozen=True)
class Plan:
    problem: Problem
    solution: Solution
    report: CheckReport
    account: PlanAccount
    diesel: PlanAccount


def munich_problem() -> Problem:
    """A depot, 8 clients (ids ORD-001...), a 50 kW charger; an e-van whose 4 kWh battery
    forces charging stops, and a diesel van. Road distance = 1.3 × great circle, 8 m/s."""
    m = Model("munich-test")
    m.add_depot(11.5600, 48.1400, name="DEPOT-N", tw_early_s=6 * 3600, tw_late_s=20 * 3600)
    for i, (lon, lat) in enumerate(CLIENTS):
        m.add_client(
            lon,
            lat,
            name=f"ORD-{i + 1:03d}",
            demand_kg=60 + 10 * i,
            service_s=300,
            tw_early_s=8 * 3600,
            tw_late_s=(12 if i % 2 else 16) * 3600,
        )
    m.add_charger(11.59, 48.13, name="CHG-A", power_w=50_000, price_per_kwh=0.45)
    m.add_vehicle_type(
        name="eVan 35 <kWh>",
        count=1,
        capacity_kg=460,
        battery_wh=4000,
        energy_wh_per_m=0.25,
        fixed_cost=40,
        cost_per_m=0.0001,
        cost_per_s=0.008,
        shift_start_s=7 * 3600,
        shift_end_s=19 * 3600,
    )
    m.add_vehicle_type(
        name="Diesel Sprinter",
        count=1,
        powertrain="diesel",
        capacity_kg=320,
        fuel_l_per_m=1e-4,
        fixed_cost=35,
        cost_per_m=0.0002,
        cost_per_s=0.008,
        shift_start_s=7 * 3600,
        shift_end_s=19 * 3600,
    )
    xs, ys = m.data().coordinates()
    distance = haversine_m(ys[:, None], xs[:, None], ys[None, :], xs[None, :]) * 1.3
    m.set_matrices(distance, distance / 8.0)
    return m.data()


def road_geometry(plan: Plan) -> dict[int, list[LatLon]]:
    """A fake road geometry: each leg bent through its midpoint shifted north-east."""
    geometry: dict[int, list[LatLon]] = {}
    problem = plan.problem
    for index, route in enumerate(plan.solution.routes):
        if not route.visits:
            continue
        depot = problem.vehicle_types[route.vehicle_type].depot
        locs = [depot, *route.locations(), depot]
        line: list[LatLon] = []
        for a, b in itertools.pairwise(locs):
            pa = LatLon(problem.location(a).y, problem.location(a).x)
            pb = LatLon(problem.location(b).y, problem.location(b).x)
            mid = LatLon((pa.lat + pb.lat) / 2 + 0.002, (pa.lon + pb.lon) / 2 + 0.002)
            line.extend([pa, mid])
        line.append(LatLon(problem.location(depot).y, problem.location(depot).x))
        geometry[index] = line
    return geometry


def used_route_count(plan: Plan) -> int:
    return sum(1 for r in plan.solution.routes if r.visits)


def electric_route_count(plan: Plan) -> int:
    types = plan.problem.vehicle_types
    return sum(1 for r in plan.solution.routes if r.visits and types[r.vehicle_type].is_electric)


def big_plan(clients: int = 300, per_route: int = 30) -> tuple[Plan, dict[int, list[LatLon]]]:
    """A hand-made plan with ``clients`` stops (no solver): e-vans of ``per_route`` clients
    each, a charging stop mid-route, and a road geometry of 20 points per leg."""
    from evfleet.accounting import account, diesel_counterfactual
    from evfleet.checker import check
    from evfleet.solution import Route, Visit

    m = Model("big")
    m.add_depot(11.56, 48.14, name="DEPOT")
    for k in range(clients):
        row, col = divmod(k, per_route)  # one row of stops per route, west to east
        lon = 11.40 + 0.32 * col / per_route
        lat = 48.05 + 0.18 * row / max(1, clients // per_route) + 0.004 * ((k * 7) % 5)
        m.add_client(lon, lat, name=f"O{k:04d}", demand_kg=5, service_s=120)
    m.add_charger(11.58, 48.12, name="HPC", power_w=150_000, price_per_kwh=0.5)
    m.add_vehicle_type(name="e-van", battery_wh=40_000, energy_wh_per_m=0.2)
    xs, ys = m.data().coordinates()
    distance = haversine_m(ys[:, None], xs[:, None], ys[None, :], xs[None, :]) * 1.3
    m.set_matrices(distance, distance / 8.0)
    problem = m.data()
    charger = problem.charger_index(0)
    routes = []
    for start in range(0, clients, per_route):
        visits = [Visit(problem.client_index(k)) for k in range(start, start + per_route)]
        visits.insert(per_route // 2, Visit(charger))
        routes.append(Route(0, tuple(visits)))
    solution = Solution(tuple(routes))
    geometry: dict[int, list[LatLon]] = {}
    for index, route in enumerate(solution.routes):
        locs = [0, *route.locations(), 0]
        line: list[LatLon] = []
        for a, b in itertools.pairwise(locs):
            pa, pb = problem.location(a), problem.location(b)
            for t in range(20):
                f = t / 20
                wiggle = 0.0005 * (t % 2)
                line.append(LatLon(pa.y + f * (pb.y - pa.y) + wiggle, pa.x + f * (pb.x - pa.x)))
        line.append(LatLon(problem.location(0).y, problem.location(0).x))
        geometry[index] = line
    plan = Plan(
        problem,
        solution,
        check(problem, solution),
        account(problem, solution),
        diesel_counterfactual(problem, solution),
    )
    return plan, geometry
