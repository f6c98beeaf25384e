"""Partial recharge with several charging stops: the engine's charge amounts.

Charging only "just enough to reach the next charger" at every stop can make a route late
that is feasible with another split of the same energy: charging more at an earlier
charger, while the van would wait for a window anyway, leaves less to charge at the next
one. The engine's evaluation does that, and the checker agrees on every split it makes.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from evfleet import ChargingFunction, Model, RechargePolicy
from evfleet.checker import check
from evfleet.io.schneider import read_schneider
from evfleet.problem import Problem
from evfleet.routing import kernels
from evfleet.routing.data import build_engine_data
from evfleet.routing.evaluate import Evaluator
from evfleet.solution import Route, Solution, Visit

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
SCHNEIDER = SHARED / "evrptw-schneider"


def _wait_then_charge(b_late_s: float) -> Problem:
    """Depot, charger S1 100 m away, client A with a late window opening, charger S2, and
    client B that closes at ``b_late_s``; 1 Wh/m, 1 m/s, chargers at 1 s/Wh, 1200 Wh.

    Route S1, A, S2, B: leaving S1 with 1100 Wh reaches S2 without charging, so "just
    enough" charges nothing at S1 and 838.5 Wh at S2 (838.5 s), reaching B at 3738.5 s.
    Charging 100 Wh more at S1 costs nothing (the van waits 1400 s at A anyway) and saves
    100 s at S2: B at 3638.5 s.
    """
    m = Model("wait-then-charge")
    m.recharge = RechargePolicy.PARTIAL
    m.add_depot(0, 0)
    m.add_client(600, 0, name="A", tw_early_s=2000, tw_late_s=10000)
    m.add_client(200, 500, name="B", tw_late_s=b_late_s)
    rate = ChargingFunction.linear(1.0)
    m.add_charger(100, 0, name="S1", function=rate)
    m.add_charger(600, 500, name="S2", function=rate)
    m.add_vehicle_type(name="ev", count=1, battery_wh=1200, energy_wh_per_m=1.0)
    return m.data()


ROUTE = ["S1", "A", "S2", "B"]


def _locations(problem: Problem, names: list[str]) -> list[int]:
    index = {name: k for k, name in enumerate(problem.location_names())}
    return [index[name] for name in names]


def test_charges_more_where_the_van_would_wait() -> None:
    problem = _wait_then_charge(b_late_s=3700)
    route = _locations(problem, ROUTE)
    ev = Evaluator(build_engine_data(problem)).evaluate(0, route)
    assert ev.feasible
    s1, s2 = ev.charges_wh
    assert s1 == pytest.approx(100.0)
    assert s2 == pytest.approx(738.5, abs=0.1)
    charges = iter(ev.charges_wh)
    visits = tuple(Visit(v, next(charges)) if problem.is_charger(v) else Visit(v) for v in route)
    report = check(problem, Solution((Route(0, visits),)))
    assert report.feasible, report.format()
    assert report.distance_m == pytest.approx(ev.distance_m)


def test_no_extra_charge_without_waiting_ahead() -> None:
    """With A open from the start there is no waiting to use: the split stays minimal and
    B is reached 100 s earlier than with waiting, with nothing charged at S1."""
    m = Model("no-wait")
    m.recharge = RechargePolicy.PARTIAL
    m.add_depot(0, 0)
    m.add_client(600, 0, name="A")
    m.add_client(200, 500, name="B")
    rate = ChargingFunction.linear(1.0)
    m.add_charger(100, 0, name="S1", function=rate)
    m.add_charger(600, 500, name="S2", function=rate)
    m.add_vehicle_type(name="ev", count=1, battery_wh=1200, energy_wh_per_m=1.0)
    problem = m.data()
    ev = Evaluator(build_engine_data(problem)).evaluate(0, _locations(problem, ROUTE))
    assert ev.charges_wh[0] == 0.0
    assert ev.charges_wh[1] == pytest.approx(838.5, abs=0.1)


def test_still_late_when_waiting_is_not_enough() -> None:
    problem = _wait_then_charge(b_late_s=3600)
    ev = Evaluator(build_engine_data(problem)).evaluate(0, _locations(problem, ROUTE))
    assert not ev.feasible
    assert ev.time_warp_s == pytest.approx(38.5, abs=0.1)


# Published best-known EVRPTW-PR plans (Erdelić & Carić 2022, as listed in the RoutingBlocks
# archive github.com/INFORMSJoC/2023.0104, results/bks-evrptwpr.csv). Several routes charge
# two to four times; with "just enough" at every charger 6 of rc205's, rc201's and r101's
# 24 routes were late.
PR_BKS = {
    "rc205": (
        "C56 C65 C99 S13 C98 C53 C13 C16 C17 C47 C14 C78 C73 C6 S7 C1 C3 C45 C8 C70 C100 "
        "C54 S3 C42 C44 C40 C36 C35 C39 C5 C46 C4 C88 C55 | C67 C34 C28 C32 S19 C62 C76 C48 "
        "C23 C25 C19 C49 C20 C24 C57 C77 C75 C58 C87 S11 C10 C11 C9 C82 C66 C64 C51 S17 C89 "
        "C18 C21 C22 C74 C59 C97 C15 C12 | C90 C69 S9 C60 C79 C7 C2 C43 C37 C38 S3 C41 C72 "
        "C96 C93 C80 C91 C86 C52 C83 C85 C63 S18 C30 C31 C29 C27 C26 C33 S19 C50 C84 C95 C92 "
        "C94 C71 C81 C61 C68"
    ),
    "rc201": (
        "C90 C65 C99 C13 C16 C17 C47 C14 S10 C73 C78 C53 C10 C11 S11 C86 C87 C75 C58 C52 C82 "
        "C21 C22 C64 C66 S13 C9 C59 C74 C97 C15 C12 | C77 C25 C48 C19 S16 C76 C85 C56 C24 C20 "
        "C49 C23 C57 C98 C6 S7 C1 C3 C8 C100 C70 C42 C44 C40 C36 C35 C39 C94 C92 C50 C71 C81 "
        "| C69 C60 C79 C7 C2 S5 C43 C38 C37 C41 C72 C93 C96 C80 C63 C51 S15 C83 C91 C95 C54 "
        "C61 C55 C88 C4 C45 C5 C46 C68 | C67 C62 C34 C32 C28 C30 C29 C27 C26 C31 C33 C89 C18 "
        "C84"
    ),
}


def _pr_best_known(name: str) -> tuple[int, float]:
    with (SCHNEIDER / "bks.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if row["instance"] == f"{name}_21" and row["objective"].startswith("EVRPTW-PR"):
                return int(row["vehicles"]), float(row["best_known_cost"])
    raise AssertionError(f"{name}_21 has no partial-recharge row in bks.csv")


@pytest.mark.parametrize("name", sorted(PR_BKS))
def test_published_partial_recharge_plans_are_feasible(name: str) -> None:
    path = SCHNEIDER / f"{name}_21.txt"
    if not path.is_file():
        pytest.skip(f"benchmark file {path} not available")
    problem = read_schneider(path, recharge=RechargePolicy.PARTIAL)
    evaluator = Evaluator(build_engine_data(problem))
    routes = []
    for text in PR_BKS[name].split("|"):
        route = _locations(problem, text.split())
        ev = evaluator.evaluate(0, route)
        assert ev.feasible, (name, text[:30], ev)
        charges = iter(ev.charges_wh)
        visits = tuple(
            Visit(v, next(charges)) if problem.is_charger(v) else Visit(v) for v in route
        )
        routes.append(Route(0, visits))
    report = check(problem, Solution(tuple(routes)))
    assert report.feasible, report.format()
    vehicles, distance = _pr_best_known(name)
    assert len(routes) == vehicles
    assert report.distance_m == pytest.approx(distance, abs=0.01)


@pytest.mark.parametrize(
    "function",
    [
        ChargingFunction.linear(0.5),
        ChargingFunction.piecewise([(0, 0), (600, 1800), (900, 3600), (1000, 7200)]),
    ],
    ids=["linear", "curve"],
)
def test_charge_reached_inverts_charge_time(function: ChargingFunction) -> None:
    m = Model("one-charger")
    m.add_depot(0, 0)
    m.add_client(10, 0)
    m.add_charger(0, 10, function=function)
    m.add_vehicle_type(count=1, battery_wh=1000, energy_wh_per_m=1.0)
    kd = kernels.build_kernel_data(build_engine_data(m.data()))
    for start_wh in (0.0, 100.0, 650.0):
        for seconds in (10.0, 500.0, 2000.0):
            reached = kernels.charge_reached(kd, 0, 0, start_wh, seconds)
            assert reached > start_wh
            if reached < 1000.0 - 1e-6:
                spent = kernels.charge_time(kd, 0, 0, start_wh, reached)
                assert spent == pytest.approx(seconds)
