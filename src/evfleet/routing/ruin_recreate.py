"""Perturbation for the search: remove some clients, then insert them again greedily.

Ruin operators: random clients, a cluster of related clients (a client and its nearest
neighbours), or a whole short route (which drives down the number of vehicles). Recreate
inserts each removed client at the position of least penalised cost increase, over every
route for small plans and next to the client's nearest neighbours for large ones.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from evfleet.routing.plan import Penalties, Plan

SMALL_PLAN = 300
MAX_RUIN = 60
"""Most clients a random or cluster ruin removes (it removes up to ``5 + n / 8`` of the
``n`` routed clients, so the cap only matters above 440 clients): on large plans a
bigger ruin costs more per iteration (recreate and local search grow with it) without
searching better, as SISR's constant average of about ten removed clients shows."""
SISR_SHARE = 0.5
"""Share of ruins that are string removals (when an adjacency is given)."""
SISR_MEAN_REMOVED = 10.0
"""SISR's average number of removed clients (c-bar)."""
SISR_MAX_STRING = 10.0
"""SISR's longest string (L-max)."""


def _string_ruin(
    plan: Plan,
    rng: random.Random,
    adjacency: Sequence[Sequence[int]],
    pos: dict[int, tuple[int, int]],
) -> list[int]:
    """SISR's ruin (Christiaens & Vanden Berghe 2020): remove a string of consecutive
    clients from each of a few routes near a random seed client, the routes met in order
    of their clients' distance from the seed; a string sometimes keeps a middle stretch
    (the "split string"). Charging stops stay (local search drops the useless ones)."""
    data = plan.evaluator.data
    routes = plan.routes
    clients_of: dict[int, list[int]] = {}
    for r, route in enumerate(routes):
        cl = [v for v in route if data.is_client(v)]
        if cl:
            clients_of[r] = cl
    if not clients_of:
        return []
    avg = sum(len(c) for c in clients_of.values()) / len(clients_of)
    ls_max = min(SISR_MAX_STRING, avg)
    ks_max = 4.0 * SISR_MEAN_REMOVED / (1.0 + ls_max) - 1.0
    ks = int(rng.uniform(1.0, ks_max + 1.0))
    seed = rng.choice([v for cl in clients_of.values() for v in cl])
    removed: list[int] = []
    ruined: set[int] = set()
    for c in [seed, *adjacency[seed - data.first_client]]:
        if len(ruined) >= ks:
            break
        if c not in pos:
            continue
        r = pos[c][0]
        if r in ruined or r not in clients_of:
            continue
        cl = clients_of[r]
        lmax = min(float(len(cl)), ls_max)
        length = int(rng.uniform(1.0, lmax + 1.0))
        length = max(1, min(length, len(cl)))
        i = cl.index(c)
        if rng.random() < 0.5 or length >= len(cl):
            # A string of ``length`` clients containing c.
            start = rng.randint(max(0, i - length + 1), min(i, len(cl) - length))
            string = cl[start : start + length]
        else:
            # Split string: ``length + m`` consecutive clients, the middle ``m`` kept.
            m = 1
            while length + m < len(cl) and rng.random() > 0.5:
                m += 1
            span = length + m
            start = rng.randint(max(0, i - span + 1), min(i, len(cl) - span))
            keep_at = rng.randint(0, length)
            stretch = cl[start : start + span]
            string = stretch[:keep_at] + stretch[keep_at + m :]
        ruined.add(r)
        removed.extend(string)
    gone = set(removed)
    for r in ruined:
        plan.routes[r] = [v for v in routes[r] if v not in gone]
        if not any(data.is_client(v) for v in plan.routes[r]):
            plan.routes[r] = []
        plan.update(r)
    return removed


def ruin(
    plan: Plan,
    rng: random.Random,
    neighbours: list[list[int]],
    adjacency: Sequence[Sequence[int]] | None = None,
) -> list[int]:
    """Removes clients from ``plan`` (in place) and returns them.

    With ``adjacency`` (every client's other clients, nearest first), some of the time the
    removal is SISR's string removal (:func:`_string_ruin`)."""
    data = plan.evaluator.data
    pos = plan.client_positions()
    clients = [v for v in pos if data.is_client(v)]
    if not clients:
        return []
    n = len(clients)
    q = rng.randint(min(2, n), max(min(2, n), min(n, 5 + n // 8, MAX_RUIN)))
    choice = rng.random()
    if adjacency is not None and choice < SISR_SHARE:
        return _string_ruin(plan, rng, adjacency, pos)
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
    rng.shuffle(order)
    how = rng.random()
    if how < 0.4:
        # Hardest first: most demand, then tightest window.
        order.sort(key=lambda v: (-data.demand_kg[v], data.tw_late_s[v] - data.tw_early_s[v]))
    elif how < 0.6:
        # Farthest from the depot first (SISR's "far").
        depot = data.types[0].depot
        order.sort(key=lambda v: -data.dist_m[depot, v])
    elif how < 0.7:
        # Earliest window first.
        order.sort(key=lambda v: data.tw_early_s[v])
    weights = (penalties.time_warp, penalties.load, penalties.energy)
    # Where each routed location is, kept up to date as clients go in (recomputing it for
    # every client made recreate quadratic in the plan size).
    pos: dict[int, tuple[int, int]] | None = None
    layout: list[int] = []
    for u in order:
        plan.ensure_spare_routes()
        total = sum(len(r) for r in plan.routes)
        candidates: dict[int, set[int]] = {}
        if total <= SMALL_PLAN:
            for r, route in enumerate(plan.routes):
                candidates[r] = set(range(len(route) + 1))
        else:
            now = [id(route) for route in plan.routes]
            if pos is None or now != layout:
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
        if pos is not None:
            for q, v in enumerate(plan.routes[r][p:], start=p):
                pos[v] = (r, q)
            layout = [id(route) for route in plan.routes]
