"""Where the simulator's plan comes from: a plan JSON file now, the fleet API later.

A :class:`PlanSource` loads one ``evfleet-plan/1`` document (the ``plan.json`` that
``evfleet plan`` writes). :func:`plan_source` turns a ``--plan`` argument into a source; an
API source (``GET {base}/api/v1/plans/{id}`` with a bearer key) fits the same protocol and
will be chosen there by its argument's form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from evfleet.errors import InputError
from evfleet.tracking.plan import PlanFormatError, planned_routes

__all__ = ["FilePlanSource", "PlanSource", "check_plan", "plan_source", "read_vehicle_map"]


class PlanSource(Protocol):
    """Something that yields a plan document."""

    @property
    def description(self) -> str:
        """Where the plan comes from, for messages."""
        ...

    def load(self) -> dict[str, Any]:
        """The ``evfleet-plan/1`` document; :class:`~evfleet.errors.InputError` when it
        cannot be had or is not a drivable plan."""
        ...


def check_plan(doc: object, where: str) -> dict[str, Any]:
    """``doc`` if it is a plan document the simulator can drive (geographic, with routes);
    :class:`~evfleet.errors.InputError` naming ``where`` otherwise."""
    if not isinstance(doc, dict):
        raise InputError("not a plan document (expected a JSON object)", path=where)
    try:
        routes = planned_routes(doc)
    except (PlanFormatError, ValueError, TypeError, KeyError) as exc:
        raise InputError(f"cannot drive this plan: {exc}", path=where) from None
    if not routes:
        raise InputError("the plan has no routes to drive", path=where)
    return doc


@dataclass(frozen=True)
class FilePlanSource:
    """A plan JSON file (``out/<day>/plan.json`` from ``evfleet plan``)."""

    path: Path

    @property
    def description(self) -> str:
        return str(self.path)

    def load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(exc.strerror or "cannot be read", path=str(self.path)) from None
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise InputError(f"not valid JSON ({exc})", path=str(self.path)) from None
        return check_plan(doc, str(self.path))


def plan_source(spec: str | Path) -> PlanSource:
    """The source a ``--plan`` argument names: for now always a file path."""
    return FilePlanSource(Path(spec))


def read_vehicle_map(path: str | Path) -> tuple[dict[int, str], dict[str, str]]:
    """Route number → vehicle id, and vehicle id → API key, from a JSON object such as
    ``{"1": "8d0f...", "2": {"vehicle_id": "9a1c...", "api_key": "evk_..."}}``.
    :class:`~evfleet.errors.InputError` naming the file and the entry otherwise."""
    where = str(path)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(exc.strerror or "cannot be read", path=where) from None
    except ValueError as exc:
        raise InputError(f"not valid JSON ({exc})", path=where) from None
    if not isinstance(doc, dict):
        raise InputError("expected a JSON object: route number -> vehicle", path=where)
    ids: dict[int, str] = {}
    keys: dict[str, str] = {}
    for number, entry in doc.items():
        try:
            route = int(number)
        except ValueError:
            raise InputError(f"{number!r} is not a route number", path=where) from None
        if isinstance(entry, str):
            ids[route] = entry
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("vehicle_id"), str):
            raise InputError(
                f"route {number}: expected a vehicle id or an object with vehicle_id",
                path=where,
            )
        ids[route] = entry["vehicle_id"]
        key = entry.get("api_key")
        if key is not None:
            if not isinstance(key, str):
                raise InputError(f"route {number}: api_key must be a string", path=where)
            keys[entry["vehicle_id"]] = key
    return ids, keys
