"""A dispatcher's day as a routing problem: locations, vans, energy, costs, depot charging."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from evfleet.catalogue import default_catalogue
from evfleet.checker import check
from evfleet.day import DeliveryDay, DepotCharger, DepotSpec, FleetSpec, Order, VehicleGroup
from evfleet.day_problem import build_problem, day_points, depot_charge_wh
from evfleet.emissions import DEFAULT_FACTORS
from evfleet.network.base import LatLon
from evfleet.network.great_circle import GreatCircleNetwork
from evfleet.problem import Objective, RechargePolicy
from evfleet.routing.solve import solve
from evfleet.workflow import read_day

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "city-day"
HOUR = 3600.0


def _matrices(day: DeliveryDay) -> tuple[np.ndarray, np.ndarray]:
    m = GreatCircleNetwork().matrices([LatLon(a, b) for a, b in day_points(day)])
    return m.distance_m, m.duration_s


@pytest.fixture(scope="module")
def example_day() -> DeliveryDay:
    inputs = read_day(EXAMPLE / "orders.csv", EXAMPLE / "fleet.yaml", EXAMPLE / "chargers.csv")
    assert not inputs.errors
    assert inputs.day is not None
    return inputs.day


def test_example_day_becomes_a_cost_problem_with_every_site(example_day: DeliveryDay) -> None:
    problem = build_problem(example_day, *_matrices(example_day))
    assert problem.objective is Objective.COST
    assert problem.recharge is RechargePolicy.PARTIAL
    assert problem.num_depots == 1
    assert problem.num_clients == 300
    # Two charger groups at the depot, then the eight public chargers.
    assert problem.num_chargers == 2 + len(example_day.chargers)
    assert problem.chargers[0].name == "muc-freiham:22kW" and problem.chargers[0].connectors == 8
    assert [c.name for c in problem.chargers[2:]] == [c.id for c in example_day.chargers]
    assert [c.name for c in problem.clients] == [o.id for o in example_day.orders]
    first = example_day.orders[0]
    assert (problem.clients[0].x, problem.clients[0].y) == (first.longitude_deg, first.latitude_deg)
    assert problem.clients[0].demand_kg == first.weight_kg
    assert problem.carbon_price_per_kg == pytest.approx(example_day.fleet.carbon_price_per_t / 1000)
    n = problem.num_locations
    for t, vt in enumerate(problem.vehicle_types):
        if vt.is_electric:
            assert vt.arc_energy is not None and vt.arc_energy.base_wh.shape == (n, n)
            moving = problem.distance_m > 0
            assert np.all(vt.arc_energy.wh_per_kg[moving] > 0)
            assert all((t, k) in problem.charging_functions for k in range(problem.num_chargers))
            assert vt.co2e_kg_per_wh > 0 and vt.energy_cost_per_wh > 0
        else:
            assert (
                vt.fuel_l_per_m > 0 and vt.fuel_cost_per_l == example_day.fleet.diesel_price_per_l
            )
            assert vt.co2e_kg_per_l == DEFAULT_FACTORS.diesel_wtw_kg_per_l


def test_energy_on_an_arc_grows_with_the_load_carried(example_day: DeliveryDay) -> None:
    problem = build_problem(example_day, *_matrices(example_day))
    vt = problem.vehicle_types[0]
    d = float(problem.distance_m[0, 1])
    empty, loaded = vt.arc_energy_wh(0, 1, d, 0.0), vt.arc_energy_wh(0, 1, d, 800.0)
    assert 0 < empty < loaded
    # A winter e-van on a city arc: between 0.1 and 0.6 Wh per metre.
    assert 0.1 < empty / d < 0.6


def _one_depot_day(
    groups: tuple[VehicleGroup, ...], chargers: tuple[DepotCharger, ...]
) -> DeliveryDay:
    depot = DepotSpec("d", 48.1, 11.5, open_s=5 * HOUR, close_s=20 * HOUR, chargers=chargers)
    fleet = FleetSpec((depot,), groups, outside_temperature_c=5.0, country="DE",
                      diesel_price_per_l=1.6)  # fmt: skip
    return DeliveryDay((Order("o1", 48.11, 11.51, weight_kg=10),), fleet)


def test_depot_charging_fills_vans_in_order_of_departure() -> None:
    early = VehicleGroup("early", 1, "d", 6 * HOUR, 16 * HOUR, catalogue_id="ford-e-transit",
                         start_soc=0.2)  # fmt: skip
    late = VehicleGroup("late", 1, "d", 8 * HOUR, 18 * HOUR, catalogue_id="ford-e-transit",
                        start_soc=0.2)  # fmt: skip
    day = _one_depot_day((early, late), (DepotCharger(11_000.0, 1),))
    added = depot_charge_wh(day, default_catalogue())
    eta = DEFAULT_FACTORS.charging_efficiency
    # One 11 kW charger: the early van charges 05:00-06:00, the late one 06:00-08:00.
    assert added["early"] == pytest.approx(11_000 * eta * 1.0)
    assert added["late"] == pytest.approx(11_000 * eta * 2.0)
    problem = build_problem(day, *_matrices(day))
    battery = problem.vehicle_types[0].battery_wh
    assert problem.vehicle_types[0].initial_energy_wh == pytest.approx(
        0.2 * battery + added["early"]
    )


def test_a_van_without_a_free_charger_leaves_as_it_stood() -> None:
    group = VehicleGroup("pair", 2, "d", 6 * HOUR, 16 * HOUR, catalogue_id="ford-e-transit",
                         start_soc=0.5)  # fmt: skip
    day = _one_depot_day((group,), (DepotCharger(22_000.0, 1),))
    assert depot_charge_wh(day, default_catalogue())["pair"] == 0.0
    problem = build_problem(day, *_matrices(day))
    vt = problem.vehicle_types[0]
    assert vt.initial_energy_wh == pytest.approx(0.5 * vt.battery_wh)


def test_a_small_day_plans_feasibly_with_load_dependent_energy(example_day: DeliveryDay) -> None:
    small = DeliveryDay(example_day.orders[:25], example_day.fleet, example_day.chargers)
    problem = build_problem(small, *_matrices(small))
    solution = solve(problem, time_limit_s=60, seed=1, max_iterations=20)
    report = check(problem, solution)
    assert report.feasible, report.format()
    assert math.isfinite(report.objective_value) and report.objective_value > 0
    visited = sorted(
        v.location for r in solution.routes for v in r.visits if problem.is_client(v.location)
    )
    assert visited == list(range(problem.num_depots, problem.num_depots + 25))
