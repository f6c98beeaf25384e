"""The live path from a real broker: a fix published to Mosquitto reaches a WebSocket
client of the van's organisation through ``MqttLiveFeed`` (no database batch between)."""

from __future__ import annotations

import datetime as dt
import socket
import time

import paho.mqtt.client as mqtt
import pytest
from api_world import API, World
from fastapi import FastAPI
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from evfleet.ingest.writer import VehicleDirectory
from evfleet.live.mqtt_feed import MqttLiveFeed
from evfleet.store.db import Database
from evfleet.telemetry import TelemetryMessage, encode_message, telemetry_topic

BROKER = ("127.0.0.1", 1883)


def _broker_up() -> bool:
    try:
        with socket.create_connection(BROKER, timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _broker_up(), reason="no MQTT broker on 127.0.0.1:1883")


def test_a_published_fix_reaches_the_websocket(
    app: FastAPI, client: TestClient, world: World, db: Database
) -> None:
    a = world.a
    vehicle = str(a.ids["vehicle"])
    feed = MqttLiveFeed(
        "mqtt://127.0.0.1:1883",
        app.state.live_tracking,
        VehicleDirectory(db),
        topic="evfleet/+/vehicles/+/telemetry",
    )
    feed.start()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    publisher.connect(*BROKER)
    publisher.loop_start()
    try:
        with client.websocket_connect(
            f"{API}/live/ws?access_token={a.credentials['viewer']}"
        ) as ws:
            assert ws.receive_json()["type"] == "snapshot"
            deadline = time.monotonic() + 10
            seq = 0
            push = None
            # The subscription may not be active yet: publish until a push arrives.
            while push is None and time.monotonic() < deadline:
                seq += 1
                fix = TelemetryMessage(
                    vehicle_id=vehicle,
                    seq=seq,
                    timestamp=dt.datetime.now(dt.UTC),
                    latitude_deg=48.15,
                    longitude_deg=11.58,
                    soc_pct=71.5,
                )
                publisher.publish(
                    telemetry_topic(str(a.id), vehicle), encode_message(fix), qos=1
                ).wait_for_publish(5)
                time.sleep(0.3)
                if feed.live.messages:
                    push = ws.receive_json()
            assert push is not None, "no push within 10 s"
            assert push["type"] == "vehicle" and push["vehicle_id"] == vehicle
            assert push["soc_pct"] == 71.5
            sent = dt.datetime.fromisoformat(push["timestamp"])
            assert (dt.datetime.now(dt.UTC) - sent).total_seconds() < 5
        # A van of another organisation under A's topic is not tracked for anyone.
        other = str(world.b.ids["vehicle"])
        before = feed.live.messages
        fix = TelemetryMessage(other, 1, dt.datetime.now(dt.UTC), 48.1, 11.5)
        publisher.publish(telemetry_topic(str(a.id), other), encode_message(fix), qos=1)
        time.sleep(0.5)
        assert feed.live.messages == before
        assert feed.rejected >= 1
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        feed.stop()
