"""The engine's view of a problem: flat arrays indexed by location, built once per solve.

Units as in :mod:`evfleet.problem`: m, s, Wh, kg. Location order: depots, clients, chargers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from evfleet.problem import Objective, Problem, RechargePolicy

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class TypeData:
    """One vehicle type, as the engine needs it."""

    index: int
    depot: int
    count: int | None
    capacity_kg: float
    electric: bool
    battery_wh: float
    start_energy_wh: float
    energy_wh: FloatArray
    """Energy per arc in Wh, ``energy_wh[i, j]`` (load-independent part)."""
    start_s: float
    end_s: float
    max_duration_s: float
    fixed_cost: float
    cost_per_m: float
    cost_per_s: float
    load_dependent: bool


@dataclass(frozen=True)
class EngineData:
    """Arrays for the search. ``tw_early_s``/``tw_late_s`` hold client windows, charger
    opening hours and depot windows alike."""

    problem: Problem
    num_depots: int
    num_clients: int
    num_chargers: int
    dist_m: FloatArray
    dur_s: FloatArray
    demand_kg: FloatArray
    service_s: FloatArray
    tw_early_s: FloatArray
    tw_late_s: FloatArray
    types: tuple[TypeData, ...]
    full_recharge: bool
    objective: Objective
    charger_seconds_per_wh: FloatArray
    """Constant charging rate per charger (NaN where the charger has a curve)."""
    charger_curves: tuple[tuple[FloatArray, FloatArray] | None, ...]
    """Per charger: breakpoint energies (Wh) and times (s) of its curve, or ``None``."""
    neighbours: IntArray
    """``neighbours[k]`` lists the locations of the clients nearest to client ``k``."""
    route_cost: float
    """Weight of one vehicle in the search objective (large under vehicles-first)."""

    @property
    def first_client(self) -> int:
        return self.num_depots

    @property
    def first_charger(self) -> int:
        return self.num_depots + self.num_clients

    @property
    def num_locations(self) -> int:
        return self.num_depots + self.num_clients + self.num_chargers

    def is_charger(self, loc: int) -> bool:
        return loc >= self.num_depots + self.num_clients

    def is_client(self, loc: int) -> bool:
        return self.num_depots <= loc < self.num_depots + self.num_clients

    def charge_time_s(self, loc: int, from_wh: float, to_wh: float) -> float:
        """Seconds to charge from ``from_wh`` to ``to_wh`` at charger location ``loc``."""
        if to_wh <= from_wh:
            return 0.0
        k = loc - self.first_charger
        rate = self.charger_seconds_per_wh[k]
        if not math.isnan(rate):
            return float((to_wh - from_wh) * rate)
        curve = self.charger_curves[k]
        assert curve is not None
        es, ts = curve
        return float(np.interp(to_wh, es, ts) - np.interp(from_wh, es, ts))


def build_engine_data(problem: Problem, *, num_neighbours: int = 20) -> EngineData:
    """Flattens ``problem`` into the arrays the search works on."""
    nd, nc, ns = problem.num_depots, problem.num_clients, problem.num_chargers
    n = nd + nc + ns
    demand = np.zeros(n)
    service = np.zeros(n)
    early = np.zeros(n)
    late = np.full(n, math.inf)
    for k, depot in enumerate(problem.depots):
        early[k], late[k] = depot.tw_early_s, depot.tw_late_s
    for k, client in enumerate(problem.clients):
        i = nd + k
        demand[i], service[i] = client.demand_kg, client.service_s
        early[i], late[i] = client.tw_early_s, client.tw_late_s
    rates = np.full(ns, math.nan)
    curves: list[tuple[FloatArray, FloatArray] | None] = []
    for k, charger in enumerate(problem.chargers):
        i = nd + nc + k
        early[i], late[i] = charger.open_s, charger.close_s
        fn = charger.function
        if fn.seconds_per_wh is not None:
            rates[k] = fn.seconds_per_wh
            curves.append(None)
        else:
            es = np.array([e for e, _ in fn.breakpoints])
            ts = np.array([t for _, t in fn.breakpoints])
            # Extend the last segment so that energies beyond the curve stay defined.
            slope = (ts[-1] - ts[-2]) / (es[-1] - es[-2])
            far = es[-1] + 1e12
            ts = np.append(ts, ts[-1] + slope * (far - es[-1]))
            es = np.append(es, far)
            curves.append((es, ts))

    dist = np.ascontiguousarray(problem.distance_m, dtype=np.float64)
    dur = np.ascontiguousarray(problem.duration_s, dtype=np.float64)
    types = []
    for t, vt in enumerate(problem.vehicle_types):
        depot = problem.depots[vt.depot]
        energy = vt.energy_wh_per_m * dist if vt.is_electric else np.zeros_like(dist)
        types.append(
            TypeData(
                index=t,
                depot=vt.depot,
                count=vt.count,
                capacity_kg=vt.capacity_kg,
                electric=vt.is_electric,
                battery_wh=vt.battery_wh if vt.is_electric else math.inf,
                start_energy_wh=vt.start_energy_wh if vt.is_electric else math.inf,
                energy_wh=energy,
                start_s=max(vt.shift_start_s, depot.tw_early_s),
                end_s=min(vt.shift_end_s, depot.tw_late_s),
                max_duration_s=vt.max_duration_s,
                fixed_cost=vt.fixed_cost,
                cost_per_m=vt.cost_per_m,
                cost_per_s=vt.cost_per_s,
                load_dependent=vt.energy_model is not None and vt.is_electric,
            )
        )

    clients = np.arange(nd, nd + nc)
    k = min(num_neighbours, max(nc - 1, 0))
    if nc > 1:
        sub = dist[np.ix_(clients, clients)] + 0.1 * np.abs(
            early[clients][:, None] - early[clients][None, :]
        ) * (dist[np.ix_(clients, clients)].mean() / max(float(np.ptp(early[clients])), 1e-9))
        np.fill_diagonal(sub, np.inf)
        order = np.argsort(sub, axis=1, kind="stable")[:, :k]
        neighbours = (order + nd).astype(np.int64)
    else:
        neighbours = np.zeros((nc, 0), dtype=np.int64)

    if problem.objective is Objective.VEHICLES_THEN_DISTANCE and nc:
        # Worth about one typical out-and-back trip: enough to pull clients together into
        # fewer routes, small enough that lateness penalties still win. Best plans are
        # compared vehicles first regardless (see ``Plan.key``).
        depots = np.array([vt.depot for vt in problem.vehicle_types], dtype=np.int64)
        out_back = dist[np.ix_(depots, clients)] + dist[np.ix_(clients, depots)].T
        route_cost = 2.0 * float(out_back[np.isfinite(out_back)].mean())
    else:
        route_cost = 0.0
    return EngineData(
        problem=problem,
        num_depots=nd,
        num_clients=nc,
        num_chargers=ns,
        dist_m=dist,
        dur_s=dur,
        demand_kg=demand,
        service_s=service,
        tw_early_s=early,
        tw_late_s=late,
        types=tuple(types),
        full_recharge=problem.recharge is RechargePolicy.FULL,
        objective=problem.objective,
        charger_seconds_per_wh=rates,
        charger_curves=tuple(curves),
        neighbours=neighbours,
        route_cost=route_cost,
    )
