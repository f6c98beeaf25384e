"""Route evaluation for the search: cost, and how far a route is from feasible.

A route is a list of client and charger locations between leaving and returning to its
depot. Evaluation simulates it once, forward: load, time (with Vidal et al.'s *time warp*
for lateness, so that infeasible routes still get a meaningful penalty), and energy. At a
charger the vehicle fills up under the full-recharge policy, and under the partial policy
charges just enough to reach the next charger or the depot. This is the planner's own
code; the checker (:mod:`evfleet.checker`) recomputes everything independently.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from evfleet.problem import Objective
from evfleet.routing.data import EngineData


@dataclass(frozen=True, slots=True)
class RouteEval:
    """What one route costs and by how much it breaks each constraint."""

    distance_m: float
    driving_s: float
    charging_s: float
    duration_s: float
    time_warp_s: float
    """Total lateness over windows, shift end and maximum duration, in s."""
    excess_load_kg: float
    energy_deficit_wh: float
    """Energy the battery would have needed below empty, in Wh."""
    energy_cost: float
    charges_wh: tuple[float, ...]
    """Energy charged at each charger of the route, in order, in Wh."""

    @property
    def feasible(self) -> bool:
        return (
            self.time_warp_s <= 1e-6
            and self.excess_load_kg <= 1e-9
            and (self.energy_deficit_wh <= 1e-9)
        )


class Evaluator:
    """Evaluates routes of one problem; holds plain lists for fast scalar access."""

    def __init__(self, data: EngineData) -> None:
        self.data = data
        self.dist = data.dist_m.tolist()
        self.dur = data.dur_s.tolist()
        self.energy = [t.energy_wh.tolist() for t in data.types]
        self.demand = data.demand_kg.tolist()
        self.service = data.service_s.tolist()
        self.early = data.tw_early_s.tolist()
        self.late = data.tw_late_s.tolist()
        self.first_charger = data.first_charger
        self.prices = [c.price_per_kwh / 1000.0 for c in data.problem.chargers]
        self.energy_models = [vt.energy_model for vt in data.problem.vehicle_types]

    def arc_energies(self, t: int, route: Sequence[int]) -> list[float]:
        """Energy on each arc of ``route`` (depot to depot) for vehicle type ``t``, in Wh."""
        td = self.data.types[t]
        depot = td.depot
        path = [depot, *route, depot]
        if not td.electric:
            return [0.0] * (len(path) - 1)
        model = self.energy_models[t]
        if model is None:
            e = self.energy[t]
            return [e[a][b] for a, b in itertools.pairwise(path)]
        load = sum(self.demand[v] for v in route)
        out = []
        for a, b in itertools.pairwise(path):
            out.append(model(a, b, self.dist[a][b], load))
            load -= self.demand[b] if b != depot else 0.0
        return out

    def evaluate(self, t: int, route: Sequence[int]) -> RouteEval:
        """Simulates ``route`` for vehicle type ``t`` (see the module docstring)."""
        data = self.data
        td = data.types[t]
        dist, dur, early, late = self.dist, self.dur, self.early, self.late
        service, demand = self.service, self.demand
        first_charger = self.first_charger
        depot = td.depot
        energies = self.arc_energies(t, route)
        battery = td.battery_wh
        full = data.full_recharge

        load = 0.0
        for v in route:
            load += demand[v]
        excess = max(0.0, load - td.capacity_kg)

        time = td.start_s
        warp = 0.0
        energy = td.start_energy_wh
        deficit = 0.0
        distance = 0.0
        driving = 0.0
        charging = 0.0
        energy_cost = 0.0
        charges: list[float] = []
        prev = depot
        n = len(route)
        for pos in range(n):
            v = route[pos]
            distance += dist[prev][v]
            driving += dur[prev][v]
            time += dur[prev][v]
            energy -= energies[pos]
            if energy < 0.0:
                deficit -= energy
                energy = 0.0
            if v >= first_charger:
                if full:
                    target = battery
                else:
                    need = 0.0
                    for q in range(pos + 1, n + 1):
                        need += energies[q]
                        if q < n and route[q] >= first_charger:
                            break
                    target = min(battery, need) if need > energy else energy
                if time < early[v]:
                    time = early[v]
                if time > late[v]:
                    warp += time - late[v]
                    time = late[v]
                ct = data.charge_time_s(v, energy, target) if target > energy else 0.0
                time += ct
                charging += ct
                charges.append(max(0.0, target - energy))
                energy_cost += max(0.0, target - energy) * self.prices[v - first_charger]
                energy = max(energy, target)
            else:
                if time < early[v]:
                    time = early[v]
                if time > late[v]:
                    warp += time - late[v]
                    time = late[v]
                time += service[v]
            prev = v
        distance += dist[prev][depot]
        driving += dur[prev][depot]
        time += dur[prev][depot]
        energy -= energies[n]
        if energy < -1e-12:
            deficit -= energy
        if time > td.end_s:
            warp += time - td.end_s
            time = td.end_s
        duration = time - td.start_s
        if duration > td.max_duration_s:
            warp += duration - td.max_duration_s
        return RouteEval(
            distance,
            driving,
            charging,
            duration,
            warp,
            excess,
            deficit,
            energy_cost,
            tuple(charges),
        )

    def objective_cost(self, t: int, ev: RouteEval) -> float:
        """The route's contribution to the objective (without vehicle count or penalties)."""
        obj = self.data.objective
        if obj is Objective.DRIVING_AND_CHARGING_TIME:
            return ev.driving_s + ev.charging_s
        if obj is Objective.COST:
            td = self.data.types[t]
            return (
                td.fixed_cost
                + td.cost_per_m * ev.distance_m
                + td.cost_per_s * ev.duration_s
                + ev.energy_cost
            )
        return ev.distance_m
