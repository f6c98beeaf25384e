"""A checked plan as a GeoJSON FeatureCollection (RFC 7946), for GIS tools and web maps.

Features, in this order: one Point per depot (``kind`` ``"depot"``); one LineString per used
route (the road geometry when given, else straight stop-to-stop segments); one Point per
visit (``kind`` ``"client"`` or ``"charger"``, ``status`` ``"planned"``); one Point per
client no route visits (``status`` ``"unassigned"``). Coordinates are ``[lon, lat]`` in
WGS 84 degrees (a location's ``x`` and ``y``), as RFC 7946 requires; times are ``HH:MM:SS``
and seconds since local midnight (``_s``), energies Wh, durations min, loads kg. Route and
stop features carry simplestyle colours (``stroke``, ``marker-color``), which many viewers
draw.
"""

from __future__ import annotations

import json
import os
from typing import Any

from evfleet.checker import CheckReport
from evfleet.network.base import LatLon
from evfleet.problem import Client, Problem
from evfleet.report._common import (
    Geometry,
    UsedRoute,
    charged_wh,
    clock,
    colour,
    finite,
    is_geographic,
    position,
    route_line,
    soc_pct,
    unassigned_clients,
    used_routes,
)
from evfleet.solution import Solution

__all__ = ["plan_to_geojson", "plan_to_geojson_text", "write_geojson"]

COORDINATE_DECIMALS = 6
"""Decimals kept in coordinates (1e-6 degree is about 0.1 m; RFC 7946 §11.2)."""

CHARGER_COLOUR = "#ffc400"
"""Marker colour of charging stops."""
DEPOT_COLOUR = "#222222"
"""Marker colour of depots."""

JsonObject = dict[str, Any]


def plan_to_geojson(
    problem: Problem,
    solution: Solution,
    report: CheckReport,
    *,
    geometry: Geometry | None = None,
) -> JsonObject:
    """The plan as a GeoJSON FeatureCollection (a JSON-ready dictionary).

    ``report`` is :func:`evfleet.checker.check` of the plan; ``geometry`` road polylines by
    route index in ``solution.routes`` (missing: straight lines). Raises ``ValueError`` when
    the problem's coordinates cannot be longitude/latitude degrees.
    """
    if not is_geographic(problem):
        raise ValueError(
            "GeoJSON needs WGS 84 positions: every location's x must be a longitude in "
            "[-180, 180] and y a latitude in [-90, 90]"
        )
    routes = used_routes(problem, solution, report)
    features: list[JsonObject] = []
    for d, depot in enumerate(problem.depots):
        features.append(
            _point(
                f"depot-{depot.name}",
                position(problem, d),
                {
                    "kind": "depot",
                    "id": depot.name,
                    "open": clock(depot.tw_early_s),
                    "close": clock(depot.tw_late_s),
                    "marker-color": DEPOT_COLOUR,
                    "marker-symbol": "warehouse",
                },
            )
        )
    for used in routes:
        features.append(_line(problem, used, geometry))
    for used in routes:
        features.extend(_stop(problem, used, k) for k in range(len(used.route.visits)))
    names = problem.location_names()
    for loc in unassigned_clients(problem, solution):
        features.append(
            _point(
                f"unassigned-{names[loc]}",
                position(problem, loc),
                {
                    "kind": "client",
                    "status": "unassigned",
                    "id": names[loc],
                    "order_id": names[loc],
                    "route": None,
                    "sequence": None,
                    "marker-color": "#999999",
                },
            )
        )
    xs = [p[0] for f in features for p in _positions(f)]
    ys = [p[1] for f in features for p in _positions(f)]
    return {
        "type": "FeatureCollection",
        "bbox": [min(xs), min(ys), max(xs), max(ys)],
        "features": features,
    }


def plan_to_geojson_text(
    problem: Problem,
    solution: Solution,
    report: CheckReport,
    *,
    geometry: Geometry | None = None,
    indent: int | None = None,
) -> str:
    """:func:`plan_to_geojson` as JSON text, ending in a newline."""
    doc = plan_to_geojson(problem, solution, report, geometry=geometry)
    return json.dumps(doc, indent=indent, ensure_ascii=False, allow_nan=False) + "\n"


def write_geojson(
    problem: Problem,
    solution: Solution,
    report: CheckReport,
    path: str | os.PathLike[str],
    *,
    geometry: Geometry | None = None,
) -> None:
    """Writes :func:`plan_to_geojson_text` to ``path`` (UTF-8; ``.geojson`` by custom)."""
    text = plan_to_geojson_text(problem, solution, report, geometry=geometry)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


# --------------------------------------------------------------------------------- parts


def _coord(p: LatLon) -> list[float]:
    return [round(p.lon, COORDINATE_DECIMALS), round(p.lat, COORDINATE_DECIMALS)]


def _point(fid: str, p: LatLon, properties: JsonObject) -> JsonObject:
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": _coord(p)},
        "properties": properties,
    }


def _positions(feature: JsonObject) -> list[list[float]]:
    geom = feature["geometry"]
    if geom["type"] == "Point":
        return [geom["coordinates"]]
    coords: list[list[float]] = geom["coordinates"]
    return coords


def _line(problem: Problem, used: UsedRoute, geometry: Geometry | None) -> JsonObject:
    points, source = route_line(problem, used, geometry)
    coords = [_coord(p) for p in points]
    if len(coords) < 2:  # RFC 7946: a LineString has two or more positions
        coords = [coords[0], coords[0]]
    rep = used.report
    return {
        "type": "Feature",
        "id": f"route-{used.number}",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": {
            "kind": "route",
            "route": used.number,
            "route_index": used.index,
            "vehicle_type": used.vehicle.name,
            "powertrain": used.vehicle.powertrain.value,
            "depot": problem.depots[used.vehicle.depot].name,
            "geometry_source": source,
            "stops": len(used.route.visits),
            "start": clock(rep.start_s),
            "start_s": finite(rep.start_s),
            "end": clock(rep.end_s),
            "end_s": finite(rep.end_s),
            "distance_m": finite(rep.distance_m),
            "duration_s": finite(rep.duration_s),
            "charged_wh": finite(sum(charged_wh(s) for s in used.stops)),
            "status": "planned",
            "stroke": colour(used.number),
            "stroke-width": 3,
        },
    }


def _stop(problem: Problem, used: UsedRoute, k: int) -> JsonObject:
    loc = used.route.visits[k].location
    stop = used.stops[k]
    site = problem.location(loc)
    properties: JsonObject = {
        "kind": "client" if isinstance(site, Client) else "charger",
        "status": "planned",
        "id": stop.location,
        "route": used.number,
        "route_index": used.index,
        "vehicle_type": used.vehicle.name,
        "sequence": k + 1,
        "arrival": clock(stop.arrival_s),
        "arrival_s": finite(stop.arrival_s),
        "start": clock(stop.start_s),
        "start_s": finite(stop.start_s),
        "departure": clock(stop.departure_s),
        "departure_s": finite(stop.departure_s),
        "soc_arrival_pct": soc_pct(stop.energy_arrival_wh, used.vehicle),
        "soc_departure_pct": soc_pct(stop.energy_departure_wh, used.vehicle),
    }
    if isinstance(site, Client):
        properties.update(
            {
                "order_id": stop.location,
                "demand_kg": site.demand_kg,
                "service_min": site.service_s / 60.0,
                "window_start": clock(site.tw_early_s) if site.tw_early_s > 0 else None,
                "window_end": clock(site.tw_late_s),
                "marker-color": colour(used.number),
            }
        )
    else:
        properties.update(
            {
                "charger_id": stop.location,
                "charged_wh": charged_wh(stop),
                "charging_min": finite(stop.charging_s / 60.0),
                "marker-color": CHARGER_COLOUR,
                "marker-symbol": "fuel",
            }
        )
    return _point(f"route-{used.number}-stop-{k + 1}", position(problem, loc), properties)
