"""The arc-sum bound (distance, or driving time for the time objective) only refuses moves
that cannot help: the search takes the same steps with and without it."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_kernels import _random_plan, problems

from evfleet import Problem
from evfleet.io.instances import read_instance
from evfleet.problem import Objective
from evfleet.routing import kernels, local_search
from evfleet.routing.data import build_engine_data
from evfleet.routing.evaluate import Evaluator
from evfleet.routing.local_search import LocalSearch, PythonLocalSearch
from evfleet.routing.plan import Penalties
from evfleet.routing.solve import solve

SHARED = Path(__file__).resolve().parents[3] / "shared" / "benchmarks"


def test_driving_time_bounds_the_time_objective_from_below() -> None:
    """Driving time is the arc sum of the driving-and-charging-time objective: the bound
    is the objective when nothing is charged and below it otherwise."""
    problem = read_instance(SHARED / "evrp-nl-montoya" / "tc1c20s3ct1.xml")
    assert problem.objective is Objective.DRIVING_AND_CHARGING_TIME
    kd = Evaluator(build_engine_data(problem)).kernel_data
    assert np.array_equal(kernels.bound_arcs(kd), kd.dur)
    # Random routes through the clients, half of them with a charging stop.
    rng = random.Random(1)
    clients = list(range(kd.num_depots, kd.first_charger))
    chargers = list(range(kd.first_charger, kd.dist.shape[0]))
    for _ in range(50):
        route = rng.sample(clients, rng.randint(1, 8))
        if rng.random() < 0.5:
            route.insert(rng.randint(0, len(route)), rng.choice(chargers))
        out = np.zeros(kernels.NUM_FIELDS)
        arr = np.array(route, dtype=np.int64)
        kernels.evaluate_route(
            kd, 0, arr, len(route), np.zeros(len(route) + 1), False, out, np.zeros(len(route) + 1)
        )
        arcs = kernels.route_arcs(kd, kernels.bound_arcs(kd), 0, arr, len(route))
        assert arcs == pytest.approx(kernels.bound_base(kd, out), rel=1e-12)
        objective = kernels.objective_cost(kd, 0, out)
        assert arcs <= objective + 1e-9 * objective
        if out[kernels.CHARGING] == 0.0:
            assert arcs == pytest.approx(objective, rel=1e-12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(min_clients=3, max_clients=12), st.integers(0, 2**32 - 1))
def test_local_search_is_the_same_with_and_without_the_bound(problem: Problem, seed: int) -> None:
    """Compiled and Python searches, every objective (the bound is on for distance and
    driving-and-charging time)."""
    evaluator = Evaluator(build_engine_data(problem))
    for search_class in (LocalSearch, PythonLocalSearch):
        results = []
        for bounded in (True, False):
            rng = random.Random(seed)
            plan = _random_plan(evaluator, rng)
            penalties = Penalties(
                time_warp=rng.uniform(0.1, 10),
                load=rng.uniform(0.1, 10),
                energy=rng.uniform(0.1, 10),
            )
            search = search_class(plan, rng)
            assert search.arc_bound == (problem.objective in local_search.ARC_BOUNDED)
            search.arc_bound = search.arc_bound and bounded
            search.run(plan, penalties)
            results.append([list(r) for r in plan.routes])
        assert results[0] == results[1]


def test_solve_plans_the_same_with_and_without_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Montoya instance (driving and charging time, nonlinear charging): the same plan
    for a seed and an iteration count."""
    problem = read_instance(SHARED / "evrp-nl-montoya" / "tc1c20s3ct1.xml")
    plans = []
    for bounded in (local_search.ARC_BOUNDED, (Objective.DISTANCE,)):
        monkeypatch.setattr(local_search, "ARC_BOUNDED", bounded)
        solution = solve(problem, time_limit_s=600, seed=2, max_iterations=300)
        plans.append((solution.routes, solution.stats["objective"]))
    assert plans[0] == plans[1]
