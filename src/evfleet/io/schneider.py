"""Reader for the E-VRPTW instances of Schneider, Stenger & Goeke (2014).

The files are a whitespace-separated table (``StringID Type x y demand ReadyTime DueDate
ServiceTime``; type ``d`` depot, ``f`` recharging station, ``c`` customer) followed by five
parameter lines ``Q``, ``C``, ``r``, ``g``, ``v`` with the value between slashes.

Units: the set's abstract units map one to one onto evfleet's: 1 distance unit = 1 m,
1 time unit = 1 s, 1 energy unit = 1 Wh and 1 demand unit = 1 kg. So ``Q`` is the battery in
Wh, ``C`` the load capacity in kg, ``r`` the consumption in Wh/m, ``g`` the inverse
refuelling rate in s/Wh and ``v`` the speed in m/s; objective values stay in the set's own
units. Distances are double-precision Euclidean, not rounded.
"""

from __future__ import annotations

import math
import re
from os import PathLike
from pathlib import Path

from evfleet.charging import ChargingFunction
from evfleet.errors import InputError
from evfleet.io.text_file import read_lines
from evfleet.model import Model
from evfleet.problem import Metric, Objective, Problem, RechargePolicy

__all__ = ["read_schneider"]

HEADER = ("StringID", "Type", "x", "y", "demand", "ReadyTime", "DueDate", "ServiceTime")
_HEADER_TEXT = " ".join(HEADER)

# Parameter key -> the line as the files write it (with the value as a placeholder).
_PARAMETERS = {
    "Q": "Q Vehicle fuel tank capacity /<number>/",
    "C": "C Vehicle load capacity /<number>/",
    "r": "r fuel consumption rate /<number>/",
    "g": "g inverse refueling rate /<number>/",
    "v": "v average Velocity /<number>/",
}
_PARAMETER_LINE = re.compile(r"^(\S+)\s[^/]*/([^/]*)/$")


def _number(token: str, what: str, path: Path, line: int) -> float:
    try:
        value = float(token)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError(f"expected a number for {what}, got {token!r}", path=str(path), line=line)
    return value


def read_schneider(
    path: str | PathLike[str], *, recharge: RechargePolicy = RechargePolicy.FULL
) -> Problem:
    """Reads a Schneider et al. E-VRPTW ``.txt`` file (units: one set unit = m, s, Wh, kg).

    ``recharge`` picks the recharge policy: ``FULL`` for the original E-VRPTW, ``PARTIAL``
    for the EVRPTW-PR variant on the same files. The problem is named after the file stem
    (e.g. ``c101C5``); the objective is fewest vehicles, then total distance.

    Raises :class:`~evfleet.errors.InputError` naming the file and line on malformed input.
    """
    path = Path(path)
    lines = read_lines(path)
    where = str(path)

    numbered = [(k + 1, line) for k, line in enumerate(lines) if line]
    if not numbered:
        raise InputError(f"empty file: expected the header '{_HEADER_TEXT}'", path=where)
    header_line, header = numbered[0]
    if tuple(header.split()) != HEADER:
        raise InputError(
            f"expected the header '{_HEADER_TEXT}', got {header[:80]!r}",
            path=where,
            line=header_line,
        )

    depot: tuple[int, list[str]] | None = None
    stations: list[tuple[int, list[str]]] = []
    customers: list[tuple[int, list[str]]] = []
    parameters: dict[str, float] = {}
    parameter_lines: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for lineno, line in numbered[1:]:
        tokens = line.split()
        if tokens[0] in _PARAMETERS:
            match = _PARAMETER_LINE.match(line)
            if match is None or match.group(1) != tokens[0]:
                raise InputError(
                    f"expected a parameter line like '{_PARAMETERS[tokens[0]]}', got {line[:80]!r}",
                    path=where,
                    line=lineno,
                )
            key = tokens[0]
            if key in parameters:
                raise InputError(f"parameter {key} given twice", path=where, line=lineno)
            parameters[key] = _number(match.group(2).strip(), f"parameter {key}", path, lineno)
            parameter_lines[key] = lineno
            continue
        if parameters:
            raise InputError(
                f"expected a parameter line (Q, C, r, g or v) after the parameters began, "
                f"got {line[:80]!r}",
                path=where,
                line=lineno,
            )
        if len(tokens) != len(HEADER):
            raise InputError(
                f"expected {len(HEADER)} columns ({_HEADER_TEXT}), got {len(tokens)}",
                path=where,
                line=lineno,
            )
        name, kind = tokens[0], tokens[1]
        if name in seen_ids:
            raise InputError(
                f"node {name!r} appears twice (first on line {seen_ids[name]})",
                path=where,
                line=lineno,
            )
        seen_ids[name] = lineno
        if kind == "d":
            if depot is not None:
                raise InputError(
                    f"a second depot {name!r} (only one depot, type 'd', is supported)",
                    path=where,
                    line=lineno,
                )
            depot = (lineno, tokens)
        elif kind == "f":
            stations.append((lineno, tokens))
        elif kind == "c":
            customers.append((lineno, tokens))
        else:
            raise InputError(
                f"expected Type 'd' (depot), 'f' (station) or 'c' (customer), got {kind!r}",
                path=where,
                line=lineno,
            )

    last_line = numbered[-1][0]
    if depot is None:
        raise InputError("no depot row (Type 'd') in the file", path=where, line=last_line)
    missing = [key for key in _PARAMETERS if key not in parameters]
    if missing:
        expected = ", ".join(f"'{_PARAMETERS[key]}'" for key in missing)
        raise InputError(
            f"file ends without parameter line(s) {', '.join(missing)} (expected {expected})",
            path=where,
            line=last_line,
        )
    for key in ("Q", "C", "v"):
        if parameters[key] <= 0:
            raise InputError(
                f"parameter {key} must be > 0, got {parameters[key]:g}",
                path=where,
                line=parameter_lines[key],
            )
    for key in ("r", "g"):
        if parameters[key] < 0:
            raise InputError(
                f"parameter {key} must be >= 0, got {parameters[key]:g}",
                path=where,
                line=parameter_lines[key],
            )

    def values(lineno: int, tokens: list[str]) -> list[float]:
        out = [
            _number(tok, col, path, lineno) for tok, col in zip(tokens[2:], HEADER[2:], strict=True)
        ]
        demand, ready, due, service = out[2:]
        if demand < 0 or service < 0:
            raise InputError("demand and ServiceTime must be >= 0", path=where, line=lineno)
        if due < ready:
            raise InputError(
                f"DueDate {due:g} is before ReadyTime {ready:g}", path=where, line=lineno
            )
        return out

    try:
        model = Model(path.stem)
        model.objective = Objective.VEHICLES_THEN_DISTANCE
        model.recharge = RechargePolicy(recharge)
        depot_line, depot_tokens = depot
        dx, dy, _, ready, due, _ = values(depot_line, depot_tokens)
        model.add_depot(dx, dy, name=depot_tokens[0], tw_early_s=ready, tw_late_s=due)
        for lineno, tokens in customers:
            x, y, demand, early, late, service = values(lineno, tokens)
            model.add_client(
                x,
                y,
                name=tokens[0],
                demand_kg=demand,
                service_s=service,
                tw_early_s=early,
                tw_late_s=late,
            )
        rate = ChargingFunction.linear(parameters["g"])
        for lineno, tokens in stations:
            x, y, *_ = values(lineno, tokens)
            model.add_charger(x, y, name=tokens[0], function=rate, open_s=ready, close_s=due)
        model.add_vehicle_type(
            name="ev",
            count=None,
            capacity_kg=parameters["C"],
            battery_wh=parameters["Q"],
            energy_wh_per_m=parameters["r"],
            shift_start_s=ready,
            shift_end_s=due,
        )
        model.set_metric(Metric("euclidean", None, speed_m_per_s=parameters["v"]))
        return model.data()
    except ValueError as exc:  # a value the model rejects that the checks above let pass
        raise InputError(f"invalid instance data: {exc}", path=str(path)) from exc
