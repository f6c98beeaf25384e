"""A first plan: time-oriented nearest-neighbour routes with charging stops on the way.

Each vehicle leaves the depot and repeatedly drives to the best reachable client: one it can
reach within its window, with the load it has left, keeping enough energy to reach a charger
or the depot afterwards and time to return before its shift ends. When no client is
reachable on the energy left but some would be after charging, it first charges at the
charger that wastes least. Clients no vehicle can take are left for the search, which
inserts them with penalties.
"""

from __future__ import annotations

import numpy as np

from evfleet.routing.data import BLOCK, LARGE, EngineData
from evfleet.routing.evaluate import Evaluator
from evfleet.routing.plan import Plan


def _safe_energy(data: EngineData, t: int) -> np.ndarray:
    """Least energy (Wh) needed at each location to reach a charger or the depot."""
    td = data.types[t]
    targets = [td.depot, *range(data.first_charger, data.num_locations)]
    return np.asarray(td.energy_wh[:, targets].min(axis=1))


class _RouteBuilder:
    """Grows one route for vehicle type ``t`` from the clients in ``candidates``."""

    def __init__(
        self, data: EngineData, t: int, candidates: np.ndarray, safe: np.ndarray, speed: float
    ) -> None:
        self.data = data
        self.td = data.types[t]
        self.safe = safe
        self.candidates = candidates.copy()
        self.cap_left = self.td.capacity_kg
        self.end_s = min(self.td.end_s, self.td.start_s + self.td.max_duration_s)
        self.speed = speed

    def options(self, loc: int, time: float, energy: float) -> tuple[np.ndarray, np.ndarray]:
        """Which candidates are reachable from ``loc`` now, and the score of each."""
        data, td, c = self.data, self.td, self.candidates
        arrive = time + data.dur_s[loc, c]
        start = np.maximum(arrive, data.tw_early_s[c])
        ok = (data.demand_kg[c] <= self.cap_left + 1e-9) & (start <= data.tw_late_s[c] + 1e-9)
        ok &= start + data.service_s[c] + data.dur_s[c, td.depot] <= self.end_s + 1e-9
        if td.electric:
            ok &= energy - td.energy_wh[loc, c] >= self.safe[c] - 1e-9
        wait = start - arrive
        slack = np.where(np.isfinite(data.tw_late_s[c]), data.tw_late_s[c] - start, 0.0)
        score = data.dist_m[loc, c] + (0.3 * wait + 0.1 * slack) * self.speed
        return ok, score

    def build(self) -> tuple[list[int], set[int]]:
        data, td = self.data, self.td
        depot = td.depot
        energy_m = td.energy_wh
        chargers = list(range(data.first_charger, data.num_locations))
        loc = depot
        time = td.start_s
        energy = td.start_energy_wh
        route: list[int] = []
        served: set[int] = set()
        charged_here = False
        while self.candidates.size:
            ok, score = self.options(loc, time, energy)
            if ok.any():
                k = int(np.argmin(np.where(ok, score, np.inf)))
                j = int(self.candidates[k])
                time = max(time + data.dur_s[loc, j], data.tw_early_s[j]) + data.service_s[j]
                energy -= energy_m[loc, j]
                self.cap_left -= data.demand_kg[j]
                route.append(j)
                served.add(j)
                self.candidates = np.delete(self.candidates, k)
                loc = j
                charged_here = False
                continue
            if not td.electric or not chargers or charged_here:
                break
            # Charge first, at the reachable charger after which the best client is cheapest.
            best: tuple[float, int, float] | None = None
            for c in chargers:
                if c == loc or energy - energy_m[loc, c] < -1e-9:
                    continue
                arrive = max(time + data.dur_s[loc, c], data.tw_early_s[c])
                if arrive > data.tw_late_s[c]:
                    continue
                left = max(energy - energy_m[loc, c], 0.0)
                done = arrive + data.charge_time_s(c, left, td.battery_wh, td.index)
                ok, score = self.options(c, done, td.battery_wh)
                if ok.any():
                    value = data.dist_m[loc, c] + float(np.min(np.where(ok, score, np.inf)))
                    if best is None or value < best[0]:
                        best = (value, c, done)
            if best is None:
                break
            _, loc, time = best
            energy = td.battery_wh
            route.append(loc)
            charged_here = True
        if route and td.electric and energy - energy_m[loc, depot] < -1e-9:
            # Return through the charger that adds least distance.
            reach = [c for c in chargers if c != loc and energy - energy_m[loc, c] >= -1e-9]
            if reach:
                route.append(min(reach, key=lambda c: data.dist_m[loc, c] + data.dist_m[c, depot]))
        return route, served


def _speed(data: EngineData) -> float:
    """Metres per second on average, to put waiting time on the distance scale."""
    d = data.dist_m
    t = data.dur_s
    if len(d) > LARGE:
        # In row blocks: masked copies of the whole matrices would need gigabytes.
        dsum = tsum = 0.0
        for lo in range(0, len(d), BLOCK):
            mask = t[lo : lo + BLOCK] > 0
            dsum += float(d[lo : lo + BLOCK][mask].sum())
            tsum += float(t[lo : lo + BLOCK][mask].sum())
        return dsum / tsum if tsum > 0 else 1.0
    mask = t > 0
    if not mask.any():
        return 1.0
    return float(d[mask].sum() / t[mask].sum())


def _trim(evaluator: Evaluator, t: int, route: list[int], served: set[int]) -> list[int]:
    """Drops clients from the end of ``route`` (and from ``served``) until it is feasible.

    The builder's look-ahead is approximate (it does not foresee the time a final charging
    stop takes, for instance), so every route is checked by the full evaluation."""
    data = evaluator.data
    chargers = range(data.first_charger, data.num_locations)
    while route and not evaluator.evaluate(t, route).feasible:
        while route and data.is_charger(route[-1]):
            route.pop()
        if not route:
            break
        served.discard(route.pop())
        while route and data.is_charger(route[-1]):
            route.pop()
        if route and evaluator.evaluate(t, route).energy_deficit_wh > 0:
            # Try to get home through a charger.
            options = [route + [c] for c in chargers]
            feasible = [r for r in options if evaluator.evaluate(t, r).feasible]
            if feasible:
                route = min(feasible, key=lambda r: evaluator.evaluate(t, r).distance_m)
    return route


def nearest_neighbour(evaluator: Evaluator) -> tuple[Plan, list[int]]:
    """Builds a plan; returns it with the clients it could not route."""
    data = evaluator.data
    unrouted = np.arange(data.first_client, data.first_charger)
    routes: list[list[int]] = []
    types: list[int] = []
    speed = _speed(data)  # once: it reads the whole matrices
    for td in data.types:
        safe = _safe_energy(data, td.index) if td.electric else np.zeros(data.num_locations)
        used = 0
        while unrouted.size and (td.count is None or used < td.count):
            route, served = _RouteBuilder(data, td.index, unrouted, safe, speed).build()
            route = _trim(evaluator, td.index, route, served)
            if not served:
                break
            routes.append(route)
            types.append(td.index)
            used += 1
            unrouted = np.array([c for c in unrouted if int(c) not in served], dtype=np.int64)
    plan = Plan(evaluator, routes, types)
    plan.ensure_spare_routes()
    return plan, [int(c) for c in unrouted]
