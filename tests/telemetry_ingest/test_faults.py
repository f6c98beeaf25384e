"""Fault test: while vans stream telemetry, the broker (our own Mosquitto, persistence on)
is stopped and restarted, then the database goes away (PostgreSQL: the throwaway database
refuses connections for 1.5 s and the open ones are terminated; SQLite: another connection
holds an exclusive lock). Every message sent is stored exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from own_broker import OwnBroker, require_binary
from paho.mqtt.enums import CallbackAPIVersion

from evfleet.ingest.mqtt import BrokerAddress, MqttIngester
from evfleet.ingest.testing import Fleet, sample
from evfleet.ingest.writer import BatchWriter, TelemetryStore, VehicleDirectory
from evfleet.store.db import Database
from evfleet.store.telemetry_models import TelemetrySample
from evfleet.store.testing import postgres_admin_url
from evfleet.telemetry import encode_message

MESSAGES = 3000
RATE = 600.0  # messages per second offered


def _rows(db: Database) -> tuple[int, int]:
    with db.engine.connect() as c:
        total = c.scalar(sa.select(sa.func.count()).select_from(TelemetrySample)) or 0
        pairs = c.scalar(
            sa.select(sa.func.count()).select_from(
                sa.select(TelemetrySample.vehicle_id, TelemetrySample.seq).distinct().subquery()
            )
        )
    return int(total), int(pairs or 0)


def _delivered(info: mqtt.MQTTMessageInfo) -> bool:
    """Whether the broker acknowledged it (published while disconnected: not yet)."""
    try:
        return info.is_published()
    except (RuntimeError, ValueError):
        return False


def _wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def _database_outage(db: Database, writer: BatchWriter) -> None:
    if db.dialect == "postgresql":
        name = db.engine.url.database
        admin = sa.create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
        try:  # refuse new connections to the throwaway database, cut the open ones
            with admin.connect() as c:
                c.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                c.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
            # At least 1.5 s, and until the writer has met the outage: a write attempted
            # while connections are refused must fail (it is retried afterwards).
            time.sleep(1.5)
            _wait_until(lambda: writer.db_errors >= 1, 15.0)
            with admin.connect() as c:
                c.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        finally:
            admin.dispose()
    else:
        locker = sa.create_engine(db.engine.url)
        with locker.connect() as c:
            c.exec_driver_sql("BEGIN EXCLUSIVE")
            time.sleep(1.5)
            c.exec_driver_sql("COMMIT")
        locker.dispose()


@pytest.mark.slow
def test_broker_and_database_outages_lose_nothing(
    db: Database, fleet: Fleet, tmp_path: Path
) -> None:
    require_binary("mosquitto")
    broker = OwnBroker(tmp_path / "broker", "allow_anonymous true\n", persistence=True)
    broker.start()
    address = BrokerAddress("127.0.0.1", broker.port)
    writer = BatchWriter(
        TelemetryStore(db),
        directory=VehicleDirectory(db),
        batch_size=100,
        max_delay_s=0.05,
        backoff_s=(0.05, 0.5),
    )
    ingester = MqttIngester(address, writer, client_id="fault-ingest", reconnect_delay_s=(1, 2))
    ingester.start()
    van = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fault-vans", clean_session=False)
    van.reconnect_delay_set(1, 2)
    van.max_inflight_messages_set(100)
    van.max_queued_messages_set(0)
    pending: list[tuple[mqtt.MQTTMessageInfo, str, str]] = []
    outage: threading.Thread | None = None
    try:
        assert ingester.connected.wait(10)
        time.sleep(0.3)
        van.connect("127.0.0.1", broker.port)
        van.loop_start()
        sent: dict[tuple[str, int], tuple[str, str]] = {}
        started = time.monotonic()
        for i in range(MESSAGES):
            vehicle = fleet.vehicle_ids[i % len(fleet.vehicle_ids)]
            seq = i // len(fleet.vehicle_ids) + 1
            topic, payload = fleet.topic(vehicle), encode_message(sample(vehicle, seq))
            sent[(vehicle, seq)] = (topic, payload)
            pending.append((van.publish(topic, payload, qos=1), topic, payload))
            if i == MESSAGES // 3:
                broker.stop()
                time.sleep(1.0)
                broker.start()
            if i == 2 * MESSAGES // 3:
                # Only once the ingester is back from the broker restart (it reconnects
                # with 1-2 s back-off): an outage while nothing reaches the writer tests
                # nothing.
                _wait_until(lambda: ingester.connections >= 2 and ingester.connected.is_set(), 15)
                outage = threading.Thread(target=_database_outage, args=(db, writer), daemon=True)
                outage.start()
            pause = started + (i + 1) / RATE - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        if outage is not None:
            outage.join(30)
        # The van resends whatever the broker did not acknowledge, with the same seq.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(1.0)
            pending = [p for p in pending if not _delivered(p[0])]
            if not pending:
                break
            if van.is_connected():
                pending = [(van.publish(t, body, qos=1), t, body) for _, t, body in pending]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _rows(db)[0] < MESSAGES:
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        van.loop_stop()
        van.disconnect()
        ingester.stop()
        broker.stop()
    total, pairs = _rows(db)
    assert (total, pairs) == (MESSAGES, len(sent))
    assert writer.totals.accepted == MESSAGES
    assert ingester.connections >= 2  # it did reconnect after the broker restart
    if db.dialect == "postgresql":
        assert writer.db_errors >= 1  # and it did see the database go away
