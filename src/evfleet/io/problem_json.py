"""A :class:`~evfleet.problem.Problem` as plain data (JSON), and back, exactly.

The document format is ``evfleet-problem/1``, published as a JSON Schema (draft 2020-12) in
``evfleet/schemas/problem.schema.json`` and described in ``docs/problem-format.md``. Field
names are the dataclass field names, units included (``tw_late_s``, ``battery_wh``).

JSON has no infinity, so ``null`` stands for an infinite window end, capacity, battery,
duration or matrix entry (no arc, also in a vehicle type's ``arc_energy.base_wh``), and for
``None`` in ``count`` and ``initial_energy_wh``.
A problem whose matrices come from a :class:`~evfleet.problem.Metric` is written with the
metric only, and its matrices are recomputed on reading; otherwise the matrices are written
out. Numbers are written with Python's shortest round-tripping ``repr``, so reading a
written problem gives back equal fields and bit-identical matrices.

The reader checks everything itself (the runtime needs no ``jsonschema``): any problem with
the document raises :class:`~evfleet.errors.InputError` naming the source and the JSON path
of the offending value, e.g. ``clients[3].tw_late_s: expected a number or null, got "abc"``.
Beyond what the schema can say, it also checks what needs several fields: each window ends
no earlier than it starts, ``initial_energy_wh <= battery_wh``, depot numbers exist, the
charging curve starts at ``(0, 0)``, increases and is concave, the matrices (``arc_energy``'s
included) have one row and one column per location, and each ``charging_functions`` entry
names an existing vehicle type and charger, no pair twice.
"""

from __future__ import annotations

import difflib
import importlib.resources
import json
import math
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from evfleet.charging import ChargingFunction
from evfleet.errors import InputError
from evfleet.problem import (
    MAX_TRUNCATE_DECIMALS,
    ArcEnergy,
    Charger,
    Client,
    Depot,
    Metric,
    Objective,
    Powertrain,
    Problem,
    RechargePolicy,
    VehicleType,
)

__all__ = [
    "FORMAT",
    "problem_from_dict",
    "problem_from_json",
    "problem_schema",
    "problem_to_dict",
    "problem_to_json",
    "read_problem_json",
    "write_problem_json",
]

FORMAT = "evfleet-problem/1"
"""The value of the ``format`` key of documents this module reads and writes."""

JsonObject = dict[str, Any]

SCHEMA_RESOURCE = "schemas/problem.schema.json"
"""Where the JSON Schema of the format lies inside the ``evfleet`` package."""

_INF = math.inf
_MAX_FLOAT = sys.float_info.max


def problem_schema() -> JsonObject:
    """The format's JSON Schema (draft 2020-12), as shipped with the package."""
    text = importlib.resources.files("evfleet").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    schema: JsonObject = json.loads(text)
    return schema


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def problem_to_dict(problem: Problem) -> JsonObject:
    """The problem as a JSON-ready dict (only ``dict``, ``list``, ``str``, numbers, ``None``).

    Raises ``ValueError`` for what JSON cannot hold: an ``energy_model`` hook on a vehicle
    type (a Python callable) that is in use (no ``arc_energy`` takes precedence over it), or
    a NaN or infinite value where the format has no ``null``.

    ``charging_functions`` is written only when the problem has some, sorted by (vehicle
    type, charger); a vehicle type's ``arc_energy`` only when it is set.
    """
    for k, vt in enumerate(problem.vehicle_types):
        if vt.energy_model is not None and vt.arc_energy is None:
            raise ValueError(
                f"vehicle type {k} ({vt.name!r}) has an energy_model hook (a Python callable), "
                "which cannot be written to JSON; use arc_energy or energy_wh_per_m instead, "
                "or keep the problem in Python"
            )
    doc: JsonObject = {
        "format": FORMAT,
        "name": str(problem.name),
        "objective": Objective(problem.objective).value,
        "recharge": RechargePolicy(problem.recharge).value,
        "carbon_price_per_kg": _finite(problem.carbon_price_per_kg, "carbon_price_per_kg"),
        "depots": [_depot_to_dict(d, f"depots[{k}]") for k, d in enumerate(problem.depots)],
        "clients": [_client_to_dict(c, f"clients[{k}]") for k, c in enumerate(problem.clients)],
        "chargers": [_charger_to_dict(s, f"chargers[{k}]") for k, s in enumerate(problem.chargers)],
        "vehicle_types": [
            _vehicle_type_to_dict(vt, f"vehicle_types[{k}]")
            for k, vt in enumerate(problem.vehicle_types)
        ],
    }
    if problem.charging_functions:
        doc["charging_functions"] = _charging_functions_to_list(problem.charging_functions)
    doc["matrices"] = _matrices_to_dict(problem)
    return doc


def problem_to_json(problem: Problem) -> str:
    """The problem as JSON text: indented, one matrix row or breakpoint per line."""
    return _dumps(problem_to_dict(problem), "") + "\n"


def write_problem_json(problem: Problem, path: str | os.PathLike[str]) -> None:
    """Writes the problem to ``path`` as UTF-8 JSON (see :func:`problem_to_json`)."""
    text = problem_to_json(problem)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def _finite(value: float, where: str) -> float:
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"cannot write {where} = {x!r}: this field must be a finite number")
    return x


def _finite_or_inf(value: float, where: str) -> float | None:
    """``None`` (JSON ``null``) for +inf, else the finite value."""
    x = float(value)
    if x == _INF:
        return None
    if not math.isfinite(x):
        raise ValueError(f"cannot write {where} = {x!r}: expected a finite number or +inf")
    return x


def _depot_to_dict(d: Depot, where: str) -> JsonObject:
    return {
        "name": str(d.name),
        "x": _finite(d.x, f"{where}.x"),
        "y": _finite(d.y, f"{where}.y"),
        "tw_early_s": _finite(d.tw_early_s, f"{where}.tw_early_s"),
        "tw_late_s": _finite_or_inf(d.tw_late_s, f"{where}.tw_late_s"),
    }


def _client_to_dict(c: Client, where: str) -> JsonObject:
    return {
        "name": str(c.name),
        "x": _finite(c.x, f"{where}.x"),
        "y": _finite(c.y, f"{where}.y"),
        "demand_kg": _finite(c.demand_kg, f"{where}.demand_kg"),
        "service_s": _finite(c.service_s, f"{where}.service_s"),
        "tw_early_s": _finite(c.tw_early_s, f"{where}.tw_early_s"),
        "tw_late_s": _finite_or_inf(c.tw_late_s, f"{where}.tw_late_s"),
    }


def _function_to_dict(fn: ChargingFunction, where: str) -> JsonObject:
    if fn.seconds_per_wh is not None:
        return {"seconds_per_wh": _finite(fn.seconds_per_wh, f"{where}.seconds_per_wh")}
    return {
        "breakpoints": [
            [_finite(e, f"{where}.breakpoints[{k}]"), _finite(t, f"{where}.breakpoints[{k}]")]
            for k, (e, t) in enumerate(fn.breakpoints)
        ]
    }


def _charger_to_dict(s: Charger, where: str) -> JsonObject:
    return {
        "name": str(s.name),
        "x": _finite(s.x, f"{where}.x"),
        "y": _finite(s.y, f"{where}.y"),
        "function": _function_to_dict(s.function, f"{where}.function"),
        "connectors": int(s.connectors),
        "price_per_kwh": _finite(s.price_per_kwh, f"{where}.price_per_kwh"),
        "open_s": _finite(s.open_s, f"{where}.open_s"),
        "close_s": _finite_or_inf(s.close_s, f"{where}.close_s"),
    }


def _vehicle_type_to_dict(vt: VehicleType, where: str) -> JsonObject:
    out: JsonObject = {
        "name": str(vt.name),
        "count": None if vt.count is None else int(vt.count),
        "capacity_kg": _finite_or_inf(vt.capacity_kg, f"{where}.capacity_kg"),
        "depot": int(vt.depot),
        "powertrain": Powertrain(vt.powertrain).value,
        "battery_wh": _finite_or_inf(vt.battery_wh, f"{where}.battery_wh"),
        "initial_energy_wh": (
            None
            if vt.initial_energy_wh is None
            else _finite(vt.initial_energy_wh, f"{where}.initial_energy_wh")
        ),
        "energy_wh_per_m": _finite(vt.energy_wh_per_m, f"{where}.energy_wh_per_m"),
        "fuel_l_per_m": _finite(vt.fuel_l_per_m, f"{where}.fuel_l_per_m"),
        "fixed_cost": _finite(vt.fixed_cost, f"{where}.fixed_cost"),
        "cost_per_m": _finite(vt.cost_per_m, f"{where}.cost_per_m"),
        "cost_per_s": _finite(vt.cost_per_s, f"{where}.cost_per_s"),
        "shift_start_s": _finite(vt.shift_start_s, f"{where}.shift_start_s"),
        "shift_end_s": _finite_or_inf(vt.shift_end_s, f"{where}.shift_end_s"),
        "max_duration_s": _finite_or_inf(vt.max_duration_s, f"{where}.max_duration_s"),
        "fuel_cost_per_l": _finite(vt.fuel_cost_per_l, f"{where}.fuel_cost_per_l"),
        "energy_cost_per_wh": _finite(vt.energy_cost_per_wh, f"{where}.energy_cost_per_wh"),
        "co2e_kg_per_l": _finite(vt.co2e_kg_per_l, f"{where}.co2e_kg_per_l"),
        "co2e_kg_per_wh": _finite(vt.co2e_kg_per_wh, f"{where}.co2e_kg_per_wh"),
    }
    if vt.arc_energy is not None:
        out["arc_energy"] = {
            "base_wh": _matrix_to_rows(vt.arc_energy.base_wh, f"{where}.arc_energy.base_wh"),
            "wh_per_kg": _matrix_to_rows(
                vt.arc_energy.wh_per_kg, f"{where}.arc_energy.wh_per_kg", allow_inf=False
            ),
        }
    return out


def _charging_functions_to_list(
    functions: Mapping[tuple[int, int], ChargingFunction],
) -> list[JsonObject]:
    out: list[JsonObject] = []
    for k, ((t, c), fn) in enumerate(sorted(functions.items(), key=lambda item: item[0])):
        out.append(
            {
                "vehicle_type": int(t),
                "charger": int(c),
                "function": _function_to_dict(fn, f"charging_functions[{k}].function"),
            }
        )
    return out


def _matrix_to_rows(
    matrix: NDArray[np.float64], where: str, *, allow_inf: bool = True
) -> list[list[float | None]]:
    """Rows of the matrix; +inf as ``None`` (JSON ``null``) when ``allow_inf``."""
    m = np.asarray(matrix, dtype=np.float64)
    bad = ~(np.isfinite(m) | (m == _INF)) if allow_inf else ~np.isfinite(m)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        expected = "a finite number or +inf" if allow_inf else "a finite number"
        raise ValueError(
            f"cannot write {where}[{i}][{j}] = {float(m[i, j])!r}: expected {expected}"
        )
    return [[None if v == _INF else v for v in row] for row in m.tolist()]


def _matrices_to_dict(problem: Problem) -> JsonObject:
    metric = problem.metric
    if metric is not None:
        dist, dur = metric.matrices(*problem.coordinates())
        # Only when the metric still reproduces the matrices bit for bit; otherwise the
        # matrices (what the solver uses) are written out and the metric is dropped.
        if np.array_equal(dist, problem.distance_m) and np.array_equal(dur, problem.duration_s):
            return {
                "metric": {
                    "kind": metric.kind,
                    "truncate_decimals": metric.truncate_decimals,
                    "speed_m_per_s": _finite(metric.speed_m_per_s, "metric.speed_m_per_s"),
                }
            }
    return {
        "distance_m": _matrix_to_rows(problem.distance_m, "matrices.distance_m"),
        "duration_s": _matrix_to_rows(problem.duration_s, "matrices.duration_s"),
    }


def _dumps(value: Any, indent: str) -> str:
    """Indented JSON that keeps arrays of scalars (matrix rows, breakpoints) on one line."""
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}: {_dumps(v, inner)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if not any(isinstance(v, dict | list) for v in value):
            return json.dumps(value, ensure_ascii=False, allow_nan=False)
        return "[\n" + ",\n".join(inner + _dumps(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def read_problem_json(path: str | os.PathLike[str]) -> Problem:
    """Reads a problem written by :func:`write_problem_json` (or by hand).

    Raises :class:`~evfleet.errors.InputError` naming the file (and the line, for JSON
    syntax errors, or the JSON path of the bad value); ``OSError`` if it cannot be read.
    """
    source = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text ({e.reason} at byte {e.start})", path=source) from e
    return problem_from_json(text, source=source)


def problem_from_json(text: str, *, source: str = "<problem>") -> Problem:
    """Parses JSON text into a problem; ``source`` names it in error messages."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as e:
        raise InputError(
            f"invalid JSON: {e.msg} (column {e.colno})", path=source, line=e.lineno
        ) from None
    except _DuplicateKeyError as e:
        raise InputError(
            f"invalid JSON: duplicate key {_show(e.key)} in an object", path=source
        ) from None
    except RecursionError:
        raise InputError("invalid JSON: nested too deeply", path=source) from None
    return problem_from_dict(data, source=source)


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def problem_from_dict(data: object, *, source: str = "<problem>") -> Problem:
    """Builds a problem from plain data in the ``evfleet-problem/1`` shape.

    ``source`` names the data in error messages (a file name, say). Raises
    :class:`~evfleet.errors.InputError` with the JSON path of the first problem found.
    """
    return _Reader(source).problem(data)


_TOP_REQUIRED = ("format", "name", "depots", "clients", "chargers", "vehicle_types", "matrices")
_TOP_OPTIONAL = ("objective", "recharge", "carbon_price_per_kg", "charging_functions")
_SITE_REQUIRED = ("name", "x", "y")
_DEPOT_OPTIONAL = ("tw_early_s", "tw_late_s")
_CLIENT_OPTIONAL = ("demand_kg", "service_s", "tw_early_s", "tw_late_s")
_CHARGER_REQUIRED = (*_SITE_REQUIRED, "function")
_CHARGER_OPTIONAL = ("connectors", "price_per_kwh", "open_s", "close_s")
_VEHICLE_OPTIONAL = (
    "count",
    "capacity_kg",
    "depot",
    "powertrain",
    "battery_wh",
    "initial_energy_wh",
    "energy_wh_per_m",
    "fuel_l_per_m",
    "fixed_cost",
    "cost_per_m",
    "cost_per_s",
    "shift_start_s",
    "shift_end_s",
    "max_duration_s",
    "fuel_cost_per_l",
    "energy_cost_per_wh",
    "co2e_kg_per_l",
    "co2e_kg_per_wh",
    "arc_energy",
)
_ARC_ENERGY_REQUIRED = ("base_wh", "wh_per_kg")
_CHARGING_FUNCTION_REQUIRED = ("vehicle_type", "charger", "function")
_METRIC_OPTIONAL = ("truncate_decimals", "speed_m_per_s")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: object) -> str:
    """A short JSON-like rendering of a value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 42 else text[:40] + '…"'
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, int):
        text = str(value)
        return text if len(text) <= 40 else text[:20] + "…"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a Python {type(value).__name__}"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Reader:
    """Validates plain data and builds the problem; every failure names its JSON path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, message: str) -> NoReturn:
        raise InputError(f"{path or 'top level'}: {message}", path=self.source)

    # -- structure -----------------------------------------------------------------------------

    def obj(
        self, value: object, path: str, required: Sequence[str], optional: Sequence[str] = ()
    ) -> Mapping[str, object]:
        if not isinstance(value, dict):
            self.fail(path, f"expected an object, got {_show(value)}")
        for key in required:
            if key not in value:
                self.fail(path, f"missing required key {_show(key)}")
        known = (*required, *optional)
        for key in value:
            if key not in known:
                hint = difflib.get_close_matches(str(key), known, n=1)
                extra = f" (did you mean {_show(hint[0])}?)" if hint else ""
                self.fail(path, f"unknown key {_show(key)}{extra}")
        return value

    def array(self, value: object, path: str, *, min_items: int = 0) -> list[object]:
        if not isinstance(value, list):
            self.fail(path, f"expected an array, got {_show(value)}")
        if len(value) < min_items:
            self.fail(path, f"expected at least {min_items} item(s), got {len(value)}")
        return value

    # -- scalars -------------------------------------------------------------------------------

    def string(self, value: object, path: str) -> str:
        if not isinstance(value, str):
            self.fail(path, f"expected a string, got {_show(value)}")
        return value

    def number(
        self,
        value: object,
        path: str,
        *,
        nullable: bool = False,
        minimum: float | None = None,
        exclusive_minimum: float | None = None,
    ) -> float | None:
        """A finite number as ``float``; ``None`` for ``null`` when ``nullable``."""
        if value is None and nullable:
            return None
        if not _is_number(value):
            expected = "a number or null" if nullable else "a number"
            self.fail(path, f"expected {expected}, got {_show(value)}")
        assert isinstance(value, int | float)
        try:
            x = float(value)
        except OverflowError:  # an integer beyond the float range
            x = _INF if value > 0 else -_INF
        if not math.isfinite(x):
            hint = " (write null for infinity)" if nullable else ""
            self.fail(path, f"expected a finite number{hint}, got {_show(value)}")
        if minimum is not None and x < minimum:
            self.fail(path, f"must be >= {minimum:g}, got {_show(value)}")
        if exclusive_minimum is not None and x <= exclusive_minimum:
            self.fail(path, f"must be > {exclusive_minimum:g}, got {_show(value)}")
        return x

    def real(
        self,
        value: object,
        path: str,
        *,
        minimum: float | None = None,
        exclusive_minimum: float | None = None,
    ) -> float:
        """A finite number as ``float`` (``null`` not allowed)."""
        x = self.number(value, path, minimum=minimum, exclusive_minimum=exclusive_minimum)
        assert x is not None
        return x

    def integer(
        self,
        value: object,
        path: str,
        *,
        nullable: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        """An integer (``2`` or ``2.0``, as JSON Schema counts them); ``None`` for ``null``."""
        if value is None and nullable:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            expected = "an integer or null" if nullable else "an integer"
            self.fail(path, f"expected {expected}, got {_show(value)}")
        if minimum is not None and value < minimum:
            self.fail(path, f"must be >= {minimum}, got {_show(value)}")
        if maximum is not None and value > maximum:
            self.fail(path, f"must be <= {maximum}, got {_show(value)}")
        return value

    def choice(self, value: object, path: str, allowed: Sequence[str]) -> str:
        if not isinstance(value, str) or value not in allowed:
            options = ", ".join(_show(a) for a in allowed)
            self.fail(path, f"expected one of {options}, got {_show(value)}")
        return value

    def window_end(self, value: object, path: str, start: float, start_key: str) -> float:
        """An end time (``null``: no limit) that is not before the start."""
        end = self.number(value, path, nullable=True)
        if end is None:
            return _INF
        if end < start:
            self.fail(path, f"must be >= {start_key} ({start:g}), got {_show(value)}")
        return end

    # -- the document --------------------------------------------------------------------------

    def problem(self, data: object) -> Problem:
        doc = self.obj(data, "", _TOP_REQUIRED, _TOP_OPTIONAL)
        fmt = doc["format"]
        if fmt != FORMAT:
            self.fail("format", f"expected {_show(FORMAT)}, got {_show(fmt)}")
        name = self.string(doc["name"], "name")
        objective = Objective(
            self.choice(
                doc.get("objective", Objective.VEHICLES_THEN_DISTANCE.value),
                "objective",
                [o.value for o in Objective],
            )
        )
        recharge = RechargePolicy(
            self.choice(
                doc.get("recharge", RechargePolicy.FULL.value),
                "recharge",
                [r.value for r in RechargePolicy],
            )
        )
        depots = tuple(
            self.depot(v, f"depots[{k}]")
            for k, v in enumerate(self.array(doc["depots"], "depots", min_items=1))
        )
        clients = tuple(
            self.client(v, f"clients[{k}]")
            for k, v in enumerate(self.array(doc["clients"], "clients"))
        )
        chargers = tuple(
            self.charger(v, f"chargers[{k}]")
            for k, v in enumerate(self.array(doc["chargers"], "chargers"))
        )
        counts = (len(depots), len(clients), len(chargers))
        vehicle_types = tuple(
            self.vehicle_type(v, f"vehicle_types[{k}]", counts)
            for k, v in enumerate(self.array(doc["vehicle_types"], "vehicle_types", min_items=1))
        )
        carbon_price = self.real(
            doc.get("carbon_price_per_kg", 0.0), "carbon_price_per_kg", minimum=0
        )
        charging_functions = self.charging_functions(
            doc.get("charging_functions", []),
            "charging_functions",
            len(vehicle_types),
            len(chargers),
        )
        sites: list[Depot | Client | Charger] = [*depots, *clients, *chargers]
        distance_m, duration_s, metric = self.matrices(doc["matrices"], "matrices", sites, counts)
        try:
            return Problem(
                name=name,
                depots=depots,
                clients=clients,
                chargers=chargers,
                vehicle_types=vehicle_types,
                distance_m=distance_m,
                duration_s=duration_s,
                objective=objective,
                recharge=recharge,
                metric=metric,
                charging_functions=charging_functions,
                carbon_price_per_kg=carbon_price,
            )
        except ValueError as e:  # pragma: no cover - the checks above should catch it first
            self.fail("", str(e))

    def depot(self, value: object, path: str) -> Depot:
        d = self.obj(value, path, _SITE_REQUIRED, _DEPOT_OPTIONAL)
        early = self.real(d.get("tw_early_s", 0.0), _join(path, "tw_early_s"))
        return Depot(
            name=self.string(d["name"], _join(path, "name")),
            x=self.real(d["x"], _join(path, "x")),
            y=self.real(d["y"], _join(path, "y")),
            tw_early_s=early,
            tw_late_s=self.window_end(
                d.get("tw_late_s"), _join(path, "tw_late_s"), early, "tw_early_s"
            ),
        )

    def client(self, value: object, path: str) -> Client:
        c = self.obj(value, path, _SITE_REQUIRED, _CLIENT_OPTIONAL)
        early = self.real(c.get("tw_early_s", 0.0), _join(path, "tw_early_s"))
        return Client(
            name=self.string(c["name"], _join(path, "name")),
            x=self.real(c["x"], _join(path, "x")),
            y=self.real(c["y"], _join(path, "y")),
            demand_kg=self.real(c.get("demand_kg", 0.0), _join(path, "demand_kg"), minimum=0),
            service_s=self.real(c.get("service_s", 0.0), _join(path, "service_s"), minimum=0),
            tw_early_s=early,
            tw_late_s=self.window_end(
                c.get("tw_late_s"), _join(path, "tw_late_s"), early, "tw_early_s"
            ),
        )

    def function(self, value: object, path: str) -> ChargingFunction:
        if not isinstance(value, dict):
            self.fail(path, f"expected an object, got {_show(value)}")
        if "seconds_per_wh" in value and "breakpoints" in value:
            self.fail(path, 'give "seconds_per_wh" or "breakpoints", not both')
        if "seconds_per_wh" in value:
            f = self.obj(value, path, ("seconds_per_wh",))
            rate = self.real(f["seconds_per_wh"], _join(path, "seconds_per_wh"), minimum=0)
            return ChargingFunction.linear(rate)
        if "breakpoints" not in value:
            # Report unknown keys (a typo of either name) before the missing one.
            self.obj(value, path, (), ("seconds_per_wh", "breakpoints"))
            self.fail(path, 'missing required key "seconds_per_wh" or "breakpoints"')
        f = self.obj(value, path, ("breakpoints",))
        bp_path = _join(path, "breakpoints")
        points: list[tuple[float, float]] = []
        for k, item in enumerate(self.array(f["breakpoints"], bp_path, min_items=2)):
            p_path = f"{bp_path}[{k}]"
            pair = self.array(item, p_path, min_items=2)
            if len(pair) != 2:
                self.fail(p_path, f"expected [energy_wh, time_s], got {len(pair)} items")
            energy = self.real(pair[0], f"{p_path}[0]", minimum=0)
            time = self.real(pair[1], f"{p_path}[1]", minimum=0)
            points.append((energy, time))
        try:
            return ChargingFunction.piecewise(points)
        except ValueError as e:
            self.fail(bp_path, str(e))

    def charger(self, value: object, path: str) -> Charger:
        s = self.obj(value, path, _CHARGER_REQUIRED, _CHARGER_OPTIONAL)
        open_s = self.real(s.get("open_s", 0.0), _join(path, "open_s"))
        connectors = self.integer(s.get("connectors", 1), _join(path, "connectors"), minimum=1)
        assert connectors is not None
        return Charger(
            name=self.string(s["name"], _join(path, "name")),
            x=self.real(s["x"], _join(path, "x")),
            y=self.real(s["y"], _join(path, "y")),
            function=self.function(s["function"], _join(path, "function")),
            connectors=connectors,
            price_per_kwh=self.real(s.get("price_per_kwh", 0.0), _join(path, "price_per_kwh")),
            open_s=open_s,
            close_s=self.window_end(s.get("close_s"), _join(path, "close_s"), open_s, "open_s"),
        )

    def vehicle_type(self, value: object, path: str, counts: tuple[int, int, int]) -> VehicleType:
        v = self.obj(value, path, ("name",), _VEHICLE_OPTIONAL)
        num_depots = counts[0]

        def at(key: str) -> str:
            return _join(path, key)

        def unlimited(key: str) -> float:
            x = self.number(v.get(key), at(key), nullable=True, minimum=0)
            return _INF if x is None else x

        depot = self.integer(v.get("depot", 0), at("depot"), minimum=0)
        assert depot is not None
        if depot >= num_depots:
            self.fail(
                at("depot"),
                f"refers to depot {depot}, but there are only {num_depots} depot(s) "
                f"(numbered from 0)",
            )
        battery_wh = unlimited("battery_wh")
        initial = self.number(
            v.get("initial_energy_wh"), at("initial_energy_wh"), nullable=True, minimum=0
        )
        if initial is not None and initial > battery_wh:
            self.fail(
                at("initial_energy_wh"),
                f"must be <= battery_wh ({battery_wh:g}), got {_show(v.get('initial_energy_wh'))}",
            )
        shift_start = self.real(v.get("shift_start_s", 0.0), at("shift_start_s"))
        powertrain = self.choice(
            v.get("powertrain", Powertrain.ELECTRIC.value),
            at("powertrain"),
            [p.value for p in Powertrain],
        )
        return VehicleType(
            name=self.string(v["name"], at("name")),
            count=self.integer(v.get("count"), at("count"), nullable=True, minimum=0),
            capacity_kg=unlimited("capacity_kg"),
            depot=depot,
            powertrain=Powertrain(powertrain),
            battery_wh=battery_wh,
            initial_energy_wh=initial,
            energy_wh_per_m=self.real(
                v.get("energy_wh_per_m", 0.0), at("energy_wh_per_m"), minimum=0
            ),
            fuel_l_per_m=self.real(v.get("fuel_l_per_m", 0.0), at("fuel_l_per_m"), minimum=0),
            fixed_cost=self.real(v.get("fixed_cost", 0.0), at("fixed_cost")),
            cost_per_m=self.real(v.get("cost_per_m", 0.0), at("cost_per_m")),
            cost_per_s=self.real(v.get("cost_per_s", 0.0), at("cost_per_s")),
            shift_start_s=shift_start,
            shift_end_s=self.window_end(
                v.get("shift_end_s"), at("shift_end_s"), shift_start, "shift_start_s"
            ),
            max_duration_s=unlimited("max_duration_s"),
            arc_energy=(
                None
                if "arc_energy" not in v
                else self.arc_energy(v["arc_energy"], at("arc_energy"), counts)
            ),
            fuel_cost_per_l=self.real(v.get("fuel_cost_per_l", 0.0), at("fuel_cost_per_l")),
            energy_cost_per_wh=self.real(
                v.get("energy_cost_per_wh", 0.0), at("energy_cost_per_wh")
            ),
            co2e_kg_per_l=self.real(v.get("co2e_kg_per_l", 0.0), at("co2e_kg_per_l"), minimum=0),
            co2e_kg_per_wh=self.real(v.get("co2e_kg_per_wh", 0.0), at("co2e_kg_per_wh"), minimum=0),
        )

    def arc_energy(self, value: object, path: str, counts: tuple[int, int, int]) -> ArcEnergy:
        """``base_wh`` (any finite number; ``null``: no arc) and ``wh_per_kg`` (finite)."""
        a = self.obj(value, path, _ARC_ENERGY_REQUIRED)
        base = self.matrix(a["base_wh"], _join(path, "base_wh"), counts, minimum=None)
        slope = self.matrix(
            a["wh_per_kg"], _join(path, "wh_per_kg"), counts, minimum=None, nullable=False
        )
        return ArcEnergy(base_wh=base, wh_per_kg=slope)

    def charging_functions(
        self, value: object, path: str, num_vehicle_types: int, num_chargers: int
    ) -> dict[tuple[int, int], ChargingFunction]:
        out: dict[tuple[int, int], ChargingFunction] = {}
        first: dict[tuple[int, int], str] = {}
        for k, item in enumerate(self.array(value, path)):
            item_path = f"{path}[{k}]"
            f = self.obj(item, item_path, _CHARGING_FUNCTION_REQUIRED)
            pair: list[int] = []
            for key, limit, what in (
                ("vehicle_type", num_vehicle_types, "vehicle type"),
                ("charger", num_chargers, "charger"),
            ):
                index = self.integer(f[key], _join(item_path, key), minimum=0)
                assert index is not None
                if index >= limit:
                    self.fail(
                        _join(item_path, key),
                        f"refers to {what} {index}, but there are only {limit} {what}(s) "
                        f"(numbered from 0)",
                    )
                pair.append(index)
            t, c = pair
            if (t, c) in first:
                self.fail(
                    item_path,
                    f"duplicate (vehicle_type, charger) pair ({t}, {c}), already in "
                    f"{first[(t, c)]}",
                )
            first[(t, c)] = item_path
            out[(t, c)] = self.function(f["function"], _join(item_path, "function"))
        return out

    def metric(self, value: object, path: str) -> Metric:
        m = self.obj(value, path, ("kind",), _METRIC_OPTIONAL)
        kind = self.choice(m["kind"], _join(path, "kind"), ["euclidean"])
        decimals = self.integer(
            m.get("truncate_decimals"),
            _join(path, "truncate_decimals"),
            nullable=True,
            minimum=0,
            maximum=MAX_TRUNCATE_DECIMALS,
        )
        speed = self.real(
            m.get("speed_m_per_s", 1.0), _join(path, "speed_m_per_s"), exclusive_minimum=0
        )
        try:
            return Metric(kind=kind, truncate_decimals=decimals, speed_m_per_s=speed)
        except ValueError as e:  # pragma: no cover - the checks above should catch it first
            self.fail(path, str(e))

    def matrices(
        self,
        value: object,
        path: str,
        sites: Sequence[Depot | Client | Charger],
        counts: tuple[int, int, int],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], Metric | None]:
        if isinstance(value, dict) and "metric" in value:
            m = self.obj(value, path, ("metric",))
            metric = self.metric(m["metric"], _join(path, "metric"))
            xs = np.array([s.x for s in sites], dtype=np.float64)
            ys = np.array([s.y for s in sites], dtype=np.float64)
            with np.errstate(over="ignore", invalid="ignore"):
                dist, dur = metric.matrices(xs, ys)
            return dist, dur, metric
        if isinstance(value, dict) and not ({"distance_m", "duration_s"} & value.keys()):
            # Neither form: report unknown keys first, then what is missing.
            self.obj(value, path, (), ("metric", "distance_m", "duration_s"))
            self.fail(path, 'missing required key "metric", or "distance_m" and "duration_s"')
        m = self.obj(value, path, ("distance_m", "duration_s"))
        dist = self.matrix(m["distance_m"], _join(path, "distance_m"), counts)
        dur = self.matrix(m["duration_s"], _join(path, "duration_s"), counts)
        return dist, dur, None

    def matrix(
        self,
        value: object,
        path: str,
        counts: tuple[int, int, int],
        *,
        minimum: float | None = 0.0,
        nullable: bool = True,
    ) -> NDArray[np.float64]:
        """An N x N matrix of finite numbers >= ``minimum``; ``null``: +inf if ``nullable``."""
        n = sum(counts)
        low = -_MAX_FLOAT if minimum is None else minimum
        rows = self.array(value, path)
        if len(rows) != n:
            self.fail(
                path,
                f"expected {n} rows, one per location ({counts[0]} depot(s), {counts[1]} "
                f"client(s), {counts[2]} charger(s)), got {len(rows)}",
            )
        out: list[list[float]] = []
        for i, row in enumerate(rows):
            row_path = f"{path}[{i}]"
            items = self.array(row, row_path)
            if len(items) != n:
                self.fail(row_path, f"expected {n} entries, one per location, got {len(items)}")
            values: list[float] = []
            for j, v in enumerate(items):
                if v is None and nullable:
                    values.append(_INF)
                elif type(v) is float and low <= v < _INF:  # the common case, fast
                    values.append(v)
                else:
                    x = self.number(v, f"{row_path}[{j}]", nullable=nullable, minimum=minimum)
                    values.append(_INF if x is None else x)
            out.append(values)
        return np.array(out, dtype=np.float64).reshape(n, n)
