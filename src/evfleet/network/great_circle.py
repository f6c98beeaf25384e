"""Great-circle road network: no data, no setup; haversine distance times a circuity factor.

Road distance is estimated as ``circuity × great-circle distance``. The default circuity 1.3
is the middle of the 1.2–1.4 range reported for urban road networks: Newell (1980) put the
network distance between random urban points at about 1.2 × the straight line, and Giacomin
& Levinson (2015, *Road network circuity in metropolitan areas*, Environment and Planning B
42(6)), measuring the 51 largest US metropolitan areas, show short trips, the kind delivery
routes are made of, to be more circuitous than long ones. One-way streets and turn
restrictions add to it for vans, hence 1.3 rather than 1.2.

Travel time comes from a :class:`SpeedProfile`: bands of straight-line distance, each with a
speed, applied like tax brackets. The first kilometre of every hop is driven at the first
band's speed, the next part at the next band's, and so on, so a short urban hop (junctions,
signals, parking) averages a low speed and a long one gets onto arterials and motorways.
Because the speeds never decrease, travel time is a continuous, increasing, concave function
of distance, and such a function is subadditive: times satisfy the triangle inequality,
exactly as the distances do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from evfleet.network.base import (
    FloatMatrix,
    LatLon,
    TravelMatrices,
    check_positive,
    haversine_m,
    points_array,
    straight_segment,
)

#: Default circuity (road distance / great-circle distance); see the module docstring.
DEFAULT_CIRCUITY = 1.3


@dataclass(frozen=True)
class SpeedBand:
    """The part of a hop's straight-line distance below ``up_to_m`` metres (and above the
    previous band's bound) is driven at ``speed_kmh`` km/h."""

    up_to_m: float
    speed_kmh: float


@dataclass(frozen=True)
class SpeedProfile:
    """Speeds by straight-line distance band, bounds increasing, the last one ``inf``.

    Speeds must not decrease from band to band: that keeps travel time concave in distance,
    hence subadditive (triangle inequality). Raises :class:`ValueError` otherwise.
    """

    bands: tuple[SpeedBand, ...]

    def __post_init__(self) -> None:
        if not self.bands:
            raise ValueError("a speed profile needs at least one band")
        previous_bound = 0.0
        previous_speed = 0.0
        for index, band in enumerate(self.bands):
            if not band.up_to_m > previous_bound:
                raise ValueError(
                    f"band {index}: bound {band.up_to_m} m must exceed the previous "
                    f"bound {previous_bound} m"
                )
            check_positive(f"band {index} speed_kmh", band.speed_kmh)
            if band.speed_kmh < previous_speed:
                raise ValueError(
                    f"band {index}: speed {band.speed_kmh} km/h is below the previous band's "
                    f"{previous_speed} km/h; speeds must not decrease with distance (otherwise "
                    "a longer hop could take less time than a shorter one)"
                )
            previous_bound, previous_speed = band.up_to_m, band.speed_kmh
        if not math.isinf(self.bands[-1].up_to_m):
            raise ValueError("the last band must be unbounded (up_to_m = inf)")

    @classmethod
    def constant(cls, speed_kmh: float) -> SpeedProfile:
        """One speed for every distance."""
        return cls((SpeedBand(math.inf, speed_kmh),))

    def durations_s(self, straight_m: NDArray[np.float64], circuity: float) -> FloatMatrix:
        """Travel time in seconds for hops of ``straight_m`` metres straight-line distance,
        each driven over ``circuity × straight_m`` metres of road (vectorised)."""
        seconds = np.zeros_like(straight_m, dtype=np.float64)
        longest = float(straight_m.max(initial=0.0))
        lower = 0.0
        for band in self.bands:
            if lower >= longest:
                break  # no hop reaches this band
            part = np.subtract(straight_m, lower)
            np.clip(part, 0.0, band.up_to_m - lower, out=part)
            part *= circuity * 3.6 / band.speed_kmh
            seconds += part
            lower = band.up_to_m
        return seconds


#: Default speeds (km/h) by straight-line band. Engineering defaults for a delivery van, not a
#: calibration: average urban door-to-door speeds are about 20 km/h over the first kilometre
#: (junctions, signals, parking), rising through city arterials (30, 45 km/h) to regional roads
#: (60 km/h) and motorways beyond 50 km (80 km/h, a van's cruising speed with ramps and
#: traffic). A 3 km hop averages 26 km/h, a 30 km one 44 km/h, a 100 km one 61 km/h.
DEFAULT_SPEED_PROFILE = SpeedProfile(
    (
        SpeedBand(1_000.0, 20.0),
        SpeedBand(5_000.0, 30.0),
        SpeedBand(20_000.0, 45.0),
        SpeedBand(50_000.0, 60.0),
        SpeedBand(math.inf, 80.0),
    )
)

#: Rows computed per block, so memory stays bounded (about 5 arrays of ``block × N`` floats).
_ROW_BLOCK = 1024


class GreatCircleNetwork:
    """Road network estimated from great-circle distances: nothing to load or configure.

    ``distance_m = circuity × haversine`` and ``duration_s`` from ``speed_profile`` (see the
    module docstring for the defaults and why). Symmetric, zero diagonal, satisfies the
    triangle inequality for both matrices. 2,000 points take well under a second.
    """

    def __init__(
        self,
        circuity: float = DEFAULT_CIRCUITY,
        speed_profile: SpeedProfile = DEFAULT_SPEED_PROFILE,
    ) -> None:
        self.circuity = check_positive("circuity", circuity)
        if self.circuity < 1.0:
            raise ValueError(
                f"circuity must be at least 1 (a road is never shorter than the great circle), "
                f"got {circuity!r}"
            )
        self.speed_profile = speed_profile

    @property
    def name(self) -> str:
        """``"great-circle"``."""
        return "great-circle"

    def __repr__(self) -> str:
        return f"GreatCircleNetwork(circuity={self.circuity})"

    def matrices(self, points: Sequence[LatLon]) -> TravelMatrices:
        """Distance (m) and duration (s) matrices between ``points``, fully vectorised."""
        array = points_array(points)
        n = array.shape[0]
        distance = np.empty((n, n), dtype=np.float64)
        duration = np.empty((n, n), dtype=np.float64)
        lat, lon = array[:, 0], array[:, 1]
        for start in range(0, n, _ROW_BLOCK):
            stop = min(n, start + _ROW_BLOCK)
            straight = haversine_m(lat[start:stop, None], lon[start:stop, None], lat, lon)
            duration[start:stop] = self.speed_profile.durations_s(straight, self.circuity)
            distance[start:stop] = straight * self.circuity
        np.fill_diagonal(distance, 0.0)
        np.fill_diagonal(duration, 0.0)
        return TravelMatrices(distance_m=distance, duration_s=duration)

    def route_geometry(self, a: LatLon, b: LatLon) -> list[LatLon]:
        """The straight segment ``[a, b]``: this network knows no roads."""
        points_array([a, b])
        return straight_segment(a, b)
