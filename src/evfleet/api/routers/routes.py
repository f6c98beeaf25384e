"""``/routes``: routes of plans; a driver sees only the dispatched routes assigned to them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import ColumnElement, select

from evfleet.api.auth import Permission, Principal, require_any
from evfleet.api.common import LimitQuery, OffsetQuery, scope_of
from evfleet.api.deps import DbSession
from evfleet.api.problems import not_found
from evfleet.api.routers.plans import route_out
from evfleet.api.schemas import Page, RouteOut
from evfleet.store import models as m

router = APIRouter(prefix="/routes", tags=["plans"])
Reader = Annotated[Principal, Depends(require_any(Permission.PLANS_READ, Permission.OWN_ROUTES))]


def _own(principal: Principal) -> list[ColumnElement[bool]]:
    """Extra conditions for a principal that sees only its own routes."""
    if principal.sees_all_routes:
        return []
    dispatched = select(m.Plan.id).where(
        m.Plan.organisation_id == principal.organisation_id, m.Plan.status == "dispatched"
    )
    return [m.PlanRoute.driver_id == principal.user_id, m.PlanRoute.plan_id.in_(dispatched)]


@router.get("", response_model=Page[RouteOut], summary="List routes (drivers: their own)")
def list_routes(
    principal: Reader,
    session: DbSession,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
    plan_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[RouteOut]:
    scope = scope_of(session, principal)
    where = _own(principal)
    if plan_id is not None:
        where.append(m.PlanRoute.plan_id == plan_id)
    rows, total = scope.page(
        m.PlanRoute,
        *where,
        order_by=[m.PlanRoute.plan_id, m.PlanRoute.index],
        limit=limit,
        offset=offset,
    )
    stops = scope.route_stops([r.id for r in rows])
    return Page(
        items=[route_out(r, stops[r.id]) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{route_id}", response_model=RouteOut, summary="A route with its stops")
def get_route(route_id: uuid.UUID, principal: Reader, session: DbSession) -> RouteOut:
    """Another driver's route is 404 for a driver, like another organisation's."""
    scope = scope_of(session, principal)
    route = scope.find(m.PlanRoute, m.PlanRoute.id == route_id, *_own(principal))
    if route is None:
        raise not_found("route")
    return route_out(route, scope.route_stops([route.id])[route.id])
