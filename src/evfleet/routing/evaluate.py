"""Route evaluation for the search: cost, and how far a route is from feasible.

A route is a list of client and charger locations between leaving and returning to its
depot. Evaluation simulates it once, forward: load, time (with Vidal et al.'s *time warp*
for lateness, so that infeasible routes still get a meaningful penalty), and energy. At a
charger the vehicle fills up under the full-recharge policy, and under the partial policy
charges enough to reach the next charger or the depot, and more where it would wait for
a window before the next charger anyway (less to charge there). The simulation itself is
compiled: :func:`evfleet.routing.kernels.evaluate_route` is the engine's one
implementation, and :meth:`Evaluator.evaluate` wraps it for Python callers. This is the
planner's own code; the checker (:mod:`evfleet.checker`) recomputes everything
independently.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evfleet.problem import Objective
from evfleet.routing import kernels
from evfleet.routing.data import EngineData


@dataclass(frozen=True, slots=True)
class RouteEval:
    """What one route costs and by how much it breaks each constraint."""

    distance_m: float
    driving_s: float
    charging_s: float
    duration_s: float
    time_warp_s: float
    """Total lateness over windows, charger closing times, shift end and maximum duration,
    in s."""
    excess_load_kg: float
    energy_deficit_wh: float
    """Energy the battery would have needed below empty, in Wh (plus 1 Wh for each
    charger a diesel vehicle visits)."""
    energy_cost: float
    """Energy charged on the way, at each charger's price less the depot's price that it
    replaces (``VehicleType.energy_cost_per_wh``)."""
    energy_used_wh: float
    """Energy drawn from the battery on the route's arcs, in Wh."""
    charges_wh: tuple[float, ...]
    """Energy charged at each charger of the route, in order, in Wh."""

    @property
    def feasible(self) -> bool:
        return (
            self.time_warp_s <= kernels.WARP_TOL
            and self.excess_load_kg <= kernels.LOAD_TOL
            and (self.energy_deficit_wh <= kernels.ENERGY_TOL)
        )


class Evaluator:
    """Evaluates routes of one problem with the compiled kernel.

    Vehicle types with a Python ``energy_model`` hook are the one exception to "all in
    compiled code": their arc energies are computed here, in Python (:meth:`arc_energies`),
    and passed to the kernel.
    """

    def __init__(self, data: EngineData) -> None:
        self.data = data
        self.kernel_data = kernels.build_kernel_data(data)
        self.demand = data.demand_kg.tolist()
        self.energy_models = [
            vt.energy_model if td.load_dependent else None
            for vt, td in zip(data.problem.vehicle_types, data.types, strict=True)
        ]
        self._size = 0
        self._grow(16)

    @functools.cached_property
    def dist(self) -> list[list[float]]:
        """The distance matrix as nested lists, for the Python fallbacks only (made when
        first needed: for 5,000 clients the lists take about a gigabyte)."""
        return self.data.dist_m.tolist()  # type: ignore[no-any-return]

    def _grow(self, n: int) -> None:
        """Scratch buffers for routes of up to ``n`` stops."""
        if n <= self._size:
            return
        size = max(n, 2 * self._size)
        self._route = np.zeros(size, dtype=np.int64)
        self._insert_route = np.zeros(size, dtype=np.int64)
        self._energies = np.zeros(size + 1)
        self._charges = np.zeros(size)
        self._out = np.zeros(kernels.NUM_FIELDS)
        self._size = size

    def arc_energies(self, t: int, route: Sequence[int]) -> list[float]:
        """Energy on each arc of ``route`` (depot to depot) for vehicle type ``t``, in Wh."""
        td = self.data.types[t]
        depot = td.depot
        path = [depot, *route, depot]
        if not td.electric:
            return [0.0] * (len(path) - 1)
        model = self.energy_models[t]
        load = sum(self.demand[v] for v in route)
        out = []
        for a, b in itertools.pairwise(path):
            if model is not None:
                out.append(model(a, b, self.dist[a][b], load))
            else:
                e = float(td.energy_wh[a, b])
                if td.energy_wh_per_kg is not None:
                    e += float(td.energy_wh_per_kg[a, b]) * load
                out.append(e)
            load -= self.demand[b] if b != depot else 0.0
        return out

    def evaluate(self, t: int, route: Sequence[int]) -> RouteEval:
        """Simulates ``route`` for vehicle type ``t`` (see
        :func:`~evfleet.routing.kernels.evaluate_route`)."""
        n = len(route)
        if n > self._size:
            self._grow(n)
        buf = self._route
        buf[:n] = route
        energies = self._energies
        given = self.energy_models[t] is not None
        if given:
            energies[: n + 1] = self.arc_energies(t, route)
        stops = kernels.evaluate_route(
            self.kernel_data, t, buf, n, energies, given, self._out, self._charges
        )
        distance, driving, charging, duration, warp, excess, deficit, cost, used = (
            self._out.tolist()
        )
        charges = tuple(self._charges[:stops].tolist())
        return RouteEval(
            distance, driving, charging, duration, warp, excess, deficit, cost, used, charges
        )

    def insertion_costs(
        self,
        t: int,
        route: Sequence[int],
        u: int,
        positions: Sequence[int],
        weights: tuple[float, float, float],
    ) -> list[float]:
        """Penalised cost (objective, vehicle weight and ``weights`` times time warp,
        excess load and energy deficit) of ``route`` with ``u`` inserted at each of
        ``positions``, evaluated in one compiled call."""
        n = len(route)
        if self.energy_models[t] is not None:
            out = []
            for p in positions:
                ev = self.evaluate(t, [*route[:p], u, *route[p:]])
                penalty = (
                    weights[0] * ev.time_warp_s
                    + weights[1] * ev.excess_load_kg
                    + weights[2] * ev.energy_deficit_wh
                )
                out.append(self.objective_cost(t, ev) + self.data.route_cost + penalty)
            return out
        if n + 1 > self._size:
            self._grow(n + 1)
        self._insert_route[:n] = route
        where = np.asarray(positions, dtype=np.int64)
        costs = np.empty(len(where))
        kernels.insertion_costs(
            self.kernel_data,
            t,
            self._insert_route,
            n,
            u,
            where,
            np.asarray(weights, dtype=np.float64),
            self._route,
            self._energies,
            self._out,
            self._charges,
            costs,
        )
        return costs.tolist()

    def objective_cost(self, t: int, ev: RouteEval) -> float:
        """The route's contribution to the objective (without vehicle count or penalties)."""
        obj = self.data.objective
        if obj is Objective.DRIVING_AND_CHARGING_TIME:
            return ev.driving_s + ev.charging_s
        if obj is Objective.COST:
            # As the checker (and kernels.objective_cost).
            td = self.data.types[t]
            fuel_l = td.fuel_l_per_m * ev.distance_m
            co2e_kg = fuel_l * td.co2e_kg_per_l + ev.energy_used_wh * td.co2e_kg_per_wh
            return (
                td.fixed_cost
                + td.cost_per_m * ev.distance_m
                + td.cost_per_s * ev.duration_s
                + fuel_l * td.fuel_cost_per_l
                + ev.energy_used_wh * td.energy_cost_per_wh
                + ev.energy_cost
                + self.data.carbon_price_per_kg * co2e_kg
            )
        return ev.distance_m
