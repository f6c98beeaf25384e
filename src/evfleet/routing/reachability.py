"""Clients that no vehicle can serve at all, found before any search starts.

A client is unservable when, for every vehicle type, its demand exceeds the capacity, or
its window cannot be met even driving straight from the depot at the start of the shift
(and returning before the shift ends), or, for electric vehicles, it lies beyond reach even
charging fully at every charger on the way. These are necessary conditions only: a client
that passes may still be impossible to combine with others, but one that fails is certain
to be unservable.
"""

from __future__ import annotations

import numpy as np

from evfleet.routing.data import EngineData, TypeData

TOL = 1e-9


def _hub_reach(data: EngineData, td: TypeData) -> tuple[np.ndarray, np.ndarray]:
    """Hubs (depot and chargers) reachable from the depot, and hubs that can get back to it.

    Returns boolean masks over ``hubs = [depot, chargers...]``.
    """
    hubs = np.array([td.depot, *range(data.first_charger, data.num_locations)], dtype=np.int64)
    e = td.energy_wh[np.ix_(hubs, hubs)]
    legal = e <= td.battery_wh + TOL
    forward = np.zeros(len(hubs), dtype=bool)
    forward[0] = True
    # The first leg leaves with the starting energy, later legs with a full battery.
    frontier = [int(k) for k in np.nonzero(e[0] <= td.start_energy_wh + TOL)[0]]
    forward[frontier] = True
    while frontier:
        h = frontier.pop()
        if h == 0:
            continue
        for k in np.nonzero(legal[h] & ~forward)[0]:
            forward[k] = True
            frontier.append(int(k))
    backward = np.zeros(len(hubs), dtype=bool)
    backward[0] = True
    frontier = [0]
    while frontier:
        h = frontier.pop()
        for k in np.nonzero(legal[:, h] & ~backward)[0]:
            backward[k] = True
            frontier.append(int(k))
    return forward, backward


def unservable_clients(data: EngineData) -> dict[str, str]:
    """Maps the name of each client no vehicle type can serve to the reason."""
    problem = data.problem
    reasons: dict[str, str] = {}
    reach = {td.index: _hub_reach(data, td) for td in data.types if td.electric}
    for k, client in enumerate(problem.clients):
        j = data.first_client + k
        why: list[str] = []
        for td in data.types:
            reason = _why_not(data, td, j, reach.get(td.index))
            if reason is None:
                break
            why.append(f"{problem.vehicle_types[td.index].name}: {reason}")
        else:
            reasons[client.name] = "; ".join(why)
    return reasons


def _why_not(
    data: EngineData, td: TypeData, j: int, reach: tuple[np.ndarray, np.ndarray] | None
) -> str | None:
    if data.demand_kg[j] > td.capacity_kg + TOL:
        return f"demand {data.demand_kg[j]:g} kg exceeds the capacity of {td.capacity_kg:g} kg"
    depot = td.depot
    arrive = td.start_s + data.dur_s[depot, j]
    if arrive > data.tw_late_s[j] + 1e-6:
        return (
            f"earliest arrival {arrive:g} s (straight from the depot) is after the window "
            f"closes at {data.tw_late_s[j]:g} s"
        )
    back = max(arrive, data.tw_early_s[j]) + data.service_s[j] + data.dur_s[j, depot]
    end = min(td.end_s, td.start_s + td.max_duration_s)
    if back > end + 1e-6:
        return f"earliest return to the depot {back:g} s is after the shift ends at {end:g} s"
    if td.electric and reach is not None:
        forward, backward = reach
        hubs = np.array([depot, *range(data.first_charger, data.num_locations)])
        e_in = td.energy_wh[hubs, j]
        e_out = td.energy_wh[j, hubs]
        best_out = np.min(np.where(backward, e_out, np.inf))
        budget = np.where(np.arange(len(hubs)) == 0, td.start_energy_wh, td.battery_wh)
        if not np.any(forward & (e_in + best_out <= budget + TOL)):
            return (
                "out of reach: no charger or depot from which the vehicle can drive there "
                f"and on to a charger or the depot on a battery of {td.battery_wh:g} Wh"
            )
    return None
