"""Stored rows as the core's plain data (:mod:`evfleet.day`), and the core's checks on input.

The API validates shapes and bounds with pydantic; the rules that tie fields together
(a window that ends before it starts, a custom e-van without a battery) are the core's own,
applied here by building the core object, so the API and the file readers agree.
"""

from __future__ import annotations

from collections.abc import Sequence

from evfleet.api.problems import ProblemError, field_error
from evfleet.catalogue import default_catalogue
from evfleet.day import INF, ChargerSpec, DepotCharger, DepotSpec, Order, VehicleGroup
from evfleet.problem import Powertrain
from evfleet.store import models as m

__all__ = [
    "charger_spec",
    "check_charger",
    "check_depot",
    "check_order",
    "check_vehicle_type",
    "depot_spec",
    "order_of",
    "vehicle_group",
]


def _inf(value: float | None) -> float:
    return INF if value is None else value


def _invalid(loc: Sequence[str | int], exc: ValueError) -> ProblemError:
    return ProblemError(
        422,
        str(exc),
        slug="validation",
        title="Unprocessable Content",
        errors=[field_error(loc, str(exc), "value_error")],
    )


def depot_spec(row: m.Depot) -> DepotSpec:
    """The depot as :class:`~evfleet.day.DepotSpec` (its code is the id)."""
    return DepotSpec(
        id=row.code,
        latitude_deg=row.latitude_deg,
        longitude_deg=row.longitude_deg,
        name=row.name,
        open_s=row.open_s,
        close_s=_inf(row.close_s),
        chargers=tuple(
            DepotCharger(power_w=float(cp["power_w"]), count=int(cp.get("count", 1)))
            for cp in row.charge_points
        ),
        electricity_price_per_kwh=row.electricity_price_per_kwh,
    )


def charger_spec(row: m.Charger) -> ChargerSpec:
    """The charger as :class:`~evfleet.day.ChargerSpec` (its code is the id)."""
    return ChargerSpec(
        id=row.code,
        latitude_deg=row.latitude_deg,
        longitude_deg=row.longitude_deg,
        power_w=row.power_w,
        connectors=row.connectors,
        price_per_kwh=row.price_per_kwh,
        open_s=row.open_s,
        close_s=_inf(row.close_s),
        public=row.public,
        name=row.name,
    )


def order_of(row: m.Order) -> Order:
    """The order as :class:`~evfleet.day.Order` (its external id is the id)."""
    return Order(
        id=row.external_id,
        latitude_deg=row.latitude_deg,
        longitude_deg=row.longitude_deg,
        parcels=row.parcels,
        weight_kg=row.weight_kg,
        tw_early_s=row.tw_early_s,
        tw_late_s=_inf(row.tw_late_s),
        service_s=row.service_s,
        notes=row.notes,
    )


def vehicle_group(
    vtype: m.VehicleType,
    group_id: str,
    depot_code: str,
    count: int,
    *,
    shift_start_s: float = 0.0,
    shift_end_s: float = INF,
    start_soc: float = 1.0,
) -> VehicleGroup:
    """``count`` vans of ``vtype`` at ``depot_code`` as a :class:`~evfleet.day.VehicleGroup`."""
    if vtype.catalogue_id is not None:
        return VehicleGroup(
            id=group_id,
            count=count,
            depot_id=depot_code,
            shift_start_s=shift_start_s,
            shift_end_s=shift_end_s,
            catalogue_id=vtype.catalogue_id,
            start_soc=start_soc,
            driver_cost_per_hour=vtype.driver_cost_per_hour,
            fixed_cost_per_day=vtype.fixed_cost_per_day,
        )
    return VehicleGroup(
        id=group_id,
        count=count,
        depot_id=depot_code,
        shift_start_s=shift_start_s,
        shift_end_s=shift_end_s,
        powertrain=Powertrain(vtype.powertrain),
        capacity_kg=vtype.capacity_kg,
        battery_wh=vtype.battery_wh,
        energy_wh_per_m=vtype.energy_wh_per_m,
        fuel_l_per_m=vtype.fuel_l_per_m,
        start_soc=start_soc,
        driver_cost_per_hour=vtype.driver_cost_per_hour,
        fixed_cost_per_day=vtype.fixed_cost_per_day,
    )


def check_depot(row: m.Depot) -> None:
    """422 unless the depot passes :class:`~evfleet.day.DepotSpec`'s checks."""
    try:
        depot_spec(row)
    except ValueError as exc:
        raise _invalid(["body"], exc) from None


def check_charger(row: m.Charger) -> None:
    """422 unless the charger passes :class:`~evfleet.day.ChargerSpec`'s checks."""
    try:
        charger_spec(row)
    except ValueError as exc:
        raise _invalid(["body"], exc) from None


def check_order(row: m.Order) -> None:
    """422 unless the order passes :class:`~evfleet.day.Order`'s checks."""
    if row.tw_late_s is not None and row.tw_late_s < row.tw_early_s:
        raise _invalid(["body", "tw_late_s"], ValueError("tw_late_s must not be before tw_early_s"))
    try:
        order_of(row)
    except ValueError as exc:
        raise _invalid(["body"], exc) from None


def check_vehicle_type(row: m.VehicleType) -> None:
    """422 unless the type is a known catalogue model or a complete custom vehicle.

    Sets ``row.powertrain`` from the catalogue for catalogue models.
    """
    if row.catalogue_id is not None:
        catalogue = default_catalogue()
        if row.catalogue_id not in catalogue:
            raise ProblemError(
                422,
                f"unknown catalogue vehicle {row.catalogue_id!r}",
                slug="validation",
                title="Unprocessable Content",
                errors=[
                    field_error(
                        ["body", "catalogue_id"],
                        "not in the catalogue (GET /api/v1/catalogue/vehicles lists it)",
                    )
                ],
            )
        row.powertrain = catalogue.get(row.catalogue_id).powertrain.value
    elif not row.powertrain:
        raise ProblemError(
            422,
            "a custom vehicle type needs a powertrain",
            slug="validation",
            title="Unprocessable Content",
            errors=[field_error(["body", "powertrain"], "required unless catalogue_id is given")],
        )
    try:
        vehicle_group(row, "check", "depot", 1)
    except ValueError as exc:
        raise _invalid(["body"], exc) from None
