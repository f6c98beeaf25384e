"""The routing engine end to end: every plan it returns is checked by the independent checker.

Benchmark files come from ``../shared/benchmarks`` beside the repository; tests that need
them skip when the folder is absent. Time limits are wall-clock budgets for the search, not
assertions: nothing here asserts on how long anything takes.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from pathlib import Path

import pytest

from evfleet import (
    ChargingFunction,
    Model,
    Objective,
    Powertrain,
    Problem,
    Progress,
    RechargePolicy,
    Solution,
    solve,
)
from evfleet.checker import CheckReport, check
from evfleet.errors import UnservableClientsError
from evfleet.io.instances import bks_for, read_instance

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
SCHNEIDER = BENCH / "evrptw-schneider"


def _bench(relative: str) -> Path:
    path = BENCH / relative
    if not path.is_file():
        pytest.skip(f"benchmark file not found: {path}")
    return path


def _assert_checked_feasible(problem: Problem, solution: Solution) -> CheckReport:
    """The checker accepts the plan, and every client is visited exactly once."""
    report = check(problem, solution)
    assert report.feasible, report.format()
    assert solution.stats["feasible"] == 1.0
    visits = Counter(
        v.location for r in solution.routes for v in r.visits if problem.is_client(v.location)
    )
    assert sorted(visits) == [problem.client_index(k) for k in range(problem.num_clients)]
    assert set(visits.values()) == {1}
    return report


# --- benchmark samples -----------------------------------------------------------------

SAMPLES = [
    pytest.param("evrptw-schneider/c101_21.txt", {}, id="schneider-c101_21-full"),
    pytest.param(
        "evrptw-schneider/c101_21.txt", {"recharge": "partial"}, id="schneider-c101_21-partial"
    ),
    pytest.param("evrptw-schneider/r102C10.txt", {}, id="schneider-r102C10"),
    pytest.param("evrp-wcci2020/E-n22-k4.evrp", {}, id="wcci-E-n22-k4"),
    pytest.param("evrp-wcci2020/E-n33-k4.evrp", {}, id="wcci-E-n33-k4"),
    pytest.param("evrp-nl-montoya/tc0c10s2cf1.xml", {}, id="montoya-tc0c10s2cf1"),
    pytest.param("evrp-nl-montoya/tc1c20s3ct1.xml", {}, id="montoya-tc1c20s3ct1"),
    pytest.param(
        "solomon/C101.100.10.vrptw", {"convention": "hierarchical"}, id="solomon-C101-hier"
    ),
    pytest.param("solomon/C101.100.10.vrptw", {"convention": "dimacs"}, id="solomon-C101-dimacs"),
]


@pytest.mark.parametrize(("relative", "options"), SAMPLES)
def test_benchmark_sample_is_solved_feasibly(relative: str, options: dict[str, str]) -> None:
    problem = read_instance(_bench(relative), **options)
    solution = solve(problem, time_limit_s=2, seed=0)
    report = _assert_checked_feasible(problem, solution)
    assert report.vehicles == solution.num_routes >= 1
    if "recharge" in options:
        assert problem.recharge is RechargePolicy(options["recharge"])
    if relative.startswith("evrp-nl-montoya"):
        # Montoya stations charge along a concave piecewise-linear curve.
        assert all(not c.function.is_linear for c in problem.chargers)


SMALL_SCHNEIDER = [
    "c101C5",
    "c103C5",
    "c206C5",
    "c208C5",
    "r104C5",
    "r105C5",
    "r202C5",
    "r203C5",
    "rc105C5",
    "rc108C5",
    "rc204C5",
    "rc208C5",
]


@pytest.mark.parametrize("name", SMALL_SCHNEIDER)
def test_small_schneider_instance_reaches_best_known(name: str) -> None:
    path = _bench(f"evrptw-schneider/{name}.txt")
    best = bks_for(path)
    assert best is not None and best.vehicles is not None
    problem = read_instance(path)
    # Bounded by iterations, not time, so that a loaded machine gives the same answer.
    solution = solve(problem, time_limit_s=60, seed=0, max_iterations=400)
    report = _assert_checked_feasible(problem, solution)
    assert report.vehicles == best.vehicles, report.format()
    assert round(report.objective_value, 2) <= best.cost, report.format()


def test_every_small_schneider_instance_is_covered() -> None:
    if not SCHNEIDER.is_dir():
        pytest.skip(f"benchmark set not found: {SCHNEIDER}")
    names = [p if isinstance(p, str) else p.values[0] for p in SMALL_SCHNEIDER]
    assert sorted(names) == sorted(p.stem for p in SCHNEIDER.glob("*C5.txt"))


# --- small hand-built problems ---------------------------------------------------------


def _random_problem(seed: int = 3, clients: int = 15) -> Problem:
    """A random E-VRPTW-like instance: one depot, three chargers, windowed clients."""
    rng = random.Random(seed)
    m = Model(f"random-{seed}")
    m.add_depot(2500, 2500, tw_late_s=40_000)
    for k in range(clients):
        early = rng.uniform(0, 15_000)
        m.add_client(
            rng.uniform(0, 5000),
            rng.uniform(0, 5000),
            name=f"R{k}",
            demand_kg=rng.randint(5, 30),
            service_s=300,
            tw_early_s=early,
            tw_late_s=early + rng.uniform(3000, 9000),
        )
    for x, y in ((800, 800), (4200, 1000), (2500, 4500)):
        m.add_charger(x, y, power_w=20_000)
    m.add_vehicle_type(name="ev", capacity_kg=100, battery_wh=6000, energy_wh_per_m=1.0)
    return m.data()


def _routes(solution: Solution) -> list[tuple[int, list[tuple[int, float | None]]]]:
    return [
        (r.vehicle_type, [(v.location, v.charge_wh) for v in r.visits]) for r in solution.routes
    ]


@pytest.mark.parametrize("which", ["schneider-c101C10", "random-model"])
def test_same_seed_and_iterations_give_identical_routes(which: str) -> None:
    if which == "random-model":
        problem = _random_problem()
    else:
        problem = read_instance(_bench("evrptw-schneider/c101C10.txt"))
    first = solve(problem, time_limit_s=60, seed=11, max_iterations=30)
    second = solve(problem, time_limit_s=60, seed=11, max_iterations=30)
    assert first.stats["iterations"] == second.stats["iterations"] == 30
    assert _routes(first) == _routes(second)
    assert first.routes == second.routes
    _assert_checked_feasible(problem, first)
    # Another seed is allowed to give another plan; it must still be a valid one.
    _assert_checked_feasible(problem, solve(problem, time_limit_s=60, seed=12, max_iterations=30))


def _unservable_problem() -> Problem:
    m = Model("unservable")
    m.add_depot(0, 0)
    m.add_client(500, 0, name="fine", demand_kg=10)
    m.add_client(10_000, 0, name="far", demand_kg=10)  # 9 km past the only charger
    m.add_client(800, 0, name="late", demand_kg=10, tw_early_s=0, tw_late_s=100)  # 800 s away
    m.add_client(300, 0, name="heavy", demand_kg=500)
    m.add_client(0, 700, name="fine-too", demand_kg=10, tw_early_s=0, tw_late_s=1000)
    m.add_charger(1000, 0, name="S", power_w=10_000)
    m.add_vehicle_type(name="ev", capacity_kg=100, battery_wh=2000, energy_wh_per_m=1.0)
    return m.data()


def test_unservable_clients_are_refused_with_reasons_before_searching() -> None:
    problem = _unservable_problem()
    calls: list[Progress] = []
    with pytest.raises(UnservableClientsError) as info:
        solve(problem, time_limit_s=60, seed=0, progress=calls.append)
    reasons = info.value.reasons
    assert set(reasons) == {"far", "late", "heavy"}
    assert "out of reach" in reasons["far"]
    assert "2000 Wh" in reasons["far"]
    assert "window closes at 100 s" in reasons["late"]
    assert "earliest arrival 800 s" in reasons["late"]
    assert "demand 500 kg exceeds the capacity of 100 kg" in reasons["heavy"]
    assert calls == []  # refused before any search
    message = str(info.value)
    assert message.startswith("3 client(s) cannot be served")
    for name in ("far", "late", "heavy"):
        assert f"  {name}: " in message


def test_servable_rest_of_the_unservable_problem_solves() -> None:
    """Without the three bad clients the same network is solved feasibly."""
    m = Model("servable")
    m.add_depot(0, 0)
    m.add_client(500, 0, name="fine", demand_kg=10)
    m.add_client(0, 700, name="fine-too", demand_kg=10, tw_early_s=0, tw_late_s=1000)
    m.add_charger(1000, 0, name="S", power_w=10_000)
    m.add_vehicle_type(name="ev", capacity_kg=100, battery_wh=2000, energy_wh_per_m=1.0)
    problem = m.data()
    _assert_checked_feasible(problem, solve(problem, time_limit_s=60, seed=0, max_iterations=20))


def test_progress_reports_increasing_time_and_match_the_result() -> None:
    problem = read_instance(_bench("evrptw-schneider/c101C10.txt"))
    calls: list[Progress] = []
    solution = solve(problem, time_limit_s=60, seed=5, max_iterations=40, progress=calls.append)
    report = check(problem, solution)
    assert report.feasible, report.format()
    # One report per iteration, and at iteration 0 possibly one more as soon as the
    # construction is feasible (before the first local search).
    iterations = [p.iteration for p in calls]
    assert iterations[-41:] == list(range(41))
    assert iterations[:-41] in ([], [0])
    times = [p.elapsed_s for p in calls]
    assert all(b >= a for a, b in itertools.pairwise(times))
    assert times[-1] > times[0] >= 0.0
    last = calls[-1]
    assert last.feasible is report.feasible
    assert last.vehicles == report.vehicles
    assert last.objective == pytest.approx(report.objective_value, rel=1e-6)
    # Once feasible, the best never gets worse (vehicles first, then distance).
    best = [(p.vehicles, p.objective) for p in calls if p.feasible]
    assert all(b <= (a[0], a[1] * (1 + 1e-12)) for a, b in itertools.pairwise(best))


def _mixed_fleet_problem() -> Problem:
    """Twelve clients on a ring about 2.4 km out, four chargers 2 km out; e-vans with a
    3 kWh battery (a round trip to any client needs a charge) and one diesel van."""
    rng = random.Random(1)
    m = Model("mixed")
    m.add_depot(0, 0)
    for k in range(12):
        angle = 2 * math.pi * k / 12 + rng.uniform(-0.1, 0.1)
        radius = rng.uniform(2200, 2600)
        m.add_client(
            radius * math.cos(angle),
            radius * math.sin(angle),
            name=f"M{k}",
            demand_kg=rng.randint(10, 30),
        )
    for x, y in ((2000, 0), (-2000, 0), (0, 2000), (0, -2000)):
        m.add_charger(x, y, power_w=50_000)
    m.add_vehicle_type(name="e-van", capacity_kg=100, battery_wh=3000, energy_wh_per_m=1.0)
    m.add_vehicle_type(
        name="diesel", count=1, capacity_kg=100, powertrain=Powertrain.DIESEL, fuel_l_per_m=1e-4
    )
    return m.data()


def test_mixed_fleet_diesel_route_never_charges() -> None:
    problem = _mixed_fleet_problem()
    ev, diesel = 0, 1
    solution = solve(problem, time_limit_s=60, seed=0, max_iterations=60)
    _assert_checked_feasible(problem, solution)
    used = Counter(r.vehicle_type for r in solution.routes if r.visits)
    # The diesel van needs no charging detours, so the plan uses it (and only once).
    assert used[diesel] == 1
    for route in solution.routes:
        if route.vehicle_type == diesel:
            assert not any(problem.is_charger(v.location) for v in route.visits)
    # A round trip to any client is longer than the e-van's range: its routes must charge.
    ev_routes = [r for r in solution.routes if r.vehicle_type == ev and r.visits]
    assert ev_routes
    assert all(any(problem.is_charger(v.location) for v in r.visits) for r in ev_routes)


@pytest.mark.parametrize(
    ("which", "iterations"), [("montoya-tc0c10s2cf1", 40), ("mixed-fleet", 60)]
)
def test_no_route_stops_at_the_same_charger_twice_in_a_row(which: str, iterations: int) -> None:
    if which == "mixed-fleet":
        problem = _mixed_fleet_problem()
    else:
        problem = read_instance(_bench("evrp-nl-montoya/tc0c10s2cf1.xml"))
    solution = solve(problem, time_limit_s=60, seed=0, max_iterations=iterations)
    _assert_checked_feasible(problem, solution)
    names = problem.location_names()
    repeated = [
        (r, names[a.location])
        for r, route in enumerate(solution.routes)
        for a, b in itertools.pairwise(route.visits)
        if a.location == b.location and problem.is_charger(a.location)
    ]
    assert repeated == []


def _two_sided_problem(function: ChargingFunction, objective: Objective) -> Problem:
    """One vehicle, clients 400 m either side of the depot, a charger 10 m off it.

    The round trip (about 1600 m) is longer than the 1000 Wh battery allows at 1 Wh/m, so
    the vehicle must charge once, and about 600 Wh is enough: a full charge is not needed.
    """
    m = Model("two-sided")
    m.objective = objective
    m.recharge = RechargePolicy.PARTIAL
    m.add_depot(0, 0)
    m.add_client(400, 0, name="east", demand_kg=1, service_s=60)
    m.add_client(-400, 0, name="west", demand_kg=1, service_s=60)
    m.add_charger(0, 10, name="S", function=function)
    m.add_vehicle_type(name="ev", count=1, battery_wh=1000, energy_wh_per_m=1.0)
    return m.data()


def test_partial_recharge_charges_less_than_full() -> None:
    problem = _two_sided_problem(
        ChargingFunction.from_power(1000), Objective.VEHICLES_THEN_DISTANCE
    )
    solution = solve(problem, time_limit_s=60, seed=0, max_iterations=20)
    report = _assert_checked_feasible(problem, solution)
    battery = problem.vehicle_types[0].battery_wh
    stops = 0
    for route, rr in zip(solution.routes, report.routes, strict=True):
        for visit, stop in zip(route.visits, rr.timeline, strict=False):
            if not problem.is_charger(visit.location):
                continue
            stops += 1
            full = battery - stop.energy_arrival_wh
            assert visit.charge_wh is not None
            assert 0 < visit.charge_wh < full - 1.0
            assert stop.charged_wh == pytest.approx(visit.charge_wh)
            assert stop.energy_departure_wh < battery - 1.0
    assert stops >= 1


def test_piecewise_charging_curve_solves_feasibly() -> None:
    curve = ChargingFunction.piecewise([(0, 0), (600, 1800), (900, 3600), (1000, 7200)])
    problem = _two_sided_problem(curve, Objective.DRIVING_AND_CHARGING_TIME)
    solution = solve(problem, time_limit_s=60, seed=0, max_iterations=20)
    report = _assert_checked_feasible(problem, solution)
    assert report.charging_s > 0
    # The checker's charging time follows the curve from the arrival energy.
    for rr in report.routes:
        for stop in rr.timeline:
            if stop.charged_wh > 0:
                assert stop.charging_s == pytest.approx(
                    curve.charge_time_s(stop.energy_arrival_wh, stop.energy_departure_wh)
                )
