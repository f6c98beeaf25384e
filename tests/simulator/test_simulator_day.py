"""A simulated day of the two-van plan: stops in order, seq and time, noise, determinism."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sim_world import BATTERY_WH, START

from evfleet.network.base import LatLon
from evfleet.simulator import (
    NoiseSettings,
    Phase,
    Simulation,
    SimulationSettings,
    WeatherSettings,
    simulate_plan,
)
from evfleet.simulator.publish import PlayStats, play
from evfleet.simulator.van import leg_paths
from evfleet.telemetry import TelemetryMessage, decode_message, encode_message
from evfleet.tracking import StopKind, planned_routes
from evfleet.tracking.geo import Polyline, distance_m


def plan_s(sim: Simulation, m: TelemetryMessage) -> float:
    return (m.timestamp - sim.day_start) / timedelta(seconds=1)


def test_every_van_visits_its_stops_in_order(day: Simulation, doc: dict[str, Any]) -> None:
    routes = {r.number: r for r in planned_routes(doc)}
    assert day.assignments == {"van-01": 1, "van-02": 2}
    jitter = NoiseSettings().max_jitter_m
    for vid, run in day.vans.items():
        route = routes[day.assignments[vid]]
        assert [s.id for s in run.stops] == [s.id for s in route.all_stops]
        times = [t for s in run.stops for t in (s.arrival_s, s.start_s, s.departure_s)]
        assert times == sorted(times)
        messages = day.messages(vid)
        for stop in run.stops[:-1]:
            dwell = [m for m in messages if stop.arrival_s <= plan_s(day, m) <= stop.departure_s]
            assert len(dwell) >= 9  # at least 90 s at 10 s a fix
            for m in dwell:
                d = distance_m(LatLon(m.latitude_deg, m.longitude_deg), stop.position)
                assert d <= jitter + 1e-6
                assert m.speed_m_per_s == 0.0
            # Time windows (08:00) are waited for; service varies around the planned 240 s.
            if stop.kind is StopKind.CLIENT:
                assert stop.start_s >= 8 * 3600
                assert NoiseSettings().min_service_s <= stop.departure_s - stop.start_s < 1000


def test_seq_and_timestamps_follow_simulated_time(day: Simulation) -> None:
    assert day.start == START and day.day_start == START.replace(hour=0, minute=30) - timedelta(
        minutes=30
    )
    for vid in day.vans:
        messages = day.messages(vid)
        assert [m.seq for m in messages] == list(range(1, len(messages) + 1))
        steps = {plan_s(day, b) - plan_s(day, a) for a, b in itertools.pairwise(messages)}
        assert steps == {10.0}
        assert plan_s(day, messages[0]) >= day.start_s
        assert messages[0].timestamp.utcoffset() == timedelta(0)
        for m in messages[::25]:  # valid wire messages that survive a round trip
            back = decode_message(encode_message(m))
            assert replace(back, speed_m_per_s=m.speed_m_per_s) == m
            assert back.speed_m_per_s == pytest.approx(m.speed_m_per_s)
    sends = [d.send_s for d in day.deliveries]
    assert sends == sorted(sends) and sends[0] >= day.start_s and sends[-1] <= day.end_s


def test_battery_draws_down_along_legs_and_charges_at_the_planned_charger(
    day: Simulation,
) -> None:
    run = day.vans["van-01"]
    messages = day.messages("van-01")
    charger = run.truth("CHG-EAST")
    charging = [m for m in messages if m.is_charging]
    assert charging and all(
        charger.arrival_s <= plan_s(day, m) <= charger.departure_s for m in charging
    )
    socs = [m.soc_pct for m in charging]
    assert socs == sorted(socs) and socs[-1] > 95.0  # charged to the plan's 100 %
    before = [m.soc_pct for m in messages if plan_s(day, m) < charger.arrival_s]
    assert before == sorted(before, reverse=True) and before[0] == 40.0  # 8 kWh of 20
    assert charger.energy_arrival_wh is not None and charger.energy_departure_wh == BATTERY_WH
    # Odometer and range move the right way; driving fixes carry a heading.
    odo = [m.odometer_m for m in messages]
    assert odo == sorted(odo)
    assert all(m.heading_deg is not None for m in messages if (m.speed_m_per_s or 0) > 0)


def test_the_van_follows_road_geometry_between_stops(doc: dict[str, Any]) -> None:
    route = planned_routes(doc)[1]
    a, b = route.depot_position, route.stops[0].position
    bend = LatLon((a.lat + b.lat) / 2 + 0.004, (a.lon + b.lon) / 2)
    road = (a, bend, *(s.position for s in route.stops), route.depot_position)
    bent = replace(route, geometry=road)
    legs = leg_paths(bent)
    assert [len(leg) for leg in legs] == [3, 2, 2] and legs[0][1] == bend
    sim = simulate_plan([bent], SimulationSettings(seed=1), start=START)
    run = sim.vans["van-02"]
    line = Polyline.of(list(road))
    leg1 = [m for m in run.messages if run.segment_at(plan_s(sim, m)).leg == 1]
    assert leg1
    for m in leg1:  # on the bent line, not the straight one
        assert line.project(LatLon(m.latitude_deg, m.longitude_deg)).distance_m <= 15.0 + 1e-6
    straight = Polyline.of([a, b])
    far = max(straight.project(LatLon(m.latitude_deg, m.longitude_deg)).distance_m for m in leg1)
    assert far > 150.0


def test_a_seed_decides_everything(doc: dict[str, Any], day: Simulation) -> None:
    again = simulate_plan(doc, SimulationSettings(seed=7), start=START)
    assert again.deliveries == day.deliveries
    other = simulate_plan(doc, SimulationSettings(seed=8), start=START)
    assert other.deliveries != day.deliveries
    # The fix interval does not change what the vans do (separate random streams).
    sparse = simulate_plan(doc, SimulationSettings(seed=7, interval_s=30.0), start=START)
    assert [s.departure_s for s in sparse.vans["van-01"].stops] == [
        s.departure_s for s in day.vans["van-01"].stops
    ]


def test_traffic_and_cold_weather_change_the_day(doc: dict[str, Any], day: Simulation) -> None:
    plain = SimulationSettings(
        seed=7,
        noise=NoiseSettings(traffic_sigma=0.0, traffic_median=1.0, service_sigma=0.0),
        weather=WeatherSettings(diurnal_amplitude_k=0.0, drift_sigma_k=0.0),
    )
    nominal = simulate_plan(doc, plain, start=START)
    route = planned_routes(doc)[1]
    run = nominal.vans["van-02"]
    assert run.return_s == pytest.approx(route.end.arrival_s, abs=1e-6)
    assert run.stops[-1].energy_arrival_wh == pytest.approx(route.end.energy_arrival_wh)
    # −5 °C where the plan assumed 5 °C: every leg costs 1.24 / 1.12 times the planned.
    cold = replace(plain, weather=replace(plain.weather, mean_c=-5.0, plan_c=5.0))
    frozen = simulate_plan(doc, cold, start=START).vans["van-02"]
    used = route.start_energy_wh - route.end.energy_arrival_wh  # type: ignore[operator]
    assert frozen.stops[-1].energy_arrival_wh == pytest.approx(
        route.start_energy_wh - 1.24 / 1.12 * used  # type: ignore[operator]
    )
    # With the default traffic noise, legs take a different time than planned.
    drives = [s.t1_s - s.t0_s for s in day.vans["van-02"].segments if s.phase is Phase.DRIVING]
    planned = [s.t1_s - s.t0_s for s in run.segments if s.phase is Phase.DRIVING]
    assert all(abs(a - b) > 1.0 for a, b in zip(drives, planned, strict=True))


def test_a_later_start_and_a_duration_cut_the_stream(doc: dict[str, Any]) -> None:
    start = START.replace(hour=8, minute=10)
    sim = simulate_plan(doc, SimulationSettings(seed=7), start=start, duration_s=600.0)
    times = [plan_s(sim, d.message) for d in sim.deliveries]
    assert times and min(times) >= 8 * 3600 + 600 and max(times) <= 8 * 3600 + 1200
    assert sim.messages("van-01")[0].seq > 1  # joined mid-route: the counter kept going


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


class Recorder:
    linger_s = 0.0

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[float, Sequence[TelemetryMessage]]] = []

    def send(self, messages: Sequence[TelemetryMessage]) -> None:
        self.sent.append((self.clock.now, list(messages)))

    def close(self) -> None:
        pass


def test_play_paces_by_the_speedup(day: Simulation) -> None:
    clock = FakeClock()
    rec = Recorder(clock)
    stats = play(
        day.deliveries, rec, start_s=day.start_s, speedup=60.0, clock=clock, sleep=clock.sleep
    )
    assert isinstance(stats, PlayStats) and stats.messages == len(day.deliveries)
    for wall, batch in rec.sent:
        for m in batch:  # sent when due: (simulated time - start) / 60 after the start
            assert wall - 1000.0 == pytest.approx((plan_s(day, m) - day.start_s) / 60.0)
    assert stats.wall_s == pytest.approx((day.deliveries[-1].send_s - day.start_s) / 60.0)
    # Speed-up 0: no waiting, one batch.
    rec = Recorder(clock)
    stats = play(day.deliveries, rec, start_s=day.start_s, speedup=0.0, clock=clock)
    assert stats.batches == 1 and stats.wall_s == 0.0
