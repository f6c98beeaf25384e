"""Sustained telemetry ingest rate through Mosquitto into PostgreSQL and SQLite, zero loss.

N publisher processes publish pre-encoded VSS messages at QoS 1 (each waits for the
broker's PUBACKs, up to ``--inflight`` outstanding) to the broker at ``--mqtt``; the
ingester (:class:`evfleet.ingest.mqtt.MqttIngester`, batched writes, acknowledgement after
commit) consumes them into a throwaway PostgreSQL database and a SQLite file. At the end
the rows are counted: loss = sent - stored unique (vehicle, seq). The rate is stored rows
over the time from the first publish to the last commit.

    .venv/bin/python benchmarks/ingest_rate.py --messages 60000 --publishers 2
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import time
import uuid

import paho.mqtt.client as mqtt
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from evfleet.ingest.mqtt import BrokerAddress, MqttIngester, parse_mqtt_url
from evfleet.ingest.testing import Fleet, add_fleet, sample
from evfleet.ingest.writer import BatchWriter, TelemetryStore, VehicleDirectory
from evfleet.store.db import Database
from evfleet.store.telemetry_models import TelemetrySample
from evfleet.store.testing import throwaway_database
from evfleet.telemetry import encode_message


def _publish(
    address: BrokerAddress, items: list[tuple[str, str]], inflight: int, go: object
) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:8]}")
    client.max_inflight_messages_set(inflight)
    client.max_queued_messages_set(0)
    client.connect(address.host, address.port)
    client.loop_start()
    go.wait()  # type: ignore[attr-defined]
    infos = [client.publish(topic, payload, qos=1) for topic, payload in items]
    for info in infos:
        info.wait_for_publish(120)
    client.loop_stop()
    client.disconnect()


def _rows(db: Database) -> int:
    with db.engine.connect() as c:
        return int(c.scalar(sa.select(sa.func.count()).select_from(TelemetrySample)) or 0)


def _forget_session(address: BrokerAddress, client_id: str) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.connect(address.host, address.port, clean_start=True)
    client.disconnect()


def run(url: str, label: str, args: argparse.Namespace) -> dict[str, float]:
    address = parse_mqtt_url(args.mqtt)
    db = Database(url)
    db.migrate()
    fleet: Fleet = add_fleet(db, args.vehicles, f"bench {label}")
    messages = []
    for i in range(args.messages):
        van = fleet.vehicle_ids[i % args.vehicles]
        seq = i // args.vehicles + 1
        messages.append((fleet.topic(van), encode_message(sample(van, seq, soc_pct=80.0))))
    client_id = f"bench-ingest-{uuid.uuid4().hex[:8]}"
    writer = BatchWriter(
        TelemetryStore(db), directory=VehicleDirectory(db), batch_size=args.batch, max_delay_s=0.05
    )
    ingester = MqttIngester(
        address,
        writer,
        client_id=client_id,
        topic=f"evfleet/{fleet.organisation_id}/vehicles/+/telemetry",
        receive_maximum=60_000,
    )
    ingester.start()
    ingester.connected.wait(10)
    time.sleep(0.3)
    go = mp.Event()
    chunks = [messages[p :: args.publishers] for p in range(args.publishers)]
    procs = [
        mp.Process(target=_publish, args=(address, chunk, args.inflight, go)) for chunk in chunks
    ]
    for p in procs:
        p.start()
    time.sleep(1.0)  # connected
    started = time.monotonic()
    go.set()
    for p in procs:
        p.join()
    published = time.monotonic() - started
    deadline = time.monotonic() + 120
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        n = writer.totals.accepted
        if n >= args.messages:
            break
        if n != last:
            last, last_change = n, time.monotonic()
        elif time.monotonic() - last_change > 10:
            break  # stalled: count what arrived
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    ingester.stop()
    _forget_session(address, client_id)
    stored = _rows(db)
    db.dispose()
    result = {
        "sent": args.messages,
        "stored": stored,
        "loss": args.messages - stored,
        "publish_s": published,
        "total_s": elapsed,
        "rate": stored / elapsed,
    }
    print(
        f"{label:10s} sent {args.messages}  stored {stored}  loss {args.messages - stored}  "
        f"publish {published:.2f} s  end-to-end {elapsed:.2f} s  "
        f"rate {stored / elapsed:,.0f} msg/s  (db errors {writer.db_errors})",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mqtt", default="mqtt://127.0.0.1:1883")
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--sqlite-messages", type=int, default=None)
    parser.add_argument("--vehicles", type=int, default=200)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--inflight", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--backend", choices=["both", "postgresql", "sqlite"], default="both")
    args = parser.parse_args()
    print(f"cpus {os.cpu_count()}  load {os.getloadavg()}  QoS 1, {args.publishers} publishers")
    if args.backend in ("both", "postgresql"):
        with throwaway_database("evfleet_bench") as url:
            run(url, "postgresql", args)
    if args.backend in ("both", "sqlite"):
        if args.sqlite_messages:
            args.messages = args.sqlite_messages
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{tmp}/bench.db", "sqlite", args)


if __name__ == "__main__":
    main()
