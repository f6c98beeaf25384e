"""Sustained telemetry ingest rate through Mosquitto into PostgreSQL and SQLite, zero loss.

N publisher processes publish pre-encoded VSS messages at QoS 1 (each waits for the
broker's PUBACK of every message, up to ``--inflight`` outstanding) to a broker; the
ingester (:class:`evfleet.ingest.mqtt.MqttIngester`, batched writes, acknowledgement after
commit) consumes them into a throwaway PostgreSQL database and a SQLite file. At the end
the rows are counted: loss = sent - stored unique (vehicle, seq). The rate is stored rows
over the time from the first publish to the last commit.

The broker is a private Mosquitto started for the run (``max_queued_messages 0``,
``max_inflight_messages 0``: it queues without limit, as a production broker for this must),
or the one at ``--mqtt URL``. Publishers are ``raw`` (default: a minimal MQTT 3.1.1 QoS 1
client over a socket, so that the load generator takes little of the CPU the ingester
shares with it; in production the vans are elsewhere) or ``paho`` (paho-mqtt clients, as
a van's gateway might use). Everything runs on this machine: the CPU each part used is
printed after the rate (the database server's figure counts all its processes).

    .venv/bin/python benchmarks/ingest_rate.py --messages 60000 --publishers 2
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import socket
import struct
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from _broker import own_broker
from evfleet.ingest.mqtt import BrokerAddress, MqttIngester, parse_mqtt_url
from evfleet.ingest.testing import Fleet, add_fleet, sample
from evfleet.ingest.writer import BatchWriter, TelemetryStore, VehicleDirectory
from evfleet.store.db import Database
from evfleet.store.telemetry_models import TelemetrySample
from evfleet.store.testing import throwaway_database
from evfleet.telemetry import encode_message

_HZ = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------- publishers


def _publish_paho(
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


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _packet(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + _remaining_length(len(body)) + body


def _utf8(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("!H", len(data)) + data


def _publish_raw(
    address: BrokerAddress, items: list[tuple[str, str]], inflight: int, go: object
) -> None:
    """A minimal MQTT 3.1.1 publisher: QoS 1, at most ``inflight`` unacknowledged, every
    PUBACK checked against its packet id; raises if the broker closes the connection."""
    client_id = f"bench-raw-{uuid.uuid4().hex[:8]}"
    connect = _packet(
        0x10, _utf8("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 60) + _utf8(client_id)
    )
    packets = []
    for i, (topic, payload) in enumerate(items):
        mid = i % 65535 + 1
        packets.append(_packet(0x32, _utf8(topic) + struct.pack("!H", mid) + payload.encode()))
    sock = socket.create_connection((address.host, address.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(connect)
    connack = sock.recv(4)
    if len(connack) != 4 or connack[0] != 0x20 or connack[3] != 0:
        raise RuntimeError(f"CONNACK refused: {connack!r}")
    go.wait()  # type: ignore[attr-defined]
    n = len(packets)
    sent = acked = 0
    pending = b""
    while acked < n:
        if sent < n and sent - acked < inflight:
            upto = min(n, acked + inflight, sent + 200)
            sock.sendall(b"".join(packets[sent:upto]))
            sent = upto
            flags = socket.MSG_DONTWAIT if sent - acked < inflight and sent < n else 0
        else:
            flags = 0
        try:
            data = sock.recv(65536, flags)
        except BlockingIOError:
            continue
        if not data:
            raise RuntimeError(f"broker closed the connection after {acked} PUBACKs")
        pending += data
        whole = len(pending) - len(pending) % 4
        for offset in range(0, whole, 4):
            kind, size, mid = struct.unpack_from("!BBH", pending, offset)
            if kind != 0x40 or size != 2 or mid != acked % 65535 + 1:
                raise RuntimeError(f"unexpected packet {pending[offset : offset + 4]!r}")
            acked += 1
        pending = pending[whole:]
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()


# ------------------------------------------------------------------------ accounting


def _cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / _HZ
    return total


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _machine_busy() -> tuple[float, float]:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / _HZ, sum(values) / _HZ


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ------------------------------------------------------------------------------ runs


def _rows(db: Database) -> int:
    with db.engine.connect() as c:
        return int(c.scalar(sa.select(sa.func.count()).select_from(TelemetrySample)) or 0)


def _forget_session(address: BrokerAddress, client_id: str) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.connect(address.host, address.port, clean_start=True)
    client.disconnect()


def run(url: str, label: str, args: argparse.Namespace, broker_pid: int | None) -> dict[str, float]:
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
    target = _publish_raw if args.publisher == "raw" else _publish_paho
    chunks = [messages[p :: args.publishers] for p in range(args.publishers)]
    procs = [
        mp.Process(target=target, args=(address, chunk, args.inflight, go)) for chunk in chunks
    ]
    for p in procs:
        p.start()
    time.sleep(1.0)  # connected
    postgres = _postgres_pids()
    cpu0 = (
        time.process_time(),
        _children_cpu(),
        _cpu_of([broker_pid] if broker_pid else []),
        _cpu_of(postgres),
        _machine_busy(),
    )
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
        time.sleep(0.005)
    elapsed = time.monotonic() - started
    cpu1 = (
        time.process_time(),
        _children_cpu(),
        _cpu_of([broker_pid] if broker_pid else []),
        _cpu_of(postgres),
        _machine_busy(),
    )
    failed = [p.exitcode for p in procs if p.exitcode]
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
        f"rate {stored / elapsed:,.0f} msg/s  (db errors {writer.db_errors}"
        f"{', publisher exit codes ' + str(failed) if failed else ''})",
        flush=True,
    )
    busy = cpu1[4][0] - cpu0[4][0]
    capacity = cpu1[4][1] - cpu0[4][1]
    parts = {
        "ingester": cpu1[0] - cpu0[0],
        f"publishers ({args.publisher})": cpu1[1] - cpu0[1],
        "PostgreSQL (all)": cpu1[3] - cpu0[3],
    }
    if broker_pid:
        parts["broker"] = cpu1[2] - cpu0[2]
    per = ", ".join(
        f"{k} {v:.2f} s ({v / args.messages * 1e6:.0f} µs/msg)" for k, v in parts.items()
    )
    other = max(busy - sum(parts.values()), 0.0)
    print(
        f"{'':10s} CPU: {per}; whole machine busy {busy:.2f} of {capacity:.2f} cpu-s "
        f"(other work{'' if broker_pid else ', broker included,'} {other:.2f} s)",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mqtt", default=None, help="broker URL (default: a private Mosquitto)")
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--sqlite-messages", type=int, default=None)
    parser.add_argument("--vehicles", type=int, default=200)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--publisher", choices=["raw", "paho"], default="raw")
    parser.add_argument("--inflight", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--backend", choices=["both", "postgresql", "sqlite"], default="both")
    args = parser.parse_args()
    print(
        f"cpus {os.cpu_count()}  load {tuple(round(x, 2) for x in os.getloadavg())}  "
        f"QoS 1, {args.publishers} {args.publisher} publishers, batches of {args.batch}"
    )
    with _broker(args) as broker_pid:
        if args.backend in ("both", "postgresql"):
            with throwaway_database("evfleet_bench") as url:
                run(url, "postgresql", args, broker_pid)
        if args.backend in ("both", "sqlite"):
            if args.sqlite_messages:
                args.messages = args.sqlite_messages
            with tempfile.TemporaryDirectory() as tmp:
                run(f"sqlite:///{tmp}/bench.db", "sqlite", args, broker_pid)


@contextmanager
def _broker(args: argparse.Namespace) -> Iterator[int | None]:
    if args.mqtt is not None:
        yield None
        return
    with own_broker() as (url, pid):
        args.mqtt = url
        yield pid


if __name__ == "__main__":
    main()
