"""The builder Model: index order, matrices from a metric, and rejected inputs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evfleet import ChargingFunction, Metric, Model, Objective, Powertrain, RechargePolicy
from evfleet.problem import Charger, Client, Depot

coords = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


def small_model() -> Model:
    m = Model("small")
    m.add_depot(0, 0)
    m.add_vehicle_type(battery_wh=10_000, energy_wh_per_m=0.2)
    return m


def test_builder_numbers_and_location_order() -> None:
    m = Model("order")
    assert m.add_depot(0, 0) == 0
    assert m.add_depot(1, 0, name="north") == 1
    assert m.add_client(2, 0) == 0
    assert m.add_client(3, 0, name="shop") == 1
    assert m.add_client(4, 0) == 2
    assert m.add_charger(5, 0) == 0
    assert m.add_charger(6, 0, power_w=22_000) == 1
    assert m.add_vehicle_type() == 0
    assert m.add_vehicle_type(depot=1) == 1
    p = m.data()

    assert (p.num_depots, p.num_clients, p.num_chargers, p.num_locations) == (2, 3, 2, 7)
    assert p.location_names() == ["D0", "north", "C1", "shop", "C3", "S0", "S1"]
    assert [p.client_index(k) for k in range(3)] == [2, 3, 4]
    assert [p.charger_index(k) for k in range(2)] == [5, 6]
    kinds = [type(p.location(i)) for i in range(p.num_locations)]
    assert kinds == [Depot, Depot, Client, Client, Client, Charger, Charger]
    assert [p.is_client(i) for i in range(7)] == [False, False, True, True, True, False, False]
    assert [p.is_charger(i) for i in range(7)] == [False] * 5 + [True] * 2
    xs, ys = p.coordinates()
    assert xs.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert ys.tolist() == [0.0] * 7
    # Distances follow the same order: location i sits at x = i.
    assert p.distance_m[0, 6] == 6.0 and p.distance_m[4, 2] == 2.0
    assert p.chargers[1].function.seconds_per_wh == pytest.approx(3600 / 22_000)
    assert p.chargers[0].function.seconds_per_wh == 0.0
    assert [vt.name for vt in p.vehicle_types] == ["type0", "type1"]
    assert p.vehicle_types[1].depot == 1


def test_default_metric_is_euclidean_metres_at_one_metre_per_second() -> None:
    m = small_model()
    m.add_client(3, 4)
    p = m.data()
    assert p.metric == Metric()
    assert p.distance_m.dtype == np.float64
    np.testing.assert_array_equal(p.distance_m, [[0.0, 5.0], [5.0, 0.0]])
    np.testing.assert_array_equal(p.duration_s, p.distance_m)


def test_speed_divides_durations() -> None:
    m = small_model()
    m.add_client(30, 40)
    m.set_metric(Metric(speed_m_per_s=12.5))
    p = m.data()
    assert p.distance_m[0, 1] == 50.0
    assert p.duration_s[0, 1] == 4.0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(coords, coords), min_size=1, max_size=8), coords, coords)
def test_metric_matrices_match_hypot(
    clients: list[tuple[float, float]], dx: float, dy: float
) -> None:
    m = Model()
    m.add_depot(dx, dy)
    m.add_vehicle_type()
    for x, y in clients:
        m.add_client(x, y)
    p = m.data()
    pts = [(dx, dy), *clients]
    for i, (xi, yi) in enumerate(pts):
        for j, (xj, yj) in enumerate(pts):
            assert p.distance_m[i, j] == pytest.approx(math.hypot(xi - xj, yi - yj), rel=1e-12)
    np.testing.assert_array_equal(p.distance_m, p.distance_m.T)
    np.testing.assert_array_equal(np.diag(p.distance_m), 0.0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(coords, coords), min_size=1, max_size=8))
def test_truncate_one_decimal_floors_to_tenths(clients: list[tuple[float, float]]) -> None:
    exact, truncated = Model(), Model()
    for m in (exact, truncated):
        m.add_depot(0, 0)
        m.add_vehicle_type()
        for x, y in clients:
            m.add_client(x, y)
    truncated.set_metric(Metric(truncate_decimals=1))
    d = exact.data().distance_m
    t = truncated.data().distance_m
    n = len(clients) + 1
    for i in range(n):
        for j in range(n):
            assert t[i, j] == math.floor(10.0 * d[i, j]) / 10.0
            assert d[i, j] - 0.1 - 1e-9 <= t[i, j] <= d[i, j]


def test_truncate_examples() -> None:
    m = small_model()
    m.add_client(1, 1)  # sqrt(2) = 1.41421...
    m.set_metric(Metric(truncate_decimals=1))
    assert m.data().distance_m[0, 1] == 1.4
    m.set_metric(Metric(truncate_decimals=0))
    assert m.data().distance_m[0, 1] == 1.0
    m.set_metric(Metric(truncate_decimals=2, speed_m_per_s=2.0))
    p = m.data()
    assert p.distance_m[0, 1] == 1.41
    assert p.duration_s[0, 1] == 0.705


def test_explicit_matrices_then_back_to_metric() -> None:
    m = small_model()
    m.add_client(3, 4)
    dist = np.array([[0.0, 7.0], [8.0, 0.0]])
    dur = np.array([[0.0, 70.0], [math.inf, 0.0]])
    m.set_matrices(dist, dur)
    p = m.data()
    assert p.metric is None
    np.testing.assert_array_equal(p.distance_m, dist)
    np.testing.assert_array_equal(p.duration_s, dur)
    m.set_metric(Metric())
    assert m.data().distance_m[0, 1] == 5.0


def test_objective_and_recharge_accept_values() -> None:
    m = small_model()
    m.objective = Objective.COST
    m.recharge = RechargePolicy.PARTIAL
    p = m.data()
    assert (p.objective, p.recharge) == (Objective.COST, RechargePolicy.PARTIAL)
    m.objective = "distance"  # type: ignore[assignment]
    assert m.data().objective is Objective.DISTANCE


def test_vehicle_type_fields() -> None:
    m = small_model()
    k = m.add_vehicle_type(
        name="truck", count=2, powertrain="diesel", fuel_l_per_m=0.0003, capacity_kg=3500
    )
    vt = m.data().vehicle_types[k]
    assert vt.powertrain is Powertrain.DIESEL and not vt.is_electric
    assert vt.count == 2 and vt.capacity_kg == 3500
    assert vt.arc_energy_wh(0, 1, 1000.0) == 0.0
    ev = m.data().vehicle_types[0]
    assert ev.start_energy_wh == 10_000 and ev.arc_energy_wh(0, 1, 1000.0) == pytest.approx(200.0)


# --- rejected inputs ----------------------------------------------------------------------------


BAD_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("add_depot", {"tw_early_s": 10.0, "tw_late_s": 5.0}, "tw_late_s"),
    ("add_depot", {"x": math.nan}, "x must be a finite"),
    ("add_client", {"demand_kg": -1.0}, "demand_kg"),
    ("add_client", {"service_s": -1.0}, "service_s"),
    ("add_client", {"tw_early_s": 10.0, "tw_late_s": 5.0}, "tw_late_s"),
    ("add_client", {"tw_early_s": math.inf}, "tw_early_s must be a finite"),
    ("add_client", {"y": math.inf}, "y must be a finite"),
    ("add_client", {"demand_kg": math.nan}, "demand_kg"),
    ("add_charger", {"connectors": 0}, "connectors"),
    ("add_charger", {"connectors": 1.5}, "connectors"),
    ("add_charger", {"open_s": 100.0, "close_s": 50.0}, "close_s"),
    ("add_charger", {"power_w": -5.0}, "power_w"),
    ("add_charger", {"price_per_kwh": math.nan}, "price_per_kwh"),
    ("add_vehicle_type", {"count": -1}, "count"),
    ("add_vehicle_type", {"count": 2.5}, "count"),
    ("add_vehicle_type", {"capacity_kg": -1.0}, "capacity_kg"),
    ("add_vehicle_type", {"battery_wh": math.nan}, "battery_wh"),
    ("add_vehicle_type", {"max_duration_s": -1.0}, "max_duration_s"),
    ("add_vehicle_type", {"energy_wh_per_m": -0.1}, "energy_wh_per_m"),
    ("add_vehicle_type", {"battery_wh": 100.0, "initial_energy_wh": 200.0}, "initial_energy"),
    ("add_vehicle_type", {"initial_energy_wh": -1.0}, "initial_energy"),
    ("add_vehicle_type", {"shift_start_s": 10.0, "shift_end_s": 0.0}, "shift_end_s"),
    ("add_vehicle_type", {"cost_per_m": math.inf}, "cost_per_m"),
    ("add_vehicle_type", {"powertrain": "hydrogen"}, "hydrogen"),
]


@pytest.mark.parametrize(("method", "kwargs", "match"), BAD_CALLS)
def test_invalid_builder_inputs_rejected(method: str, kwargs: dict[str, Any], match: str) -> None:
    m = small_model()
    with pytest.raises(ValueError, match=match):
        getattr(m, method)(**kwargs)


def test_problem_level_checks() -> None:
    m = Model()
    m.add_vehicle_type()
    with pytest.raises(ValueError, match="at least one depot"):
        m.data()
    m = Model()
    m.add_depot()
    with pytest.raises(ValueError, match="at least one vehicle type"):
        m.data()
    m.add_vehicle_type(depot=1)
    with pytest.raises(ValueError, match="unknown depot 1"):
        m.data()


def test_matrix_checks() -> None:
    m = small_model()
    m.add_client(1, 1)
    with pytest.raises(ValueError, match="square"):
        m.set_matrices(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="square"):
        m.set_matrices(np.zeros(4), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=">= 0"):
        m.set_matrices(np.array([[0.0, -1.0], [1.0, 0.0]]), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=">= 0"):
        m.set_matrices(np.zeros((2, 2)), np.array([[0.0, math.nan], [1.0, 0.0]]))
    m.set_matrices(np.zeros((3, 3)), np.zeros((3, 3)))  # square, but not 2 x 2
    with pytest.raises(ValueError, match=r"expected \(2, 2\)"):
        m.data()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "manhattan"}, "unknown metric"),
        ({"speed_m_per_s": 0.0}, "speed_m_per_s"),
        ({"speed_m_per_s": -3.0}, "speed_m_per_s"),
        ({"speed_m_per_s": math.nan}, "speed_m_per_s"),
        ({"truncate_decimals": -1}, "truncate_decimals"),
        ({"truncate_decimals": 16}, "truncate_decimals"),
    ],
)
def test_invalid_metric_rejected(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Metric(**kwargs)


def test_charger_function_passed_through() -> None:
    m = small_model()
    f = ChargingFunction.piecewise([(0, 0), (10, 5), (20, 20)])
    m.add_charger(1, 2, function=f, connectors=3, open_s=10, close_s=20)
    s = m.data().chargers[0]
    assert s.function == f and s.connectors == 3 and (s.open_s, s.close_s) == (10, 20)
