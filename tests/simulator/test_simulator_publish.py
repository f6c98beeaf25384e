"""Publishers: MQTT against the local Mosquitto, HTTP against a mock server, the CLI."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sim_world import START
from typer.testing import CliRunner

from evfleet.cli import app
from evfleet.simulator import Simulation, SimulationSettings, simulate_plan
from evfleet.simulator.publish import HttpPublisher, MqttPublisher, MqttTarget, PublishError, play
from evfleet.telemetry import (
    TelemetryMessage,
    decode_batch,
    decode_message,
    decode_mqtt,
    message_to_dict,
    topic_filter,
)

BROKER = ("127.0.0.1", 1883)


def broker_up() -> bool:
    try:
        with socket.create_connection(BROKER, timeout=0.5):
            return True
    except OSError:
        return False


def wire(m: TelemetryMessage) -> dict[str, object]:
    """The wire form, speed rounded (km/h to m/s and back is not exact in binary)."""
    d = message_to_dict(m)
    speed = d["Vehicle.Speed"]
    assert isinstance(speed, float)
    d["Vehicle.Speed"] = round(speed, 6)
    return d


def short(doc: dict[str, Any], seconds: float = 300.0) -> Simulation:
    start = START.replace(hour=8, minute=0)
    return simulate_plan(doc, SimulationSettings(seed=3), start=start, duration_s=seconds)


def test_mqtt_url_parsing() -> None:
    t = MqttTarget.parse("mqtts://user:p%40ss@broker.example:8884")
    assert (t.host, t.port, t.tls, t.username, t.password) == (
        "broker.example",
        8884,
        True,
        "user",
        "p@ss",
    )
    assert MqttTarget.parse("mqtt://localhost").port == 1883
    with pytest.raises(PublishError, match="not an mqtt"):
        MqttTarget.parse("http://localhost:1883")


@pytest.mark.skipif(not broker_up(), reason="no MQTT broker at 127.0.0.1:1883")
def test_publishing_to_mosquitto_with_qos_1(doc: dict[str, Any]) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    org = f"simtest-{uuid.uuid4().hex[:8]}"
    sim = short(doc, 120.0)
    expected = len(sim.deliveries)
    received: list[Any] = []
    subscribed = threading.Event()
    done = threading.Event()

    def on_connect(client: mqtt.Client, *_: object) -> None:
        client.subscribe(topic_filter(org), qos=1)

    def on_subscribe(*_: object) -> None:
        subscribed.set()

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        received.append(decode_mqtt(msg.topic, msg.payload))
        if len(received) >= expected:
            done.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sub-{org}")
    sub.on_connect = on_connect
    sub.on_subscribe = on_subscribe
    sub.on_message = on_message
    sub.connect(*BROKER)
    sub.loop_start()
    try:
        assert subscribed.wait(5.0)
        publisher = MqttPublisher("mqtt://127.0.0.1:1883", org, client_id=f"pub-{org}")
        try:
            stats = play(sim.deliveries, publisher, start_s=sim.start_s, speedup=0.0)
        finally:
            publisher.close()
        assert stats.messages == expected == publisher.count
        assert done.wait(5.0)
    finally:
        sub.disconnect()
        sub.loop_stop()
    sent = {(d.message.vehicle_id, d.message.seq): wire(d.message) for d in sim.deliveries}
    assert {(m.vehicle_id, m.seq): wire(m) for m in received} == sent


def test_mqtt_publisher_reports_an_unreachable_broker() -> None:
    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PublishError, match="cannot connect"):
        MqttPublisher(f"mqtt://127.0.0.1:{port}", "evfleet", connect_timeout_s=1.0)


def test_http_batches_carry_the_bearer_key_and_expect_202(doc: dict[str, Any]) -> None:
    sim = short(doc)
    bodies: list[Any] = []
    answers = iter([503, 202, 202, 202, 202, 202, 202, 202])

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url == "http://fleet.test/api/v1/telemetry"
        assert request.method == "POST"
        assert request.headers["authorization"] == "Bearer evk_test"
        status = next(answers)
        if status == 202:
            bodies.append(json.loads(request.content))
        return httpx.Response(status, json={"accepted": 1})

    publisher = HttpPublisher(
        "http://fleet.test/", "evk_test", transport=httpx.MockTransport(handler), backoff_s=0.0
    )
    publisher.send([d.message for d in sim.deliveries[:30]])
    publisher.send([d.message for d in sim.deliveries[30:]])
    publisher.close()
    assert publisher.count == len(sim.deliveries) and publisher.requests == 3  # one retry
    got = [m for body in bodies for m in decode_batch(body).messages]
    assert [wire(m) for m in got] == [wire(d.message) for d in sim.deliveries]


def test_http_per_vehicle_keys_and_refusals(doc: dict[str, Any]) -> None:
    sim = short(doc)
    seen: dict[str, set[str]] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["authorization"].removeprefix("Bearer ")
        if key == "bad":
            return httpx.Response(403, json={"detail": "this key may not write telemetry"})
        seen.setdefault(key, set()).update(m["vehicle_id"] for m in json.loads(request.content))
        return httpx.Response(202)

    keys = {"van-01": "k1", "van-02": "k2"}
    publisher = HttpPublisher("http://t", keys, transport=httpx.MockTransport(handler))
    publisher.send([d.message for d in sim.deliveries])
    assert seen == {"k1": {"van-01"}, "k2": {"van-02"}}
    refused = HttpPublisher("http://t", "bad", transport=httpx.MockTransport(handler))
    with pytest.raises(PublishError, match="403 this key may not write telemetry"):
        refused.send([sim.deliveries[0].message])


def test_cli_dry_run_writes_json_lines(tmp_path: Path, doc: dict[str, Any]) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(doc), encoding="utf-8")
    runner = CliRunner()
    args = [
        "simulate",
        "--plan",
        str(plan),
        "--dry-run",
        "--start",
        "2026-03-02T07:50+01:00",
        "--duration-s",
        "1800",
        "--seed",
        "5",
        "--faults",
        "duplicate=0.1,low-battery=van-02",
    ]
    outputs = []
    for name in ("a.jsonl", "b.jsonl"):
        result = runner.invoke(app, [*args, "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        outputs.append((tmp_path / name).read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]  # same seed, same stream
    messages = [decode_message(line) for line in outputs[0].splitlines()]
    assert {m.vehicle_id for m in messages} == {"van-01", "van-02"}
    assert messages[0].timestamp.isoformat() >= "2026-03-02T07:50:00+01:00"
    # To standard output without --out; errors are one line and exit 2.
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and result.stdout.count("\n") >= len(messages)
    for extra, words in [
        ([], None),
        (["--faults", "jam=1"], "unknown fault"),
        (["--start", "soon"], "not a date-time"),
    ]:
        bad = [a for a in args if a != "--dry-run"] if not extra else [*args, *extra]
        result = runner.invoke(app, bad)
        assert result.exit_code == 2
        assert (words or "choose where to send") in result.output
    result = runner.invoke(app, ["simulate", "--plan", str(tmp_path / "nope.json"), "--dry-run"])
    assert result.exit_code == 2 and "nope.json" in result.output
