"""``/vehicles``: the organisation's vans, by plate and VIN."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from evfleet.api.auth import Permission, Principal, require_any
from evfleet.api.common import LimitQuery, OffsetQuery, commit, duplicate, get_or_404, scope_of
from evfleet.api.deps import DbSession
from evfleet.api.problems import ProblemError, field_error, not_found
from evfleet.api.schemas import Page, VehicleIn, VehicleOut, VehicleUpdate
from evfleet.store import models as m
from evfleet.store.repositories import Scope

router = APIRouter(prefix="/vehicles", tags=["fleet"])
Reader = Annotated[Principal, Depends(require_any(Permission.FLEET_READ, Permission.OWN_VEHICLE))]
Writer = Annotated[Principal, Depends(require_any(Permission.FLEET_WRITE))]


def _normalise_plate(plate: str) -> str:
    return " ".join(plate.upper().split())


def _check_refs(scope: Scope, vehicle_type_id: uuid.UUID, depot_id: uuid.UUID) -> None:
    errors = []
    if scope.get(m.VehicleType, vehicle_type_id) is None:
        errors.append(field_error(["body", "vehicle_type_id"], "no such vehicle type"))
    if scope.get(m.Depot, depot_id) is None:
        errors.append(field_error(["body", "depot_id"], "no such depot"))
    if errors:
        raise ProblemError(
            422, "the vehicle refers to unknown records", slug="validation", errors=errors
        )


def _check_unique(scope: Scope, plate: str, vin: str | None, row_id: uuid.UUID | None) -> None:
    other = scope.find(m.Vehicle, m.Vehicle.plate == plate)
    if other is not None and other.id != row_id:
        raise duplicate("plate", plate, "vehicle")
    if vin is not None:
        other = scope.find(m.Vehicle, m.Vehicle.vin == vin)
        if other is not None and other.id != row_id:
            raise duplicate("vin", vin, "vehicle")


@router.get("", response_model=Page[VehicleOut], summary="List vehicles")
def list_vehicles(
    principal: Reader, session: DbSession, limit: LimitQuery = 100, offset: OffsetQuery = 0
) -> Page[VehicleOut]:
    """A vehicle key sees only its own vehicle."""
    where = []
    if not principal.can(Permission.FLEET_READ):
        where.append(m.Vehicle.id == principal.vehicle_id)
    rows, total = scope_of(session, principal).page(
        m.Vehicle, *where, order_by=[m.Vehicle.plate], limit=limit, offset=offset
    )
    return Page(
        items=[VehicleOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post("", response_model=VehicleOut, status_code=201, summary="Add a vehicle")
def create_vehicle(body: VehicleIn, principal: Writer, session: DbSession) -> VehicleOut:
    """Plates are compared in capitals with single spaces; VINs in capitals."""
    scope = scope_of(session, principal)
    plate = _normalise_plate(body.plate)
    vin = body.vin.upper() if body.vin else None
    _check_refs(scope, body.vehicle_type_id, body.depot_id)
    _check_unique(scope, plate, vin, None)
    row = scope.add(
        m.Vehicle(
            plate=plate,
            vin=vin,
            name=body.name,
            vehicle_type_id=body.vehicle_type_id,
            depot_id=body.depot_id,
            active=body.active,
        )
    )
    commit(session, "the vehicle")
    return VehicleOut.model_validate(row)


@router.get("/{vehicle_id}", response_model=VehicleOut, summary="A vehicle")
def get_vehicle(vehicle_id: uuid.UUID, principal: Reader, session: DbSession) -> VehicleOut:
    """A vehicle key may read its own vehicle only (others: 404)."""
    if not principal.can(Permission.FLEET_READ) and principal.vehicle_id != vehicle_id:
        raise not_found("vehicle")
    return VehicleOut.model_validate(
        get_or_404(scope_of(session, principal), m.Vehicle, vehicle_id, "vehicle")
    )


@router.patch("/{vehicle_id}", response_model=VehicleOut, summary="Change a vehicle")
def update_vehicle(
    vehicle_id: uuid.UUID, body: VehicleUpdate, principal: Writer, session: DbSession
) -> VehicleOut:
    """``vin: null`` clears the VIN."""
    scope = scope_of(session, principal)
    row = get_or_404(scope, m.Vehicle, vehicle_id, "vehicle")
    changes = body.model_dump(exclude_unset=True)
    plate = _normalise_plate(body.plate) if body.plate else row.plate
    vin = (body.vin.upper() if body.vin else None) if "vin" in changes else row.vin
    _check_refs(scope, body.vehicle_type_id or row.vehicle_type_id, body.depot_id or row.depot_id)
    _check_unique(scope, plate, vin, row.id)
    row.plate, row.vin = plate, vin
    for name in ("name", "vehicle_type_id", "depot_id", "active"):
        value = changes.get(name)
        if value is not None:
            setattr(row, name, value)
    commit(session, "the vehicle")
    return VehicleOut.model_validate(row)


@router.delete("/{vehicle_id}", status_code=204, summary="Remove a vehicle")
def delete_vehicle(vehicle_id: uuid.UUID, principal: Writer, session: DbSession) -> Response:
    """Its API keys are removed with it; routes keep no vehicle."""
    scope = scope_of(session, principal)
    scope.delete(get_or_404(scope, m.Vehicle, vehicle_id, "vehicle"))
    commit(session, "the vehicle")
    return Response(status_code=204)
