"""Fault injection (dropouts, duplicates, reordering, a van running low) and the tracker."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sim_world import START

from evfleet.simulator import (
    FaultSettings,
    FaultSpecError,
    Simulation,
    SimulationSettings,
    parse_faults,
    parse_start,
    simulate_plan,
)
from evfleet.tracking import (
    AlertEvent,
    AlertKind,
    EventKind,
    IgnoredEvent,
    Outcome,
    StopEvent,
    Tracker,
    planned_routes,
)


def faulty(doc: dict[str, Any], spec: str, seed: int = 7) -> Simulation:
    return simulate_plan(doc, SimulationSettings(seed=seed, faults=parse_faults(spec)), start=START)


def plan_s(sim: Simulation, stamp: Any) -> float:
    return (stamp - sim.day_start) / timedelta(seconds=1)


def test_parse_faults() -> None:
    f = parse_faults("dropout=0.02, duplicate=0.05,reorder=0.1,low-battery=van-03,reorder-window=4")
    assert f == FaultSettings(
        dropout=0.02,
        duplicate=0.05,
        reorder=0.1,
        reorder_window=4,
        low_battery=frozenset({"van-03"}),
    )
    assert parse_faults("low-battery=a,low-battery=b,dropout-s=300").low_battery == {"a", "b"}
    assert parse_faults(None) == FaultSettings() == parse_faults("")
    for bad, words in [
        ("dropout", "NAME=VALUE"),
        ("dropout=x", "not a number"),
        ("dropout=2", "probability"),
        ("jam=0.1", "unknown fault"),
        ("reorder-window=1.5", "whole number"),
    ]:
        with pytest.raises(FaultSpecError, match=words):
            parse_faults(bad)


def test_parse_start() -> None:
    assert parse_start("2026-03-02T06:30+01:00").isoformat() == "2026-03-02T06:30:00+01:00"
    assert parse_start("2026-03-02").hour == 7 and parse_start("2026-03-02").utcoffset() is not None
    assert parse_start("06:45").minute == 45 and parse_start(None).hour == 7
    with pytest.raises(ValueError, match="not a date-time"):
        parse_start("tomorrow")


def test_faults_leave_the_vans_alone(doc: dict[str, Any], day: Simulation) -> None:
    sim = faulty(doc, "dropout=0.02,duplicate=0.05,reorder=0.05")
    for vid, run in sim.vans.items():
        assert run.messages == day.vans[vid].messages  # the clean streams are the same
    sends = [d.send_s for d in sim.deliveries]
    assert sends == sorted(sends)
    for d in sim.deliveries:  # nothing is sent before its fix was taken
        assert d.send_s >= plan_s(sim, d.message.timestamp)


def test_dropouts_silence_a_van(doc: dict[str, Any]) -> None:
    sim = faulty(doc, "dropout=0.02,dropout-s=120")
    for vid, log in sim.faults.items():
        assert log.dropouts and not log.duplicated and not log.reordered
        sent = [m.seq for m in sim.messages(vid)]
        assert sent == sorted(sent)  # in order, with gaps
        assert set(sent).isdisjoint(log.lost)
        assert set(sent) | set(log.lost) == {m.seq for m in sim.vans[vid].messages}
        for t0, t1 in log.dropouts:
            assert 60.0 <= t1 - t0 <= 180.0
            assert not [m for m in sim.messages(vid) if t0 <= plan_s(sim, m.timestamp) < t1]
        gaps = [b - a for a, b in itertools.pairwise(sent) if b - a > 1]
        assert len(gaps) == len(log.dropouts) or sent[-1] < len(sim.vans[vid].messages)


def test_duplicates_and_reordering(doc: dict[str, Any]) -> None:
    sim = faulty(doc, "duplicate=0.05,reorder=0.05,reorder-window=3")
    for vid, log in sim.faults.items():
        seqs = [m.seq for m in sim.messages(vid)]
        counts = Counter(seqs)
        assert sorted(s for s, c in counts.items() if c == 2) == sorted(log.duplicated)
        assert max(counts.values()) == 2 and log.duplicated
        assert set(seqs) == {m.seq for m in sim.vans[vid].messages}  # nothing lost
        assert log.reordered
        firsts = list(dict.fromkeys(seqs))  # first deliveries, in order
        passed = []  # held back behind at most 3 later messages (fewer when those were too)
        for seq in log.reordered:
            passed.append(sum(1 for s in firsts[: firsts.index(seq)] if s > seq))
        assert max(passed) <= 3 and sum(1 for p in passed if p >= 1) >= len(passed) / 2
        backwards = sum(1 for a, b in itertools.pairwise(firsts) if b < a)
        assert backwards >= 1
    # Without faults the stream is the clean one.
    clean = faulty(doc, "")
    assert all(not log.duplicated and not log.lost for log in clean.faults.values())


def test_a_van_running_low_goes_below_the_reserve(doc: dict[str, Any], day: Simulation) -> None:
    sim = faulty(doc, "low-battery=van-02")
    low = [m.soc_pct for m in sim.messages("van-02") if m.soc_pct is not None]
    normal = [m.soc_pct for m in day.messages("van-02") if m.soc_pct is not None]
    assert min(normal) > 25.0
    assert 4.0 <= min(low) < 10.0  # down to about 5 %, below the tracker's 10 % reserve
    assert sim.vans["van-02"].drain > 1.5
    assert sim.vans["van-01"].messages == day.vans["van-01"].messages
    tracker = Tracker(doc, assignments=sim.assignments, day_start=sim.day_start)
    events = tracker.ingest_all(sim.messages())
    raised = [
        e
        for e in events
        if isinstance(e, AlertEvent)
        and e.kind is EventKind.ALERT_RAISED
        and e.alert.kind is AlertKind.LOW_ENERGY
    ]
    assert {e.vehicle_id for e in raised} == {"van-02"}
    with pytest.raises(FaultSpecError, match="no van van-09"):
        faulty(doc, "low-battery=van-09")


def test_the_tracker_sees_every_stop_through_duplicates_and_reordering(
    doc: dict[str, Any],
) -> None:
    sim = faulty(doc, "duplicate=0.05,reorder=0.05", seed=11)
    tracker = Tracker(doc, assignments=sim.assignments, day_start=sim.day_start)
    events = tracker.ingest_all(sim.messages())
    arrived = {
        (e.vehicle_id, e.stop_id)
        for e in events
        if isinstance(e, StopEvent) and e.kind is EventKind.STOP_ARRIVED
    }
    routes = {r.number: r for r in planned_routes(doc)}
    expected = {(vid, s.id) for vid, n in sim.assignments.items() for s in routes[n].stops}
    assert arrived == expected
    completed = [e.vehicle_id for e in events if e.kind is EventKind.ROUTE_COMPLETED]
    assert sorted(completed) == ["van-01", "van-02"]
    ignored = Counter(e.outcome for e in events if isinstance(e, IgnoredEvent))
    duplicates = sum(len(log.duplicated) for log in sim.faults.values())
    assert ignored[Outcome.DUPLICATE] >= duplicates - ignored[Outcome.LATE]
    assert ignored[Outcome.LATE] >= 1
    # Arrivals are where the simulated vans really arrived (within a fix or two).
    for e in events:
        if isinstance(e, StopEvent) and e.kind is EventKind.STOP_ARRIVED:
            truth = sim.vans[e.vehicle_id].truth(e.stop_id)
            assert abs(e.event_s - truth.arrival_s) <= 30.0
