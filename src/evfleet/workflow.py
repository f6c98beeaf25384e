"""Plan a delivery day from a dispatcher's files, end to end (an adapter around the core).

Reads ``orders.csv``, ``fleet.yaml`` and ``chargers.csv`` (:mod:`evfleet.io`), measures the
road network (:mod:`evfleet.network`), builds the problem (:mod:`evfleet.day_problem`),
plans it (:mod:`evfleet.routing`), checks and accounts for the plan (:mod:`evfleet.checker`,
:mod:`evfleet.accounting`) and writes the outputs (:mod:`evfleet.report`): ``plan.json``,
``plan.geojson``, one manifest CSV per driver in ``manifests/``, ``report.html`` and the
``problem.json`` that was planned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from evfleet.accounting import PlanAccount, Prices
from evfleet.checker import CheckReport
from evfleet.day import ChargerSpec, DeliveryDay, RowError
from evfleet.day_problem import build_problem, day_points
from evfleet.emissions import DEFAULT_FACTORS
from evfleet.errors import RoadNetworkError
from evfleet.io.chargers_csv import read_chargers_csv
from evfleet.io.fleet_yaml import read_fleet_yaml
from evfleet.io.orders_csv import read_orders_csv
from evfleet.network import network_from_spec
from evfleet.network.base import LatLon
from evfleet.problem import Problem
from evfleet.routing.portfolio import solve_portfolio
from evfleet.routing.solve import ProgressCallback
from evfleet.solution import Solution


@dataclass
class DayInputs:
    """The day read from files, with every row error and warning found."""

    day: DeliveryDay | None
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)


def read_day(
    orders: Path, fleet: Path, chargers: Path | None, *, name: str | None = None
) -> DayInputs:
    """Reads the three files, keeping every good row and collecting every bad one.

    A fleet file that cannot be used at all raises :class:`~evfleet.errors.InputError`
    (with every problem listed); bad order and charger rows are returned as ``errors``.
    """
    spec = read_fleet_yaml(fleet)
    order_rows = read_orders_csv(orders)
    errors = list(order_rows.errors)
    warnings = list(order_rows.warnings)
    charger_rows: tuple[ChargerSpec, ...] = ()
    if chargers is not None:
        result = read_chargers_csv(chargers)
        errors += result.errors
        warnings += result.warnings
        charger_rows = tuple(result.rows)
    day = DeliveryDay(
        tuple(order_rows.rows), spec, charger_rows, name=name or spec.name or orders.stem
    )
    return DayInputs(day, errors, warnings)


@dataclass(frozen=True)
class DayPlan:
    """A planned day: the problem, the plan, its check, its account and the all-diesel day."""

    problem: Problem
    solution: Solution
    report: CheckReport
    account: PlanAccount
    diesel: PlanAccount
    files: tuple[Path, ...]


def plan_day(
    day: DeliveryDay,
    out_dir: Path,
    *,
    network: str = "great-circle",
    time_limit_s: float = 30.0,
    seed: int = 0,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> DayPlan:
    """Plans ``day`` and writes every output into ``out_dir`` (created if needed)."""
    from evfleet.io.problem_json import write_problem_json
    from evfleet.io.solution_json import write_solution
    from evfleet.report import (
        plan_accounts,
        route_geometries,
        write_geojson,
        write_html_report,
        write_manifests,
        write_plan_json,
    )

    def stage(text: str) -> None:
        if on_stage is not None:
            on_stage(text)

    stage(f"measuring the road network ({network})")
    points = [LatLon(lat, lon) for lat, lon in day_points(day)]
    try:
        roads = network_from_spec(network)
        matrices = roads.matrices(points)
    except (ValueError, OSError, ImportError) as exc:
        # The network adapters report unusable input this way (an unknown spec, a missing
        # extract, a point far from every road); say which network it was.
        raise RoadNetworkError(f"road network {network!r}: {exc}") from exc
    problem = build_problem(day, matrices.distance_m, matrices.duration_s)
    stage(f"planning {problem.num_clients} stops with {len(problem.vehicle_types)} van types")
    solution = solve_portfolio(
        problem, workers=workers, time_limit_s=time_limit_s, seed=seed, progress=progress
    )
    stage("checking and accounting")
    fleet = day.fleet
    depot_price = fleet.depots[0].electricity_price_per_kwh if fleet.depots else 0.0
    report, account, diesel = plan_accounts(
        problem,
        solution,
        factors=DEFAULT_FACTORS,
        prices=Prices(depot_per_kwh=depot_price, diesel_per_l=fleet.diesel_price_per_l),
        carbon_price_per_t=fleet.carbon_price_per_t,
        country=fleet.country,
    )
    geometry = route_geometries(problem, solution, roads)
    out_dir.mkdir(parents=True, exist_ok=True)
    orders = {o.id: o for o in day.orders}
    files = [
        out_dir / "problem.json",
        out_dir / "solution.json",
        out_dir / "plan.json",
        out_dir / "plan.geojson",
        out_dir / "report.html",
    ]
    stage(f"writing {out_dir}")
    write_problem_json(_without_hooks(problem), files[0])
    write_solution(solution, problem, files[1])
    write_plan_json(problem, solution, report, account, files[2], geometry=geometry, diesel=diesel)
    write_geojson(problem, solution, report, files[3], geometry=geometry)
    write_html_report(
        problem, solution, report, account, files[4], diesel=diesel, geometry=geometry
    )
    manifests = write_manifests(problem, solution, report, out_dir / "manifests", orders=orders)
    return DayPlan(problem, solution, report, account, diesel, (*files, *manifests))


def _without_hooks(problem: Problem) -> Problem:
    """The problem as JSON can hold it (energy-model hooks are Python callables)."""
    from dataclasses import replace

    return replace(
        problem,
        vehicle_types=tuple(replace(vt, energy_model=None) for vt in problem.vehicle_types),
    )
