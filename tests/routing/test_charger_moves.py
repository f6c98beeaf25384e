"""The local search's charging-stop moves, compiled and in Python (energy-model hooks)."""

from __future__ import annotations

import random

import pytest

from evfleet import ChargingFunction, Model, RechargePolicy
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
