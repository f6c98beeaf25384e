"""The scale benchmark's instance generator (benchmarks/scale.py): seeded, and feasible by
construction."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from evfleet.checker import check
from evfleet.problem import Objective, RechargePolicy
from evfleet.solution import Route, Solution, Visit

ROOT = Path(__file__).resolve().parent.parent


def _load_scale() -> ModuleType:
    name = "evfleet_benchmarks_scale"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


scale = _load_scale()


def _same(a: Any, b: Any) -> bool:
    return bool(
        a.clients == b.clients
        and a.chargers == b.chargers
        and a.depots == b.depots
        and a.vehicle_types == b.vehicle_types
        and np.array_equal(a.distance_m, b.distance_m)
        and np.array_equal(a.duration_s, b.duration_s)
    )


def test_same_seed_same_problem_and_another_seed_another() -> None:
    a = scale.generate(150, seed=3)
    b = scale.generate(150, seed=3)
    c = scale.generate(150, seed=4)
    assert _same(a, b)
    assert not _same(a, c)
    assert a.name == "scale-n150-s50-seed3"


@pytest.mark.parametrize(("n", "chargers"), [(1, 0), (37, 5), (400, 50)])
def test_sizes_and_settings(n: int, chargers: int) -> None:
    p = scale.generate(n, chargers=chargers, seed=0)
    assert (p.num_depots, p.num_clients, p.num_chargers) == (1, n, chargers)
    assert p.objective is Objective.DISTANCE
    assert p.recharge is RechargePolicy.PARTIAL
    assert p.distance_m.shape == (1 + n + chargers, 1 + n + chargers)
    xs, ys = p.coordinates()
    assert xs.min() >= 0 and ys.min() >= 0
    assert xs.max() <= scale.SIDE_M and ys.max() <= scale.SIDE_M
    # The matrices follow the coordinates (Euclidean metres, 10 m/s).
    dist, dur = p.metric.matrices(xs, ys)
    assert np.allclose(p.distance_m, dist)
    assert np.allclose(p.duration_s, dur)


def test_every_customer_alone_is_feasible_by_construction() -> None:
    """A van of its own per customer, straight out and back, passes the checker."""
    p = scale.generate(400, seed=7)
    van = p.vehicle_types[0]
    for k, client in enumerate(p.clients):
        loc = p.client_index(k)
        assert 0 <= client.tw_early_s <= client.tw_late_s
        assert p.duration_s[0, loc] <= client.tw_late_s  # reachable from the depot in time
        start = max(p.duration_s[0, loc], client.tw_early_s)
        assert start + client.service_s + p.duration_s[loc, 0] <= p.depots[0].tw_late_s
        assert client.demand_kg <= van.capacity_kg
        assert van.energy_wh_per_m * (p.distance_m[0, loc] + p.distance_m[loc, 0]) <= (
            van.battery_wh
        )
    solution = Solution(
        tuple(Route(0, (Visit(p.client_index(k)),)) for k in range(p.num_clients)), p.name
    )
    report = check(p, solution)
    assert report.feasible, report.format()[:2000]


def test_the_battery_forces_charging_on_long_routes() -> None:
    """Some two-customer trips are longer than the range, so a day's route must charge."""
    p = scale.generate(300, seed=1)
    van = p.vehicle_types[0]
    range_m = van.battery_wh / van.energy_wh_per_m
    clients = np.arange(p.client_index(0), p.client_index(0) + p.num_clients)
    out = p.distance_m[0, clients]
    trips = out[:, None] + p.distance_m[np.ix_(clients, clients)] + out[None, :]
    assert trips.max() > range_m
    # ... while a charger is never far: every customer has one within 10 km.
    chargers = np.arange(p.charger_index(0), p.num_locations)
    assert p.distance_m[np.ix_(clients, chargers)].min(axis=1).max() < 10_000
