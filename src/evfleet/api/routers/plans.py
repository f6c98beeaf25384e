"""``/plans``: stored plans (routes, stops, charging stops, KPIs); dispatch and discard.

A plan is made by a planning job (``/plans/jobs``) as a ``draft`` whose orders are
``planned``. Dispatching assigns each route a vehicle (the plan suggests one of the right
type and depot) and a driver, and moves the orders to ``dispatched``; discarding a draft
gives its orders back (``received``).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from evfleet.api.auth import Permission, Principal, Role, require, require_any
from evfleet.api.common import LimitQuery, OffsetQuery, commit, get_or_404, scope_of
from evfleet.api.deps import DbSession
from evfleet.api.problems import ProblemError, conflict, field_error, not_found
from evfleet.api.schemas import DispatchIn, Page, PlanDetail, PlanSummary, RouteOut, StopOut
from evfleet.order_status import InvalidTransitionError, OrderStatus
from evfleet.store import models as m
from evfleet.store.models import utcnow
from evfleet.store.repositories import Scope

router = APIRouter(prefix="/plans", tags=["plans"])
Reader = Annotated[Principal, Depends(require(Permission.PLANS_READ))]
Writer = Annotated[Principal, Depends(require(Permission.PLANS_WRITE))]
RouteReader = Annotated[
    Principal, Depends(require_any(Permission.PLANS_READ, Permission.OWN_ROUTES))
]


def route_out(route: m.PlanRoute, stops: list[m.PlanStop]) -> RouteOut:
    """A route with its stops and, separately, its charging stops."""
    shown = [StopOut.model_validate(s) for s in stops]
    return RouteOut(
        id=route.id,
        plan_id=route.plan_id,
        index=route.index,
        vehicle_type_id=route.vehicle_type_id,
        depot_id=route.depot_id,
        vehicle_id=route.vehicle_id,
        driver_id=route.driver_id,
        start_s=route.start_s,
        end_s=route.end_s,
        kpis=route.kpis,
        stops=shown,
        charging_stops=[s for s in shown if s.kind == "charging"],
    )


def _summary(scope: Scope, plan: m.Plan, route_count: int) -> dict[str, object]:
    job = scope.job_of_plan(plan.id)
    return {
        "id": plan.id,
        "name": plan.name,
        "status": plan.status,
        "feasible": plan.feasible,
        "job_id": job.id if job is not None else None,
        "route_count": route_count,
        "kpis": plan.kpis,
        "created_at": plan.created_at,
        "dispatched_at": plan.dispatched_at,
    }


def plan_detail(scope: Scope, plan: m.Plan) -> PlanDetail:
    """The plan with every route and stop."""
    routes = scope.plan_routes(plan.id)
    stops = scope.route_stops([r.id for r in routes])
    doc = plan.document or {}
    return PlanDetail.model_validate(
        {
            **_summary(scope, plan, len(routes)),
            "unassigned": [str(u) for u in doc.get("unassigned", [])],
            "violations": [str(v) for v in doc.get("violations", [])],
            "diesel_comparison": doc.get("diesel_comparison"),
            "routes": [route_out(r, stops[r.id]) for r in routes],
        }
    )


@router.get("", response_model=Page[PlanSummary], summary="List plans")
def list_plans(
    principal: Reader, session: DbSession, limit: LimitQuery = 100, offset: OffsetQuery = 0
) -> Page[PlanSummary]:
    scope = scope_of(session, principal)
    rows, total = scope.page(
        m.Plan, order_by=[m.Plan.created_at.desc()], limit=limit, offset=offset
    )
    items = [
        PlanSummary.model_validate(_summary(scope, p, len(scope.plan_routes(p.id)))) for p in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/{plan_id}", response_model=PlanDetail, summary="A plan: routes, stops, KPIs")
def get_plan(plan_id: uuid.UUID, principal: Reader, session: DbSession) -> PlanDetail:
    scope = scope_of(session, principal)
    return plan_detail(scope, get_or_404(scope, m.Plan, plan_id, "plan"))


@router.get(
    "/{plan_id}/geometry",
    summary="Each route's line: road geometry where the plan has it, else straight legs",
)
def get_geometry(plan_id: uuid.UUID, principal: RouteReader, session: DbSession) -> dict[str, Any]:
    """``{"routes": [{"route_id", "index", "road", "coordinates": [[lon, lat], ...]}]}``
    (drivers: only their own routes of a dispatched plan)."""
    scope = scope_of(session, principal)
    plan = get_or_404(scope, m.Plan, plan_id, "plan")
    lines = {
        int(r["index"]): (r.get("geometry") or {}).get("coordinates") or []
        for r in (plan.document or {}).get("routes", [])
        if "index" in r
    }
    routes = scope.plan_routes(plan.id)
    if not principal.sees_all_routes:
        if plan.status != "dispatched":
            raise not_found("plan")
        routes = [r for r in routes if r.driver_id == principal.user_id]
    stops = scope.route_stops([r.id for r in routes])
    depots = {d.id: d for d in scope.all(m.Depot)}
    out = []
    for route in routes:
        road = lines.get(route.index) or []
        if len(road) >= 2:
            coordinates = [[float(c[0]), float(c[1])] for c in road]
        else:
            depot = depots.get(route.depot_id) if route.depot_id else None
            ends = [[depot.longitude_deg, depot.latitude_deg]] if depot else []
            coordinates = [
                *ends,
                *(
                    [s.longitude_deg, s.latitude_deg]
                    for s in stops[route.id]
                    if s.longitude_deg is not None and s.latitude_deg is not None
                ),
                *ends,
            ]
        out.append(
            {
                "route_id": str(route.id),
                "index": route.index,
                "road": len(road) >= 2,
                "coordinates": coordinates,
            }
        )
    return {"routes": out}


def _unknown(loc: list[str | int], what: str) -> ProblemError:
    return ProblemError(422, f"no such {what}", slug="validation", errors=[field_error(loc, what)])


@router.post("/{plan_id}/dispatch", response_model=PlanDetail, summary="Dispatch a draft plan")
def dispatch_plan(
    plan_id: uuid.UUID, body: DispatchIn, principal: Writer, session: DbSession
) -> PlanDetail:
    """Assigns vehicles and drivers (each at most once) and dispatches the plan's orders.

    Every route needs an active vehicle; a driver must be an active user with role driver.
    Only a draft is dispatched (else 409).
    """
    scope = scope_of(session, principal)
    plan = get_or_404(scope, m.Plan, plan_id, "plan")
    if plan.status != "draft":
        raise conflict(f"the plan is {plan.status}; only a draft is dispatched", slug="plan-state")
    routes = {r.id: r for r in scope.plan_routes(plan.id)}
    for k, assignment in enumerate(body.assignments):
        loc: list[str | int] = ["body", "assignments", k]
        route = routes.get(assignment.route_id)
        if route is None:
            raise _unknown([*loc, "route_id"], "route of this plan")
        if assignment.vehicle_id is not None:
            vehicle = scope.get(m.Vehicle, assignment.vehicle_id)
            if vehicle is None or not vehicle.active:
                raise _unknown([*loc, "vehicle_id"], "active vehicle")
            route.vehicle_id = vehicle.id
        if assignment.driver_id is not None:
            driver = scope.get(m.User, assignment.driver_id)
            if driver is None or not driver.active or driver.role != Role.DRIVER.value:
                raise _unknown([*loc, "driver_id"], "active driver")
            route.driver_id = driver.id
    ordered = sorted(routes.values(), key=lambda r: r.index)
    missing = [r.index for r in ordered if r.vehicle_id is None]
    if missing:
        raise ProblemError(
            422,
            f"routes {missing} have no vehicle",
            slug="validation",
            errors=[field_error(["body", "assignments"], "every route needs a vehicle")],
        )
    for attribute in ("vehicle_id", "driver_id"):
        values = [getattr(r, attribute) for r in ordered if getattr(r, attribute) is not None]
        if len(values) != len(set(values)):
            raise conflict(
                f"the same {attribute[:-3]} is assigned to two routes",
                errors=[field_error(["body", "assignments"], f"{attribute} used twice")],
            )
    try:
        for order in scope.plan_orders(plan.id):
            scope.set_order_status(
                order, OrderStatus.DISPATCHED, principal.actor, f"dispatched with plan {plan.id}"
            )
    except InvalidTransitionError as exc:
        raise conflict(
            f"an order of the plan cannot be dispatched: {exc}", slug="order-state"
        ) from None
    plan.status = "dispatched"
    plan.dispatched_at = utcnow()
    commit(session, "the dispatch")
    return plan_detail(scope, plan)


@router.post("/{plan_id}/discard", response_model=PlanDetail, summary="Discard a draft plan")
def discard_plan(plan_id: uuid.UUID, principal: Writer, session: DbSession) -> PlanDetail:
    """Its orders go back to ``received``; a dispatched plan cannot be discarded (409)."""
    scope = scope_of(session, principal)
    plan = get_or_404(scope, m.Plan, plan_id, "plan")
    if plan.status != "draft":
        raise conflict(f"the plan is {plan.status}; only a draft is discarded", slug="plan-state")
    for order in scope.plan_orders(plan.id):
        if order.status == OrderStatus.PLANNED.value:
            scope.set_order_status(
                order, OrderStatus.RECEIVED, principal.actor, f"plan {plan.id} discarded"
            )
    plan.status = "discarded"
    commit(session, "the plan")
    return plan_detail(scope, plan)
