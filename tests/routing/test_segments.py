"""Route segments (constant-time move evaluation) against the route simulation, and the
local search with and without them (property-based)."""

from __future__ import annotations

import dataclasses
import math
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_kernels import _random_plan, problems, routes

from evfleet import Problem
from evfleet.io.instances import read_instance
from evfleet.routing import kernels
from evfleet.routing.data import build_engine_data
from evfleet.routing.evaluate import Evaluator
from evfleet.routing.local_search import LocalSearch
from evfleet.routing.plan import Penalties, Plan
from evfleet.routing.solve import solve

SHARED = Path(__file__).resolve().parents[3] / "shared" / "benchmarks"
# (LocalSearch.concatenation, LocalSearch.charging_min_stops): every route judged that
# segments can judge, the default, routes without charging stops only, none.
MODES = (
    (kernels.SEGMENTS_ALL, 0),
    (LocalSearch.concatenation, LocalSearch.charging_min_stops),
    (kernels.SEGMENTS_NO_CHARGING, 0),
    (kernels.SEGMENTS_OFF, 0),
)


def _segment(kd: kernels.KernelData, t: int, stops: list[int]) -> tuple[float, ...]:
    """The segment of ``stops`` joined one stop at a time."""
    seg = kernels._seg_node(kd, stops[0])
    for v in stops[1:]:
        seg = kernels._seg_join(kd, t, seg, kernels._seg_node(kd, v))
    return seg


def _depot(kd: kernels.KernelData, t: int, start: bool) -> tuple[float, ...]:
    return kernels._seg_depot(kd, t, start)


def _joined(kd: kernels.KernelData, t: int, *segments: tuple[float, ...]) -> tuple[float, ...]:
    out = segments[0]
    for seg in segments[1:]:
        out = kernels._seg_join(kd, t, out, seg)
    return out


def _assert_lower_bound(
    kd: kernels.KernelData, n: int, out: np.ndarray, cost: float, expected: np.ndarray
) -> None:
    """Partial recharge with several charging stops: distance, driving, load, energy
    used and deficit exact; charging, duration, time warp and energy cost (unless
    unknown) no more than simulated, and so the penalised cost."""
    exact = [
        kernels.DISTANCE,
        kernels.DRIVING,
        kernels.EXCESS_LOAD,
        kernels.ENERGY_DEFICIT,
        kernels.ENERGY_USED,
    ]
    assert out[exact] == pytest.approx(expected[exact], rel=1e-9, abs=1e-6)
    tol = 1e-6 + 1e-9 * np.abs(expected)
    bounded = [kernels.CHARGING, kernels.DURATION, kernels.TIME_WARP]
    assert np.all(out[bounded] <= expected[bounded] + tol[bounded])
    if not math.isnan(out[kernels.ENERGY_COST]):
        assert out[kernels.ENERGY_COST] <= expected[kernels.ENERGY_COST] + tol[kernels.ENERGY_COST]
    if not math.isnan(cost):
        simulated = kernels.penalised_cost(kd, 0, n, expected, np.ones(3))
        assert cost <= simulated + 1e-6 + 1e-9 * abs(simulated)


@st.composite
def route_cases(draw: st.DrawFn) -> tuple[Problem, list[int], int]:
    """A random problem, a route through some of its clients and up to two charging
    stops, and a place to cut it."""
    problem = draw(problems(min_clients=1, max_clients=9))
    if draw(st.booleans()):
        # Energy independent of the load: charging stops evaluated.
        vt = dataclasses.replace(problem.vehicle_types[0], arc_energy=None)
        problem = dataclasses.replace(problem, vehicle_types=(vt,))
    return problem, draw(routes(problem)), draw(st.integers(0, 12))


def _simulated(kd: kernels.KernelData, route: list[int]) -> np.ndarray:
    out = np.zeros(kernels.NUM_FIELDS)
    kernels.evaluate_route(
        kd,
        0,
        np.array(route, dtype=np.int64),
        len(route),
        np.zeros(len(route) + 1),
        False,
        out,
        np.zeros(len(route) + 1),
    )
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(route_cases())
def test_joined_segments_evaluate_as_the_simulation(case: tuple[Problem, list[int], int]) -> None:
    """Depot + route[:cut] joined to route[cut:] + depot gives every figure of the
    simulated route: distance, driving, charging, duration, time warp (windows, chargers'
    hours, shift end, maximum duration), excess load, energy used (load-dependent too),
    energy deficit and energy cost. With charging stops under full recharge, or one
    under partial recharge, and energy independent of the load; with two or more under
    partial recharge, lower bounds (:func:`_assert_lower_bound`); otherwise its cost is
    unknown (NaN)."""
    problem, route, cut = case
    cut = min(cut, len(route))
    evaluator = Evaluator(build_engine_data(problem))
    kd = evaluator.kernel_data
    head = [_depot(kd, 0, True)] + ([_segment(kd, 0, route[:cut])] if cut else [])
    tail = ([_segment(kd, 0, route[cut:])] if cut < len(route) else []) + [_depot(kd, 0, False)]
    whole = _joined(kd, 0, _joined(kd, 0, *head), _joined(kd, 0, *tail))
    chargers = sum(1 for v in route if problem.is_charger(v))
    assert whole[kernels.SEG_CHARGERS] == chargers
    out = np.zeros(kernels.NUM_FIELDS)
    cost = kernels._seg_cost(kd, 0, len(route), whole, np.ones(3), out)
    if not kernels._charging_segments(kd, 0, chargers):
        event("charging stop, not evaluated")
        assert math.isnan(cost)
        return
    expected = _simulated(kd, route)
    event(
        (f"{chargers} charging stop(s), {problem.recharge.value}, " if chargers else "")
        + ("feasible" if kernels.is_feasible(expected) else "infeasible")
    )
    if problem.recharge.value == "partial" and chargers > 1:
        _assert_lower_bound(kd, len(route), out, cost, expected)
        return
    assert out == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert kernels.is_feasible(out) == kernels.is_feasible(expected)
    assert cost == pytest.approx(
        kernels.penalised_cost(kd, 0, len(route), expected, np.ones(3)), rel=1e-9, abs=1e-6
    )


def test_partial_recharge_segments_bound_routes_with_several_charging_stops() -> None:
    """Under partial recharge one charging stop is evaluated exactly; with two, the
    segments give lower bounds: the van charges on the way (simulated) but the bound
    counts no charging time, and its deficits and distance are the simulated ones."""
    path = SHARED / "evrptw-schneider" / "c101C5.txt"
    full = Evaluator(build_engine_data(read_instance(path))).kernel_data
    assert kernels._charging_segments(full, 0, 3)
    partial = read_instance(path, recharge="partial")
    kd = Evaluator(build_engine_data(partial)).kernel_data
    assert kernels._charging_segments(kd, 0, 1)
    assert kernels._charging_segments(kd, 0, 2)
    c = partial.charger_index(0)
    stops = [partial.client_index(0), c, partial.client_index(1), c, partial.client_index(2)]
    seg = _joined(kd, 0, _depot(kd, 0, True), _segment(kd, 0, stops), _depot(kd, 0, False))
    out = np.zeros(kernels.NUM_FIELDS)
    cost = kernels._seg_cost(kd, 0, len(stops), seg, np.ones(3), out)
    expected = _simulated(kd, stops)
    assert expected[kernels.CHARGING] > 0.0
    assert out[kernels.CHARGING] == 0.0
    _assert_lower_bound(kd, len(stops), out, cost, expected)
    assert cost < kernels.penalised_cost(kd, 0, len(stops), expected, np.ones(3))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(min_clients=2, max_clients=10), st.integers(0, 2**32 - 1))
def test_light_segments_cost_as_the_simulation(problem: Problem, seed: int) -> None:
    """Routes without charging stops, judged from light segments: moving one to three
    stops to another route (or an empty one) and exchanging tails give the penalised
    costs of simulating the new routes."""
    evaluator = Evaluator(build_engine_data(problem))
    kd = evaluator.kernel_data
    rng = random.Random(seed)
    plan = _random_plan(evaluator, rng)
    plan = Plan(
        evaluator, [[v for v in r if not problem.is_charger(v)] for r in plan.routes], plan.types
    )
    search = LocalSearch(plan, rng)
    state = search._load(plan, Penalties(time_warp=1.5, load=2.0, energy=0.5))
    for r in range(len(plan.routes)):
        kernels._refresh_segments(kd, state, r)

    def simulated(route: list[int]) -> float:
        if not route:
            return 0.0
        return kernels.penalised_cost(kd, 0, len(route), _simulated(kd, route), state.penalties)

    routes_ = plan.routes
    for _ in range(20):
        ru, rv = rng.randrange(len(routes_)), rng.randrange(len(routes_))
        a, b = routes_[ru], routes_[rv]
        if not a or ru == rv:
            continue
        pu = rng.randrange(len(a))
        seg = rng.randint(1, len(a) - pu)
        at = rng.randint(0, len(b))
        assert kernels._lt_tails(kd, state, ru, 0, pu, ru, pu + seg) == pytest.approx(
            simulated(a[:pu] + a[pu + seg :]), rel=1e-9, abs=1e-6
        )
        assert kernels._lt_moved(kd, state, ru, 0, pu, seg, rv, at) == pytest.approx(
            simulated(b[:at] + a[pu : pu + seg] + b[at:]), rel=1e-9, abs=1e-6
        )
        iv = rng.randint(0, len(b))
        assert kernels._lt_tails(kd, state, ru, 0, pu, rv, iv) == pytest.approx(
            simulated(a[:pu] + b[iv:]), rel=1e-9, abs=1e-6
        )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(min_clients=2, max_clients=10), st.booleans(), st.integers(0, 2**32 - 1))
def test_full_segments_cost_as_the_simulation(problem: Problem, load_free: bool, seed: int) -> None:
    """Routes with charging stops, judged from full segments held in registers: moving
    one to three stops to another route, exchanging tails and replacing a stop give the
    penalised costs of simulating the new routes wherever segments can tell, lower bounds
    of them under partial recharge with two or more charging stops (NaN otherwise:
    load-dependent energy with a charging stop, or more than two charging stops in a
    row at a cut)."""
    if load_free:
        vt = dataclasses.replace(problem.vehicle_types[0], arc_energy=None)
        problem = dataclasses.replace(problem, vehicle_types=(vt,))
    evaluator = Evaluator(build_engine_data(problem))
    kd = evaluator.kernel_data
    rng = random.Random(seed)
    plan = _random_plan(evaluator, rng)
    search = LocalSearch(plan, rng)
    state = search._load(plan, Penalties(time_warp=1.5, load=2.0, energy=0.5))
    for r in range(len(plan.routes)):
        kernels._refresh_segments(kd, state, r)

    def check(judged: float, route: list[int]) -> None:
        chargers = sum(1 for v in route if problem.is_charger(v))
        if math.isnan(judged):
            event("cannot tell")
            return
        event(f"told, {min(chargers, 2)}+ charging stops")
        expected = 0.0
        if route:
            expected = kernels.penalised_cost(
                kd, 0, len(route), _simulated(kd, route), state.penalties
            )
        if problem.recharge.value == "partial" and chargers > 1:
            assert judged <= expected + 1e-6 + 1e-9 * abs(expected)  # a lower bound
            return
        assert judged == pytest.approx(expected, rel=1e-9, abs=1e-6)

    routes_ = plan.routes
    clients = [
        (r, p) for r, route in enumerate(routes_) for p, v in enumerate(route)
        if problem.is_client(v)
    ]  # fmt: skip
    for _ in range(20):
        ru, pu = rng.choice(clients)
        rv = rng.randrange(len(routes_))
        a, b = routes_[ru], routes_[rv]
        seg = rng.randint(1, min(3, len(a) - pu))
        at = rng.randint(0, len(b))
        check(kernels._seg_tails(kd, state, ru, 0, pu, ru, pu + seg), a[:pu] + a[pu + seg :])
        if rv != ru:
            moved = b[:at] + a[pu : pu + seg] + b[at:]
            check(kernels._seg_moved(kd, state, ru, 0, pu, seg, rv, at), moved)
        iv = rng.randint(0, len(b))
        check(kernels._seg_tails(kd, state, ru, 0, pu, rv, iv), a[:pu] + b[iv:])
        v = rng.choice(clients)
        replaced = a[:pu] + [routes_[v[0]][v[1]]] + a[pu + 1 :]
        check(kernels._seg_replaced(kd, state, ru, 0, pu, routes_[v[0]][v[1]]), replaced)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(min_clients=3, max_clients=12), st.integers(0, 2**32 - 1))
def test_local_search_is_the_same_with_and_without_segments(problem: Problem, seed: int) -> None:
    """Segments only decide sooner which moves do not help: the search takes the same
    steps with segments for every route they can judge, for routes without charging
    stops only (the default), and without segments."""
    evaluator = Evaluator(build_engine_data(problem))
    results = []
    for concatenation, min_stops in MODES:
        rng = random.Random(seed)
        plan = _random_plan(evaluator, rng)
        penalties = Penalties(
            time_warp=rng.uniform(0.1, 10), load=rng.uniform(0.1, 10), energy=rng.uniform(0.1, 10)
        )
        search = LocalSearch(plan, rng)
        search.concatenation = concatenation
        search.charging_min_stops = min_stops
        search.run(plan, penalties)
        results.append([list(r) for r in plan.routes])
    assert all(result == results[0] for result in results)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("solomon/R201.100.8.vrptw", {"convention": "dimacs"}),
        ("evrptw-schneider/r102_21.txt", {}),
        ("evrptw-schneider/r102_21.txt", {"recharge": "partial"}),
        # Routes of about 30 stops: the default judges those with charging stops too.
        ("evrptw-schneider/r201_21.txt", {}),
    ],
)
def test_solve_plans_the_same_with_and_without_segments(
    name: str, options: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a Solomon instance (no battery) and a Schneider one with full recharge, where
    moves on routes with charging stops can be judged from segments, and with partial
    recharge, where routes with more than one are simulated."""
    problem = read_instance(SHARED / name, **options)
    plans = []
    for concatenation, min_stops in MODES:
        monkeypatch.setattr(LocalSearch, "concatenation", concatenation)
        monkeypatch.setattr(LocalSearch, "charging_min_stops", min_stops)
        solution = solve(problem, time_limit_s=600, seed=3, max_iterations=150)
        plans.append((solution.routes, solution.stats["objective"]))
    assert all(plan == plans[0] for plan in plans)
