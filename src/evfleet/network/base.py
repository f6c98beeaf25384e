"""The road-network interface: travel matrices and road geometry between points.

A road network answers two questions for the planner and the map:

* :meth:`RoadNetwork.matrices`: for ``N`` points, the ``N × N`` road distance (metres) and
  travel time (seconds) from every point to every other, as :class:`TravelMatrices`;
* :meth:`RoadNetwork.route_geometry`: the road polyline from one point to another, for
  drawing (a straight segment where the network does not know the road).

Points are :class:`LatLon` (WGS 84 degrees, latitude first). The core of evfleet depends only
on this module; the adapters (:mod:`evfleet.network.great_circle`, :mod:`evfleet.network.osm`,
:mod:`evfleet.network.osrm`) are chosen at the edge, e.g. by
:func:`evfleet.network.factory.network_from_spec`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

#: Mean Earth radius in metres (IUGG R1 = (2a + b) / 3 of WGS 84), used by every haversine here.
EARTH_RADIUS_M = 6_371_008.8

FloatMatrix = NDArray[np.float64]


class LatLon(NamedTuple):
    """A point in WGS 84 degrees: ``lat`` in [-90, 90], ``lon`` in [-180, 180]."""

    lat: float
    lon: float


@dataclass(frozen=True)
class TravelMatrices:
    """Square travel matrices between ``N`` points, row = origin, column = destination.

    ``distance_m[i, j]`` is the road distance in metres and ``duration_s[i, j]`` the travel
    time in seconds from point ``i`` to point ``j``; both are ``float64`` arrays of shape
    ``(N, N)`` with a zero diagonal. An unreachable pair is ``inf`` in both. They need not be
    symmetric (one-way streets).
    """

    distance_m: FloatMatrix
    duration_s: FloatMatrix

    def __post_init__(self) -> None:
        for label, matrix in (("distance_m", self.distance_m), ("duration_s", self.duration_s)):
            if matrix.dtype != np.float64:
                raise TypeError(f"{label} must be float64, got {matrix.dtype}")
            if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
                raise ValueError(f"{label} must be a square matrix, got shape {matrix.shape}")
        if self.distance_m.shape != self.duration_s.shape:
            raise ValueError(
                f"distance_m {self.distance_m.shape} and duration_s {self.duration_s.shape} "
                "differ in shape"
            )

    @property
    def size(self) -> int:
        """The number of points ``N``."""
        return int(self.distance_m.shape[0])


@runtime_checkable
class RoadNetwork(Protocol):
    """Anything that gives travel matrices and road geometry between points."""

    @property
    def name(self) -> str:
        """A short label for reports and logs, e.g. ``"great-circle"`` or ``"osm:city.pbf"``."""
        ...

    def matrices(self, points: Sequence[LatLon]) -> TravelMatrices:
        """Distances (m) and travel times (s) from every point to every point, ``N × N``."""
        ...

    def route_geometry(self, a: LatLon, b: LatLon) -> list[LatLon]:
        """The road polyline from ``a`` to ``b`` (at least two points, first near ``a``, last
        near ``b``); a straight segment ``[a, b]`` where the road is unknown."""
        ...


def points_array(
    points: Sequence[LatLon] | Sequence[tuple[float, float]] | NDArray[np.float64],
) -> FloatMatrix:
    """``points`` as an ``(N, 2)`` float64 array of (lat, lon) degrees, checked for range.

    Raises :class:`ValueError` naming the first bad point (its index, 0-based) when a value is
    not finite or lies outside [-90, 90] × [-180, 180].
    """
    array = np.asarray(points, dtype=np.float64)
    if array.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"points must be (lat, lon) pairs, got an array of shape {array.shape}")
    bad = ~(
        np.isfinite(array).all(axis=1)
        & (np.abs(array[:, 0]) <= 90.0)
        & (np.abs(array[:, 1]) <= 180.0)
    )
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        lat, lon = array[index]
        raise ValueError(
            f"point {index} = (lat {lat}, lon {lon}) is not a valid WGS 84 position "
            "(latitude in [-90, 90], longitude in [-180, 180], degrees)"
        )
    return array


def haversine_m(
    lat1_deg: NDArray[np.float64] | float,
    lon1_deg: NDArray[np.float64] | float,
    lat2_deg: NDArray[np.float64] | float,
    lon2_deg: NDArray[np.float64] | float,
) -> NDArray[np.float64]:
    """Great-circle distance in metres between points given in degrees (numpy broadcasting).

    Uses the haversine formula on a sphere of radius :data:`EARTH_RADIUS_M`; its error
    against the WGS 84 ellipsoid is below 0.5 %.
    """
    phi1 = np.radians(lat1_deg)
    phi2 = np.radians(lat2_deg)
    half_dphi = (phi2 - phi1) * 0.5
    half_dlambda = (np.radians(lon2_deg) - np.radians(lon1_deg)) * 0.5
    a = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlambda) ** 2
    result: NDArray[np.float64] = (
        2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    ).astype(np.float64, copy=False)
    return result


def haversine_point_m(a: LatLon, b: LatLon) -> float:
    """Great-circle distance in metres between two points (scalar :func:`haversine_m`)."""
    return float(haversine_m(a[0], a[1], b[0], b[1]))


def unit_vectors(lat_deg: NDArray[np.float64], lon_deg: NDArray[np.float64]) -> FloatMatrix:
    """Earth-centred Cartesian coordinates in metres on the sphere, shape ``(N, 3)``.

    Chord length between two such vectors grows monotonically with great-circle distance, so
    a k-d tree over them finds the nearest point on the sphere exactly, anywhere on Earth
    (no projection zone, no distortion).
    """
    phi = np.radians(lat_deg)
    lam = np.radians(lon_deg)
    cos_phi = np.cos(phi)
    return EARTH_RADIUS_M * np.column_stack(
        (cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi))
    )


def straight_segment(a: LatLon, b: LatLon) -> list[LatLon]:
    """The fallback geometry ``[a, b]`` as :class:`LatLon`."""
    return [LatLon(float(a[0]), float(a[1])), LatLon(float(b[0]), float(b[1]))]


def check_positive(name: str, value: float) -> float:
    """``value`` as float when finite and > 0, else :class:`ValueError` naming ``name``."""
    number = float(value)
    if not math.isfinite(number) or number <= 0.0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return number
