"""Per-vehicle MQTT credentials: the files rendered from the database, and a private
Mosquitto using them, where van A can publish on its own topic and not on van B's."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from own_broker import OwnBroker, require_binary
from paho.mqtt.enums import CallbackAPIVersion

from evfleet.ingest.mosquitto_auth import (
    INGESTER_USER,
    hash_password,
    render_acl,
    vehicle_accounts,
    vehicle_password,
    write_files,
)
from evfleet.ingest.testing import Fleet, add_fleet
from evfleet.store.db import Database

SECRET = "operator secret for the tests"


def test_the_files_name_every_vehicle_and_its_topic(
    db: Database, fleet: Fleet, tmp_path: Path
) -> None:
    passwords, acl = write_files(db, tmp_path, SECRET, "ingest-pw")
    users = [line.split(":", 1)[0] for line in passwords.read_text().splitlines()]
    assert users == [INGESTER_USER, *sorted(users[1:])] or set(users) == {
        INGESTER_USER,
        *fleet.vehicle_ids,
    }
    assert set(users) == {INGESTER_USER, *fleet.vehicle_ids}
    text = acl.read_text()
    for v in fleet.vehicle_ids:
        assert f"user {v}\ntopic write {fleet.topic(v)}\n" in text
    assert f"user {INGESTER_USER}\ntopic read evfleet/+/vehicles/+/telemetry" in text
    assert oct(passwords.stat().st_mode & 0o777) == "0o600"
    assert len(vehicle_accounts(db)) == 3
    assert vehicle_password(SECRET, "a") != vehicle_password(SECRET, "b")
    assert render_acl([]).startswith("#")


def test_the_hash_is_mosquittos_pbkdf2_format() -> None:
    salt = bytes(range(12))
    stored = hash_password("pw", salt)
    _, kind, rounds, salt64, hash64 = stored.split("$")
    assert (kind, rounds, base64.b64decode(salt64)) == ("7", "101", salt)
    assert base64.b64decode(hash64) == hashlib.pbkdf2_hmac("sha512", b"pw", salt, 101)


def _client(port: int, user: str, password: str, name: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name)
    client.username_pw_set(user, password)
    connected = threading.Event()
    client.on_connect = lambda c, u, f, reason, p: (
        connected.set() if not reason.is_failure else None
    )
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert connected.wait(5), f"{user} could not connect"
    return client


def test_a_van_publishes_only_on_its_own_topic(tmp_path: Path) -> None:
    require_binary("mosquitto")
    passwd_tool = require_binary("mosquitto_passwd")
    db = Database(f"sqlite:///{tmp_path / 'auth.db'}")
    db.migrate()
    fleet = add_fleet(db, 2)
    a, b = fleet.vehicle_ids
    passwords, acl = write_files(db, tmp_path / "auth", SECRET, "ingest-pw")
    # mosquitto_passwd accepts the rendered file (and can add to it)
    subprocess.run([passwd_tool, "-b", str(passwords), "ops", "ops-pw"], check=True)
    broker = OwnBroker(
        tmp_path / "broker",
        f"allow_anonymous false\npassword_file {passwords}\nacl_file {acl}\n",
    )
    broker.start()
    try:
        got: list[str] = []
        subscribed = threading.Event()
        own_arrived = threading.Event()

        def on_message(c: object, u: object, msg: mqtt.MQTTMessage) -> None:
            got.append(f"{msg.topic}={msg.payload.decode()}")
            if msg.payload == b"own":
                own_arrived.set()

        ingest = _client(broker.port, INGESTER_USER, "ingest-pw", "ingest")
        ingest.on_message = on_message
        ingest.on_subscribe = lambda *args: subscribed.set()
        ingest.subscribe("evfleet/+/vehicles/+/telemetry", qos=1)
        assert subscribed.wait(10), "the ingester's subscription was not acknowledged"
        van = _client(broker.port, a, vehicle_password(SECRET, a), "van-a")
        van.publish(fleet.topic(a), "own", qos=1).wait_for_publish(10)
        assert own_arrived.wait(10), "the van's own message did not arrive"
        # The broker refuses these (it may also drop the van's connection for trying).
        for topic in (fleet.topic(b), f"evfleet/other-org/vehicles/{a}/telemetry"):
            with contextlib.suppress(RuntimeError, ValueError):
                van.publish(topic, "forged", qos=1).wait_for_publish(5)
        time.sleep(1.0)
        assert got == [f"{fleet.topic(a)}=own"]
        # a wrong password, or no credentials, is refused
        refused = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="intruder")
        refused.username_pw_set(b, "guess")
        reasons: list[object] = []
        refused.on_connect = lambda c, u, f, reason, p: reasons.append(reason)
        refused.connect("127.0.0.1", broker.port)
        refused.loop_start()
        deadline = time.monotonic() + 5
        while not reasons and time.monotonic() < deadline:
            time.sleep(0.05)
        refused.loop_stop()
        assert reasons and reasons[0].is_failure  # type: ignore[attr-defined]
        for client in (ingest, van):
            client.loop_stop()
            client.disconnect()
    finally:
        broker.stop()
        db.dispose()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
