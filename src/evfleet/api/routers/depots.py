"""``/depots``: where routes start and end, with their opening hours and charge points."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from evfleet.api.auth import Permission, Principal, require
from evfleet.api.common import LimitQuery, OffsetQuery, commit, duplicate, get_or_404, scope_of
from evfleet.api.convert import check_depot
from evfleet.api.deps import DbSession
from evfleet.api.problems import conflict
from evfleet.api.schemas import DepotIn, DepotOut, DepotUpdate, Page
from evfleet.store import models as m
from evfleet.store.repositories import Scope

router = APIRouter(prefix="/depots", tags=["fleet"])
Reader = Annotated[Principal, Depends(require(Permission.FLEET_READ))]
Writer = Annotated[Principal, Depends(require(Permission.FLEET_WRITE))]


def _unique(scope: Scope, code: str, row_id: uuid.UUID | None = None) -> None:
    other = scope.find(m.Depot, m.Depot.code == code)
    if other is not None and other.id != row_id:
        raise duplicate("code", code, "depot")


@router.get("", response_model=Page[DepotOut], summary="List depots")
def list_depots(
    principal: Reader, session: DbSession, limit: LimitQuery = 100, offset: OffsetQuery = 0
) -> Page[DepotOut]:
    rows, total = scope_of(session, principal).page(
        m.Depot, order_by=[m.Depot.code], limit=limit, offset=offset
    )
    return Page(
        items=[DepotOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post("", response_model=DepotOut, status_code=201, summary="Add a depot")
def create_depot(body: DepotIn, principal: Writer, session: DbSession) -> DepotOut:
    scope = scope_of(session, principal)
    _unique(scope, body.code)
    row = m.Depot(**body.model_dump(exclude={"charge_points"}))
    row.charge_points = [cp.model_dump() for cp in body.charge_points]
    check_depot(row)
    scope.add(row)
    commit(session, "the depot")
    return DepotOut.model_validate(row)


@router.get("/{depot_id}", response_model=DepotOut, summary="A depot")
def get_depot(depot_id: uuid.UUID, principal: Reader, session: DbSession) -> DepotOut:
    return DepotOut.model_validate(
        get_or_404(scope_of(session, principal), m.Depot, depot_id, "depot")
    )


@router.patch("/{depot_id}", response_model=DepotOut, summary="Change a depot")
def update_depot(
    depot_id: uuid.UUID, body: DepotUpdate, principal: Writer, session: DbSession
) -> DepotOut:
    """Fields sent as ``null`` are cleared where that means something (``close_s``)."""
    scope = scope_of(session, principal)
    row = get_or_404(scope, m.Depot, depot_id, "depot")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("code") is not None:
        _unique(scope, changes["code"], row.id)
    for name, value in changes.items():
        if name == "charge_points":
            row.charge_points = [cp.model_dump() for cp in body.charge_points or []]
        elif value is not None or name == "close_s":
            setattr(row, name, value)
    check_depot(row)
    commit(session, "the depot")
    return DepotOut.model_validate(row)


@router.delete("/{depot_id}", status_code=204, summary="Remove a depot")
def delete_depot(depot_id: uuid.UUID, principal: Writer, session: DbSession) -> Response:
    """Refused (409) while vehicles are based there."""
    scope = scope_of(session, principal)
    row = get_or_404(scope, m.Depot, depot_id, "depot")
    if scope.find(m.Vehicle, m.Vehicle.depot_id == row.id) is not None:
        raise conflict("vehicles are based at this depot; move or remove them first", slug="in-use")
    scope.delete(row)
    commit(session, "the depot")
    return Response(status_code=204)
