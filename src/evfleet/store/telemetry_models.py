"""Telemetry storage: the samples (time-partitioned on PostgreSQL), each van's latest state,
dead letters and counters; day partitions and retention.

**Samples** (``telemetry_samples``) hold every accepted message, one row per
``(vehicle_id, seq, ts)``. On PostgreSQL the table is *declaratively range-partitioned by
day* on ``ts`` (the fix time, naive UTC); a partitioned table's unique key must contain the
partition key, so the key is ``(vehicle_id, seq, ts)`` rather than ``(vehicle_id, seq)``.
That is still exactly-once for redeliveries: a van resends an unacknowledged message with
the same ``seq`` *and the same sample* (same fix time), so a QoS 1 / HTTP retry hits the key
and ``INSERT … ON CONFLICT DO NOTHING`` drops it. The one case the wider key lets through is
a van that sends the same ``seq`` with a *different* fix time, which is what a device does
when it restarts its counter (the tracker's ``restart`` outcome): both samples are real and
both are kept. SQLite uses the same key (a plain table) so the two backends behave alike.
The alternative, a separate ``(vehicle_id, seq)`` table for dedupe, would double the index
writes of every message and need its own retention, for no gain on real redeliveries.

Partitions live in the schema :data:`PARTITION_SCHEMA` (``telemetry_partitions``), named
``telemetry_samples_YYYYMMDD``; :func:`ensure_partitions` creates them (the ingester makes
today's and the next days' ahead, and any day a batch needs on demand) and
:func:`purge_telemetry` drops whole days older than the retention (SQLite: ``DELETE``).
There is no DEFAULT partition: a row in it would block creating its day's partition later.
The writer instead refuses (dead-letters) fix times outside the storage window (older than
the retention, or more than a day ahead of the receive time).

**Latest state** (``telemetry_latest``) is one row per van, moved only forward in time
(fix time, then ``seq``); a signal a message leaves out keeps its last value, except the
speed. **Dead letters** keep malformed messages with the reason; ``telemetry_counters``
counts them (and what else the ingester wants to count) across restarts.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Float,
    Index,
    String,
    Text,
    delete,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from evfleet.store.models import Base, UTCDateTime, utcnow

__all__ = [
    "PARTITION_SCHEMA",
    "TelemetryCounter",
    "TelemetryDeadLetter",
    "TelemetryLatest",
    "TelemetrySample",
    "ensure_partitions",
    "existing_partitions",
    "partition_name",
    "purge_telemetry",
]

PARTITION_SCHEMA = "telemetry_partitions"
"""PostgreSQL schema of the day partitions (kept out of ``public``, which the models own)."""
_PARTITION = re.compile(r"^telemetry_samples_(\d{8})$")


class TelemetrySample(Base):
    """One stored telemetry message (SI units, as :class:`evfleet.telemetry.TelemetryMessage`).

    ``vehicle_id`` is the message's id (a vehicle's UUID as text); ``source`` is ``mqtt`` or
    ``http``; ``ts`` the fix time and ``received_at`` when the service got it.
    """

    __tablename__ = "telemetry_samples"
    __table_args__ = (
        Index("ix_telemetry_samples_vehicle_id_ts", "vehicle_id", "ts"),
        {"postgresql_partition_by": "RANGE (ts)"},
    )

    vehicle_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column()
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(8))
    latitude_deg: Mapped[float] = mapped_column(Float)
    longitude_deg: Mapped[float] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    speed_m_per_s: Mapped[float | None] = mapped_column(Float)
    odometer_m: Mapped[int | None] = mapped_column(BigInteger)
    soc_pct: Mapped[float | None] = mapped_column(Float)
    range_m: Mapped[int | None] = mapped_column(BigInteger)
    is_charging: Mapped[bool | None] = mapped_column(Boolean)
    air_temperature_c: Mapped[float | None] = mapped_column(Float)


class TelemetryLatest(Base):
    """Each van's latest state: the newest message's fields, signals carried forward."""

    __tablename__ = "telemetry_latest"

    vehicle_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    latitude_deg: Mapped[float] = mapped_column(Float)
    longitude_deg: Mapped[float] = mapped_column(Float)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    speed_m_per_s: Mapped[float | None] = mapped_column(Float)
    odometer_m: Mapped[int | None] = mapped_column(BigInteger)
    soc_pct: Mapped[float | None] = mapped_column(Float)
    range_m: Mapped[int | None] = mapped_column(BigInteger)
    is_charging: Mapped[bool | None] = mapped_column(Boolean)
    air_temperature_c: Mapped[float | None] = mapped_column(Float)


class TelemetryDeadLetter(Base):
    """A refused message: raw payload, ``source`` (MQTT topic or ``http``), the offending
    ``field`` and the ``reason``; ``organisation_id`` when the sender is known (HTTP)."""

    __tablename__ = "telemetry_dead_letters"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column()
    source: Mapped[str] = mapped_column(String(300))
    payload: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class TelemetryCounter(Base):
    """A named counter the ingester keeps (``dead_letters``, ``accepted``, ``duplicates``)."""

    __tablename__ = "telemetry_counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# ------------------------------------------------------------------- partitions, retention


def partition_name(day: dt.date) -> str:
    """The day partition's table name (in :data:`PARTITION_SCHEMA`)."""
    return f"telemetry_samples_{day:%Y%m%d}"


def existing_partitions(connection: Connection) -> set[dt.date]:
    """The days that have a partition (PostgreSQL; empty elsewhere)."""
    if connection.dialect.name != "postgresql":
        return set()
    rows = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent "
            "JOIN pg_namespace pn ON pn.oid = p.relnamespace "
            "WHERE p.relname = 'telemetry_samples' AND pn.nspname = current_schema()"
        )
    ).scalars()
    days = set()
    for name in rows:
        match = _PARTITION.match(name)
        if match:
            days.add(dt.datetime.strptime(match.group(1), "%Y%m%d").date())
    return days


def ensure_partitions(connection: Connection, days: Iterable[dt.date]) -> list[dt.date]:
    """Creates the missing day partitions among ``days`` (PostgreSQL; no-op elsewhere) and
    returns the days created. Safe to run from several processes at once (advisory lock)."""
    if connection.dialect.name != "postgresql":
        return []
    wanted = sorted(set(days))
    if not wanted:
        return []
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('evfleet.telemetry'))"))
    have = existing_partitions(connection)
    created = []
    for day in wanted:
        if day in have:
            continue
        start = dt.datetime.combine(day, dt.time())
        end = start + dt.timedelta(days=1)
        connection.execute(
            text(
                f'CREATE TABLE IF NOT EXISTS "{PARTITION_SCHEMA}"."{partition_name(day)}" '
                "PARTITION OF telemetry_samples "
                f"FOR VALUES FROM ('{start:%Y-%m-%d %H:%M:%S}') TO ('{end:%Y-%m-%d %H:%M:%S}')"
            )
        )
        created.append(day)
    return created


def purge_telemetry(
    connection: Connection, retention_days: int, now: dt.datetime | None = None
) -> int:
    """Removes samples and dead letters older than ``retention_days`` (whole UTC days:
    PostgreSQL drops the day partitions that end before the cut-off; SQLite deletes rows).

    Returns the partitions dropped (PostgreSQL) or the sample rows deleted (SQLite).
    """
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    now = now or utcnow()
    cutoff_day = (now - dt.timedelta(days=retention_days)).astimezone(dt.UTC).date()
    cutoff = dt.datetime.combine(cutoff_day, dt.time(), tzinfo=dt.UTC)
    connection.execute(delete(TelemetryDeadLetter).where(TelemetryDeadLetter.received_at < cutoff))
    if connection.dialect.name != "postgresql":
        result = connection.execute(delete(TelemetrySample).where(TelemetrySample.ts < cutoff))
        return int(result.rowcount or 0)
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('evfleet.telemetry'))"))
    dropped = 0
    for day in sorted(existing_partitions(connection)):
        if day < cutoff_day:
            connection.execute(text(f'DROP TABLE "{PARTITION_SCHEMA}"."{partition_name(day)}"'))
            dropped += 1
    return dropped
