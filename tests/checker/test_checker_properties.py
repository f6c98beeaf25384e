"""Property-based tests of the checker on random small problems and random plans."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evfleet import Model, Problem, RechargePolicy, Route, Solution, Visit
from evfleet.charging import ChargingFunction
from evfleet.checker import ENERGY_REL_TOL, CheckReport, Kind, check
from evfleet.io.solution_json import solution_from_dict, solution_to_dict

SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)

coords = st.integers(0, 100)


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    """1-6 clients and 0-3 chargers on a 100 m square; loose enough to be often feasible."""
    m = Model("random")
    m.add_depot(draw(coords), draw(coords))
    for _ in range(draw(st.integers(1, 6))):
        early = draw(st.integers(0, 300))
        wide = draw(st.booleans())
        m.add_client(
            draw(coords),
            draw(coords),
            demand_kg=draw(st.integers(0, 30)),
            service_s=draw(st.integers(0, 20)),
            tw_early_s=early if wide else 0,
            tw_late_s=early + draw(st.integers(100, 3000)) if wide else math.inf,
        )
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            function = ChargingFunction.linear(draw(st.sampled_from([0.0, 0.5, 2.0])))
        else:
            function = ChargingFunction.piecewise([(0, 0), (100, 50), (200, 150)])
        m.add_charger(draw(coords), draw(coords), function=function, price_per_kwh=0.3)
    m.add_vehicle_type(
        name="ev",
        capacity_kg=draw(st.integers(30, 200)),
        battery_wh=draw(st.integers(100, 1500)),
        energy_wh_per_m=draw(st.sampled_from([0.5, 1.0, 2.0])),
        fixed_cost=10.0,
        cost_per_m=0.01,
    )
    m.recharge = draw(st.sampled_from(list(RechargePolicy)))
    return m.data()


@st.composite
def plans(draw: st.DrawFn, problem: Problem) -> Solution:
    """Every client once, in random order and routes, with random charger stops."""
    order = draw(st.permutations([problem.client_index(c) for c in range(problem.num_clients)]))
    cuts = sorted(draw(st.sets(st.integers(1, len(order) - 1))) if len(order) > 1 else set())
    bounds = [0, *cuts, len(order)]
    routes = []
    for a, b in itertools.pairwise(bounds):
        visits = [Visit(loc) for loc in order[a:b]]
        if problem.num_chargers:
            for _ in range(draw(st.integers(0, 2))):
                charger = problem.charger_index(draw(st.integers(0, problem.num_chargers - 1)))
                amount = draw(st.none() | st.floats(0, 300, allow_nan=False))
                visits.insert(draw(st.integers(0, len(visits))), Visit(charger, amount))
        routes.append(Route(0, tuple(visits), draw(st.none() | st.floats(0, 100))))
    return Solution(tuple(routes), problem.name)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Problem, Solution]:
    problem = draw(problems())
    return problem, draw(plans(problem))


@st.composite
def accepted_cases(draw: st.DrawFn) -> tuple[Problem, Solution, CheckReport]:
    problem, plan = draw(cases())
    report = check(problem, plan)
    assume(report.feasible)
    return problem, plan, report


def round_trip(plan: Solution, problem: Problem) -> Solution:
    text = json.dumps(solution_to_dict(plan, problem), allow_nan=False)
    return solution_from_dict(json.loads(text), problem)


@SETTINGS
@given(accepted_cases())
def test_accepted_plans_stay_accepted_after_a_json_round_trip(
    case: tuple[Problem, Solution, CheckReport],
) -> None:
    problem, plan, report = case
    again = check(problem, round_trip(plan, problem))
    assert again.feasible
    assert again.objective_key == report.objective_key
    assert again.routes == report.routes


@SETTINGS
@given(cases())
def test_json_round_trip_keeps_the_verdict(case: tuple[Problem, Solution]) -> None:
    problem, plan = case
    assert round_trip(plan, problem).routes == plan.routes
    assert check(problem, round_trip(plan, problem)) == check(problem, plan)


@SETTINGS
@given(cases())
def test_distance_is_the_sum_of_matrix_entries(case: tuple[Problem, Solution]) -> None:
    problem, plan = case
    report = check(problem, plan)
    total = 0.0
    for route, route_report in zip(plan.routes, report.routes, strict=True):
        depot = problem.vehicle_types[route.vehicle_type].depot
        path = [depot, *route.locations(), depot]
        expected = math.fsum(problem.distance_m[i, j] for i, j in itertools.pairwise(path))
        assert math.isclose(route_report.distance_m, expected, rel_tol=1e-12, abs_tol=1e-9)
        total += expected
    assert math.isclose(report.distance_m, total, rel_tol=1e-12, abs_tol=1e-9)
    assert math.isclose(report.objective_value, report.distance_m)
    assert report.vehicles == sum(1 for r in plan.routes if r.visits)


@SETTINGS
@given(cases())
def test_load_and_capacity(case: tuple[Problem, Solution]) -> None:
    problem, plan = case
    report = check(problem, plan)
    capacity = problem.vehicle_types[0].capacity_kg
    for r, route in enumerate(plan.routes):
        load = sum(
            problem.clients[loc - problem.num_depots].demand_kg
            for loc in route.locations()
            if problem.is_client(loc)
        )
        assert report.routes[r].load_kg == load
        flagged = any(v.kind == Kind.CAPACITY and v.route == r for v in report.violations)
        assert flagged == (load > capacity)


@SETTINGS
@given(accepted_cases(), st.data())
def test_a_late_client_is_reported_at_its_stop(
    case: tuple[Problem, Solution, CheckReport], data: st.DataObject
) -> None:
    problem, plan, report = case
    stops = [
        (r, k)
        for r, route in enumerate(plan.routes)
        for k, visit in enumerate(route.visits)
        if problem.is_client(visit.location)
    ]
    r, k = data.draw(st.sampled_from(stops))
    loc = plan.routes[r].visits[k].location
    arrival = report.routes[r].timeline[k].arrival_s
    # Close the window before the vehicle arrives (opening it no later than that).
    c = loc - problem.num_depots
    client = problem.clients[c]
    late = arrival - 1.0
    clients = list(problem.clients)
    clients[c] = replace(client, tw_early_s=min(client.tw_early_s, late), tw_late_s=late)
    late_report = check(replace(problem, clients=tuple(clients)), plan)
    assert any(
        (v.kind, v.route, v.stop, v.location) == (Kind.TIME_WINDOW, r, k, client.name)
        for v in late_report.violations
    ), late_report.format()


@SETTINGS
@given(cases(), st.data())
def test_a_dropped_client_is_reported_missing(
    case: tuple[Problem, Solution], data: st.DataObject
) -> None:
    problem, plan = case
    stops = [
        (r, k)
        for r, route in enumerate(plan.routes)
        for k, visit in enumerate(route.visits)
        if problem.is_client(visit.location)
    ]
    r, k = data.draw(st.sampled_from(stops))
    route = plan.routes[r]
    name = problem.location_names()[route.visits[k].location]
    shorter = replace(route, visits=route.visits[:k] + route.visits[k + 1 :])
    dropped = replace(plan, routes=(*plan.routes[:r], shorter, *plan.routes[r + 1 :]))
    missing = [v for v in check(problem, dropped).violations if v.kind == Kind.MISSING_CLIENT]
    assert [(v.route, v.stop, v.location) for v in missing] == [(None, None, name)]


def with_battery(problem: Problem, battery_wh: float) -> Problem:
    vt = replace(problem.vehicle_types[0], battery_wh=battery_wh)
    return replace(problem, vehicle_types=(vt,))


@SETTINGS
@given(cases())
def test_a_battery_below_the_need_is_reported(case: tuple[Problem, Solution]) -> None:
    problem, plan = case
    # Charge to full everywhere: then the battery needed is the most energy used between
    # two charges, battery_wh - min_energy_wh.
    plan = Solution(
        tuple(replace(r, visits=tuple(Visit(v.location) for v in r.visits)) for r in plan.routes)
    )
    report = check(problem, plan)
    battery = problem.vehicle_types[0].battery_wh
    needs = [battery - route.min_energy_wh for route in report.routes]
    r = max(range(len(needs)), key=needs.__getitem__)
    need = needs[r]
    assume(need > 1e-3)

    short = check(with_battery(problem, need - 1e-3), plan)
    assert any(v.kind == Kind.ENERGY and v.route == r for v in short.violations), short.format()
    enough = check(with_battery(problem, need), plan)
    assert not any(v.kind == Kind.ENERGY for v in enough.violations), enough.format()
    assert enough.routes[r].min_energy_wh >= -ENERGY_REL_TOL * need


@SETTINGS
@given(cases(), st.lists(st.integers(-2, 15), min_size=1, max_size=6))
def test_arbitrary_locations_never_crash(case: tuple[Problem, Solution], locs: list[int]) -> None:
    problem, plan = case
    junk = Route(0, tuple(Visit(loc) for loc in locs))
    report = check(problem, replace(plan, routes=(*plan.routes, junk)))
    bad = [k for k, loc in enumerate(locs) if not 0 < loc < problem.num_locations]
    flagged = [v.stop for v in report.violations if v.kind == Kind.LOCATION]
    assert flagged == bad
    assert report.feasible is (not report.violations)
    for v in report.violations:
        if v.route is not None:
            assert v.message.startswith(f"route {v.route}")
