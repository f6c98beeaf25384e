"""The electric-vehicle routing problem as plain, immutable data.

Units throughout: distances in metres (m), times and durations in seconds (s) counted from
the start of the planning day, energies in watt-hours (Wh), loads in kilograms (kg), money
in the instance's currency, fuel in litres (l). Benchmark readers map a set's abstract units
one to one onto these (one distance unit is read as one metre, and so on), so objective
values stay in the set's own units.

Locations are numbered in one index space used by the matrices: depots first, then
clients, then chargers (``Problem.client_index``, ``Problem.charger_index``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from evfleet.charging import ChargingFunction

INF = math.inf

MAX_TRUNCATE_DECIMALS = 15
"""Most decimals a :class:`Metric` may truncate distances to (beyond that, a no-op)."""

# An energy-model hook: (from_index, to_index, distance_m, load_kg) -> Wh consumed on the arc.
EnergyModel = Callable[[int, int, float, float], float]


class Objective(StrEnum):
    """What a plan minimises, in the convention of a benchmark set or of a real fleet."""

    VEHICLES_THEN_DISTANCE = "vehicles-then-distance"
    """Fewest vehicles first, then total distance (Schneider E-VRPTW, Solomon hierarchical)."""
    DISTANCE = "distance"
    """Total distance only; fleet size free (WCCI-2020 EVRP, DIMACS VRPTW)."""
    DRIVING_AND_CHARGING_TIME = "driving-and-charging-time"
    """Total driving plus charging time; service time excluded (Montoya E-VRP-NL)."""
    COST = "cost"
    """Fixed vehicle cost plus distance, time and energy costs."""


class RechargePolicy(StrEnum):
    """How much a vehicle may charge at a station."""

    FULL = "full"
    """Every charging stop fills the battery (Schneider E-VRPTW, WCCI-2020)."""
    PARTIAL = "partial"
    """Any amount up to the battery capacity (Keskin & Çatay PR, Montoya)."""


class Powertrain(StrEnum):
    ELECTRIC = "electric"
    DIESEL = "diesel"


@dataclass(frozen=True)
class Depot:
    """A depot where routes start and end; open from ``tw_early_s`` to ``tw_late_s``."""

    name: str
    x: float = 0.0
    y: float = 0.0
    tw_early_s: float = 0.0
    tw_late_s: float = INF


@dataclass(frozen=True)
class Client:
    """A delivery stop. Service must start within ``[tw_early_s, tw_late_s]``; waiting allowed."""

    name: str
    x: float = 0.0
    y: float = 0.0
    demand_kg: float = 0.0
    service_s: float = 0.0
    tw_early_s: float = 0.0
    tw_late_s: float = INF


@dataclass(frozen=True)
class Charger:
    """A charging station; charging must start and end within ``[open_s, close_s]``.

    ``price_per_kwh`` is the energy price in currency per kWh, ``connectors`` the number of
    vehicles it can charge at once.
    """

    name: str
    x: float = 0.0
    y: float = 0.0
    function: ChargingFunction = field(default_factory=lambda: ChargingFunction.linear(0.0))
    connectors: int = 1
    price_per_kwh: float = 0.0
    open_s: float = 0.0
    close_s: float = INF


@dataclass(frozen=True, eq=False)
class ArcEnergy:
    """Load-dependent energy per arc: ``base_wh[i, j] + wh_per_kg[i, j] * load_kg`` Wh.

    Mass enters rolling resistance, inertia and grade linearly, so a physics model
    (:mod:`evfleet.energy`) is exactly affine in the payload; both matrices are indexed in
    the shared location order.
    """

    base_wh: NDArray[np.float64]
    wh_per_kg: NDArray[np.float64]

    def __post_init__(self) -> None:
        if self.base_wh.shape != self.wh_per_kg.shape or self.base_wh.ndim != 2:
            raise ValueError("base_wh and wh_per_kg must be square matrices of equal shape")


@dataclass(frozen=True)
class VehicleType:
    """A group of identical vehicles based at one depot.

    ``count`` is how many exist (``None``: as many as needed). Electric vehicles have a
    usable battery of ``battery_wh`` and start with ``initial_energy_wh`` (``None``: full);
    they use ``arc_energy`` (load-dependent) if given, else the ``energy_model`` hook if
    given, else ``energy_wh_per_m`` per metre. Diesel vehicles use ``fuel_l_per_m`` and
    never charge. A route must start at or after ``shift_start_s``, end by ``shift_end_s``
    and last at most ``max_duration_s``.

    Costs (money in the problem's currency): ``fixed_cost`` per used vehicle,
    ``cost_per_m`` and ``cost_per_s`` (driver) along the route, ``fuel_cost_per_l`` per
    litre of diesel, and ``energy_cost_per_wh`` per Wh drawn from the battery (energy that
    the depot charger replaces, grid losses included); energy charged on the way is paid at
    the charger's price instead. ``co2e_kg_per_l`` and ``co2e_kg_per_wh`` are well-to-wheel
    emission factors, priced at :attr:`Problem.carbon_price_per_kg`.
    """

    name: str = "ev"
    count: int | None = None
    capacity_kg: float = INF
    depot: int = 0
    powertrain: Powertrain = Powertrain.ELECTRIC
    battery_wh: float = INF
    initial_energy_wh: float | None = None
    energy_wh_per_m: float = 0.0
    fuel_l_per_m: float = 0.0
    fixed_cost: float = 0.0
    cost_per_m: float = 0.0
    cost_per_s: float = 0.0
    shift_start_s: float = 0.0
    shift_end_s: float = INF
    max_duration_s: float = INF
    energy_model: EnergyModel | None = field(default=None, compare=False)
    arc_energy: ArcEnergy | None = field(default=None, compare=False)
    fuel_cost_per_l: float = 0.0
    energy_cost_per_wh: float = 0.0
    co2e_kg_per_l: float = 0.0
    co2e_kg_per_wh: float = 0.0

    @property
    def is_electric(self) -> bool:
        return self.powertrain is Powertrain.ELECTRIC

    @property
    def start_energy_wh(self) -> float:
        """Battery energy when the route starts, in Wh."""
        return self.battery_wh if self.initial_energy_wh is None else self.initial_energy_wh

    def arc_energy_wh(self, i: int, j: int, distance_m: float, load_kg: float = 0.0) -> float:
        """Energy used to drive from location ``i`` to ``j`` carrying ``load_kg``, in Wh."""
        if not self.is_electric:
            return 0.0
        if self.arc_energy is not None:
            e = self.arc_energy
            return float(e.base_wh[i, j] + e.wh_per_kg[i, j] * load_kg)
        if self.energy_model is not None:
            return self.energy_model(i, j, distance_m, load_kg)
        return self.energy_wh_per_m * distance_m


@dataclass(frozen=True)
class Metric:
    """How the matrices follow from coordinates, when they do.

    ``euclidean`` distances in metres from ``x``/``y``; ``truncate_decimals`` truncates each
    distance to that many decimals (DIMACS VRPTW: 1). Durations are distance divided by
    ``speed_m_per_s``.
    """

    kind: str = "euclidean"
    truncate_decimals: int | None = None
    speed_m_per_s: float = 1.0

    def __post_init__(self) -> None:
        if self.kind != "euclidean":
            raise ValueError(f"unknown metric {self.kind!r} (known: 'euclidean')")
        if self.truncate_decimals is not None and not (
            isinstance(self.truncate_decimals, int)
            and 0 <= self.truncate_decimals <= MAX_TRUNCATE_DECIMALS
        ):
            raise ValueError(
                f"truncate_decimals must be None or an integer from 0 to {MAX_TRUNCATE_DECIMALS}"
            )
        if not (math.isfinite(self.speed_m_per_s) and self.speed_m_per_s > 0):
            raise ValueError("speed_m_per_s must be a finite number > 0")

    def matrices(
        self, xs: NDArray[np.float64], ys: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Distance (m) and duration (s) matrices for the given coordinates."""
        if self.kind != "euclidean":
            raise ValueError(f"unknown metric {self.kind!r}")
        dx = xs[:, None] - xs[None, :]
        dy = ys[:, None] - ys[None, :]
        dist = np.sqrt(dx * dx + dy * dy)
        if self.truncate_decimals is not None:
            scale = 10.0**self.truncate_decimals
            dist = np.floor(dist * scale) / scale
        return dist, dist / self.speed_m_per_s


@dataclass(frozen=True, eq=False)
class Problem:
    """One routing problem: sites, fleet, matrices, objective and recharge policy.

    ``distance_m[i, j]`` and ``duration_s[i, j]`` are indexed in the shared location order
    (depots, clients, chargers). ``metric`` records how they were computed, when they come
    from coordinates, so that the problem can be written compactly.
    """

    name: str
    depots: tuple[Depot, ...]
    clients: tuple[Client, ...]
    chargers: tuple[Charger, ...]
    vehicle_types: tuple[VehicleType, ...]
    distance_m: NDArray[np.float64]
    duration_s: NDArray[np.float64]
    objective: Objective = Objective.VEHICLES_THEN_DISTANCE
    recharge: RechargePolicy = RechargePolicy.FULL
    metric: Metric | None = None
    charging_functions: Mapping[tuple[int, int], ChargingFunction] = field(default_factory=dict)
    """Charging functions for a (vehicle type, charger number) pair, overriding
    ``Charger.function``: a van's own limits shape the curve on each charger."""
    carbon_price_per_kg: float = 0.0
    """Price of one kg CO2e in the cost objective (currency per kg)."""

    def __post_init__(self) -> None:
        n = self.num_locations
        if not self.depots:
            raise ValueError("a problem needs at least one depot")
        if not self.vehicle_types:
            raise ValueError("a problem needs at least one vehicle type")
        for label, matrix in (("distance_m", self.distance_m), ("duration_s", self.duration_s)):
            if matrix.shape != (n, n):
                raise ValueError(f"{label} has shape {matrix.shape}, expected ({n}, {n})")
        for k, vt in enumerate(self.vehicle_types):
            if not 0 <= vt.depot < len(self.depots):
                raise ValueError(f"vehicle type {k} ({vt.name}) refers to unknown depot {vt.depot}")
            if vt.arc_energy is not None and vt.arc_energy.base_wh.shape != (n, n):
                raise ValueError(f"vehicle type {k} ({vt.name}): arc_energy is not {n} x {n}")
        for t, c in self.charging_functions:
            if not (0 <= t < len(self.vehicle_types) and 0 <= c < len(self.chargers)):
                raise ValueError(f"charging_functions has an unknown (type, charger) {(t, c)}")

    @property
    def num_depots(self) -> int:
        return len(self.depots)

    @property
    def num_clients(self) -> int:
        return len(self.clients)

    @property
    def num_chargers(self) -> int:
        return len(self.chargers)

    @property
    def num_locations(self) -> int:
        return len(self.depots) + len(self.clients) + len(self.chargers)

    def charging_function(self, vehicle_type: int, charger: int) -> ChargingFunction:
        """How vehicles of ``vehicle_type`` charge at charger number ``charger``."""
        return self.charging_functions.get((vehicle_type, charger), self.chargers[charger].function)

    def client_index(self, k: int) -> int:
        """Location index of the ``k``-th client."""
        return self.num_depots + k

    def charger_index(self, k: int) -> int:
        """Location index of the ``k``-th charger."""
        return self.num_depots + self.num_clients + k

    def is_client(self, loc: int) -> bool:
        return self.num_depots <= loc < self.num_depots + self.num_clients

    def is_charger(self, loc: int) -> bool:
        return loc >= self.num_depots + self.num_clients

    def location_names(self) -> list[str]:
        """Names in location order (depots, clients, chargers)."""
        return (
            [d.name for d in self.depots]
            + [c.name for c in self.clients]
            + [s.name for s in self.chargers]
        )

    def location(self, loc: int) -> Depot | Client | Charger:
        if loc < self.num_depots:
            return self.depots[loc]
        if loc < self.num_depots + self.num_clients:
            return self.clients[loc - self.num_depots]
        return self.chargers[loc - self.num_depots - self.num_clients]

    def coordinates(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        sites: list[Depot | Client | Charger] = [*self.depots, *self.clients, *self.chargers]
        return (
            np.array([s.x for s in sites], dtype=np.float64),
            np.array([s.y for s in sites], dtype=np.float64),
        )
