"""The planned route a tracker follows, read from the plan JSON a dispatcher stores.

The source is one route of an ``evfleet-plan/1`` document (:mod:`evfleet.report.plan_json`):
its stops with positions, planned arrival, start and departure (s since the plan's local
midnight), service and charging times, time windows, demands, loads and battery energies
(Wh), and the route's polyline. Only geographic plans can be tracked (positions in WGS 84
degrees). With the plan's :class:`~evfleet.problem.Problem` the stops are also matched to
location indices, so that the energy model and matrices can be used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from evfleet.network.base import LatLon
from evfleet.problem import Problem
from evfleet.solution import Solution

__all__ = [
    "PlanFormatError",
    "PlannedRoute",
    "PlannedStop",
    "StopKind",
    "location_indices",
    "planned_route",
    "planned_routes",
    "planned_routes_from",
]


class PlanFormatError(ValueError):
    """A plan document the tracker cannot follow (missing key, not geographic, ...)."""


class StopKind(StrEnum):
    CLIENT = "client"
    CHARGER = "charger"
    DEPOT = "depot"
    """The return to the depot (the route's last stop)."""


@dataclass(frozen=True)
class PlannedStop:
    """One planned stop. Times in s since the plan's midnight, energies in Wh, loads in kg.

    ``sequence`` is 1-based in the route; the return to the depot has ``len(stops) + 1``.
    ``dwell_s`` is the planned time on site after the start (service, or charging at a
    charger). ``energy_*_wh`` are ``None`` without a finite battery.
    """

    sequence: int
    id: str
    kind: StopKind
    position: LatLon
    arrival_s: float
    start_s: float
    departure_s: float
    dwell_s: float
    tw_early_s: float = 0.0
    tw_late_s: float = math.inf
    demand_kg: float = 0.0
    energy_arrival_wh: float | None = None
    energy_departure_wh: float | None = None
    charged_wh: float = 0.0


@dataclass(frozen=True)
class PlannedRoute:
    """One vehicle's planned day: leave ``depot_position`` at ``start_s`` with
    ``start_load_kg`` and ``start_energy_wh``, make ``stops``, end at ``end``.

    ``geometry`` is the polyline from the depot back to it (WGS 84); empty: straight legs.
    ``battery_wh`` is ``None`` for vehicles without a finite battery.
    """

    number: int
    vehicle_type: str
    vehicle_type_index: int
    depot_id: str
    depot_position: LatLon
    start_s: float
    start_load_kg: float
    start_energy_wh: float | None
    battery_wh: float | None
    stops: tuple[PlannedStop, ...]
    end: PlannedStop
    geometry: tuple[LatLon, ...] = ()
    distance_m: float | None = None

    @property
    def all_stops(self) -> tuple[PlannedStop, ...]:
        """The visits and the return to the depot."""
        return (*self.stops, self.end)

    def stop(self, stop_id: str) -> PlannedStop:
        """The visit (or the depot return) with id ``stop_id``; :class:`KeyError` if none."""
        for s in self.all_stops:
            if s.id == stop_id:
                return s
        raise KeyError(stop_id)


# ------------------------------------------------------------------------------ reading


def _get(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise PlanFormatError(f"{where}: missing key {key!r}")
    return obj[key]


def _num(obj: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    """A number; JSON ``null`` reads as ``default`` (``None``: an error)."""
    value = obj.get(key)
    if value is None:
        if default is not None:
            return default
        if key not in obj:
            raise PlanFormatError(f"{where}: missing key {key!r}")
        raise PlanFormatError(f"{where}: {key} is null")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlanFormatError(f"{where}: {key} must be a number, got {value!r}")
    return float(value)


def _opt(obj: Mapping[str, Any], key: str, where: str) -> float | None:
    if obj.get(key) is None:
        return None
    return _num(obj, key, where)


def _pos(obj: Mapping[str, Any], where: str) -> LatLon:
    lat, lon = obj.get("lat"), obj.get("lon")
    if lat is None or lon is None:
        raise PlanFormatError(f"{where}: no position (the plan is not geographic)")
    return LatLon(_num(obj, "lat", where), _num(obj, "lon", where))


def _stop(raw: Mapping[str, Any], where: str) -> PlannedStop:
    kind = StopKind(_get(raw, "kind", where))
    window = raw.get("time_window") or {}
    start = _num(raw, "start_s", where)
    departure = _num(raw, "departure_s", where)
    return PlannedStop(
        sequence=int(_num(raw, "sequence", where)),
        id=str(_get(raw, "id", where)),
        kind=kind,
        position=_pos(raw, where),
        arrival_s=_num(raw, "arrival_s", where),
        start_s=start,
        departure_s=departure,
        dwell_s=max(departure - start, 0.0),
        tw_early_s=_num(window, "early_s", where, 0.0),
        tw_late_s=_num(window, "late_s", where, math.inf),
        demand_kg=_num(raw, "demand_kg", where, 0.0),
        energy_arrival_wh=_opt(raw, "energy_arrival_wh", where),
        energy_departure_wh=_opt(raw, "energy_departure_wh", where),
        charged_wh=_num(raw, "charged_wh", where, 0.0),
    )


def _route(doc: Mapping[str, Any], raw: Mapping[str, Any]) -> PlannedRoute:
    number = int(_num(raw, "number", "route"))
    where = f"route {number}"
    depot_id = str(_get(raw, "depot", where))
    depots = {str(d.get("id")): d for d in _get(doc, "depots", "plan")}
    if depot_id not in depots:
        raise PlanFormatError(f"{where}: unknown depot {depot_id!r}")
    depot_pos = _pos(depots[depot_id], f"depot {depot_id}")
    start = _get(raw, "start", where)
    end = _get(raw, "end", where)
    stops = tuple(
        _stop(s, f"{where} stop {k + 1}") for k, s in enumerate(_get(raw, "stops", where))
    )
    end_time = _num(end, "time_s", f"{where} end")
    end_energy = _opt(end, "energy_at_wh", f"{where} end")
    ret = PlannedStop(
        sequence=len(stops) + 1,
        id=depot_id,
        kind=StopKind.DEPOT,
        position=depot_pos,
        arrival_s=end_time,
        start_s=end_time,
        departure_s=end_time,
        dwell_s=0.0,
        energy_arrival_wh=end_energy,
        energy_departure_wh=end_energy,
    )
    line = raw.get("geometry") or {}
    coords = line.get("coordinates") or []
    geometry = tuple(LatLon(float(c[1]), float(c[0])) for c in coords)
    kpis = raw.get("kpis") or {}
    return PlannedRoute(
        number=number,
        vehicle_type=str(raw.get("vehicle_type", "")),
        vehicle_type_index=int(_num(raw, "vehicle_type_index", where)),
        depot_id=depot_id,
        depot_position=depot_pos,
        start_s=_num(start, "time_s", f"{where} start"),
        start_load_kg=_num(start, "load_kg", f"{where} start", 0.0),
        start_energy_wh=_opt(start, "energy_at_wh", f"{where} start"),
        battery_wh=_opt(raw, "battery_wh", where),
        stops=stops,
        end=ret,
        geometry=geometry if len(geometry) >= 2 else (),
        distance_m=_opt(kpis, "distance_m", f"{where} kpis"),
    )


def planned_routes(doc: Mapping[str, Any]) -> list[PlannedRoute]:
    """Every route of an ``evfleet-plan/1`` document; :class:`PlanFormatError` when the
    document lacks what tracking needs (positions above all)."""
    if doc.get("format") != "evfleet-plan/1":
        raise PlanFormatError(f"not an evfleet-plan/1 document (format {doc.get('format')!r})")
    if not doc.get("geographic", False):
        raise PlanFormatError("the plan is not geographic: its stops have no positions")
    return [_route(doc, r) for r in _get(doc, "routes", "plan")]


def planned_route(doc: Mapping[str, Any], number: int) -> PlannedRoute:
    """Route ``number`` (1-based, the document's ``number``) of a plan document."""
    for route in planned_routes(doc):
        if route.number == number:
            return route
    raise PlanFormatError(f"the plan has no route number {number}")


def planned_routes_from(problem: Problem, solution: Solution) -> list[PlannedRoute]:
    """The routes of a solved plan, through its plan document (no account needed)."""
    from evfleet.checker import check
    from evfleet.report.plan_json import plan_to_dict

    report = check(problem, solution)
    return planned_routes(plan_to_dict(problem, solution, report, None))


def location_indices(route: PlannedRoute, problem: Problem) -> tuple[int, ...]:
    """Problem location indices of the depot (first), every stop and the depot again (last).

    Stops are matched by id among the clients (for ``client`` stops) or chargers.
    :class:`PlanFormatError` when an id is not in the problem.
    """
    if not 0 <= route.vehicle_type_index < len(problem.vehicle_types):
        raise PlanFormatError(f"route {route.number}: unknown vehicle type in the problem")
    depot = problem.vehicle_types[route.vehicle_type_index].depot
    clients = {c.name: problem.client_index(k) for k, c in enumerate(problem.clients)}
    chargers = {c.name: problem.charger_index(k) for k, c in enumerate(problem.chargers)}
    indices = [depot]
    for s in route.stops:
        table = clients if s.kind is StopKind.CLIENT else chargers
        if s.id not in table:
            raise PlanFormatError(f"route {route.number}: stop {s.id!r} is not in the problem")
        indices.append(table[s.id])
    indices.append(depot)
    return tuple(indices)


def stop_positions(route: PlannedRoute) -> Sequence[LatLon]:
    """Depot, every stop, depot: the straight-leg polyline."""
    return [route.depot_position, *(s.position for s in route.stops), route.depot_position]
