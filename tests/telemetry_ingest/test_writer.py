"""Batched writes on SQLite and PostgreSQL: exactly one row per (vehicle, seq) whatever the
duplicates and the order, a latest state that never goes back, dead letters with reasons,
the storage window and retention."""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from evfleet.ingest.testing import Fleet, sample
from evfleet.ingest.writer import (
    BatchWriter,
    Incoming,
    Outcome,
    TelemetryStore,
    VehicleDirectory,
)
from evfleet.store.db import Database
from evfleet.store.models import utcnow
from evfleet.store.telemetry_models import (
    TelemetryCounter,
    TelemetryDeadLetter,
    TelemetryLatest,
    TelemetrySample,
    existing_partitions,
    purge_telemetry,
)
from evfleet.telemetry import TelemetryMessage, encode_message


def _incoming(fleet: Fleet, message: TelemetryMessage) -> Incoming:
    return Incoming(message, fleet.organisation_id, "mqtt", utcnow())


def _pairs(db: Database) -> list[tuple[str, int]]:
    with db.engine.connect() as c:
        rows = c.execute(sa.select(TelemetrySample.vehicle_id, TelemetrySample.seq)).all()
    return sorted((v, s) for v, s in rows)


def _latest(db: Database, vehicle_id: str) -> TelemetryLatest:
    with db.sessions() as session:
        row = session.get(TelemetryLatest, vehicle_id)
        assert row is not None
        return row


def test_duplicates_and_reordering_store_each_message_once(db: Database, fleet: Fleet) -> None:
    store = TelemetryStore(db)
    messages = [sample(v, seq) for v in fleet.vehicle_ids for seq in range(1, 101)]
    stream = messages + random.Random(1).sample(messages, 150)  # redeliveries
    random.Random(2).shuffle(stream)
    accepted = duplicates = 0
    for start in range(0, len(stream), 70):  # batches that straddle duplicates
        result = store.write([_incoming(fleet, m) for m in stream[start : start + 70]])
        accepted += result.accepted
        duplicates += result.duplicates
    assert (accepted, duplicates) == (300, 150)
    assert _pairs(db) == sorted((m.vehicle_id, m.seq) for m in messages)
    # The whole stream again (a restart that redelivers everything) changes nothing.
    again = store.write([_incoming(fleet, m) for m in stream])
    assert (again.accepted, again.duplicates) == (0, len(stream))
    assert len(_pairs(db)) == 300
    for v in fleet.vehicle_ids:
        latest = _latest(db, v)
        assert latest.seq == 100
        assert latest.organisation_id == fleet.organisation_id
    with db.sessions() as session:
        counts = {c.name: c.value for c in session.scalars(sa.select(TelemetryCounter))}
    assert counts == {"accepted": 300, "duplicates": 150 + len(stream)}


def test_duplicates_within_one_batch_are_reported(db: Database, fleet: Fleet) -> None:
    store = TelemetryStore(db)
    v = fleet.vehicle_ids[0]
    result = store.write([_incoming(fleet, sample(v, s)) for s in (1, 2, 1, 3, 2)])
    assert result.outcomes == [
        Outcome.ACCEPTED,
        Outcome.ACCEPTED,
        Outcome.DUPLICATE,
        Outcome.ACCEPTED,
        Outcome.DUPLICATE,
    ]


def test_late_messages_do_not_overwrite_the_latest_state(db: Database, fleet: Fleet) -> None:
    store = TelemetryStore(db)
    v = fleet.vehicle_ids[0]
    base = utcnow().replace(microsecond=0) - dt.timedelta(minutes=30)
    at = [base + dt.timedelta(seconds=10 * i) for i in range(6)]
    store.write(
        [
            _incoming(fleet, sample(v, 5, at[5], soc_pct=50.0, speed_m_per_s=10.0)),
            _incoming(fleet, sample(v, 4, at[4], soc_pct=52.0, range_m=90_000)),
        ]
    )
    latest = _latest(db, v)
    assert (latest.seq, latest.soc_pct, latest.speed_m_per_s) == (5, 50.0, 10.0)
    assert latest.range_m == 90_000  # carried from the older message of the same batch
    # A late message in a later batch: stored as history, the state stays.
    result = store.write([_incoming(fleet, sample(v, 3, at[3], soc_pct=60.0))])
    assert result.accepted == 1
    assert (_latest(db, v).seq, _latest(db, v).soc_pct) == (5, 50.0)
    # A newer one without SoC or speed: SoC carried forward, speed is not.
    store.write([_incoming(fleet, sample(v, 6, at[5] + dt.timedelta(seconds=10)))])
    latest = _latest(db, v)
    assert (latest.seq, latest.soc_pct, latest.speed_m_per_s) == (6, 50.0, None)
    assert latest.ts == at[5] + dt.timedelta(seconds=10)
    # A future-dated sample (bad clock) is history only.
    store.write([_incoming(fleet, sample(v, 7, utcnow() + dt.timedelta(hours=3)))])
    assert _latest(db, v).seq == 6
    assert (v, 7) in _pairs(db)


def test_the_storage_window_and_retention(db: Database, fleet: Fleet) -> None:
    store = TelemetryStore(db, retention_days=7)
    v = fleet.vehicle_ids[0]
    now = utcnow()
    result = store.write(
        [
            _incoming(fleet, sample(v, 1, now - dt.timedelta(days=8))),
            _incoming(fleet, sample(v, 2, now + dt.timedelta(days=2))),
            _incoming(fleet, sample(v, 3, now - dt.timedelta(days=5))),
            _incoming(fleet, sample(v, 4, now - dt.timedelta(minutes=1))),
        ]
    )
    assert result.outcomes == [
        Outcome.REJECTED,
        Outcome.REJECTED,
        Outcome.ACCEPTED,
        Outcome.ACCEPTED,
    ]
    assert "retention" in result.refused[0].reason
    assert "ahead" in result.refused[1].reason
    with db.sessions() as session:
        letters = session.scalars(sa.select(TelemetryDeadLetter)).all()
    assert len(letters) == 2
    # Four days later the 5-day-old sample is past the 7-day retention.
    with db.engine.begin() as c:
        purge_telemetry(c, 7, now + dt.timedelta(days=4))
    assert _pairs(db) == [(v, 4)]
    if db.dialect == "postgresql":
        with db.engine.connect() as c:
            days = existing_partitions(c)
        assert (now - dt.timedelta(days=5)).date() not in days
        assert now.date() in days


def test_maintain_makes_partitions_ahead(db: Database) -> None:
    store = TelemetryStore(db, retention_days=3)
    now = utcnow()
    store.maintain(now)
    if db.dialect == "postgresql":
        with db.engine.connect() as c:
            days = existing_partitions(c)
        assert {now.date() + dt.timedelta(days=d) for d in range(3)} <= days


def test_the_batch_writer_dead_letters_bad_messages_and_keeps_going(
    db: Database, fleet: Fleet
) -> None:
    committed: list[object] = []
    writer = BatchWriter(
        TelemetryStore(db),
        directory=VehicleDirectory(db),
        batch_size=7,
        on_commit=committed.extend,
    )
    v, w = fleet.vehicle_ids[:2]
    good = 0
    for seq in range(1, 31):
        writer.put(fleet.topic(v), encode_message(sample(v, seq)), seq)
        good += 1
        if seq % 5 == 0:
            writer.put(fleet.topic(v), b"{not json", f"bad-{seq}")
    writer.put(fleet.topic(w), encode_message(sample(v, 99)), "wrong-topic")
    # a redelivery of seq 3 (the same sample) is a duplicate, not a dead letter
    writer.put(fleet.topic(v), encode_message(sample(v, 3)), "dup")
    writer.put(f"evfleet/{fleet.organisation_id}/vehicles/nope/telemetry", b"{}", "nope")
    stranger = "11111111-1111-4111-8111-111111111111"
    writer.put(f"evfleet/{stranger}/vehicles/{v}/telemetry", encode_message(sample(v, 500)), "org")
    writer.start()
    writer.stop()
    assert writer.pending() == 0
    assert len(committed) == good + 6 + 4
    assert len(_pairs(db)) == good
    with db.sessions() as session:
        letters = session.scalars(sa.select(TelemetryDeadLetter)).all()
        counts = {c.name: c.value for c in session.scalars(sa.select(TelemetryCounter))}
    reasons = sorted(f"{d.field}: {d.reason}"[:40] for d in letters)
    assert len(letters) == 6 + 3, reasons
    assert all(d.source.startswith("evfleet/") for d in letters)
    assert sum("not valid JSON" in d.reason for d in letters) == 6
    assert any(d.field == "vehicle_id" and "differs" in d.reason for d in letters)
    assert any(d.field == "topic" and "not in organisation" in d.reason for d in letters)
    assert counts["dead_letters"] == 9
    assert writer.totals.duplicates == 1
