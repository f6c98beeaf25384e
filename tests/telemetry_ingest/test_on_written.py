"""``BatchWriter(on_written=…)``: after each committed batch it gets the batch's decoded
messages that were stored or were duplicates (not the dead letters, not those outside the
storage window), in arrival order, after ``on_commit``; what it raises is logged and the
writer goes on. On PostgreSQL a row the database refuses is written one by one, and the
outcomes stay aligned with the messages."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
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
from evfleet.store.telemetry_models import TelemetryDeadLetter, TelemetrySample
from evfleet.telemetry import TelemetryMessage, encode_message


def test_on_written_gets_the_stored_and_duplicate_messages(db: Database, fleet: Fleet) -> None:
    calls: list[tuple[str, object]] = []
    writer = BatchWriter(
        TelemetryStore(db, retention_days=7),
        directory=VehicleDirectory(db),
        batch_size=6,
        on_commit=lambda tokens: calls.append(("commit", list(tokens))),
        on_written=lambda items: calls.append(("written", list(items))),
    )
    v, w = fleet.vehicle_ids[:2]
    writer.put(fleet.topic(v), encode_message(sample(v, 1)), "v1")
    writer.put(fleet.topic(v), b"{not json", "bad")
    writer.put(fleet.topic(w), encode_message(sample(w, 1)), "w1")
    writer.put(fleet.topic(v), encode_message(sample(v, 1)), "v1-again")  # a redelivery
    old = sample(v, 2, utcnow() - dt.timedelta(days=30))  # outside the storage window
    writer.put(fleet.topic(v), encode_message(old), "old")
    writer.put(fleet.topic(v), encode_message(sample(v, 3)), "v3")
    # A batch of dead letters only: committed and acknowledged, on_written not called.
    writer.put(fleet.topic(v), b"[]", "bad2")
    writer.start()
    writer.stop()
    assert [kind for kind, _ in calls] == ["commit", "written", "commit"]
    assert calls[0][1] == ["v1", "bad", "w1", "v1-again", "old", "v3"]
    written = calls[1][1]
    assert isinstance(written, list)
    assert all(isinstance(item, Incoming) for item in written)
    assert [(i.message.vehicle_id, i.message.seq) for i in written] == [
        (v, 1),
        (w, 1),
        (v, 1),
        (v, 3),
    ]
    assert all(i.organisation_id == fleet.organisation_id and i.source == "mqtt" for i in written)
    assert (writer.totals.accepted, writer.totals.duplicates, writer.totals.dead_letters) == (
        3,
        1,
        3,
    )


def test_an_on_written_that_fails_is_logged_and_the_writer_goes_on(
    db: Database, fleet: Fleet, caplog: pytest.LogCaptureFixture
) -> None:
    committed: list[object] = []
    seen: list[int] = []

    def fragile(items: list[Incoming]) -> None:
        seen.append(len(items))
        raise RuntimeError("live tracking is down")

    writer = BatchWriter(
        TelemetryStore(db),
        directory=VehicleDirectory(db),
        batch_size=5,
        on_commit=committed.extend,
        on_written=fragile,
    )
    v = fleet.vehicle_ids[0]
    for seq in range(1, 13):
        writer.put(fleet.topic(v), encode_message(sample(v, seq)), seq)
    with caplog.at_level(logging.ERROR, logger="evfleet.ingest"):
        writer.start()
        writer.stop()
    assert seen == [5, 5, 2]
    assert committed == list(range(1, 13))
    assert writer.totals.accepted == 12
    assert sum("on_written failed" in r.getMessage() for r in caplog.records) == 3


def _unchecked(message: TelemetryMessage, **changes: object) -> TelemetryMessage:
    """``message`` with fields the validation would refuse (to make the database refuse it)."""
    bad = object.__new__(TelemetryMessage)
    bad.__dict__.update(vars(message), **changes)
    return bad


def test_a_row_the_database_refuses_is_dead_lettered_alone(db: Database, fleet: Fleet) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    written: list[Incoming] = []
    writer = BatchWriter(TelemetryStore(db), on_written=written.extend)
    v = fleet.vehicle_ids[0]
    now = utcnow()
    good = [Incoming(sample(v, s), fleet.organisation_id, "mqtt", now) for s in (1, 2)]
    bad = Incoming(
        _unchecked(sample(v, 3), vehicle_id="x" * 100), fleet.organisation_id, "mqtt", now
    )
    # Through the store: psycopg's error arrives as SQLAlchemy's DataError.
    with pytest.raises(sa.exc.DataError):
        writer.store.write([good[0], bad, good[1]])
    result = writer._write([good[0], bad, good[1]], [])
    assert result.outcomes == [Outcome.ACCEPTED, Outcome.REJECTED, Outcome.ACCEPTED]
    assert (result.accepted, result.dead_letters) == (2, 1)
    # Through flush (decoding stubbed: no payload decodes to such a message), on_written
    # gets what was stored or duplicate, in order.
    writer._decoded = lambda batch: ([good[0], bad, good[1]], [])  # type: ignore[method-assign]
    for token in range(3):
        writer.put("unused", b"{}", token)
    assert writer.flush() == 3
    assert written == [good[0], good[1]]  # duplicates now
    with db.engine.connect() as c:
        stored = sorted(c.execute(sa.select(TelemetrySample.seq)).scalars())
        reasons = c.execute(sa.select(TelemetryDeadLetter.reason)).scalars().all()
    assert stored == [1, 2]
    assert len(reasons) == 2 and all("the database refused it" in r for r in reasons)
