"""Driver manifests: one CSV per route (``route-01-<vehicle>.csv``), for print-outs and phones.

Each file is a plain table that Excel and LibreOffice open as is: the first row is the
header, then one row per stop in driving order: leaving the depot (stop 0), every client and
charging stop, and the return to the depot. No comment lines, no summary rows. Times are
``HH:MM`` (local time, rounded to the minute), windows ``HH:MM-HH:MM`` (empty: none),
positions WGS 84 degrees, weights kg, durations min, energies kWh.

Columns: ``stop``, ``type`` (``depot``, ``delivery``, ``charging``), ``id`` (order id,
charger id or depot id), ``latitude``, ``longitude``, ``arrival``, ``departure``, ``window``,
``parcels``, ``weight_kg``, ``service_min``, ``charge_kwh``, ``charge_min``, ``notes``.
``parcels`` and ``notes`` come from the dispatcher's orders when given (``orders``: order id
to :class:`evfleet.day.Order`); without them ``parcels`` is empty and ``weight_kg`` is the
client's demand.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from pathlib import Path

from evfleet.checker import CheckReport
from evfleet.day import Order
from evfleet.problem import Client, Problem
from evfleet.report._common import (
    UsedRoute,
    charged_wh,
    clock_hm,
    position,
    slug,
    used_routes,
    window_text,
)
from evfleet.solution import Solution

__all__ = ["COLUMNS", "manifest_csv", "route_manifests", "write_manifests"]

COLUMNS = (
    "stop",
    "type",
    "id",
    "latitude",
    "longitude",
    "arrival",
    "departure",
    "window",
    "parcels",
    "weight_kg",
    "service_min",
    "charge_kwh",
    "charge_min",
    "notes",
)
"""The header row of every manifest."""

BOM = "\ufeff"
"""The UTF-8 byte order mark that makes older Excel versions read the file as UTF-8."""


def route_manifests(
    problem: Problem,
    solution: Solution,
    report: CheckReport,
    *,
    orders: Mapping[str, Order] | None = None,
    bom: bool = False,
    delimiter: str = ",",
) -> dict[str, str]:
    """One CSV text per used route, keyed by file name ``route-NN-<vehicle>.csv``.

    ``NN`` is the route number (1-based among used routes, zero-padded to two digits or
    more); ``<vehicle>`` the vehicle type name made file-safe. ``bom`` starts each text with
    a byte order mark; ``delimiter`` separates the fields (``;`` suits Excel in locales with
    a decimal comma).
    """
    routes = used_routes(problem, solution, report)
    width = max(2, len(str(len(routes))))
    result: dict[str, str] = {}
    for used in routes:
        name = f"route-{used.number:0{width}d}-{slug(used.vehicle.name)}.csv"
        result[name] = manifest_csv(problem, used, orders=orders, bom=bom, delimiter=delimiter)
    return result


def manifest_csv(
    problem: Problem,
    used: UsedRoute,
    *,
    orders: Mapping[str, Order] | None = None,
    bom: bool = False,
    delimiter: str = ",",
) -> str:
    """The manifest of one route as CSV text (header row first, ``\\r\\n`` line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    depot_loc = used.vehicle.depot
    depot = problem.depots[depot_loc]
    home = position(problem, depot_loc)
    rep = used.report
    writer.writerow(
        [0, "depot", depot.name, _deg(home.lat), _deg(home.lon), "", clock_hm(rep.start_s)]
        + [""] * 7
    )
    for k, (visit, stop) in enumerate(zip(used.route.visits, used.stops, strict=True)):
        site = problem.location(visit.location)
        where = position(problem, visit.location)
        common = [k + 1]
        times = [clock_hm(stop.arrival_s), clock_hm(stop.departure_s)]
        if isinstance(site, Client):
            order = orders.get(site.name) if orders is not None else None
            weight = order.weight_kg if order is not None else site.demand_kg
            row = [
                *common,
                "delivery",
                site.name,
                _deg(where.lat),
                _deg(where.lon),
                *times,
                window_text(site.tw_early_s, site.tw_late_s),
                order.parcels if order is not None else "",
                _num(weight, 1),
                _num(site.service_s / 60.0, 1),
                "",
                "",
                order.notes if order is not None else "",
            ]
        else:
            row = [
                *common,
                "charging",
                stop.location,
                _deg(where.lat),
                _deg(where.lon),
                *times,
                "",
                "",
                "",
                "",
                _num(charged_wh(stop) / 1000.0, 1),
                _num(stop.charging_s / 60.0, 1),
                "",
            ]
        writer.writerow(row)
    back = used.back
    writer.writerow(
        [len(used.route.visits) + 1, "depot", depot.name, _deg(home.lat), _deg(home.lon)]
        + [clock_hm(back.arrival_s)]
        + [""] * 8
    )
    return (BOM if bom else "") + buffer.getvalue()


def write_manifests(
    problem: Problem,
    solution: Solution,
    report: CheckReport,
    directory: str | os.PathLike[str],
    *,
    orders: Mapping[str, Order] | None = None,
    bom: bool = False,
    delimiter: str = ",",
) -> list[Path]:
    """Writes :func:`route_manifests` into ``directory`` (made if missing), UTF-8; returns
    the paths written, in route order."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    manifests = route_manifests(
        problem, solution, report, orders=orders, bom=bom, delimiter=delimiter
    )
    for name, text in manifests.items():
        path = folder / name
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        paths.append(path)
    return paths


def _deg(value: float) -> str:
    """Degrees with 6 decimals (about 0.1 m)."""
    return f"{value:.6f}"


def _num(value: float, decimals: int) -> str:
    """A number with at most ``decimals`` decimals and no trailing zeros (``12``, ``2.5``)."""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
