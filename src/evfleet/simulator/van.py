"""One van driving one planned route: its real timeline and its telemetry (pure, seeded).

A van powers on ``pre_trip_s`` before its (possibly late) departure, parks at the depot,
then for every leg drives the route's polyline (the plan's road geometry split at the stops,
or straight legs) for the planned driving time times a traffic factor, parks at a client for
its service (waiting for the window to open first), or charges at a planned charger, and
stays ``post_trip_s`` at the depot on return. Energy falls along each leg by the plan's energy
for the leg times the weather's consumption factor times ``drain`` and rises while charging
at the plan's average charging rate, up to the plan's departure energy. A fix is taken every
``interval_s`` from a random phase on; ``seq`` counts the fixes from 1.

Units: m, s, m/s, Wh, %, °C; times in s since the plan's local midnight.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from evfleet.network.base import EARTH_RADIUS_M, LatLon
from evfleet.simulator.model import NoiseSettings, Weather, WeatherSettings
from evfleet.telemetry import TelemetryMessage
from evfleet.tracking.geo import LocalFrame, Polyline, distance_m
from evfleet.tracking.plan import PlannedRoute, PlannedStop, StopKind

__all__ = [
    "Phase",
    "Segment",
    "StopTruth",
    "VanOptions",
    "VanRun",
    "leg_paths",
    "offset_m",
    "simulate_van",
]

ROAD_MATCH_SLACK_M = 25.0
"""When splitting road geometry at a stop, the first vertex within this much of the nearest
one is taken (so a later pass near the same stop is not chosen)."""


class Phase(StrEnum):
    PARKED = "parked"
    DRIVING = "driving"
    CHARGING = "charging"


@dataclass(frozen=True)
class Segment:
    """A stretch of the van's day: parked at ``position``, driving ``path`` or charging.

    Times in s since midnight; energies in Wh (``None`` without a battery), linear between
    ``t0_s`` and ``t1_s``; ``odometer0_m`` / ``length_m``: road distance at the start and
    covered during the segment; ``leg``: the 1-based leg being driven (0 otherwise).
    """

    phase: Phase
    t0_s: float
    t1_s: float
    energy0_wh: float | None
    energy1_wh: float | None
    position: LatLon
    path: Polyline | None = None
    odometer0_m: float = 0.0
    length_m: float = 0.0
    leg: int = 0

    def fraction(self, t: float) -> float:
        """Share of the segment elapsed at ``t`` (0..1)."""
        span = self.t1_s - self.t0_s
        return 0.0 if span <= 0 else min(max((t - self.t0_s) / span, 0.0), 1.0)

    def energy_wh(self, t: float) -> float | None:
        """Battery energy at ``t``, Wh."""
        if self.energy0_wh is None or self.energy1_wh is None:
            return None
        f = self.fraction(t)
        return self.energy0_wh + f * (self.energy1_wh - self.energy0_wh)


@dataclass(frozen=True)
class StopTruth:
    """What really happened at one stop (s since midnight; energies in Wh)."""

    sequence: int
    id: str
    kind: StopKind
    position: LatLon
    arrival_s: float
    start_s: float
    departure_s: float
    energy_arrival_wh: float | None = None
    energy_departure_wh: float | None = None


@dataclass(frozen=True)
class VanOptions:
    """How one van departs from its plan beyond the shared noise.

    ``late_start_s``: leaves the depot this much after the planned start; ``pace``: a fixed
    traffic factor for every leg (``None``: drawn per leg from the noise settings);
    ``drain``: multiplies every leg's energy (a van running low); ``pre_trip_s`` /
    ``post_trip_s``: parked at the depot before departure and after return, s.
    """

    late_start_s: float = 0.0
    pace: float | None = None
    drain: float = 1.0
    pre_trip_s: float = 600.0
    post_trip_s: float = 300.0

    def __post_init__(self) -> None:
        if self.pace is not None and not self.pace > 0:
            raise ValueError("pace must be > 0")
        if not (self.drain >= 0 and self.pre_trip_s >= 0 and self.post_trip_s >= 0):
            raise ValueError("drain, pre_trip_s and post_trip_s must be >= 0")


@dataclass(frozen=True)
class VanRun:
    """One van's simulated day: its segments, what happened at each stop and every fix
    (clean: in order, ``seq`` 1, 2, 3, ...)."""

    vehicle_id: str
    route: PlannedRoute
    segments: tuple[Segment, ...]
    stops: tuple[StopTruth, ...]
    messages: tuple[TelemetryMessage, ...]
    drain: float = 1.0
    legs: tuple[Sequence[LatLon], ...] = field(default=(), repr=False)

    @property
    def depot_departure_s(self) -> float:
        """When the van left the depot, s since midnight."""
        return self.segments[0].t1_s

    @property
    def return_s(self) -> float:
        """When the van was back at the depot, s since midnight."""
        return self.stops[-1].arrival_s

    def truth(self, stop_id: str) -> StopTruth:
        """What happened at ``stop_id`` (the depot's id: the return)."""
        for s in self.stops:
            if s.id == stop_id:
                return s
        raise KeyError(stop_id)

    def segment_at(self, t: float) -> Segment:
        """The segment under way at ``t`` (clamped to the day)."""
        starts = [s.t0_s for s in self.segments]
        k = max(bisect.bisect_right(starts, t) - 1, 0)
        return self.segments[k]

    @property
    def min_energy_wh(self) -> float | None:
        """The lowest battery energy of the day, Wh."""
        values = [e for s in self.segments for e in (s.energy0_wh, s.energy1_wh) if e is not None]
        return min(values) if values else None


# --------------------------------------------------------------------------- geometry


def offset_m(p: LatLon, north_m: float, east_m: float) -> LatLon:
    """``p`` moved ``north_m`` north and ``east_m`` east (local flat approximation)."""
    dlat = math.degrees(north_m / EARTH_RADIUS_M)
    dlon = math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(p.lat))))
    return LatLon(p.lat + dlat, p.lon + dlon)


def leg_paths(route: PlannedRoute) -> list[list[LatLon]]:
    """The route's polyline cut into legs: depot → stop 1, ..., last stop → depot.

    With road geometry, each stop is matched to the first vertex (at or after the previous
    stop's) within :data:`ROAD_MATCH_SLACK_M` of the nearest one; each leg runs from the
    exact stop position through the road vertices in between to the next stop position.
    Without it, legs are straight.
    """
    points = [route.depot_position, *(s.position for s in route.stops), route.depot_position]
    geometry = list(route.geometry)
    if len(geometry) < 2:
        return [[a, b] for a, b in itertools.pairwise(points)]
    legs: list[list[LatLon]] = []
    prev = 0
    for k in range(1, len(points)):
        target = points[k]
        if k == len(points) - 1:
            j = len(geometry) - 1
        else:
            dists = [distance_m(g, target) for g in geometry[prev:]]
            best = min(dists)
            j = prev + next(i for i, d in enumerate(dists) if d <= best + ROAD_MATCH_SLACK_M)
        inner = geometry[prev + 1 : j] if j > prev else []
        legs.append([points[k - 1], *inner, target])
        prev = max(j, prev)
    return legs


def _heading_deg(path: Polyline, chainage_m: float) -> float | None:
    if path.length_m <= 0:
        return None
    a = path.point_at(max(chainage_m - 2.0, 0.0))
    b = path.point_at(min(chainage_m + 2.0, path.length_m))
    ax, ay = path.frame.xy(a)
    bx, by = path.frame.xy(b)
    if ax == bx and ay == by:
        return None
    return math.degrees(math.atan2(bx - ax, by - ay)) % 360.0


# --------------------------------------------------------------------------- timeline


def _planned_leg_wh(route: PlannedRoute, prev: PlannedStop | None, stop: PlannedStop) -> float:
    before = route.start_energy_wh if prev is None else prev.energy_departure_wh
    after = stop.energy_arrival_wh
    if before is None or after is None:
        return 0.0
    return max(before - after, 0.0)


def _timeline(
    route: PlannedRoute,
    legs: Sequence[Sequence[LatLon]],
    frame: LocalFrame,
    noise: NoiseSettings,
    weather: Weather,
    options: VanOptions,
    rng: random.Random,
) -> tuple[list[Segment], list[StopTruth]]:
    """The van's segments and stop truths; ``rng`` draws traffic and service times."""
    paths = [Polyline.of(list(leg), frame) for leg in legs]
    line_m = sum(p.length_m for p in paths)
    scale = route.distance_m / line_m if route.distance_m and line_m > 0 else 1.0
    electric = route.battery_wh is not None and route.start_energy_wh is not None
    energy: float | None = route.start_energy_wh if electric else None
    depart = route.start_s + options.late_start_s
    segments = [
        Segment(
            Phase.PARKED, depart - options.pre_trip_s, depart, energy, energy, route.depot_position
        )
    ]
    truths: list[StopTruth] = []
    clock = depart
    odometer = 0.0
    prev: PlannedStop | None = None
    for leg, (stop, path) in enumerate(zip(route.all_stops, paths, strict=True), start=1):
        planned = stop.arrival_s - (route.start_s if prev is None else prev.departure_s)
        factor = options.pace if options.pace is not None else noise.traffic_factor(rng)
        drive = max(planned, 0.0) * factor
        length = path.length_m * scale
        arrive = clock + drive
        e_arrive = energy
        if energy is not None:
            used = _planned_leg_wh(route, prev, stop) * options.drain
            used *= weather.consumption_factor(clock + drive / 2.0)
            e_arrive = energy - used
        if drive > 0 or length > 0:
            segments.append(
                Segment(
                    Phase.DRIVING,
                    clock,
                    arrive,
                    energy,
                    e_arrive,
                    stop.position,
                    path=path,
                    odometer0_m=odometer,
                    length_m=length,
                    leg=leg,
                )
            )
        odometer += length
        energy = e_arrive
        if stop.kind is StopKind.DEPOT:
            segments.append(
                Segment(
                    Phase.PARKED,
                    arrive,
                    arrive + options.post_trip_s,
                    energy,
                    energy,
                    stop.position,
                    odometer0_m=odometer,
                )
            )
            truths.append(
                StopTruth(
                    stop.sequence, stop.id, stop.kind, stop.position, arrive, arrive, arrive,
                    energy, energy,
                )
            )  # fmt: skip
            break
        if stop.kind is StopKind.CHARGER:
            start = arrive
            target = stop.energy_departure_wh
            dwell = stop.dwell_s
            if energy is not None and target is not None:
                if stop.charged_wh > 0 and stop.dwell_s > 0:
                    rate_wh_per_s = stop.charged_wh / stop.dwell_s
                    dwell = max(target - energy, 0.0) / rate_wh_per_s
                target = max(target, energy)
            dwell = max(dwell, noise.min_service_s)
            leave = start + dwell
            segments.append(
                Segment(
                    Phase.CHARGING,
                    start,
                    leave,
                    energy,
                    target if energy is not None else None,
                    stop.position,
                    odometer0_m=odometer,
                )
            )
            e_leave = target if energy is not None else None
        else:
            start = max(arrive, stop.tw_early_s)
            leave = start + noise.service_s(rng, stop.dwell_s)
            segments.append(
                Segment(
                    Phase.PARKED, arrive, leave, energy, energy, stop.position, odometer0_m=odometer
                )
            )
            e_leave = energy
        truths.append(
            StopTruth(
                stop.sequence, stop.id, stop.kind, stop.position, arrive, start, leave,
                energy, e_leave,
            )
        )  # fmt: skip
        energy = e_leave
        clock = leave
        prev = stop
    return segments, truths


# ----------------------------------------------------------------------------- fixes


def _range_wh_per_m(route: PlannedRoute) -> float | None:
    """The plan's average consumption over the route, Wh/m (for the range signal)."""
    if route.start_energy_wh is None or not route.distance_m:
        return None
    used = 0.0
    prev: PlannedStop | None = None
    for stop in route.all_stops:
        used += _planned_leg_wh(route, prev, stop)
        prev = stop
    return used / route.distance_m if used > 0 else None


def simulate_van(
    route: PlannedRoute,
    vehicle_id: str,
    *,
    day_start: datetime,
    interval_s: float = 10.0,
    noise: NoiseSettings | None = None,
    weather: Weather | None = None,
    options: VanOptions | None = None,
    seed: int | str = 0,
    phase_s: float | None = None,
    soc_decimals: int = 1,
) -> VanRun:
    """Drives ``route`` as ``vehicle_id``: the timeline and one fix every ``interval_s`` s.

    ``day_start`` is the plan's midnight (timezone-aware): fix timestamps are ``day_start``
    plus the simulated time. ``phase_s``: the first fix comes this long after power-on
    (``None``: a whole number of seconds drawn in ``[0, interval_s)``). Random draws come
    from streams named by ``seed`` and ``vehicle_id``: the timeline (traffic, service) and
    the fixes (phase, GPS, speed) are independent, so changing the fix interval does not
    change what the van does.
    """
    if not interval_s > 0:
        raise ValueError("interval_s must be > 0")
    if day_start.utcoffset() is None:
        raise ValueError("day_start must be timezone-aware")
    noise = noise or NoiseSettings()
    weather = weather or Weather(WeatherSettings(), seed)
    options = options or VanOptions()
    legs = leg_paths(route)
    frame = LocalFrame(route.depot_position)
    segments, truths = _timeline(
        route, legs, frame, noise, weather, options, random.Random(f"{seed}/{vehicle_id}/timeline")
    )
    rng = random.Random(f"{seed}/{vehicle_id}/fixes")
    if phase_s is None:
        phase_s = float(rng.randrange(max(int(interval_s), 1)))
    battery = route.battery_wh
    wh_per_m = _range_wh_per_m(route)
    odometer0 = float(rng.randrange(5_000_000, 80_000_000))  # 5,000-80,000 km on the clock
    starts = [s.t0_s for s in segments]
    t_end = segments[-1].t1_s
    t0 = segments[0].t0_s + phase_s
    heading: float | None = None
    messages: list[TelemetryMessage] = []
    k = 0
    while (t := t0 + k * interval_s) <= t_end + 1e-9:
        k += 1
        seg = segments[max(bisect.bisect_right(starts, t) - 1, 0)]
        f = seg.fraction(t)
        speed = 0.0
        if seg.phase is Phase.DRIVING and seg.path is not None:
            chain = f * seg.path.length_m
            true = seg.path.point_at(chain)
            moving = _heading_deg(seg.path, chain)
            heading = heading if moving is None else moving
            span = seg.t1_s - seg.t0_s
            mean = seg.length_m / span if span > 0 else 0.0
            speed = max(mean + rng.gauss(0.0, noise.speed_sigma_m_per_s), 0.0)
            sigma = noise.gps_sigma_m
        else:
            true = seg.position
            sigma = noise.parked_sigma_m
        north, east = noise.jitter_m(rng, sigma)
        fix = offset_m(true, north, east)
        energy = seg.energy_wh(t)
        soc: float | None = None
        range_m: int | None = None
        if energy is not None and battery:
            level = min(max(energy, 0.0), battery)
            soc = round(100.0 * level / battery, soc_decimals)
            if wh_per_m:
                range_m = int(level / wh_per_m)
        temperature = round(weather.temperature_c(t) + rng.gauss(0.0, 0.2), 1)
        messages.append(
            TelemetryMessage(
                vehicle_id=vehicle_id,
                seq=len(messages) + 1,
                timestamp=day_start + timedelta(seconds=round(t, 3)),
                latitude_deg=round(fix.lat, 7),
                longitude_deg=round(fix.lon, 7),
                heading_deg=None if heading is None else round(heading, 1),
                speed_m_per_s=round(speed, 2),
                odometer_m=int(odometer0 + seg.odometer0_m + f * seg.length_m),
                soc_pct=soc,
                range_m=range_m,
                is_charging=None if soc is None else seg.phase is Phase.CHARGING,
                air_temperature_c=min(max(temperature, -99.0), 99.0),
            )
        )
    return VanRun(
        vehicle_id=vehicle_id,
        route=route,
        segments=tuple(segments),
        stops=tuple(truths),
        messages=tuple(messages),
        drain=options.drain,
        legs=tuple(legs),
    )
