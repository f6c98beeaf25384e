"""The engine's entry point: an iterated local search with ruin-and-recreate.

1. Refuse clients no vehicle can serve (:mod:`evfleet.routing.reachability`).
2. Build a first plan by nearest neighbour (:mod:`evfleet.routing.construct`).
3. Repeat until the time or iteration budget is spent: remove some clients, reinsert
   them greedily, improve with local search (:mod:`evfleet.routing.local_search`), and
   accept the result if it is not much worse than the current plan (a threshold that
   shrinks to zero over the budget). Penalty weights for lateness, overload and energy
   deficit adapt to how often plans break each constraint.

With a seed and ``max_iterations`` the result is exactly reproducible; with only a time
limit the sequence of plans is the same, but a slower machine may stop earlier in it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import overload

import numpy as np

from evfleet.errors import UnservableClientsError
from evfleet.problem import Objective, Problem
from evfleet.routing.compilation import compile_kernels
from evfleet.routing.construct import nearest_neighbour
from evfleet.routing.data import BLOCK, LARGE, EngineData, build_engine_data
from evfleet.routing.evaluate import Evaluator
from evfleet.routing.fleet import eliminate_route
from evfleet.routing.local_search import LocalSearch
from evfleet.routing.plan import Penalties, Plan
from evfleet.routing.reachability import unservable_clients
from evfleet.routing.ruin_recreate import recreate, ruin
from evfleet.solution import Route, Solution, Visit


@dataclass(frozen=True)
class Progress:
    """A snapshot of the search for progress displays.

    Reported once per iteration, and once more (at iteration 0) as soon as the first plan
    is built when that plan is already feasible, before the first local search: the time
    to a first feasible plan on large instances."""

    elapsed_s: float
    iteration: int
    feasible: bool
    vehicles: int
    objective: float
    """Best feasible objective so far (or the current one while none is feasible)."""


ProgressCallback = Callable[[Progress], None]


def _arc_means(data: EngineData) -> tuple[float | None, float, list[float]]:
    """Mean distance, duration and electric types' energy over the finite arcs between
    different locations (None for the distance when there are none; then 1.0 each)."""
    dist = data.dist_m
    dur = data.dur_s
    electric = [td.energy_wh for td in data.types if td.electric]
    n = len(dist)
    if n <= LARGE:
        mask = ~np.eye(n, dtype=bool) & np.isfinite(dist)
        if not mask.any():
            return None, 1.0, [1.0 for _ in electric]
        return (
            float(dist[mask].mean()),
            float(dur[mask].mean()),
            [float(e[mask].mean()) for e in electric],
        )
    # Row blocks: the masked copies of three n x n matrices would need gigabytes.
    count = 0
    sums = np.zeros(2 + len(electric))
    for lo in range(0, n, BLOCK):
        hi = min(n, lo + BLOCK)
        mask = np.isfinite(dist[lo:hi])
        mask[np.arange(hi - lo), np.arange(lo, hi)] = False
        count += int(mask.sum())
        for k, matrix in enumerate((dist, dur, *electric)):
            sums[k] += float(matrix[lo:hi][mask].sum())
    if count == 0:
        return None, 1.0, [1.0 for _ in electric]
    means = sums / count
    return float(means[0]), float(means[1]), [float(m) for m in means[2:]]


def _initial_penalties(data: EngineData) -> Penalties:
    mean_dist_or_none, mean_dur, energies = _arc_means(data)
    mean_dist = 1.0 if mean_dist_or_none is None else mean_dist_or_none
    # Cost of one average arc in objective units.
    from evfleet.problem import Objective

    arc_cost = mean_dur if data.objective is Objective.DRIVING_AND_CHARGING_TIME else mean_dist
    demands = data.demand_kg[data.first_client : data.first_charger]
    mean_demand = float(demands[demands > 0].mean()) if (demands > 0).any() else 1.0
    mean_energy = max(energies) if energies and max(energies) > 0 else 1.0
    return Penalties(
        time_warp=10.0 * arc_cost / max(mean_dur, 1e-9),
        load=10.0 * arc_cost / mean_demand,
        energy=10.0 * arc_cost / mean_energy,
    )


def _adapt(penalties: Penalties, plan: Plan) -> None:
    used = [ev for r, ev in zip(plan.routes, plan.evals, strict=True) if r]
    for name, broken in (
        ("time_warp", any(ev.time_warp_s > 1e-6 for ev in used)),
        ("load", any(ev.excess_load_kg > 1e-9 for ev in used)),
        ("energy", any(ev.energy_deficit_wh > 1e-9 for ev in used)),
    ):
        w = getattr(penalties, name)
        setattr(penalties, name, min(w * 1.5, 1e12) if broken else max(w * 0.9, 1e-6))


def to_solution(plan: Plan, problem: Problem, stats: dict[str, float]) -> Solution:
    """Converts the engine's plan into the public :class:`Solution`."""
    data = plan.evaluator.data
    routes = []
    for t, route, ev in zip(plan.types, plan.routes, plan.evals, strict=True):
        if not route:
            continue
        charges = iter(ev.charges_wh)
        visits = tuple(Visit(v, next(charges)) if data.is_charger(v) else Visit(v) for v in route)
        routes.append(Route(t, visits))
    return Solution(tuple(routes), problem.name, stats)


ROUTE_MINIMISATION_SHARE = 0.5
"""Share of the budget (time or iterations) that route minimisation may take."""


def _fleet_limited(data: EngineData, count: int) -> Evaluator:
    """An evaluator for the same problem with the (single) vehicle type limited to
    ``count`` vehicles: plans keep no spare route, so no move or insertion opens one."""
    types = tuple(replace(td, count=count) for td in data.types)
    return Evaluator(replace(data, types=types))


def _rebase(plan: Plan, evaluator: Evaluator) -> Plan:
    """``plan`` on another evaluator of the same problem (evaluations carry over)."""
    out = Plan(
        evaluator,
        [list(r) for r in plan.routes],
        list(plan.types),
        list(plan.evals),
        list(plan.stamps),
    )
    out.ensure_spare_routes()
    return out


class _Adjacency(Sequence[list[int]]):
    """Every client's other clients, nearest first (for string removal), one row at a time
    when asked for: the full table is an n x n matrix (about a gigabyte as Python lists for
    5,000 clients), while a ruin reads one row. Recent rows are kept."""

    KEEP = 1024

    def __init__(self, data: EngineData) -> None:
        self.dist = data.dist_m
        self.clients = np.arange(data.first_client, data.first_charger)
        self.cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return int(self.clients.size)

    def _row(self, k: int) -> np.ndarray:
        row = self.cache.get(k)
        if row is None:
            if self.clients.size < 2:
                row = np.zeros(0, dtype=np.int64)
            else:
                dist = self.dist[self.clients[k], self.clients].copy()
                dist[k] = np.inf
                row = self.clients[np.argsort(dist, kind="stable")[:-1]]
            if len(self.cache) >= self.KEEP:
                self.cache.pop(next(iter(self.cache)))
            self.cache[k] = row
        return row

    @overload
    def __getitem__(self, k: int) -> list[int]: ...

    @overload
    def __getitem__(self, k: slice) -> list[list[int]]: ...

    def __getitem__(self, k: int | slice) -> list[int] | list[list[int]]:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        if not -len(self) <= k < len(self):
            raise IndexError(k)
        return self._row(k % len(self)).tolist()  # type: ignore[no-any-return]


def _adjacency(data: EngineData) -> _Adjacency:
    """Every client's other clients, nearest first (for string removal)."""
    return _Adjacency(data)


def _vehicle_lower_bound(data: EngineData) -> int:
    demand = float(data.demand_kg[data.first_client : data.first_charger].sum())
    capacity = max(td.capacity_kg for td in data.types)
    if not np.isfinite(capacity) or capacity <= 0:
        return 1
    return max(1, int(np.ceil(demand / capacity - 1e-9)))


def solve(
    problem: Problem,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    max_iterations: int | None = None,
    progress: ProgressCallback | None = None,
) -> Solution:
    """Plans routes for ``problem`` and returns the best feasible plan found.

    Raises :class:`~evfleet.errors.UnservableClientsError` before searching when some
    client cannot be served by any vehicle. If no feasible plan is found in the budget, the
    least infeasible one is returned (``stats["feasible"] == 0``).
    """
    started = time.monotonic()
    deadline = started + time_limit_s
    compile_kernels()  # a first run after an install compiles here, on two cores
    data = build_engine_data(problem)
    reasons = unservable_clients(data)
    if reasons:
        raise UnservableClientsError(reasons)
    rng = random.Random(seed)
    evaluator = Evaluator(data)
    penalties = _initial_penalties(data)
    plan, left = nearest_neighbour(evaluator)
    neighbours = [list(map(int, row)) for row in data.neighbours]
    adjacency = _adjacency(data)
    recreate(plan, left, penalties, rng, neighbours)
    # The construction is usually feasible already: keep it, so that a search cut short
    # by its time limit still returns a feasible plan.
    first = plan.copy() if plan.feasible else None
    if progress is not None and first is not None:
        # The first feasible plan exists now, before any local search.
        progress(
            Progress(
                elapsed_s=time.monotonic() - started,
                iteration=0,
                feasible=True,
                vehicles=first.num_vehicles,
                objective=first.objective(),
            )
        )
    search = LocalSearch(plan, rng)
    search.run(plan, penalties, deadline)
    for _ in range(20):
        # Repair: raise the penalties of whatever is still broken until the plan is feasible.
        if plan.feasible or time.monotonic() > deadline:
            break
        for _ in range(3):
            _adapt(penalties, plan)
        search.last_tested.clear()
        search.charger_tested.clear()
        search.run(plan, penalties, deadline)
    best = plan.copy() if plan.feasible else first
    if first is not None and best is not None and first.key() < best.key():
        best = first
    current = plan
    iteration = 0

    def report() -> None:
        if progress is None:
            return
        shown = best if best is not None else current
        progress(
            Progress(
                elapsed_s=time.monotonic() - started,
                iteration=iteration,
                feasible=best is not None,
                vehicles=shown.num_vehicles,
                objective=shown.objective(),
            )
        )

    def fraction() -> float:
        if max_iterations is not None:
            return iteration / max(max_iterations, 1)
        return (time.monotonic() - started) / max(time_limit_s, 1e-9)

    def running() -> bool:
        return time.monotonic() < deadline and (
            max_iterations is None or iteration < max_iterations
        )

    def step(current: Plan, search: LocalSearch, adapt: bool = True) -> tuple[Plan, Plan]:
        """One ruin-and-recreate iteration; returns (next current plan, candidate)."""
        candidate = current.copy()
        removed = ruin(candidate, rng, neighbours, adjacency)
        recreate(candidate, removed, penalties, rng, neighbours)
        search.run(candidate, penalties, deadline)
        if adapt:
            _adapt(penalties, candidate)
        threshold = 0.01 * max(0.0, 1.0 - fraction()) * abs(current.objective())
        if candidate.cost(penalties) < current.cost(penalties) + threshold:
            return candidate, candidate
        return current, candidate

    report()
    fleet_search = (
        best is not None
        and data.objective is Objective.VEHICLES_THEN_DISTANCE
        and len(data.types) == 1
        and data.types[0].count is None
    )
    if fleet_search and best is not None:
        # Route minimisation: take a vehicle away from the best plan, spread its clients
        # over the others, and search with that fleet (no spare route) until the plan is
        # feasible again; repeat while it succeeds within its share of the budget.
        lower = _vehicle_lower_bound(data)

        def go_on() -> bool:
            nonlocal iteration
            if fraction() >= ROUTE_MINIMISATION_SHARE or not running():
                return False
            iteration += 1
            report()
            return True

        while best.num_vehicles > lower and go_on():
            limited = _fleet_limited(data, best.num_vehicles - 1)
            fewer = eliminate_route(
                _rebase(best, limited), penalties, rng, neighbours, adjacency, go_on
            )
            if fewer is None:
                break
            best = fewer.copy()
        # Distance minimisation with the best fleet (no move opens a further vehicle).
        limited = _fleet_limited(data, best.num_vehicles)
        current = _rebase(best, limited)
        search = LocalSearch(current, rng)
    search_started = time.monotonic() - started
    while running():
        iteration += 1
        current, candidate = step(current, search)
        if candidate.feasible and (best is None or candidate.key() < best.key()):
            best = candidate.copy()
        report()
    final = best if best is not None else current
    stats = {
        "iterations": float(iteration),
        "elapsed_s": time.monotonic() - started,
        "seed": float(seed),
        "feasible": 1.0 if best is not None else 0.0,
        "objective": final.objective(),
        "search_start_s": search_started,
    }
    return to_solution(final, problem, stats)
