"""A dispatcher's delivery day as a routing problem.

:func:`day_points` lists the places to measure (depots, orders, chargers, in that order);
a road network (an adapter, :mod:`evfleet.network`) turns them into distance and duration
matrices; :func:`build_problem` combines the day, those matrices, the vehicle catalogue and
the emission factors into a :class:`~evfleet.problem.Problem` with the cost objective.

Conventions for real-world problems: ``x`` is longitude and ``y`` latitude in degrees;
location names are the depot, order and charger ids; times are seconds since local
midnight. Charger locations are the depots' own charger groups (one location per group,
named ``<depot>:<kW>kW``, at the depot, at the depot's electricity price) followed by the
public chargers of ``chargers.csv``.

Vans leave with the energy they stood at plus what the depot chargers add before their
shift starts (:func:`depot_charge_wh`). The plan's money and carbon follow one model
(:class:`~evfleet.problem.VehicleType`): energy drawn from a battery is replaced at the
depot at its price (grid side, so divided by the charging efficiency), energy charged on
the way is paid at the charger's price instead, diesel at the fleet's price per litre,
drivers per hour, vehicles per day, and CO2e (well to wheel) at the fleet's carbon price.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from evfleet.catalogue import Catalogue, default_catalogue
from evfleet.charging import ChargingFunction, cc_cv_curve
from evfleet.day import DeliveryDay, VehicleGroup
from evfleet.emissions import DEFAULT_FACTORS, EmissionFactors
from evfleet.energy import load_coefficients
from evfleet.problem import (
    ArcEnergy,
    Charger,
    Client,
    Depot,
    Objective,
    Powertrain,
    Problem,
    RechargePolicy,
    VehicleType,
)

AC_LIMIT_W = 22_000.0
"""Chargers above this power are taken to be DC (AC wallboxes top out at 22 kW in Europe)."""


def _depot_charger_groups(day: DeliveryDay) -> list[tuple[int, float, int]]:
    """(depot number, power W, count) for every charger group at a depot."""
    return [
        (d, group.power_w, group.count)
        for d, depot in enumerate(day.fleet.depots)
        for group in depot.chargers
    ]


def _van_limit_w(group: VehicleGroup, catalogue: Catalogue, dc: bool) -> float:
    """The most power a van of ``group`` takes on an AC or DC charger, in W."""
    if group.catalogue_id is None:
        return math.inf
    spec = catalogue.get(group.catalogue_id)
    limit = (spec.dc_sustained_power_w or spec.dc_max_power_w) if dc else spec.ac_max_power_w
    return math.inf if limit is None else limit


def depot_charge_wh(
    day: DeliveryDay, catalogue: Catalogue, factors: EmissionFactors = DEFAULT_FACTORS
) -> dict[str, float]:
    """Energy (Wh, battery side) that depot charging adds before departure, per e-van group.

    E-vans stand at their depot at ``start_soc`` when it opens and charge until their shift
    starts. Vans take chargers in order of departure: each takes the charger that is free
    first (the fastest among equals) from the depot's opening or from when the van before
    it left, whichever is later. A charger delivers the smaller of its power and the van's
    AC (≤ 22 kW) or DC limit, less the charging losses. A group's figure is that of its
    worst-served van, so that every van of the group can start with it.
    """
    fleet = day.fleet
    added: dict[str, float] = {}
    for depot in fleet.depots:
        free_at = [[depot.open_s, g.power_w] for g in depot.chargers for _ in range(g.count)]
        vans = sorted(
            (
                (group.shift_start_s, group.id, k, group)
                for group in fleet.vehicle_groups
                if group.depot_id == depot.id
                and group.powertrain is not Powertrain.DIESEL
                and (group.catalogue_id is None or catalogue.get(group.catalogue_id).is_electric)
                for k in range(group.count)
            ),
            key=lambda item: item[:3],
        )
        for start_s, group_id, _, group in vans:
            wh = 0.0
            if free_at:
                slot = min(free_at, key=lambda sl: (sl[0], -sl[1]))
                power = min(slot[1], _van_limit_w(group, catalogue, slot[1] > AC_LIMIT_W))
                hours = max(0.0, start_s - slot[0]) / 3600.0
                wh = power * factors.charging_efficiency * hours
                slot[0] = max(slot[0], start_s)
            added[group_id] = min(added.get(group_id, math.inf), wh)
    return added


def day_points(day: DeliveryDay) -> list[tuple[float, float]]:
    """(latitude, longitude) in degrees of every location, in the problem's order."""
    fleet = day.fleet
    points = [(d.latitude_deg, d.longitude_deg) for d in fleet.depots]
    points += [(o.latitude_deg, o.longitude_deg) for o in day.orders]
    points += [
        (fleet.depots[d].latitude_deg, fleet.depots[d].longitude_deg)
        for d, _, _ in _depot_charger_groups(day)
    ]
    points += [(c.latitude_deg, c.longitude_deg) for c in day.chargers]
    return points


def _vehicle_type(
    group: VehicleGroup,
    depot: int,
    day: DeliveryDay,
    catalogue: Catalogue,
    factors: EmissionFactors,
    distance_m: NDArray[np.float64],
    duration_s: NDArray[np.float64],
    depot_charge: float,
) -> VehicleType:
    fleet = day.fleet
    depot_spec = fleet.depots[depot]
    fixed_cost = group.fixed_cost_per_day + fleet.objective.vehicles
    cost_per_s = group.driver_cost_per_hour / 3600.0
    if group.catalogue_id is not None:
        vt = catalogue.to_vehicle_type(
            group.catalogue_id,
            group.count,
            temperature_c=fleet.outside_temperature_c,
            name=group.id,
            depot=depot,
            capacity_kg=group.capacity_kg,
            initial_soc=group.start_soc if catalogue.get(group.catalogue_id).is_electric else None,
            fixed_cost=fixed_cost,
            cost_per_s=cost_per_s,
            shift_start_s=group.shift_start_s,
            shift_end_s=group.shift_end_s,
        )
        if vt.is_electric:
            params = catalogue.get(group.catalogue_id).energy_parameters()
            base, per_kg = load_coefficients(
                params, distance_m, duration_s, fleet.outside_temperature_c
            )
            vt = replace(vt, arc_energy=ArcEnergy(np.asarray(base), np.asarray(per_kg)))
    else:
        electric = group.powertrain is not Powertrain.DIESEL
        battery = group.battery_wh if group.battery_wh is not None else math.inf
        vt = VehicleType(
            name=group.id,
            capacity_kg=group.capacity_kg if group.capacity_kg is not None else math.inf,
            powertrain=Powertrain.ELECTRIC if electric else Powertrain.DIESEL,
            battery_wh=battery if electric else math.inf,
            initial_energy_wh=group.start_soc * battery if electric else None,
            energy_wh_per_m=group.energy_wh_per_m or 0.0,
            fuel_l_per_m=group.fuel_l_per_m or 0.0,
            count=group.count,
            depot=depot,
            fixed_cost=fixed_cost,
            cost_per_s=cost_per_s,
            shift_start_s=group.shift_start_s,
            shift_end_s=group.shift_end_s,
        )
    if vt.is_electric and math.isfinite(vt.battery_wh):
        vt = replace(vt, initial_energy_wh=min(vt.battery_wh, vt.start_energy_wh + depot_charge))
    grid_kg_per_wh = factors.grid_intensity_g_per_kwh(fleet.country) / 1e6
    eta = factors.charging_efficiency
    return replace(
        vt,
        fuel_cost_per_l=fleet.diesel_price_per_l,
        energy_cost_per_wh=depot_spec.electricity_price_per_kwh / 1000.0 / eta,
        co2e_kg_per_l=factors.diesel_wtw_kg_per_l,
        co2e_kg_per_wh=grid_kg_per_wh / eta,
    )


def build_problem(
    day: DeliveryDay,
    distance_m: NDArray[np.float64],
    duration_s: NDArray[np.float64],
    *,
    catalogue: Catalogue | None = None,
    factors: EmissionFactors = DEFAULT_FACTORS,
    name: str | None = None,
) -> Problem:
    """The routing problem of ``day``, with matrices (m, s) over :func:`day_points`."""
    catalogue = catalogue or default_catalogue()
    fleet = day.fleet
    n = len(day_points(day))
    for label, matrix in (("distance_m", distance_m), ("duration_s", duration_s)):
        if matrix.shape != (n, n):
            raise ValueError(f"{label} has shape {matrix.shape}, expected ({n}, {n})")
    depot_index = {d.id: k for k, d in enumerate(fleet.depots)}
    depots = tuple(
        Depot(d.id, d.longitude_deg, d.latitude_deg, d.open_s, d.close_s) for d in fleet.depots
    )
    clients = tuple(
        Client(
            o.id,
            o.longitude_deg,
            o.latitude_deg,
            demand_kg=o.weight_kg,
            service_s=o.service_s,
            tw_early_s=o.tw_early_s,
            tw_late_s=o.tw_late_s,
        )
        for o in day.orders
    )
    chargers: list[Charger] = []
    powers: list[float] = []
    for d, power_w, count in _depot_charger_groups(day):
        depot = fleet.depots[d]
        chargers.append(
            Charger(
                f"{depot.id}:{power_w / 1000:g}kW",
                depot.longitude_deg,
                depot.latitude_deg,
                ChargingFunction.from_power(power_w),
                connectors=count,
                price_per_kwh=depot.electricity_price_per_kwh,
                open_s=depot.open_s,
                close_s=depot.close_s,
            )
        )
        powers.append(power_w)
    for c in day.chargers:
        chargers.append(
            Charger(
                c.id,
                c.longitude_deg,
                c.latitude_deg,
                ChargingFunction.from_power(c.power_w),
                connectors=c.connectors,
                price_per_kwh=c.price_per_kwh,
                open_s=c.open_s,
                close_s=c.close_s,
            )
        )
        powers.append(c.power_w)
    charge = depot_charge_wh(day, catalogue, factors)
    types = tuple(
        _vehicle_type(
            g,
            depot_index[g.depot_id],
            day,
            catalogue,
            factors,
            distance_m,
            duration_s,
            charge.get(g.id, 0.0),
        )
        for g in fleet.vehicle_groups
    )
    curves: dict[tuple[int, int], ChargingFunction] = {}
    for t, (group, vt) in enumerate(zip(fleet.vehicle_groups, types, strict=True)):
        if not vt.is_electric or not math.isfinite(vt.battery_wh):
            continue
        for k, power_w in enumerate(powers):
            dc = power_w > AC_LIMIT_W
            if group.catalogue_id is not None:
                curves[(t, k)] = catalogue.charging_curve(group.catalogue_id, power_w, dc=dc)
            else:
                curves[(t, k)] = cc_cv_curve(vt.battery_wh, power_w)
    weights = fleet.objective
    return Problem(
        name=name or day.name or fleet.name or "delivery-day",
        depots=depots,
        clients=clients,
        chargers=tuple(chargers),
        vehicle_types=types,
        distance_m=np.asarray(distance_m, dtype=np.float64),
        duration_s=np.asarray(duration_s, dtype=np.float64),
        objective=Objective.COST,
        recharge=RechargePolicy.PARTIAL,
        charging_functions=curves,
        carbon_price_per_kg=fleet.carbon_price_per_t / 1000.0 + weights.co2e_kg,
    )
