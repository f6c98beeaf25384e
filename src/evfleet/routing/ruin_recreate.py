"""Perturbation for the search: remove some clients, then insert them again greedily.

Ruin operators: random clients, a cluster of related clients (a client and its nearest
neighbours), or a whole short route (which drives down the number of vehicles). Recreate
inserts each removed client at the position of least penalised cost increase, over every
route for small plans and next to the client's nearest neighbours for large ones.
"""

from __future__ import annotations

import random

from evfleet.routing.plan import Penalties, Plan

SMALL_PLAN = 300


def ruin(plan: Plan, rng: random.Random, neighbours: list[list[int]]) -> list[int]:
    """Removes clients from ``plan`` (in place) and returns them."""
    data = plan.evaluator.data
    pos = plan.client_positions()
    clients = [v for v in pos if data.is_client(v)]
    if not clients:
        return []
    n = len(clients)
    q = rng.randint(min(2, n), max(min(2, n), min(n, 5 + n // 8)))
    choice = rng.random()
    removed: set[int] = set()
    used = [r for r in range(len(plan.routes)) if any(data.is_client(v) for v in plan.routes[r])]
    if choice < 0.2 and len(used) > 1:
        # A whole route, biased towards short ones.
        used.sort(key=lambda r: sum(1 for v in plan.routes[r] if data.is_client(v)))
        r = used[min(int(rng.expovariate(1.0)), len(used) - 1)]
        removed.update(v for v in plan.routes[r] if data.is_client(v))
    elif choice < 0.6:
        seed = rng.choice(clients)
        removed.add(seed)
        for v in neighbours[seed - data.first_client]:
            if len(removed) >= q:
                break
            if v in pos:
                removed.add(v)
    else:
        removed.update(rng.sample(clients, q))
    touched = {pos[v][0] for v in removed}
    for r in touched:
        plan.routes[r] = [v for v in plan.routes[r] if v not in removed]
        if not any(data.is_client(v) for v in plan.routes[r]):
            plan.routes[r] = []
        plan.update(r)
    out = list(removed)
    rng.shuffle(out)
    return out


def recreate(
    plan: Plan,
    clients: list[int],
    penalties: Penalties,
    rng: random.Random,
    neighbours: list[list[int]],
) -> None:
    """Inserts ``clients`` into ``plan`` one by one at their cheapest positions."""
    data = plan.evaluator.data
    evaluator = plan.evaluator
    order = list(clients)
    if rng.random() < 0.5:
        # Hardest first: most demand, then tightest window.
        order.sort(key=lambda v: (-data.demand_kg[v], data.tw_late_s[v] - data.tw_early_s[v]))
    weights = (penalties.time_warp, penalties.load, penalties.energy)
    for u in order:
        plan.ensure_spare_routes()
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
        best: tuple[float, int, int] | None = None
        for r in sorted(candidates):
            route = plan.routes[r]
            positions = sorted(candidates[r])
            base = plan.route_cost(r, penalties)
            costs = evaluator.insertion_costs(plan.types[r], route, u, positions, weights)
            for p, cost in zip(positions, costs, strict=True):
                delta = cost - base
                if best is None or delta < best[0]:
                    best = (delta, r, p)
        assert best is not None
        _, r, p = best
        route = plan.routes[r]
        plan.routes[r] = [*route[:p], u, *route[p:]]
        plan.update(r)
