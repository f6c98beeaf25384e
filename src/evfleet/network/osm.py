"""Road network from an OpenStreetMap extract (``.osm.pbf``), routed in-process with scipy.

:meth:`OsmNetwork.from_pbf` reads the drivable ways with pyrosm, builds a directed graph (one
arc per road segment and allowed direction, weighted by travel time), keeps its largest
strongly connected component (so every pair of points is reachable) and answers:

* **matrices**: each point is snapped to the nearest graph node (k-d tree on Earth-centred
  Cartesian coordinates, exact on the sphere); a multi-source Dijkstra on travel time from
  the snapped nodes (:func:`scipy.sparse.csgraph.dijkstra` with ``indices=``) gives the
  durations; the distance reported is the length **of the time-shortest path** (not the
  shortest distance), summed along Dijkstra's predecessor trees by vectorised pointer
  jumping (see :meth:`OsmNetwork._tree_lengths`). The straight access legs from each point to its
  node are added at ``access_speed_kmh``, so ``distance ≥ great-circle distance`` holds and
  the triangle inequality survives snapping.
* **route_geometry**: the node coordinates along the time-shortest path, framed by the two
  points themselves.

Travel time per segment is ``length / speed`` with the speed from ``maxspeed`` when the tag
is present and sane (5–150 km/h, km/h, mph or knots), scaled by ``maxspeed_factor`` (0.8: a
van does not average the posted limit), else from the ``highway`` class
(:data:`DEFAULT_SPEEDS_KMH`, the way speeds of OSRM's car profile). Turn costs, signals and
traffic are not modelled.

Directions: ``oneway=yes|true|1`` allows travel along the way only, ``oneway=-1|reverse``
against it only, ``oneway=no`` both; with no ``oneway`` tag ``junction=roundabout|circular``
and ``highway=motorway`` are one-way (OSM's implied one-ways); any other value (such as
``reversible``) is treated as two-way.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from evfleet.network.base import (
    FloatMatrix,
    LatLon,
    TravelMatrices,
    check_positive,
    haversine_m,
    points_array,
    unit_vectors,
)

#: Speeds in km/h by OSM ``highway`` class, used where ``maxspeed`` is absent or unusable.
#: They are the way speeds of OSRM's default car profile (``profiles/car.lua``), which are
#: already average speeds (below the usual limits), so ``maxspeed_factor`` is not applied.
DEFAULT_SPEEDS_KMH: Mapping[str, float] = MappingProxyType(
    {
        "motorway": 90.0,
        "motorway_link": 45.0,
        "trunk": 85.0,
        "trunk_link": 40.0,
        "primary": 65.0,
        "primary_link": 30.0,
        "secondary": 55.0,
        "secondary_link": 25.0,
        "tertiary": 40.0,
        "tertiary_link": 20.0,
        "unclassified": 25.0,
        "residential": 25.0,
        "living_street": 10.0,
        "service": 15.0,
        "road": 25.0,
    }
)

#: Speed in km/h for a ``highway`` class missing from the table.
DEFAULT_OTHER_SPEED_KMH = 20.0
#: Share of a tagged ``maxspeed`` that a delivery van averages on that segment.
DEFAULT_MAXSPEED_FACTOR = 0.8
#: A ``maxspeed`` outside this range (km/h) is taken for a tagging error and ignored.
MAXSPEED_RANGE_KMH = (5.0, 150.0)
#: Speed in km/h on the straight leg between a point and the graph node it snaps to.
DEFAULT_ACCESS_SPEED_KMH = 15.0
#: A point farther than this (metres) from every node is an error (wrong extract?).
DEFAULT_MAX_SNAP_M = 1_000.0

#: pyrosm network types whose ways a motor vehicle may use.
_DRIVING_TYPES = ("driving", "driving+service")
_FORWARD_ONLY = frozenset({"yes", "true", "1"})
_BACKWARD_ONLY = frozenset({"-1", "reverse"})
_IMPLIED_ONEWAY_JUNCTIONS = frozenset({"roundabout", "circular"})
_IMPLIED_ONEWAY_HIGHWAYS = frozenset({"motorway"})
#: Shortest-path cells (sources × graph nodes) per Dijkstra batch: bounds memory (~100 MB).
_CELL_BUDGET = 2_000_000
#: Floor on segment length (m) and time (s): zero weights would read as missing arcs.
_MIN_LENGTH_M = 1e-3
_MIN_TIME_S = 1e-4

_MAXSPEED = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$")
_UNIT_KMH = {None: 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": 1.609344, "knots": 1.852}

IntArray = NDArray[np.int64]


def parse_maxspeed_kmh(tag: str | None) -> float | None:
    """The speed in km/h of an OSM ``maxspeed`` value, or ``None`` when unusable.

    Accepts ``"50"``, ``"50 km/h"``, ``"30 mph"``, ``"10 knots"`` and takes the first of
    ``;``-separated values. Symbolic values (``"FI:urban"``, ``"walk"``, ``"none"``,
    ``"signals"``) and speeds outside :data:`MAXSPEED_RANGE_KMH` give ``None``.
    """
    if not tag:
        return None
    match = _MAXSPEED.match(tag.split(";", 1)[0].lower())
    if match is None:
        return None
    kmh = float(match.group(1).replace(",", ".")) * _UNIT_KMH[match.group(2)]
    low, high = MAXSPEED_RANGE_KMH
    return kmh if low <= kmh <= high else None


def _tags(values: Iterable[Any] | None, count: int, label: str) -> NDArray[np.str_]:
    """A tag column as a numpy string array, missing (None, NaN) as ``""``, lower-cased."""
    if values is None:
        return np.full(count, "", dtype=str)
    if isinstance(values, np.ndarray) and values.dtype.kind == "U":
        array = values
    else:
        array = np.array(
            [
                "" if value is None or (isinstance(value, float) and math.isnan(value)) else value
                for value in values
            ],
            dtype=str,
        )
    if array.shape != (count,):
        raise ValueError(f"{label}: expected {count} values, got shape {array.shape}")
    return np.char.lower(np.char.strip(array))


def _map_unique(tags: NDArray[np.str_], lookup: Callable[[str], float]) -> NDArray[np.float64]:
    """``lookup(tag)`` for every entry, calling it once per distinct value."""
    unique, inverse = np.unique(tags, return_inverse=True)
    mapped = np.array([lookup(str(value)) for value in unique], dtype=np.float64)
    result: NDArray[np.float64] = mapped[inverse.reshape(-1)]
    return result


class OsmNetwork:
    """A directed road graph from OpenStreetMap, routed with scipy's compiled Dijkstra.

    Build it with :meth:`from_pbf` (pyrosm), :meth:`from_segments` (tagged road segments) or
    the constructor (directed arcs with lengths in metres and times in seconds). Only the
    largest strongly connected component is kept. See the module docstring for the model.
    """

    def __init__(
        self,
        lat_deg: ArrayLike,
        lon_deg: ArrayLike,
        tail: ArrayLike,
        head: ArrayLike,
        length_m: ArrayLike,
        duration_s: ArrayLike,
        *,
        name: str = "osm",
        access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH,
        max_snap_m: float | None = DEFAULT_MAX_SNAP_M,
    ) -> None:
        """Arcs ``tail[i] → head[i]`` (node indices into ``lat_deg``/``lon_deg``, degrees),
        ``length_m[i]`` metres long, taking ``duration_s[i]`` seconds."""
        self._name = name
        self.access_speed_kmh = check_positive("access_speed_kmh", access_speed_kmh)
        self.max_snap_m = None if max_snap_m is None else check_positive("max_snap_m", max_snap_m)
        lat = np.asarray(lat_deg, dtype=np.float64).reshape(-1)
        lon = np.asarray(lon_deg, dtype=np.float64).reshape(-1)
        tails = np.asarray(tail, dtype=np.int64).reshape(-1)
        heads = np.asarray(head, dtype=np.int64).reshape(-1)
        lengths = np.asarray(length_m, dtype=np.float64).reshape(-1)
        times = np.asarray(duration_s, dtype=np.float64).reshape(-1)
        if lat.shape != lon.shape:
            raise ValueError(f"lat_deg {lat.shape} and lon_deg {lon.shape} differ in length")
        points_array(np.column_stack((lat, lon)))
        if not tails.shape == heads.shape == lengths.shape == times.shape:
            raise ValueError("tail, head, length_m and duration_s must have the same length")
        if tails.size and (
            min(tails.min(), heads.min()) < 0 or max(tails.max(), heads.max()) >= lat.size
        ):
            raise ValueError(f"arc ends must be node indices in [0, {lat.size})")
        if not (np.isfinite(lengths).all() and np.isfinite(times).all()):
            raise ValueError("arc lengths and durations must be finite")
        if (lengths < 0).any() or (times < 0).any():
            raise ValueError("arc lengths and durations must not be negative")

        # Drop self-loops, floor the weights, keep the fastest of parallel arcs.
        keep = tails != heads
        tails, heads = tails[keep], heads[keep]
        lengths = np.maximum(lengths[keep], _MIN_LENGTH_M)
        times = np.maximum(times[keep], _MIN_TIME_S)
        order = np.lexsort((times, heads, tails))
        tails, heads, lengths, times = tails[order], heads[order], lengths[order], times[order]
        first = np.ones(tails.size, dtype=bool)
        first[1:] = (tails[1:] != tails[:-1]) | (heads[1:] != heads[:-1])
        tails, heads, lengths, times = tails[first], heads[first], lengths[first], times[first]

        # Largest strongly connected component, renumbered.
        if tails.size == 0:
            raise ValueError(f"{name}: the road graph has no arcs")
        graph = csr_matrix((times, (tails, heads)), shape=(lat.size, lat.size))
        _, labels = connected_components(graph, directed=True, connection="strong")
        largest = int(np.argmax(np.bincount(labels)))
        kept = labels == largest
        renumber = np.full(lat.size, -1, dtype=np.int64)
        renumber[kept] = np.arange(int(kept.sum()), dtype=np.int64)
        inside = kept[tails] & kept[heads]
        tails, heads = renumber[tails[inside]], renumber[heads[inside]]
        lengths, times = lengths[inside], times[inside]
        if tails.size == 0:
            raise ValueError(f"{name}: no two nodes of the road graph reach each other")

        self._lat = lat[kept]
        self._lon = lon[kept]
        n = self._lat.size
        # Renumbering keeps the order, so (tail, head) stays sorted and unique: arc keys too.
        self._arc_keys: IntArray = tails * n + heads
        self._arc_lengths = lengths
        self._time_graph = csr_matrix((times, (tails, heads)), shape=(n, n))
        self._kdtree = cKDTree(unit_vectors(self._lat, self._lon))

    # -- construction from OSM ---------------------------------------------------------------

    @classmethod
    def from_pbf(
        cls,
        path: str | Path,
        network_type: str = "driving",
        *,
        speeds_kmh: Mapping[str, float] = DEFAULT_SPEEDS_KMH,
        other_speed_kmh: float = DEFAULT_OTHER_SPEED_KMH,
        maxspeed_factor: float = DEFAULT_MAXSPEED_FACTOR,
        access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH,
        max_snap_m: float | None = DEFAULT_MAX_SNAP_M,
    ) -> OsmNetwork:
        """Read the drivable roads of an ``.osm.pbf`` extract with pyrosm.

        ``network_type`` is pyrosm's: ``"driving"`` or ``"driving+service"`` (service roads
        too). Raises :class:`FileNotFoundError`, :class:`ValueError` (no roads), or
        :class:`ImportError` when pyrosm is not installed.
        """
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"{file}: no such OSM extract")
        if network_type not in _DRIVING_TYPES:
            raise ValueError(
                f"network_type {network_type!r}: OsmNetwork models motor vehicles, "
                f"use one of {', '.join(_DRIVING_TYPES)}"
            )
        try:
            import pyrosm
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "OsmNetwork.from_pbf needs pyrosm (pip install 'pyrosm>=0.25')"
            ) from exc

        result = pyrosm.OSM(str(file)).get_network(
            nodes=True, network_type=network_type, extra_attributes=["junction"]
        )
        if result is None:
            raise ValueError(f"{file}: no {network_type} roads in this extract")
        nodes, edges = result
        if len(edges) == 0:
            raise ValueError(f"{file}: no {network_type} roads in this extract")

        def column(name: str) -> NDArray[np.str_] | None:
            if name not in edges.columns:
                return None
            strings: NDArray[np.str_] = edges[name].fillna("").astype(str).to_numpy(dtype=str)
            return strings

        return cls.from_segments(
            node_id=nodes["id"].to_numpy(dtype=np.int64),
            lat_deg=nodes["lat"].to_numpy(dtype=np.float64),
            lon_deg=nodes["lon"].to_numpy(dtype=np.float64),
            u=edges["u"].to_numpy(dtype=np.int64),
            v=edges["v"].to_numpy(dtype=np.int64),
            highway=column("highway"),
            maxspeed=column("maxspeed"),
            oneway=column("oneway"),
            junction=column("junction"),
            name=f"osm:{file.name}",
            speeds_kmh=speeds_kmh,
            other_speed_kmh=other_speed_kmh,
            maxspeed_factor=maxspeed_factor,
            access_speed_kmh=access_speed_kmh,
            max_snap_m=max_snap_m,
        )

    @classmethod
    def from_segments(
        cls,
        node_id: ArrayLike,
        lat_deg: ArrayLike,
        lon_deg: ArrayLike,
        u: ArrayLike,
        v: ArrayLike,
        highway: Iterable[Any] | None = None,
        maxspeed: Iterable[Any] | None = None,
        oneway: Iterable[Any] | None = None,
        junction: Iterable[Any] | None = None,
        *,
        name: str = "osm",
        speeds_kmh: Mapping[str, float] = DEFAULT_SPEEDS_KMH,
        other_speed_kmh: float = DEFAULT_OTHER_SPEED_KMH,
        maxspeed_factor: float = DEFAULT_MAXSPEED_FACTOR,
        access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH,
        max_snap_m: float | None = DEFAULT_MAX_SNAP_M,
    ) -> OsmNetwork:
        """Build from OSM road segments ``u[i] – v[i]`` (OSM node ids, in way order) with
        their ways' tags (strings, ``None`` when absent); nodes by id with lat/lon degrees.

        Segment length is the great-circle distance between its nodes (m); speeds and
        directions follow the module docstring. Segments whose nodes are missing are dropped.
        """
        ids = np.asarray(node_id, dtype=np.int64).reshape(-1)
        lat = np.asarray(lat_deg, dtype=np.float64).reshape(-1)
        lon = np.asarray(lon_deg, dtype=np.float64).reshape(-1)
        us = np.asarray(u, dtype=np.int64).reshape(-1)
        vs = np.asarray(v, dtype=np.int64).reshape(-1)
        if not ids.shape == lat.shape == lon.shape:
            raise ValueError("node_id, lat_deg and lon_deg must have the same length")
        if us.shape != vs.shape:
            raise ValueError("u and v must have the same length")
        check_positive("other_speed_kmh", other_speed_kmh)
        check_positive("maxspeed_factor", maxspeed_factor)
        for road_class, speed in speeds_kmh.items():
            check_positive(f"speeds_kmh[{road_class!r}]", speed)
        count = us.size
        highways = _tags(highway, count, "highway")
        maxspeeds = _tags(maxspeed, count, "maxspeed")
        oneways = _tags(oneway, count, "oneway")
        junctions = _tags(junction, count, "junction")

        if ids.size == 0:
            raise ValueError(f"{name}: no road nodes")

        # OSM ids -> node indices; drop segments that reference unknown nodes.
        sorter = np.argsort(ids, kind="stable")
        sorted_ids = ids[sorter]

        def index_of(osm_ids: IntArray) -> IntArray:
            position = np.clip(np.searchsorted(sorted_ids, osm_ids), 0, ids.size - 1)
            result: IntArray = np.where(sorted_ids[position] == osm_ids, sorter[position], -1)
            return result

        tail_index, head_index = index_of(us), index_of(vs)
        known = (tail_index >= 0) & (head_index >= 0)
        length = haversine_m(lat[tail_index], lon[tail_index], lat[head_index], lon[head_index])

        class_speed = _map_unique(highways, lambda tag: float(speeds_kmh.get(tag, other_speed_kmh)))
        limit = _map_unique(
            maxspeeds, lambda tag: math.nan if (kmh := parse_maxspeed_kmh(tag)) is None else kmh
        )
        speed_kmh = np.where(np.isnan(limit), class_speed, limit * maxspeed_factor)
        seconds = length * 3.6 / speed_kmh

        forward_only = np.isin(oneways, list(_FORWARD_ONLY))
        backward_only = np.isin(oneways, list(_BACKWARD_ONLY))
        untagged = oneways == ""
        implied = untagged & (
            np.isin(junctions, list(_IMPLIED_ONEWAY_JUNCTIONS))
            | np.isin(highways, list(_IMPLIED_ONEWAY_HIGHWAYS))
        )
        forward = known & ~backward_only
        backward = known & ~(forward_only | implied)

        return cls(
            lat,
            lon,
            np.concatenate((tail_index[forward], head_index[backward])),
            np.concatenate((head_index[forward], tail_index[backward])),
            np.concatenate((length[forward], length[backward])),
            np.concatenate((seconds[forward], seconds[backward])),
            name=name,
            access_speed_kmh=access_speed_kmh,
            max_snap_m=max_snap_m,
        )

    # -- the RoadNetwork interface ----------------------------------------------------------

    @property
    def name(self) -> str:
        """``"osm:<file name>"`` for :meth:`from_pbf`, else the name given."""
        return self._name

    @property
    def node_count(self) -> int:
        """Nodes in the routing graph (largest strongly connected component)."""
        return int(self._lat.size)

    @property
    def node_latlon(self) -> FloatMatrix:
        """(lat, lon) in degrees of the routing graph's nodes, shape ``(node_count, 2)``."""
        return np.column_stack((self._lat, self._lon))

    @property
    def arc_count(self) -> int:
        """Directed arcs in the routing graph."""
        return int(self._arc_keys.size)

    def __repr__(self) -> str:
        return f"OsmNetwork({self._name!r}, nodes={self.node_count}, arcs={self.arc_count})"

    def matrices(self, points: Sequence[LatLon]) -> TravelMatrices:
        """Road distance (m) and travel time (s) between ``points`` over the graph.

        ``duration_s[i, j] = access_i + fastest(node_i → node_j) + access_j`` and
        ``distance_m`` the same terms in metres along that fastest path; the access legs are
        the straight lines from each point to its snapped node, at ``access_speed_kmh``.
        Zero diagonal. Raises :class:`ValueError` for a point beyond ``max_snap_m``.
        """
        array = points_array(points)
        n = array.shape[0]
        if n == 0:
            empty = np.zeros((0, 0), dtype=np.float64)
            return TravelMatrices(distance_m=empty, duration_s=empty.copy())
        node, access_m = self._snap(array)
        access_s = access_m * (3.6 / self.access_speed_kmh)
        unique_nodes, inverse = np.unique(node, return_inverse=True)
        inverse = inverse.reshape(-1)
        node_time, node_length = self._node_matrices(unique_nodes)
        duration = access_s[:, None] + node_time[np.ix_(inverse, inverse)] + access_s[None, :]
        distance = access_m[:, None] + node_length[np.ix_(inverse, inverse)] + access_m[None, :]
        np.fill_diagonal(duration, 0.0)
        np.fill_diagonal(distance, 0.0)
        return TravelMatrices(distance_m=distance, duration_s=duration)

    def route_geometry(self, a: LatLon, b: LatLon) -> list[LatLon]:
        """``a``, the nodes of the fastest path between the snapped nodes, then ``b``."""
        array = points_array([a, b])
        node, _ = self._snap(array)
        source, target = int(node[0]), int(node[1])
        path = [target]
        if source != target:
            _, predecessors = dijkstra(
                self._time_graph, directed=True, indices=[source], return_predecessors=True
            )
            tree = predecessors[0]
            while path[-1] != source:
                path.append(int(tree[path[-1]]))
            path.reverse()
        line = [LatLon(float(array[0, 0]), float(array[0, 1]))]
        line.extend(LatLon(float(self._lat[i]), float(self._lon[i])) for i in path)
        line.append(LatLon(float(array[1, 0]), float(array[1, 1])))
        # A point lying exactly on its node would repeat it.
        line = [p for k, p in enumerate(line) if k == 0 or p != line[k - 1]]
        return line if len(line) >= 2 else [line[0], line[0]]

    # -- internals ---------------------------------------------------------------------------

    def _snap(self, array: FloatMatrix) -> tuple[IntArray, NDArray[np.float64]]:
        """Nearest graph node of each (lat, lon) row and the great-circle distance to it (m)."""
        _, nearest = self._kdtree.query(unit_vectors(array[:, 0], array[:, 1]))
        node = np.asarray(nearest, dtype=np.int64).reshape(-1)
        access_m = haversine_m(array[:, 0], array[:, 1], self._lat[node], self._lon[node])
        if self.max_snap_m is not None and (access_m > self.max_snap_m).any():
            index = int(np.argmax(access_m > self.max_snap_m))
            raise ValueError(
                f"point {index} = (lat {array[index, 0]}, lon {array[index, 1]}) is "
                f"{access_m[index]:.0f} m from the nearest road of {self._name} "
                f"(limit max_snap_m={self.max_snap_m:.0f} m): is it inside the extract?"
            )
        return node, access_m

    def _node_matrices(self, nodes: IntArray) -> tuple[FloatMatrix, FloatMatrix]:
        """Fastest times (s) and their path lengths (m) between graph nodes, ``K × K``.

        Sources are processed in batches of at most :data:`_CELL_BUDGET` / node count, each
        one multi-source call of the compiled Dijkstra with predecessors, then the lengths
        along its trees by :meth:`_tree_lengths`.
        """
        k = nodes.size
        time = np.empty((k, k), dtype=np.float64)
        length = np.empty((k, k), dtype=np.float64)
        batch = max(1, _CELL_BUDGET // self.node_count)
        for start in range(0, k, batch):
            sources = nodes[start : start + batch]
            times, predecessors = dijkstra(
                self._time_graph, directed=True, indices=sources, return_predecessors=True
            )
            time[start : start + batch] = times[:, nodes]
            length[start : start + batch] = self._tree_lengths(sources, predecessors)[:, nodes]
        return time, length

    def _tree_lengths(self, sources: IntArray, predecessors: NDArray[np.int32]) -> FloatMatrix:
        """Length (m) from ``sources[r]`` to every node along its shortest-path tree.

        Row ``r`` of ``predecessors`` is the tree rooted at ``sources[r]``. Pointer jumping
        (path doubling) sums the arc lengths up each tree: every node starts with the length
        of the arc from its parent and a pointer to that parent (the root points to itself,
        length 0); each pass adds the length stored at the node pointed to and moves the
        pointer to that node's pointer. After ``⌈log₂ depth⌉`` passes every pointer is at the
        root and every node holds its path length: exactly the length of the time-shortest
        path. Each pass is a few numpy gathers over the whole batch (no loop over arcs).
        """
        rows, n = predecessors.shape
        parent = predecessors.reshape(-1).astype(np.int64)
        cell = np.arange(rows * n, dtype=np.int64)
        node = cell % n
        has_parent = parent >= 0
        length = np.zeros(rows * n, dtype=np.float64)
        arc = np.searchsorted(self._arc_keys, parent[has_parent] * n + node[has_parent])
        length[has_parent] = self._arc_lengths[arc]
        # pointers are flat cell indices; roots (and unreached nodes) point to themselves
        pointer = np.where(has_parent, cell - node + parent, cell)
        del parent, node, has_parent, arc
        while True:
            length += length[pointer]
            further = pointer[pointer]
            if np.array_equal(further, pointer):
                break
            pointer = further
        return length.reshape(rows, n)
