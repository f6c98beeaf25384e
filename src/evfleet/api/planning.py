"""A planning job's work: the day from the database, the engine, the plan back into it.

:func:`job_day` gathers the job's orders (``received``), vehicles (active, grouped by type
and depot into :class:`~evfleet.day.VehicleGroup` s named ``<type code>@<depot code>``),
their depots and the organisation's chargers into a :class:`~evfleet.day.DeliveryDay`.
:func:`plan_job_day` measures it (great-circle roads), builds the problem, solves it with
:func:`evfleet.routing.solve.solve`, checks and accounts for it, and :func:`store_plan`
writes the ``evfleet-plan/1`` document, its routes and stops, suggests a vehicle of the
right group for each route, and moves the planned orders to ``planned``. This runs in the
worker process (:mod:`evfleet.api.worker`), never in the web process.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement

from evfleet.api.convert import charger_spec, depot_spec, order_of, vehicle_group
from evfleet.day import DeliveryDay, FleetSpec
from evfleet.order_status import OrderStatus
from evfleet.routing.solve import ProgressCallback
from evfleet.store import models as m
from evfleet.store.repositories import Scope

__all__ = ["JobDay", "PlannedDay", "job_day", "plan_job_day", "store_plan"]


class PlanningError(Exception):
    """The job cannot be planned as asked (no orders, no vehicles); the message says why."""


@dataclass
class JobDay:
    """The day to plan and how its names map back to rows."""

    day: DeliveryDay
    order_ids: dict[str, uuid.UUID]
    charger_ids: dict[str, uuid.UUID]
    depot_ids: dict[str, uuid.UUID]
    groups: dict[str, tuple[uuid.UUID, uuid.UUID]]
    """Group id -> (vehicle type id, depot id)."""
    vehicles: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    """Group id -> its vehicles, to suggest one per route."""


def job_day(scope: Scope, params: dict[str, Any], name: str) -> JobDay:
    """The :class:`JobDay` for a job's ``params`` (see :class:`~evfleet.api.schemas.JobIn`)."""
    org = scope.organisation()
    where_orders: list[ColumnElement[bool]] = [m.Order.status == OrderStatus.RECEIVED.value]
    if params.get("order_ids"):
        where_orders.append(m.Order.id.in_([uuid.UUID(str(i)) for i in params["order_ids"]]))
    if params.get("delivery_date"):
        wanted = dt.date.fromisoformat(str(params["delivery_date"]))
        where_orders.append((m.Order.delivery_date == wanted) | m.Order.delivery_date.is_(None))
    orders = sorted(scope.all(m.Order, *where_orders), key=lambda o: o.external_id)
    if not orders:
        raise PlanningError("no received orders match the job")
    where_vehicles: list[ColumnElement[bool]] = [m.Vehicle.active.is_(True)]
    if params.get("vehicle_ids"):
        where_vehicles.append(m.Vehicle.id.in_([uuid.UUID(str(i)) for i in params["vehicle_ids"]]))
    vehicles = sorted(scope.all(m.Vehicle, *where_vehicles), key=lambda v: v.plate)
    if not vehicles:
        raise PlanningError("no active vehicles match the job")
    types = {t.id: t for t in scope.all(m.VehicleType)}
    depots = {d.id: d for d in scope.all(m.Depot)}
    members: dict[tuple[uuid.UUID, uuid.UUID], list[uuid.UUID]] = defaultdict(list)
    for vehicle in vehicles:
        members[(vehicle.vehicle_type_id, vehicle.depot_id)].append(vehicle.id)
    used_depots = sorted({d for _, d in members}, key=lambda d: depots[d].code)
    groups = {}
    vehicle_lists = {}
    specs = []
    for (type_id, depot_id), ids in sorted(
        members.items(), key=lambda kv: (types[kv[0][0]].code, depots[kv[0][1]].code)
    ):
        group_id = f"{types[type_id].code}@{depots[depot_id].code}"
        groups[group_id] = (type_id, depot_id)
        vehicle_lists[group_id] = ids
        specs.append(
            vehicle_group(
                types[type_id],
                group_id,
                depots[depot_id].code,
                len(ids),
                shift_start_s=float(params.get("shift_start_s", 8 * 3600.0)),
                shift_end_s=float(params.get("shift_end_s", 18 * 3600.0)),
                start_soc=float(params.get("start_soc", 1.0)),
            )
        )
    temperature = params.get("outside_temperature_c")
    fleet = FleetSpec(
        depots=tuple(depot_spec(depots[d]) for d in used_depots),
        vehicle_groups=tuple(specs),
        outside_temperature_c=float(
            org.outside_temperature_c if temperature is None else temperature
        ),
        country=org.country,
        diesel_price_per_l=org.diesel_price_per_l,
        carbon_price_per_t=org.carbon_price_per_t,
        currency=org.currency,
        name=name,
    )
    chargers = sorted(scope.all(m.Charger), key=lambda c: c.code)
    date = params.get("delivery_date")
    day = DeliveryDay(
        orders=tuple(order_of(o) for o in orders),
        fleet=fleet,
        chargers=tuple(charger_spec(c) for c in chargers),
        name=name,
        date=dt.date.fromisoformat(str(date)) if date else None,
    )
    return JobDay(
        day=day,
        order_ids={o.external_id: o.id for o in orders},
        charger_ids={c.code: c.id for c in chargers},
        depot_ids={depots[d].code: d for d in used_depots},
        groups=groups,
        vehicles=vehicle_lists,
    )


@dataclass(frozen=True)
class PlannedDay:
    """The engine's result as the ``evfleet-plan/1`` document."""

    document: dict[str, Any]
    feasible: bool


def plan_job_day(
    job: JobDay,
    *,
    time_limit_s: float,
    seed: int,
    progress: ProgressCallback | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> PlannedDay:
    """Measures, builds, solves, checks and accounts for the day (may take ``time_limit_s``)."""
    from evfleet.accounting import Prices
    from evfleet.day_problem import build_problem, day_points
    from evfleet.emissions import DEFAULT_FACTORS
    from evfleet.network import network_from_spec
    from evfleet.network.base import LatLon
    from evfleet.report import plan_accounts, plan_to_dict
    from evfleet.routing.solve import solve

    def stage(text: str) -> None:
        if on_stage is not None:
            on_stage(text)

    day = job.day
    stage("measuring the road network")
    roads = network_from_spec("great-circle")
    matrices = roads.matrices([LatLon(lat, lon) for lat, lon in day_points(day)])
    problem = build_problem(day, matrices.distance_m, matrices.duration_s)
    stage("planning")
    solution = solve(problem, time_limit_s=time_limit_s, seed=seed, progress=progress)
    stage("checking and accounting")
    fleet = day.fleet
    report, account, diesel = plan_accounts(
        problem,
        solution,
        factors=DEFAULT_FACTORS,
        prices=Prices(
            depot_per_kwh=fleet.depots[0].electricity_price_per_kwh,
            diesel_per_l=fleet.diesel_price_per_l,
        ),
        carbon_price_per_t=fleet.carbon_price_per_t,
        country=fleet.country,
    )
    document = plan_to_dict(problem, solution, report, account, diesel=diesel)
    return PlannedDay(document=document, feasible=report.feasible)


def store_plan(scope: Scope, job: JobDay, planned: PlannedDay, name: str, actor: str) -> m.Plan:
    """Writes the plan, its routes and stops; moves its orders to ``planned`` (flushed).

    Raises :class:`PlanningError` when an order of the plan was removed or moved on while
    the job ran (nothing is written then: the caller rolls back).
    """
    doc = planned.document
    plan = scope.add(
        m.Plan(
            name=name,
            status="draft",
            feasible=planned.feasible,
            kpis=dict(doc.get("totals") or {}),
            document=doc,
        )
    )
    spare = {group: list(ids) for group, ids in job.vehicles.items()}
    planned_orders: list[uuid.UUID] = []
    for route in doc.get("routes", []):
        type_id, depot_id = job.groups.get(str(route.get("vehicle_type")), (None, None))
        group_vehicles = spare.get(str(route.get("vehicle_type")), [])
        row = scope.add(
            m.PlanRoute(
                plan_id=plan.id,
                index=int(route["index"]),
                vehicle_type_id=type_id,
                depot_id=depot_id,
                vehicle_id=group_vehicles.pop(0) if group_vehicles else None,
                start_s=(route.get("start") or {}).get("time_s"),
                end_s=(route.get("end") or {}).get("time_s"),
                kpis=dict(route.get("kpis") or {}),
            )
        )
        for stop in route.get("stops", []):
            location = str(stop.get("id"))
            delivery = stop.get("kind") == "client"
            order_id = job.order_ids.get(location) if delivery else None
            if order_id is not None:
                planned_orders.append(order_id)
            scope.session.add(
                m.PlanStop(
                    organisation_id=scope.organisation_id,
                    route_id=row.id,
                    sequence=int(stop["sequence"]),
                    kind="delivery" if delivery else "charging",
                    location=location[:200],
                    order_id=order_id,
                    charger_id=None if delivery else job.charger_ids.get(location),
                    latitude_deg=stop.get("lat"),
                    longitude_deg=stop.get("lon"),
                    arrival_s=stop.get("arrival_s"),
                    departure_s=stop.get("departure_s"),
                    charging_s=stop.get("charging_s") or 0.0,
                    charged_wh=stop.get("charged_wh") or 0.0,
                    soc_arrival_pct=stop.get("soc_arrival_pct"),
                    soc_departure_pct=stop.get("soc_departure_pct"),
                    load_kg=stop.get("load_kg"),
                )
            )
    scope.session.flush()
    moved = []
    for order_id in planned_orders:
        order = scope.get(m.Order, order_id)
        if order is None or order.status != OrderStatus.RECEIVED.value:
            moved.append(str(order_id))
            continue
        scope.set_order_status(order, OrderStatus.PLANNED, actor, f"planned in plan {plan.id}")
    if moved:
        raise PlanningError(
            f"{len(moved)} order(s) were removed or moved on while the job ran; plan again"
        )
    return plan
