"""The road-network interface and the great-circle network: units, defaults, invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evfleet.network import (
    DEFAULT_CIRCUITY,
    GreatCircleNetwork,
    LatLon,
    RoadNetwork,
    SpeedBand,
    SpeedProfile,
    TravelMatrices,
)
from evfleet.network.base import EARTH_RADIUS_M, haversine_m, haversine_point_m, points_array

SETTINGS = settings(max_examples=60, deadline=None)
ONE_DEGREE_M = EARTH_RADIUS_M * math.pi / 180.0  # ≈ 111.195 km


def random_points(n: int, seed: int = 0) -> list[LatLon]:
    """``n`` points scattered over a 40 km × 40 km area around Helsinki."""
    rng = np.random.default_rng(seed)
    lats = rng.uniform(60.0, 60.36, n)
    lons = rng.uniform(24.6, 25.3, n)
    return [LatLon(float(a), float(b)) for a, b in zip(lats, lons, strict=True)]


# --- base -------------------------------------------------------------------------------------


def test_latlon_is_latitude_first() -> None:
    point = LatLon(60.17, 24.94)
    assert point.lat == 60.17
    assert point.lon == 24.94
    assert tuple(point) == (60.17, 24.94)


def test_haversine_known_distances() -> None:
    assert haversine_point_m(LatLon(0.0, 0.0), LatLon(1.0, 0.0)) == pytest.approx(ONE_DEGREE_M)
    assert haversine_point_m(LatLon(0.0, 0.0), LatLon(0.0, 90.0)) == pytest.approx(
        ONE_DEGREE_M * 90.0
    )
    # one degree of longitude at 60° N is half a degree of the equator
    assert haversine_point_m(LatLon(60.0, 24.0), LatLon(60.0, 25.0)) == pytest.approx(
        ONE_DEGREE_M * 0.5, rel=1e-4
    )
    assert float(haversine_m(10.0, 20.0, 10.0, 20.0)) == 0.0


def test_points_are_validated_by_index() -> None:
    with pytest.raises(ValueError, match=r"point 1 .*lat 91"):
        points_array([LatLon(60.0, 24.0), LatLon(91.0, 24.0)])
    with pytest.raises(ValueError, match="point 0"):
        points_array([(math.nan, 0.0)])
    with pytest.raises(ValueError, match="longitude"):
        GreatCircleNetwork().matrices([LatLon(0.0, 181.0)])
    assert points_array([]).shape == (0, 2)


def test_travel_matrices_check_shapes() -> None:
    square = np.zeros((2, 2))
    with pytest.raises(ValueError, match="square"):
        TravelMatrices(distance_m=np.zeros((2, 3)), duration_s=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="differ"):
        TravelMatrices(distance_m=square, duration_s=np.zeros((3, 3)))
    with pytest.raises(TypeError, match="float64"):
        TravelMatrices(distance_m=square.astype(np.float32), duration_s=square)
    assert TravelMatrices(distance_m=square, duration_s=square.copy()).size == 2


# --- great-circle -----------------------------------------------------------------------------


def test_is_a_road_network_named_great_circle() -> None:
    network = GreatCircleNetwork()
    assert isinstance(network, RoadNetwork)
    assert network.name == "great-circle"
    assert network.circuity == DEFAULT_CIRCUITY == 1.3


def test_distance_is_haversine_times_circuity() -> None:
    points = random_points(30)
    result = GreatCircleNetwork(circuity=1.25).matrices(points)
    array = np.array(points)
    straight = haversine_m(array[:, 0, None], array[:, 1, None], array[:, 0], array[:, 1])
    np.testing.assert_allclose(result.distance_m, 1.25 * straight, rtol=1e-12, atol=1e-9)
    assert result.distance_m.dtype == np.float64
    assert result.duration_s.dtype == np.float64
    assert result.distance_m.shape == result.duration_s.shape == (30, 30)


def test_default_speeds_by_band() -> None:
    network = GreatCircleNetwork()
    # 500 m straight: all in the first band, 20 km/h over 650 m of road
    hop = network.matrices([LatLon(60.0, 24.0), LatLon(60.0 + 500.0 / ONE_DEGREE_M, 24.0)])
    assert hop.distance_m[0, 1] == pytest.approx(650.0)
    assert hop.duration_s[0, 1] == pytest.approx(650.0 / (20.0 / 3.6))
    # 3 km straight: 1 km at 20 km/h, 2 km at 30 km/h, times 1.3
    hop = network.matrices([LatLon(60.0, 24.0), LatLon(60.0 + 3000.0 / ONE_DEGREE_M, 24.0)])
    assert hop.duration_s[0, 1] == pytest.approx(1.3 * (1000.0 / (20 / 3.6) + 2000.0 / (30 / 3.6)))
    # a 111 km hop averages more than 50 km/h, a short one 20 km/h
    far = network.matrices([LatLon(59.0, 24.0), LatLon(60.0, 24.0)])
    assert far.distance_m[0, 1] / far.duration_s[0, 1] * 3.6 > 50.0


def test_zero_diagonal_symmetric_and_triangle_inequality() -> None:
    points = random_points(60, seed=3)
    result = GreatCircleNetwork().matrices(points)
    for matrix in (result.distance_m, result.duration_s):
        assert (np.diag(matrix) == 0.0).all()
        np.testing.assert_allclose(matrix, matrix.T, rtol=1e-12, atol=1e-9)
        # m[i, k] <= m[i, j] + m[j, k] for every triple
        via = matrix[:, :, None] + matrix[None, :, :]  # [i, j, k]
        assert (matrix[:, None, :] <= via + 1e-6).all()


@SETTINGS
@given(
    st.lists(st.floats(10.0, 200_000.0), min_size=1, max_size=4, unique=True),
    st.lists(st.floats(5.0, 120.0), min_size=5, max_size=5),
    st.floats(0.0, 300_000.0),
    st.floats(0.0, 300_000.0),
)
def test_speed_profile_times_are_subadditive(
    bounds: list[float], speeds: list[float], a: float, b: float
) -> None:
    ordered = sorted(speeds)
    bands = [SpeedBand(bound, ordered[i]) for i, bound in enumerate(sorted(bounds))]
    profile = SpeedProfile((*bands, SpeedBand(math.inf, ordered[-1])))
    t = profile.durations_s(np.array([a, b, a + b]), 1.0)
    assert t[2] <= t[0] + t[1] + 1e-9
    assert t[2] >= max(t[0], t[1]) - 1e-9


def test_speed_profile_validation() -> None:
    with pytest.raises(ValueError, match="must not decrease"):
        SpeedProfile((SpeedBand(1000.0, 30.0), SpeedBand(math.inf, 20.0)))
    with pytest.raises(ValueError, match="unbounded"):
        SpeedProfile((SpeedBand(1000.0, 30.0),))
    with pytest.raises(ValueError, match="exceed"):
        SpeedProfile((SpeedBand(1000.0, 30.0), SpeedBand(500.0, 40.0), SpeedBand(math.inf, 50)))
    with pytest.raises(ValueError, match="speed_kmh"):
        SpeedProfile.constant(0.0)
    with pytest.raises(ValueError, match="at least one band"):
        SpeedProfile(())
    with pytest.raises(ValueError, match="circuity"):
        GreatCircleNetwork(circuity=0.9)


def test_constant_profile() -> None:
    network = GreatCircleNetwork(circuity=1.0, speed_profile=SpeedProfile.constant(36.0))
    result = network.matrices(random_points(10))
    off = ~np.eye(10, dtype=bool)
    np.testing.assert_allclose(result.duration_s[off], result.distance_m[off] / 10.0)


def test_empty_and_single_point() -> None:
    network = GreatCircleNetwork()
    assert network.matrices([]).distance_m.shape == (0, 0)
    single = network.matrices([LatLon(60.0, 24.0)])
    assert single.distance_m.tolist() == [[0.0]]
    assert single.duration_s.tolist() == [[0.0]]


def test_route_geometry_is_the_straight_segment() -> None:
    a, b = LatLon(60.1, 24.9), LatLon(60.2, 25.0)
    assert GreatCircleNetwork().route_geometry(a, b) == [a, b]
    with pytest.raises(ValueError, match="point 1"):
        GreatCircleNetwork().route_geometry(a, LatLon(-100.0, 0.0))
