"""Route minimisation for vehicles-first objectives: SISR's fleet minimisation.

Christiaens & Vanden Berghe (2020, "Slack induction by string removals"), section on
fleet minimisation: take a route away from a feasible plan and put its clients in a pool
of unassigned clients; then repeat ruin and recreate in which a client is only inserted
where its route stays feasible (else it goes back to the pool), and accept the new plan
when it leaves fewer clients unassigned, or unassigned clients that were absent less often
(each client's *absence* count grows every iteration it is left out, so that clients which
are hard to place get priority). When the pool empties the plan is feasible with one
vehicle fewer. Here every recreate is followed by the local search under very high penalty
weights, which keeps routes feasible and makes room (shorter, tighter routes).

A charging stop is inserted where a client fits except for its energy: the client's
cheapest position is tried with the charger on the route that repairs it at least cost.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from evfleet.routing.local_search import LocalSearch
from evfleet.routing.plan import Penalties, Plan
from evfleet.routing.ruin_recreate import SMALL_PLAN, ruin

HUGE = 1e6
"""Factor on the penalty weights that makes violations (all but tolerance-sized ones)
cost more than any change of the objective."""


def _feasible_insert(
    plan: Plan, u: int, weights: tuple[float, float, float], neighbours: list[list[int]]
) -> bool:
    """Inserts ``u`` at its cheapest position that keeps its route feasible (trying a
    charging stop when only energy is short); returns False, changing nothing, when there is
    no such position."""
    data = plan.evaluator.data
    evaluator = plan.evaluator
    total = sum(len(r) for r in plan.routes)
    candidates: dict[int, set[int]] = {}
    if total <= SMALL_PLAN:
        for r, route in enumerate(plan.routes):
            candidates[r] = set(range(len(route) + 1))
    else:
        pos = plan.client_positions()
        for v in neighbours[u - data.first_client]:
            if v in pos:
                r, p = pos[v]
                candidates.setdefault(r, set()).update((p, p + 1))
        for r, route in enumerate(plan.routes):
            if not route:
                candidates.setdefault(r, set()).add(0)
    options: list[tuple[float, int, int]] = []
    for r in sorted(candidates):
        route = plan.routes[r]
        positions = sorted(candidates[r])
        base = plan.route_cost(r, Penalties(*weights))
        costs = evaluator.insertion_costs(plan.types[r], route, u, positions, weights)
        options.extend((c - base, r, p) for p, c in zip(positions, costs, strict=True))
    options.sort()
    chargers = range(data.first_charger, data.num_locations)
    huge = (weights[0], weights[1], weights[1])
    for _, r, p in options[:3]:
        t = plan.types[r]
        route = [*plan.routes[r][:p], u, *plan.routes[r][p:]]
        ev = evaluator.evaluate(t, route)
        if ev.feasible:
            plan.set_route(r, route, ev)
            return True
        if ev.time_warp_s > 1e-6 or ev.excess_load_kg > 1e-9 or not data.types[t].electric:
            continue
        best: tuple[float, int, int] | None = None
        spots = list(range(len(route) + 1))
        for c in chargers:
            for q, cost in zip(
                spots, evaluator.insertion_costs(t, route, c, spots, huge), strict=True
            ):
                if best is None or cost < best[0]:
                    best = (cost, c, q)
        if best is None:
            continue
        _, c, q = best
        fixed = [*route[:q], c, *route[q:]]
        ev = evaluator.evaluate(t, fixed)
        if ev.feasible:
            plan.set_route(r, fixed, ev)
            return True
    return False


def recreate_feasible(
    plan: Plan,
    clients: list[int],
    penalties: Penalties,
    rng: random.Random,
    neighbours: list[list[int]],
    absences: dict[int, int],
) -> list[int]:
    """Inserts ``clients`` where their routes stay feasible, most often absent first;
    returns those left over."""
    data = plan.evaluator.data
    order = list(clients)
    rng.shuffle(order)
    if rng.random() < 0.5:
        order.sort(key=lambda v: -absences.get(v, 0))
    else:
        order.sort(key=lambda v: (-data.demand_kg[v], data.tw_late_s[v] - data.tw_early_s[v]))
    weights = (penalties.time_warp * HUGE, penalties.load * HUGE, penalties.energy)
    left = []
    for u in order:
        plan.ensure_spare_routes()
        if not _feasible_insert(plan, u, weights, neighbours):
            left.append(u)
    return left


def _drop_route(plan: Plan, rng: random.Random) -> list[int]:
    """Empties one route (biased towards few clients) and returns its clients."""
    data = plan.evaluator.data
    used = [r for r in range(len(plan.routes)) if plan.routes[r]]
    used.sort(key=lambda r: sum(1 for v in plan.routes[r] if data.is_client(v)))
    r = used[min(int(rng.expovariate(0.7)), len(used) - 1)]
    removed = [v for v in plan.routes[r] if data.is_client(v)]
    plan.routes[r] = []
    plan.update(r)
    plan.ensure_spare_routes()
    return removed


def eliminate_route(
    plan: Plan,
    penalties: Penalties,
    rng: random.Random,
    neighbours: list[list[int]],
    adjacency: Sequence[Sequence[int]],
    go_on: Callable[[], bool],
) -> Plan | None:
    """Searches for a feasible plan with one route fewer than ``plan`` (a feasible plan
    on an evaluator whose fleet has one vehicle fewer). ``go_on`` is called once per
    iteration and stops the search when it returns False; returns None then."""
    hard = Penalties(penalties.time_warp * HUGE, penalties.load * HUGE, penalties.energy * HUGE)
    current = plan.copy()
    absences: dict[int, int] = {}
    pool = _drop_route(current, rng)
    pool = recreate_feasible(current, pool, penalties, rng, neighbours, absences)
    search = LocalSearch(current, rng)
    while pool or not current.feasible:
        if not go_on():
            return None
        candidate = current.copy()
        removed = ruin(candidate, rng, neighbours, adjacency)
        left = recreate_feasible(candidate, pool + removed, penalties, rng, neighbours, absences)
        search.run(candidate, hard)
        for v in left:
            absences[v] = absences.get(v, 0) + 1
        if not candidate.feasible:
            continue
        if len(left) < len(pool) or sum(absences.get(v, 0) for v in left) < sum(
            absences.get(v, 0) for v in pool
        ):
            current, pool = candidate, left
    return current
