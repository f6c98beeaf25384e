"""Reader for a fleet description (``fleet.yaml``): depots, vehicle groups and economics.

The file is validated in pure Python against the schema documented in
``docs/input-formats.md`` (``docs/schemas/fleet.schema.json`` is its JSON Schema). Every
problem is reported with the file, the YAML line and a JSON-path-like location
(``fleet.yaml:23: $.vehicles[1].count: expected a whole number >= 1, got "-3"``); unknown
keys get a "did you mean" hint. All problems are collected and raised together as
:class:`~evfleet.day.InputErrors`.

The file uses human units, converted on reading: ``battery_kwh`` (kWh, to Wh),
``energy_kwh_per_100km`` (kWh per 100 km, to Wh/m), ``fuel_l_per_100km`` (litres per
100 km, to l/m), ``power_kw`` (kW, to W), times of day ``"HH:MM"`` (to seconds since
midnight). Times may be written with or without quotes: ``07:00`` unquoted is read as the
time, not as YAML 1.1's base-60 number 420; ``country: NO`` is Norway, not ``false``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from evfleet.day import (
    DepotCharger,
    DepotSpec,
    FleetSpec,
    InputErrors,
    ObjectiveWeights,
    RowError,
    VehicleGroup,
    parse_clock,
    parse_hours,
)
from evfleet.io.csv_table import did_you_mean
from evfleet.problem import Powertrain

__all__ = ["parse_fleet_yaml", "read_fleet_yaml"]

_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_PERCENT = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*%$")

TOP_KEYS = (
    "name",
    "country",
    "currency",
    "outside_temperature_c",
    "diesel_price_per_l",
    "carbon_price_per_t",
    "objective",
    "depots",
    "vehicles",
)
DEPOT_KEYS = (
    "id",
    "name",
    "latitude",
    "longitude",
    "hours",
    "electricity_price_per_kwh",
    "chargers",
)
DEPOT_CHARGER_KEYS = ("power_kw", "count")
CUSTOM_KEYS = (
    "powertrain",
    "capacity_kg",
    "battery_kwh",
    "energy_kwh_per_100km",
    "fuel_l_per_100km",
)
VEHICLE_KEYS = (
    "id",
    "catalogue_id",
    *CUSTOM_KEYS,
    "count",
    "depot",
    "start_soc",
    "shift_start",
    "shift_end",
    "driver_cost_per_hour",
    "fixed_cost_per_day",
)
OBJECTIVE_KEYS = ("cost", "co2e_kg", "vehicles")

_INF = math.inf


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return "a value"


class _Checker:
    """Walks the YAML node tree, converting values and collecting every problem."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: list[RowError] = []

    def error(
        self, node: Node, loc: str, reason: str, *, show_value: bool = True, hint: str = ""
    ) -> None:
        value = node.value if show_value and isinstance(node, ScalarNode) else None
        self.errors.append(RowError(self.path, _line(node), loc, value, reason, hint))

    # -- structure

    def mapping(
        self,
        node: Node,
        loc: str,
        allowed: Sequence[str],
        required: Sequence[str] = (),
        *,
        extensions: bool = False,
    ) -> dict[str, Node] | None:
        """The mapping's keys and value nodes; flags unknown, repeated and missing keys.

        With ``extensions``, keys starting with ``x-`` are ignored (a place for anchors).
        """
        if not isinstance(node, MappingNode):
            self.error(node, loc, f"expected a mapping (key: value lines), got {_kind(node)}")
            return None
        out: dict[str, Node] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in self._pairs(node, loc, explicit=True):
            if not isinstance(key_node, ScalarNode):
                self.error(key_node, loc, "expected a plain key, got a complex key")
                continue
            key = str(key_node.value)
            where = f"{loc}.{key}"
            if extensions and key.startswith("x-"):
                continue
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                self.error(key_node, where, "unknown key", show_value=False, hint=hint)
                continue
            if key in out:
                self.error(
                    key_node,
                    where,
                    f"key given twice (first on line {key_lines[key]})",
                    show_value=False,
                )
                continue
            out[key] = value_node
            key_lines[key] = _line(key_node)
        for key_node, value_node in self._pairs(node, loc, explicit=False):
            if not isinstance(key_node, ScalarNode):
                continue
            key = str(key_node.value)
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                self.error(key_node, f"{loc}.{key}", "unknown key", show_value=False, hint=hint)
                continue
            out.setdefault(key, value_node)
        for key in required:
            if key not in out:
                self.error(node, loc, f'missing required key "{key}"', show_value=False)
        return out

    def _pairs(self, node: MappingNode, loc: str, *, explicit: bool) -> list[tuple[Node, Node]]:
        """The mapping's own pairs (``explicit``) or those it merges in with ``<<``."""
        own: list[tuple[Node, Node]] = []
        merged: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE:
                own.append((key_node, value_node))
                continue
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if isinstance(source, MappingNode):
                    merged.extend(self._pairs(source, loc, explicit=True))
                    merged.extend(self._pairs(source, loc, explicit=False))
                elif explicit:
                    self.error(source, f"{loc}.<<", "expected a mapping to merge")
        return own if explicit else merged

    def sequence(self, node: Node, loc: str, *, min_items: int = 0) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.error(node, loc, f"expected a list (lines starting with -), got {_kind(node)}")
            return None
        if len(node.value) < min_items:
            self.error(node, loc, f"expected at least {min_items} item(s)", show_value=False)
        return list(node.value)

    # -- scalars

    def scalar(self, node: Node, loc: str, expected: str) -> str | None:
        """The scalar's source text; ``None`` (after an error) for null or a non-scalar."""
        if not isinstance(node, ScalarNode):
            self.error(node, loc, f"expected {expected}, got {_kind(node)}")
            return None
        if node.tag == _NULL and node.style is None:
            self.error(node, loc, f"expected {expected}, got nothing", show_value=False)
            return None
        return str(node.value)

    def text(self, node: Node, loc: str, *, pattern: str | None = None, what: str = "") -> str:
        """A non-empty text; numbers are read as their text. ``""`` after an error."""
        expected = what or "a text"
        value = self.scalar(node, loc, expected)
        if value is None:
            return ""
        stripped = value.strip()
        if not stripped:
            self.error(node, loc, f"expected {expected}, got an empty text", show_value=False)
            return ""
        if pattern is not None and not re.fullmatch(pattern, stripped):
            self.error(node, loc, f"expected {expected}")
            return ""
        return stripped

    def number(
        self,
        node: Node,
        loc: str,
        *,
        minimum: float = -_INF,
        maximum: float = _INF,
        exclusive_minimum: bool = False,
        integer: bool = False,
        unit: str = "",
    ) -> float:
        """A finite number within the bounds; ``nan`` after an error."""
        expected = _expected(minimum, maximum, exclusive_minimum, integer, unit)
        value = self.scalar(node, loc, expected)
        if value is None:
            return math.nan
        assert isinstance(node, ScalarNode)
        if node.style is not None:
            hint = "remove the quotes" if _NUMBER.match(value.strip()) else ""
            self.error(node, loc, f"expected {expected}", hint=hint)
            return math.nan
        if not _NUMBER.match(value):
            hint = ""
            if re.fullmatch(r"[+-]?\d+,\d+", value):
                hint = f"use a decimal point: {value.replace(',', '.')}"
            self.error(node, loc, f"expected {expected}", hint=hint)
            return math.nan
        number = float(value)
        low = number <= minimum if exclusive_minimum else number < minimum
        if not math.isfinite(number) or low or number > maximum:
            self.error(node, loc, f"expected {expected}")
            return math.nan
        if integer and not number.is_integer():
            self.error(node, loc, f"expected {expected}")
            return math.nan
        return number

    def clock(self, node: Node, loc: str) -> float:
        """A time of day ``HH:MM`` in seconds since midnight; ``nan`` after an error."""
        value = self.scalar(node, loc, 'a time of day as "HH:MM"')
        if value is None:
            return math.nan
        try:
            return parse_clock(value)
        except ValueError as exc:
            self.error(node, loc, str(exc))
            return math.nan

    def fraction(self, node: Node, loc: str) -> float:
        """A fraction 0 to 1, also written as a percentage ``90%``; ``nan`` after an error."""
        expected = "a fraction from 0 to 1 or a percentage such as 90%"
        value = self.scalar(node, loc, expected)
        if value is None:
            return math.nan
        assert isinstance(node, ScalarNode)
        percent = _PERCENT.match(value.strip())
        if percent is not None:
            number = float(percent.group(1)) / 100.0
        elif node.style is None and _NUMBER.match(value):
            number = float(value)
            if 1.0 < number <= 100.0:
                fraction = f"{number / 100:g}"
                self.error(
                    node, loc, f"expected {expected}", hint=f"did you mean {fraction} or {value}%?"
                )
                return math.nan
        else:
            self.error(node, loc, f"expected {expected}")
            return math.nan
        if not 0.0 <= number <= 1.0:
            self.error(node, loc, f"expected {expected}")
            return math.nan
        return number


def _expected(minimum: float, maximum: float, exclusive: bool, integer: bool, unit: str) -> str:
    kind = "a whole number" if integer else "a number"
    suffix = f" {unit}" if unit else ""
    if math.isfinite(minimum) and math.isfinite(maximum):
        low = f"> {minimum:g}" if exclusive else f">= {minimum:g}"
        if not exclusive:
            return f"{kind} between {minimum:g} and {maximum:g}{suffix}"
        return f"{kind} {low} and <= {maximum:g}{suffix}"
    if math.isfinite(minimum):
        return f"{kind} {'>' if exclusive else '>='} {minimum:g}{suffix}"
    if math.isfinite(maximum):
        return f"{kind} <= {maximum:g}{suffix}"
    return kind + suffix


def _nan(*values: float) -> bool:
    return any(math.isnan(v) for v in values)


def read_fleet_yaml(
    path: str | PathLike[str], *, catalogue_ids: Collection[str] | None = None
) -> FleetSpec:
    """Reads and validates a ``fleet.yaml`` (schema and units in ``docs/input-formats.md``).

    ``catalogue_ids``, when given, are the vehicle models ``catalogue_id`` may name (the
    ids of :mod:`evfleet.catalogue`); an unknown one is an error with a "did you mean" hint.
    Raises :class:`~evfleet.day.InputErrors` listing every problem with its YAML line.
    """
    where = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputErrors(
            where, [RowError(where, None, None, None, f"cannot read file: {exc.strerror or exc}")]
        ) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputErrors(
            where, [RowError(where, line, None, None, "not valid UTF-8 text")]
        ) from exc
    return parse_fleet_yaml(text, path=where, catalogue_ids=catalogue_ids)


def parse_fleet_yaml(
    text: str, *, path: str = "<fleet>", catalogue_ids: Collection[str] | None = None
) -> FleetSpec:
    """Like :func:`read_fleet_yaml` for YAML text; ``path`` names it in messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else int(mark.line) + 1
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        hint = "indent YAML with spaces, not tabs" if "'\\t'" in problem else ""
        raise InputErrors(
            path, [RowError(path, line, None, None, f"not valid YAML: {problem}", hint)]
        ) from exc
    except yaml.YAMLError as exc:
        raise InputErrors(
            path, [RowError(path, None, None, None, f"not valid YAML: {exc}")]
        ) from exc
    if root is None:
        raise InputErrors(
            path,
            [
                RowError(
                    path, None, None, None, "empty file: expected depots, vehicles and the rest"
                )
            ],
        )
    checker = _Checker(path)
    fleet = _fleet(checker, root, catalogue_ids)
    if checker.errors or fleet is None:
        unique = list(dict.fromkeys(checker.errors))
        unique.sort(key=lambda e: e.line or 0)
        raise InputErrors(path, unique)
    return fleet


def _fleet(c: _Checker, root: Node, catalogue_ids: Collection[str] | None) -> FleetSpec | None:
    top = c.mapping(
        root,
        "$",
        TOP_KEYS,
        ("country", "outside_temperature_c", "diesel_price_per_l", "depots", "vehicles"),
        extensions=True,
    )
    if top is None:
        return None
    name = c.text(top["name"], "$.name") if "name" in top else ""
    country = ""
    if "country" in top:
        country = c.text(
            top["country"], "$.country", pattern=r"[A-Za-z]{2}", what="a 2-letter country code"
        ).upper()
        if country == "UK":
            c.error(top["country"], "$.country", 'expected an ISO 3166 code: "GB", not "UK"')
    currency = "EUR"
    if "currency" in top:
        currency = c.text(
            top["currency"], "$.currency", pattern=r"[A-Za-z]{3}", what="a 3-letter currency code"
        ).upper()
    temperature = math.nan
    if "outside_temperature_c" in top:
        temperature = c.number(
            top["outside_temperature_c"],
            "$.outside_temperature_c",
            minimum=-60,
            maximum=60,
            unit="°C",
        )
    diesel = math.nan
    if "diesel_price_per_l" in top:
        diesel = c.number(top["diesel_price_per_l"], "$.diesel_price_per_l", minimum=0)
    carbon = 0.0
    if "carbon_price_per_t" in top:
        carbon = c.number(top["carbon_price_per_t"], "$.carbon_price_per_t", minimum=0)
    objective = _objective(c, top["objective"]) if "objective" in top else ObjectiveWeights()

    depots: list[DepotSpec] = []
    depot_lines: dict[str, tuple[str, int]] = {}
    if "depots" in top:
        for k, node in enumerate(c.sequence(top["depots"], "$.depots", min_items=1) or []):
            depot = _depot(c, node, f"$.depots[{k}]", depot_lines)
            if depot is not None:
                depots.append(depot)
    groups: list[VehicleGroup] = []
    group_lines: dict[str, tuple[str, int]] = {}
    if "vehicles" in top:
        items = c.sequence(top["vehicles"], "$.vehicles", min_items=1) or []
        for k, node in enumerate(items):
            group = _vehicle(c, node, f"$.vehicles[{k}]", depot_lines, group_lines, catalogue_ids)
            if group is not None:
                groups.append(group)
    if c.errors or objective is None:
        return None
    try:
        return FleetSpec(
            depots=tuple(depots),
            vehicle_groups=tuple(groups),
            outside_temperature_c=temperature,
            country=country,
            diesel_price_per_l=diesel,
            carbon_price_per_t=carbon,
            currency=currency,
            objective=objective,
            name=name,
        )
    except ValueError as exc:  # a check of FleetSpec the key checks did not make
        c.error(root, "$", str(exc), show_value=False)
        return None


def _objective(c: _Checker, node: Node) -> ObjectiveWeights | None:
    keys = c.mapping(node, "$.objective", OBJECTIVE_KEYS)
    if keys is None:
        return None
    weights = {key: c.number(value, f"$.objective.{key}", minimum=0) for key, value in keys.items()}
    if _nan(*weights.values()):
        return None
    try:
        return ObjectiveWeights(**weights)
    except ValueError as exc:
        c.error(node, "$.objective", str(exc), show_value=False)
        return None


def _unique_id(
    c: _Checker, node: Node, loc: str, seen: dict[str, tuple[str, int]], what: str
) -> str:
    ident = c.text(node, loc, what=f"a {what} id")
    if not ident:
        return ""
    if ident in seen:
        first_loc, first_line = seen[ident]
        c.error(node, loc, f"{what} id already used by {first_loc} (line {first_line})")
        return ""
    seen[ident] = (loc.rsplit(".", 1)[0], _line(node))
    return ident


def _depot(c: _Checker, node: Node, loc: str, seen: dict[str, tuple[str, int]]) -> DepotSpec | None:
    keys = c.mapping(node, loc, DEPOT_KEYS, ("id", "latitude", "longitude"))
    if keys is None:
        return None
    errors_before = len(c.errors)
    ident = _unique_id(c, keys["id"], f"{loc}.id", seen, "depot") if "id" in keys else ""
    name = c.text(keys["name"], f"{loc}.name") if "name" in keys else ident
    lat = math.nan
    if "latitude" in keys:
        lat = c.number(keys["latitude"], f"{loc}.latitude", minimum=-90, maximum=90, unit="°")
    lon = math.nan
    if "longitude" in keys:
        lon = c.number(keys["longitude"], f"{loc}.longitude", minimum=-180, maximum=180, unit="°")
    open_s, close_s = 0.0, math.inf
    if "hours" in keys:
        text = c.scalar(keys["hours"], f"{loc}.hours", 'opening hours "HH:MM-HH:MM" or "24/7"')
        if text is not None:
            try:
                open_s, close_s = parse_hours(text)
            except ValueError as exc:
                c.error(keys["hours"], f"{loc}.hours", str(exc))
    chargers: list[DepotCharger] = []
    if "chargers" in keys:
        items = c.sequence(keys["chargers"], f"{loc}.chargers") or []
        for k, item in enumerate(items):
            where = f"{loc}.chargers[{k}]"
            charger = c.mapping(item, where, DEPOT_CHARGER_KEYS, ("power_kw",))
            if charger is None:
                continue
            power = math.nan
            if "power_kw" in charger:
                power = c.number(
                    charger["power_kw"],
                    f"{where}.power_kw",
                    minimum=0,
                    maximum=4000,
                    exclusive_minimum=True,
                    unit="kW",
                )
            count = 1.0
            if "count" in charger:
                count = c.number(charger["count"], f"{where}.count", minimum=1, integer=True)
            if not _nan(power, count):
                chargers.append(DepotCharger(power_w=power * 1000.0, count=int(count)))
    price = 0.0
    if "electricity_price_per_kwh" in keys:
        price = c.number(
            keys["electricity_price_per_kwh"], f"{loc}.electricity_price_per_kwh", minimum=0
        )
    elif chargers:
        c.error(
            node,
            loc,
            'missing required key "electricity_price_per_kwh" (the depot has chargers)',
            show_value=False,
        )
    if len(c.errors) > errors_before:
        return None
    return DepotSpec(
        id=ident,
        latitude_deg=lat,
        longitude_deg=lon,
        name=name,
        open_s=open_s,
        close_s=close_s,
        chargers=tuple(chargers),
        electricity_price_per_kwh=price,
    )


def _vehicle(
    c: _Checker,
    node: Node,
    loc: str,
    depots: dict[str, tuple[str, int]],
    seen: dict[str, tuple[str, int]],
    catalogue_ids: Collection[str] | None,
) -> VehicleGroup | None:
    keys = c.mapping(node, loc, VEHICLE_KEYS, ("id", "count", "shift_start", "shift_end"))
    if keys is None:
        return None
    errors_before = len(c.errors)
    ident = _unique_id(c, keys["id"], f"{loc}.id", seen, "vehicle group") if "id" in keys else ""
    count = math.nan
    if "count" in keys:
        count = c.number(keys["count"], f"{loc}.count", minimum=1, integer=True)

    depot_id = ""
    if "depot" in keys:
        depot_id = c.text(keys["depot"], f"{loc}.depot", what="a depot id")
        if depot_id and depot_id not in depots:
            hint = did_you_mean(depot_id, list(depots))
            if not hint:
                hint = "known: " + (", ".join(f'"{d}"' for d in depots) or "none")
            c.error(keys["depot"], f"{loc}.depot", "unknown depot", hint=hint)
    elif len(depots) == 1:
        depot_id = next(iter(depots))
    elif depots:
        c.error(
            node,
            loc,
            'missing required key "depot" (the fleet has several depots)',
            show_value=False,
        )

    start_soc = 1.0
    if "start_soc" in keys:
        start_soc = c.fraction(keys["start_soc"], f"{loc}.start_soc")
    shift_start = (
        c.clock(keys["shift_start"], f"{loc}.shift_start") if "shift_start" in keys else 0.0
    )
    shift_end = c.clock(keys["shift_end"], f"{loc}.shift_end") if "shift_end" in keys else 0.0
    if not _nan(shift_start, shift_end) and "shift_end" in keys and shift_end <= shift_start:
        c.error(
            keys["shift_end"],
            f"{loc}.shift_end",
            f"expected a time after shift_start {keys['shift_start'].value}",
        )
    costs: dict[str, float] = {}
    for key in ("driver_cost_per_hour", "fixed_cost_per_day"):
        costs[key] = c.number(keys[key], f"{loc}.{key}", minimum=0) if key in keys else 0.0

    catalogue_id: str | None = None
    custom = _Custom()
    if "catalogue_id" in keys:
        catalogue_id = c.text(keys["catalogue_id"], f"{loc}.catalogue_id", what="a catalogue id")
        for key in CUSTOM_KEYS:
            if key in keys:
                c.error(
                    keys[key],
                    f"{loc}.{key}",
                    "not allowed with catalogue_id (the catalogue gives it; "
                    "leave out catalogue_id to describe a custom vehicle)",
                    show_value=False,
                )
        if catalogue_id and catalogue_ids is not None and catalogue_id not in catalogue_ids:
            hint = did_you_mean(catalogue_id, sorted(catalogue_ids))
            c.error(keys["catalogue_id"], f"{loc}.catalogue_id", "not in the catalogue", hint=hint)
    elif any(key in keys for key in CUSTOM_KEYS):
        custom = _custom_vehicle(c, node, keys, loc)
    else:
        c.error(
            node,
            loc,
            'missing "catalogue_id", or a custom vehicle: "powertrain", "capacity_kg" and '
            '"battery_kwh" + "energy_kwh_per_100km" (electric) or "fuel_l_per_100km" (diesel)',
            show_value=False,
        )

    if len(c.errors) > errors_before:
        return None
    return VehicleGroup(
        id=ident,
        count=int(count),
        depot_id=depot_id,
        shift_start_s=shift_start,
        shift_end_s=shift_end,
        catalogue_id=catalogue_id,
        powertrain=custom.powertrain,
        capacity_kg=custom.capacity_kg,
        battery_wh=custom.battery_wh,
        energy_wh_per_m=custom.energy_wh_per_m,
        fuel_l_per_m=custom.fuel_l_per_m,
        start_soc=start_soc,
        driver_cost_per_hour=costs["driver_cost_per_hour"],
        fixed_cost_per_day=costs["fixed_cost_per_day"],
    )


@dataclass
class _Custom:
    """A custom vehicle's fields in SI units (kg, Wh, Wh/m, l/m)."""

    powertrain: Powertrain | None = None
    capacity_kg: float | None = None
    battery_wh: float | None = None
    energy_wh_per_m: float | None = None
    fuel_l_per_m: float | None = None


def _custom_vehicle(c: _Checker, node: Node, keys: dict[str, Node], loc: str) -> _Custom:
    """The custom vehicle fields, checking which belong together."""
    out = _Custom()
    if "powertrain" in keys:
        text = c.text(keys["powertrain"], f"{loc}.powertrain", what="electric or diesel")
        if text:
            try:
                out.powertrain = Powertrain(text.lower())
            except ValueError:
                hint = did_you_mean(text.lower(), [p.value for p in Powertrain])
                c.error(
                    keys["powertrain"],
                    f"{loc}.powertrain",
                    "expected electric or diesel",
                    hint=hint,
                )
    else:
        c.error(
            node,
            loc,
            'missing required key "powertrain" for a custom vehicle (or give "catalogue_id")',
            show_value=False,
        )
    if "capacity_kg" in keys:
        out.capacity_kg = c.number(
            keys["capacity_kg"],
            f"{loc}.capacity_kg",
            minimum=0,
            maximum=50_000,
            exclusive_minimum=True,
            unit="kg",
        )
    else:
        c.error(
            node, loc, 'missing required key "capacity_kg" for a custom vehicle', show_value=False
        )
    if out.powertrain is None:
        return out
    electric = out.powertrain is Powertrain.ELECTRIC
    needed = ("battery_kwh", "energy_kwh_per_100km") if electric else ("fuel_l_per_100km",)
    banned = ("fuel_l_per_100km",) if electric else ("battery_kwh", "energy_kwh_per_100km")
    for key in needed:
        if key not in keys:
            c.error(
                node,
                loc,
                f'missing required key "{key}" for a custom {out.powertrain} vehicle',
                show_value=False,
            )
    for key in banned:
        if key in keys:
            c.error(
                keys[key],
                f"{loc}.{key}",
                f"not allowed for a {out.powertrain} vehicle",
                show_value=False,
            )
    if electric and "battery_kwh" in keys:
        battery = c.number(
            keys["battery_kwh"],
            f"{loc}.battery_kwh",
            minimum=0,
            maximum=2000,
            exclusive_minimum=True,
            unit="kWh",
        )
        out.battery_wh = battery * 1000.0
    if electric and "energy_kwh_per_100km" in keys:
        energy = c.number(
            keys["energy_kwh_per_100km"],
            f"{loc}.energy_kwh_per_100km",
            minimum=0,
            maximum=300,
            exclusive_minimum=True,
            unit="kWh/100 km",
        )
        out.energy_wh_per_m = energy * 1000.0 / 100_000.0
    if not electric and "fuel_l_per_100km" in keys:
        fuel = c.number(
            keys["fuel_l_per_100km"],
            f"{loc}.fuel_l_per_100km",
            minimum=0,
            maximum=100,
            exclusive_minimum=True,
            unit="l/100 km",
        )
        out.fuel_l_per_m = fuel / 100_000.0
    return out
