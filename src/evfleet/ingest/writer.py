"""Batched telemetry writes: many messages, one transaction, exactly once in storage.

:class:`TelemetryStore` writes one batch in **one transaction**: the samples with
``INSERT … ON CONFLICT DO NOTHING RETURNING`` (duplicates within the batch are dropped
first, duplicates of stored rows by the key), the latest state of every van the batch moved
forward (one row per van: its newest message, signals it left out carried from the older
ones), the dead letters and their counter. It is idempotent: writing the same batch again
(a retry after a commit whose outcome was lost) stores nothing new, except that the dead
letters of such a batch would be kept twice.

On PostgreSQL the samples are **COPYed** (binary, psycopg 3) into a temporary staging
table (``ON COMMIT DELETE ROWS``, one per connection) and moved with one ``INSERT …
SELECT … ON CONFLICT DO NOTHING RETURNING``; the latest states are read (``FOR UPDATE``)
and upserted with one statement each. SQLite uses SQLAlchemy's multi-row ``INSERT``.

:class:`BatchWriter` is the consumer side: MQTT deliveries are put in a buffer from any
thread and flushed every ``batch_size`` messages or ``max_delay_s`` seconds by one
background thread, which decodes them (a malformed one becomes a dead letter, the rest go
on), writes them, retries database errors with exponential back-off (the batch is kept,
so a database outage loses nothing) and only then hands the batch's acknowledgement
tokens to ``on_commit`` (the MQTT consumer's PUBACKs) and its stored messages to
``on_written`` (live tracking).

**Storage window.** A fix time older than the retention, or more than
:data:`MAX_AHEAD` after the receive time (a broken device clock), is refused as a dead
letter: no day partition would hold it for long, or sensibly. A message dated more than
:data:`FUTURE_TOLERANCE` ahead (the tracker's bound) is stored as history but does not move
the latest state, so that a bad clock cannot freeze a van on the map.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Boolean, Connection, Float, String, Table, Uuid, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError

from evfleet.store import models as m
from evfleet.store.db import Database
from evfleet.store.models import UTCDateTime
from evfleet.store.telemetry_models import (
    TelemetryCounter,
    TelemetryDeadLetter,
    TelemetryLatest,
    TelemetrySample,
    ensure_partitions,
)
from evfleet.telemetry import (
    TIMESTAMP,
    VEHICLE_ID,
    DeadLetter,
    TelemetryError,
    TelemetryMessage,
    decode_mqtt,
    parse_topic,
)

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "FUTURE_TOLERANCE",
    "MAX_AHEAD",
    "BatchWriter",
    "Incoming",
    "Outcome",
    "Refused",
    "TelemetryStore",
    "VehicleDirectory",
    "WriteResult",
]

log = logging.getLogger("evfleet.ingest")

DEFAULT_RETENTION_DAYS = 90
"""How long samples are kept unless configured otherwise."""
MAX_AHEAD = dt.timedelta(days=1)
"""Fix times further ahead of the receive time than this are refused (dead letter)."""
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
"""Fix times further ahead than this are stored but do not move the latest state."""
PARTITION_DAYS_AHEAD = 2
"""Day partitions made ahead of today by :meth:`TelemetryStore.maintain`."""

_SIGNALS = (
    "heading_deg",
    "speed_m_per_s",
    "odometer_m",
    "soc_pct",
    "range_m",
    "is_charging",
    "air_temperature_c",
)
_CARRIED = tuple(s for s in _SIGNALS if s != "speed_m_per_s")
"""Signals the latest state keeps when a message leaves them out (not the speed)."""


class Outcome:
    """What became of one message: stored, a duplicate of a stored one, or refused."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Incoming:
    """A decoded message to store, with its organisation, channel and receive time."""

    message: TelemetryMessage
    organisation_id: uuid.UUID
    source: str
    received_at: dt.datetime


@dataclass(frozen=True)
class Refused:
    """A message that will not be stored: kept as a dead letter (``organisation_id`` when
    the sender is known)."""

    letter: DeadLetter
    organisation_id: uuid.UUID | None = None


@dataclass
class WriteResult:
    """Counts of one write, and the outcome of each :class:`Incoming` in order."""

    accepted: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    outcomes: list[str] = field(default_factory=list)
    refused: dict[int, TelemetryError] = field(default_factory=dict)
    """Incoming messages (by position) refused by the storage window."""

    def add(self, other: WriteResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.dead_letters += other.dead_letters


def _insert(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _newer(a: tuple[dt.datetime, int], b: tuple[dt.datetime, int]) -> bool:
    return a > b


def _naive_utc(stamp: dt.datetime) -> dt.datetime:
    """An aware time as naive UTC (how the database stores it)."""
    if stamp.tzinfo is dt.UTC:
        return stamp.replace(tzinfo=None)
    return stamp.astimezone(dt.UTC).replace(tzinfo=None)


def _window_error(
    message: TelemetryMessage,
    received_at: dt.datetime,
    retention: dt.timedelta,
    retention_days: int,
) -> TelemetryError | None:
    if message.timestamp > received_at + MAX_AHEAD:
        return TelemetryError(
            TIMESTAMP,
            f"is more than {MAX_AHEAD.days} day ahead of the receive time "
            f"{received_at.isoformat()} (device clock?)",
        )
    if message.timestamp < received_at - retention:
        return TelemetryError(
            TIMESTAMP, f"is older than the retention period ({retention_days} days)"
        )
    return None


class TelemetryStore:
    """Writes telemetry batches to a migrated database (see the module docstring)."""

    def __init__(self, db: Database, *, retention_days: int = DEFAULT_RETENTION_DAYS) -> None:
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        self.db = db
        self.retention_days = retention_days
        self._partitions: set[dt.date] = set()
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- maintenance

    def ensure_days(self, days: Iterable[dt.date]) -> None:
        """Makes sure the day partitions for ``days`` exist (PostgreSQL)."""
        if self.db.dialect != "postgresql":
            return
        missing = set(days) - self._partitions
        if not missing:
            return
        with self._lock, self.db.engine.begin() as connection:
            ensure_partitions(connection, missing)
            self._partitions |= missing

    def maintain(self, now: dt.datetime | None = None) -> int:
        """Creates the partitions from yesterday to :data:`PARTITION_DAYS_AHEAD` days ahead
        and purges what is older than the retention; returns what the purge removed."""
        from evfleet.store.telemetry_models import purge_telemetry

        now = now or m.utcnow()
        today = now.astimezone(dt.UTC).date()
        self.ensure_days(today + dt.timedelta(days=d) for d in range(-1, PARTITION_DAYS_AHEAD + 1))
        with self._lock, self.db.engine.begin() as connection:
            removed = purge_telemetry(connection, self.retention_days, now)
            self._partitions.clear()  # re-read on the next write
        return removed

    # ---------------------------------------------------------------------- writing

    def write(self, messages: Sequence[Incoming], refused: Sequence[Refused] = ()) -> WriteResult:
        """Stores ``messages`` and dead-letters ``refused`` in one transaction.

        Messages outside the storage window are dead-lettered too (``result.refused``).
        Raises the database's error when the transaction fails (nothing is then stored).
        """
        result = WriteResult(outcomes=[Outcome.REJECTED] * len(messages))
        keep: list[int] = []
        stamps: list[dt.datetime] = []  # the kept messages' fix times, naive UTC
        letters = list(refused)
        retention = dt.timedelta(days=self.retention_days)
        for index, item in enumerate(messages):
            error = _window_error(item.message, item.received_at, retention, self.retention_days)
            if error is None:
                keep.append(index)
                stamps.append(_naive_utc(item.message.timestamp))
                continue
            result.refused[index] = error
            letters.append(
                Refused(
                    DeadLetter.of(item.source, _payload(item.message), error, item.received_at),
                    item.organisation_id,
                )
            )
        self.ensure_days({stamp.date() for stamp in stamps})
        try:
            with self.db.engine.begin() as connection:
                self._write(connection, messages, keep, stamps, letters, result)
        except SQLAlchemyError as exc:
            if "no partition" in str(exc):
                self._partitions.clear()  # someone purged: re-read on the retry
            raise
        return result

    def _write(
        self,
        connection: Connection,
        messages: Sequence[Incoming],
        keep: list[int],
        stamps: list[dt.datetime],
        letters: list[Refused],
        result: WriteResult,
    ) -> None:
        postgres = connection.dialect.name == "postgresql"
        seen: dict[tuple[str, int, dt.datetime], int] = {}
        for index, stamp in zip(keep, stamps, strict=True):
            msg = messages[index].message
            key = (msg.vehicle_id, msg.seq, stamp)
            if key in seen:
                result.outcomes[index] = Outcome.DUPLICATE
            else:
                seen[key] = index
        if not seen:
            inserted: set[tuple[str, int, dt.datetime]] = set()
        elif postgres:
            inserted = _pg_insert_samples(
                connection, [_sample_tuple(messages[i], key[2]) for key, i in seen.items()]
            )
        else:
            inserted = _insert_samples(connection, [messages[i] for i in seen.values()])
        fresh: list[Incoming] = []
        for key, index in seen.items():
            if key in inserted:
                result.outcomes[index] = Outcome.ACCEPTED
                fresh.append(messages[index])
            else:
                result.outcomes[index] = Outcome.DUPLICATE
        result.accepted = len(fresh)
        result.duplicates = sum(1 for o in result.outcomes if o == Outcome.DUPLICATE)
        self._update_latest(connection, fresh)
        if letters:
            dead = TelemetryDeadLetter.__table__
            assert isinstance(dead, Table)
            connection.execute(
                dead.insert(),
                [
                    {
                        "id": uuid.uuid4(),
                        "organisation_id": r.organisation_id,
                        "source": r.letter.source[:300],
                        "payload": r.letter.payload,
                        "field": r.letter.field[:200],
                        "reason": r.letter.reason,
                        "received_at": r.letter.received_at,
                    }
                    for r in letters
                ],
            )
            result.dead_letters = len(letters)
        self._count(
            connection,
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "dead_letters": result.dead_letters,
            },
        )

    def _update_latest(self, connection: Connection, fresh: list[Incoming]) -> None:
        """Moves each van's latest state forward to the newest of its ``fresh`` messages
        (one row per van and batch), carrying forward the signals a message leaves out."""
        by_vehicle: dict[str, list[Incoming]] = {}
        for item in fresh:
            if item.message.timestamp > item.received_at + FUTURE_TOLERANCE:
                continue  # a bad clock must not freeze the latest state
            by_vehicle.setdefault(item.message.vehicle_id, []).append(item)
        if not by_vehicle:
            return
        postgres = connection.dialect.name == "postgresql"
        table = TelemetryLatest.__table__
        assert isinstance(table, Table)
        if postgres:
            current = _pg_read_latest(connection, sorted(by_vehicle))
        else:
            query = select(table).where(table.c.vehicle_id.in_(sorted(by_vehicle)))
            current = {row.vehicle_id: dict(row._mapping) for row in connection.execute(query)}
        updates: list[dict[str, Any]] = []
        for vehicle_id, items in by_vehicle.items():
            state = current.get(vehicle_id)
            changed = False
            if len(items) > 1:
                items.sort(key=lambda i: (i.message.timestamp, i.message.seq))
            for item in items:
                msg = item.message
                if state is not None and not _newer(
                    (msg.timestamp, msg.seq), (state["ts"], state["seq"])
                ):
                    continue
                new = _row(msg)
                new.update(organisation_id=item.organisation_id, received_at=item.received_at)
                if state is not None:
                    for name in _CARRIED:
                        if new[name] is None:
                            new[name] = state[name]
                state, changed = new, True
            if changed and state is not None:
                updates.append(state)
        if not updates:
            return
        if postgres:
            _pg_upsert_latest(connection, updates)
            return
        statement = _insert(connection, table)
        excluded = statement.excluded
        columns = [c.name for c in table.c if c.name != "vehicle_id"]
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.vehicle_id],
            set_={name: excluded[name] for name in columns},
            where=(excluded.ts > table.c.ts)
            | ((excluded.ts == table.c.ts) & (excluded.seq > table.c.seq)),
        )
        connection.execute(statement, updates)

    def _count(self, connection: Connection, counts: dict[str, int]) -> None:
        rows = [{"name": k, "value": v} for k, v in counts.items() if v]
        if not rows:
            return
        table = TelemetryCounter.__table__
        assert isinstance(table, Table)
        statement = _insert(connection, table)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.name], set_={"value": table.c.value + statement.excluded.value}
        )
        connection.execute(statement, rows)


def _insert_samples(
    connection: Connection, items: list[Incoming]
) -> set[tuple[str, int, dt.datetime]]:
    """SQLite: multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` the keys stored."""
    table = TelemetrySample.__table__
    assert isinstance(table, Table)
    rows = []
    for item in items:
        row = _row(item.message)
        row.update(
            organisation_id=item.organisation_id,
            received_at=item.received_at,
            source=item.source[:8],
        )
        rows.append(row)
    statement = (
        _insert(connection, table)
        .on_conflict_do_nothing()
        .returning(table.c.vehicle_id, table.c.seq, table.c.ts)
    )
    return {
        (vehicle_id, seq, _naive_utc(ts))
        for vehicle_id, seq, ts in connection.execute(statement, rows)
    }


# ------------------------------------------------------------------ PostgreSQL bulk path
#
# psycopg 3 directly, on the transaction's own connection: the samples are COPYed (binary)
# into a temporary staging table and moved with one INSERT … SELECT … ON CONFLICT DO NOTHING
# RETURNING, the latest states are read and upserted with one statement each (arrays and
# unnest). SQLAlchemy's multi-row INSERT spent most of its time building and parsing a
# statement with 15 parameters per row.

_STAGE = "evfleet_telemetry_stage"
_SAMPLE_COLUMNS = (
    "vehicle_id",
    "seq",
    "ts",
    "organisation_id",
    "received_at",
    "source",
    "latitude_deg",
    "longitude_deg",
    *_SIGNALS,
)
"""The sample columns written, in the order of :func:`_sample_tuple`."""


def _pg_type(table: Table, name: str) -> str:
    """The PostgreSQL type name psycopg dumps ``table.name``'s values as."""
    kind = table.c[name].type
    if isinstance(kind, UTCDateTime):
        return "timestamp"  # naive UTC, as the column stores it
    for base, pg in ((Boolean, "bool"), (BigInteger, "int8"), (Float, "float8")):
        if isinstance(kind, base):
            return pg
    if isinstance(kind, String):
        return "varchar"
    if isinstance(kind, Uuid):
        return "uuid"
    raise TypeError(f"{table.name}.{name}: no bulk type for {kind!r}")


def _sample_sql() -> tuple[str, str, str, tuple[str, ...]]:
    table = TelemetrySample.__table__
    assert isinstance(table, Table)
    columns = ", ".join(_SAMPLE_COLUMNS)
    create = (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (LIKE {table.name}) ON COMMIT DELETE ROWS"
    )
    copy = f"COPY {_STAGE} ({columns}) FROM STDIN (FORMAT BINARY)"
    insert = (
        f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {_STAGE} "
        "ON CONFLICT DO NOTHING RETURNING vehicle_id, seq, ts"
    )
    return create, copy, insert, tuple(_pg_type(table, c) for c in _SAMPLE_COLUMNS)


def _latest_sql() -> tuple[tuple[str, ...], str, str]:
    table = TelemetryLatest.__table__
    assert isinstance(table, Table)
    names = tuple(c.name for c in table.c)
    columns = ", ".join(names)
    read = (
        f"SELECT {columns} FROM {table.name} WHERE vehicle_id = ANY(%s) "
        "ORDER BY vehicle_id FOR UPDATE"
    )
    arrays = ", ".join(f"%s::{_pg_type(table, n)}[]" for n in names)
    updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in names if n != "vehicle_id")
    upsert = (
        f"INSERT INTO {table.name} ({columns}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT (vehicle_id) DO UPDATE SET {updates} "
        f"WHERE EXCLUDED.ts > {table.name}.ts "
        f"OR (EXCLUDED.ts = {table.name}.ts AND EXCLUDED.seq > {table.name}.seq)"
    )
    return names, read, upsert


_STAGE_CREATE, _STAGE_COPY, _STAGE_INSERT, _SAMPLE_TYPES = _sample_sql()
_LATEST_COLUMNS, _LATEST_READ, _LATEST_UPSERT = _latest_sql()
_LATEST_TIMES = frozenset(
    n for n in _LATEST_COLUMNS if isinstance(TelemetryLatest.__table__.c[n].type, UTCDateTime)
)


@contextmanager
def _driver_cursor(connection: Connection, statement: str) -> Iterator[Any]:
    """A psycopg cursor on ``connection``'s transaction; psycopg's errors are raised as
    SQLAlchemy's (``IntegrityError``, ``OperationalError``, …) so callers see one kind."""
    driver = connection.connection.driver_connection
    assert driver is not None
    dbapi = connection.dialect.loaded_dbapi
    try:
        with driver.cursor() as cursor:
            yield cursor
    except dbapi.Error as exc:
        raise DBAPIError.instance(statement, None, exc, dbapi.Error) from exc


def _sample_tuple(item: Incoming, stamp: dt.datetime) -> tuple[Any, ...]:
    msg = item.message
    return (
        msg.vehicle_id,
        msg.seq,
        stamp,
        item.organisation_id,
        _naive_utc(item.received_at),
        item.source[:8],
        msg.latitude_deg,
        msg.longitude_deg,
        msg.heading_deg,
        msg.speed_m_per_s,
        msg.odometer_m,
        msg.soc_pct,
        msg.range_m,
        msg.is_charging,
        msg.air_temperature_c,
    )


def _pg_insert_samples(
    connection: Connection, rows: list[tuple[Any, ...]]
) -> set[tuple[str, int, dt.datetime]]:
    """PostgreSQL: COPY ``rows`` into the staging table, then one ``INSERT … SELECT … ON
    CONFLICT DO NOTHING RETURNING``; returns the keys stored (fix time naive UTC)."""
    with _driver_cursor(connection, _STAGE_INSERT) as cursor:
        cursor.execute(_STAGE_CREATE)
        with cursor.copy(_STAGE_COPY) as copy:
            copy.set_types(_SAMPLE_TYPES)
            for row in rows:
                copy.write_row(row)
        cursor.execute(_STAGE_INSERT)
        return set(cursor.fetchall())


def _pg_read_latest(connection: Connection, vehicle_ids: list[str]) -> dict[str, dict[str, Any]]:
    """PostgreSQL: the latest states of ``vehicle_ids``, locked until the commit."""
    with _driver_cursor(connection, _LATEST_READ) as cursor:
        cursor.execute(_LATEST_READ, (vehicle_ids,))
        rows = cursor.fetchall()
    current = {}
    for row in rows:
        state = dict(zip(_LATEST_COLUMNS, row, strict=True))
        for name in _LATEST_TIMES:
            if state[name] is not None:
                state[name] = state[name].replace(tzinfo=dt.UTC)
        current[state["vehicle_id"]] = state
    return current


def _pg_upsert_latest(connection: Connection, updates: list[dict[str, Any]]) -> None:
    """PostgreSQL: one upsert of every changed latest state (``unnest`` of arrays)."""
    arrays = []
    for name in _LATEST_COLUMNS:
        values = [state[name] for state in updates]
        if name in _LATEST_TIMES:
            values = [None if v is None else _naive_utc(v) for v in values]
        arrays.append(values)
    with _driver_cursor(connection, _LATEST_UPSERT) as cursor:
        cursor.execute(_LATEST_UPSERT, arrays)


def _row(msg: TelemetryMessage) -> dict[str, Any]:
    return {
        "vehicle_id": msg.vehicle_id,
        "seq": msg.seq,
        "ts": msg.timestamp,
        "latitude_deg": msg.latitude_deg,
        "longitude_deg": msg.longitude_deg,
        "heading_deg": msg.heading_deg,
        "speed_m_per_s": msg.speed_m_per_s,
        "odometer_m": msg.odometer_m,
        "soc_pct": msg.soc_pct,
        "range_m": msg.range_m,
        "is_charging": msg.is_charging,
        "air_temperature_c": msg.air_temperature_c,
    }


def _payload(msg: TelemetryMessage) -> str:
    from evfleet.telemetry import encode_message

    return encode_message(msg)


# ------------------------------------------------------------------------ directory


class VehicleDirectory:
    """Which organisation each vehicle belongs to (vehicle id as text → organisation id),
    read from the ``vehicles`` table, re-read on a miss at most every ``refresh_s``."""

    def __init__(self, db: Database, *, refresh_s: float = 5.0) -> None:
        self.db = db
        self.refresh_s = refresh_s
        self._map: dict[str, tuple[uuid.UUID, str]] = {}
        self._loaded_at = -float("inf")

    def refresh(self) -> None:
        """Reads the vehicles now."""
        with self.db.engine.connect() as connection:
            rows = connection.execute(select(m.Vehicle.id, m.Vehicle.organisation_id)).all()
        self._map = {str(vehicle_id): (org, str(org)) for vehicle_id, org in rows}
        self._loaded_at = time.monotonic()

    def lookup(self, vehicle_id: str) -> uuid.UUID | None:
        """The vehicle's organisation (``None``: no such vehicle)."""
        found = self._lookup(vehicle_id)
        return None if found is None else found[0]

    def _lookup(self, vehicle_id: str) -> tuple[uuid.UUID, str] | None:
        """The vehicle's organisation and its canonical text."""
        key = vehicle_id.lower()
        found = self._map.get(key)
        if found is None and time.monotonic() - self._loaded_at >= self.refresh_s:
            self.refresh()
            found = self._map.get(key)
        return found


# ---------------------------------------------------------------------- MQTT batches

_Delivery = tuple[str, bytes, dt.datetime, object]
"""One buffered MQTT delivery: topic, payload, receive time, acknowledgement token."""


def decode_delivery(
    topic: str,
    payload: bytes | str,
    received_at: dt.datetime,
    directory: VehicleDirectory | None,
) -> Incoming | Refused:
    """One MQTT delivery as a message to store, or as a dead letter with the reason.

    The topic's organisation must be the vehicle's (with a ``directory``; without one the
    topic's organisation must be a UUID and is trusted, as the broker's ACL vouches for it).
    """
    try:
        message = decode_mqtt(topic, payload)
        org_text = parse_topic(topic).org
        if directory is None:
            try:
                org = uuid.UUID(org_text)
            except ValueError:
                raise TelemetryError("topic", f"organisation {org_text!r} is not a UUID") from None
        else:
            found = directory._lookup(message.vehicle_id)
            if found is None:
                raise TelemetryError(VEHICLE_ID, f"no vehicle {message.vehicle_id!r}")
            org, text = found
            if text != org_text and text != org_text.lower():
                raise TelemetryError(
                    "topic", f"vehicle {message.vehicle_id!r} is not in organisation {org_text!r}"
                )
    except TelemetryError as exc:
        return Refused(DeadLetter.of(topic, payload, exc, received_at))
    return Incoming(message, org, "mqtt", received_at)


class BatchWriter:
    """Buffers MQTT deliveries and writes them in batches (see the module docstring).

    ``put`` is thread-safe. ``on_commit(tokens)`` is called from the writer thread with
    the tokens of every delivery of a batch once the batch is committed (dead letters
    included: a redelivery would fail again). ``on_written(messages)`` is called next, from
    the same thread, with the batch's decoded messages that were stored or were duplicates
    of stored ones (in the order they arrived; not the dead letters, and not called when
    there are none); what it raises is logged and otherwise ignored.
    """

    def __init__(
        self,
        store: TelemetryStore,
        *,
        directory: VehicleDirectory | None = None,
        batch_size: int = 1000,
        max_delay_s: float = 0.1,
        on_commit: Callable[[list[object]], None] | None = None,
        on_written: Callable[[list[Incoming]], None] | None = None,
        backoff_s: tuple[float, float] = (0.1, 5.0),
        maintain_every_s: float = 3600.0,
    ) -> None:
        self.store = store
        self.directory = directory
        self.batch_size = batch_size
        self.max_delay_s = max_delay_s
        self.on_commit = on_commit
        self.on_written = on_written
        self.backoff_s = backoff_s
        self.maintain_every_s = maintain_every_s
        self.totals = WriteResult()
        self.db_errors = 0
        self._buffer: list[_Delivery] = []
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._first_at: float | None = None
        self._last_maintained = -float("inf")

    def put(self, topic: str, payload: bytes | bytearray | str, token: object = None) -> None:
        """Adds one delivery to the buffer."""
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        delivery = (topic, data, m.utcnow(), token)
        with self._cond:
            buffer = self._buffer
            if not buffer:
                self._first_at = time.monotonic()
            buffer.append(delivery)
            if len(buffer) == self.batch_size:
                self._cond.notify()

    def put_many(self, deliveries: Sequence[tuple[str, bytes | bytearray | str, object]]) -> None:
        """Adds ``(topic, payload, token)`` deliveries received together (one receive time)."""
        if not deliveries:
            return
        now = m.utcnow()
        items = [
            (topic, payload.encode("utf-8") if isinstance(payload, str) else bytes(payload), now, t)
            for topic, payload, t in deliveries
        ]
        with self._cond:
            buffer = self._buffer
            before = len(buffer)
            if not before:
                self._first_at = time.monotonic()
            buffer.extend(items)
            if before < self.batch_size <= len(buffer):
                self._cond.notify()

    def pending(self) -> int:
        """Deliveries waiting in the buffer."""
        with self._cond:
            return len(self._buffer)

    def start(self) -> None:
        """Starts the writer thread."""
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="evfleet-ingest-writer", daemon=True)
        self._thread.start()

    def stop(self, *, drain: bool = True) -> None:
        """Stops the writer thread (after writing what is buffered, with ``drain``)."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if drain:
            while self.flush(block=False):
                pass

    def _take(self) -> list[_Delivery]:
        with self._cond:
            batch = self._buffer[: self.batch_size]
            del self._buffer[: self.batch_size]
            self._first_at = time.monotonic() if self._buffer else None
            return batch

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop:
                    if len(self._buffer) >= self.batch_size:
                        break
                    if self._first_at is not None:
                        wait = self._first_at + self.max_delay_s - time.monotonic()
                        if wait <= 0:
                            break
                    else:
                        wait = 1.0
                    self._cond.wait(wait)
                if self._stop:
                    return
            self.flush()

    def flush(self, *, block: bool = True) -> int:
        """Writes one batch from the buffer now (retrying database errors until it is
        stored, or only once without ``block``); returns the deliveries written."""
        if time.monotonic() - self._last_maintained >= self.maintain_every_s:
            try:
                self.store.maintain()
                self._last_maintained = time.monotonic()
            except SQLAlchemyError as exc:
                log.warning("telemetry maintenance failed: %s", exc)
        batch = self._take()
        if not batch:
            return 0
        delay = self.backoff_s[0]
        while True:
            try:
                incoming, refused = self._decoded(batch)
                result = self._write(incoming, refused)
                break
            except SQLAlchemyError as exc:
                self.db_errors += 1
                log.warning("telemetry write failed (%s); retrying in %.1f s", exc, delay)
                if not block and self._stop:
                    with self._cond:  # give the batch back for a later writer
                        self._buffer[:0] = batch
                    return 0
                time.sleep(delay)
                delay = min(delay * 2, self.backoff_s[1])
        self.totals.add(result)
        if self.on_commit is not None:
            self.on_commit([delivery[3] for delivery in batch])
        if self.on_written is not None:
            written = [
                item
                for item, outcome in zip(incoming, result.outcomes, strict=True)
                if outcome != Outcome.REJECTED
            ]
            if written:
                try:
                    self.on_written(written)
                except Exception:
                    log.exception("on_written failed for a batch of %d messages", len(written))
        return len(batch)

    def _decoded(self, batch: list[_Delivery]) -> tuple[list[Incoming], list[Refused]]:
        """The batch's messages and dead letters (reading the vehicles may raise the
        database's error: the caller retries as for a failed write)."""
        incoming: list[Incoming] = []
        refused: list[Refused] = []
        directory = self.directory
        for topic, payload, received_at, _token in batch:
            item = decode_delivery(topic, payload, received_at, directory)
            if type(item) is Incoming:
                incoming.append(item)
            else:
                refused.append(item)  # type: ignore[arg-type]
        return incoming, refused

    def _write(self, incoming: list[Incoming], refused: list[Refused]) -> WriteResult:
        try:
            return self.store.write(incoming, refused)
        except (IntegrityError, DataError) as exc:
            # A row the database refuses though it passed validation: write one by one so
            # that the rest of the batch is not held hostage, dead-lettering the bad ones.
            log.error("telemetry batch refused (%s); writing messages one by one", exc)
            total = self.store.write([], refused)
            for item in incoming:
                try:
                    single = self.store.write([item])
                except (IntegrityError, DataError) as error:
                    letter = DeadLetter.of(
                        item.source,
                        _payload(item.message),
                        TelemetryError("$", f"the database refused it: {error.orig}"),
                        item.received_at,
                    )
                    total.add(self.store.write([], [Refused(letter, item.organisation_id)]))
                    total.outcomes.append(Outcome.REJECTED)
                else:
                    total.add(single)
                    total.outcomes.extend(single.outcomes)
            return total
