"""Compiled hot loops of the engine (numba): route evaluation and the local search.

Everything here is ``@njit(cache=True)``: the first run compiles the kernels (tens of
seconds) and stores the machine code next to this file in ``__pycache__``; later
processes load it in well under a second.

**Data.** :class:`KernelData` holds the problem as flat arrays (built once per solve by
:func:`build_kernel_data`): matrices, per-location demands, service times and windows,
per-vehicle-type figures, charging rates and padded piecewise-linear curves. Energy on
an arc is ``e0[t, i, j] + e1[t, i, j] * load_kg`` for vehicle type ``t`` (``e1`` has shape
``(T, 0, 0)`` when no type has a load-dependent term). Vehicle types with a Python
``energy_model`` hook cannot be evaluated from compiled code: :class:`Evaluator
<evfleet.routing.evaluate.Evaluator>` computes their arc energies in Python and hands them
to :func:`evaluate_route` (``given=True``), and the search falls back to the Python local
search for such problems.

**Evaluation.** :func:`evaluate_route` is the engine's route simulation (see its
docstring); the Python ``Evaluator.evaluate`` calls it. Route segments ("Route segments"
below) give the same figures for a route put together from pieces.

**Local search.** :func:`local_search_pass` runs one pass of the granular first-improvement
local search of :mod:`evfleet.routing.local_search` on a :class:`SearchState`: routes as a
2-D array padded with -1 (``routes[r, :lens[r]]``), their vehicle types, change stamps,
cached evaluations and penalised costs. Moves between routes are first judged in O(1)
by concatenating route segments (Vidal et al.'s forward and backward segments, see
"Route segments" below); the moves judged improving, those segments cannot judge and
moves inside one route are evaluated by simulating the changed routes, O(route length).
Both give the same verdict, so the search takes the same steps either way.
``SearchState.counters[CONCAT]`` says which routes are judged from segments:
``SEGMENTS_ALL`` (the default: routes without charging stops from light segments, and
routes with charging stops from full segments where :func:`_charging_segments` allows
and the route has at least ``counters[CHARGING_MIN_STOPS]`` stops),
``SEGMENTS_NO_CHARGING`` (routes without charging stops only) or ``SEGMENTS_OFF``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, typeof, types
from numba.experimental import structref

from evfleet.problem import Objective

# Constants passed from one kernel to another go through ``_I``/``_B``: numba compiles a
# separate copy of the callee for every literal argument (``_try`` was compiled nine
# times, ``evaluate_route`` four), which made up a third of the first run's compile time.
_I: Any = np.int64
_B: Any = np.bool_

# Fields of an evaluation vector (``out`` of :func:`evaluate_route`, rows of
# ``SearchState.evals``), in the order of :class:`~evfleet.routing.evaluate.RouteEval`.
DISTANCE = 0
DRIVING = 1
CHARGING = 2
DURATION = 3
TIME_WARP = 4
EXCESS_LOAD = 5
ENERGY_DEFICIT = 6
ENERGY_COST = 7
ENERGY_USED = 8
NUM_FIELDS = 9

# Objective codes (``KernelData.objective``).
OBJ_DISTANCE = 0
OBJ_VEHICLES_THEN_DISTANCE = 1
OBJ_DRIVING_AND_CHARGING_TIME = 2
OBJ_COST = 3
OBJECTIVE_CODES = {
    Objective.DISTANCE: OBJ_DISTANCE,
    Objective.VEHICLES_THEN_DISTANCE: OBJ_VEHICLES_THEN_DISTANCE,
    Objective.DRIVING_AND_CHARGING_TIME: OBJ_DRIVING_AND_CHARGING_TIME,
    Objective.COST: OBJ_COST,
}

# Feasibility tolerances, as in ``RouteEval.feasible``.
WARP_TOL = 1e-6
LOAD_TOL = 1e-9
ENERGY_TOL = 1e-9

# Slots of ``SearchState.counters``.
CLOCK = 0
"""The stamp clock (last stamp handed out)."""
NUM_ROUTES = 1
"""Routes in use (rows ``0 .. NUM_ROUTES - 1`` of the route arrays)."""
NUM_TESTED = 2
"""Entries of ``SearchState.tested`` written by the last pass."""
CONCAT = 3
"""Which routes' moves are judged from segments first: ``SEGMENTS_OFF`` (none, every
move is simulated), ``SEGMENTS_NO_CHARGING`` or ``SEGMENTS_ALL``."""
CHARGING_MIN_STOPS = 4
"""Under ``SEGMENTS_ALL``, routes with charging stops are judged from segments only with
at least this many stops (shorter ones are simulated faster than they are judged)."""
NUM_COUNTERS = 5

SEGMENTS_OFF = 0
SEGMENTS_NO_CHARGING = 1
"""Routes without charging stops only (from light segments, which made Solomon C101 and
R201 about 1.2 times as fast as simulating, ``benchmarks/segments.py``)."""
SEGMENTS_ALL = 2
"""Also routes with charging stops, from full segments held in registers, where
:func:`_charging_segments` allows and the route is long enough
(``CHARGING_MIN_STOPS``)."""


# --------------------------------------------------------------------------------------
# Problem data


class _ArraysType(types.StructRef):  # type: ignore[misc, unused-ignore]
    """A numba structref type whose fields are typed as the values given (no literals)."""

    def preprocess_fields(self, fields: Any) -> Any:
        return tuple(
            (name, types.unliteral(typ))  # type: ignore[no-untyped-call, unused-ignore]
            for name, typ in fields
        )


@structref.register
class KernelDataType(_ArraysType):
    pass


class KernelData(structref.StructRefProxy):  # type: ignore[misc, unused-ignore]
    """The problem as compiled code sees it (a numba structref; see the module docstring).

    A structref rather than a named tuple because it crosses from Python into compiled
    code at the cost of one object (under a microsecond), where a tuple costs one type
    check per field. :func:`build_kernel_data` also sets every field as a plain Python
    attribute (the same arrays), for tests and diagnostics.
    """


KERNEL_DATA_FIELDS = (
    "dist",  # (n, n) distances, m
    "dur",  # (n, n) driving times, s
    "demand",  # (n,) kg
    "service",  # (n,) s
    "early",  # (n,) window opens / charger opens, s
    "late",  # (n,) window closes / charger closes, s
    "type_depot",  # (T,) depot location of each vehicle type
    "type_electric",  # (T,) 1 for electric vehicles
    "type_hook",  # (T,) 1 when the type has a Python energy model (not evaluable here)
    "type_count",  # (T,) number of vehicles, -1 for unlimited
    "type_capacity",  # (T,) kg
    "type_battery",  # (T,) Wh (inf for diesel or unlimited)
    "type_start_energy",  # (T,) Wh
    "type_start",  # (T,) earliest departure, s
    "type_end",  # (T,) latest return, s
    "type_max_duration",  # (T,) s
    "type_fixed_cost",  # (T,)
    "type_cost_per_m",  # (T,)
    "type_cost_per_s",  # (T,)
    "type_fuel_l_per_m",  # (T,) 0 for electric vehicles
    "type_fuel_cost_per_l",  # (T,)
    "type_energy_cost_per_wh",  # (T,) energy drawn from the battery, replaced at the depot
    "type_co2e_kg_per_l",  # (T,)
    "type_co2e_kg_per_wh",  # (T,)
    "e0",  # (T, n, n) Wh per arc, load-independent part
    "e1",  # (T, n, n) Wh per kg carried on the arc, or (T, 0, 0)
    "charger_rate",  # (T, S) s per Wh for type t at charger k, NaN where it has a curve
    "charger_price",  # (S,) currency per Wh
    "curve_energy",  # (T, S, K) curve breakpoints (Wh), the last segment extended far out
    "curve_time",  # (T, S, K) curve breakpoints (s)
    "curve_len",  # (T, S) breakpoints per curve (0 for a constant rate)
    "num_depots",
    "first_charger",
    "full_recharge",
    "objective",
    "route_cost",  # weight of one used vehicle in the search objective
    "carbon_price",  # currency per kg CO2e
)
structref.define_proxy(  # type: ignore[no-untyped-call, unused-ignore]
    KernelData, KernelDataType, list(KERNEL_DATA_FIELDS)
)


@njit(cache=True)
def _make_kernel_data(
    dist: Any,
    dur: Any,
    demand: Any,
    service: Any,
    early: Any,
    late: Any,
    type_depot: Any,
    type_electric: Any,
    type_hook: Any,
    type_count: Any,
    type_capacity: Any,
    type_battery: Any,
    type_start_energy: Any,
    type_start: Any,
    type_end: Any,
    type_max_duration: Any,
    type_fixed_cost: Any,
    type_cost_per_m: Any,
    type_cost_per_s: Any,
    type_fuel_l_per_m: Any,
    type_fuel_cost_per_l: Any,
    type_energy_cost_per_wh: Any,
    type_co2e_kg_per_l: Any,
    type_co2e_kg_per_wh: Any,
    e0: Any,
    e1: Any,
    charger_rate: Any,
    charger_price: Any,
    curve_energy: Any,
    curve_time: Any,
    curve_len: Any,
    num_depots: int,
    first_charger: int,
    full_recharge: bool,
    objective: int,
    route_cost: float,
    carbon_price: float,
) -> Any:
    # Built in compiled code (and cached) so that no constructor compiles at run time.
    return KernelData(  # type: ignore[no-untyped-call, unused-ignore]
        dist,
        dur,
        demand,
        service,
        early,
        late,
        type_depot,
        type_electric,
        type_hook,
        type_count,
        type_capacity,
        type_battery,
        type_start_energy,
        type_start,
        type_end,
        type_max_duration,
        type_fixed_cost,
        type_cost_per_m,
        type_cost_per_s,
        type_fuel_l_per_m,
        type_fuel_cost_per_l,
        type_energy_cost_per_wh,
        type_co2e_kg_per_l,
        type_co2e_kg_per_wh,
        e0,
        e1,
        charger_rate,
        charger_price,
        curve_energy,
        curve_time,
        curve_len,
        num_depots,
        first_charger,
        full_recharge,
        objective,
        route_cost,
        carbon_price,
    )


def build_kernel_data(data: Any) -> KernelData:
    """Packs an :class:`~evfleet.routing.data.EngineData` into :class:`KernelData`."""

    def f64(values: Any) -> np.ndarray:
        return np.ascontiguousarray(values, dtype=np.float64)

    def i64(values: Any) -> np.ndarray:
        return np.ascontiguousarray(values, dtype=np.int64)

    tds = data.types
    n = data.num_locations
    # One vehicle type: a view of its matrix, not a copy (200 MB for 5,000 clients).
    e0 = f64(
        tds[0].energy_wh[np.newaxis] if len(tds) == 1 else np.stack([td.energy_wh for td in tds])
    )
    if any(td.energy_wh_per_kg is not None for td in tds):
        e1 = f64(
            np.stack(
                [
                    np.zeros((n, n)) if td.energy_wh_per_kg is None else td.energy_wh_per_kg
                    for td in tds
                ]
            )
        )
    else:
        e1 = np.zeros((len(tds), 0, 0))
    ns = data.num_chargers
    charging = [
        (td.charger_seconds_per_wh, td.charger_curves)
        if td.charger_seconds_per_wh is not None and td.charger_curves is not None
        else (data.charger_seconds_per_wh, data.charger_curves)
        for td in tds
    ]
    width = max([1] + [len(c[0]) for _, curves in charging for c in curves if c is not None])
    rates = np.zeros((len(tds), ns))
    curve_energy = np.zeros((len(tds), ns, width))
    curve_time = np.zeros((len(tds), ns, width))
    curve_len = np.zeros((len(tds), ns), dtype=np.int64)
    for t, (type_rates, curves) in enumerate(charging):
        rates[t] = type_rates
        for k, curve in enumerate(curves):
            if curve is not None:
                es, ts = curve
                curve_energy[t, k, : len(es)] = es
                curve_time[t, k, : len(ts)] = ts
                curve_len[t, k] = len(es)
    prices = [c.price_per_kwh / 1000.0 for c in data.problem.chargers]
    fields = (
        f64(data.dist_m),
        f64(data.dur_s),
        f64(data.demand_kg),
        f64(data.service_s),
        f64(data.tw_early_s),
        f64(data.tw_late_s),
        i64([td.depot for td in tds]),
        i64([1 if td.electric else 0 for td in tds]),
        i64([1 if td.load_dependent else 0 for td in tds]),
        i64([-1 if td.count is None else td.count for td in tds]),
        f64([td.capacity_kg for td in tds]),
        f64([td.battery_wh for td in tds]),
        f64([td.start_energy_wh for td in tds]),
        f64([td.start_s for td in tds]),
        f64([td.end_s for td in tds]),
        f64([td.max_duration_s for td in tds]),
        f64([td.fixed_cost for td in tds]),
        f64([td.cost_per_m for td in tds]),
        f64([td.cost_per_s for td in tds]),
        f64([td.fuel_l_per_m for td in tds]),
        f64([td.fuel_cost_per_l for td in tds]),
        f64([td.energy_cost_per_wh for td in tds]),
        f64([td.co2e_kg_per_l for td in tds]),
        f64([td.co2e_kg_per_wh for td in tds]),
        e0,
        e1,
        rates,
        f64(prices),
        curve_energy,
        curve_time,
        curve_len,
        int(data.num_depots),
        int(data.first_charger),
        bool(data.full_recharge),
        OBJECTIVE_CODES[data.objective],
        float(data.route_cost),
        float(data.carbon_price_per_kg),
    )
    kd = _make_kernel_data(*fields)
    for name, value in zip(KERNEL_DATA_FIELDS, fields, strict=True):
        setattr(kd, name, value)
    return kd


# --------------------------------------------------------------------------------------
# Route evaluation


@njit(cache=True)
def _interp(xs: Any, ys: Any, m: int, x: float) -> float:
    """``np.interp(x, xs[:m], ys[:m])`` for increasing ``xs`` (a vertical step, where two
    ``xs`` are equal, gives its upper end)."""
    if x <= xs[0]:
        return float(ys[0])
    if x >= xs[m - 1]:
        return float(ys[m - 1])
    lo = 0
    hi = m - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xs[mid] <= x:
            lo = mid
        else:
            hi = mid
    width = xs[lo + 1] - xs[lo]
    if not width > 0.0:
        return float(ys[lo + 1])
    return float((ys[lo + 1] - ys[lo]) / width * (x - xs[lo]) + ys[lo])


@njit(cache=True)
def _curve_time(kd: Any, t: int, k: int, energy: float) -> float:
    """Seconds to charge from empty to ``energy`` on the curve of type ``t`` at charger
    ``k`` (as np.interp)."""
    return _interp(kd.curve_energy[t, k], kd.curve_time[t, k], kd.curve_len[t, k], energy)


@njit(cache=True)
def _curve_energy(kd: Any, t: int, k: int, seconds: float) -> float:
    """Energy in Wh reached after charging ``seconds`` from empty on the curve of type
    ``t`` at charger ``k`` (the inverse of :func:`_curve_time`)."""
    return _interp(kd.curve_time[t, k], kd.curve_energy[t, k], kd.curve_len[t, k], seconds)


@njit(cache=True)
def charge_reached(kd: Any, t: int, k: int, from_wh: float, seconds: float) -> float:
    """Energy in Wh after charging ``seconds`` from ``from_wh`` at charger number ``k``
    (the inverse of :func:`charge_time`)."""
    if seconds <= 0.0:
        return from_wh
    rate = kd.charger_rate[t, k]
    if not math.isnan(rate):
        return float(from_wh + seconds / rate) if rate > 0.0 else np.inf
    return _curve_energy(kd, t, k, _curve_time(kd, t, k, from_wh) + seconds)


@njit(cache=True)
def _use_waiting(
    kd: Any,
    t: int,
    route: Any,
    n: int,
    energies: Any,
    pos: int,
    nxt: int,
    energy: float,
    low: float,
    time: float,
) -> float:
    """Partial recharge at the charger ``route[pos]``: how far above ``low`` Wh (enough to
    reach the next charger, ``route[nxt]``) to charge, in Wh, using the waiting time ahead.

    Charging more here delays the stops up to the next charger; as long as the delay is
    no more than the waiting before that charger and breaks no window on the way, the next
    charger is reached at the same time and has less to charge, so the route gets
    shorter in time at no cost. The extra charge is at most what the next charger would
    have charged (so that later stops are never later) and fits in the battery.
    ``time`` is when charging starts here, in s.
    """
    battery = kd.type_battery[t]
    first_charger = kd.first_charger
    # Energy needed to reach the charger after the next one (or the depot).
    need = 0.0
    for q in range(pos + 1, n + 1):
        need += energies[q]
        if q < n and q > nxt and route[q] >= first_charger:
            break
    high = min(need, battery)
    if not high > low:
        return low
    k = route[pos] - first_charger
    late = kd.late
    early = kd.early
    dur = kd.dur
    clock = time + charge_time(kd, t, k, energy, low)
    slack = late[route[pos]] - clock
    waits = 0.0
    prev = route[pos]
    for q in range(pos + 1, nxt + 1):
        v = route[q]
        clock += dur[prev, v]
        if clock < early[v]:
            waits += early[v] - clock
            clock = early[v]
        if q < nxt:
            room = late[v] - clock
            if room < 0.0:
                room = 0.0
            if waits + room < slack:
                slack = waits + room
            clock += kd.service[v]
        prev = v
    delay = min(slack, waits)
    if not delay > 0.0:
        return low
    reached = charge_reached(kd, t, k, low, delay)
    return min(reached, high)


@njit(cache=True)
def charge_time(kd: Any, t: int, k: int, from_wh: float, to_wh: float) -> float:
    """Seconds for vehicle type ``t`` to charge from ``from_wh`` to ``to_wh`` at charger
    number ``k`` (0 if not above)."""
    if to_wh <= from_wh:
        return 0.0
    rate = kd.charger_rate[t, k]
    if not math.isnan(rate):
        return float((to_wh - from_wh) * rate)
    return _curve_time(kd, t, k, to_wh) - _curve_time(kd, t, k, from_wh)


@njit(cache=True)
def evaluate_route(
    kd: Any, t: int, route: Any, n: int, energies: Any, given: bool, out: Any, charges: Any
) -> int:
    """Simulates ``route[:n]`` (client and charger locations) for vehicle type ``t``.

    Writes the evaluation vector into ``out`` (see ``DISTANCE`` .. ``ENERGY_COST``) and the
    energy charged at each charging stop, in order, into ``charges``; returns the number of
    charging stops. ``energies`` (length ``n + 1`` at least) is scratch space for the
    energy of each arc, depot to depot, or holds them when ``given`` (vehicle types with a
    Python energy model).

    The vehicle leaves at the type's start time with its start energy and all demands on
    board (the excess over the capacity is the load violation). Driving takes the matrix
    times; arriving before a window opens means waiting, arriving after it closes adds the
    lateness to the *time warp* and continues from the closing time (Vidal et al.), the
    same for charging that ends after the charger closes, for the return after the shift
    end and for a route longer than the maximum duration. Energy falling below zero on an
    arc adds to the deficit and is clamped at zero. At a charger an electric vehicle
    fills up (full recharge) or charges enough to reach the next charger or the depot,
    capped at the battery, plus what waiting ahead allows (partial recharge, see
    :func:`_use_waiting`); charging time follows the charger's
    rate or curve, and the energy is paid at the charger's price. A vehicle type with an
    unlimited battery has nothing to fill. A diesel vehicle cannot charge: each charger
    visit counts 1 Wh of deficit, so that such a route is never feasible.
    """
    depot = kd.type_depot[t]
    first_charger = kd.first_charger
    electric = kd.type_electric[t] != 0
    demand = kd.demand
    load = 0.0
    for pos in range(n):
        load += demand[route[pos]]
    capacity = kd.type_capacity[t]
    excess = load - capacity if load > capacity else 0.0

    e0 = kd.e0[t]
    linear = kd.e1.shape[1] > 0
    # Arc energies are worked out on the way unless given, or needed ahead of time to
    # look ahead from a charger (partial recharge).
    ahead = not given and electric and not kd.full_recharge
    if ahead:
        carried = load
        prev = depot
        for pos in range(n + 1):
            v = route[pos] if pos < n else depot
            e = e0[prev, v]
            if linear:
                e += kd.e1[t, prev, v] * carried
            energies[pos] = e
            if pos < n:
                carried -= demand[v]
            prev = v
    inline = not given and not ahead
    carried = load

    dist = kd.dist
    dur = kd.dur
    early = kd.early
    late = kd.late
    battery = kd.type_battery[t]
    start = kd.type_start[t]
    time = start
    warp = 0.0
    energy = kd.type_start_energy[t]
    deficit = 0.0
    distance = 0.0
    driving = 0.0
    charging = 0.0
    energy_cost = 0.0
    depot_price = kd.type_energy_cost_per_wh[t]
    used = 0.0
    stops = 0
    prev = depot
    for pos in range(n):
        v = route[pos]
        distance += dist[prev, v]
        driving += dur[prev, v]
        time += dur[prev, v]
        e = 0.0
        if not inline:
            e = energies[pos]
        elif electric:
            e = e0[prev, v]
            if linear:
                e += kd.e1[t, prev, v] * carried
            carried -= demand[v]
        used += e
        energy -= e
        if energy < 0.0:
            deficit -= energy
            energy = 0.0
        if time < early[v]:
            time = early[v]
        if v >= first_charger:
            k = v - first_charger
            if not electric:
                deficit += 1.0
                target = energy
            elif kd.full_recharge:
                target = battery if battery < np.inf else energy
            else:
                need = 0.0
                nxt = n
                for q in range(pos + 1, n + 1):
                    need += energies[q]
                    if q < n and route[q] >= first_charger:
                        nxt = q
                        break
                target = min(need, battery) if need > energy else energy
                if nxt < n and target < battery:
                    target = _use_waiting(kd, t, route, n, energies, pos, nxt, energy, target, time)
            amount = target - energy
            if not amount > 0.0:
                amount = 0.0
            ct = charge_time(kd, t, k, energy, target) if amount > 0.0 else 0.0
            time += ct
            charging += ct
            charges[stops] = amount
            stops += 1
            # Paid at the charger's price instead of the depot's.
            energy_cost += amount * (kd.charger_price[k] - depot_price)
            if target > energy:
                energy = target
            # Charging must end by the time the charger closes.
            if time > late[v]:
                warp += time - late[v]
                time = late[v]
        else:
            if time > late[v]:
                warp += time - late[v]
                time = late[v]
            time += kd.service[v]
        prev = v
    distance += dist[prev, depot]
    driving += dur[prev, depot]
    time += dur[prev, depot]
    e = 0.0
    if not inline:
        e = energies[n]
    elif electric:
        e = e0[prev, depot]
        if linear:
            e += kd.e1[t, prev, depot] * carried
    used += e
    energy -= e
    if energy < -1e-12:
        deficit -= energy
    end = kd.type_end[t]
    if time > end:
        warp += time - end
        time = end
    duration = time - start
    max_duration = kd.type_max_duration[t]
    if duration > max_duration:
        warp += duration - max_duration
    out[DISTANCE] = distance
    out[DRIVING] = driving
    out[CHARGING] = charging
    out[DURATION] = duration
    out[TIME_WARP] = warp
    out[EXCESS_LOAD] = excess
    out[ENERGY_DEFICIT] = deficit
    out[ENERGY_COST] = energy_cost
    out[ENERGY_USED] = used
    return stops


@njit(cache=True)
def objective_cost(kd: Any, t: int, ev: Any) -> float:
    """The route's objective contribution (no vehicle weight, no penalties)."""
    obj = kd.objective
    if obj == OBJ_DRIVING_AND_CHARGING_TIME:
        return float(ev[DRIVING] + ev[CHARGING])
    if obj == OBJ_COST:
        # As the checker: fixed, distance and driver costs, diesel, energy drawn from the
        # battery at the depot's price, charging on the way at the charger's price
        # instead, and CO2e at the carbon price.
        fuel_l = kd.type_fuel_l_per_m[t] * ev[DISTANCE]
        co2e_kg = fuel_l * kd.type_co2e_kg_per_l[t] + ev[ENERGY_USED] * kd.type_co2e_kg_per_wh[t]
        return float(
            kd.type_fixed_cost[t]
            + kd.type_cost_per_m[t] * ev[DISTANCE]
            + kd.type_cost_per_s[t] * ev[DURATION]
            + fuel_l * kd.type_fuel_cost_per_l[t]
            + ev[ENERGY_USED] * kd.type_energy_cost_per_wh[t]
            + ev[ENERGY_COST]
            + kd.carbon_price * co2e_kg
        )
    return float(ev[DISTANCE])


@njit(cache=True)
def penalised_cost(kd: Any, t: int, n: int, ev: Any, penalties: Any) -> float:
    """Objective + vehicle weight + violation penalties; 0 for an empty route.

    ``penalties`` holds the weights of time warp, excess load and energy deficit.
    """
    if n == 0:
        return 0.0
    return float(
        objective_cost(kd, t, ev)
        + kd.route_cost
        + (
            penalties[0] * ev[TIME_WARP]
            + penalties[1] * ev[EXCESS_LOAD]
            + penalties[2] * ev[ENERGY_DEFICIT]
        )
    )


@njit(cache=True)
def is_feasible(ev: Any) -> bool:
    return bool(
        ev[TIME_WARP] <= WARP_TOL
        and ev[EXCESS_LOAD] <= LOAD_TOL
        and ev[ENERGY_DEFICIT] <= ENERGY_TOL
    )


@njit(cache=True)
def bound_arcs(kd: Any) -> Any:
    """The arc matrix whose sum over a route is a lower bound on the route's objective
    (the route's weight and penalties aside), exact without charging: driving time, s,
    for the driving-and-charging-time objective (charging time is never negative),
    distance, m, for the distance objectives."""
    if kd.objective == OBJ_DRIVING_AND_CHARGING_TIME:
        return kd.dur
    return kd.dist


@njit(cache=True)
def bound_base(kd: Any, ev: Any) -> float:
    """A route's sum of :func:`bound_arcs` (driving time, s, or distance, m) from its
    evaluation."""
    if kd.objective == OBJ_DRIVING_AND_CHARGING_TIME:
        return float(ev[DRIVING])
    return float(ev[DISTANCE])


@njit(cache=True)
def route_arcs(kd: Any, arcs: Any, t: int, route: Any, n: int) -> float:
    """Sum of ``arcs`` over ``route[:n]`` from the type's depot and back (0 when empty)."""
    if n == 0:
        return 0.0
    depot = kd.type_depot[t]
    d = arcs[depot, route[0]] + arcs[route[n - 1], depot]
    for p in range(n - 1):
        d += arcs[route[p], route[p + 1]]
    return float(d)


@njit(cache=True)
def insertion_costs(
    kd: Any,
    t: int,
    route: Any,
    n: int,
    u: int,
    positions: Any,
    penalties: Any,
    buf: Any,
    energies: Any,
    out: Any,
    charges: Any,
    costs: Any,
) -> None:
    """Penalised cost of ``route[:n]`` with ``u`` inserted at each of ``positions``."""
    for k in range(positions.shape[0]):
        p = positions[k]
        for q in range(p):
            buf[q] = route[q]
        buf[p] = u
        for q in range(p, n):
            buf[q + 1] = route[q]
        evaluate_route(kd, t, buf, n + 1, energies, _B(False), out, charges)
        costs[k] = penalised_cost(kd, t, n + 1, out, penalties)


# --------------------------------------------------------------------------------------
# Route segments (constant-time move evaluation)
#
# A segment is a stretch of a route summarised in ``NUM_SEG`` numbers from which the
# evaluation of any concatenation of segments follows in O(1) (Vidal et al. 2013):
# distance, driving time, the time-warp data (duration with waiting, time warp, earliest
# and latest start), load, and the energy of its arcs as ``E0 + E1W + E1S * load after``
# (energy affine in the load carried).
#
# A charging stop splits a segment into a *head* (the stops before its first charging
# stop), that first stop, whose charge is open until the energy on arrival is known
# (from the segment joined in front, or the start energy), and a *body* from the
# departure there to the end. Under full recharge the body's later charging stops are
# settled as segments join (each starts from a full battery): their charging time,
# energy cost and deficits are summed, and the energy used since the last one is kept
# for the next join. Under partial recharge a route with one charging stop is settled
# at the end (the stop charges what the rest of the route needs); with more, how much
# a stop charges depends on the legs ahead and the waiting before the next charger, and
# segments give lower bounds (:func:`_charge_stop_bound`), which is all a verdict needs
# to refuse a move. Routes with a charging stop and load-dependent energy, and diesel
# vans at a charger, are simulated (:func:`_charging_segments`).
#
# Segments are tuples of ``NUM_SEG`` floats joined in registers (:func:`_seg_join`
# returns a new one); the search keeps one forward and one backward segment per client
# in ``SearchState.fwd`` and ``bwd`` rows (:func:`_refresh_segments`).
SEG_DIST = 0  # m, arcs inside the segment
SEG_DRIVE = 1  # s, driving inside the segment
SEG_DUR = 2  # s, duration with service and waiting, from the start at the first stop
SEG_WARP = 3  # s, time warp
SEG_EARLY = 4  # s, earliest start at the first stop without waiting
SEG_LATE = 5  # s, latest start at the first stop without more time warp
SEG_LOAD = 6  # kg delivered in the segment
SEG_E0 = 7  # Wh, load-independent energy of the arcs
SEG_E1S = 8  # Wh per kg, sum of the load terms of the arcs
SEG_E1W = 9  # Wh, load terms times the segment's own load carried on each arc
SEG_CHARGERS = 10  # charging stops in the segment
SEG_FIRST = 11  # location of the first stop
SEG_LAST = 12  # location of the last stop
# With a charging stop, SEG_DUR .. SEG_LATE describe the head only, and:
SEG_HEAD_LAST = 13  # location of the head's last stop, -1 for no head
SEG_CHARGER = 14  # location of the first charging stop
SEG_HEAD_WH = 15  # Wh used from the first stop to the first charging stop
SEG_TAIL_WH = 16  # Wh used after the last charging stop (all of it without one)
SEG_BODY_DUR = 17  # s, time-warp data of the body, from leaving the first charging stop
SEG_BODY_WARP = 18
SEG_BODY_EARLY = 19
SEG_BODY_LATE = 20
SEG_DEFICIT = 21  # Wh short on the legs between the segment's charging stops
SEG_CHARGING = 22  # s charging at the later charging stops
SEG_ENERGY_COST = 23  # cost of the energy charged at the later charging stops
NUM_SEG = 24


@njit(cache=True)
def _seg_row(s: Any) -> tuple[float, ...]:
    """The segment stored in the row ``s`` (of ``SearchState.fwd`` or ``bwd``)."""
    return (
        s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11],
        s[12], s[13], s[14], s[15], s[16], s[17], s[18], s[19], s[20], s[21], s[22], s[23],
    )  # fmt: skip


@njit(cache=True)
def _seg_store(s: Any, out: Any) -> None:
    """Writes the segment ``s`` into the row ``out``."""
    for f in range(NUM_SEG):
        out[f] = s[f]


@njit(cache=True, inline="always")
def _tw_join(
    a_dur: float,
    a_warp: float,
    a_early: float,
    a_late: float,
    d: float,
    b_dur: float,
    b_warp: float,
    b_early: float,
    b_late: float,
) -> tuple[float, float, float, float]:
    """Time-warp data (duration, warp, earliest, latest) of ``a``, ``d`` s of driving,
    then ``b`` (Vidal et al. 2013)."""
    delta = a_dur - a_warp + d
    wait = max(b_early - delta - a_late, 0.0)
    warp = max(a_early + delta - b_late, 0.0)
    return (
        a_dur + b_dur + d + wait,
        a_warp + b_warp + warp,
        max(b_early - delta, a_early) - wait,
        min(b_late - delta, a_late) + warp,
    )


@njit(cache=True)
def _charging_segments(kd: Any, t: int, chargers: float) -> bool:
    """Whether a whole route of type ``t`` with ``chargers`` charging stops can be judged
    from segments, for an electric van with a finite battery and energy independent of
    the load: exactly under full recharge or with one stop under partial recharge (it
    charges what the rest of the route needs), as a lower bound with more under partial
    recharge (:func:`_seg_evaluate`)."""
    if chargers == 0.0:
        return True
    return bool(
        kd.type_electric[t] != 0
        and kd.type_hook[t] == 0
        and kd.type_battery[t] < np.inf
        and kd.e1.shape[1] == 0
    )


@njit(cache=True)
def _charge_stop(
    kd: Any, t: int, c: int, used_wh: float, start_wh: float, need_wh: float
) -> tuple[float, float, float, float, float, float, float, float]:
    """A charging stop at location ``c`` after ``used_wh`` since ``start_wh``, charging
    up to ``need_wh`` (capped at the battery; ``inf`` for a full recharge), as
    :func:`evaluate_route`: the stop's time-warp data (duration, warp, earliest,
    latest), the deficit on the way in, the charging time, the energy cost and the
    energy on leaving, Wh."""
    battery = kd.type_battery[t]
    arrival = start_wh - used_wh
    deficit = 0.0
    if arrival < 0.0:
        deficit = -arrival
        arrival = 0.0
    target = min(need_wh, battery) if need_wh > arrival else arrival
    k = c - kd.first_charger
    ct = 0.0
    cost = 0.0
    if target > arrival:
        ct = charge_time(kd, t, k, arrival, target)
        cost = (target - arrival) * (kd.charger_price[k] - kd.type_energy_cost_per_wh[t])
    # Charging must end by the time the charger closes: a window on the start.
    early = kd.early[c]
    late = kd.late[c] - ct
    warp = 0.0
    if late < early:
        warp = early - late
        late = early
    return ct, warp, early, late, deficit, ct, cost, max(target, arrival)


@njit(cache=True)
def _charge_stop_bound(
    kd: Any, t: int, c: int, used_wh: float, start_wh: float
) -> tuple[float, float, float, float, float, float, float]:
    """A partial-recharge charging stop at location ``c`` after ``used_wh`` since
    ``start_wh``, as lower bounds (the amount it charges depends on the legs ahead and on
    the waiting before the next charger, see :func:`_use_waiting`): no charging time and
    no energy cost (NaN where the charger's energy is cheaper than the depot's, where a
    lower bound would need the amount), and the deficit on the way in, exactly. After a
    charging stop ``start_wh`` is the battery: the stop charged at most a full battery
    and at least what this leg needs up to a full battery, so the leg is short by
    ``max(0, used - battery)`` Wh. Returns ``_charge_stop``'s first seven figures."""
    k = c - kd.first_charger
    cost = 0.0 if kd.charger_price[k] >= kd.type_energy_cost_per_wh[t] else np.nan
    short = used_wh - start_wh
    deficit = short if short > 0.0 else 0.0
    return 0.0, 0.0, kd.early[c], kd.late[c], deficit, 0.0, cost


@njit(cache=True)
def _seg_node(kd: Any, v: int) -> tuple[float, ...]:
    """The segment of the single stop ``v`` (a client or a charger)."""
    fv = float(v)
    if v >= kd.first_charger:
        return (
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, fv,
            fv, -1.0, fv, 0.0, 0.0, 0.0, 0.0, -np.inf, np.inf, 0.0, 0.0, 0.0,
        )  # fmt: skip
    return (
        0.0, 0.0, kd.service[v], 0.0, kd.early[v], kd.late[v], kd.demand[v], 0.0, 0.0, 0.0, 0.0, fv,
        fv, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    )  # fmt: skip


@njit(cache=True)
def _seg_depot(kd: Any, t: int, start: bool) -> tuple[float, ...]:
    """The depot of type ``t`` as the route's first stop (leaving at the type's start
    time) or last stop (back by the type's end of shift)."""
    d = float(kd.type_depot[t])
    early = kd.type_start[t] if start else -np.inf
    late = kd.type_start[t] if start else kd.type_end[t]
    return (
        0.0, 0.0, 0.0, 0.0, early, late, 0.0, 0.0, 0.0, 0.0, 0.0, d,
        d, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    )  # fmt: skip


@njit(cache=True)
def _arc_energy(kd: Any, t: int, i: int, j: int) -> tuple[float, float]:
    """Energy of the arc ``i`` -> ``j`` for type ``t`` as ``(Wh, Wh per kg carried)``
    (zero for a diesel van)."""
    if kd.type_electric[t] == 0:
        return 0.0, 0.0
    return kd.e0[t, i, j], (kd.e1[t, i, j] if kd.e1.shape[1] > 0 else 0.0)


@njit(cache=True, inline="always")
def _seg_join(kd: Any, t: int, a: Any, b: Any) -> tuple[float, ...]:
    """Segment ``a`` followed by segment ``b`` for vehicle type ``t``."""
    i = int(a[SEG_LAST])
    j = int(b[SEG_FIRST])
    d = kd.dur[i, j]
    e0, e1 = _arc_energy(kd, t, i, j)
    a_chargers = a[SEG_CHARGERS]
    b_chargers = b[SEG_CHARGERS]
    # Fields that only mean something with a charging stop stay 0.0 without one.
    head_last = 0.0
    charger = 0.0
    head_wh = 0.0
    body_dur = 0.0
    body_warp = 0.0
    body_early = 0.0
    body_late = 0.0
    deficit = 0.0
    charging = 0.0
    energy_cost = 0.0
    if a_chargers == 0.0 and b_chargers == 0.0:
        dur, warp, early, late = _tw_join(
            a[SEG_DUR], a[SEG_WARP], a[SEG_EARLY], a[SEG_LATE],
            d, b[SEG_DUR], b[SEG_WARP], b[SEG_EARLY], b[SEG_LATE],
        )  # fmt: skip
        tail_wh = a[SEG_TAIL_WH] + e0 + b[SEG_TAIL_WH]
    elif a_chargers == 0.0:
        # a joins b's head.
        if b[SEG_HEAD_LAST] < 0.0:
            head_last = a[SEG_LAST]
            head_wh = a[SEG_TAIL_WH] + e0
            dur, warp, early, late = a[SEG_DUR], a[SEG_WARP], a[SEG_EARLY], a[SEG_LATE]
        else:
            dur, warp, early, late = _tw_join(
                a[SEG_DUR], a[SEG_WARP], a[SEG_EARLY], a[SEG_LATE],
                d, b[SEG_DUR], b[SEG_WARP], b[SEG_EARLY], b[SEG_LATE],
            )  # fmt: skip
            head_last = b[SEG_HEAD_LAST]
            head_wh = a[SEG_TAIL_WH] + e0 + b[SEG_HEAD_WH]
        charger = b[SEG_CHARGER]
        tail_wh = b[SEG_TAIL_WH]
        body_dur, body_warp = b[SEG_BODY_DUR], b[SEG_BODY_WARP]
        body_early, body_late = b[SEG_BODY_EARLY], b[SEG_BODY_LATE]
        deficit, charging, energy_cost = b[SEG_DEFICIT], b[SEG_CHARGING], b[SEG_ENERGY_COST]
    else:
        dur, warp, early, late = a[SEG_DUR], a[SEG_WARP], a[SEG_EARLY], a[SEG_LATE]
        head_last, charger, head_wh = a[SEG_HEAD_LAST], a[SEG_CHARGER], a[SEG_HEAD_WH]
        deficit, charging, energy_cost = a[SEG_DEFICIT], a[SEG_CHARGING], a[SEG_ENERGY_COST]
        if b_chargers == 0.0:
            # b joins a's body.
            body_dur, body_warp, body_early, body_late = _tw_join(
                a[SEG_BODY_DUR], a[SEG_BODY_WARP], a[SEG_BODY_EARLY], a[SEG_BODY_LATE],
                d, b[SEG_DUR], b[SEG_WARP], b[SEG_EARLY], b[SEG_LATE],
            )  # fmt: skip
            tail_wh = a[SEG_TAIL_WH] + e0 + b[SEG_TAIL_WH]
        else:
            # a's body, b's head, b's first charging stop (settled now), b's body.
            body_dur, body_warp = a[SEG_BODY_DUR], a[SEG_BODY_WARP]
            body_early, body_late = a[SEG_BODY_EARLY], a[SEG_BODY_LATE]
            c = int(b[SEG_CHARGER])
            used = a[SEG_TAIL_WH] + e0
            if b[SEG_HEAD_LAST] >= 0.0:
                body_dur, body_warp, body_early, body_late = _tw_join(
                    body_dur, body_warp, body_early, body_late,
                    d, b[SEG_DUR], b[SEG_WARP], b[SEG_EARLY], b[SEG_LATE],
                )  # fmt: skip
                used += b[SEG_HEAD_WH]
                d = kd.dur[int(b[SEG_HEAD_LAST]), c]
            if kd.full_recharge:
                c_dur, c_warp, c_early, c_late, c_deficit, ct, cost, _ = _charge_stop(
                    kd, t, c, used, kd.type_battery[t], np.inf
                )
            else:
                c_dur, c_warp, c_early, c_late, c_deficit, ct, cost = _charge_stop_bound(
                    kd, t, c, used, kd.type_battery[t]
                )
            body_dur, body_warp, body_early, body_late = _tw_join(
                body_dur, body_warp, body_early, body_late, d, c_dur, c_warp, c_early, c_late
            )
            body_dur, body_warp, body_early, body_late = _tw_join(
                body_dur, body_warp, body_early, body_late,
                0.0, b[SEG_BODY_DUR], b[SEG_BODY_WARP], b[SEG_BODY_EARLY], b[SEG_BODY_LATE],
            )  # fmt: skip
            tail_wh = b[SEG_TAIL_WH]
            deficit = deficit + c_deficit + b[SEG_DEFICIT]
            charging = charging + ct + b[SEG_CHARGING]
            energy_cost = energy_cost + cost + b[SEG_ENERGY_COST]
    b_load = b[SEG_LOAD]
    return (
        a[SEG_DIST] + kd.dist[i, j] + b[SEG_DIST],
        a[SEG_DRIVE] + kd.dur[i, j] + b[SEG_DRIVE],
        dur,
        warp,
        early,
        late,
        a[SEG_LOAD] + b_load,
        a[SEG_E0] + e0 + b[SEG_E0],
        a[SEG_E1S] + e1 + b[SEG_E1S],
        a[SEG_E1W] + (a[SEG_E1S] + e1) * b_load + b[SEG_E1W],
        a_chargers + b_chargers,
        a[SEG_FIRST],
        b[SEG_LAST],
        head_last,
        charger,
        head_wh,
        tail_wh,
        body_dur,
        body_warp,
        body_early,
        body_late,
        deficit,
        charging,
        energy_cost,
    )


@njit(cache=True)
def _seg_join_called(kd: Any, t: int, a: Any, b: Any) -> tuple[float, ...]:
    """:func:`_seg_join` as a call, for the paths that are not hot (refreshing a route's
    segments, charging stops at a cut): inlining it everywhere costs compile time."""
    return _seg_join(kd, t, a, b)


@njit(cache=True)
def _seg_evaluate(kd: Any, t: int, s: Any, out: Any) -> None:
    """The evaluation vector (as :func:`evaluate_route`) of a whole route, depot to depot,
    given as one segment (with charging stops only where :func:`_charging_segments`).

    Under partial recharge with two or more charging stops every figure is a lower bound
    of the simulated one: no charging time or energy cost at any stop (NaN energy cost
    where a charger is cheaper than the depot), so duration and time warp as if charging
    took no time (neither can shrink when a stop takes longer); distance, driving, load,
    energy used and the deficits are exact."""
    dur = s[SEG_DUR]
    warp = s[SEG_WARP]
    used = s[SEG_E0] + s[SEG_E1W] if kd.type_electric[t] != 0 else 0.0
    start_wh = kd.type_start_energy[t]
    charging = 0.0
    energy_cost = 0.0
    if s[SEG_CHARGERS] > 0.0:
        c = int(s[SEG_CHARGER])
        bound = not kd.full_recharge and s[SEG_CHARGERS] > 1.0
        if bound:
            c_dur, c_warp, c_early, c_late, deficit, ct, cost = _charge_stop_bound(
                kd, t, c, s[SEG_HEAD_WH], start_wh
            )
            after = kd.type_battery[t]  # for the last leg, after the last stop
        else:
            # Under partial recharge the one stop charges what the rest of the route needs.
            need = np.inf if kd.full_recharge else s[SEG_TAIL_WH]
            c_dur, c_warp, c_early, c_late, deficit, ct, cost, after = _charge_stop(
                kd, t, c, s[SEG_HEAD_WH], start_wh, need
            )
        dur, warp, early, late = _tw_join(
            dur,
            warp,
            s[SEG_EARLY],
            s[SEG_LATE],
            kd.dur[int(s[SEG_HEAD_LAST]), c],
            c_dur,
            c_warp,
            c_early,
            c_late,
        )
        dur, warp, early, late = _tw_join(
            dur,
            warp,
            early,
            late,
            0.0,
            s[SEG_BODY_DUR],
            s[SEG_BODY_WARP],
            s[SEG_BODY_EARLY],
            s[SEG_BODY_LATE],
        )
        short = s[SEG_TAIL_WH] - after
        deficit += s[SEG_DEFICIT] + (short if short > 1e-12 else 0.0)
        charging = ct + s[SEG_CHARGING]
        energy_cost = cost + s[SEG_ENERGY_COST]
    else:
        short = used - start_wh
        deficit = short if short > 1e-12 else 0.0
    duration = dur - warp
    if duration > kd.type_max_duration[t]:
        warp += duration - kd.type_max_duration[t]
    capacity = kd.type_capacity[t]
    out[DISTANCE] = s[SEG_DIST]
    out[DRIVING] = s[SEG_DRIVE]
    out[CHARGING] = charging
    out[DURATION] = duration
    out[TIME_WARP] = warp
    out[EXCESS_LOAD] = s[SEG_LOAD] - capacity if s[SEG_LOAD] > capacity else 0.0
    out[ENERGY_DEFICIT] = deficit
    out[ENERGY_COST] = energy_cost
    out[ENERGY_USED] = used


@njit(cache=True)
def _refresh_segments(kd: Any, st: Any, r: int) -> None:
    """Recomputes the segments of route ``r`` if it changed since they were computed:
    ``fwd[v]`` (depot to client ``v``) and ``bwd[v]`` (client ``v`` to depot) for each
    client on it."""
    if st.seg_stamps[r] == st.stamps[r]:
        return
    t = st.types[r]
    n = st.lens[r]
    route = st.routes[r]
    first_charger = kd.first_charger
    cur = _seg_depot(kd, t, _B(True))
    for p in range(n):
        v = route[p]
        cur = _seg_join_called(kd, t, cur, _seg_node(kd, v))
        if v < first_charger:
            _seg_store(cur, st.fwd[v])
    cur = _seg_depot(kd, t, _B(False))
    for p in range(n - 1, -1, -1):
        v = route[p]
        cur = _seg_join_called(kd, t, _seg_node(kd, v), cur)
        if v < first_charger:
            _seg_store(cur, st.bwd[v])
    st.seg_stamps[r] = st.stamps[r]


@njit(cache=True)
def _judged(kd: Any, st: Any, r: int) -> bool:
    """Whether the moves of route ``r`` are judged from segments before any simulation
    (``counters[CONCAT]`` and ``counters[CHARGING_MIN_STOPS]``)."""
    mode = st.counters[CONCAT]
    if mode == SEGMENTS_OFF:
        return False
    chargers = float(st.chargers[r])
    if chargers == 0.0:
        return True
    return (
        mode == SEGMENTS_ALL
        and st.lens[r] >= st.counters[CHARGING_MIN_STOPS]
        and _charging_segments(kd, st.types[r], chargers)
    )


@njit(cache=True)
def _seg_prefix(kd: Any, st: Any, r: int, t: int, p: int) -> tuple[bool, tuple[float, ...]]:
    """Depot to stop ``p`` of route ``r`` (just the depot for ``p`` = -1), and whether it
    could be told.

    Segments are kept for clients only: charging stops at the end are joined on; False
    (cannot tell) after more than two in a row."""
    route = st.routes[r]
    q = p
    while q >= 0 and route[q] >= kd.first_charger:
        q -= 1
    s = _seg_depot(kd, t, _B(True)) if q < 0 else _seg_row(st.fwd[route[q]])
    if p - q > 2:
        return False, s
    for j in range(q + 1, p + 1):
        s = _seg_join_called(kd, t, s, _seg_node(kd, route[j]))
    return True, s


@njit(cache=True)
def _seg_suffix(kd: Any, st: Any, r: int, t: int, p: int) -> tuple[bool, tuple[float, ...]]:
    """Stop ``p`` of route ``r`` to the depot (just the depot for ``p`` = its length),
    and whether it could be told; charging stops at the start are joined on as in
    :func:`_seg_prefix`."""
    route = st.routes[r]
    n = st.lens[r]
    q = p
    while q < n and route[q] >= kd.first_charger:
        q += 1
    s = _seg_depot(kd, t, _B(False)) if q >= n else _seg_row(st.bwd[route[q]])
    if q - p > 2:
        return False, s
    for j in range(q - 1, p - 1, -1):
        s = _seg_join_called(kd, t, _seg_node(kd, route[j]), s)
    return True, s


@njit(cache=True)
def _seg_cost(kd: Any, t: int, n: int, s: Any, penalties: Any, out: Any) -> float:
    """Penalised cost of the whole route ``s`` (``n`` stops, depot to depot) for type
    ``t``; NaN where :func:`_charging_segments` does not hold."""
    if n == 0:
        return 0.0
    if not _charging_segments(kd, t, s[SEG_CHARGERS]):
        return np.nan
    _seg_evaluate(kd, t, s, out)
    return penalised_cost(kd, t, n, out, penalties)


@njit(cache=True)
def _seg_moved(kd: Any, st: Any, r: int, t: int, pu: int, seg: int, rv: int, at: int) -> float:
    """Penalised cost of route ``rv`` (type ``t``) with stops ``pu .. pu + seg - 1`` of
    route ``r`` put before its stop ``at``, from segments; NaN where they cannot tell."""
    ok, s = _seg_prefix(kd, st, rv, t, at - 1)
    if not ok:
        return np.nan
    for p in range(pu, pu + seg):
        s = _seg_join(kd, t, s, _seg_node(kd, st.routes[r, p]))
    ok, b = _seg_suffix(kd, st, rv, t, at)
    if not ok:
        return np.nan
    s = _seg_join(kd, t, s, b)
    return _seg_cost(kd, t, st.lens[rv] + seg, s, st.penalties, st.out_a)


@njit(cache=True)
def _seg_tails(kd: Any, st: Any, ru: int, t: int, iu: int, rv: int, iv: int) -> float:
    """Penalised cost of ``routes[ru][:iu]`` followed by ``routes[rv][iv:]`` (one vehicle
    type ``t``; ``ru`` may be ``rv``, for taking a stretch out), from segments; NaN where
    they cannot tell."""
    ok, a = _seg_prefix(kd, st, ru, t, iu - 1)
    if not ok:
        return np.nan
    ok, b = _seg_suffix(kd, st, rv, t, iv)
    if not ok:
        return np.nan
    s = _seg_join(kd, t, a, b)
    return _seg_cost(kd, t, iu + st.lens[rv] - iv, s, st.penalties, st.out_a)


@njit(cache=True)
def _seg_replaced(kd: Any, st: Any, r: int, t: int, p: int, v: int) -> float:
    """Penalised cost of route ``r`` (type ``t``) with stop ``p`` replaced by ``v``, from
    segments; NaN where they cannot tell."""
    ok, a = _seg_prefix(kd, st, r, t, p - 1)
    if not ok:
        return np.nan
    ok, b = _seg_suffix(kd, st, r, t, p + 1)
    if not ok:
        return np.nan
    s = _seg_join(kd, t, _seg_join(kd, t, a, _seg_node(kd, v)), b)
    return _seg_cost(kd, t, st.lens[r], s, st.penalties, st.out_a)


# Light segments: routes without charging stops (the common case) are judged from a
# dozen numbers held in registers, ``(distance, driving, duration, warp, earliest,
# latest, load, E0, E1S, E1W, first, last)``, read from the stored segments: the full
# 24-field join costs about what simulating a short route does.


@njit(cache=True)
def _lt_row(s: Any) -> tuple[float, ...]:
    """The light segment of the stored segment ``s`` (one without charging stops)."""
    return (
        s[SEG_DIST],
        s[SEG_DRIVE],
        s[SEG_DUR],
        s[SEG_WARP],
        s[SEG_EARLY],
        s[SEG_LATE],
        s[SEG_LOAD],
        s[SEG_E0],
        s[SEG_E1S],
        s[SEG_E1W],
        s[SEG_FIRST],
        s[SEG_LAST],
    )


@njit(cache=True)
def _lt_node(kd: Any, v: int) -> tuple[float, ...]:
    """The light segment of the client ``v``."""
    fv = float(v)
    return (
        0.0,
        0.0,
        kd.service[v],
        0.0,
        kd.early[v],
        kd.late[v],
        kd.demand[v],
        0.0,
        0.0,
        0.0,
        fv,
        fv,
    )


@njit(cache=True)
def _lt_prefix(kd: Any, st: Any, r: int, t: int, p: int) -> tuple[float, ...]:
    """Depot to stop ``p`` of route ``r`` (no charging stops), as :func:`_seg_prefix`."""
    if p < 0:
        d = float(kd.type_depot[t])
        start = kd.type_start[t]
        return (0.0, 0.0, 0.0, 0.0, start, start, 0.0, 0.0, 0.0, 0.0, d, d)
    return _lt_row(st.fwd[st.routes[r, p]])


@njit(cache=True)
def _lt_suffix(kd: Any, st: Any, r: int, t: int, p: int) -> tuple[float, ...]:
    """Stop ``p`` of route ``r`` (no charging stops) to the depot, as :func:`_seg_suffix`."""
    if p >= st.lens[r]:
        d = float(kd.type_depot[t])
        return (0.0, 0.0, 0.0, 0.0, -np.inf, kd.type_end[t], 0.0, 0.0, 0.0, 0.0, d, d)
    return _lt_row(st.bwd[st.routes[r, p]])


@njit(cache=True)
def _lt_join(kd: Any, t: int, a: Any, b: Any) -> tuple[float, ...]:
    """Light segment ``a`` followed by ``b`` (as :func:`_seg_join` without charging
    stops)."""
    i = int(a[11])
    j = int(b[10])
    d = kd.dur[i, j]
    e0, e1 = _arc_energy(kd, t, i, j)
    dur, warp, early, late = _tw_join(a[2], a[3], a[4], a[5], d, b[2], b[3], b[4], b[5])
    b_load = b[6]
    return (
        a[0] + kd.dist[i, j] + b[0],
        a[1] + d + b[1],
        dur,
        warp,
        early,
        late,
        a[6] + b_load,
        a[7] + e0 + b[7],
        a[8] + e1 + b[8],
        a[9] + (a[8] + e1) * b_load + b[9],
        a[10],
        b[11],
    )


@njit(cache=True)
def _lt_cost(kd: Any, t: int, n: int, s: Any, penalties: Any, out: Any) -> float:
    """Penalised cost of the whole route ``s`` (light, ``n`` stops, depot to depot), as
    :func:`_seg_cost`."""
    if n == 0:
        return 0.0
    warp = s[3]
    duration = s[2] - warp
    if duration > kd.type_max_duration[t]:
        warp += duration - kd.type_max_duration[t]
    used = s[7] + s[9] if kd.type_electric[t] != 0 else 0.0
    short = used - kd.type_start_energy[t]
    capacity = kd.type_capacity[t]
    out[DISTANCE] = s[0]
    out[DRIVING] = s[1]
    out[CHARGING] = 0.0
    out[DURATION] = duration
    out[TIME_WARP] = warp
    out[EXCESS_LOAD] = s[6] - capacity if s[6] > capacity else 0.0
    out[ENERGY_DEFICIT] = short if short > 1e-12 else 0.0
    out[ENERGY_COST] = 0.0
    out[ENERGY_USED] = used
    return penalised_cost(kd, t, n, out, penalties)


@njit(cache=True)
def _lt_moved(kd: Any, st: Any, r: int, t: int, pu: int, seg: int, rv: int, at: int) -> float:
    """Penalised cost of route ``rv`` (type ``t``) with stops ``pu .. pu + seg - 1`` of
    route ``r`` put before its stop ``at`` (light)."""
    s = _lt_prefix(kd, st, rv, t, at - 1)
    for p in range(pu, pu + seg):
        s = _lt_join(kd, t, s, _lt_node(kd, st.routes[r, p]))
    s = _lt_join(kd, t, s, _lt_suffix(kd, st, rv, t, at))
    return _lt_cost(kd, t, st.lens[rv] + seg, s, st.penalties, st.out_a)


@njit(cache=True)
def _lt_tails(kd: Any, st: Any, ru: int, t: int, iu: int, rv: int, iv: int) -> float:
    """Penalised cost of ``routes[ru][:iu]`` followed by ``routes[rv][iv:]`` (light)."""
    s = _lt_join(kd, t, _lt_prefix(kd, st, ru, t, iu - 1), _lt_suffix(kd, st, rv, t, iv))
    return _lt_cost(kd, t, iu + st.lens[rv] - iv, s, st.penalties, st.out_a)


@njit(cache=True)
def _lt_replaced(kd: Any, st: Any, r: int, t: int, p: int, v: int) -> float:
    """Penalised cost of route ``r`` (type ``t``) with stop ``p`` replaced by ``v``
    (light)."""
    s = _lt_join(kd, t, _lt_prefix(kd, st, r, t, p - 1), _lt_node(kd, v))
    s = _lt_join(kd, t, s, _lt_suffix(kd, st, r, t, p + 1))
    return _lt_cost(kd, t, st.lens[r], s, st.penalties, st.out_a)


@njit(cache=True)
def _tails_verdict(kd: Any, st: Any, ru: int, iu: int, rv: int, iv: int, light: bool) -> int:
    """:func:`_better` for exchanging the tails of route ``ru`` from stop ``iu`` and of
    route ``rv`` from stop ``iv`` (2-opt*; both routes of one vehicle type; ``light``:
    neither has a charging stop)."""
    t = st.types[ru]
    if light:
        return _better(
            _lt_tails(kd, st, ru, t, iu, rv, iv),
            _lt_tails(kd, st, rv, t, iv, ru, iu),
            st.costs[ru] + st.costs[rv],
        )
    return _better(
        _seg_tails(kd, st, ru, t, iu, rv, iv),
        _seg_tails(kd, st, rv, t, iv, ru, iu),
        st.costs[ru] + st.costs[rv],
    )


@njit(cache=True)
def _relocate_verdict(
    kd: Any, st: Any, ru: int, pu: int, seg: int, rv: int, at: int, light: bool
) -> int:
    """:func:`_better` for moving stops ``pu .. pu + seg - 1`` of route ``ru`` before stop
    ``at`` of route ``rv`` (another route; ``light``: neither has a charging stop)."""
    tu = st.types[ru]
    tv = st.types[rv]
    if light:
        return _better(
            _lt_tails(kd, st, ru, tu, pu, ru, pu + seg),
            _lt_moved(kd, st, ru, tv, pu, seg, rv, at),
            st.costs[ru] + st.costs[rv],
        )
    return _better(
        _seg_tails(kd, st, ru, tu, pu, ru, pu + seg),
        _seg_moved(kd, st, ru, tv, pu, seg, rv, at),
        st.costs[ru] + st.costs[rv],
    )


@njit(cache=True)
def _swap_verdict(kd: Any, st: Any, ru: int, pu: int, rv: int, pv: int, light: bool) -> int:
    """:func:`_better` for swapping stop ``pu`` of route ``ru`` and stop ``pv`` of route
    ``rv`` (``light``: neither has a charging stop)."""
    tu = st.types[ru]
    tv = st.types[rv]
    if light:
        return _better(
            _lt_replaced(kd, st, ru, tu, pu, st.routes[rv, pv]),
            _lt_replaced(kd, st, rv, tv, pv, st.routes[ru, pu]),
            st.costs[ru] + st.costs[rv],
        )
    return _better(
        _seg_replaced(kd, st, ru, tu, pu, st.routes[rv, pv]),
        _seg_replaced(kd, st, rv, tv, pv, st.routes[ru, pu]),
        st.costs[ru] + st.costs[rv],
    )


@njit(cache=True)
def _alone_verdict(kd: Any, st: Any, ru: int, pu: int, r: int, light: bool) -> int:
    """:func:`_better` for moving stop ``pu`` of route ``ru`` to the empty route ``r``
    (``light``: ``ru`` has no charging stop)."""
    tu = st.types[ru]
    t = st.types[r]
    if light:
        return _better(
            _lt_tails(kd, st, ru, tu, pu, ru, pu + 1),
            _lt_moved(kd, st, ru, t, pu, _I(1), r, _I(0)),
            st.costs[ru] + st.costs[r],
        )
    return _better(
        _seg_tails(kd, st, ru, tu, pu, ru, pu + 1),
        _seg_moved(kd, st, ru, t, pu, _I(1), r, _I(0)),
        st.costs[ru] + st.costs[r],
    )


@njit(cache=True)
def _better(new_a: float, new_b: float, old: float) -> int:
    """1 where ``new_a + new_b`` is below ``old`` (as :func:`_try`), 0 where not, -1 where
    a cost is unknown (NaN)."""
    if math.isnan(new_a) or math.isnan(new_b):
        return -1
    new = new_a + new_b
    return 1 if new < old - 1e-9 * max(1.0, abs(old)) else 0


# --------------------------------------------------------------------------------------
# Local search


@structref.register
class SearchStateType(_ArraysType):
    pass


class SearchState(structref.StructRefProxy):  # type: ignore[misc, unused-ignore]
    """The local search's working plan and scratch space (all arrays, see the module
    docstring and ``SEARCH_STATE_FIELDS``). Rows ``0 .. counters[NUM_ROUTES] - 1`` of the
    route arrays are in use. Made by :func:`make_search_state`.

    A structref, like :class:`KernelData`: a named tuple of twenty arrays is passed to
    every kernel as some 140 machine arguments, which cost compile time in each of them
    (a first solve compiled about a third longer) and time in every call."""

    routes: np.ndarray
    lens: np.ndarray
    types: np.ndarray
    stamps: np.ndarray
    evals: np.ndarray
    costs: np.ndarray
    charger_ok: np.ndarray
    pos_route: np.ndarray
    pos_index: np.ndarray
    last_tested: np.ndarray
    clients: np.ndarray
    counters: np.ndarray
    tested: np.ndarray
    penalties: np.ndarray
    buf_a: np.ndarray
    buf_b: np.ndarray
    energies: np.ndarray
    out_a: np.ndarray
    out_b: np.ndarray
    charges: np.ndarray
    fwd: np.ndarray
    bwd: np.ndarray
    seg_stamps: np.ndarray


SEARCH_STATE_FIELDS = (
    "routes",  # (R, L) int64, padded with -1
    "lens",  # (R,) int64
    "types",  # (R,) int64
    "stamps",  # (R,) int64, when each route last changed
    "evals",  # (R, NUM_FIELDS) float64
    "costs",  # (R,) float64, penalised
    "charger_ok",  # (R,) int64, 1 when the charging moves found nothing
    "pos_route",  # (n,) int64, route of each client (-1: not routed)
    "pos_index",  # (n,) int64, position of each client in its route
    "last_tested",  # (n,) int64, clock when each client's moves last failed
    "clients",  # (C,) int64, the clients in the order of the last pass
    "counters",  # (NUM_COUNTERS,) int64, see CLOCK, NUM_ROUTES, NUM_TESTED, CONCAT
    "tested",  # (R,) int64, stamps of routes whose charging moves failed
    "penalties",  # (3,) float64
    "buf_a",  # (L,) int64 scratch route
    "buf_b",  # (L,) int64 scratch route
    "energies",  # (L + 1,) float64 scratch
    "out_a",  # (NUM_FIELDS,) float64 scratch
    "out_b",  # (NUM_FIELDS,) float64 scratch
    "charges",  # (L,) float64 scratch
    "fwd",  # (n, NUM_SEG) float64, segment depot .. client v of v's route
    "bwd",  # (n, NUM_SEG) float64, segment client v .. depot of v's route
    "seg_stamps",  # (R,) int64, route stamp the segments were computed for (-1: none)
    "chargers",  # (R,) int64, charging stops on each route
)
structref.define_proxy(  # type: ignore[no-untyped-call, unused-ignore]
    SearchState, SearchStateType, list(SEARCH_STATE_FIELDS)
)


@njit(cache=True)
def _make_search_state(
    routes: Any,
    lens: Any,
    types_: Any,
    stamps: Any,
    evals: Any,
    costs: Any,
    charger_ok: Any,
    pos_route: Any,
    pos_index: Any,
    last_tested: Any,
    clients: Any,
    counters: Any,
    tested: Any,
    penalties: Any,
    buf_a: Any,
    buf_b: Any,
    energies: Any,
    out_a: Any,
    out_b: Any,
    charges: Any,
    fwd: Any,
    bwd: Any,
    seg_stamps: Any,
    chargers: Any,
) -> Any:
    return SearchState(  # type: ignore[no-untyped-call, unused-ignore]
        routes,
        lens,
        types_,
        stamps,
        evals,
        costs,
        charger_ok,
        pos_route,
        pos_index,
        last_tested,
        clients,
        counters,
        tested,
        penalties,
        buf_a,
        buf_b,
        energies,
        out_a,
        out_b,
        charges,
        fwd,
        bwd,
        seg_stamps,
        chargers,
    )


def make_search_state(**arrays: np.ndarray) -> SearchState:
    """A :class:`SearchState` of the arrays named in ``SEARCH_STATE_FIELDS`` (the same
    arrays, also as plain Python attributes for the Python side)."""
    st = _make_search_state(*(arrays[name] for name in SEARCH_STATE_FIELDS))
    for name in SEARCH_STATE_FIELDS:
        setattr(st, name, arrays[name])
    return st


def search_state_type(**arrays: np.ndarray) -> Any:
    """The numba type of ``make_search_state(**arrays)``, worked out without compiled code."""
    fields = [(name, typeof(arrays[name])) for name in SEARCH_STATE_FIELDS]  # type: ignore[no-untyped-call, unused-ignore]
    return SearchStateType(fields)  # type: ignore[no-untyped-call, unused-ignore]


@njit(cache=True)
def seed(value: int) -> None:
    """Seeds the compiled code's random generator (separate from NumPy's)."""
    np.random.seed(value)


@njit(cache=True)
def _tick(st: Any) -> int:
    st.counters[CLOCK] += 1
    return int(st.counters[CLOCK])


@njit(cache=True)
def refresh_costs(kd: Any, st: Any) -> None:
    """Recomputes the penalised cost of every route (after the penalties changed)."""
    for r in range(st.counters[NUM_ROUTES]):
        st.costs[r] = penalised_cost(kd, st.types[r], st.lens[r], st.evals[r], st.penalties)


@njit(cache=True)
def _set_positions(kd: Any, st: Any, r: int) -> None:
    """Records where route ``r``'s clients are and how many charging stops it has."""
    first_charger = kd.first_charger
    chargers = 0
    for p in range(st.lens[r]):
        v = st.routes[r, p]
        if v < first_charger:
            st.pos_route[v] = r
            st.pos_index[v] = p
        else:
            chargers += 1
    st.chargers[r] = chargers


@njit(cache=True)
def _apply(kd: Any, st: Any, r: int, buf: Any, n: int, ev: Any, cost: float) -> None:
    for p in range(n):
        st.routes[r, p] = buf[p]
    for p in range(n, st.lens[r]):
        st.routes[r, p] = -1
    st.lens[r] = n
    for f in range(NUM_FIELDS):
        st.evals[r, f] = ev[f]
    st.costs[r] = cost
    st.stamps[r] = _tick(st)
    st.charger_ok[r] = 0
    _set_positions(kd, st, r)


@njit(cache=True)
def _try(kd: Any, st: Any, ra: int, la: int, rb: int, lb: int, bound: bool) -> bool:
    """Applies the new route ``buf_a[:la]`` for route ``ra`` (and ``buf_b[:lb]`` for
    ``rb`` unless ``rb < 0``) if that lowers the penalised cost.

    With an objective bounded by an arc sum (``bound``, see :func:`bound_arcs`) and
    feasible routes now, a move whose new routes' bound is not below their current
    objective cannot help (penalties are never negative): it is refused before any
    simulation."""
    two = rb >= 0
    route_cost = kd.route_cost
    if bound and is_feasible(st.evals[ra]) and (not two or is_feasible(st.evals[rb])):
        arcs = bound_arcs(kd)
        ta = st.types[ra]
        old_d = objective_cost(kd, ta, st.evals[ra]) + (route_cost if st.lens[ra] > 0 else 0.0)
        new_d = route_arcs(kd, arcs, ta, st.buf_a, la) + (route_cost if la > 0 else 0.0)
        if two:
            tb = st.types[rb]
            old_d += objective_cost(kd, tb, st.evals[rb]) + (route_cost if st.lens[rb] > 0 else 0.0)
            new_d += route_arcs(kd, arcs, tb, st.buf_b, lb) + (route_cost if lb > 0 else 0.0)
        if new_d >= old_d - 1e-9 * max(1.0, old_d):
            return False
    old = st.costs[ra]
    ta = st.types[ra]
    evaluate_route(kd, ta, st.buf_a, la, st.energies, _B(False), st.out_a, st.charges)
    new_a = penalised_cost(kd, ta, la, st.out_a, st.penalties)
    new = new_a
    new_b = 0.0
    if two:
        old += st.costs[rb]
        tb = st.types[rb]
        evaluate_route(kd, tb, st.buf_b, lb, st.energies, _B(False), st.out_b, st.charges)
        new_b = penalised_cost(kd, tb, lb, st.out_b, st.penalties)
        new += new_b
    if new < old - 1e-9 * max(1.0, abs(old)):
        _apply(kd, st, ra, st.buf_a, la, st.out_a, new_a)
        if two:
            _apply(kd, st, rb, st.buf_b, lb, st.out_b, new_b)
        return True
    return False


@njit(cache=True)
def _node(kd: Any, st: Any, r: int, p: int) -> int:
    """Stop ``p`` of route ``r``, or its depot for ``p`` = -1 or ``p`` = its length."""
    if p < 0 or p >= st.lens[r]:
        return int(kd.type_depot[st.types[r]])
    return int(st.routes[r, p])


@njit(cache=True)
def _rest_node(kd: Any, st: Any, r: int, p: int, pu: int, seg: int) -> int:
    """Stop ``p`` of route ``r`` once stops ``pu .. pu + seg - 1`` are taken out."""
    return _node(kd, st, r, p if p < pu else p + seg)


@njit(cache=True)
def _client_moves(kd: Any, st: Any, neighbours: Any, u: int, since: int, bound: bool) -> bool:
    """Relocate (1-3 stops), swap, 2-opt* and 2-opt between ``u`` and its neighbours, then
    ``u`` to an empty route; applies the first improving move.

    With an objective bounded by an arc sum (``bound``: distance, or driving time, see
    :func:`bound_arcs`) and feasible routes, a move whose new bound (plus vehicle weights)
    is not below the current objective cannot improve (penalties are never negative): the
    bound is worked out from the arcs the move changes, in O(1) for most moves, and the
    move is refused before any route is built or simulated. (The variables named ``*_d``
    hold that arc sum.)"""
    ru = st.pos_route[u]
    pu = st.pos_index[u]
    lu = st.lens[ru]
    route_u = st.routes[ru]
    stamps = st.stamps
    buf_a = st.buf_a
    buf_b = st.buf_b
    cap = st.routes.shape[1]
    dist = bound_arcs(kd)
    route_cost = kd.route_cost
    depot_u = kd.type_depot[st.types[ru]]
    a_u = _node(kd, st, ru, pu - 1)
    b_u = _node(kd, st, ru, pu + 1)
    old_du = bound_base(kd, st.evals[ru])
    feasible_u = bound and is_feasible(st.evals[ru])
    tu = st.types[ru]
    # The limits below are only read for bounded moves (``filtered``): the objective is
    # worked out for those alone.
    obj_u = objective_cost(kd, tu, st.evals[ru]) if feasible_u else 0.0
    concat_u = _judged(kd, st, ru)
    light_u = False
    if concat_u:
        light_u = st.chargers[ru] == 0
        if st.seg_stamps[ru] != stamps[ru]:
            _refresh_segments(kd, st, ru)
    concat = concat_u
    light = light_u
    near = neighbours[u - kd.num_depots]
    for k in range(near.shape[0]):
        v = near[k]
        rv = st.pos_route[v]
        if rv < 0:
            continue
        pv = st.pos_index[v]
        if stamps[ru] < since and stamps[rv] < since:
            continue
        route_v = st.routes[rv]
        lv = st.lens[rv]
        if ru != rv:
            concat = concat_u
            light = light_u
            if concat:
                concat = _judged(kd, st, rv)
                light = light_u and st.chargers[rv] == 0
                if concat and st.seg_stamps[rv] != stamps[rv]:
                    _refresh_segments(kd, st, rv)
            filtered = feasible_u and is_feasible(st.evals[rv])
            old_dv = bound_base(kd, st.evals[rv])
            old_d = old_du + old_dv + 2.0 * route_cost
            old_obj = 2.0 * route_cost + obj_u
            if filtered:
                old_obj += objective_cost(kd, st.types[rv], st.evals[rv])
            limit = old_obj - 1e-9 * max(1.0, old_obj)
            depot_v = kd.type_depot[st.types[rv]]
            # Relocate u (and the next one or two stops) after or before v.
            inner = 0.0
            for seg in range(1, 4):
                if pu + seg > lu:
                    break
                s1 = route_u[pu + seg - 1]
                if seg > 1:
                    inner += dist[route_u[pu + seg - 2], s1]
                if lv + seg > cap:
                    continue
                built = False
                la = lu - seg
                b_seg = _node(kd, st, ru, pu + seg)
                if la == 0:
                    new_du = 0.0
                else:
                    new_du = (
                        old_du
                        - dist[a_u, u]
                        - dist[s1, b_seg]
                        - inner
                        + dist[a_u, b_seg]
                        + route_cost
                    )
                for side in range(2):
                    at = pv + 1 - side
                    if filtered:
                        x = _node(kd, st, rv, at - 1)
                        y = _node(kd, st, rv, at)
                        new_d = (
                            new_du
                            + old_dv
                            - dist[x, y]
                            + dist[x, u]
                            + inner
                            + dist[s1, y]
                            + route_cost
                        )
                        if new_d >= limit:
                            continue
                    if concat and _relocate_verdict(kd, st, ru, pu, seg, rv, at, light) == 0:
                        continue
                    if not built:
                        la = _I(0)
                        for p in range(lu):
                            if p < pu or p >= pu + seg:
                                buf_a[la] = route_u[p]
                                la += 1
                        built = True
                    lb = _I(0)
                    for p in range(at):
                        buf_b[lb] = route_v[p]
                        lb += 1
                    for p in range(pu, pu + seg):
                        buf_b[lb] = route_u[p]
                        lb += 1
                    for p in range(at, lv):
                        buf_b[lb] = route_v[p]
                        lb += 1
                    if _try(kd, st, ru, la, rv, lb, _B(False)):
                        return True
            # Swap u and v.
            a_v = _node(kd, st, rv, pv - 1)
            b_v = _node(kd, st, rv, pv + 1)
            new_d = (
                old_du
                - dist[a_u, u]
                - dist[u, b_u]
                + dist[a_u, v]
                + dist[v, b_u]
                + old_dv
                - dist[a_v, v]
                - dist[v, b_v]
                + dist[a_v, u]
                + dist[u, b_v]
                + 2.0 * route_cost
            )
            if not (filtered and new_d >= limit) and not (
                concat and _swap_verdict(kd, st, ru, pu, rv, pv, light) == 0
            ):
                for p in range(lu):
                    buf_a[p] = route_u[p]
                buf_a[pu] = v
                for p in range(lv):
                    buf_b[p] = route_v[p]
                buf_b[pv] = u
                if _try(kd, st, ru, lu, rv, lv, _B(False)):
                    return True
            # 2-opt*: exchange the tails after u and after v, then from u and from v.
            # (O(1) bounds need both routes to share a depot; otherwise count the arcs.)
            same_depot = depot_u == depot_v
            same_type = st.types[rv] == tu
            for shift in range(1, -1, -1):
                iu = pu + shift
                iv = pv + shift
                la = iu + lv - iv
                lb = iv + lu - iu
                x_u = _node(kd, st, ru, iu - 1)
                y_u = _node(kd, st, ru, iu)
                x_v = _node(kd, st, rv, iv - 1)
                y_v = _node(kd, st, rv, iv)
                new_d = old_d - dist[x_u, y_u] - dist[x_v, y_v] + dist[x_u, y_v] + dist[x_v, y_u]
                if la > cap or lb > cap or (filtered and same_depot and new_d >= limit):
                    continue
                if concat and same_type and _tails_verdict(kd, st, ru, iu, rv, iv, light) == 0:
                    continue
                for p in range(iu):
                    buf_a[p] = route_u[p]
                for p in range(iv, lv):
                    buf_a[iu + p - iv] = route_v[p]
                for p in range(iv):
                    buf_b[p] = route_v[p]
                for p in range(iu, lu):
                    buf_b[iv + p - iu] = route_u[p]
                if _try(kd, st, ru, la, rv, lb, filtered and not same_depot):
                    return True
        else:
            if pu == pv:
                continue
            filtered = feasible_u
            old_d = old_du + route_cost
            old_obj = obj_u + route_cost
            limit = old_obj - 1e-9 * max(1.0, old_obj)
            inner = 0.0
            for seg in range(1, 4):
                if pu + seg > lu:
                    break
                if pu < pv < pu + seg:  # v is in the segment
                    break
                s1 = route_u[pu + seg - 1]
                if seg > 1:
                    inner += dist[route_u[pu + seg - 2], s1]
                b_seg = _node(kd, st, ru, pu + seg)
                rest_d = old_du - dist[a_u, u] - dist[s1, b_seg] - inner + dist[a_u, b_seg]
                # The route without the segment; v sits at q there.
                lr = lu - seg
                q = pv if pv < pu else pv - seg
                built = False
                for side in range(2):
                    at = q + 1 - side
                    if at == pu:
                        continue  # the segment back where it was
                    if filtered:
                        x = _rest_node(kd, st, ru, at - 1, pu, seg)
                        y = _rest_node(kd, st, ru, at, pu, seg)
                        new_d = rest_d - dist[x, y] + dist[x, u] + inner + dist[s1, y] + route_cost
                        if new_d >= limit:
                            continue
                    if not built:
                        lr = 0
                        for p in range(lu):
                            if p < pu or p >= pu + seg:
                                buf_b[lr] = route_u[p]
                                lr += 1
                        built = True
                    la = _I(0)
                    for p in range(at):
                        buf_a[la] = buf_b[p]
                        la += 1
                    for p in range(pu, pu + seg):
                        buf_a[la] = route_u[p]
                        la += 1
                    for p in range(at, lr):
                        buf_a[la] = buf_b[p]
                        la += 1
                    if _try(kd, st, ru, la, _I(-1), _I(0), _B(False)):
                        return True
            # 2-opt: reverse the stretch between u and v (its distance in O(stretch)).
            i = min(pu, pv)
            j = max(pu, pv)
            x = _node(kd, st, ru, i - 1)
            y = _node(kd, st, ru, j + 1)
            if filtered:
                new_d = old_d - dist[x, route_u[i]] - dist[route_u[j], y]
                new_d += dist[x, route_u[j]] + dist[route_u[i], y]
                for p in range(i, j):
                    new_d += dist[route_u[p + 1], route_u[p]] - dist[route_u[p], route_u[p + 1]]
                reverse = new_d < limit
            else:
                reverse = True
            if reverse:
                for p in range(lu):
                    buf_a[p] = route_u[p]
                for p in range(i, j + 1):
                    buf_a[p] = route_u[i + j - p]
                if _try(kd, st, ru, lu, _I(-1), _I(0), filtered):
                    return True
            # Exchange u and v.
            for p in range(lu):
                buf_a[p] = route_u[p]
            buf_a[pu] = route_u[pv]
            buf_a[pv] = route_u[pu]
            if _try(kd, st, ru, lu, _I(-1), _I(0), filtered):
                return True
    # Move u to an empty route (a vehicle not used yet), unless neither route changed.
    if lu > 1:
        old_obj = obj_u + route_cost
        limit = old_obj - 1e-9 * max(1.0, old_obj)
        rest_d = old_du - dist[a_u, u] - dist[u, b_u] + dist[a_u, b_u] + route_cost
        for r in range(st.counters[NUM_ROUTES]):
            if st.lens[r] == 0 and (stamps[ru] >= since or stamps[r] >= since):
                depot = kd.type_depot[st.types[r]]
                new_d = rest_d + dist[depot, u] + dist[u, depot] + route_cost
                if feasible_u and new_d >= limit:
                    continue
                if concat_u and _alone_verdict(kd, st, ru, pu, r, light_u) == 0:
                    continue
                la = _I(0)
                for p in range(lu):
                    if p != pu:
                        buf_a[la] = route_u[p]
                        la += 1
                buf_b[0] = u
                if _try(kd, st, ru, la, r, _I(1), _B(False)):
                    return True
    return False


@njit(cache=True)
def _try_not_worse(kd: Any, st: Any, r: int, n: int) -> bool:
    """Applies the new route ``buf_a[:n]`` for route ``r`` unless it costs more."""
    t = st.types[r]
    evaluate_route(kd, t, st.buf_a, n, st.energies, _B(False), st.out_a, st.charges)
    new = penalised_cost(kd, t, n, st.out_a, st.penalties)
    old = st.costs[r]
    if new <= old + 1e-9 * max(1.0, abs(old)):
        _apply(kd, st, r, st.buf_a, n, st.out_a, new)
        return True
    return False


@njit(cache=True)
def _best_charger_spot(
    kd: Any,
    st: Any,
    near_chargers: Any,
    t: int,
    rest: Any,
    m: int,
    skip_q: int,
    skip_c: int,
    rest_d: float,
    limit_d: float,
    best: float,
) -> tuple[int, int, float]:
    """The arc of ``rest[:m]`` and the charger near it whose insertion gives route cost
    below ``best`` and lowest, as (position, charger, cost), or (-1, -1, ``best``). (``skip_q``,
    ``skip_c``) is not tried; with a finite ``limit_d`` only insertions that bring the
    route's arc sum (:func:`bound_arcs`; ``rest_d`` without the charger) below
    ``limit_d`` are simulated."""
    depot = kd.type_depot[t]
    dist = bound_arcs(kd)
    buf = st.buf_a
    best_q = -1
    best_c = -1
    width = near_chargers.shape[1]
    for q in range(m + 1):
        a = rest[q - 1] if q > 0 else depot
        b = rest[q] if q < m else depot
        for k in range(2 * width):
            if k < width:
                c = near_chargers[a, k]
            else:
                c = near_chargers[b, k - width]
                seen = False
                for j in range(width):
                    if near_chargers[a, j] == c:
                        seen = True
                if seen:
                    continue
            if c in (a, b) or (q == skip_q and c == skip_c):
                continue
            if rest_d + dist[a, c] + dist[c, b] - dist[a, b] >= limit_d:
                continue
            for j in range(q):
                buf[j] = rest[j]
            buf[q] = c
            for j in range(q, m):
                buf[j + 1] = rest[j]
            evaluate_route(kd, t, buf, m + 1, st.energies, _B(False), st.out_a, st.charges)
            cost = penalised_cost(kd, t, m + 1, st.out_a, st.penalties)
            if cost < best:
                best = cost
                best_q = q
                best_c = c
    return best_q, best_c, best


@njit(cache=True)
def _insert_spot(st: Any, rest: Any, m: int, q: int, c: int) -> None:
    """``buf_a[:m + 1]`` = ``rest[:m]`` with ``c`` inserted at ``q``."""
    buf = st.buf_a
    for j in range(q):
        buf[j] = rest[j]
    buf[q] = c
    for j in range(q, m):
        buf[j + 1] = rest[j]


@njit(cache=True)
def _relocate_charger(
    kd: Any, st: Any, near_chargers: Any, r: int, p: int, bound: bool, below: float
) -> bool:
    """Moves the charging stop at position ``p`` of route ``r`` to the arc, and the charger
    near it, that lowers the route's cost most (if any does, and to less than ``below``).
    Under partial recharge where a van charges matters as much as which charger:
    charging before a stop with waiting time is free.

    With an objective bounded by an arc sum (``bound``, see :func:`bound_arcs`) and a
    feasible route, only moves whose new bound is below the route's objective are
    simulated."""
    t = st.types[r]
    n = st.lens[r]
    route = st.routes[r]
    depot = kd.type_depot[t]
    dist = bound_arcs(kd)
    v = route[p]
    rest = st.buf_b
    m = _I(0)
    for q in range(n):
        if q != p:
            rest[m] = route[q]
            m += 1
    prev = route[p - 1] if p > 0 else depot
    nxt = route[p + 1] if p + 1 < n else depot
    rest_d = bound_base(kd, st.evals[r]) - dist[prev, v] - dist[v, nxt] + dist[prev, nxt]
    old_obj = objective_cost(kd, t, st.evals[r])
    limit_d = old_obj - 1e-9 * max(1.0, old_obj) if bound and is_feasible(st.evals[r]) else np.inf
    base = st.costs[r]
    q, c, _ = _best_charger_spot(
        kd,
        st,
        near_chargers,
        t,
        rest,
        m,
        p,
        v,
        rest_d,
        limit_d,
        min(base - 1e-9 * max(1.0, abs(base)), below),
    )
    if q < 0:
        return False
    _insert_spot(st, rest, m, q, c)
    return _try(kd, st, r, n, _I(-1), _I(0), _B(False))


@njit(cache=True)
def _charger_moves(kd: Any, st: Any, near_chargers: Any, r: int, bound: bool) -> bool:
    """Removes, replaces, moves or inserts a charging stop on route ``r`` (first
    improvement)."""
    t = st.types[r]
    n = st.lens[r]
    route = st.routes[r]
    first_charger = kd.first_charger
    buf = st.buf_a
    if kd.type_electric[t] == 0:
        la = _I(0)
        for p in range(n):
            if route[p] < first_charger:
                buf[la] = route[p]
                la += 1
        if la < n:
            return _try(kd, st, r, la, _I(-1), _I(0), bound)
        return False
    depot = kd.type_depot[t]
    width = near_chargers.shape[1]
    # A route short of energy: moving its charging stop competes with adding one, and the
    # better of the two is taken (taking the first improvement, a move, led to worse
    # local optima with one long charge where two short ones were better).
    insert_q = _I(-1)
    insert_c = _I(-1)
    below = np.inf
    if st.evals[r, ENERGY_DEFICIT] > ENERGY_TOL and n + 1 <= st.routes.shape[1]:
        base = st.costs[r]
        insert_q, insert_c, below = _best_charger_spot(
            kd, st, near_chargers, t, route, n, _I(-1), _I(-1), 0.0, np.inf, base - 1e-9
        )
    for p in range(n):
        v = route[p]
        if v < first_charger:
            continue
        la = _I(0)
        for q in range(n):
            if q != p:
                buf[la] = route[q]
                la += 1
        if p > 0 and route[p - 1] == v:
            # A second stop in a row at the same charger: drop it unless that costs more.
            if _try_not_worse(kd, st, r, la):
                return True
        elif _try(kd, st, r, la, _I(-1), _I(0), bound):
            return True
        prev = route[p - 1] if p else depot
        nxt = route[p + 1] if p + 1 < n else depot
        for k in range(2 * width):
            if k < width:
                c = near_chargers[prev, k]
            else:
                c = near_chargers[nxt, k - width]
                seen = False
                for q in range(width):
                    if near_chargers[prev, q] == c:
                        seen = True
                if seen:
                    continue
            if c == v:
                continue
            for q in range(n):
                buf[q] = route[q]
            buf[p] = c
            if _try(kd, st, r, n, _I(-1), _I(0), bound):
                return True
        if _relocate_charger(kd, st, near_chargers, r, p, bound, below):
            return True
    if insert_q >= 0:
        _insert_spot(st, route, n, insert_q, insert_c)
        return _try(kd, st, r, n + 1, _I(-1), _I(0), _B(False))
    return False


@njit(cache=True)
def _empty_route(kd: Any, st: Any, r: int, t: int) -> None:
    st.lens[r] = 0
    st.types[r] = t
    evaluate_route(kd, t, st.buf_a, _I(0), st.energies, _B(False), st.out_a, st.charges)
    for f in range(NUM_FIELDS):
        st.evals[r, f] = st.out_a[f]
    st.costs[r] = 0.0
    st.stamps[r] = _tick(st)
    st.charger_ok[r] = 0


@njit(cache=True)
def ensure_spare_routes(kd: Any, st: Any) -> int:
    """Keeps one empty route per vehicle type with unlimited count and exactly ``count``
    routes for a type with a count (as ``Plan.ensure_spare_routes``).

    Returns the number of routes, or -1 (changing nothing) when the arrays have too few
    rows."""
    num_types = kd.type_count.shape[0]
    nr = st.counters[NUM_ROUTES]
    spare = np.empty(num_types, dtype=np.int64)
    for t in range(num_types):
        spare[t] = 1 if kd.type_count[t] < 0 else kd.type_count[t]
    for r in range(nr):
        t = st.types[r]
        if st.lens[r] > 0 and kd.type_count[t] >= 0:
            spare[t] -= 1
    left = spare.copy()
    keep = 0
    for r in range(nr):
        t = st.types[r]
        if st.lens[r] > 0:
            keep += 1
        elif left[t] > 0:
            keep += 1
            left[t] -= 1
    need = keep
    for t in range(num_types):
        need += max(left[t], 0)
    if need > st.routes.shape[0]:
        return -1
    k = _I(0)
    for r in range(nr):
        t = st.types[r]
        if st.lens[r] == 0:
            if spare[t] <= 0:
                continue
            spare[t] -= 1
        if k != r:
            for p in range(st.lens[r]):
                st.routes[k, p] = st.routes[r, p]
            for p in range(st.lens[r], st.lens[k]):
                st.routes[k, p] = -1
            st.lens[k] = st.lens[r]
            st.types[k] = t
            st.stamps[k] = st.stamps[r]
            for f in range(NUM_FIELDS):
                st.evals[k, f] = st.evals[r, f]
            st.costs[k] = st.costs[r]
            st.charger_ok[k] = st.charger_ok[r]
            st.seg_stamps[k] = st.seg_stamps[r]
        k += 1
    for r in range(k, nr):
        for p in range(st.lens[r]):
            st.routes[r, p] = -1
        st.lens[r] = 0
    for t in range(num_types):
        for _ in range(spare[t]):
            _empty_route(kd, st, k, t)
            k += 1
    st.counters[NUM_ROUTES] = k
    return k


@njit(cache=True)
def local_search_pass(
    kd: Any,
    st: Any,
    neighbours: Any,
    near_chargers: Any,
    bound: bool,
    has_chargers: bool,
) -> int:
    """One pass of the local search (``LocalSearch.run`` repeats it while it improves).

    Keeps spare routes, repairs the charging stops of routes short of energy, shuffles the
    clients (the compiled random generator, see :func:`seed`), tries each client's moves
    (skipping neighbours whose routes have not changed since the client's moves last
    failed), then each changed route's charging moves. Returns 1 when some move was
    applied, 0 when none, -1 when the arrays need more rows for the spare routes (nothing
    done)."""
    if ensure_spare_routes(kd, st) < 0:
        return -1
    nr = st.counters[NUM_ROUTES]
    st.pos_route[:] = -1
    for r in range(nr):
        _set_positions(kd, st, r)
    np.random.shuffle(st.clients)
    improved = False
    if has_chargers:
        # Routes short of energy get their charging stops repaired first: the client
        # moves would otherwise "repair" them by moving clients away.
        for r in range(nr):
            while st.lens[r] != 0 and st.evals[r, ENERGY_DEFICIT] > ENERGY_TOL:
                if not _charger_moves(kd, st, near_chargers, r, bound):
                    break
                improved = True
    for i in range(st.clients.shape[0]):
        u = st.clients[i]
        if st.pos_route[u] < 0:
            continue
        tested_at = _tick(st)
        if _client_moves(kd, st, neighbours, u, st.last_tested[u], bound):
            improved = True
        else:
            st.last_tested[u] = tested_at
    st.counters[NUM_TESTED] = 0
    if has_chargers:
        for r in range(nr):
            if st.lens[r] == 0 or st.charger_ok[r] != 0:
                continue
            if _charger_moves(kd, st, near_chargers, r, bound):
                improved = True
            else:
                st.charger_ok[r] = 1
                st.tested[st.counters[NUM_TESTED]] = st.stamps[r]
                st.counters[NUM_TESTED] += 1
    return 1 if improved else 0
