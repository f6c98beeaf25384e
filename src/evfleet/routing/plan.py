"""The search's working solution: routes with cached evaluations and penalised costs."""

from __future__ import annotations

from dataclasses import dataclass, field

from evfleet.problem import Objective
from evfleet.routing.evaluate import Evaluator, RouteEval


class StampClock:
    """An increasing counter: ``next(clock)`` hands out the next stamp. The compiled local
    search takes :attr:`value` and hands back where it got to (:meth:`advance`)."""

    def __init__(self) -> None:
        self.value = 0

    def __next__(self) -> int:
        self.value += 1
        return self.value

    def advance(self, value: int) -> None:
        """Moves the clock to ``value`` (never backwards)."""
        self.value = max(self.value, int(value))


_clock = StampClock()
"""Stamps route changes, so that local search can skip pairs of routes it has tested."""


@dataclass
class Penalties:
    """Weights that turn constraint violations into cost (objective units per s, kg, Wh)."""

    time_warp: float
    load: float
    energy: float

    def cost(self, ev: RouteEval) -> float:
        return (
            self.time_warp * ev.time_warp_s
            + self.load * ev.excess_load_kg
            + self.energy * ev.energy_deficit_wh
        )


@dataclass
class Plan:
    """Routes (client and charger locations between depot visits) and their vehicle types.

    Empty routes stand for vehicles still available. ``evals[r]`` caches route ``r``'s
    evaluation; call :meth:`update` after changing a route.
    """

    evaluator: Evaluator
    routes: list[list[int]]
    types: list[int]
    evals: list[RouteEval] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)
    """When each route last changed (a global, increasing counter)."""

    def __post_init__(self) -> None:
        if not self.evals:
            self.evals = [
                self.evaluator.evaluate(t, r) for t, r in zip(self.types, self.routes, strict=True)
            ]
        if not self.stamps:
            self.stamps = [next(_clock) for _ in self.routes]

    def copy(self) -> Plan:
        return Plan(
            self.evaluator,
            [list(r) for r in self.routes],
            list(self.types),
            list(self.evals),
            list(self.stamps),
        )

    def update(self, r: int) -> None:
        """Re-evaluates route ``r`` after its list was changed in place or replaced."""
        self.set_route(r, self.routes[r], self.evaluator.evaluate(self.types[r], self.routes[r]))

    def set_route(self, r: int, route: list[int], ev: RouteEval) -> None:
        self.routes[r] = route
        self.evals[r] = ev
        self.stamps[r] = next(_clock)

    def route_cost(self, r: int, penalties: Penalties) -> float:
        return self.cost_of(self.types[r], self.routes[r], self.evals[r], penalties)

    def cost_of(self, t: int, route: list[int], ev: RouteEval, penalties: Penalties) -> float:
        """Penalised cost of a route (objective + vehicle weight + violation penalties)."""
        if not route:
            return 0.0
        return (
            self.evaluator.objective_cost(t, ev)
            + self.evaluator.data.route_cost
            + penalties.cost(ev)
        )

    def cost(self, penalties: Penalties) -> float:
        return sum(self.route_cost(r, penalties) for r in range(len(self.routes)))

    @property
    def num_vehicles(self) -> int:
        return sum(1 for r in self.routes if r)

    @property
    def feasible(self) -> bool:
        return all(ev.feasible for r, ev in zip(self.routes, self.evals, strict=True) if r)

    def objective(self) -> float:
        """Objective value without penalties or vehicle weight."""
        return sum(
            self.evaluator.objective_cost(t, ev)
            for t, r, ev in zip(self.types, self.routes, self.evals, strict=True)
            if r
        )

    def key(self) -> tuple[float, float]:
        """Key to minimise: (vehicles, objective) when vehicles come first, else (0, objective)."""
        if self.evaluator.data.objective is Objective.VEHICLES_THEN_DISTANCE:
            return (float(self.num_vehicles), self.objective())
        return (0.0, self.objective())

    def client_positions(self) -> dict[int, tuple[int, int]]:
        """Maps each routed location to (route, position)."""
        out = {}
        for r, route in enumerate(self.routes):
            for p, v in enumerate(route):
                out[v] = (r, p)
        return out

    def ensure_spare_routes(self) -> None:
        """Keeps one empty route per vehicle type with unlimited count, so that a move can
        open a new vehicle, and exactly ``count`` routes for a type with a count."""
        data = self.evaluator.data
        spare = {
            td.index: 1
            if td.count is None
            else td.count
            - sum(1 for r, t in zip(self.routes, self.types, strict=True) if r and t == td.index)
            for td in data.types
        }
        keep = []
        for r, (route, t) in enumerate(zip(self.routes, self.types, strict=True)):
            if route:
                keep.append(r)
            elif spare[t] > 0:
                keep.append(r)
                spare[t] -= 1
        self.routes = [self.routes[r] for r in keep]
        self.types = [self.types[r] for r in keep]
        self.evals = [self.evals[r] for r in keep]
        self.stamps = [self.stamps[r] for r in keep]
        for t, missing in spare.items():
            for _ in range(missing):
                self.routes.append([])
                self.types.append(t)
                self.evals.append(self.evaluator.evaluate(t, []))
                self.stamps.append(next(_clock))
