"""Session fixtures: the Munich plan solved once, and matching dispatcher orders."""

from __future__ import annotations

import pytest
from report_fixture import Plan, munich_problem

import evfleet
from evfleet.day import Order
from evfleet.report import plan_accounts


@pytest.fixture(scope="session")
def plan() -> Plan:
    problem = munich_problem()
    solution = evfleet.solve(problem, time_limit_s=1, seed=0)
    report, account, diesel = plan_accounts(problem, solution)
    return Plan(problem, solution, report, account, diesel)


@pytest.fixture(scope="session")
def orders(plan: Plan) -> dict[str, Order]:
    """Dispatcher orders matching the clients, with parcels and notes."""
    return {
        c.name: Order(
            id=c.name,
            latitude_deg=c.y,
            longitude_deg=c.x,
            parcels=k + 1,
            weight_kg=c.demand_kg,
            tw_early_s=c.tw_early_s,
            tw_late_s=c.tw_late_s,
            service_s=c.service_s,
            notes=f"Hinterhof, 2. OG; ring {k}" if k % 3 == 0 else "",
        )
        for k, c in enumerate(plan.problem.clients)
    }
