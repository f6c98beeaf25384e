"""A real round trip through the system Mosquitto (127.0.0.1:1883): 1,000 messages at QoS 1
plus redeliveries become exactly 1,000 rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from evfleet.ingest.mqtt import BrokerAddress, MqttIngester
from evfleet.ingest.testing import Fleet, sample
from evfleet.ingest.writer import BatchWriter, TelemetryStore, VehicleDirectory
from evfleet.store.db import Database
from evfleet.store.telemetry_models import TelemetrySample
from evfleet.telemetry import encode_message

BROKER = BrokerAddress(
    os.environ.get("EVFLEET_TEST_MQTT_HOST", "127.0.0.1"),
    int(os.environ.get("EVFLEET_TEST_MQTT_PORT", "1883")),
)


def broker_reachable(address: BrokerAddress) -> bool:
    try:
        socket.create_connection((address.host, address.port), timeout=2).close()
    except OSError:
        return False
    return True


def count_rows(db: Database) -> int:
    with db.engine.connect() as c:
        return int(c.scalar(sa.select(sa.func.count()).select_from(TelemetrySample)) or 0)


def wait_for(predicate: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return bool(predicate())  # type: ignore[operator]


def publisher(address: BrokerAddress, client_id: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_inflight_messages_set(200)
    client.connect(address.host, address.port)
    client.loop_start()
    return client


def test_a_round_trip_through_mosquitto(db: Database, fleet: Fleet) -> None:
    if not broker_reachable(BROKER):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"no MQTT broker at {BROKER.host}:{BROKER.port} (CI=true)")
        pytest.skip(f"no MQTT broker at {BROKER.host}:{BROKER.port}")
    suffix = uuid.uuid4().hex[:8]
    store = TelemetryStore(db)
    writer = BatchWriter(store, directory=VehicleDirectory(db), batch_size=200, max_delay_s=0.05)
    ingester = MqttIngester(
        BROKER,
        writer,
        client_id=f"evfleet-test-ingest-{suffix}",
        topic=f"evfleet/{fleet.organisation_id}/vehicles/+/telemetry",
    )
    ingester.start()
    try:
        assert ingester.connected.wait(10)
        time.sleep(0.2)  # the SUBACK
        pub = publisher(BROKER, f"evfleet-test-van-{suffix}")
        infos = []
        vans = fleet.vehicle_ids
        for seq in range(1, 1001):
            van = vans[seq % len(vans)]
            payload = encode_message(sample(van, seq))
            infos.append(pub.publish(fleet.topic(van), payload, qos=1))
            if seq % 10 == 0:  # a redelivery (the van did not see the PUBACK)
                infos.append(pub.publish(fleet.topic(van), payload, qos=1))
        for info in infos:
            info.wait_for_publish(10)
        pub.loop_stop()
        pub.disconnect()
        assert wait_for(lambda: count_rows(db) >= 1000 and writer.pending() == 0, 30)
        time.sleep(0.3)
    finally:
        ingester.stop()
        # end the persistent session on the shared broker (clean start, no expiry)
        forget = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"evfleet-test-ingest-{suffix}",
            protocol=mqtt.MQTTv5,
        )
        forget.connect(BROKER.host, BROKER.port, clean_start=True)
        forget.disconnect()
    assert count_rows(db) == 1000
    assert writer.totals.accepted == 1000
    assert writer.totals.duplicates == 100
    assert ingester.received == 1100
