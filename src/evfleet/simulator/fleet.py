"""A whole fleet driving a plan: every route by its own van, merged into one stream (pure).

:func:`simulate_plan` drives each route of an ``evfleet-plan/1`` document with
:func:`~evfleet.simulator.van.simulate_van` (van ids ``van-01``, ``van-02``, ... by route
number unless given), applies the faults of :mod:`evfleet.simulator.faults` per van and
merges the deliveries in sending order. Everything is decided by the seed: the same plan,
settings, seed and start give the same stream, whatever the publisher or the speed-up.

Simulated time: the plan's times are s since its local midnight, ``day_start``; the
simulation covers ``[start_s, end_s]`` of that day (fixes taken before ``start_s`` are not
sent: a van already under way joins the stream mid-route).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from evfleet.simulator.faults import (
    Delivery,
    FaultLog,
    FaultSettings,
    FaultSpecError,
    apply_faults,
    low_battery_drain,
)
from evfleet.simulator.model import NoiseSettings, Weather, WeatherSettings
from evfleet.simulator.van import Phase, VanOptions, VanRun, simulate_van
from evfleet.telemetry import TelemetryMessage
from evfleet.tracking.plan import PlannedRoute, planned_routes

__all__ = [
    "DEFAULT_START",
    "Simulation",
    "SimulationSettings",
    "default_start",
    "default_vehicle_id",
    "parse_start",
    "simulate_plan",
]

DEFAULT_START = time(7, 0)
"""The simulation's default start: 07:00 local time, today."""


def default_vehicle_id(route_number: int) -> str:
    """The id of the van driving route ``route_number``: ``van-01``, ``van-02``, ..."""
    return f"van-{route_number:02d}"


def default_start(today: date | None = None) -> datetime:
    """07:00 today (or on ``today``) in the machine's local time zone, with its UTC offset."""
    return datetime.combine(today or date.today(), DEFAULT_START).astimezone()


def parse_start(text: str | None) -> datetime:
    """A start from ``2026-03-02T06:30+01:00``, ``2026-03-02 06:30``, ``2026-03-02`` (07:00
    that day) or ``06:30`` (today); without an offset, local time. ``None``: 07:00 today.
    :class:`ValueError` for anything else."""
    if text is None or not text.strip():
        return default_start()
    text = text.strip()
    try:
        clock = time.fromisoformat(text)
    except ValueError:
        pass
    else:
        if clock.tzinfo is not None:
            return datetime.combine(date.today(), clock)
        return datetime.combine(date.today(), clock).astimezone()
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date-time (e.g. 2026-03-02T07:00+01:00, 2026-03-02 or 07:00)"
        ) from None
    if len(text) == 10:  # a date alone
        stamp = datetime.combine(stamp.date(), DEFAULT_START)
    return stamp if stamp.utcoffset() is not None else stamp.astimezone()


@dataclass(frozen=True)
class SimulationSettings:
    """Everything that shapes a simulated day besides the plan and the start.

    ``interval_s``: one fix every this many simulated s per van; ``seed``: the random seed;
    ``noise``, ``weather``, ``faults``: the models; ``pre_trip_s`` / ``post_trip_s``: time
    parked at the depot before leaving and after returning, s; ``vehicle_ids``: route
    number → vehicle id (missing: :func:`default_vehicle_id`); ``options``: per-vehicle
    :class:`~evfleet.simulator.van.VanOptions` (a late start, a fixed pace, ...).
    """

    interval_s: float = 10.0
    seed: int = 0
    noise: NoiseSettings = field(default_factory=NoiseSettings)
    weather: WeatherSettings = field(default_factory=WeatherSettings)
    faults: FaultSettings = field(default_factory=FaultSettings)
    pre_trip_s: float = 600.0
    post_trip_s: float = 300.0
    vehicle_ids: Mapping[int, str] = field(default_factory=dict)
    options: Mapping[str, VanOptions] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.interval_s > 0:
            raise ValueError(f"interval_s must be > 0 s, got {self.interval_s}")


@dataclass(frozen=True)
class Simulation:
    """A simulated day: the vans (clean runs), what the faults did and the deliveries.

    ``deliveries`` are in sending order within ``[start_s, end_s]`` (s since ``day_start``,
    the plan's midnight, timezone-aware).
    """

    day_start: datetime
    start_s: float
    end_s: float
    vans: dict[str, VanRun]
    faults: dict[str, FaultLog]
    deliveries: tuple[Delivery, ...]

    @property
    def start(self) -> datetime:
        """The simulation's first instant."""
        return self.day_start + timedelta(seconds=self.start_s)

    @property
    def assignments(self) -> dict[str, int]:
        """Vehicle id → the plan's route number (for :class:`evfleet.tracking.Tracker`)."""
        return {vid: run.route.number for vid, run in self.vans.items()}

    def messages(self, vehicle_id: str | None = None) -> list[TelemetryMessage]:
        """The delivered messages in sending order (of one vehicle, when given)."""
        return [
            d.message
            for d in self.deliveries
            if vehicle_id is None or d.message.vehicle_id == vehicle_id
        ]


def _stints(run: VanRun) -> list[tuple[float, float]]:
    """(energy at the start, energy used) for each stretch between charges, Wh."""
    stints: list[tuple[float, float]] = []
    start: float | None = None
    used = 0.0
    for seg in run.segments:
        if seg.energy0_wh is None or seg.energy1_wh is None:
            return []
        if start is None:
            start = seg.energy0_wh
        if seg.phase is Phase.DRIVING:
            used += seg.energy0_wh - seg.energy1_wh
        elif seg.phase is Phase.CHARGING:
            stints.append((start, used))
            start, used = seg.energy1_wh, 0.0
    if start is not None:
        stints.append((start, used))
    return stints


def simulate_plan(
    plan: Mapping[str, Any] | Sequence[PlannedRoute],
    settings: SimulationSettings | None = None,
    *,
    start: datetime | None = None,
    duration_s: float | None = None,
) -> Simulation:
    """Simulates every route of ``plan`` from ``start`` (default 07:00 today, local) for
    ``duration_s`` simulated s (default: until the last van is done).

    :class:`~evfleet.tracking.PlanFormatError` for a plan that cannot be driven (not
    geographic); :class:`~evfleet.simulator.faults.FaultSpecError` for a low-battery fault
    naming an unknown or non-electric van.
    """
    settings = settings or SimulationSettings()
    routes = planned_routes(plan) if isinstance(plan, Mapping) else list(plan)
    start = start or default_start()
    if start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if duration_s is not None and not duration_s > 0:
        raise ValueError(f"duration_s must be > 0 s, got {duration_s}")
    day_start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    start_s = (start - day_start) / timedelta(seconds=1)
    weather = Weather(settings.weather, settings.seed)
    ids = {
        r.number: settings.vehicle_ids.get(r.number) or default_vehicle_id(r.number) for r in routes
    }
    faults = settings.faults
    unknown = sorted(faults.low_battery - set(ids.values()))
    if unknown:
        raise FaultSpecError(
            f"low-battery: no van {', '.join(unknown)} in the plan "
            f"(vans: {', '.join(ids[r.number] for r in routes)})"
        )
    vans: dict[str, VanRun] = {}
    logs: dict[str, FaultLog] = {}
    streams: list[list[Delivery]] = []
    for route in routes:
        vid = ids[route.number]
        options = settings.options.get(vid) or VanOptions(
            pre_trip_s=settings.pre_trip_s, post_trip_s=settings.post_trip_s
        )

        def run(opts: VanOptions, route: PlannedRoute = route, vid: str = vid) -> VanRun:
            return simulate_van(
                route,
                vid,
                day_start=day_start,
                interval_s=settings.interval_s,
                noise=settings.noise,
                weather=weather,
                options=opts,
                seed=settings.seed,
            )

        van = run(options)
        if vid in faults.low_battery:
            if route.battery_wh is None or route.start_energy_wh is None:
                raise FaultSpecError(f"low-battery: van {vid} has no battery")
            drain = options.drain * low_battery_drain(
                route.start_energy_wh, _stints(van), route.battery_wh, faults.low_battery_soc_pct
            )
            van = run(replace(options, drain=drain))
        vans[vid] = van
        deliveries, log = apply_faults(
            van.messages, faults, random.Random(f"{settings.seed}/{vid}/faults"), day_start
        )
        logs[vid] = log
        streams.append(deliveries)
    last = max((d.send_s for s in streams for d in s), default=start_s)
    end_s = last if duration_s is None else start_s + duration_s
    merged = heapq.merge(*streams, key=lambda d: d.send_s)
    window = tuple(d for d in merged if start_s <= d.send_s <= end_s)
    return Simulation(day_start, start_s, max(end_s, start_s), vans, logs, window)
