"""Local search on a plan: client moves in a granular neighbourhood, and charging-stop moves.

Client moves (for client ``u`` and each of its nearest clients ``v``): relocate ``u`` (alone
or with the one or two stops after it) next to ``v``, swap ``u`` and ``v``, exchange route
tails after ``u`` and ``v`` (2-opt*), and reverse the stretch between them (2-opt). Charging
moves: drop a charging stop, replace it by another charger, move it to another arc of its
route (with the charger nearest that arc), and insert a charger on an arc of a route that
runs out of energy. Moves are first-improvement on the penalised cost, in
a random order of the clients, with two exceptions for routes short of energy: their
charging stops are repaired before any client move (client moves would "repair" them by
moving clients away), and there moving a stop is only taken when it beats the best
charger insertion.

The search runs in compiled code (:func:`evfleet.routing.kernels.local_search_pass`) on an
array copy of the plan: :class:`LocalSearch` converts the :class:`Plan` at the boundary.
Problems with a vehicle type that has a Python ``energy_model`` hook, which compiled code
cannot call, are searched by :class:`PythonLocalSearch`: the same moves in Python, routes
evaluated through :meth:`Evaluator.evaluate <evfleet.routing.evaluate.Evaluator.evaluate>`.
"""

from __future__ import annotations

import itertools
import random
import time

import numpy as np

from evfleet.problem import Objective
from evfleet.routing import kernels
from evfleet.routing.plan import Penalties, Plan, _clock

EPS = 1e-9

ARC_BOUNDED = (
    Objective.DISTANCE,
    Objective.VEHICLES_THEN_DISTANCE,
    Objective.DRIVING_AND_CHARGING_TIME,
)
"""Objectives bounded from below by a sum over the route's arcs (distance, or driving
time: charging time is never negative), which lets the search refuse moves before
simulating them (:func:`evfleet.routing.kernels.bound_arcs`)."""


class LastTested:
    """When each client's moves last failed (a stamp-clock value per location; 0: never)."""

    def __init__(self, num_locations: int) -> None:
        self.array = np.zeros(num_locations, dtype=np.int64)

    def __getitem__(self, loc: int) -> int:
        return int(self.array[loc])

    def __setitem__(self, loc: int, value: int) -> None:
        self.array[loc] = value

    def clear(self) -> None:
        self.array[:] = 0


def _near_chargers(plan_template: Plan, per_arc: int) -> np.ndarray:
    """The ``per_arc`` chargers nearest to each location (rows), as locations."""
    data = plan_template.evaluator.data
    chargers = np.arange(data.first_charger, data.num_locations)
    if not chargers.size:
        return np.zeros((data.num_locations, 0), dtype=np.int64)
    k = min(per_arc, chargers.size)
    order = np.argsort(data.dist_m[:, chargers], axis=1, kind="stable")[:, :k]
    return np.ascontiguousarray(chargers[order], dtype=np.int64)


class LocalSearch:
    """Improves a :class:`Plan` in place until no move helps or time runs out."""

    concatenation = kernels.SEGMENTS_ALL
    """Which routes' moves are judged from route segments before simulating
    (``kernels.SEGMENTS_OFF``, ``SEGMENTS_NO_CHARGING`` or ``SEGMENTS_ALL``; for tests and
    benchmarks: the search takes the same steps either way)."""

    charging_min_stops = 16
    """Under ``SEGMENTS_ALL``, routes with charging stops are judged from segments only
    with at least this many stops: shorter ones are simulated about as fast as they are
    judged (``benchmarks/segments.py --min-stops``)."""

    def __init__(
        self, plan_template: Plan, rng: random.Random, *, chargers_per_arc: int = 4
    ) -> None:
        ev = plan_template.evaluator
        self.evaluator = ev
        self.data = data = ev.data
        self.rng = rng
        self.kernel_data = ev.kernel_data
        self.neighbours = np.ascontiguousarray(data.neighbours, dtype=np.int64)
        self.near_chargers = _near_chargers(plan_template, chargers_per_arc)
        self.has_chargers = data.num_chargers > 0
        self.arc_bound = data.objective in ARC_BOUNDED
        self.last_tested = LastTested(data.num_locations)
        self.charger_tested: set[int] = set()
        self._clients = np.arange(data.first_client, data.first_charger, dtype=np.int64)
        self._state: kernels.SearchState | None = None
        self._python: PythonLocalSearch | None = None
        if any(td.load_dependent for td in data.types):
            self._python = PythonLocalSearch(
                plan_template,
                rng,
                chargers_per_arc=chargers_per_arc,
                last_tested=self.last_tested,
                charger_tested=self.charger_tested,
            )

    def run(self, plan: Plan, penalties: Penalties, deadline: float | None = None) -> None:
        """Applies improving moves until none is left (or ``deadline``, a monotonic time).

        A client is only tested against routes that changed since it was last tested,
        and a route's charging stops only when the route changed: the plans handed in are
        derived from local optima, so the unchanged pairs have nothing left to give.
        The deadline is checked between passes over all clients.
        """
        if self._python is not None:
            self._python.run(plan, penalties, deadline)
            return
        st = self._load(plan, penalties)
        kernels.seed(self.rng.getrandbits(32))
        while deadline is None or time.monotonic() <= deadline:
            status = kernels.local_search_pass(
                self.kernel_data,
                st,
                self.neighbours,
                self.near_chargers,
                self.arc_bound,
                self.has_chargers,
            )
            if status < 0:
                st = self._resize(st, 2 * st.routes.shape[0], st.routes.shape[1])
                continue
            tested = int(st.counters[kernels.NUM_TESTED])
            self.charger_tested.update(st.tested[:tested].tolist())
            if status == 0:
                break
        self._store(plan, st)

    # -- conversion between Plan and arrays -----------------------------------------------

    def state_arrays(self, rows: int, width: int) -> dict[str, np.ndarray]:
        """Fresh arrays of a :class:`~evfleet.routing.kernels.SearchState` with ``rows``
        routes of up to ``width`` stops."""
        n = self.data.num_locations
        return {
            "routes": np.full((rows, width), -1, dtype=np.int64),
            "lens": np.zeros(rows, dtype=np.int64),
            "types": np.zeros(rows, dtype=np.int64),
            "stamps": np.zeros(rows, dtype=np.int64),
            "evals": np.zeros((rows, kernels.NUM_FIELDS)),
            "costs": np.zeros(rows),
            "charger_ok": np.zeros(rows, dtype=np.int64),
            "pos_route": np.full(n, -1, dtype=np.int64),
            "pos_index": np.zeros(n, dtype=np.int64),
            "last_tested": self.last_tested.array,
            "clients": self._clients,
            "counters": np.zeros(kernels.NUM_COUNTERS, dtype=np.int64),
            "tested": np.zeros(rows, dtype=np.int64),
            "penalties": np.zeros(3),
            "buf_a": np.zeros(width, dtype=np.int64),
            "buf_b": np.zeros(width, dtype=np.int64),
            "energies": np.zeros(width + 1),
            "charges": np.zeros(width),
            "out_a": np.zeros(kernels.NUM_FIELDS),
            "out_b": np.zeros(kernels.NUM_FIELDS),
            "fwd": np.zeros((n, kernels.NUM_SEG)),
            "bwd": np.zeros((n, kernels.NUM_SEG)),
            "seg_stamps": np.full(rows, -1, dtype=np.int64),
            "chargers": np.zeros(rows, dtype=np.int64),
        }

    def _resize(
        self, old: kernels.SearchState | None, rows: int, width: int
    ) -> kernels.SearchState:
        """A state with ``rows`` routes of up to ``width`` stops, keeping ``old``'s rows."""
        st = kernels.make_search_state(**self.state_arrays(rows, width))
        if old is not None:
            used = int(old.counters[kernels.NUM_ROUTES])
            w = min(width, old.routes.shape[1])
            st.routes[:used, :w] = old.routes[:used, :w]
            for name in ("lens", "types", "stamps", "evals", "costs", "charger_ok"):
                getattr(st, name)[:used] = getattr(old, name)[:used]
            st.counters[:] = old.counters
            st.penalties[:] = old.penalties
        self._state = st
        return st

    def _load(self, plan: Plan, penalties: Penalties) -> kernels.SearchState:
        data = self.data
        nr = len(plan.routes)
        longest = max((len(r) for r in plan.routes), default=0)
        # Room for every client and a charging stop beside each; longer routes are never
        # built (a move that would need more room is skipped).
        width = max(2 * data.num_clients + 2, longest + 1)
        rows = nr + len(data.types) + 1
        st = self._state
        if st is None or st.routes.shape[0] < rows or st.routes.shape[1] < width:
            old_rows = 0 if st is None else st.routes.shape[0]
            st = self._resize(None, max(rows, old_rows), width)
        st.routes[:nr] = -1
        for r, route in enumerate(plan.routes):
            st.routes[r, : len(route)] = route
        st.lens[:nr] = [len(r) for r in plan.routes]
        st.types[:nr] = plan.types
        st.stamps[:nr] = plan.stamps
        st.evals[:nr] = [
            (
                ev.distance_m,
                ev.driving_s,
                ev.charging_s,
                ev.duration_s,
                ev.time_warp_s,
                ev.excess_load_kg,
                ev.energy_deficit_wh,
                ev.energy_cost,
                ev.energy_used_wh,
            )
            for ev in plan.evals
        ] or np.zeros((0, kernels.NUM_FIELDS))
        tested = self.charger_tested
        st.charger_ok[:nr] = [1 if s in tested else 0 for s in plan.stamps]
        st.counters[kernels.CLOCK] = _clock.value
        st.counters[kernels.NUM_ROUTES] = nr
        st.counters[kernels.NUM_TESTED] = 0
        st.counters[kernels.CONCAT] = int(self.concatenation)
        st.counters[kernels.CHARGING_MIN_STOPS] = int(self.charging_min_stops)
        # Segments are kept per client: another plan's may be there.
        st.seg_stamps[:] = -1
        st.penalties[:] = (penalties.time_warp, penalties.load, penalties.energy)
        kernels.refresh_costs(self.kernel_data, st)
        return st

    def _store(self, plan: Plan, st: kernels.SearchState) -> None:
        nr = int(st.counters[kernels.NUM_ROUTES])
        known = {
            s: (route, ev)
            for route, ev, s in zip(plan.routes, plan.evals, plan.stamps, strict=True)
        }
        lens = st.lens[:nr].tolist()
        types = st.types[:nr].tolist()
        stamps = st.stamps[:nr].tolist()
        routes = []
        evals = []
        for r in range(nr):
            same = known.get(stamps[r])
            if same is not None:
                routes.append(same[0])
                evals.append(same[1])
            else:
                route = st.routes[r, : lens[r]].tolist()
                routes.append(route)
                evals.append(self.evaluator.evaluate(types[r], route))
        plan.routes = routes
        plan.types = types
        plan.evals = evals
        plan.stamps = stamps
        _clock.advance(int(st.counters[kernels.CLOCK]))


class PythonLocalSearch:
    """The local search in Python, for problems with Python energy-model hooks."""

    def __init__(
        self,
        plan_template: Plan,
        rng: random.Random,
        *,
        chargers_per_arc: int = 4,
        last_tested: LastTested | None = None,
        charger_tested: set[int] | None = None,
    ) -> None:
        ev = plan_template.evaluator
        self.evaluator = ev
        self.data = ev.data
        self.rng = rng
        data = self.data
        self.neighbours = [list(map(int, row)) for row in data.neighbours]
        self.near_chargers: list[list[int]] = _near_chargers(
            plan_template, chargers_per_arc
        ).tolist()
        self.has_chargers = data.num_chargers > 0
        # The arc sums that bound a route's objective from below (kernels.bound_arcs):
        # driving time, s, or distance, m.
        self.bound_arcs: list[list[float]] = (
            data.dur_s.tolist()
            if data.objective is Objective.DRIVING_AND_CHARGING_TIME
            else ev.dist
        )
        self.depots = [td.depot for td in data.types]
        self.last_tested = LastTested(data.num_locations) if last_tested is None else last_tested
        self.charger_tested: set[int] = set() if charger_tested is None else charger_tested
        self.arc_bound = data.objective in ARC_BOUNDED

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
            if self.has_chargers:
                # Routes short of energy get their charging stops repaired first (as the
                # kernel): client moves would otherwise "repair" them by moving clients
                # away.
                for r in range(len(plan.routes)):
                    while plan.routes[r] and plan.evals[r].energy_deficit_wh > EPS:
                        if not self._charger_moves(plan, penalties, r):
                            break
                        improved = True
            pos = plan.client_positions()
            self.rng.shuffle(clients)
            for u in clients:
                if u not in pos:
                    continue
                tested_at = next(_clock)
                if self._client_moves(plan, penalties, u, pos, self.last_tested[u]):
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
        if self.arc_bound and all(plan.evals[r].feasible for r, _ in changes):
            # Penalties are never negative, so when the routes are feasible now, a move
            # whose arc sum (a lower bound on its objective) is not below the current
            # objective cannot help: skip the full evaluation.
            dist = self.bound_arcs
            old_d = 0.0
            new_d = 0.0
            route_cost = self.data.route_cost
            objective_cost = self.evaluator.objective_cost
            for r, route in changes:
                old_d += objective_cost(plan.types[r], plan.evals[r]) + (
                    route_cost if plan.routes[r] else 0.0
                )
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
        # Move u to an empty route (a vehicle not used yet), unless neither route changed.
        if len(route_u) > 1:
            for r, route in enumerate(plan.routes):
                if not route and (stamps[ru] >= since or stamps[r] >= since):
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
        # Short of energy: moving a stop competes with adding one (as the kernel).
        insertion = (
            self._best_charger_insertion(plan, penalties, r)
            if plan.evals[r].energy_deficit_wh > EPS
            else None
        )
        below = insertion[0] if insertion is not None else float("inf")
        for p, v in enumerate(route):
            if data.is_charger(v):
                if p and route[p - 1] == v:
                    # A second stop in a row at the same charger: drop it unless that
                    # costs more.
                    new = route[:p] + route[p + 1 :]
                    ev = self.evaluator.evaluate(plan.types[r], new)
                    old = plan.route_cost(r, penalties)
                    if plan.cost_of(plan.types[r], new, ev, penalties) <= old + 1e-9 * max(
                        1.0, abs(old)
                    ):
                        plan.set_route(r, new, ev)
                        return True
                elif self._try(plan, penalties, [(r, route[:p] + route[p + 1 :])]):
                    return True
                prev = route[p - 1] if p else depot
                nxt = route[p + 1] if p + 1 < len(route) else depot
                for c in {*self.near_chargers[prev], *self.near_chargers[nxt]}:
                    if c != v and self._try(
                        plan, penalties, [(r, route[:p] + [c] + route[p + 1 :])]
                    ):
                        return True
                if self._relocate_charger(plan, penalties, r, p, below):
                    return True
        if insertion is not None:
            return self._try(plan, penalties, [(r, insertion[1])])
        return False

    def _relocate_charger(
        self, plan: Plan, penalties: Penalties, r: int, p: int, below: float
    ) -> bool:
        """Moves the charging stop at ``p`` to the arc, and the charger near it, that
        lowers the route's cost most, to less than ``below`` (as
        ``kernels._relocate_charger``)."""
        data = self.data
        route = plan.routes[r]
        v = route[p]
        rest = route[:p] + route[p + 1 :]
        depot = data.types[plan.types[r]].depot
        path = [depot, *rest, depot]
        base = plan.route_cost(r, penalties)
        best: tuple[float, list[int]] | None = None
        for q in range(len(path) - 1):
            a, b = path[q], path[q + 1]
            for c in {*self.near_chargers[a], *self.near_chargers[b]}:
                if c in (a, b) or (q == p and c == v):
                    continue
                new = rest[:q] + [c] + rest[q:]
                ev = self.evaluator.evaluate(plan.types[r], new)
                cost = plan.cost_of(plan.types[r], new, ev, penalties)
                limit = min(base - 1e-9 * max(1.0, abs(base)), below)
                if cost < limit and (best is None or cost < best[0]):
                    best = (cost, new)
        if best is not None:
            return self._try(plan, penalties, [(r, best[1])])
        return False

    def _best_charger_insertion(
        self, plan: Plan, penalties: Penalties, r: int
    ) -> tuple[float, list[int]] | None:
        """The charger insertion that lowers route ``r``'s cost most, as (cost, route)."""
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
        return best
