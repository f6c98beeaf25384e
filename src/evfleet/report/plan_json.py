"""A checked plan as one JSON document (format ``evfleet-plan/1``), for apps and archives.

The document lists every used route with its vehicle type, its stops in order and the
checker's timeline at each (planned arrival, start and departure as ``HH:MM:SS`` and as
seconds since midnight, load, battery energy and state of charge, energy charged), the
route's KPIs and its geometry; then the plan's totals and the all-diesel comparison. Its JSON
Schema is ``evfleet/schemas/plan.schema.json`` (draft 2020-12), copied to
``docs/schemas/plan.schema.json``.

Units are in the key names: m, s, min, Wh, kWh, %, kg, l, kg CO2e; money in the account's
currency. JSON has no infinity: a value that is infinite or not a number (an open window
end, the energy of a vehicle without a battery) is ``null``; so are the KPIs that need an
account when none is given. Positions are WGS 84 degrees (``lat`` = the location's ``y``,
``lon`` = its ``x``); when the problem's coordinates cannot be degrees (benchmark
instances), ``geographic`` is false and every ``lat``, ``lon`` and geometry is ``null``.
"""

from __future__ import annotations

import importlib.resources
import json
import os
from typing import Any

from evfleet.accounting import CostBreakdown, PlanAccount, RouteAccount, comparison
from evfleet.checker import CheckReport, StopReport
from evfleet.problem import Charger, Client, Problem
from evfleet.report._common import (
    Geometry,
    UsedRoute,
    charged_wh,
    clock,
    finite,
    is_geographic,
    position,
    route_line,
    soc_pct,
    unassigned_clients,
    used_routes,
)
from evfleet.solution import Solution

__all__ = [
    "FORMAT",
    "plan_schema",
    "plan_to_dict",
    "plan_to_json",
    "write_plan_json",
]

FORMAT = "evfleet-plan/1"
"""The value of the document's ``format`` key."""

SCHEMA_RESOURCE = "schemas/plan.schema.json"
"""Where the format's JSON Schema lies inside the ``evfleet`` package."""

COORDINATE_DECIMALS = 6
"""Decimals kept in geometry coordinates (1e-6 degree is about 0.1 m)."""

JsonObject = dict[str, Any]


def plan_schema() -> JsonObject:
    """The format's JSON Schema (draft 2020-12), as shipped with the package."""
    text = importlib.resources.files("evfleet").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    schema: JsonObject = json.loads(text)
    return schema


def plan_to_dict(
    problem: Problem,
    solution: Solution,
    report: CheckReport,
    account: PlanAccount | None,
    *,
    geometry: Geometry | None = None,
    diesel: PlanAccount | None = None,
) -> JsonObject:
    """The plan as a JSON-ready dictionary (format ``evfleet-plan/1``).

    ``report`` is :func:`evfleet.checker.check` of the plan; ``account`` its
    :func:`evfleet.accounting.account` (``None``: costs, energy and CO2e are ``null``);
    ``geometry`` road polylines by route index in ``solution.routes`` (missing: straight
    stop-to-stop lines); ``diesel`` the plan's
    :func:`evfleet.accounting.diesel_counterfactual` (``None``: no comparison).
    :func:`evfleet.report.plan_accounts` makes all three consistently.
    """
    geographic = is_geographic(problem)
    routes = used_routes(problem, solution, report, account)
    names = problem.location_names()
    doc: JsonObject = {
        "format": FORMAT,
        "problem": problem.name,
        "geographic": geographic,
        "feasible": report.feasible,
        "violations": [v.message for v in report.violations],
        "currency": account.currency if account is not None else None,
        "country": account.country if account is not None else None,
        "grid_g_per_kwh": account.grid_g_per_kwh if account is not None else None,
        "depots": [
            {
                "id": depot.name,
                **_lat_lon(problem, d, geographic),
                "open": clock(depot.tw_early_s),
                "open_s": finite(depot.tw_early_s),
                "close": clock(depot.tw_late_s),
                "close_s": finite(depot.tw_late_s),
            }
            for d, depot in enumerate(problem.depots)
        ],
        "routes": [_route(problem, used, geometry, geographic) for used in routes],
        "unassigned": [names[loc] for loc in unassigned_clients(problem, solution)],
        "totals": _totals(problem, report, routes, account),
        "diesel_comparison": _diesel(account, diesel),
    }
    return doc


def plan_to_json(
    problem: Problem,
    solution: Solution,
    report: CheckReport,
    account: PlanAccount | None,
    *,
    geometry: Geometry | None = None,
    diesel: PlanAccount | None = None,
    indent: int | None = 2,
) -> str:
    """:func:`plan_to_dict` as JSON text (UTF-8 safe, no NaN or Infinity), ending in a newline."""
    doc = plan_to_dict(problem, solution, report, account, geometry=geometry, diesel=diesel)
    return json.dumps(doc, indent=indent, ensure_ascii=False, allow_nan=False) + "\n"


def write_plan_json(
    problem: Problem,
    solution: Solution,
    report: CheckReport,
    account: PlanAccount | None,
    path: str | os.PathLike[str],
    *,
    geometry: Geometry | None = None,
    diesel: PlanAccount | None = None,
) -> None:
    """Writes :func:`plan_to_json` to ``path`` (UTF-8)."""
    text = plan_to_json(problem, solution, report, account, geometry=geometry, diesel=diesel)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


# --------------------------------------------------------------------------------- parts


def _lat_lon(problem: Problem, loc: int, geographic: bool) -> JsonObject:
    if not geographic:
        return {"lat": None, "lon": None}
    p = position(problem, loc)
    return {"lat": p.lat, "lon": p.lon}


def _time(prefix: str, seconds: float) -> JsonObject:
    return {prefix: clock(seconds), f"{prefix}_s": finite(seconds)}


def _energy(prefix: str, energy_wh: float, used: UsedRoute) -> JsonObject:
    electric = used.vehicle.is_electric
    return {
        f"energy_{prefix}_wh": finite(energy_wh) if electric else None,
        f"soc_{prefix}_pct": soc_pct(energy_wh, used.vehicle),
    }


def _stop(problem: Problem, used: UsedRoute, k: int, geographic: bool) -> JsonObject:
    loc = used.route.visits[k].location
    stop = used.stops[k]
    site = problem.location(loc)
    window: JsonObject | None = None
    demand = 0.0
    if isinstance(site, Client):
        kind = "client"
        demand = site.demand_kg
        if site.tw_early_s > 0.0 or finite(site.tw_late_s) is not None:
            window = {**_time("early", site.tw_early_s), **_time("late", site.tw_late_s)}
    else:
        assert isinstance(site, Charger)
        kind = "charger"
    return {
        "sequence": k + 1,
        "id": stop.location,
        "kind": kind,
        **_lat_lon(problem, loc, geographic),
        **_time("arrival", stop.arrival_s),
        **_time("start", stop.start_s),
        **_time("departure", stop.departure_s),
        "waiting_s": finite(stop.waiting_s),
        "service_s": finite(stop.service_s),
        "charging_s": finite(stop.charging_s),
        "charging_min": finite(stop.charging_s / 60.0),
        "time_window": window,
        "demand_kg": demand,
        "load_kg": finite(stop.load_kg),
        **_energy("arrival", stop.energy_arrival_wh, used),
        **_energy("departure", stop.energy_departure_wh, used),
        "charged_wh": charged_wh(stop) if kind == "charger" else 0.0,
    }


def _endpoint(used: UsedRoute, stop: StopReport | None) -> JsonObject:
    """The departure from the depot (``stop`` None) or the return to it."""
    rep = used.report
    if stop is None:
        energy = used.vehicle.start_energy_wh
        return {
            **_time("time", rep.start_s),
            "load_kg": finite(rep.load_kg),
            **_energy("at", energy, used),
        }
    return {
        **_time("time", stop.arrival_s),
        "load_kg": finite(stop.load_kg),
        **_energy("at", stop.energy_arrival_wh, used),
    }


def _route(
    problem: Problem, used: UsedRoute, geometry: Geometry | None, geographic: bool
) -> JsonObject:
    vt = used.vehicle
    line: JsonObject | None = None
    if geographic:
        points, source = route_line(problem, used, geometry)
        line = {
            "source": source,
            "coordinates": [
                [round(p.lon, COORDINATE_DECIMALS), round(p.lat, COORDINATE_DECIMALS)]
                for p in points
            ],
        }
    return {
        "index": used.index,
        "number": used.number,
        "vehicle_type": vt.name,
        "vehicle_type_index": used.report.vehicle_type,
        "powertrain": vt.powertrain.value,
        "battery_wh": finite(vt.battery_wh) if vt.is_electric else None,
        "depot": problem.depots[vt.depot].name,
        "start": _endpoint(used, None),
        "end": _endpoint(used, used.back),
        "stops": [_stop(problem, used, k, geographic) for k in range(len(used.route.visits))],
        "kpis": _kpis(problem, used.report.distance_m, [used], used.account),
        "geometry": line,
    }


def _cost(cost: CostBreakdown) -> JsonObject:
    return {
        "fixed": cost.fixed,
        "distance": cost.distance,
        "driver_time": cost.driver_time,
        "charger_energy": cost.charger_energy,
        "depot_energy": cost.depot_energy,
        "diesel": cost.diesel,
        "carbon": cost.carbon,
        "energy": cost.energy,
        "total": cost.total,
    }


def _kpis(
    problem: Problem,
    distance_m: float,
    routes: list[UsedRoute],
    acc: RouteAccount | PlanAccount | None,
) -> JsonObject:
    """KPIs over ``routes``: timing from the checker, the rest from ``acc`` when given."""
    stops = [s for used in routes for s in used.stops]
    charges = [
        s
        for used in routes
        for s, v in zip(used.stops, used.route.visits, strict=True)
        if problem.is_charger(v.location) and charged_wh(s) > 0.0
    ]
    kpis: JsonObject = {
        "distance_m": finite(distance_m),
        "duration_s": finite(sum(u.report.duration_s for u in routes)),
        "driving_s": finite(sum(u.report.driving_s for u in routes)),
        "service_s": finite(sum(u.report.service_s for u in routes)),
        "waiting_s": finite(sum(u.report.waiting_s for u in routes)),
        "charging_s": finite(sum(u.report.charging_s for u in routes)),
        "charging_stops": len(charges),
        "charging_min": finite(sum(s.charging_s for s in charges) / 60.0),
        "stops": len(stops),
        "parcels": None,
        "load_kg": finite(sum(u.report.load_kg for u in routes)),
        "energy_kwh": None,
        "energy_charged_kwh": finite(sum(charged_wh(s) for s in charges) / 1000.0),
        "energy_depot_kwh": None,
        "grid_energy_kwh": None,
        "diesel_l": None,
        "cost": None,
        "co2e_ttw_kg": None,
        "co2e_wtw_kg": None,
        "co2e_wtw_per_parcel_kg": None,
    }
    if acc is not None:
        kpis.update(
            {
                "distance_m": acc.distance_m,
                "duration_s": acc.duration_s,
                "driving_s": acc.driving_s,
                "service_s": acc.service_s,
                "waiting_s": acc.waiting_s,
                "charging_s": acc.charging_s,
                "charging_stops": acc.charging_stops,
                "charging_min": acc.charging_min,
                "parcels": acc.parcels,
                "energy_kwh": (acc.energy_charged_wh + acc.energy_depot_wh) / 1000.0,
                "energy_charged_kwh": acc.energy_charged_wh / 1000.0,
                "energy_depot_kwh": acc.energy_depot_wh / 1000.0,
                "grid_energy_kwh": acc.grid_energy_wh / 1000.0,
                "diesel_l": acc.diesel_l,
                "cost": _cost(acc.cost),
                "co2e_ttw_kg": acc.co2e_ttw_kg,
                "co2e_wtw_kg": acc.co2e_wtw_kg,
                "co2e_wtw_per_parcel_kg": acc.co2e_wtw_per_parcel_kg,
            }
        )
    return kpis


def _totals(
    problem: Problem, report: CheckReport, routes: list[UsedRoute], acc: PlanAccount | None
) -> JsonObject:
    totals = {"vehicles": len(routes), **_kpis(problem, report.distance_m, routes, acc)}
    if acc is not None:
        totals["intensity_g_per_tkm"] = acc.intensity_g_per_tkm
        totals["activity_tkm"] = acc.activity_tkm
    else:
        totals["intensity_g_per_tkm"] = None
        totals["activity_tkm"] = None
    return totals


def _diesel(actual: PlanAccount | None, diesel: PlanAccount | None) -> JsonObject | None:
    if actual is None or diesel is None:
        return None
    saving = comparison(actual, diesel)
    base = diesel.co2e_wtw_kg
    return {
        "feasible": diesel.feasible,
        "distance_m": diesel.distance_m,
        "duration_s": diesel.duration_s,
        "diesel_l": diesel.diesel_l,
        "energy_kwh": (diesel.energy_charged_wh + diesel.energy_depot_wh) / 1000.0,
        "cost": _cost(diesel.cost),
        "co2e_ttw_kg": diesel.co2e_ttw_kg,
        "co2e_wtw_kg": diesel.co2e_wtw_kg,
        "saving": saving,
        "co2e_wtw_saving_pct": 100.0 * saving["co2e_wtw_kg"] / base if base > 0 else None,
    }
