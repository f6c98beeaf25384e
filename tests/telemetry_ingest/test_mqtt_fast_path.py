"""The MQTT consumer's bulk path: PUBLISH packets split out of a read buffer exactly (and
anything unusual left to paho), and through a real Mosquitto the bulk PUBACKs acknowledge
everything, so that a new connection on the same persistent session gets nothing again;
MQTT 5 properties on a message do not disturb its payload."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from own_broker import OwnBroker, require_binary
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from evfleet.ingest.mqtt import BrokerAddress, MqttIngester, _FastClient, split_publishes
from evfleet.ingest.testing import Fleet, sample
from evfleet.ingest.writer import BatchWriter, TelemetryStore, VehicleDirectory
from evfleet.store.db import Database
from evfleet.store.telemetry_models import TelemetrySample
from evfleet.telemetry import encode_message


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def publish_packet(
    topic: str, payload: bytes, mid: int = 0, qos: int = 1, props: bytes = b"", v5: bool = True
) -> bytes:
    body = struct.pack("!H", len(topic.encode())) + topic.encode()
    if qos:
        body += struct.pack("!H", mid)
    if v5:
        body += _varint(len(props)) + props
    body += payload
    return bytes([0x30 | (qos << 1)]) + _varint(len(body)) + body


def test_complete_publishes_are_split_and_the_rest_is_left() -> None:
    big = b"x" * 20_000  # a three-byte remaining length
    user_property = b"\x26" + struct.pack("!H", 1) + b"k" + struct.pack("!H", 1) + b"v"
    packets = [
        publish_packet("a/b", b"{}", mid=1),
        publish_packet("a/c", big, mid=65535),
        publish_packet("a/d", b"zero", qos=0),
        publish_packet("a/é", b"p", mid=7, props=user_property),
    ]
    stream = b"".join(packets)
    publishes, pos = split_publishes(stream, 0)
    assert publishes == [
        ("a/b", b"{}", 1, 1),
        ("a/c", big, 65535, 1),
        ("a/d", b"zero", 0, 0),
        ("a/é", b"p", 7, 1),
    ]
    assert pos == len(stream)
    # From the middle of a buffer; a cut-off packet stays for the next read.
    tail = publish_packet("a/e", b"cut", mid=9)
    publishes, pos = split_publishes(b"junk" + stream + tail[:-1], 4)
    assert len(publishes) == 4 and pos == 4 + len(stream)
    for cut in range(1, len(tail)):
        assert split_publishes(tail[:cut], 0) == ([], 0)
    # A redelivery (DUP flag) and a retained message are PUBLISH packets all the same.
    redelivered = bytearray(publish_packet("a/f", b"again", mid=11))
    redelivered[0] |= 0x08 | 0x01
    assert split_publishes(bytes(redelivered), 0) == ([("a/f", b"again", 11, 1)], len(redelivered))
    # MQTT 3.1.1 packets carry no properties.
    v3 = publish_packet("t", b"body", mid=3, v5=False)
    assert split_publishes(v3, 0, v5=False) == ([("t", b"body", 3, 1)], len(v3))


@pytest.mark.parametrize(
    "odd",
    [
        b"\x40\x02\x00\x01",  # a PUBACK
        bytes([0x34]) + publish_packet("q", b"2", mid=5)[1:],  # QoS 2
        publish_packet("q", b"bad", mid=5).replace(b"q", b"\xff"),  # topic not UTF-8
        b"\x32\x01\x00",  # too short for a topic length
        b"\x32\x03\x00\x09\x00",  # topic longer than the packet
        b"\x32\x05\x00\x01t\x00\x01\x09",  # properties longer than the packet
        b"\x32\xff\xff\xff\xff\x7f",  # a remaining length of five bytes
    ],
)
def test_anything_unusual_stops_the_split_for_paho(odd: bytes) -> None:
    first = publish_packet("ok", b"1", mid=1)
    publishes, pos = split_publishes(first + odd + first, 0)
    assert publishes == [("ok", b"1", 1, 1)]
    assert pos == len(first)


def _rows(db: Database) -> int:
    with db.engine.connect() as c:
        return int(c.scalar(sa.select(sa.func.count()).select_from(TelemetrySample)) or 0)


def _ingester(db: Database, address: BrokerAddress, fleet: Fleet) -> MqttIngester:
    writer = BatchWriter(
        TelemetryStore(db), directory=VehicleDirectory(db), batch_size=150, max_delay_s=0.05
    )
    return MqttIngester(
        address,
        writer,
        client_id="fast-path-ingest",
        topic=f"evfleet/{fleet.organisation_id}/vehicles/+/telemetry",
    )


def test_bulk_acknowledgements_leave_nothing_to_redeliver(
    db: Database, fleet: Fleet, tmp_path: Path
) -> None:
    require_binary("mosquitto")
    broker = OwnBroker(tmp_path / "broker", "allow_anonymous true\n")
    broker.start()
    address = BrokerAddress("127.0.0.1", broker.port)
    try:
        ingester = _ingester(db, address, fleet)
        assert isinstance(ingester.client, _FastClient)
        ingester.start()
        assert ingester.connected.wait(10)
        time.sleep(0.3)
        van = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fast-vans", protocol=mqtt.MQTTv5)
        van.max_inflight_messages_set(500)
        van.connect("127.0.0.1", broker.port)
        van.loop_start()
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        properties.UserProperty = ("gateway", "depot-1")
        properties.ContentType = "application/json"
        properties.MessageExpiryInterval = 3600
        infos = []
        for seq in range(1, 1001):
            vehicle = fleet.vehicle_ids[seq % len(fleet.vehicle_ids)]
            payload = encode_message(sample(vehicle, seq))
            with_properties = properties if seq % 3 == 0 else None
            infos.append(
                van.publish(fleet.topic(vehicle), payload, qos=1, properties=with_properties)
            )
        for info in infos:
            info.wait_for_publish(10)
        van.loop_stop()
        van.disconnect()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and ingester.writer.totals.accepted < 1000:
            time.sleep(0.05)
        time.sleep(0.3)  # the last PUBACKs go out
        ingester.stop()
        assert ingester.writer.totals.accepted == 1000
        assert ingester.writer.totals.dead_letters == 0
        assert ingester.received == 1000
        # The same persistent session again: the broker has nothing left to send.
        again = _ingester(db, address, fleet)
        again.start()
        assert again.connected.wait(10)
        time.sleep(1.5)
        again.stop()
        assert again.received == 0
    finally:
        broker.stop()
    assert _rows(db) == 1000
