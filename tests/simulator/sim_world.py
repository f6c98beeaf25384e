"""A small two-van Munich plan for the simulator tests (one van charges on the way)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from evfleet import Model, Problem
from evfleet.checker import check
from evfleet.network.base import haversine_m
from evfleet.report.plan_json import plan_to_dict
from evfleet.solution import Route, Solution, Visit

START = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
"""Simulation start: half an hour before the routes leave (08:00)."""

DEPOT = (11.5600, 48.1400)
CLIENTS = (
    (11.5800, 48.1500),
    (11.6000, 48.1450),
    (11.6050, 48.1300),
    (11.5850, 48.1200),
    (11.5400, 48.1300),
    (11.5300, 48.1500),
)
"""(lon, lat) degrees."""
CHARGER = ("CHG-EAST", 11.6100, 48.1380)
BATTERY_WH = 20_000.0


def problem() -> Problem:
    """Depot, 6 clients (240 s service), a 22 kW charger; 2 e-vans with 20 kWh at 0.25 Wh/m
    leaving with 8 kWh; road = 1.3 × great circle at 8 m/s."""
    m = Model("simulator-test")
    m.add_depot(*DEPOT, name="DEPOT", tw_early_s=6 * 3600, tw_late_s=20 * 3600)
    for k, (lon, lat) in enumerate(CLIENTS):
        m.add_client(
            lon,
            lat,
            name=f"ORD-{k + 1}",
            demand_kg=20.0,
            service_s=240.0,
            tw_early_s=8 * 3600.0,
            tw_late_s=16 * 3600.0,
        )
    name, lon, lat = CHARGER
    m.add_charger(lon, lat, name=name, power_w=22_000)
    m.add_vehicle_type(
        name="eVan",
        count=2,
        capacity_kg=1000,
        battery_wh=BATTERY_WH,
        initial_energy_wh=8000.0,
        energy_wh_per_m=0.25,
        shift_start_s=8 * 3600,
        shift_end_s=19 * 3600,
    )
    xs, ys = m.data().coordinates()
    distance = haversine_m(ys[:, None], xs[:, None], ys[None, :], xs[None, :]) * 1.3
    m.set_matrices(distance, distance / 8.0)
    return m.data()


def plan_doc() -> dict[str, Any]:
    """Route 1: ORD-1, ORD-2, CHG-EAST, ORD-3, ORD-4; route 2: ORD-5, ORD-6; both at 08:00."""
    p = problem()
    first = (
        Visit(p.client_index(0)),
        Visit(p.client_index(1)),
        Visit(p.charger_index(0)),
        Visit(p.client_index(2)),
        Visit(p.client_index(3)),
    )
    second = (Visit(p.client_index(4)), Visit(p.client_index(5)))
    solution = Solution(
        (Route(0, first, start_s=8 * 3600.0), Route(0, second, start_s=8 * 3600.0)), "sim"
    )
    report = check(p, solution)
    assert report.feasible, report.violations
    return plan_to_dict(p, solution, report, None)
