"""Reader for the IEEE WCCI-2020 electric CVRP set of Mavrovouniotis et al. (``.evrp``).

TSPLIB-like layout: ``KEY: value`` header lines (``DIMENSION`` = customers + depot,
``STATIONS``, ``CAPACITY``, ``ENERGY_CAPACITY``, ``ENERGY_CONSUMPTION``, ...), then
``NODE_COORD_SECTION`` (``id x y``; depot 1, customers, then stations),
``DEMAND_SECTION`` (``id demand``), ``STATIONS_COORD_SECTION`` (station ids),
``DEPOT_SECTION`` (``1``, ``-1``: node 1 is the depot) and an optional ``EOF``. Customers
are the nodes ``2..DIMENSION``; the stations are numbered after them.

Units: one distance unit = 1 m, one energy unit = 1 Wh, one demand unit = 1 kg, so
``ENERGY_CONSUMPTION`` is read in Wh/m. Distances are double-precision Euclidean; charging
is instantaneous and always full; there are no time windows and the fleet is unlimited.

The depot: the set's rules let a vehicle recharge at the depot too. In evfleet a route
visits its depot only at its end and every route starts full, so a tour that passes the
depot is simply two routes of the same total distance (the fleet is unlimited and vehicles
are not counted), and the depot needs no charger. None of the 17 published files lists the
depot among its stations, and no station shares the depot's coordinates. Should a file list
the depot id in ``STATIONS_COORD_SECTION``, it becomes a charger node (named
``"<id>-charger"``) at the depot's coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from evfleet.charging import ChargingFunction
from evfleet.errors import InputError
from evfleet.io.text_file import finite_float, read_lines
from evfleet.model import Model
from evfleet.problem import Metric, Objective, Problem, RechargePolicy

__all__ = ["read_wcci"]

_REQUIRED_KEYS = ("DIMENSION", "STATIONS", "CAPACITY", "ENERGY_CAPACITY", "ENERGY_CONSUMPTION")
# Section name -> (columns, description of a row).
_SECTIONS = {
    "NODE_COORD_SECTION": (3, "'id x y'"),
    "DEMAND_SECTION": (2, "'id demand'"),
    "STATIONS_COORD_SECTION": (1, "'id'"),
    "DEPOT_SECTION": (1, "'id'"),
}


@dataclass
class _Section:
    line: int
    rows: list[tuple[int, list[float]]] = field(default_factory=list)


def _node_id(value: float) -> int | None:
    return int(value) if value.is_integer() else None


def read_wcci(path: str | PathLike[str]) -> Problem:
    """Reads a WCCI-2020 ``.evrp`` file (units: one set unit = m, Wh, kg).

    Objective: total distance; full, instantaneous recharging; unlimited fleet. The problem
    is named after the file stem; locations are named by their node id in the file.

    Raises :class:`~evfleet.errors.InputError` naming the file and line on malformed input.
    """
    path = Path(path)
    where = str(path)
    lines = read_lines(path)
    numbered = [(k + 1, line) for k, line in enumerate(lines) if line]
    if not numbered:
        raise InputError(
            "empty file: expected 'KEY: value' header lines and NODE_COORD_SECTION", path=where
        )
    last_line = numbered[-1][0]

    header: dict[str, tuple[int, str]] = {}
    sections: dict[str, _Section] = {}
    current: tuple[str, _Section] | None = None
    saw_eof = False
    depot_closed = False
    for lineno, line in numbered:
        if saw_eof:
            raise InputError(f"unexpected text after EOF: {line[:80]!r}", path=where, line=lineno)
        word = line.rstrip(":").strip()
        if word == "EOF":
            saw_eof = True
            continue
        if word.endswith("_SECTION"):
            if word not in _SECTIONS:
                raise InputError(
                    f"unknown section {word!r} (expected one of {', '.join(_SECTIONS)})",
                    path=where,
                    line=lineno,
                )
            if word in sections:
                raise InputError(f"section {word} appears twice", path=where, line=lineno)
            current = (word, _Section(lineno))
            sections[word] = current[1]
            continue
        if current is None:
            key, colon, value = line.partition(":")
            if not colon:
                raise InputError(
                    f"expected a 'KEY: value' header line or a *_SECTION line, got {line[:80]!r}",
                    path=where,
                    line=lineno,
                )
            header[key.strip().upper()] = (lineno, value.strip())
            continue
        name, section = current
        columns, shape = _SECTIONS[name]
        tokens = line.split()
        numbers = [finite_float(tok) for tok in tokens]
        if name == "DEPOT_SECTION" and depot_closed:
            raise InputError(
                f"expected a *_SECTION line or EOF after the -1 that ends DEPOT_SECTION, "
                f"got {line[:80]!r}",
                path=where,
                line=lineno,
            )
        if name == "DEPOT_SECTION" and numbers == [-1.0]:
            depot_closed = True
            continue
        if len(tokens) != columns or any(v is None for v in numbers):
            raise InputError(
                f"expected {shape} with numbers, got {line[:80]!r} (in {name})",
                path=where,
                line=lineno,
            )
        section.rows.append((lineno, [v for v in numbers if v is not None]))
    if "DEPOT_SECTION" in sections and not depot_closed:
        raise InputError(
            "file ends inside DEPOT_SECTION (expected the depot id, then -1)",
            path=where,
            line=last_line,
        )

    def header_number(key: str, *, integer: bool = False, positive: bool = True) -> float:
        if key not in header:
            raise InputError(
                f"missing header line '{key}: <number>' before the sections",
                path=where,
                line=last_line if not sections else min(s.line for s in sections.values()),
            )
        lineno, text = header[key]
        value = finite_float(text)
        if (
            value is None
            or (integer and not value.is_integer())
            or value < 0
            or (positive and value == 0)
        ):
            kind = "a whole number" if integer else "a number"
            raise InputError(
                f"expected {kind} {'> 0' if positive else '>= 0'} for {key}, got {text!r}",
                path=where,
                line=lineno,
            )
        return value

    for key in ("EDGE_WEIGHT_FORMAT", "EDGE_WEIGHT_TYPE"):
        if key in header and header[key][1].upper() != "EUC_2D":
            lineno, text = header[key]
            raise InputError(f"expected {key}: EUC_2D, got {text!r}", path=where, line=lineno)
    if "TYPE" in header and header["TYPE"][1].upper() != "EVRP":
        raise InputError(
            f"expected TYPE: EVRP, got {header['TYPE'][1]!r}", path=where, line=header["TYPE"][0]
        )
    values = {key: header_number(key, positive=key != "STATIONS") for key in _REQUIRED_KEYS}
    dimension = int(header_number("DIMENSION", integer=True))
    num_stations = int(header_number("STATIONS", integer=True, positive=False))

    for name in _SECTIONS:
        if name not in sections:
            raise InputError(
                f"missing {name} (the file may be truncated)", path=where, line=last_line
            )

    def ids(name: str) -> list[tuple[int, int]]:
        out = []
        for lineno, row in sections[name].rows:
            node = _node_id(row[0])
            if node is None or node < 1:
                raise InputError(
                    f"expected a node id (a whole number >= 1) in {name}, got {row[0]:g}",
                    path=where,
                    line=lineno,
                )
            out.append((lineno, node))
        return out

    # Node coordinates: ids 1..n in order.
    coords: dict[int, tuple[float, float]] = {}
    for (lineno, node), (_, row) in zip(
        ids("NODE_COORD_SECTION"), sections["NODE_COORD_SECTION"].rows, strict=True
    ):
        if node != len(coords) + 1:
            raise InputError(
                f"expected node id {len(coords) + 1} in NODE_COORD_SECTION, got {node}",
                path=where,
                line=lineno,
            )
        coords[node] = (row[1], row[2])

    station_rows = ids("STATIONS_COORD_SECTION")
    station_ids = [node for _, node in station_rows]
    if len(station_ids) != num_stations:
        raise InputError(
            f"STATIONS_COORD_SECTION lists {len(station_ids)} station ids, "
            f"expected STATIONS = {num_stations}",
            path=where,
            line=sections["STATIONS_COORD_SECTION"].line,
        )
    depot_rows = ids("DEPOT_SECTION")
    if len(depot_rows) != 1:
        raise InputError(
            f"expected exactly one depot id in DEPOT_SECTION, got {len(depot_rows)}",
            path=where,
            line=sections["DEPOT_SECTION"].line,
        )
    depot_id = depot_rows[0][1]
    if depot_id != 1:
        raise InputError(
            f"expected depot id 1 in DEPOT_SECTION (the set's depot is node 1), got {depot_id}",
            path=where,
            line=depot_rows[0][0],
        )
    seen: set[int] = set()
    for lineno, node in station_rows:
        if node not in coords:
            raise InputError(
                f"station id {node} has no coordinates in NODE_COORD_SECTION",
                path=where,
                line=lineno,
            )
        if node in seen:
            raise InputError(f"station id {node} listed twice", path=where, line=lineno)
        if node != depot_id and node <= dimension:
            raise InputError(
                f"station id {node} is a customer node (ids 2..{dimension} are customers)",
                path=where,
                line=lineno,
            )
        seen.add(node)
    extra_nodes = sum(1 for node in seen if node > dimension)
    expected_nodes = dimension + extra_nodes
    if len(coords) != expected_nodes:
        raise InputError(
            f"NODE_COORD_SECTION has {len(coords)} rows, expected {expected_nodes} "
            f"(DIMENSION {dimension} + {extra_nodes} stations)",
            path=where,
            line=sections["NODE_COORD_SECTION"].line,
        )

    demands: dict[int, float] = {}
    for (lineno, node), (_, row) in zip(
        ids("DEMAND_SECTION"), sections["DEMAND_SECTION"].rows, strict=True
    ):
        if node > dimension or node in demands:
            raise InputError(
                f"expected each node id 1..{dimension} once in DEMAND_SECTION, got {node}",
                path=where,
                line=lineno,
            )
        if row[1] < 0:
            raise InputError(f"demand must be >= 0, got {row[1]:g}", path=where, line=lineno)
        demands[node] = row[1]
    if len(demands) != dimension:
        raise InputError(
            f"DEMAND_SECTION has {len(demands)} rows, expected DIMENSION = {dimension}",
            path=where,
            line=sections["DEMAND_SECTION"].line,
        )

    try:
        model = Model(path.stem)
        model.objective = Objective.DISTANCE
        model.recharge = RechargePolicy.FULL
        model.add_depot(*coords[depot_id], name=str(depot_id))
        for node in range(1, dimension + 1):
            if node != depot_id and node not in seen:
                model.add_client(*coords[node], name=str(node), demand_kg=demands[node])
        instant = ChargingFunction.linear(0.0)
        for node in station_ids:
            # A station listed at the depot id becomes a charger at the depot's coordinates.
            name = f"{node}-charger" if node == depot_id else str(node)
            model.add_charger(*coords[node], name=name, function=instant)
        model.add_vehicle_type(
            name="ev",
            count=None,
            capacity_kg=values["CAPACITY"],
            battery_wh=values["ENERGY_CAPACITY"],
            energy_wh_per_m=values["ENERGY_CONSUMPTION"],
        )
        model.set_metric(Metric("euclidean", None, speed_m_per_s=1.0))
        return model.data()
    except ValueError as exc:  # a value the model rejects that the checks above let pass
        raise InputError(f"invalid instance data: {exc}", path=str(path)) from exc
