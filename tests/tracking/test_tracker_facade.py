"""The Tracker facade: plan documents, assignments, duplicates and reordering, JSON events."""

from __future__ import annotations

import json
import random
from datetime import timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tracking_fixture import DAY_START, Van

from evfleet.problem import Problem
from evfleet.telemetry import TelemetryMessage, decode_batch, encode_batch
from evfleet.tracking import (
    EtaEvent,
    Event,
    EventKind,
    IgnoredEvent,
    Outcome,
    PlanFormatError,
    PlannedRoute,
    RouteEvent,
    StopEvent,
    StopStatus,
    Tracker,
    TrackerSettings,
    charger_sites,
    event_to_dict,
    planned_route,
    planned_routes,
)


def stop_times(tracker: Tracker, vehicle: str = "van-1") -> dict[str, tuple[float, float]]:
    rt = tracker.route_tracker(vehicle)
    assert rt is not None
    return {
        v.stop.id: (v.arrival_s or -1.0, v.departure_s or -1.0)
        for v in rt.visits
        if v.stop.kind.value == "client"
    }


def test_plan_document_is_read(plan_doc: dict[str, object], route: PlannedRoute) -> None:
    routes = planned_routes(plan_doc)
    assert len(routes) == 1 and routes[0] == route
    assert [s.id for s in route.stops] == ["ORD-1", "ORD-2", "ORD-3", "ORD-4", "ORD-5"]
    assert route.end.id == "DEPOT" and route.battery_wh == 20_000.0
    assert route.stops[2].tw_late_s < route.stops[0].tw_late_s
    assert route.start_load_kg == sum(s.demand_kg for s in route.stops)


def test_bad_plan_documents(plan_doc: dict[str, object]) -> None:
    with pytest.raises(PlanFormatError, match="not an evfleet-plan/1"):
        planned_routes({"format": "x"})
    with pytest.raises(PlanFormatError, match="not geographic"):
        planned_routes({**plan_doc, "geographic": False})
    with pytest.raises(PlanFormatError, match="no route number 7"):
        planned_route(plan_doc, 7)
    broken = json.loads(json.dumps(plan_doc))
    del broken["routes"][0]["stops"][1]["arrival_s"]
    with pytest.raises(PlanFormatError, match="route 1 stop 2: missing key 'arrival_s'"):
        planned_routes(broken)


def test_tracker_from_plan_document_with_assignments(
    plan_doc: dict[str, object], problem: Problem
) -> None:
    tracker = Tracker(
        plan_doc, problem, charger_sites(problem), assignments={"van-7": 1}, day_start=DAY_START
    )
    route = tracker.routes[1]
    events = tracker.ingest_all(Van(route, vehicle_id="van-7").run())
    assert {e.kind for e in events} >= {
        EventKind.ROUTE_STARTED,
        EventKind.STOP_ARRIVED,
        EventKind.STOP_DEPARTED,
        EventKind.STOP_DELIVERED,
        EventKind.ROUTE_COMPLETED,
        EventKind.ETA_UPDATED,
    }
    # An unassigned vehicle only updates its state.
    other = Van(route, vehicle_id="van-8").run()[:5]
    assert tracker.ingest_all(other) == []
    state = tracker.state("van-8")
    assert state is not None and state.seq == 5
    with pytest.raises(KeyError):
        tracker.assign("van-9", 2)


def test_duplicates_and_reordering_give_the_same_stops(route: PlannedRoute) -> None:
    clean = Van(route, seed=21).run()
    reference = Tracker(route, day_start=DAY_START)
    reference.ingest_all(clean)

    rng = random.Random(5)
    shuffled = list(clean)
    swaps = 0
    for k in range(0, len(shuffled) - 1, 7):  # swap neighbours now and then
        shuffled[k], shuffled[k + 1] = shuffled[k + 1], shuffled[k]
        swaps += 1
    noisy: list[TelemetryMessage] = []
    for m in shuffled:  # QoS 1: about one message in five arrives twice
        noisy.append(m)
        if rng.random() < 0.2:
            noisy.append(m)
    tracker = Tracker(route, day_start=DAY_START)
    events = tracker.ingest_all(noisy)
    ignored = [e for e in events if isinstance(e, IgnoredEvent)]
    duplicates = len(noisy) - len(clean)
    assert sum(e.outcome is Outcome.DUPLICATE for e in ignored) == duplicates
    assert sum(e.outcome is Outcome.LATE for e in ignored) == swaps
    assert all(e.reason for e in ignored)
    got, want = stop_times(tracker), stop_times(reference)
    assert got.keys() == want.keys()
    for stop_id, (arrival, departure) in want.items():
        assert abs(got[stop_id][0] - arrival) <= 10.0
        assert abs(got[stop_id][1] - departure) <= 10.0
    arrivals = [e for e in events if isinstance(e, StopEvent) and e.kind is EventKind.STOP_ARRIVED]
    assert len(arrivals) == len(route.stops)


def test_http_batch_round_trip_feeds_the_tracker(route: PlannedRoute) -> None:
    messages = Van(route, seed=2).run()
    batch = decode_batch(encode_batch(messages[:500]))
    assert not batch.rejected
    tracker = Tracker(route, day_start=DAY_START)
    tracker.ingest_all(batch.messages)
    rt = tracker.route_tracker("van-1")
    assert rt is not None and rt.visits[0].status is StopStatus.DELIVERED


def test_day_start_defaults_to_the_first_fix_local_midnight(route: PlannedRoute) -> None:
    cet = timezone(timedelta(hours=1))
    messages = [
        m.__class__(
            **{**m.__dict__, "timestamp": (m.timestamp - timedelta(hours=1)).astimezone(cet)}
        )
        for m in Van(route, seed=2).run()
    ]
    # Same wall-clock times, now in UTC+01:00: the plan's times of day still match.
    tracker = Tracker(route)
    tracker.ingest_all(messages)
    assert tracker.day_start is not None and tracker.day_start.utcoffset() == timedelta(hours=1)
    reference = Tracker(route, day_start=DAY_START)
    reference.ingest_all(Van(route, seed=2).run())
    assert stop_times(tracker) == stop_times(reference)


def test_events_are_json(route: PlannedRoute, problem: Problem) -> None:
    tracker = Tracker(route, problem, charger_sites(problem), day_start=DAY_START)
    messages = Van(route, late_start_s=900.0, pace=1.3, seed=3).run()
    events = tracker.ingest_all(messages + messages[:3])
    dicts = [event_to_dict(e) for e in events]
    text = json.dumps(dicts, allow_nan=False)
    kinds = {d["kind"] for d in json.loads(text)}
    assert {"eta-updated", "alert-raised", "message-ignored", "stop-arrived"} <= kinds
    eta = next(d for d in dicts if d["kind"] == "eta-updated")
    assert eta["forecast"]["stops"][0]["eta_s"] is not None
    assert eta["forecast"]["stops"][-1]["window_end_s"] is None  # the depot: no window


def test_proof_of_delivery_through_the_facade(route: PlannedRoute) -> None:
    tracker = Tracker(route, day_start=DAY_START)
    tracker.ingest_all(Van(route).run()[:3])
    events = tracker.confirm_delivery("van-1", "ORD-3", DAY_START + timedelta(hours=8, minutes=40))
    assert [(e.kind, e.stop_id) for e in events if isinstance(e, StopEvent)] == [
        (EventKind.STOP_DELIVERED, "ORD-3")
    ]
    with pytest.raises(KeyError):
        tracker.confirm_delivery("van-x", "ORD-3", DAY_START)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 1000), st.floats(0.0, 0.3), st.integers(1, 4))
def test_any_redelivery_pattern_keeps_the_state_monotone(
    route: PlannedRoute, seed: int, dup_rate: float, max_shift: int
) -> None:
    """Duplicated and locally shuffled delivery: the tracked state never goes back in seq
    or time, and every stop is arrived at exactly once."""
    rng = random.Random(seed)
    clean = Van(route, seed=seed, dt_s=10.0).run()
    stream = [m for m in clean for _ in range(2 if rng.random() < dup_rate else 1)]
    keyed = sorted(enumerate(stream), key=lambda km: km[0] + rng.uniform(0, max_shift))
    tracker = Tracker(route, day_start=DAY_START)
    last = (-1, float("-inf"))
    arrivals: list[str] = []
    for _, m in keyed:
        for e in tracker.ingest(m):
            if isinstance(e, StopEvent) and e.kind is EventKind.STOP_ARRIVED:
                arrivals.append(e.stop_id)
        state = tracker.state("van-1")
        assert state is not None
        assert (state.seq, state.time_s) >= last
        last = (state.seq, state.time_s)
    assert sorted(arrivals) == sorted(s.id for s in route.stops)


def test_throttled_forecasts_keep_every_stop_event(route: PlannedRoute) -> None:
    """Forecasts every 30 s instead of at every fix: the same stop and route events at the
    same times, fewer ETA updates, and a forecast at hand after every fix."""
    messages = Van(route, seed=4).run()
    every_fix = Tracker(route, day_start=DAY_START)
    throttled = Tracker(route, day_start=DAY_START, settings=TrackerSettings(forecast_every_s=30))
    want = every_fix.ingest_all(messages)
    got = []
    for m in messages:
        got += throttled.ingest(m)
        rt = throttled.route_tracker("van-1")
        assert rt is not None and rt.forecast is not None
        assert rt.forecast.time_s == throttled.plan_time_s(m.timestamp)

    def stops(events: list[Event]) -> list[tuple[str, str, float | None]]:
        return [
            (e.kind.value, getattr(e, "stop_id", ""), e.event_s)
            for e in events
            if isinstance(e, StopEvent | RouteEvent)
        ]

    assert stops(got) == stops(want) and len(stops(want)) > len(route.stops)
    etas = [e for e in got if isinstance(e, EtaEvent)]
    assert 0 < len(etas) <= len([e for e in want if isinstance(e, EtaEvent)])
