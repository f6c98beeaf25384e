"""``/vehicle-types``: van models, from the catalogue or custom; ``/catalogue/vehicles``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from evfleet.api.auth import Permission, Principal, require
from evfleet.api.common import LimitQuery, OffsetQuery, commit, duplicate, get_or_404, scope_of
from evfleet.api.convert import check_vehicle_type
from evfleet.api.deps import DbSession
from evfleet.api.problems import conflict
from evfleet.api.schemas import (
    CatalogueVehicleOut,
    Page,
    VehicleTypeIn,
    VehicleTypeOut,
    VehicleTypeUpdate,
)
from evfleet.catalogue import default_catalogue
from evfleet.store import models as m
from evfleet.store.repositories import Scope

router = APIRouter(tags=["fleet"])
Reader = Annotated[Principal, Depends(require(Permission.FLEET_READ))]
Writer = Annotated[Principal, Depends(require(Permission.FLEET_WRITE))]


def _unique(scope: Scope, code: str, row_id: uuid.UUID | None = None) -> None:
    other = scope.find(m.VehicleType, m.VehicleType.code == code)
    if other is not None and other.id != row_id:
        raise duplicate("code", code, "vehicle type")


@router.get(
    "/catalogue/vehicles",
    response_model=list[CatalogueVehicleOut],
    summary="The vehicle catalogue (models a vehicle type can name)",
)
def catalogue_vehicles(principal: Reader) -> list[CatalogueVehicleOut]:
    return [
        CatalogueVehicleOut(
            id=v.id,
            name=v.name,
            maker=v.maker,
            powertrain=v.powertrain.value,
            usable_battery_wh=v.usable_battery_wh,
            payload_kg=v.payload_kg,
            wltp_range_m=v.wltp_range_m,
            wltp_consumption_wh_per_km=v.wltp_consumption_wh_per_km,
            ac_max_power_w=v.ac_max_power_w,
            dc_max_power_w=v.dc_max_power_w,
        )
        for v in default_catalogue()
    ]


@router.get("/vehicle-types", response_model=Page[VehicleTypeOut], summary="List vehicle types")
def list_types(
    principal: Reader, session: DbSession, limit: LimitQuery = 100, offset: OffsetQuery = 0
) -> Page[VehicleTypeOut]:
    rows, total = scope_of(session, principal).page(
        m.VehicleType, order_by=[m.VehicleType.code], limit=limit, offset=offset
    )
    items = [VehicleTypeOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/vehicle-types", response_model=VehicleTypeOut, status_code=201, summary="Add a vehicle type"
)
def create_type(body: VehicleTypeIn, principal: Writer, session: DbSession) -> VehicleTypeOut:
    """Either ``catalogue_id`` alone, or ``powertrain``, ``capacity_kg`` and, for an e-van,
    ``battery_wh`` and ``energy_wh_per_m`` (for a diesel van, ``fuel_l_per_m``)."""
    scope = scope_of(session, principal)
    _unique(scope, body.code)
    row = m.VehicleType(**body.model_dump())
    row.powertrain = body.powertrain or ""
    check_vehicle_type(row)
    scope.add(row)
    commit(session, "the vehicle type")
    return VehicleTypeOut.model_validate(row)


@router.get("/vehicle-types/{type_id}", response_model=VehicleTypeOut, summary="A vehicle type")
def get_type(type_id: uuid.UUID, principal: Reader, session: DbSession) -> VehicleTypeOut:
    return VehicleTypeOut.model_validate(
        get_or_404(scope_of(session, principal), m.VehicleType, type_id, "vehicle type")
    )


@router.patch(
    "/vehicle-types/{type_id}", response_model=VehicleTypeOut, summary="Change a vehicle type"
)
def update_type(
    type_id: uuid.UUID, body: VehicleTypeUpdate, principal: Writer, session: DbSession
) -> VehicleTypeOut:
    """Code, name and costs; the vehicle's figures are fixed (add a new type instead)."""
    scope = scope_of(session, principal)
    row = get_or_404(scope, m.VehicleType, type_id, "vehicle type")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("code") is not None:
        _unique(scope, changes["code"], row.id)
    for name, value in changes.items():
        if value is not None:
            setattr(row, name, value)
    commit(session, "the vehicle type")
    return VehicleTypeOut.model_validate(row)


@router.delete("/vehicle-types/{type_id}", status_code=204, summary="Remove a vehicle type")
def delete_type(type_id: uuid.UUID, principal: Writer, session: DbSession) -> Response:
    """Refused (409) while vehicles are of this type."""
    scope = scope_of(session, principal)
    row = get_or_404(scope, m.VehicleType, type_id, "vehicle type")
    if scope.find(m.Vehicle, m.Vehicle.vehicle_type_id == row.id) is not None:
        raise conflict("vehicles are of this type; change or remove them first", slug="in-use")
    scope.delete(row)
    commit(session, "the vehicle type")
    return Response(status_code=204)
