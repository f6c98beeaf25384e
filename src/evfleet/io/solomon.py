"""Reader for Solomon's (1987) VRPTW instances in the LKH-3 layout (``.vrptw``).

Layout: ``KEY : value`` header lines (``NAME``, ``TYPE : CVRPTW``, ``DIMENSION`` = depot +
customers, ``VEHICLES``, ``CAPACITY``, ``SERVICE_TIME``, ``SCALE``, ``EDGE_WEIGHT_TYPE``),
then ``NODE_COORD_SECTION`` (``id x y``), ``DEMAND_SECTION`` (``id demand``),
``TIME_WINDOW_SECTION`` (``id ready due``), ``DEPOT_SECTION`` (``1``, ``-1``) and ``EOF``.
The file is parsed here, not with ``vrplib``, which ignores ``SCALE`` and rounds distances
to whole units.

Units: one distance unit = 1 m and one time unit = 1 s (speed 1 m/s, so a duration equals
its distance); one demand unit = 1 kg. Two conventions (the ``SCALE``/``EDGE_WEIGHT_TYPE``
lines only matter to LKH-3 and are not used for the distances):

* ``"hierarchical"`` (classical Solomon/SINTEF): double-precision Euclidean distances;
  fewest vehicles first, then total distance.
* ``"dimacs"`` (DIMACS 2021 VRPTW challenge, LKH-3's ``FLOOR_2D`` with ``SCALE : 10``):
  each distance truncated to one decimal, ``floor(10 d) / 10``; total distance only.

The vehicles have no battery (diesel with zero fuel use); ``VEHICLES`` limits the fleet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from evfleet.errors import InputError
from evfleet.io.text_file import finite_float, read_lines
from evfleet.model import Model
from evfleet.problem import Metric, Objective, Powertrain, Problem, RechargePolicy

__all__ = ["CONVENTIONS", "read_solomon"]

CONVENTIONS = ("hierarchical", "dimacs")
"""The cost conventions :func:`read_solomon` knows."""

_SECTIONS = {
    "NODE_COORD_SECTION": (3, "'id x y'"),
    "DEMAND_SECTION": (2, "'id demand'"),
    "TIME_WINDOW_SECTION": (3, "'id ready due'"),
    "DEPOT_SECTION": (1, "'id'"),
}
_EDGE_WEIGHT_TYPES = ("FLOOR_2D", "EXACT_2D", "EUC_2D")


@dataclass
class _Section:
    line: int
    rows: list[tuple[int, list[float]]] = field(default_factory=list)


def read_solomon(path: str | PathLike[str], *, convention: str = "hierarchical") -> Problem:
    """Reads a Solomon VRPTW instance in LKH-3 layout (units: one set unit = m, s, kg).

    ``convention`` is ``"hierarchical"`` (double-precision distances, fewest vehicles then
    distance) or ``"dimacs"`` (distances truncated to one decimal, distance only). The
    problem is named after ``NAME`` (e.g. ``C101``); locations by their node id.

    Raises :class:`~evfleet.errors.InputError` naming the file and line on malformed input,
    and :class:`ValueError` for an unknown ``convention``.
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; expected one of {CONVENTIONS}")
    path = Path(path)
    where = str(path)
    lines = read_lines(path)
    numbered = [(k + 1, line) for k, line in enumerate(lines) if line]
    if not numbered:
        raise InputError(
            "empty file: expected 'KEY : value' header lines and NODE_COORD_SECTION", path=where
        )
    last_line = numbered[-1][0]

    header: dict[str, tuple[int, str]] = {}
    sections: dict[str, _Section] = {}
    current: str | None = None
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
            current = word
            sections[word] = _Section(lineno)
            continue
        if current is None:
            key, colon, value = line.partition(":")
            if not colon:
                raise InputError(
                    f"expected a 'KEY : value' header line or a *_SECTION line, got {line[:80]!r}",
                    path=where,
                    line=lineno,
                )
            header[key.strip().upper()] = (lineno, value.strip())
            continue
        columns, shape = _SECTIONS[current]
        tokens = line.split()
        numbers = [finite_float(tok) for tok in tokens]
        if current == "DEPOT_SECTION" and depot_closed:
            raise InputError(
                f"expected a *_SECTION line or EOF after the -1 that ends DEPOT_SECTION, "
                f"got {line[:80]!r}",
                path=where,
                line=lineno,
            )
        if current == "DEPOT_SECTION" and numbers == [-1.0]:
            depot_closed = True
            continue
        if len(tokens) != columns or any(v is None for v in numbers):
            raise InputError(
                f"expected {shape} with numbers, got {line[:80]!r} (in {current})",
                path=where,
                line=lineno,
            )
        sections[current].rows.append((lineno, [v for v in numbers if v is not None]))
    if "DEPOT_SECTION" in sections and not depot_closed:
        raise InputError(
            "file ends inside DEPOT_SECTION (expected the depot id, then -1)",
            path=where,
            line=last_line,
        )

    first_section = min((s.line for s in sections.values()), default=last_line)

    def header_number(key: str, *, default: float | None = None, positive: bool = True) -> float:
        if key not in header:
            if default is not None:
                return default
            raise InputError(
                f"missing header line '{key} : <number>' before the sections",
                path=where,
                line=first_section,
            )
        lineno, text = header[key]
        value = finite_float(text)
        if value is None or value < 0 or (positive and value == 0):
            raise InputError(
                f"expected a number {'> 0' if positive else '>= 0'} for {key}, got {text!r}",
                path=where,
                line=lineno,
            )
        return value

    if "TYPE" in header and header["TYPE"][1].upper() not in ("CVRPTW", "VRPTW"):
        lineno, text = header["TYPE"]
        raise InputError(f"expected TYPE : CVRPTW, got {text!r}", path=where, line=lineno)
    if "EDGE_WEIGHT_TYPE" in header and header["EDGE_WEIGHT_TYPE"][1].upper() not in (
        _EDGE_WEIGHT_TYPES
    ):
        lineno, text = header["EDGE_WEIGHT_TYPE"]
        raise InputError(
            f"expected EDGE_WEIGHT_TYPE : one of {', '.join(_EDGE_WEIGHT_TYPES)}, got {text!r}",
            path=where,
            line=lineno,
        )
    dimension_f = header_number("DIMENSION")
    vehicles_f = header_number("VEHICLES")
    for key, count in (("DIMENSION", dimension_f), ("VEHICLES", vehicles_f)):
        if not count.is_integer():
            raise InputError(
                f"expected a whole number for {key}, got {count:g}", path=where, line=header[key][0]
            )
    dimension, vehicles = int(dimension_f), int(vehicles_f)
    capacity = header_number("CAPACITY")
    service = header_number("SERVICE_TIME", default=0.0, positive=False)

    for name in _SECTIONS:
        if name not in sections:
            raise InputError(
                f"missing {name} (the file may be truncated)", path=where, line=last_line
            )

    def table(name: str) -> dict[int, tuple[int, list[float]]]:
        """Rows of a section by node id, which must run 1..DIMENSION."""
        section = sections[name]
        out: dict[int, tuple[int, list[float]]] = {}
        for lineno, row in section.rows:
            node = row[0]
            if not node.is_integer() or not 1 <= node <= dimension or int(node) in out:
                raise InputError(
                    f"expected each node id 1..{dimension} once in {name}, got {node:g}",
                    path=where,
                    line=lineno,
                )
            out[int(node)] = (lineno, row[1:])
        if len(out) != dimension:
            raise InputError(
                f"{name} has {len(out)} rows, expected DIMENSION = {dimension}",
                path=where,
                line=section.line,
            )
        return out

    coords = table("NODE_COORD_SECTION")
    demands = table("DEMAND_SECTION")
    windows = table("TIME_WINDOW_SECTION")
    depot_rows = sections["DEPOT_SECTION"].rows
    if len(depot_rows) != 1:
        raise InputError(
            f"expected exactly one depot id in DEPOT_SECTION, got {len(depot_rows)}",
            path=where,
            line=sections["DEPOT_SECTION"].line,
        )
    depot_line, (depot_value,) = depot_rows[0]
    if not depot_value.is_integer() or int(depot_value) not in coords:
        raise InputError(
            f"depot id {depot_value:g} is not one of the nodes 1..{dimension}",
            path=where,
            line=depot_line,
        )
    depot_id = int(depot_value)
    for node, (lineno, (early, late)) in windows.items():
        if late < early:
            raise InputError(
                f"time window of node {node}: due {late:g} is before ready {early:g}",
                path=where,
                line=lineno,
            )
    for _node, (lineno, (demand,)) in demands.items():
        if demand < 0:
            raise InputError(f"demand must be >= 0, got {demand:g}", path=where, line=lineno)

    name = header.get("NAME", (0, ""))[1] or path.name.split(".")[0]
    try:
        model = Model(name)
        model.objective = (
            Objective.VEHICLES_THEN_DISTANCE if convention == "hierarchical" else Objective.DISTANCE
        )
        model.recharge = RechargePolicy.FULL
        depot_early, depot_late = windows[depot_id][1]
        model.add_depot(
            *coords[depot_id][1], name=str(depot_id), tw_early_s=depot_early, tw_late_s=depot_late
        )
        for node in range(1, dimension + 1):
            if node == depot_id:
                continue
            early, late = windows[node][1]
            model.add_client(
                *coords[node][1],
                name=str(node),
                demand_kg=demands[node][1][0],
                service_s=service,
                tw_early_s=early,
                tw_late_s=late,
            )
        model.add_vehicle_type(
            name="vehicle",
            count=vehicles,
            capacity_kg=capacity,
            powertrain=Powertrain.DIESEL,
            fuel_l_per_m=0.0,
            shift_start_s=depot_early,
            shift_end_s=depot_late,
        )
        truncate = 1 if convention == "dimacs" else None
        model.set_metric(Metric("euclidean", truncate_decimals=truncate, speed_m_per_s=1.0))
        return model.data()
    except ValueError as exc:  # a value the model rejects that the checks above let pass
        raise InputError(f"invalid instance data: {exc}", path=str(path)) from exc
