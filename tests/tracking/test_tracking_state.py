"""Latest state per vehicle: duplicates, reordering, restarts, future fixes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from evfleet.telemetry import TelemetryMessage
from evfleet.tracking import Outcome, StateStore

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


def msg(seq: int, t_s: float, vehicle: str = "van-1", **kw: object) -> TelemetryMessage:
    return TelemetryMessage(
        vehicle,
        seq,
        T0 + timedelta(seconds=t_s),
        48.0 + seq * 1e-4,
        11.0,
        **kw,  # type: ignore[arg-type]
    )


def test_duplicates_are_ignored_and_reported() -> None:
    store = StateStore()
    assert store.apply(msg(1, 0)).outcome is Outcome.ACCEPTED
    again = store.apply(msg(1, 0))
    assert again.outcome is Outcome.DUPLICATE and not again.accepted
    assert "seq 1 already seen" in again.reason
    assert store.get("van-1") is not None and store.get("van-1").accepted == 1  # type: ignore[union-attr]


def test_late_messages_do_not_overwrite_newer_state() -> None:
    store = StateStore()
    store.apply(msg(1, 0))
    store.apply(msg(3, 20, soc_pct=50.0))
    late = store.apply(msg(2, 10, soc_pct=55.0))
    assert late.outcome is Outcome.LATE and "older" in late.reason
    state = store.get("van-1")
    assert state is not None and state.seq == 3 and state.soc_pct == 50.0
    # The late one is now seen: a redelivery of it is a duplicate.
    assert store.apply(msg(2, 10)).outcome is Outcome.DUPLICATE


def test_higher_seq_with_older_fix_time_is_late() -> None:
    store = StateStore()
    store.apply(msg(5, 100))
    result = store.apply(msg(6, 50))
    assert result.outcome is Outcome.LATE and "older than the latest" in result.reason
    assert store.get("van-1").seq == 5  # type: ignore[union-attr]


def test_signals_left_out_keep_their_last_value_but_speed_does_not() -> None:
    store = StateStore()
    store.apply(msg(1, 0, soc_pct=80.0, speed_m_per_s=5.0, odometer_m=100))
    state = store.apply(msg(2, 10)).state
    assert state is not None
    assert state.soc_pct == 80.0 and state.odometer_m == 100 and state.speed_m_per_s is None
    assert state.soc_time_s == (T0.timestamp())


def test_device_restart_resets_the_sequence() -> None:
    store = StateStore(restart_gap_s=600)
    store.apply(msg(900, 0))
    restarted = store.apply(msg(1, 3600))
    assert restarted.outcome is Outcome.RESTART and restarted.accepted
    assert "restart" in restarted.reason
    assert store.apply(msg(2, 3610)).outcome is Outcome.ACCEPTED
    assert store.apply(msg(2, 3610)).outcome is Outcome.DUPLICATE


def test_future_fixes_are_ignored() -> None:
    store = StateStore(max_future_s=300)
    received = T0
    result = store.apply(msg(1, 3600), received_at=received)
    assert result.outcome is Outcome.FUTURE and result.state is None
    assert store.apply(msg(2, 60), received_at=received).outcome is Outcome.ACCEPTED


def test_vehicles_are_independent() -> None:
    store = StateStore()
    store.apply(msg(1, 0, "a"))
    assert store.apply(msg(1, 0, "b")).outcome is Outcome.ACCEPTED
    assert len(store) == 2 and {s.vehicle_id for s in store} == {"a", "b"}


def test_dedupe_window_is_bounded() -> None:
    store = StateStore(dedupe_window=10)
    for seq in range(1, 200):
        store.apply(msg(seq, seq))
    assert store.apply(msg(195, 195)).outcome is Outcome.DUPLICATE
    # Far below the window: still not applied (late), never overwrites the state.
    assert store.apply(msg(3, 3)).outcome in (Outcome.DUPLICATE, Outcome.LATE)
    assert store.get("van-1").seq == 199  # type: ignore[union-attr]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 40), min_size=1, max_size=80),
    st.randoms(use_true_random=False),
)
def test_state_never_goes_back_and_each_seq_applies_once(
    seqs: list[int], rng: random.Random
) -> None:
    """Any delivery order with duplicates: seq and time only move forward, every seq is
    accepted at most once, and the final state is the highest seq delivered."""
    store = StateStore()
    order = list(seqs)
    rng.shuffle(order)
    accepted: list[int] = []
    last_seq, last_time = -1, float("-inf")
    for seq in order:
        result = store.apply(msg(seq, 10.0 * seq))  # fix time grows with seq
        if result.accepted:
            accepted.append(seq)
        state = store.get("van-1")
        assert state is not None
        assert state.seq >= last_seq and state.time_s >= last_time
        last_seq, last_time = state.seq, state.time_s
    assert len(accepted) == len(set(accepted))
    assert store.get("van-1").seq == max(seqs)  # type: ignore[union-attr]
