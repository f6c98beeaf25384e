"""A dispatcher's delivery day as plain, immutable data: orders, fleet, public chargers.

These are the inputs a dispatcher actually has (see ``docs/input-formats.md``), parsed by
:mod:`evfleet.io.orders_csv`, :mod:`evfleet.io.fleet_yaml` and :mod:`evfleet.io.chargers_csv`.
Nothing here reads files.

Units: coordinates in degrees WGS 84 (``_deg``), times of day in seconds since local
midnight (``_s``; ``INF`` for "no limit"), durations in seconds, masses in kilograms (``_kg``),
energies in watt-hours (``_wh``), powers in watts (``_w``), consumption in Wh per metre and
litres per metre, prices in the fleet's currency per kWh, per litre or per tonne CO2e,
temperatures in degrees Celsius, state of charge as a fraction from 0 to 1.

The module also holds what the three readers share: time-of-day parsing
(:func:`parse_clock`, :func:`parse_hours`, :func:`format_clock`), the record of one input
problem (:class:`RowError`) and the error that lists them all (:class:`InputErrors`).
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from evfleet.errors import InputError
from evfleet.problem import Powertrain

__all__ = [
    "DAY_S",
    "INF",
    "ChargerSpec",
    "DeliveryDay",
    "DepotCharger",
    "DepotSpec",
    "FleetSpec",
    "InputErrors",
    "ObjectiveWeights",
    "Order",
    "RowError",
    "VehicleGroup",
    "format_clock",
    "parse_clock",
    "parse_hours",
]

INF = math.inf
DAY_S = 86_400.0
"""Seconds in a day; ``24:00`` is ``DAY_S``."""

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_ALWAYS_OPEN = {"24/7", "24h", "24 h", "always"}


# --------------------------------------------------------------------------- time of day


def parse_clock(text: str) -> float:
    """Seconds since local midnight of a time ``H:MM``, ``HH:MM`` or ``HH:MM:SS`` (0 to 24:00).

    Raises ``ValueError`` with a message that fits after "expected ...: " in an error.
    """
    match = _CLOCK.match(text.strip())
    if match is None:
        raise ValueError("expected a time of day as HH:MM (00:00 to 24:00)")
    hours, minutes = int(match.group(1)), int(match.group(2))
    seconds = int(match.group(3) or 0)
    if minutes > 59 or seconds > 59 or hours > 24 or (hours == 24 and (minutes or seconds)):
        raise ValueError("expected a time of day as HH:MM (00:00 to 24:00)")
    return float(hours * 3600 + minutes * 60 + seconds)


def parse_hours(text: str) -> tuple[float, float]:
    """Opening hours ``HH:MM-HH:MM`` or ``24/7`` as ``(open_s, close_s)`` since midnight.

    ``24/7`` gives ``(0, INF)``. Hours that end before they start (overnight) are rejected:
    a delivery day runs from one midnight to the next. Raises ``ValueError``.
    """
    stripped = text.strip()
    if stripped.lower() in _ALWAYS_OPEN:
        return 0.0, INF
    parts = re.split(r"\s*[-–]\s*", stripped)
    if len(parts) != 2:
        raise ValueError("expected opening hours as HH:MM-HH:MM or 24/7")
    try:
        open_s, close_s = parse_clock(parts[0]), parse_clock(parts[1])
    except ValueError:
        raise ValueError("expected opening hours as HH:MM-HH:MM or 24/7") from None
    if close_s <= open_s:
        raise ValueError(
            "opening hours must close after they open on the same day "
            "(overnight hours such as 22:00-06:00 are not supported)"
        )
    return open_s, close_s


def format_clock(seconds: float) -> str:
    """``HH:MM`` (``HH:MM:SS`` when needed) for seconds since midnight; ``-`` for ``INF``."""
    if math.isinf(seconds):
        return "-"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


# --------------------------------------------------------------------------- input problems


@dataclass(frozen=True)
class RowError:
    """One problem in an input file: where it is, what was found and why it is wrong.

    ``line`` is 1-based (``None``: the whole file). ``column`` is a CSV column name, or for
    YAML the JSON-path-like location of the key (it then starts with ``$``, e.g.
    ``$.vehicles[1].count``); ``None`` for the whole row. ``value`` is the text found
    (``None``: nothing to show). ``reason`` says what was expected; ``hint``, when given,
    a likely fix (``use a decimal point: 48.85``).
    """

    path: str
    line: int | None
    column: str | None
    value: str | None
    reason: str
    hint: str = ""

    @property
    def message(self) -> str:
        """The problem without the file and line: ``column "x": reason, got "value"``."""
        parts: list[str] = []
        if self.column is not None:
            parts.append(self.column if self.column.startswith("$") else f'column "{self.column}"')
        text = self.reason if self.value is None else f"{self.reason}, got {_quote(self.value)}"
        parts.append(text + (f" ({self.hint})" if self.hint else ""))
        return ": ".join(parts)

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


def _quote(value: str) -> str:
    shown = value if len(value) <= 60 else value[:57] + "..."
    escaped = shown.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class InputErrors(InputError):
    """An input file with one or more problems; ``errors`` lists every one, in file order.

    With one error the message is that error (``orders.csv:17: column "latitude": ...``);
    with several it starts ``orders.csv: 3 errors:`` and lists each on its own line.
    ``line`` is the first error's line.
    """

    def __init__(self, path: str, errors: Sequence[RowError]) -> None:
        if not errors:
            raise ValueError("InputErrors needs at least one error")
        self.errors: tuple[RowError, ...] = tuple(errors)
        first = self.errors[0]
        if len(self.errors) == 1:
            super().__init__(first.message, path=first.path, line=first.line)
        else:
            listing = "\n".join(f"  {error}" for error in self.errors)
            super().__init__(f"{len(self.errors)} errors:\n{listing}", path=path)
            self.line = first.line


# --------------------------------------------------------------------------- the day's data


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _finite(value: float) -> bool:
    return math.isfinite(value)


def _check_position(latitude_deg: float, longitude_deg: float) -> None:
    _check(-90.0 <= latitude_deg <= 90.0, f"latitude_deg must be in [-90, 90], got {latitude_deg}")
    _check(
        -180.0 <= longitude_deg <= 180.0,
        f"longitude_deg must be in [-180, 180], got {longitude_deg}",
    )


def _check_window(early: float, late: float, what: str) -> None:
    _check(_finite(early) and 0.0 <= early <= DAY_S, f"{what} start must be within the day (s)")
    _check(
        late >= early and (late <= DAY_S or math.isinf(late)),
        f"{what} must not end before it starts",
    )


@dataclass(frozen=True)
class Order:
    """A delivery stop: ``parcels`` parcels weighing ``weight_kg`` in all.

    Service must start within ``[tw_early_s, tw_late_s]`` (seconds since local midnight;
    ``0`` and ``INF`` when the order has no window) and takes ``service_s`` seconds.
    """

    id: str
    latitude_deg: float
    longitude_deg: float
    parcels: int = 1
    weight_kg: float = 0.0
    tw_early_s: float = 0.0
    tw_late_s: float = INF
    service_s: float = 0.0
    notes: str = ""

    def __post_init__(self) -> None:
        _check(bool(self.id), "an order needs a non-empty id")
        _check_position(self.latitude_deg, self.longitude_deg)
        _check(self.parcels >= 0, "parcels must be >= 0")
        _check(_finite(self.weight_kg) and self.weight_kg >= 0, "weight_kg must be >= 0")
        _check(_finite(self.service_s) and self.service_s >= 0, "service_s must be >= 0")
        _check_window(self.tw_early_s, self.tw_late_s, "the time window")

    @property
    def has_time_window(self) -> bool:
        """Whether the order restricts when service may start."""
        return self.tw_early_s > 0.0 or not math.isinf(self.tw_late_s)


@dataclass(frozen=True)
class DepotCharger:
    """``count`` identical charge points of ``power_w`` watts at a depot."""

    power_w: float
    count: int = 1

    def __post_init__(self) -> None:
        _check(_finite(self.power_w) and self.power_w > 0, "power_w must be > 0")
        _check(self.count >= 1, "count must be >= 1")


@dataclass(frozen=True)
class DepotSpec:
    """A depot: open from ``open_s`` to ``close_s`` (since midnight), with its chargers.

    ``electricity_price_per_kwh`` is what charging at the depot costs, in currency per kWh.
    """

    id: str
    latitude_deg: float
    longitude_deg: float
    name: str = ""
    open_s: float = 0.0
    close_s: float = INF
    chargers: tuple[DepotCharger, ...] = ()
    electricity_price_per_kwh: float = 0.0

    def __post_init__(self) -> None:
        _check(bool(self.id), "a depot needs a non-empty id")
        _check_position(self.latitude_deg, self.longitude_deg)
        _check_window(self.open_s, self.close_s, "the opening hours")
        price = self.electricity_price_per_kwh
        _check(_finite(price) and price >= 0, "electricity_price_per_kwh must be >= 0")

    @property
    def charger_count(self) -> int:
        """Number of charge points at the depot."""
        return sum(c.count for c in self.chargers)

    @property
    def charger_power_w(self) -> float:
        """Total power of the depot's charge points, in W."""
        return sum(c.power_w * c.count for c in self.chargers)


@dataclass(frozen=True)
class VehicleGroup:
    """``count`` identical vehicles based at depot ``depot_id``.

    Either ``catalogue_id`` names a model of :mod:`evfleet.catalogue` (and the vehicle fields
    are ``None``), or the vehicle is custom: ``powertrain`` and ``capacity_kg``, plus
    ``battery_wh`` (usable, Wh) and ``energy_wh_per_m`` (Wh per metre) when electric, or
    ``fuel_l_per_m`` (litres per metre) when diesel. Vehicles leave with ``start_soc`` of
    the battery (a fraction 0 to 1), work from ``shift_start_s`` to ``shift_end_s`` (since
    midnight), cost ``driver_cost_per_hour`` per hour on shift and ``fixed_cost_per_day``
    per vehicle used.
    """

    id: str
    count: int
    depot_id: str
    shift_start_s: float
    shift_end_s: float
    catalogue_id: str | None = None
    powertrain: Powertrain | None = None
    capacity_kg: float | None = None
    battery_wh: float | None = None
    energy_wh_per_m: float | None = None
    fuel_l_per_m: float | None = None
    start_soc: float = 1.0
    driver_cost_per_hour: float = 0.0
    fixed_cost_per_day: float = 0.0

    def __post_init__(self) -> None:
        _check(bool(self.id), "a vehicle group needs a non-empty id")
        _check(self.count >= 1, "count must be >= 1")
        _check_window(self.shift_start_s, self.shift_end_s, "the shift")
        _check(0.0 <= self.start_soc <= 1.0, "start_soc must be a fraction from 0 to 1")
        for name in ("driver_cost_per_hour", "fixed_cost_per_day"):
            value = getattr(self, name)
            _check(_finite(value) and value >= 0, f"{name} must be >= 0")
        custom = {
            "powertrain": self.powertrain,
            "capacity_kg": self.capacity_kg,
            "battery_wh": self.battery_wh,
            "energy_wh_per_m": self.energy_wh_per_m,
            "fuel_l_per_m": self.fuel_l_per_m,
        }
        given = [name for name, value in custom.items() if value is not None]
        if self.catalogue_id is not None:
            _check(
                not given,
                f"a catalogue vehicle takes no custom fields (got {', '.join(given)})",
            )
            return
        _check(self.powertrain is not None, "a custom vehicle needs a powertrain")
        _check(self.capacity_kg is not None, "a custom vehicle needs capacity_kg")
        needed: tuple[str, ...]
        banned: tuple[str, ...]
        if self.powertrain is Powertrain.ELECTRIC:
            needed = ("battery_wh", "energy_wh_per_m")
            banned = ("fuel_l_per_m",)
        else:
            needed = ("fuel_l_per_m",)
            banned = ("battery_wh", "energy_wh_per_m")
        for name in needed:
            _check(custom[name] is not None, f"a custom {self.powertrain} vehicle needs {name}")
        for name in banned:
            _check(custom[name] is None, f"a {self.powertrain} vehicle takes no {name}")
        for name in ("capacity_kg", "battery_wh", "energy_wh_per_m", "fuel_l_per_m"):
            value = custom[name]
            if isinstance(value, float | int):
                _check(_finite(value) and value >= 0, f"{name} must be >= 0")

    @property
    def is_custom(self) -> bool:
        """Whether the vehicle is described here rather than by the catalogue."""
        return self.catalogue_id is None


@dataclass(frozen=True)
class ObjectiveWeights:
    """How a plan's outcomes combine into one number to minimise.

    ``cost`` weighs money (currency, including the carbon price), ``co2e_kg`` weighs each kg
    of CO2e beyond its price, ``vehicles`` is a penalty per vehicle used.
    """

    cost: float = 1.0
    co2e_kg: float = 0.0
    vehicles: float = 0.0

    def __post_init__(self) -> None:
        for name in ("cost", "co2e_kg", "vehicles"):
            value = getattr(self, name)
            _check(_finite(value) and value >= 0, f"objective weight {name} must be >= 0")
        _check(self.cost + self.co2e_kg + self.vehicles > 0, "some objective weight must be > 0")


@dataclass(frozen=True)
class FleetSpec:
    """The fleet and its economics for a day.

    ``country`` is the ISO 3166-1 alpha-2 code whose grid intensity applies (``DE``);
    ``currency`` the ISO 4217 code of every price; ``outside_temperature_c`` in °C;
    ``diesel_price_per_l`` per litre; ``carbon_price_per_t`` per tonne of CO2e.
    """

    depots: tuple[DepotSpec, ...]
    vehicle_groups: tuple[VehicleGroup, ...]
    outside_temperature_c: float
    country: str
    diesel_price_per_l: float
    carbon_price_per_t: float = 0.0
    currency: str = "EUR"
    objective: ObjectiveWeights = field(default_factory=ObjectiveWeights)
    name: str = ""

    def __post_init__(self) -> None:
        _check(bool(self.depots), "a fleet needs at least one depot")
        _check(bool(self.vehicle_groups), "a fleet needs at least one vehicle group")
        depot_ids = [d.id for d in self.depots]
        _check(len(set(depot_ids)) == len(depot_ids), "depot ids must be unique")
        group_ids = [g.id for g in self.vehicle_groups]
        _check(len(set(group_ids)) == len(group_ids), "vehicle group ids must be unique")
        for group in self.vehicle_groups:
            _check(
                group.depot_id in depot_ids,
                f"vehicle group {group.id!r} refers to unknown depot {group.depot_id!r}",
            )
        _check(
            -60.0 <= self.outside_temperature_c <= 60.0,
            "outside_temperature_c must be in [-60, 60] °C",
        )
        _check(re.fullmatch(r"[A-Z]{2}", self.country) is not None, "country: 2 capital letters")
        _check(re.fullmatch(r"[A-Z]{3}", self.currency) is not None, "currency: 3 capital letters")
        for name in ("diesel_price_per_l", "carbon_price_per_t"):
            value = getattr(self, name)
            _check(_finite(value) and value >= 0, f"{name} must be >= 0")

    def depot(self, depot_id: str) -> DepotSpec:
        """The depot with id ``depot_id`` (``KeyError`` if none)."""
        for depot in self.depots:
            if depot.id == depot_id:
                return depot
        raise KeyError(depot_id)

    @property
    def vehicle_count(self) -> int:
        """Number of vehicles in all groups."""
        return sum(g.count for g in self.vehicle_groups)


@dataclass(frozen=True)
class ChargerSpec:
    """A charging site off the depot: ``connectors`` points of ``power_w`` W each.

    Charging costs ``price_per_kwh`` (currency per kWh) and must happen between ``open_s``
    and ``close_s`` (since midnight; ``0`` and ``INF`` for 24/7). ``public`` says whether
    anyone may charge there (``False``: a partner's or the company's own site).
    """

    id: str
    latitude_deg: float
    longitude_deg: float
    power_w: float
    connectors: int = 1
    price_per_kwh: float = 0.0
    open_s: float = 0.0
    close_s: float = INF
    public: bool = True
    name: str = ""

    def __post_init__(self) -> None:
        _check(bool(self.id), "a charger needs a non-empty id")
        _check_position(self.latitude_deg, self.longitude_deg)
        _check(_finite(self.power_w) and self.power_w > 0, "power_w must be > 0")
        _check(self.connectors >= 1, "connectors must be >= 1")
        _check(_finite(self.price_per_kwh) and self.price_per_kwh >= 0, "price must be >= 0")
        _check_window(self.open_s, self.close_s, "the opening hours")

    @property
    def always_open(self) -> bool:
        """Whether the charger is open around the clock."""
        return self.open_s == 0.0 and (math.isinf(self.close_s) or self.close_s >= DAY_S)


@dataclass(frozen=True)
class DeliveryDay:
    """One day to plan: the orders, the fleet, and the chargers off the depots."""

    orders: tuple[Order, ...]
    fleet: FleetSpec
    chargers: tuple[ChargerSpec, ...] = ()
    name: str = ""
    date: datetime.date | None = None

    def __post_init__(self) -> None:
        ids = [o.id for o in self.orders]
        _check(len(set(ids)) == len(ids), "order ids must be unique")
        charger_ids = [c.id for c in self.chargers]
        _check(len(set(charger_ids)) == len(charger_ids), "charger ids must be unique")

    @property
    def total_weight_kg(self) -> float:
        """Weight of all orders, in kg."""
        return sum(o.weight_kg for o in self.orders)

    @property
    def total_parcels(self) -> int:
        """Number of parcels in all orders."""
        return sum(o.parcels for o in self.orders)
