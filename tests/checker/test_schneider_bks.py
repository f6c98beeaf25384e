"""The checker on the best-known solutions of the twelve 5-customer Schneider E-VRPTW files.

The routes below were found by an exhaustive search outside the repository (all client
partitions and orders, up to two consecutive station visits on every leg, full recharge at
g·(Q − y), time windows, capacity) and written here by hand. Each must be feasible with
exactly the vehicle count and distance of ``bks.csv`` (Schneider, Stenger & Goeke 2012,
Table 3).
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from evfleet import Problem, RechargePolicy, Route, Solution, Visit
from evfleet.checker import Kind, check
from evfleet.io.schneider import read_schneider
from evfleet.io.solution_json import solution_from_dict, solution_to_dict

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
SCHNEIDER = SHARED / "evrptw-schneider"

BKS_ROUTES: dict[str, list[list[str]]] = {
    "c101C5": [["C12", "S5", "C100"], ["S15", "C64", "C30", "S0", "C85"]],
    "c103C5": [["C65", "S0", "C98", "S0", "C20", "C24", "S15", "C57"]],
    "c206C5": [["C75", "S0", "C44", "C53", "S17", "C77", "S0", "C35"]],
    "c208C5": [["C50", "C53", "C58", "C60", "S14", "S11", "C39"]],
    "r104C5": [["C5", "C99", "C87"], ["C1", "S3", "C71"]],
    "r105C5": [["C75", "S1", "C78", "C28"], ["C91", "C95"]],
    "r202C5": [["C77", "C72", "S15", "S13", "C37", "C17", "C18"]],
    "r203C5": [["C25", "S1", "C79", "C50", "S7", "C49", "S9", "C96"]],
    "rc105C5": [["C36", "S3", "C82"], ["C55", "S9", "C11", "C22", "S15"]],
    "rc108C5": [["C21", "S14", "C97", "S11", "C15"], ["S19", "C34", "C71"]],
    "rc204C5": [["S15", "C49", "C19", "C23", "S13", "S9", "C4", "C81"]],
    "rc208C5": [["C96", "C41", "S3", "C37", "C32", "S19", "C66"]],
}


def instance_path(name: str) -> Path:
    path = SCHNEIDER / f"{name}.txt"
    if not path.is_file():
        pytest.skip(f"benchmark file {path} not available")
    return path


def best_known(name: str) -> tuple[int, float]:
    """(vehicles, distance) of the first ``bks.csv`` row for ``name`` (full recharge)."""
    with (SCHNEIDER / "bks.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if row["instance"] == name:
                return int(row["vehicles"]), float(row["best_known_cost"])
    raise AssertionError(f"{name} not in bks.csv")


def plan(problem: Problem, routes: list[list[str]]) -> Solution:
    index = {name: k for k, name in enumerate(problem.location_names())}
    return Solution(
        tuple(Route(0, tuple(Visit(index[name]) for name in route)) for route in routes),
        problem.name,
    )


def test_all_twelve_instances_are_covered() -> None:
    if not SCHNEIDER.is_dir():
        pytest.skip(f"{SCHNEIDER} not available")
    assert sorted(BKS_ROUTES) == sorted(p.stem for p in SCHNEIDER.glob("*C5.txt"))


@pytest.mark.parametrize("name", sorted(BKS_ROUTES))
def test_best_known_solution_is_feasible_and_matches(name: str) -> None:
    problem = read_schneider(instance_path(name))
    vehicles, distance = best_known(name)
    report = check(problem, plan(problem, BKS_ROUTES[name]))
    assert report.feasible, report.format()
    assert report.vehicles == vehicles
    assert round(report.objective_value, 2) == distance
    assert report.format().splitlines() == [
        f"vehicles {vehicles}, distance {distance:.2f}",
        "feasible",
    ]


@pytest.mark.parametrize("name", sorted(BKS_ROUTES))
def test_best_known_solution_survives_the_file_format(name: str) -> None:
    problem = read_schneider(instance_path(name))
    solution = plan(problem, BKS_ROUTES[name])
    data = solution_to_dict(solution, problem)
    assert [[v["location"] for v in r["visits"]] for r in data["routes"]] == BKS_ROUTES[name]
    assert solution_from_dict(data, problem).routes == solution.routes


def test_full_recharge_time_is_g_times_the_missing_energy() -> None:
    problem = read_schneider(instance_path("c101C5"))
    report = check(problem, plan(problem, BKS_ROUTES["c101C5"]))
    stop = report.routes[0].timeline[1]  # S5
    assert stop.location == "S5"
    assert stop.energy_departure_wh == 77.75
    assert stop.charging_s == pytest.approx(3.47 * (77.75 - stop.energy_arrival_wh))


@pytest.mark.parametrize(
    ("name", "r", "k"),
    [
        (name, r, k)
        for name, routes in sorted(BKS_ROUTES.items())
        for r, route in enumerate(routes)
        for k, loc in enumerate(route)
        if loc.startswith("S")
    ],
)
def test_every_station_visit_is_needed(name: str, r: int, k: int) -> None:
    """Without any one of its charging stops a best-known route runs out of energy."""
    problem = read_schneider(instance_path(name))
    routes = [list(route) for route in BKS_ROUTES[name]]
    del routes[r][k]
    report = check(problem, plan(problem, routes))
    assert {v.route for v in report.violations if v.kind == Kind.ENERGY} == {r}, report.format()


def test_lowered_battery_fails() -> None:
    problem = read_schneider(instance_path("c101C5"))
    solution = plan(problem, BKS_ROUTES["c101C5"])
    report = check(problem, solution)
    need = 77.75 - min(route.min_energy_wh for route in report.routes)
    vt = replace(problem.vehicle_types[0], battery_wh=need - 0.01)
    low = check(replace(problem, vehicle_types=(vt,)), solution)
    assert not low.feasible
    assert Kind.ENERGY in {v.kind for v in low.violations}


def test_station_closed_before_charging_ends_fails() -> None:
    problem = read_schneider(instance_path("c101C5"))
    solution = plan(problem, BKS_ROUTES["c101C5"])
    arrival = check(problem, solution).routes[0].timeline[1].arrival_s
    chargers = list(problem.chargers)
    s5 = next(k for k, c in enumerate(chargers) if c.name == "S5")
    chargers[s5] = replace(chargers[s5], close_s=arrival + 1.0)
    report = check(replace(problem, chargers=tuple(chargers)), solution)
    assert [(v.kind, v.route, v.stop, v.location) for v in report.violations] == [
        (Kind.CHARGER_CLOSED, 0, 1, "S5")
    ]


def test_partial_charge_too_small_fails() -> None:
    problem = read_schneider(instance_path("c101C5"), recharge=RechargePolicy.PARTIAL)
    solution = plan(problem, BKS_ROUTES["c101C5"])
    assert check(problem, solution).feasible  # no charge_wh: fill up
    route = solution.routes[0]
    stingy = replace(
        route, visits=(route.visits[0], replace(route.visits[1], charge_wh=1.0), route.visits[2])
    )
    report = check(problem, replace(solution, routes=(stingy, solution.routes[1])))
    assert Kind.ENERGY in {v.kind for v in report.violations if v.route == 0}, report.format()
