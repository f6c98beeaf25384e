"""The engine's view of a problem: flat arrays indexed by location, built once per solve.

Units as in :mod:`evfleet.problem`: m, s, Wh, kg. Location order: depots, clients, chargers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from evfleet.charging import ChargingFunction
from evfleet.problem import Objective, Problem, RechargePolicy

LARGE = 2000
"""Above this many locations, whole-matrix temporaries (masks, copies, full sorts of the
n x n matrices) are avoided: the work is done in row blocks of :data:`BLOCK` rows, so that
memory stays near the matrices themselves (5,000 clients: 200 MB per matrix)."""
BLOCK = 256

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Curve = tuple[FloatArray, FloatArray]
"""Breakpoint energies (Wh) and times (s) of a charging curve, the last segment extended."""


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
    """Energy per arc in Wh, ``energy_wh[i, j]`` (load-independent part: ``arc_energy``'s
    ``base_wh``, or ``energy_wh_per_m`` times the distance)."""
    start_s: float
    end_s: float
    max_duration_s: float
    fixed_cost: float
    cost_per_m: float
    cost_per_s: float
    load_dependent: bool
    """The type has a Python ``energy_model`` hook (and no ``arc_energy``), evaluated in
    Python rather than compiled."""
    energy_wh_per_kg: FloatArray | None = None
    """Extra energy per arc per kg carried, in Wh/kg (``arc_energy``'s ``wh_per_kg``;
    ``None``: none). The energy on arc ``(i, j)`` is ``energy_wh[i, j] +
    energy_wh_per_kg[i, j] * load_kg``."""
    charger_seconds_per_wh: FloatArray | None = None
    """This type's constant charging rate per charger (NaN for a curve), where the problem
    gives the type its own charging functions; ``None``: the chargers' own."""
    charger_curves: tuple[Curve | None, ...] | None = None
    """This type's charging curve per charger (``None`` for a constant rate), as above."""
    fuel_l_per_m: float = 0.0
    fuel_cost_per_l: float = 0.0
    energy_cost_per_wh: float = 0.0
    """Price of energy drawn from the battery (replaced at the depot), per Wh."""
    co2e_kg_per_l: float = 0.0
    co2e_kg_per_wh: float = 0.0


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
    charger_curves: tuple[Curve | None, ...]
    """Per charger: breakpoint energies (Wh) and times (s) of its curve, or ``None``.
    (A vehicle type may have its own functions: ``TypeData.charger_curves``.)"""
    neighbours: IntArray
    """``neighbours[k]`` lists the locations of the clients nearest to client ``k``."""
    route_cost: float
    """Weight of one vehicle in the search objective (large under vehicles-first)."""
    carbon_price_per_kg: float = 0.0
    """Price of one kg CO2e in the cost objective."""

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

    def charge_time_s(self, loc: int, from_wh: float, to_wh: float, t: int | None = None) -> float:
        """Seconds to charge from ``from_wh`` to ``to_wh`` at charger location ``loc`` (for
        vehicle type ``t``, where types have their own charging functions)."""
        if to_wh <= from_wh:
            return 0.0
        k = loc - self.first_charger
        rates, curves = self.charger_seconds_per_wh, self.charger_curves
        if t is not None:
            td = self.types[t]
            if td.charger_seconds_per_wh is not None and td.charger_curves is not None:
                rates, curves = td.charger_seconds_per_wh, td.charger_curves
        rate = rates[k]
        if not math.isnan(rate):
            return float((to_wh - from_wh) * rate)
        curve = curves[k]
        assert curve is not None
        es, ts = curve
        return float(np.interp(to_wh, es, ts) - np.interp(from_wh, es, ts))


def _rate_and_curve(fn: ChargingFunction) -> tuple[float, Curve | None]:
    """A constant rate (s/Wh), or NaN and the curve with its last segment extended far
    out, so that energies beyond the curve stay defined."""
    if fn.seconds_per_wh is not None:
        return fn.seconds_per_wh, None
    es = np.array([e for e, _ in fn.breakpoints])
    ts = np.array([t for _, t in fn.breakpoints])
    slope = (ts[-1] - ts[-2]) / (es[-1] - es[-2])
    far = es[-1] + 1e12
    ts = np.append(ts, ts[-1] + slope * (far - es[-1]))
    es = np.append(es, far)
    return math.nan, (es, ts)


def _charging(functions: list[ChargingFunction]) -> tuple[FloatArray, tuple[Curve | None, ...]]:
    pairs = [_rate_and_curve(fn) for fn in functions]
    return np.array([r for r, _ in pairs], dtype=np.float64), tuple(c for _, c in pairs)


def _smallest(values: FloatArray, k: int) -> IntArray:
    """Per row, the columns of the ``k`` smallest values, ties by column: the first ``k`` of
    a stable ``argsort`` of each row, found by partitioning rather than sorting it all."""
    rows, cols = values.shape
    if k <= 0:
        return np.zeros((rows, 0), dtype=np.int64)
    if k >= cols:
        return np.argsort(values, axis=1, kind="stable")
    kth = np.partition(values, k - 1, axis=1)[:, k - 1 : k]
    out = np.empty((rows, k), dtype=np.int64)
    for r in range(rows):
        # Every value up to the k-th smallest (ties included), in column order, then
        # sorted stably by value: the same first k as sorting the whole row.
        cand = np.flatnonzero(values[r] <= kth[r, 0])
        out[r] = cand[np.argsort(values[r, cand], kind="stable")[:k]]
    return out


def _neighbours(
    dist: FloatArray, early: FloatArray, nd: int, nc: int, num_neighbours: int
) -> IntArray:
    """Each client's ``num_neighbours`` nearest clients (locations) by distance plus a
    tenth of the difference in window opening, scaled to distances."""
    if nc <= 1:
        return np.zeros((nc, 0), dtype=np.int64)
    clients = np.arange(nd, nd + nc)
    k = min(num_neighbours, nc - 1)
    starts = early[clients]
    if nc <= LARGE:
        mean = dist[np.ix_(clients, clients)].mean()
    else:
        mean = sum(
            float(dist[nd + lo : nd + min(nc, lo + BLOCK), nd : nd + nc].sum())
            for lo in range(0, nc, BLOCK)
        ) / (nc * nc)
    scale = mean / max(float(np.ptp(starts)), 1e-9)
    out = np.empty((nc, k), dtype=np.int64)
    for lo in range(0, nc, BLOCK):
        hi = min(nc, lo + BLOCK)
        sub = (
            dist[nd + lo : nd + hi, nd : nd + nc]
            + 0.1 * np.abs(starts[lo:hi, None] - starts[None, :]) * scale
        )
        sub[np.arange(hi - lo), np.arange(lo, hi)] = np.inf
        out[lo:hi] = _smallest(sub, k)
    return out + nd


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
    for k, charger in enumerate(problem.chargers):
        i = nd + nc + k
        early[i], late[i] = charger.open_s, charger.close_s
    rates, curves = _charging([c.function for c in problem.chargers])

    dist = np.ascontiguousarray(problem.distance_m, dtype=np.float64)
    dur = np.ascontiguousarray(problem.duration_s, dtype=np.float64)
    types = []
    for t, vt in enumerate(problem.vehicle_types):
        depot = problem.depots[vt.depot]
        # As VehicleType.arc_energy_wh: arc_energy first, then the hook, then per metre.
        per_kg = None
        if not vt.is_electric:
            energy = np.zeros_like(dist)
        elif vt.arc_energy is not None:
            energy = np.ascontiguousarray(vt.arc_energy.base_wh, dtype=np.float64)
            per_kg = np.ascontiguousarray(vt.arc_energy.wh_per_kg, dtype=np.float64)
        else:
            energy = vt.energy_wh_per_m * dist
        own_rates = own_curves = None
        if any((t, k) in problem.charging_functions for k in range(ns)):
            own_rates, own_curves = _charging([problem.charging_function(t, k) for k in range(ns)])
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
                load_dependent=(
                    vt.energy_model is not None and vt.arc_energy is None and vt.is_electric
                ),
                energy_wh_per_kg=per_kg,
                charger_seconds_per_wh=own_rates,
                charger_curves=own_curves,
                fuel_l_per_m=0.0 if vt.is_electric else vt.fuel_l_per_m,
                fuel_cost_per_l=vt.fuel_cost_per_l,
                energy_cost_per_wh=vt.energy_cost_per_wh,
                co2e_kg_per_l=vt.co2e_kg_per_l,
                co2e_kg_per_wh=vt.co2e_kg_per_wh,
            )
        )

    clients = np.arange(nd, nd + nc)
    neighbours = _neighbours(dist, early, nd, nc, num_neighbours)

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
        charger_curves=curves,
        neighbours=neighbours,
        route_cost=route_cost,
        carbon_price_per_kg=problem.carbon_price_per_kg,
    )
