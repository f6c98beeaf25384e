"""Reader for plain VRPLIB / CVRPLIB files (and Solomon's text layout) through ``vrplib``.

``vrplib.read_instance`` does the parsing; its ``edge_weight`` matrix is used as given (as
explicit matrices, durations equal to distances), together with ``CAPACITY``, the demands,
and time windows, service times and ``VEHICLES`` when the file has them. The objective is
total distance; the vehicles have no battery (diesel with zero fuel use).

Units: one distance unit = 1 m, one time unit = 1 s, one demand unit = 1 kg. Note that
``vrplib`` 2.x computes ``EUC_2D`` distances in double precision (TSPLIB's rounding to the
nearest integer is not applied), ``FLOOR_2D`` as whole units (it ignores ``SCALE``) and
``EXACT_2D`` as ×1000 integers. For the LKH-3 Solomon files use :mod:`evfleet.io.solomon`.

Before handing the file to ``vrplib`` the lines are checked here so that malformed input
raises :class:`~evfleet.errors.InputError` with the line number.
"""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import vrplib
from numpy.typing import NDArray

from evfleet.errors import InputError
from evfleet.io.text_file import read_lines
from evfleet.model import Model
from evfleet.problem import INF, Objective, Powertrain, Problem, RechargePolicy

__all__ = ["read_vrplib"]

_SOLOMON_COLUMNS = "CUST NO. XCOORD. YCOORD. DEMAND READY TIME DUE DATE SERVICE TIME"
_EDGE_WEIGHT_TYPES = ("EUC_2D", "FLOOR_2D", "CEIL_2D", "EXACT_2D")
_EDGE_WEIGHT_FORMATS = ("LOWER_ROW", "FULL_MATRIX")
# Characters that str.splitlines() (used by vrplib) treats as line breaks, besides \n, \r.
_LINE_BREAKS = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def _is_number(token: str) -> bool:
    try:
        return math.isfinite(float(token))
    except ValueError:
        return False


def _is_solomon_text(lines: list[str]) -> bool:
    """Whether stripped ``lines`` are in Solomon's original text layout (``VEHICLE`` block)."""
    content = [line for line in lines if line]
    return len(content) >= 3 and "VEHICLE" in content[1] and "NUMBER" in content[2]


def _scan_solomon(lines: list[str], where: str) -> dict[str, int]:
    """Checks Solomon's text layout line by line; returns the line of the data rows."""
    numbered = [(k + 1, line) for k, line in enumerate(lines) if line]
    expected = [(1, ["VEHICLE"]), (2, ["NUMBER", "CAPACITY"]), (4, ["CUSTOMER"])]
    expected.append((5, _SOLOMON_COLUMNS.split()))
    for index, words in expected:
        if len(numbered) <= index or not all(w in numbered[index][1] for w in words):
            lineno = numbered[min(index, len(numbered) - 1)][0]
            raise InputError(
                f"expected the line {' '.join(words)!r} here (Solomon's layout: name, VEHICLE, "
                "NUMBER CAPACITY, values, CUSTOMER, column names, rows)",
                path=where,
                line=lineno,
            )
    lineno, line = numbered[3]
    tokens = line.split()
    if len(tokens) != 2 or not all(tok.isdigit() for tok in tokens):
        raise InputError(
            f"expected 'NUMBER CAPACITY' as two whole numbers, got {line[:80]!r}",
            path=where,
            line=lineno,
        )
    rows = numbered[6:]
    if len(rows) < 2:
        raise InputError(
            "expected the depot row and at least one customer row after the column names",
            path=where,
            line=numbered[-1][0],
        )
    for lineno, line in rows:
        tokens = line.split()
        if len(tokens) != 7 or not all(tok.lstrip("-").isdigit() for tok in tokens):
            raise InputError(
                f"expected 7 whole numbers ({_SOLOMON_COLUMNS}), got {line[:80]!r}",
                path=where,
                line=lineno,
            )
    return {
        "node_coord": rows[0][0],
        "demand": rows[0][0],
        "time_window": rows[0][0],
        "service_time": rows[0][0],
        "vehicles": numbered[3][0],
        "capacity": numbered[3][0],
    }


def _scan_vrplib(lines: list[str], where: str) -> dict[str, int]:
    """Checks the VRPLIB layout line by line; returns the line of every key and section."""
    found: dict[str, int] = {}
    values: dict[str, str] = {}
    section: str | None = None
    width: tuple[int, int] | None = None  # (numbers per row, line of the first row)
    for k, line in enumerate(lines):
        lineno = k + 1
        if not line or line.startswith("#"):
            continue
        if "EOF" in line:  # vrplib stops at the first line that contains EOF
            break
        if "_SECTION" in line:
            section = line.strip(" :").removesuffix("_SECTION").lower()
            found[section] = lineno
            width = None
            continue
        if section is not None:
            if ":" in line:
                raise InputError(
                    f"a 'KEY : value' line after the data sections began: {line[:80]!r}",
                    path=where,
                    line=lineno,
                )
            tokens = line.split()
            bad = next((tok for tok in tokens if not _is_number(tok)), None)
            if bad is not None:
                raise InputError(
                    f"expected numbers in {section.upper()}_SECTION, got {bad[:40]!r}",
                    path=where,
                    line=lineno,
                )
            if section in ("edge_weight", "depot"):
                continue  # free layout
            if width is None:
                width = (len(tokens), lineno)
            elif len(tokens) != width[0]:
                raise InputError(
                    f"expected {width[0]} numbers per row in {section.upper()}_SECTION "
                    f"(as on line {width[1]}), got {len(tokens)}",
                    path=where,
                    line=lineno,
                )
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise InputError(
                f"expected a 'KEY : value' line or a *_SECTION line, got {line[:80]!r}",
                path=where,
                line=lineno,
            )
        found[key.strip().lower()] = lineno
        values[key.strip().lower()] = value.strip()

    last_line = max((k + 1 for k, line in enumerate(lines) if line), default=1)
    first_section = min((found[name] for name in found if name not in values), default=last_line)
    if "edge_weight" not in found:
        kind = values.get("edge_weight_type")
        if kind is None:
            raise InputError(
                "missing 'EDGE_WEIGHT_TYPE : <type>' (or an EDGE_WEIGHT_SECTION)",
                path=where,
                line=first_section,
            )
        if kind == "EXPLICIT":
            raise InputError(
                "EDGE_WEIGHT_TYPE EXPLICIT needs an EDGE_WEIGHT_SECTION "
                "(the file may be truncated)",
                path=where,
                line=found["edge_weight_type"],
            )
        if kind not in _EDGE_WEIGHT_TYPES:
            raise InputError(
                f"EDGE_WEIGHT_TYPE {kind!r} is not one that vrplib computes "
                f"({', '.join(_EDGE_WEIGHT_TYPES)})",
                path=where,
                line=found["edge_weight_type"],
            )
        if "node_coord" not in found:
            raise InputError(
                f"missing NODE_COORD_SECTION, needed for EDGE_WEIGHT_TYPE {kind} "
                "(the file may be truncated)",
                path=where,
                line=last_line,
            )
    elif values.get("edge_weight_format") not in _EDGE_WEIGHT_FORMATS:
        raise InputError(
            f"EDGE_WEIGHT_SECTION needs 'EDGE_WEIGHT_FORMAT : <format>' with one of "
            f"{', '.join(_EDGE_WEIGHT_FORMATS)}",
            path=where,
            line=found.get("edge_weight_format", found["edge_weight"]),
        )
    return found


def _array(instance: dict[str, Any], key: str) -> NDArray[np.float64] | None:
    value = instance.get(key)
    if value is None:
        return None
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return np.full(1, np.nan)  # ragged or non-numeric; reported by the caller
    return array


def read_vrplib(path: str | PathLike[str]) -> Problem:
    """Reads a VRPLIB/CVRPLIB (or Solomon text layout) file with ``vrplib`` (m, s, kg).

    Uses the file's distance matrix as computed by ``vrplib``; durations equal distances.
    Locations are named by their node id (1-based for VRPLIB, Solomon's ``CUST NO.`` for
    the text layout). Raises :class:`~evfleet.errors.InputError` on malformed input.
    """
    path = Path(path)
    where = str(path)
    lines = read_lines(path)
    if not any(lines):
        raise InputError("empty file: expected a VRPLIB instance", path=where)
    for k, line in enumerate(lines):
        odd = next((ch for ch in line if ch in _LINE_BREAKS), None)
        if odd is not None:
            raise InputError(
                f"unexpected control character U+{ord(odd):04X} in the line",
                path=where,
                line=k + 1,
            )
    solomon = _is_solomon_text(lines)
    where_is = _scan_solomon(lines, where) if solomon else _scan_vrplib(lines, where)
    try:
        instance: dict[str, Any] = vrplib.read_instance(
            path, instance_format="solomon" if solomon else "vrplib"
        )
    except Exception as exc:  # vrplib raises many kinds; report them all
        raise InputError(
            f"vrplib cannot read this file: {type(exc).__name__}: {exc}", path=where
        ) from exc

    def error(message: str, key: str | None = None) -> InputError:
        return InputError(message, path=where, line=where_is.get(key) if key else None)

    last_line = max(k + 1 for k, line in enumerate(lines) if line)
    if not solomon:
        if "depot" not in instance:
            raise InputError(
                "missing DEPOT_SECTION (the file may be truncated)", path=where, line=last_line
            )
        if "capacity" in instance and "demand" not in instance:
            raise InputError(
                "CAPACITY is given but DEMAND_SECTION is missing (the file may be truncated)",
                path=where,
                line=last_line,
            )
    dist = _array(instance, "edge_weight")
    if dist is None:
        raise error("no distances: expected NODE_COORD_SECTION or EDGE_WEIGHT_SECTION")
    if dist.ndim != 2 or dist.shape[0] != dist.shape[1] or not np.all(dist >= 0):
        raise error(
            f"the distance matrix has shape {dist.shape}, expected a square matrix of numbers >= 0",
            "edge_weight" if "edge_weight" in where_is else "node_coord",
        )
    n = dist.shape[0]
    if n < 1:
        raise error("the instance has no nodes")
    dimension = instance.get("dimension")
    if dimension is not None and dimension != n:
        raise error(
            f"DIMENSION is {dimension} but the distance data has {n} nodes",
            "node_coord" if "node_coord" in where_is else "edge_weight",
        )

    def per_node(key: str, columns: int | None = None) -> NDArray[np.float64] | None:
        array = _array(instance, key)
        if array is None:
            return None
        shape = (n,) if columns is None else (n, columns)
        if array.shape != shape or not np.all(np.isfinite(array)):
            raise error(
                f"{key.upper()} has shape {array.shape}, expected {shape} (one row per node)",
                key,
            )
        return array

    coords = per_node("node_coord", 2)
    demand = per_node("demand")
    windows = per_node("time_window", 2)
    service_raw = _array(instance, "service_time")
    if service_raw is None:
        service = np.zeros(n)
    elif service_raw.ndim == 0:
        service = np.full(n, float(service_raw))
    else:
        service_section = per_node("service_time")
        assert service_section is not None
        service = service_section
    depots_raw = _array(instance, "depot")
    depots = [0] if depots_raw is None else [int(d) for d in np.ravel(depots_raw)]
    if not depots or any(not 0 <= d < n for d in depots) or len(set(depots)) != len(depots):
        raise error(f"DEPOT_SECTION must list distinct node ids 1..{n}", "depot")
    capacity_raw = instance.get("capacity", INF)
    if not isinstance(capacity_raw, int | float) or capacity_raw <= 0:
        raise error(f"CAPACITY must be one number > 0, got {capacity_raw!r}", "capacity")
    vehicles_raw = instance.get("vehicles")
    if vehicles_raw is not None and (not isinstance(vehicles_raw, int) or vehicles_raw <= 0):
        raise error(f"VEHICLES must be a whole number > 0, got {vehicles_raw!r}", "vehicles")
    if demand is not None and np.any(demand < 0):
        raise error("demands must be >= 0", "demand")
    if np.any(service < 0):
        raise error("service times must be >= 0", "service_time")
    if windows is not None and np.any(windows[:, 1] < windows[:, 0]):
        bad = int(np.argmax(windows[:, 1] < windows[:, 0]))
        raise error(f"time window of node {bad + 1} ends before it starts", "time_window")

    offset = 0 if solomon else 1
    try:
        model = Model(str(instance.get("name") or path.stem))
        model.objective = Objective.DISTANCE
        model.recharge = RechargePolicy.FULL

        def xy(i: int) -> tuple[float, float]:
            return (float(coords[i, 0]), float(coords[i, 1])) if coords is not None else (0.0, 0.0)

        def window(i: int) -> tuple[float, float]:
            return (
                (float(windows[i, 0]), float(windows[i, 1])) if windows is not None else (0.0, INF)
            )

        for d in depots:
            early, late = window(d)
            model.add_depot(*xy(d), name=str(d + offset), tw_early_s=early, tw_late_s=late)
        clients = [i for i in range(n) if i not in set(depots)]
        for i in clients:
            early, late = window(i)
            model.add_client(
                *xy(i),
                name=str(i + offset),
                demand_kg=0.0 if demand is None else float(demand[i]),
                service_s=float(service[i]),
                tw_early_s=early,
                tw_late_s=late,
            )
        for k, d in enumerate(depots):
            early, late = window(d)
            model.add_vehicle_type(
                name="vehicle" if len(depots) == 1 else f"vehicle@{d + offset}",
                count=vehicles_raw if len(depots) == 1 else None,
                capacity_kg=float(capacity_raw),
                depot=k,
                powertrain=Powertrain.DIESEL,
                fuel_l_per_m=0.0,
                shift_start_s=early,
                shift_end_s=late,
            )
        order = np.array(depots + clients)
        matrix = dist[np.ix_(order, order)]
        model.set_matrices(matrix, matrix.copy())
        return model.data()
    except ValueError as exc:  # a value the model rejects that the checks above let pass
        raise InputError(f"invalid instance data: {exc}", path=str(path)) from exc
