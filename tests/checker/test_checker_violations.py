"""One tiny problem per rule: the checker reports each violation kind at the right place.

The base problem lies on a line (Euclidean metres at 1 m/s, 1 Wh/m):

    D0 (x=0) -- C1 (x=10) -- S0 (x=15) -- C2 (x=20)

Locations: 0 = D0, 1 = C1, 2 = C2, 3 = S0. The route D0 C1 C2 D0 drives 40 m; C1 and C2
each take 2 s of service and 5 kg.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from evfleet import Model, Objective, Problem, RechargePolicy, Route, Solution, Visit
from evfleet.charging import ChargingFunction
from evfleet.checker import CheckReport, Kind, Violation, check

D0, C1, C2, S0 = 0, 1, 2, 3


def line_problem(
    *,
    vehicle: dict[str, Any] | None = None,
    charger: dict[str, Any] | None = None,
    c2: dict[str, Any] | None = None,
    depot: dict[str, Any] | None = None,
    recharge: RechargePolicy = RechargePolicy.FULL,
    objective: Objective = Objective.VEHICLES_THEN_DISTANCE,
    diesel: bool = False,
) -> Problem:
    m = Model("line")
    m.add_depot(0, 0, **(depot or {}))
    m.add_client(10, 0, demand_kg=5, service_s=2)
    m.add_client(20, 0, **{"demand_kg": 5, "service_s": 2, **(c2 or {})})
    m.add_charger(15, 0, **{"power_w": 3600.0, **(charger or {})})  # 1 s per Wh
    kwargs: dict[str, Any] = {"battery_wh": 100, "energy_wh_per_m": 1, "capacity_kg": 10}
    m.add_vehicle_type(name="ev", **{**kwargs, **(vehicle or {})})
    if diesel:
        m.add_vehicle_type(name="van", powertrain="diesel", fuel_l_per_m=0.001)
    m.recharge = recharge
    m.objective = objective
    return m.data()


def solution(*routes: list[int], vehicle_type: int = 0, start_s: float | None = None) -> Solution:
    return Solution(
        tuple(Route(vehicle_type, tuple(Visit(loc) for loc in r), start_s) for r in routes)
    )


def only(report: CheckReport, kind: Kind) -> Violation:
    """The single violation of ``kind``, asserting there are no others at all."""
    assert [v.kind for v in report.violations] == [kind], report.format()
    return report.violations[0]


def test_feasible_route_and_its_totals() -> None:
    report = check(line_problem(), solution([C1, C2]))
    assert report.feasible, report.format()
    assert report.vehicles == 1
    assert report.distance_m == pytest.approx(40.0)
    assert report.objective_value == pytest.approx(40.0)
    route = report.routes[0]
    assert route.duration_s == pytest.approx(44.0)
    assert route.service_s == pytest.approx(4.0)
    assert route.load_kg == pytest.approx(10.0)
    assert route.min_energy_wh == pytest.approx(60.0)
    assert [s.location for s in route.timeline] == ["C1", "C2", "D0"]
    assert [s.arrival_s for s in route.timeline] == pytest.approx([10.0, 22.0, 44.0])
    assert [s.load_kg for s in route.timeline] == pytest.approx([5.0, 0.0, 0.0])
    assert report.format() == "vehicles 1, distance 40.00\nfeasible"


def test_capacity() -> None:
    report = check(line_problem(vehicle={"capacity_kg": 8}), solution([C1, C2]))
    v = only(report, Kind.CAPACITY)
    assert (v.route, v.stop, v.location) == (0, 1, "C2")
    assert "10.0 kg" in v.message and "8.0 kg" in v.message


def test_late_service_start() -> None:
    report = check(line_problem(c2={"tw_late_s": 15}), solution([C1, C2]))
    v = only(report, Kind.TIME_WINDOW)
    assert (v.route, v.stop, v.location) == (0, 1, "C2")
    assert v.message == (
        "route 0, stop 1 (C2): service starts at 22.0 s, after the window closes at 15.0 s"
    )


def test_waiting_for_a_window_to_open_is_allowed() -> None:
    report = check(line_problem(c2={"tw_early_s": 30, "tw_late_s": 30}), solution([C1, C2]))
    assert report.feasible, report.format()
    assert report.routes[0].waiting_s == pytest.approx(8.0)
    assert report.routes[0].timeline[1].start_s == pytest.approx(30.0)


def test_start_time_shifts_the_route() -> None:
    report = check(line_problem(c2={"tw_late_s": 25}), solution([C1, C2], start_s=5.0))
    v = only(report, Kind.TIME_WINDOW)
    assert "27.0 s" in v.message


def test_energy_below_zero() -> None:
    report = check(line_problem(vehicle={"battery_wh": 15}), solution([C1, C2]))
    energy = [v for v in report.violations if v.kind == Kind.ENERGY]
    assert [(v.route, v.stop, v.location) for v in energy] == [(0, 1, "C2"), (0, 2, "D0")]
    assert report.routes[0].min_energy_wh == pytest.approx(-25.0)


def test_energy_uses_the_load_on_each_arc() -> None:
    arcs: list[tuple[int, int, float, float]] = []

    def model(i: int, j: int, distance_m: float, load_kg: float) -> float:
        arcs.append((i, j, distance_m, load_kg))
        return distance_m * (1.0 + load_kg)

    problem = line_problem(vehicle={"energy_model": model, "battery_wh": 1000})
    report = check(problem, solution([C1, C2]))
    assert arcs == [(D0, C1, 10.0, 10.0), (C1, C2, 10.0, 5.0), (C2, D0, 20.0, 0.0)]
    assert report.routes[0].min_energy_wh == pytest.approx(1000 - 110 - 60 - 20)


def test_full_recharge_fills_the_battery() -> None:
    report = check(line_problem(), solution([C1, S0, C2]))
    assert report.feasible, report.format()
    stop = report.routes[0].timeline[1]
    assert (stop.energy_arrival_wh, stop.energy_departure_wh) == pytest.approx((85.0, 100.0))
    assert stop.charging_s == pytest.approx(15.0)
    assert report.routes[0].energy_charged_wh == pytest.approx(15.0)


def test_full_recharge_ignores_charge_wh() -> None:
    route = Route(0, (Visit(C1), Visit(S0, charge_wh=1.0), Visit(C2)))
    report = check(line_problem(), Solution((route,)))
    assert report.feasible, report.format()
    assert report.routes[0].timeline[1].charged_wh == pytest.approx(15.0)


def test_partial_recharge_charges_charge_wh() -> None:
    route = Route(0, (Visit(C1), Visit(S0, charge_wh=4.0), Visit(C2)))
    report = check(line_problem(recharge=RechargePolicy.PARTIAL), Solution((route,)))
    assert report.feasible, report.format()
    stop = report.routes[0].timeline[1]
    assert (stop.charged_wh, stop.charging_s) == pytest.approx((4.0, 4.0))


def test_partial_recharge_too_little_runs_out() -> None:
    problem = line_problem(recharge=RechargePolicy.PARTIAL, vehicle={"battery_wh": 20})
    route = Route(0, (Visit(C1), Visit(S0, charge_wh=5.0), Visit(C2)))
    v = only(check(problem, Solution((route,))), Kind.ENERGY)
    assert (v.route, v.stop, v.location) == (0, 3, "D0")


def test_overcharge() -> None:
    route = Route(0, (Visit(C1), Visit(S0, charge_wh=50.0), Visit(C2)))
    report = check(line_problem(recharge=RechargePolicy.PARTIAL), Solution((route,)))
    v = only(report, Kind.OVERCHARGE)
    assert (v.route, v.stop, v.location) == (0, 1, "S0")
    assert "135.0 Wh" in v.message
    assert report.routes[0].timeline[1].energy_departure_wh == pytest.approx(100.0)


def test_negative_charge_amount() -> None:
    route = Route(0, (Visit(C1), Visit(S0, charge_wh=-1.0), Visit(C2)))
    v = only(
        check(line_problem(recharge=RechargePolicy.PARTIAL), Solution((route,))), Kind.CHARGE_AMOUNT
    )
    assert (v.route, v.stop) == (0, 1)


def test_charge_amount_at_a_client() -> None:
    route = Route(0, (Visit(C1, charge_wh=3.0), Visit(C2)))
    v = only(check(line_problem(), Solution((route,))), Kind.CHARGE_AMOUNT)
    assert (v.route, v.stop, v.location) == (0, 0, "C1")


def test_piecewise_charging_time() -> None:
    curve = ChargingFunction.piecewise([(0, 0), (90, 90), (100, 120)])  # 3 s/Wh above 90 Wh
    report = check(line_problem(charger={"function": curve, "power_w": None}), solution([C1, S0]))
    # Arrives with 85 Wh: 5 Wh at 1 s/Wh, then 10 Wh at 3 s/Wh.
    assert report.routes[0].timeline[1].charging_s == pytest.approx(35.0)


def test_charger_closed() -> None:
    report = check(line_problem(charger={"close_s": 20}), solution([C1, S0, C2]))
    v = only(report, Kind.CHARGER_CLOSED)
    assert (v.route, v.stop, v.location) == (0, 1, "S0")
    assert "from 17.0 s to 32.0 s" in v.message


def test_charger_not_open_yet_means_waiting() -> None:
    report = check(line_problem(charger={"open_s": 30}), solution([C1, S0, C2]))
    assert report.feasible, report.format()
    stop = report.routes[0].timeline[1]
    assert (stop.waiting_s, stop.start_s, stop.departure_s) == pytest.approx((13.0, 30.0, 45.0))


def test_diesel_vehicle_must_not_charge() -> None:
    report = check(line_problem(diesel=True), solution([C1, S0, C2], vehicle_type=1))
    v = only(report, Kind.DIESEL_CHARGING)
    assert (v.route, v.stop, v.location) == (0, 1, "S0")


def test_diesel_vehicle_needs_no_battery() -> None:
    report = check(line_problem(diesel=True), solution([C1, C2], vehicle_type=1))
    assert report.feasible, report.format()


def test_missing_client() -> None:
    v = only(check(line_problem(), solution([C1])), Kind.MISSING_CLIENT)
    assert (v.route, v.stop, v.location) == (None, None, "C2")


def test_duplicate_client() -> None:
    v = only(check(line_problem(), solution([C1, C2], [C2])), Kind.DUPLICATE_CLIENT)
    assert (v.route, v.stop, v.location) == (1, 0, "C2")
    assert "route 0, stop 1" in v.message


def test_duplicate_client_within_a_route() -> None:
    problem = line_problem(vehicle={"capacity_kg": 100})
    v = only(check(problem, solution([C1, C2, C1])), Kind.DUPLICATE_CLIENT)
    assert (v.route, v.stop, v.location) == (0, 2, "C1")


def test_depot_closed_on_return() -> None:
    v = only(check(line_problem(depot={"tw_late_s": 40}), solution([C1, C2])), Kind.DEPOT_CLOSED)
    assert (v.route, v.stop, v.location) == (0, 2, "D0")
    assert v.message.startswith("route 0, return to depot D0: arrives at 44.0 s")


def test_depot_opening_delays_the_start() -> None:
    report = check(line_problem(depot={"tw_early_s": 100}), solution([C1, C2], start_s=0.0))
    assert report.routes[0].start_s == 100.0
    assert report.routes[0].end_s == pytest.approx(144.0)


def test_shift_end() -> None:
    report = check(line_problem(vehicle={"shift_end_s": 30}), solution([C1, C2]))
    v = only(report, Kind.SHIFT_END)
    assert (v.route, v.stop, v.location) == (0, 2, "D0")


def test_start_before_shift_start() -> None:
    report = check(line_problem(vehicle={"shift_start_s": 10}), solution([C1, C2], start_s=0.0))
    v = only(report, Kind.SHIFT_START)
    assert (v.route, v.stop) == (0, None)


def test_max_duration() -> None:
    report = check(line_problem(vehicle={"max_duration_s": 40}), solution([C1, C2]))
    v = only(report, Kind.MAX_DURATION)
    assert (v.route, v.stop, v.location) == (0, None, None)
    assert "44.0 s" in v.message


def test_max_duration_counts_waiting() -> None:
    problem = line_problem(vehicle={"max_duration_s": 50}, c2={"tw_early_s": 30})
    only(check(problem, solution([C1, C2])), Kind.MAX_DURATION)
    # Leaving later removes the wait.
    assert check(problem, solution([C1, C2], start_s=8.0)).feasible


def test_fleet_size() -> None:
    report = check(line_problem(vehicle={"count": 1}), solution([C1], [], [C2]))
    v = only(report, Kind.FLEET_SIZE)
    assert (v.route, v.stop) == (2, None)


def test_empty_routes_are_not_vehicles() -> None:
    report = check(line_problem(vehicle={"count": 1}), solution([], [C1, C2], []))
    assert report.feasible, report.format()
    assert report.vehicles == 1
    assert not report.routes[0].used


def test_depot_listed_as_a_visit() -> None:
    v = only(check(line_problem(), solution([C1, D0, C2])), Kind.LOCATION)
    assert (v.route, v.stop) == (0, 1)
    assert "depot D0" in v.message


def test_unknown_location_index() -> None:
    report = check(line_problem(), solution([C1, 99, C2]))
    v = only(report, Kind.LOCATION)
    assert (v.route, v.stop) == (0, 1)


def test_unknown_vehicle_type() -> None:
    v = only(check(line_problem(), solution([C1, C2], vehicle_type=5)), Kind.VEHICLE_TYPE)
    assert (v.route, v.stop) == (0, None)


def test_missing_arc() -> None:
    base = line_problem()
    dist = base.distance_m.copy()
    dist[C1, C2] = math.inf
    problem = replace(base, distance_m=dist)
    report = check(problem, solution([C1, C2]))
    assert [v.kind for v in report.violations][:1] == [Kind.NO_ARC]
    assert (report.violations[0].route, report.violations[0].stop) == (0, 1)


def test_time_tolerance() -> None:
    # Service at C2 starts at 22 s: a window closing within 1e-6 s of it passes.
    assert check(line_problem(c2={"tw_late_s": 22 - 1e-7}), solution([C1, C2])).feasible
    assert not check(line_problem(c2={"tw_late_s": 22 - 1e-5}), solution([C1, C2])).feasible


def test_energy_tolerance() -> None:
    # The route needs exactly 40 Wh.
    assert check(
        line_problem(vehicle={"battery_wh": 40 * (1 - 1e-10)}), solution([C1, C2])
    ).feasible
    assert not check(
        line_problem(vehicle={"battery_wh": 40 * (1 - 1e-8)}), solution([C1, C2])
    ).feasible


def test_objective_distance() -> None:
    report = check(line_problem(objective=Objective.DISTANCE), solution([C1], [C2]))
    assert report.objective_value == pytest.approx(60.0)
    assert report.objective_key == pytest.approx((60.0,))
    assert report.format().splitlines()[0] == "distance 60.00"


def test_objective_driving_and_charging_time_in_hours() -> None:
    m = Model("slow")
    m.add_depot(0, 0)
    m.add_client(3600, 0, service_s=1800)
    m.add_charger(7200, 0, power_w=1000)
    m.add_vehicle_type(battery_wh=10_000, energy_wh_per_m=1)
    m.objective = Objective.DRIVING_AND_CHARGING_TIME
    problem = m.data()
    report = check(problem, solution([1, 2]))
    # Driving 4 h; arrives at the charger with 2800 Wh, charges 7200 Wh at 1 kW: 7.2 h.
    assert report.feasible, report.format()
    assert report.objective_value == pytest.approx(4.0 + 7.2)
    assert report.format().splitlines()[0] == "driving and charging time 11.20 h"


def test_objective_cost() -> None:
    problem = line_problem(
        objective=Objective.COST,
        vehicle={"fixed_cost": 100.0, "cost_per_m": 0.5, "cost_per_s": 0.25},
        charger={"price_per_kwh": 2000.0},
    )
    report = check(problem, solution([C1, S0, C2], []))
    # 100 fixed + 0.5*40 m + 0.25*(44 + 15) s + 15 Wh at 2 per Wh.
    assert report.objective_value == pytest.approx(100 + 20 + 14.75 + 30)
    assert report.format().splitlines()[0] == "cost 164.75"


def test_hierarchical_objective_key_and_format() -> None:
    report = check(line_problem(c2={"tw_late_s": 15}), solution([C1, C2], []))
    assert report.objective_key == pytest.approx((1.0, 40.0))
    lines = report.format().splitlines()
    assert lines[0] == "vehicles 1, distance 40.00"
    assert lines[1] == "INFEASIBLE: 1 violation(s)"
    assert lines[2].strip().startswith("route 0, stop 1 (C2): service starts at 22.0 s")


def test_every_violation_is_reported() -> None:
    problem = line_problem(
        vehicle={"capacity_kg": 8, "shift_end_s": 30, "count": 1}, c2={"tw_late_s": 15}
    )
    report = check(problem, solution([C1, C2], [C2]))
    kinds = {v.kind for v in report.violations}
    assert kinds == {
        Kind.CAPACITY,
        Kind.TIME_WINDOW,
        Kind.SHIFT_END,
        Kind.DUPLICATE_CLIENT,
        Kind.FLEET_SIZE,
    }
    assert all(v.message in report.format() for v in report.violations)
