"""The compiled kernels against the independent checker, and the compiled local search's
invariants, on random small problems (property-based)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from evfleet import ChargingFunction, Model, Objective, Problem, RechargePolicy
from evfleet.checker import CheckReport, Kind, check
from evfleet.checker.check import RouteReport
from evfleet.problem import ArcEnergy
from evfleet.routing import kernels
from evfleet.routing.data import EngineData, build_engine_data
from evfleet.routing.evaluate import Evaluator, RouteEval
from evfleet.routing.local_search import LocalSearch, PythonLocalSearch
from evfleet.routing.plan import Penalties, Plan
from evfleet.solution import Route, Solution, Visit

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LS_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

coords = st.integers(0, 100)

TIME_KINDS = {
    Kind.TIME_WINDOW,
    Kind.CHARGER_CLOSED,
    Kind.DEPOT_CLOSED,
    Kind.SHIFT_END,
    Kind.MAX_DURATION,
}
PLAN_KINDS = {Kind.MISSING_CLIENT, Kind.DUPLICATE_CLIENT, Kind.FLEET_SIZE}


charging_functions = st.one_of(
    st.sampled_from([0.0, 0.1, 0.5, 2.0]).map(ChargingFunction.linear),
    st.just(ChargingFunction.piecewise([(0, 0), (100, 30), (250, 120), (300, 200)])),
    # A curve shorter than the battery: its last segment is extended.
    st.just(ChargingFunction.piecewise([(0, 0), (50, 10), (80, 40)])),
)


@st.composite
def problems(
    draw: st.DrawFn, *, min_clients: int = 1, max_clients: int = 7, hook: bool = False
) -> Problem:
    """Clients with windows and demands, chargers with constant rates or concave curves
    and sometimes opening hours (and the vehicle's own curve at some), a battery from
    hopeless to ample, either policy; energy per metre, load-dependent per arc
    (``ArcEnergy``), or a Python hook (``hook``); cost and carbon prices."""
    m = Model("random")
    m.objective = draw(st.sampled_from(list(Objective)))
    m.recharge = draw(st.sampled_from(list(RechargePolicy)))
    m.add_depot(draw(coords), draw(coords), tw_late_s=draw(st.sampled_from([math.inf, 2000])))
    for _ in range(draw(st.integers(min_clients, max_clients))):
        early = draw(st.integers(0, 400))
        windowed = draw(st.booleans())
        m.add_client(
            draw(coords),
            draw(coords),
            demand_kg=draw(st.integers(0, 30)),
            service_s=draw(st.integers(0, 30)),
            tw_early_s=early if windowed else 0,
            tw_late_s=early + draw(st.integers(20, 600)) if windowed else math.inf,
        )
    num_chargers = draw(st.integers(0, 3))
    for _ in range(num_chargers):
        opening = draw(st.booleans())
        m.add_charger(
            draw(coords),
            draw(coords),
            function=draw(charging_functions),
            price_per_kwh=draw(st.sampled_from([0.0, 0.3])),
            open_s=draw(st.integers(0, 300)) if opening else 0.0,
            close_s=draw(st.integers(300, 1500)) if opening else math.inf,
        )
    rate = draw(st.sampled_from([0.5, 1.0, 2.0]))
    per_kg = draw(st.sampled_from([0.0, 0.01])) if hook else 0.0

    def model(i: int, j: int, distance_m: float, load_kg: float) -> float:
        return rate * distance_m + per_kg * distance_m * load_kg

    battery = draw(st.integers(60, 600))
    start = draw(st.none() | st.sampled_from([0.0, 0.3, 1.0]))
    m.add_vehicle_type(
        name="ev",
        capacity_kg=draw(st.integers(20, 150)),
        battery_wh=battery,
        initial_energy_wh=None if start is None else start * battery,
        energy_wh_per_m=rate,
        fixed_cost=10.0,
        cost_per_m=0.01,
        cost_per_s=0.001,
        shift_end_s=draw(st.sampled_from([math.inf, 1200.0])),
        max_duration_s=draw(st.sampled_from([math.inf, 900.0])),
        energy_model=model if hook else None,
    )
    problem = m.data()
    vt = dataclasses.replace(
        problem.vehicle_types[0],
        energy_cost_per_wh=draw(st.sampled_from([0.0, 2e-4])),
        co2e_kg_per_wh=draw(st.sampled_from([0.0, 5e-4])),
    )
    own = {(0, k): draw(charging_functions) for k in range(num_chargers) if draw(st.booleans())}
    problem = dataclasses.replace(
        problem,
        vehicle_types=(vt,),
        charging_functions=own,
        carbon_price_per_kg=draw(st.sampled_from([0.0, 0.1])),
    )
    if not hook and draw(st.booleans()):
        # Load-dependent energy, compiled: ``rate + 0.01 * load`` Wh per metre.
        dist = problem.distance_m
        arcs = ArcEnergy(rate * dist, draw(st.sampled_from([0.0, 0.01])) * dist)
        vt = dataclasses.replace(problem.vehicle_types[0], arc_energy=arcs)
        problem = dataclasses.replace(problem, vehicle_types=(vt,))
    return problem


@st.composite
def routes(draw: st.DrawFn, problem: Problem) -> list[int]:
    clients = [problem.client_index(k) for k in range(problem.num_clients)]
    route = draw(st.permutations(clients))[: draw(st.integers(1, len(clients)))]
    if problem.num_chargers:
        for _ in range(draw(st.integers(0, 2))):
            charger = problem.charger_index(draw(st.integers(0, problem.num_chargers - 1)))
            route.insert(draw(st.integers(0, len(route))), charger)
    return route


@st.composite
def cases(draw: st.DrawFn, hook: bool = False) -> tuple[Problem, list[int]]:
    problem = draw(problems(hook=hook))
    return problem, draw(routes(problem))


def _checked(problem: Problem, route: list[int], ev: RouteEval) -> tuple[CheckReport, set[str]]:
    """The checker's report on the single route, with the kernel's charge amounts."""
    charges = iter(ev.charges_wh)
    visits = tuple(Visit(v, next(charges)) if problem.is_charger(v) else Visit(v) for v in route)
    report = check(problem, Solution((Route(0, visits),), problem.name))
    kinds = {v.kind for v in report.violations} - {k.value for k in PLAN_KINDS}
    return report, kinds


def _agree(problem: Problem, route: list[int], ev: RouteEval, evaluator: Evaluator) -> str:
    """Asserts the kernel's and the checker's verdicts agree; returns the verdict."""
    report, kinds = _checked(problem, route, ev)
    rr = report.routes[0]
    if ev.feasible:
        assert not kinds, (route, report.format(), ev)
        for mine, theirs in (
            (ev.distance_m, rr.distance_m),
            (ev.driving_s, rr.driving_s),
            (ev.charging_s, rr.charging_s),
            (ev.duration_s, rr.duration_s),
            (evaluator.objective_cost(0, ev), _objective(problem, rr)),
        ):
            assert mine == pytest.approx(theirs, rel=1e-6, abs=1e-6), (route, ev, rr)
        charged = [
            s.charged_wh for s, v in zip(rr.timeline, route, strict=False) if problem.is_charger(v)
        ]
        assert list(ev.charges_wh) == pytest.approx(charged, rel=1e-6, abs=1e-6)
    if Kind.ENERGY.value in kinds:
        assert ev.energy_deficit_wh > 0.0
    elif kinds & {k.value for k in TIME_KINDS}:
        # (Below zero, the checker charges from a negative energy, for longer than the
        # kernel, which stops the battery at empty: times compare only without that.)
        assert ev.time_warp_s > 0.0
    if Kind.CAPACITY.value in kinds:
        assert ev.excess_load_kg > 0.0
    return "feasible" if ev.feasible else "infeasible: " + ", ".join(sorted(kinds))


def _objective(problem: Problem, rr: RouteReport) -> float:
    if problem.objective is Objective.DRIVING_AND_CHARGING_TIME:
        return rr.driving_s + rr.charging_s
    if problem.objective is Objective.COST:
        return rr.cost
    return rr.distance_m


@SETTINGS
@given(cases())
def test_kernel_agrees_with_the_checker(case: tuple[Problem, list[int]]) -> None:
    problem, route = case
    evaluator = Evaluator(build_engine_data(problem))
    event(_agree(problem, route, evaluator.evaluate(0, route), evaluator))


@SETTINGS
@given(cases(hook=True))
def test_energy_model_hook_and_compiled_linear_load_model_agree_with_the_checker(
    case: tuple[Problem, list[int]],
) -> None:
    """The hook ``rate * d + per_kg * d * load`` evaluated through Python (the hook path)
    and the same model as ``ArcEnergy`` matrices (compiled ``e0 + e1 * load``) give the
    checker's figures."""
    problem, route = case
    hooked = Evaluator(build_engine_data(problem))
    assert hooked.data.types[0].load_dependent
    ev = hooked.evaluate(0, route)
    event(_agree(problem, route, ev, hooked))

    vt = problem.vehicle_types[0]
    per_kg = vt.arc_energy_wh(0, 1, 1.0, 1.0) - vt.arc_energy_wh(0, 1, 1.0, 0.0)
    arcs = ArcEnergy(vt.energy_wh_per_m * problem.distance_m, per_kg * problem.distance_m)
    vt = dataclasses.replace(vt, arc_energy=arcs, energy_model=None)
    linear = dataclasses.replace(problem, vehicle_types=(vt,))
    compiled = Evaluator(build_engine_data(linear))
    assert not compiled.data.types[0].load_dependent
    assert compiled.kernel_data.e1.shape[1] == problem.num_locations
    again = compiled.evaluate(0, route)
    _agree(linear, route, again, compiled)
    for a, b in zip(dataclasses.astuple(ev), dataclasses.astuple(again), strict=True):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9)


def test_diesel_vehicle_pays_fuel_and_cannot_charge() -> None:
    m = Model("diesel")
    m.objective = Objective.COST
    m.add_depot(0, 0)
    m.add_client(300, 0, demand_kg=5)
    m.add_client(300, 400, demand_kg=5)
    m.add_charger(0, 400, power_w=10_000)
    m.add_vehicle_type(
        name="van", powertrain="diesel", fuel_l_per_m=1e-4, fixed_cost=50.0, cost_per_s=0.01
    )
    problem = m.data()
    vt = dataclasses.replace(problem.vehicle_types[0], fuel_cost_per_l=1.8, co2e_kg_per_l=3.2)
    problem = dataclasses.replace(problem, vehicle_types=(vt,), carbon_price_per_kg=0.1)
    evaluator = Evaluator(build_engine_data(problem))
    ev = evaluator.evaluate(0, [1, 2])
    _agree(problem, [1, 2], ev, evaluator)
    assert ev.feasible
    fuel_l = 1e-4 * 1200.0
    expected = 50.0 + 0.01 * 1200.0 + fuel_l * 1.8 + 0.1 * fuel_l * 3.2
    assert evaluator.objective_cost(0, ev) == pytest.approx(expected)
    through_charger = evaluator.evaluate(0, [1, 2, 3])
    assert not through_charger.feasible
    _agree(problem, [1, 2, 3], through_charger, evaluator)
    _, kinds = _checked(problem, [1, 2, 3], through_charger)
    assert Kind.DIESEL_CHARGING.value in kinds


def test_piecewise_charging_time_follows_the_curve() -> None:
    curve = ChargingFunction.piecewise([(0, 0), (100, 30), (250, 120), (300, 200)])
    m = Model("curve")
    m.add_depot(0, 0)
    m.add_charger(10, 0, function=curve)
    m.add_vehicle_type(battery_wh=400, energy_wh_per_m=1.0)
    problem = m.data()
    data = build_engine_data(problem)
    kd = Evaluator(data).kernel_data
    for lo, hi in [(0, 50), (50, 100), (90, 260), (0, 300), (280, 400), (350, 390), (5, 5)]:
        expected = curve.charge_time_s(lo, hi)
        assert kernels.charge_time(kd, 0, 0, float(lo), float(hi)) == pytest.approx(expected)
    # The vehicle's own (linear) function at that charger takes over.
    own = ChargingFunction.linear(0.25)
    data = build_engine_data(dataclasses.replace(problem, charging_functions={(0, 0): own}))
    kd = Evaluator(data).kernel_data
    assert kernels.charge_time(kd, 0, 0, 100.0, 300.0) == pytest.approx(50.0)
    assert data.charge_time_s(data.first_charger, 100.0, 300.0, 0) == pytest.approx(50.0)
    assert data.charge_time_s(data.first_charger, 100.0, 300.0) == pytest.approx(170.0)


# --- local search ---------------------------------------------------------------------


def _random_plan(evaluator: Evaluator, rng: random.Random) -> Plan:
    data = evaluator.data
    clients = list(range(data.first_client, data.first_charger))
    rng.shuffle(clients)
    cuts = sorted(rng.sample(range(1, len(clients)), rng.randint(0, min(3, len(clients) - 1))))
    bounds = [0, *cuts, len(clients)]
    plan_routes = [clients[a:b] for a, b in itertools.pairwise(bounds)]
    chargers = list(range(data.first_charger, data.num_locations))
    for route in plan_routes:
        if chargers and rng.random() < 0.5:
            route.insert(rng.randint(0, len(route)), rng.choice(chargers))
    plan = Plan(evaluator, plan_routes, [0] * len(plan_routes))
    plan.ensure_spare_routes()
    return plan


def _assert_sound(plan: Plan, evaluator: Evaluator) -> None:
    data = evaluator.data
    visits = Counter(v for r in plan.routes for v in r if data.is_client(v))
    assert sorted(visits) == list(range(data.first_client, data.first_charger))
    assert set(visits.values()) == {1}
    assert len(plan.routes) == len(plan.types) == len(plan.evals) == len(plan.stamps)
    for t, route, ev in zip(plan.types, plan.routes, plan.evals, strict=True):
        assert ev == evaluator.evaluate(t, route)


@LS_SETTINGS
@given(problems(min_clients=3, max_clients=12), st.integers(0, 2**32 - 1))
def test_local_search_never_worsens_and_keeps_every_client_once(
    problem: Problem, seed: int
) -> None:
    evaluator = Evaluator(build_engine_data(problem))
    rng = random.Random(seed)
    plan = _random_plan(evaluator, rng)
    penalties = Penalties(
        time_warp=rng.uniform(0.1, 10), load=rng.uniform(0.1, 10), energy=rng.uniform(0.1, 10)
    )
    before = plan.cost(penalties)
    search = LocalSearch(plan, rng)
    search.run(plan, penalties)
    after = plan.cost(penalties)
    assert after <= before + 1e-9 * max(1.0, abs(before))
    _assert_sound(plan, evaluator)
    # The result is a local optimum: searching again from scratch finds nothing.
    local_optimum = [list(r) for r in plan.routes]
    search.last_tested.clear()
    search.charger_tested.clear()
    search.run(plan, penalties)
    assert plan.routes == local_optimum


@LS_SETTINGS
@given(problems(min_clients=3, max_clients=10, hook=True), st.integers(0, 2**32 - 1))
def test_python_local_search_for_energy_model_hooks(problem: Problem, seed: int) -> None:
    evaluator = Evaluator(build_engine_data(problem))
    rng = random.Random(seed)
    plan = _random_plan(evaluator, rng)
    penalties = Penalties(time_warp=1.0, load=1.0, energy=1.0)
    before = plan.cost(penalties)
    search = LocalSearch(plan, rng)
    assert isinstance(search._python, PythonLocalSearch)
    search.run(plan, penalties)
    assert plan.cost(penalties) <= before + 1e-9 * max(1.0, abs(before))
    _assert_sound(plan, evaluator)
    local_optimum = [list(r) for r in plan.routes]
    search.last_tested.clear()
    search.charger_tested.clear()
    search.run(plan, penalties)
    assert plan.routes == local_optimum


def _twelve_client_problem() -> Problem:
    rng = random.Random(4)
    m = Model("twelve")
    m.add_depot(50, 50, tw_late_s=5000)
    for _ in range(12):
        early = rng.uniform(0, 1500)
        m.add_client(
            rng.uniform(0, 100),
            rng.uniform(0, 100),
            demand_kg=rng.randint(1, 10),
            service_s=10,
            tw_early_s=early,
            tw_late_s=early + 800,
        )
    m.add_charger(20, 20, power_w=3600)
    m.add_charger(80, 80, power_w=3600)
    m.add_vehicle_type(capacity_kg=30, battery_wh=150, energy_wh_per_m=1.0)
    return m.data()


def test_local_search_is_reproducible_for_a_seed() -> None:
    problem = _twelve_client_problem()
    results = []
    for _ in range(2):
        evaluator = Evaluator(build_engine_data(problem))
        rng = random.Random(7)
        plan = _random_plan(evaluator, rng)
        LocalSearch(plan, rng).run(plan, Penalties(1.0, 1.0, 1.0))
        results.append([list(r) for r in plan.routes])
    assert results[0] == results[1]


def test_local_search_grows_its_arrays_when_it_needs_more_routes() -> None:
    """One route handed in for a type of six vehicles: the spare routes need more rows."""
    problem = _twelve_client_problem()
    vt = dataclasses.replace(problem.vehicle_types[0], count=6)
    problem = dataclasses.replace(problem, vehicle_types=(vt,))
    evaluator = Evaluator(build_engine_data(problem))
    clients = list(range(evaluator.data.first_client, evaluator.data.first_charger))
    plan = Plan(evaluator, [clients], [0])
    search = LocalSearch(plan, random.Random(0))
    search.run(plan, Penalties(100.0, 100.0, 100.0))
    _assert_sound(plan, evaluator)
    assert len(plan.routes) == 6
    assert plan.num_vehicles > 1  # one vehicle cannot carry 12 clients of 1-10 kg in 30 kg


def test_kernel_data_describes_the_problem() -> None:
    problem = _twelve_client_problem()
    data: EngineData = build_engine_data(problem)
    kd = Evaluator(data).kernel_data
    assert np.array_equal(kd.dist, data.dist_m)
    assert kd.first_charger == data.first_charger
    assert kd.num_depots == data.num_depots
    assert list(kd.type_count) == [-1]
    assert kd.e1.shape == (1, 0, 0)
    assert bool(kd.full_recharge) is (problem.recharge is RechargePolicy.FULL)
