"""End-to-end latency from a van's MQTT publish to a dashboard's WebSocket, at fleet scale.

Set-up, all on this machine: the bundled Munich day is planned once (``evfleet example``);
its routes are replicated to ``--vehicles`` dispatched routes, one per van, stored in a
fresh database (SQLite file, or a throwaway PostgreSQL database with ``--database
postgresql``). A private Mosquitto is started. ``evfleet serve --mqtt-url`` runs as its own
process: the live path, an MQTT subscription feeding the tracker of every route, storing
stop statuses and events, and pushing to WebSocket clients. With ``--with-ingest``,
``evfleet ingest`` stores every message beside it, as in production. A publisher process
sends each van's fix ``--rate-hz`` times a second (QoS 1, evenly spread over the second,
positions from the simulator driving the van's route), stamped with the wall-clock time of
publishing; a WebSocket client logged in as the dispatcher records, for every ``vehicle``
push, the receive time minus that stamp. Fixes stamped in the ``--seconds`` after the
``--warmup`` are measured: p50, p99, max, and how many of those published arrived.

    .venv/bin/python benchmarks/live_latency.py --vehicles 1000 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime as dt
import json
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import websockets
from paho.mqtt.enums import CallbackAPIVersion

from _broker import free_port, own_broker
from evfleet.api.auth import issue_token
from evfleet.api.bootstrap import create_organisation
from evfleet.api.hashing import SecretHasher
from evfleet.simulator.fleet import SimulationSettings, simulate_plan
from evfleet.store import models as m
from evfleet.store.db import Database
from evfleet.store.testing import throwaway_database
from evfleet.telemetry import TelemetryMessage, encode_message, telemetry_topic

EVFLEET = str(Path(sys.executable).parent / "evfleet")
_HZ = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _HZ


def plan_document(folder: Path) -> dict[str, Any]:
    """The Munich example day, planned for 5 s (its plan.json)."""
    subprocess.run(
        [EVFLEET, "example", "--time-limit", "5", "--out", str(folder), "--workers", "1"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    doc: dict[str, Any] = json.loads((folder / "plan.json").read_text())
    return doc


def seed(db: Database, base: dict[str, Any], vehicles: int) -> tuple[str, uuid.UUID, list[str]]:
    """An organisation with ``vehicles`` vans, each driving a copy of one of ``base``'s
    routes in one dispatched plan; returns a login token, the org id and the van ids."""
    db.migrate()
    routes = base["routes"]
    doc = copy.deepcopy(base)
    doc["routes"] = []
    with db.sessions() as s:
        org, admin = create_organisation(
            s, SecretHasher(1, 1024, 1), "Bench", "bench@bench.test", "bench-password"
        )
        depot = m.Depot(organisation_id=org.id, code="D", latitude_deg=48.138, longitude_deg=11.412)
        vtype = m.VehicleType(organisation_id=org.id, code="ev", powertrain="electric")
        s.add_all([depot, vtype])
        s.flush()
        vans = [
            m.Vehicle(
                organisation_id=org.id,
                plate=f"B {i:04d}",
                vehicle_type_id=vtype.id,
                depot_id=depot.id,
            )
            for i in range(vehicles)
        ]
        s.add_all(vans)
        plan = m.Plan(organisation_id=org.id, status="dispatched", dispatched_at=m.utcnow())
        s.add(plan)
        s.flush()
        for i, van in enumerate(vans):
            route = copy.deepcopy(routes[i % len(routes)])
            route["index"], route["number"] = i, i + 1
            doc["routes"].append(route)
            row = m.PlanRoute(organisation_id=org.id, plan_id=plan.id, index=i, vehicle_id=van.id)
            s.add(row)
            s.flush()
            s.add_all(
                m.PlanStop(
                    organisation_id=org.id,
                    route_id=row.id,
                    sequence=int(stop["sequence"]),
                    kind="delivery" if stop["kind"] == "client" else "charging",
                    location=str(stop["id"]),
                    latitude_deg=stop["lat"],
                    longitude_deg=stop["lon"],
                    arrival_s=stop["arrival_s"],
                    departure_s=stop["departure_s"],
                )
                for stop in route["stops"]
            )
        plan.document = doc
        token, _row = issue_token(s, admin, 6 * 3600)
        s.commit()
        return token, org.id, [str(v.id) for v in vans]


def tracks(base: dict[str, Any], span_s: int) -> list[list[dict[str, Any]]]:
    """Per base route, ``span_s`` simulated fixes one second apart, an hour after the
    first departure."""
    numbers = [r["number"] for r in base["routes"]]
    first = min(r["start"]["time_s"] for r in base["routes"])
    day = dt.datetime.combine(dt.date.today(), dt.time(0), tzinfo=dt.UTC)
    sim = simulate_plan(
        base,
        SimulationSettings(interval_s=1.0, vehicle_ids={n: f"route-{n}" for n in numbers}),
        start=day + dt.timedelta(seconds=first + 3600),
        duration_s=span_s,
    )
    by_van: dict[str, list[dict[str, Any]]] = {}
    for d in sim.deliveries:
        msg = d.message
        by_van.setdefault(msg.vehicle_id, []).append(
            {
                "lat": msg.latitude_deg,
                "lon": msg.longitude_deg,
                "heading": msg.heading_deg,
                "speed": msg.speed_m_per_s,
                "soc": msg.soc_pct,
            }
        )
    return [by_van[f"route-{n}"] for n in numbers]


def publisher(
    port: int,
    org: str,
    vans: list[str],
    paths: list[list[dict[str, Any]]],
    run_s: float,
    rate_hz: float,
    measure_after_s: float,
    go: Any,
    sent: Any,
    began: Any,
) -> None:
    """Publishes each van's fix ``rate_hz`` times a second for ``run_s`` s (QoS 1, eight
    connections); ``sent`` counts those stamped after ``measure_after_s`` (and within
    ``run_s``), ``began`` is
    the start (epoch s)."""
    clients = []
    for _ in range(8):
        c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        c.max_inflight_messages_set(1000)
        c.max_queued_messages_set(0)
        c.connect("127.0.0.1", port)
        c.loop_start()
        clients.append(c)
    topics = [telemetry_topic(org, v) for v in vans]
    n = len(vans)
    period = 1.0 / rate_hz
    go.wait()
    t0 = time.time()
    began.value = t0
    count = 0
    tick = 0
    while time.time() - t0 < run_s:
        for i, van in enumerate(vans):
            delay = t0 + tick * period + period * i / n - time.time()
            if delay > 0:
                time.sleep(delay)
            path = paths[i % len(paths)]
            f = path[min(tick + i // len(paths), len(path) - 1)]
            msg = TelemetryMessage(
                vehicle_id=van,
                seq=tick + 1,
                timestamp=dt.datetime.now(dt.UTC),
                latitude_deg=f["lat"],
                longitude_deg=f["lon"],
                heading_deg=f["heading"],
                speed_m_per_s=f["speed"],
                soc_pct=f["soc"],
            )
            clients[i % len(clients)].publish(topics[i], encode_message(msg), qos=1)
            if t0 + measure_after_s <= msg.timestamp.timestamp() < t0 + run_s:
                count += 1
        tick += 1
    time.sleep(2)
    for c in clients:
        c.loop_stop()
        c.disconnect()
    sent.value = count


async def listen(url: str, until: float, out: dict[str, Any]) -> None:
    """Records (stamp, the service's receive time, our receive time) of every ``vehicle``
    push until ``until`` (epoch s)."""
    pushes: dict[tuple[str, int], tuple[float, float, float]] = {}
    async with websockets.connect(url, max_size=None) as ws:
        first = json.loads(await ws.recv())
        assert first["type"] == "snapshot"
        out["ready"] = True
        while time.time() < until:
            try:
                text = await asyncio.wait_for(ws.recv(), timeout=max(until - time.time(), 0.01))
            except TimeoutError:
                break
            now = time.time()
            push = json.loads(text)
            if push.get("type") != "vehicle":
                continue
            stamp = dt.datetime.fromisoformat(push["timestamp"].replace("Z", "+00:00"))
            got = dt.datetime.fromisoformat(push["received_at"]).timestamp()
            pushes.setdefault((push["vehicle_id"], push["seq"]), (stamp.timestamp(), got, now))
    out["pushes"] = pushes


def _wait_for_port(port: int) -> None:
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def run(
    args: argparse.Namespace, mqtt_url: str, database_url: str, tmp: Path, base: dict[str, Any]
) -> None:
    db = Database(database_url)
    token, org, vans = seed(db, base, args.vehicles)
    db.engine.dispose()
    run_s = args.warmup + args.seconds
    paths = tracks(base, int(run_s * args.rate_hz) + args.vehicles // len(base["routes"]) + 5)
    port = free_port()
    env = {**os.environ, "EVFLEET_DATABASE_URL": database_url}
    serve = subprocess.Popen(
        [EVFLEET, "serve", "--port", str(port), "--no-worker", "--mqtt-url", mqtt_url],
        env=env,
        stdout=(tmp / "serve.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    ingest = None
    if args.with_ingest:
        ingest = subprocess.Popen(
            [EVFLEET, "ingest", "--mqtt-url", mqtt_url, "--client-id", "bench-ingest"],
            env=env,
            stdout=(tmp / "ingest.log").open("w"),
            stderr=subprocess.STDOUT,
        )
    broker_port = int(mqtt_url.rsplit(":", 1)[1])
    try:
        _wait_for_port(port)
        time.sleep(1.0)  # the live feed's subscription
        ctx = mp.get_context("spawn")
        go, sent, began = ctx.Event(), ctx.Value("i", 0), ctx.Value("d", 0.0)
        pub = ctx.Process(
            target=publisher,
            args=(broker_port, str(org), vans, paths, run_s, args.rate_hz, args.warmup, go),
            kwargs={"sent": sent, "began": began},
        )
        pub.start()
        out: dict[str, Any] = {}
        url = f"ws://127.0.0.1:{port}/api/v1/live/ws?access_token={token}"
        start = time.time()
        cpu0 = _cpu_s(serve.pid)

        async def main() -> None:
            task = asyncio.create_task(listen(url, start + run_s + 10, out))
            while "ready" not in out and not task.done():
                await asyncio.sleep(0.05)
            go.set()
            await task

        asyncio.run(main())
        cpu = _cpu_s(serve.pid) - cpu0
        wall = time.time() - start
        pub.join(30)
    finally:
        for proc in (serve, ingest):
            if proc is not None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    low, high = began.value + args.warmup, began.value + run_s
    seen = [p for p in out["pushes"].values() if low <= p[0] < high]
    lat = sorted(now - stamp for stamp, _got, now in seen)
    to_service = sorted(got - stamp for stamp, got, _now in seen)
    if len(lat) < 2:
        print(f"{args.database:<10} no pushes measured (serve log: {tmp / 'serve.log'})")
        return
    q = statistics.quantiles(lat, n=100)
    print(
        f"{args.database:<10} {args.vehicles:>8} {args.rate_hz:>5.1f} "
        f"{'yes' if args.with_ingest else 'no':>6} {sent.value:>9} {len(lat):>9} "
        f"{q[49] * 1000:>8.1f} {q[98] * 1000:>8.1f} {lat[-1] * 1000:>8.1f} "
        f"{cpu / wall:>9.2f}"
    )
    if len(to_service) >= 2:
        q = statistics.quantiles(to_service, n=100)
        print(
            f"{'':<10} of which publish to the service's tracker: p50 {q[49] * 1000:.1f} ms, "
            f"p99 {q[98] * 1000:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--vehicles", type=int, default=1000)
    parser.add_argument("--rate-hz", type=float, default=1.0, help="fixes per van per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before measuring")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--with-ingest", action="store_true", help="run evfleet ingest too")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="evfleet-live-") as folder,
        own_broker() as (mqtt_url, _pid),
    ):
        tmp = Path(folder)
        base = plan_document(tmp / "plan")
        print(
            f"{'database':<10} {'vehicles':>8} {'Hz':>5} {'ingest':>6} {'published':>9} "
            f"{'received':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'serve CPU':>9}"
        )
        if args.database == "sqlite":
            run(args, mqtt_url, f"sqlite:///{tmp / 'live.db'}", tmp, base)
        else:
            with throwaway_database() as url:
                run(args, mqtt_url, url, tmp, base)


if __name__ == "__main__":
    main()
