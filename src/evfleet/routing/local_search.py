"""Local search on a plan: client moves in a granular neighbourhood, and charging-stop moves.

Client moves (for client ``u`` and each of its nearest clients ``v``): relocate ``u`` (alone
or with the one or two stops after it) next to ``v``, swap ``u`` and ``v``, exchange route
tails after ``u`` and ``v`` (2-opt*), and reverse the stretch between them (2-opt). Charging
moves: drop a charging stop, replace it by another charger, and insert a charger on an arc
of a route that runs out of energy. Moves are first-improvement on the penalised cost.
"""

from __future__ import annotations

import itertools
import random
import time

import numpy as np

from evfleet.problem import Objective
from evfleet.routing.plan import Penalties, Plan, _clock

EPS = 1e-9


class LocalSearch:
    """Improves a :class:`Plan` in place until no move helps or time runs out."""

    def __init__(
        self, plan_template: Plan, rng: random.Random, *, chargers_per_arc: int = 4
    ) -> None:
        ev = plan_template.evaluator
        self.evaluator = ev
        self.data = ev.data
        self.rng = rng
        data = self.data
        self.neighbours = [list(map(int, row)) for row in data.neighbours]
        chargers = np.arange(data.first_charger, data.num_locations)
        self.near_chargers: list[list[int]] = []
        if chargers.size:
            k = min(chargers_per_arc, chargers.size)
            order = np.argsort(data.dist_m[:, chargers], axis=1, kind="stable")[:, :k]
            self.near_chargers = [list(map(int, chargers[row])) for row in order]
        self.has_chargers = chargers.size > 0
        self.dist = ev.dist
        self.depots = [td.depot for td in data.types]
        self.last_tested: dict[int, int] = {}
        self.charger_tested: set[int] = set()
        self.distance_bound = data.objective in (
            Objective.DISTANCE,
            Objective.VEHICLES_THEN_DISTANCE,
        )

    def run(self, plan: Plan, penalties: Penalties, deadline: float | None = None) -> None:
        """Applies improving moves until none is left (or ``deadline``, a monotonic time).

        A client is only tested against routes that changed since it was last tested,
        and a route's charging stops only when the route changed: the plans handed in are
        derived from local optima, so the unchanged pairs have nothing left to give.
        """
        improved = True
        data = self.data
        clients = list(range(data.first_client, data.first_charger))
        while improved:
            if deadline is not None and time.monotonic() > deadline:
                return
            improved = False
            plan.ensure_spare_routes()
            pos = plan.client_positions()
            self.rng.shuffle(clients)
            for u in clients:
                if u not in pos:
                    continue
                tested_at = next(_clock)
                if self._client_moves(plan, penalties, u, pos, self.last_tested.get(u, 0)):
                    improved = True
                    pos = plan.client_positions()
                else:
                    self.last_tested[u] = tested_at
            if self.has_chargers:
                for r in range(len(plan.routes)):
                    if not plan.routes[r] or plan.stamps[r] in self.charger_tested:
                        continue
                    if self._charger_moves(plan, penalties, r):
                        improved = True
                    else:
                        self.charger_tested.add(plan.stamps[r])

    def _try(
        self,
        plan: Plan,
        penalties: Penalties,
        changes: list[tuple[int, list[int]]],
    ) -> bool:
        """Applies ``changes`` (route index, new route) if they lower the penalised cost."""
        if self.distance_bound and all(plan.evals[r].feasible for r, _ in changes):
            # Penalties are never negative, so when the routes are feasible now, a move
            # that does not shorten them cannot help: skip the full evaluation.
            dist = self.dist
            old_d = 0.0
            new_d = 0.0
            route_cost = self.data.route_cost
            for r, route in changes:
                old_d += plan.evals[r].distance_m + (route_cost if plan.routes[r] else 0.0)
                if route:
                    depot = self.depots[plan.types[r]]
                    new_d += dist[depot][route[0]] + dist[route[-1]][depot] + route_cost
                    new_d += sum(dist[a][b] for a, b in itertools.pairwise(route))
            if new_d >= old_d - 1e-9 * max(1.0, old_d):
                return False
        old = 0.0
        new = 0.0
        evals = []
        for r, route in changes:
            old += plan.route_cost(r, penalties)
            ev = self.evaluator.evaluate(plan.types[r], route)
            evals.append(ev)
            new += plan.cost_of(plan.types[r], route, ev, penalties)
        if new < old - 1e-9 * max(1.0, abs(old)):
            for (r, route), ev in zip(changes, evals, strict=True):
                plan.set_route(r, route, ev)
            return True
        return False

    def _client_moves(
        self,
        plan: Plan,
        penalties: Penalties,
        u: int,
        pos: dict[int, tuple[int, int]],
        since: int,
    ) -> bool:
        ru, pu = pos[u]
        route_u = plan.routes[ru]
        stamps = plan.stamps
        for v in self.neighbours[u - self.data.first_client]:
            if v not in pos:
                continue
            rv, pv = pos[v]
            if stamps[ru] < since and stamps[rv] < since:
                continue
            route_v = plan.routes[rv]
            if ru != rv:
                # Relocate u (and the next one or two stops) after or before v.
                for seg in (1, 2, 3):
                    if pu + seg > len(route_u):
                        break
                    segment = route_u[pu : pu + seg]
                    rest_u = route_u[:pu] + route_u[pu + seg :]
                    for at in (pv + 1, pv):
                        new_v = route_v[:at] + segment + route_v[at:]
                        if self._try(plan, penalties, [(ru, rest_u), (rv, new_v)]):
                            return True
                # Swap u and v.
                new_u = route_u[:pu] + [v] + route_u[pu + 1 :]
                new_v = route_v[:pv] + [u] + route_v[pv + 1 :]
                if self._try(plan, penalties, [(ru, new_u), (rv, new_v)]):
                    return True
                # 2-opt*: exchange the tails after u and after v, and before u and v.
                a = route_u[: pu + 1] + route_v[pv + 1 :]
                b = route_v[: pv + 1] + route_u[pu + 1 :]
                if self._try(plan, penalties, [(ru, a), (rv, b)]):
                    return True
                a = route_u[:pu] + route_v[pv:]
                b = route_v[:pv] + route_u[pu:]
                if self._try(plan, penalties, [(ru, a), (rv, b)]):
                    return True
            else:
                if pu == pv:
                    continue
                for seg in (1, 2, 3):
                    if pu + seg > len(route_u):
                        break
                    segment = route_u[pu : pu + seg]
                    rest = route_u[:pu] + route_u[pu + seg :]
                    if v in segment:
                        break
                    q = rest.index(v)
                    for at in (q + 1, q):
                        new = rest[:at] + segment + rest[at:]
                        if new != route_u and self._try(plan, penalties, [(ru, new)]):
                            return True
                i, j = min(pu, pv), max(pu, pv)
                new = route_u[:i] + route_u[i : j + 1][::-1] + route_u[j + 1 :]
                if self._try(plan, penalties, [(ru, new)]):
                    return True
                new = route_u.copy()
                new[pu], new[pv] = new[pv], new[pu]
                if self._try(plan, penalties, [(ru, new)]):
                    return True
        # Move u to an empty route (a vehicle not used yet).
        if len(route_u) > 1 and stamps[ru] >= since:
            for r, route in enumerate(plan.routes):
                if not route:
                    rest_u = route_u[:pu] + route_u[pu + 1 :]
                    if self._try(plan, penalties, [(ru, rest_u), (r, [u])]):
                        return True
        return False

    def _charger_moves(self, plan: Plan, penalties: Penalties, r: int) -> bool:
        data = self.data
        route = plan.routes[r]
        if not data.types[plan.types[r]].electric:
            if any(data.is_charger(v) for v in route):
                return self._try(
                    plan, penalties, [(r, [v for v in route if not data.is_charger(v)])]
                )
            return False
        depot = data.types[plan.types[r]].depot
        for p, v in enumerate(route):
            if data.is_charger(v):
                if self._try(plan, penalties, [(r, route[:p] + route[p + 1 :])]):
                    return True
                prev = route[p - 1] if p else depot
                nxt = route[p + 1] if p + 1 < len(route) else depot
                for c in {*self.near_chargers[prev], *self.near_chargers[nxt]}:
                    if c != v and self._try(
                        plan, penalties, [(r, route[:p] + [c] + route[p + 1 :])]
                    ):
                        return True
        if plan.evals[r].energy_deficit_wh > EPS:
            return self._insert_best_charger(plan, penalties, r)
        return False

    def _insert_best_charger(self, plan: Plan, penalties: Penalties, r: int) -> bool:
        data = self.data
        route = plan.routes[r]
        depot = data.types[plan.types[r]].depot
        path = [depot, *route, depot]
        best: tuple[float, list[int]] | None = None
        base = plan.route_cost(r, penalties)
        for p in range(len(path) - 1):
            a, b = path[p], path[p + 1]
            for c in {*self.near_chargers[a], *self.near_chargers[b]}:
                if c in (a, b):
                    continue
                new = route[:p] + [c] + route[p:]
                ev = self.evaluator.evaluate(plan.types[r], new)
                cost = plan.cost_of(plan.types[r], new, ev, penalties)
                if cost < base - 1e-9 and (best is None or cost < best[0]):
                    best = (cost, new)
        if best is not None:
            return self._try(plan, penalties, [(r, best[1])])
        return False
