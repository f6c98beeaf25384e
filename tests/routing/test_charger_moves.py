"""The local search's charging-stop moves, compiled and in Python (energy-model hooks)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from evfleet import ChargingFunction, Model, RechargePolicy
from evfleet.io.instances import read_instance
from evfleet.problem import Problem
from evfleet.routing.data import build_engine_data
from evfleet.routing.evaluate import Evaluator
from evfleet.routing.local_search import LocalSearch, PythonLocalSearch
from evfleet.routing.plan import Penalties, Plan


def _charger_in_the_wrong_place(hook: bool) -> Problem:
    """Clients A (1000, 0) and B (1000, 1000), charger S (1000, 500) between them, 1 Wh/m,
    3000 Wh: the 3414 m round trip needs one charging stop. Visiting S first costs 4032 m,
    between A and B 3414 m (no detour)."""
    m = Model("charger-moves")
    m.objective = "distance"
    m.recharge = RechargePolicy.PARTIAL
    m.add_depot(0, 0)
    m.add_client(1000, 0, name="A")
    m.add_client(1000, 1000, name="B")
    m.add_charger(1000, 500, name="S", function=ChargingFunction.linear(0.1))
    if hook:
        m.add_vehicle_type(
            name="ev",
            count=1,
            battery_wh=3000,
            energy_model=lambda a, b, distance_m, load_kg: distance_m,
        )
    else:
        m.add_vehicle_type(name="ev", count=1, battery_wh=3000, energy_wh_per_m=1.0)
    return m.data()


@pytest.mark.parametrize("hook", [False, True], ids=["compiled", "python"])
def test_a_charging_stop_moves_to_a_better_arc(hook: bool) -> None:
    problem = _charger_in_the_wrong_place(hook)
    evaluator = Evaluator(build_engine_data(problem))
    index = {name: k for k, name in enumerate(problem.location_names())}
    a, b, s = index["A"], index["B"], index["S"]
    # Client moves only put A next to B, so only a charging move can put S between them.
    plan = Plan(evaluator, [[s, a, b]], [0])
    assert plan.feasible
    assert plan.objective() == pytest.approx(4032.2, abs=0.1)
    search = LocalSearch(plan, random.Random(0))
    assert isinstance(search._python, PythonLocalSearch) == hook
    search.run(plan, Penalties(1.0, 1.0, 1.0))
    assert plan.feasible
    assert plan.routes[0] in ([a, s, b], [b, s, a])
    assert plan.objective() == pytest.approx(3414.2, abs=0.1)


MONTOYA = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks" / "evrp-nl-montoya"


@pytest.mark.parametrize("python", [False, True], ids=["compiled", "python"])
def test_a_route_short_of_energy_gets_the_cheaper_of_a_new_stop_and_a_moved_one(
    python: bool,
) -> None:
    """Montoya tc1c20s3ct1's best-known plan (18.94 h: two short charges at the fast
    charger 23 on each of two routes) with the second stop of both routes taken away.
    Moving the remaining stop makes a route feasible too, at more cost (8.1 h instead of
    4.9 h for the first route): the search must add the stop back, and before any client
    move "repairs" the routes by moving clients away (that ended at 19.38 h)."""
    path = MONTOYA / "tc1c20s3ct1.xml"
    if not path.exists():
        pytest.skip(f"{path} is not there")
    problem = read_instance(path)
    data = build_engine_data(problem)
    evaluator = Evaluator(data)
    index = {name: k for k, name in enumerate(problem.location_names())}
    best_known = [
        ["1", "4", "23", "11", "15", "17", "7", "9", "10", "23", "2"],
        ["3", "23", "6", "5", "8", "20", "19", "23"],
        ["14", "18", "21", "16"],
        ["12", "13"],
    ]
    short = [
        ["1", "4", "23", "11", "15", "17", "7", "9", "10", "2"],
        ["3", "23", "6", "5", "8", "20", "19"],
        *best_known[2:],
    ]
    routes = [[index[name] for name in r] for r in short]
    for seed in range(3):
        plan = Plan(evaluator, [list(r) for r in routes], [0] * len(routes))
        assert not plan.feasible
        penalties = Penalties(10.0, 10.0, 7.2)
        if python:
            PythonLocalSearch(plan, random.Random(seed)).run(plan, penalties)
        else:
            LocalSearch(plan, random.Random(seed)).run(plan, penalties)
        assert plan.feasible
        assert plan.objective() / 3600 == pytest.approx(18.939, abs=0.001)
        used = sorted(r for r in plan.routes if r)
        assert used == sorted([index[name] for name in r] for r in best_known)
