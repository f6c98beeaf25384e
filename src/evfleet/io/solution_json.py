"""The solution file format ``evfleet-solution/1``: a plan as JSON, locations named.

::

    {"format": "evfleet-solution/1",
     "instance": "c101C5",
     "routes": [{"vehicle_type": "ev", "start_s": null,
                 "visits": [{"location": "C30"}, {"location": "S5", "charge_wh": 12.5}]}],
     "stats": {"runtime_s": 1.5}}

Locations are given by name (``Problem.location_names()``), so a file reads well and does
not depend on the index order. A route lists only its clients and chargers; it leaves from
and returns to its vehicle type's depot. ``vehicle_type`` is a vehicle type's name or its
0-based index; ``start_s`` the departure time in s (``null`` or absent: as early as the
shift allows); ``charge_wh`` the energy charged at a charger in Wh (absent: fill up).
``stats`` (optional) maps names to numbers. No other keys are allowed. The JSON Schema is
``evfleet/schemas/solution.schema.json``.

Reading checks the structure and the names only; feasibility is :func:`evfleet.checker.check`'s
job. Every problem raises :class:`~evfleet.errors.InputError` naming the file, the JSON path
(such as ``routes[2].visits[5].location``) and what was expected.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any, NoReturn

from evfleet.errors import InputError
from evfleet.problem import Problem
from evfleet.solution import Route, Solution, Visit

FORMAT = "evfleet-solution/1"


def solution_to_dict(solution: Solution, problem: Problem) -> dict[str, Any]:
    """The JSON document for ``solution`` (non-finite stats are left out).

    Raises ``ValueError`` when a route refers to an unknown vehicle type or location, or to
    a location whose name the problem uses twice (it could not be read back).
    """
    names = problem.location_names()
    shared_names = {name for name, n in Counter(names).items() if n > 1}
    type_names = [vt.name for vt in problem.vehicle_types]
    routes: list[dict[str, Any]] = []
    for r, route in enumerate(solution.routes):
        if not 0 <= route.vehicle_type < len(type_names):
            raise ValueError(f"routes[{r}]: unknown vehicle type {route.vehicle_type}")
        name = type_names[route.vehicle_type]
        vehicle_type: str | int = name if type_names.count(name) == 1 else route.vehicle_type
        visits: list[dict[str, Any]] = []
        for k, visit in enumerate(route.visits):
            if not 0 <= visit.location < len(names):
                raise ValueError(f"routes[{r}].visits[{k}]: unknown location {visit.location}")
            if names[visit.location] in shared_names:
                raise ValueError(
                    f"routes[{r}].visits[{k}]: location name {names[visit.location]!r} is "
                    "not unique in the problem"
                )
            entry: dict[str, Any] = {"location": names[visit.location]}
            if visit.charge_wh is not None:
                entry["charge_wh"] = visit.charge_wh
            visits.append(entry)
        routes.append({"vehicle_type": vehicle_type, "start_s": route.start_s, "visits": visits})
    stats = {key: value for key, value in solution.stats.items() if math.isfinite(value)}
    return {"format": FORMAT, "instance": problem.name, "routes": routes, "stats": stats}


def write_solution(solution: Solution, problem: Problem, path: str | os.PathLike[str]) -> None:
    """Writes ``solution`` to ``path`` as an ``evfleet-solution/1`` JSON file."""
    text = json.dumps(solution_to_dict(solution, problem), indent=2, allow_nan=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


def read_solution(path: str | os.PathLike[str], problem: Problem) -> Solution:
    """Reads an ``evfleet-solution/1`` file for ``problem``; raises ``InputError`` if bad."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the solution file: {exc}", path=source) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON: {exc.msg} (column {exc.colno})", path=source, line=exc.lineno
        ) from exc
    return solution_from_dict(data, problem, source=source)


def solution_from_dict(data: Any, problem: Problem, *, source: str = "<solution>") -> Solution:
    """The :class:`Solution` that the JSON document ``data`` describes, for ``problem``."""
    return _Reader(problem, source).solution(data)


_TOP_KEYS = ({"format", "instance", "routes"}, {"stats"})
_ROUTE_KEYS = ({"vehicle_type", "visits"}, {"start_s"})
_VISIT_KEYS = ({"location"}, {"charge_wh"})


class _Reader:
    """Reads one document; every error names the source and the JSON path."""

    def __init__(self, problem: Problem, source: str) -> None:
        self.problem = problem
        self.source = source
        self.locations: dict[str, list[int]] = {}
        for index, name in enumerate(problem.location_names()):
            self.locations.setdefault(name, []).append(index)
        self.type_names: dict[str, list[int]] = {}
        for index, vt in enumerate(problem.vehicle_types):
            self.type_names.setdefault(vt.name, []).append(index)

    def fail(self, path: str, message: str) -> NoReturn:
        raise InputError(f"{path}: {message}", path=self.source)

    def solution(self, data: Any) -> Solution:
        self.keys(data, "(top level)", _TOP_KEYS)
        if data["format"] != FORMAT:
            self.fail("format", f"expected {FORMAT!r}, got {data['format']!r}")
        instance = data["instance"]
        if not isinstance(instance, str):
            self.fail("instance", f"expected the instance name (a string), got {instance!r}")
        if self.problem.name and instance != self.problem.name:
            self.fail(
                "instance",
                f"the solution is for instance {instance!r}, "
                f"but the problem is {self.problem.name!r}",
            )
        routes = data["routes"]
        if not isinstance(routes, list):
            self.fail("routes", f"expected a list of routes, got {_kind(routes)}")
        stats = self.stats(data.get("stats", {}))
        return Solution(
            routes=tuple(self.route(route, f"routes[{r}]") for r, route in enumerate(routes)),
            problem_name=instance,
            stats=stats,
        )

    def keys(self, data: Any, path: str, keys: tuple[set[str], set[str]]) -> None:
        required, optional = keys
        if not isinstance(data, dict):
            self.fail(path, f"expected an object, got {_kind(data)}")
        for key in sorted(required - data.keys()):
            self.fail(path, f"missing key {key!r}")
        for key in data:
            if key not in required | optional:
                allowed = ", ".join(sorted(required | optional))
                self.fail(path, f"unexpected key {key!r} (allowed: {allowed})")

    def number(self, value: Any, path: str, what: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"expected {what}, got {_kind(value)}")
        if not math.isfinite(value):
            self.fail(path, f"expected {what}, got {value!r}")
        return float(value)

    def route(self, data: Any, path: str) -> Route:
        self.keys(data, path, _ROUTE_KEYS)
        vehicle_type = self.vehicle_type(data["vehicle_type"], f"{path}.vehicle_type")
        start = data.get("start_s")
        start_s = None if start is None else self.number(start, f"{path}.start_s", "a number")
        visits = data["visits"]
        if not isinstance(visits, list):
            self.fail(f"{path}.visits", f"expected a list of visits, got {_kind(visits)}")
        return Route(
            vehicle_type=vehicle_type,
            visits=tuple(self.visit(v, f"{path}.visits[{k}]") for k, v in enumerate(visits)),
            start_s=start_s,
        )

    def vehicle_type(self, value: Any, path: str) -> int:
        count = len(self.problem.vehicle_types)
        if isinstance(value, str):
            indices = self.type_names.get(value, [])
            if len(indices) == 1:
                return indices[0]
            if not indices:
                known = ", ".join(repr(name) for name in self.type_names)
                self.fail(path, f"unknown vehicle type {value!r} (expected one of {known})")
            self.fail(path, f"vehicle type name {value!r} is not unique; give its index")
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < count:
            return value
        self.fail(path, f"expected a vehicle type name or an index 0-{count - 1}, got {value!r}")

    def visit(self, data: Any, path: str) -> Visit:
        self.keys(data, path, _VISIT_KEYS)
        name = data["location"]
        if not isinstance(name, str):
            self.fail(f"{path}.location", f"expected a location name, got {_kind(name)}")
        indices = self.locations.get(name, [])
        if not indices:
            self.fail(
                f"{path}.location",
                f"unknown location {name!r} (expected a client or charger name of "
                f"instance {self.problem.name!r})",
            )
        if len(indices) > 1:
            self.fail(f"{path}.location", f"location name {name!r} is not unique in the problem")
        location = indices[0]
        if location < self.problem.num_depots:
            self.fail(
                f"{path}.location",
                f"{name!r} is a depot; routes start and end at their depot, so list only "
                "clients and chargers",
            )
        charge_wh = None
        if "charge_wh" in data:
            if not self.problem.is_charger(location):
                self.fail(
                    f"{path}.charge_wh", f"charge_wh is only allowed at chargers, not {name!r}"
                )
            charge_wh = self.number(data["charge_wh"], f"{path}.charge_wh", "a number of Wh")
            if charge_wh < 0:
                self.fail(f"{path}.charge_wh", f"expected a number of Wh >= 0, got {charge_wh!r}")
        return Visit(location=location, charge_wh=charge_wh)

    def stats(self, data: Any) -> dict[str, float]:
        if not isinstance(data, dict):
            self.fail("stats", f"expected an object of numbers, got {_kind(data)}")
        return {key: self.number(value, f"stats.{key}", "a number") for key, value in data.items()}


def _kind(value: Any) -> str:
    """A JSON value's type, as a reader of the file would name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    return "an object"
