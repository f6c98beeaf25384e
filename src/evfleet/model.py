"""A small builder for problems, in the style of PyVRP's ``Model``.

>>> m = Model("tiny")
>>> depot = m.add_depot(x=0, y=0)
>>> vt = m.add_vehicle_type(battery_wh=50_000, energy_wh_per_m=0.2, capacity_kg=800)
>>> c = m.add_client(x=1_000, y=0, demand_kg=20, service_s=120)
>>> problem = m.data()
>>> problem.num_clients
1

Units: metres, seconds, watt-hours, kilograms (see :mod:`evfleet.problem`).
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from evfleet.charging import ChargingFunction
from evfleet.problem import (
    INF,
    Charger,
    Client,
    Depot,
    EnergyModel,
    Metric,
    Objective,
    Powertrain,
    Problem,
    RechargePolicy,
    VehicleType,
)

if TYPE_CHECKING:
    from evfleet.solution import Solution


class Model:
    """Collects depots, vehicle types, clients and chargers, then builds a :class:`Problem`.

    Matrices come either from coordinates through a :class:`Metric` (default: Euclidean
    metres at 1 m/s) or from :meth:`set_matrices`, in the order depots, clients, chargers.
    """

    def __init__(self, name: str = "model") -> None:
        self.name = name
        self._depots: list[Depot] = []
        self._clients: list[Client] = []
        self._chargers: list[Charger] = []
        self._vehicle_types: list[VehicleType] = []
        self._metric: Metric | None = Metric()
        self._distance_m: NDArray[np.float64] | None = None
        self._duration_s: NDArray[np.float64] | None = None
        self.objective = Objective.VEHICLES_THEN_DISTANCE
        self.recharge = RechargePolicy.FULL

    def add_depot(
        self,
        x: float = 0.0,
        y: float = 0.0,
        *,
        name: str | None = None,
        tw_early_s: float = 0.0,
        tw_late_s: float = INF,
    ) -> int:
        """Adds a depot and returns its depot number (0 for the first)."""
        _check_finite(x=x, y=y)
        _check_window("tw_early_s", tw_early_s, "tw_late_s", tw_late_s)
        self._depots.append(
            Depot(name or f"D{len(self._depots)}", float(x), float(y), tw_early_s, tw_late_s)
        )
        return len(self._depots) - 1

    def add_client(
        self,
        x: float = 0.0,
        y: float = 0.0,
        *,
        name: str | None = None,
        demand_kg: float = 0.0,
        service_s: float = 0.0,
        tw_early_s: float = 0.0,
        tw_late_s: float = INF,
    ) -> int:
        """Adds a client and returns its client number (0 for the first)."""
        if demand_kg < 0 or service_s < 0:
            raise ValueError("demand_kg and service_s must be >= 0")
        _check_finite(x=x, y=y, demand_kg=demand_kg, service_s=service_s)
        _check_window("tw_early_s", tw_early_s, "tw_late_s", tw_late_s)
        self._clients.append(
            Client(
                name or f"C{len(self._clients) + 1}",
                float(x),
                float(y),
                float(demand_kg),
                float(service_s),
                float(tw_early_s),
                float(tw_late_s),
            )
        )
        return len(self._clients) - 1

    def add_charger(
        self,
        x: float = 0.0,
        y: float = 0.0,
        *,
        name: str | None = None,
        function: ChargingFunction | None = None,
        power_w: float | None = None,
        connectors: int = 1,
        price_per_kwh: float = 0.0,
        open_s: float = 0.0,
        close_s: float = INF,
    ) -> int:
        """Adds a charger (a ``function``, or a constant ``power_w``); returns its number."""
        if function is None:
            function = (
                ChargingFunction.from_power(power_w) if power_w else ChargingFunction.linear(0)
            )
        if not _is_integer(connectors) or connectors < 1:
            raise ValueError("connectors must be an integer >= 1")
        connectors = int(connectors)
        _check_finite(x=x, y=y, price_per_kwh=price_per_kwh)
        _check_window("open_s", open_s, "close_s", close_s)
        self._chargers.append(
            Charger(
                name or f"S{len(self._chargers)}",
                float(x),
                float(y),
                function,
                connectors,
                price_per_kwh,
                open_s,
                close_s,
            )
        )
        return len(self._chargers) - 1

    def add_vehicle_type(
        self,
        *,
        name: str | None = None,
        count: int | None = None,
        capacity_kg: float = INF,
        depot: int = 0,
        powertrain: Powertrain | str = Powertrain.ELECTRIC,
        battery_wh: float = INF,
        initial_energy_wh: float | None = None,
        energy_wh_per_m: float = 0.0,
        fuel_l_per_m: float = 0.0,
        fixed_cost: float = 0.0,
        cost_per_m: float = 0.0,
        cost_per_s: float = 0.0,
        shift_start_s: float = 0.0,
        shift_end_s: float = INF,
        max_duration_s: float = INF,
        energy_model: EnergyModel | None = None,
    ) -> int:
        """Adds a vehicle type and returns its number."""
        powertrain = Powertrain(powertrain)
        if count is not None:
            if not _is_integer(count) or count < 0:
                raise ValueError("count must be None or an integer >= 0")
            count = int(count)
        for label, value in (
            ("capacity_kg", capacity_kg),
            ("battery_wh", battery_wh),
            ("max_duration_s", max_duration_s),
        ):
            if not value >= 0:  # also rejects NaN
                raise ValueError(f"{label} must be >= 0 (inf: unlimited)")
        _check_finite(
            energy_wh_per_m=energy_wh_per_m,
            fuel_l_per_m=fuel_l_per_m,
            fixed_cost=fixed_cost,
            cost_per_m=cost_per_m,
            cost_per_s=cost_per_s,
        )
        if energy_wh_per_m < 0 or fuel_l_per_m < 0:
            raise ValueError("energy_wh_per_m and fuel_l_per_m must be >= 0")
        if initial_energy_wh is not None and not (
            math.isfinite(initial_energy_wh) and 0 <= initial_energy_wh <= battery_wh
        ):
            raise ValueError("initial_energy_wh must be None or a finite number in [0, battery_wh]")
        _check_window("shift_start_s", shift_start_s, "shift_end_s", shift_end_s)
        self._vehicle_types.append(
            VehicleType(
                name=name or f"type{len(self._vehicle_types)}",
                count=count,
                capacity_kg=capacity_kg,
                depot=depot,
                powertrain=powertrain,
                battery_wh=battery_wh,
                initial_energy_wh=initial_energy_wh,
                energy_wh_per_m=energy_wh_per_m,
                fuel_l_per_m=fuel_l_per_m,
                fixed_cost=fixed_cost,
                cost_per_m=cost_per_m,
                cost_per_s=cost_per_s,
                shift_start_s=shift_start_s,
                shift_end_s=shift_end_s,
                max_duration_s=max_duration_s,
                energy_model=energy_model,
            )
        )
        return len(self._vehicle_types) - 1

    def set_metric(self, metric: Metric) -> None:
        """Derives the matrices from coordinates with ``metric``."""
        self._metric = metric
        self._distance_m = self._duration_s = None

    def set_matrices(
        self, distance_m: NDArray[np.float64], duration_s: NDArray[np.float64]
    ) -> None:
        """Uses explicit matrices (order: depots, clients, chargers); ``inf``: no arc."""
        dist = np.asarray(distance_m, dtype=np.float64)
        dur = np.asarray(duration_s, dtype=np.float64)
        for label, matrix in (("distance_m", dist), ("duration_s", dur)):
            if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
                raise ValueError(f"{label} must be a square matrix, got shape {matrix.shape}")
            if not bool(np.all(matrix >= 0)):  # also rejects NaN
                raise ValueError(f"{label} entries must be >= 0 (inf: no arc)")
        self._metric = None
        self._distance_m = dist
        self._duration_s = dur

    def data(self) -> Problem:
        """The problem described so far."""
        sites: list[Depot | Client | Charger] = [*self._depots, *self._clients, *self._chargers]
        if self._metric is not None:
            xs = np.array([s.x for s in sites], dtype=np.float64)
            ys = np.array([s.y for s in sites], dtype=np.float64)
            dist, dur = self._metric.matrices(xs, ys)
        else:
            assert self._distance_m is not None and self._duration_s is not None
            dist, dur = self._distance_m, self._duration_s
        return Problem(
            name=self.name,
            depots=tuple(self._depots),
            clients=tuple(self._clients),
            chargers=tuple(self._chargers),
            vehicle_types=tuple(self._vehicle_types),
            distance_m=dist,
            duration_s=dur,
            objective=Objective(self.objective),
            recharge=RechargePolicy(self.recharge),
            metric=self._metric,
        )

    def solve(self, *, time_limit_s: float = 10.0, seed: int = 0) -> Solution:
        """Solves the problem with evfleet's routing engine (see :func:`evfleet.solve`)."""
        from evfleet.routing.solve import solve

        return solve(self.data(), time_limit_s=time_limit_s, seed=seed)


def _is_integer(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_finite(**values: float) -> None:
    for label, value in values.items():
        if not math.isfinite(value):
            raise ValueError(f"{label} must be a finite number, got {value!r}")


def _check_window(early_label: str, early: float, late_label: str, late: float) -> None:
    """An opening window: a finite start and an end (``inf``: open-ended) not before it."""
    if not math.isfinite(early):
        raise ValueError(f"{early_label} must be a finite number, got {early!r}")
    if not late >= early:  # also rejects NaN
        raise ValueError(f"{late_label} must be >= {early_label} (inf: no limit)")
