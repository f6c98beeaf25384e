"""API load benchmark (issue 5): requests per second and latency of the REST service.

Usage (from the repository root)::

    python benchmarks/api_load.py [--databases sqlite postgresql] [--clients 50]
        [--duration 10] [--warmup 2] [--orders 30] [--plan-time-limit 2]
        [--max-requests 200000] [--idempotency-keys] [--breakdown]

For each database it starts a real ``evfleet serve`` process (uvicorn and the planning
worker, exactly as deployed) on ``127.0.0.1`` and a free port: on SQLite a file in a
temporary folder, on PostgreSQL a throwaway database created on the server named by
``EVFLEET_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``)
and dropped afterwards. Everything is seeded through the API: the bootstrap admin comes from
``EVFLEET_BOOTSTRAP_EMAIL``/``EVFLEET_BOOTSTRAP_PASSWORD``, logs in, makes a ``dispatcher``
API key, a depot, a vehicle type, vehicles and ``--orders`` orders, and queues a planning
job that the server's own worker plans; the plan it stores is the one read under load.

Then, for each scenario, ``--clients`` concurrent asyncio tasks, each with its own
keep-alive ``httpx.AsyncClient`` (one connection), send requests back to back with the API
key: ``--warmup`` seconds that are not counted, then ``--duration`` seconds that are. A
request counts in the window it started in; the rate divides the counted requests by the
time from the window's start until the last of them finished. An error is any answer other
than the expected status (200 for ``GET /plans/{id}``, 201 for ``POST /orders`` with a new
``external_id``) or a transport error. The scenarios:

* ``plan read``: ``GET /api/v1/plans/{id}`` (the plan with its routes and stops);
* ``order create``: ``POST /api/v1/orders`` with a unique ``external_id`` each;
* ``order create + Idempotency-Key`` (with ``--idempotency-keys``): the same with a fresh
  ``Idempotency-Key`` header each, so that the response is stored as well;
* with ``--breakdown``, first ``GET /health`` (no credentials, one query) and
  ``GET /auth/me`` (the API key checked, nothing else): the floors under the others.

Before the scenarios a *cold-key burst* sends ``--clients`` simultaneous ``GET /auth/me``
with a second API key the server has never verified (what the first moments after a
restart look like), then the same burst again once the key is cached.

The load generator runs in this process, on the same machine as the server (and the
database): on a small machine they compete for the CPUs, which the table's CPU columns
show. The figures describe this machine at this moment; compare rows of one run, never
runs from different machines. Requests go only to 127.0.0.1 and every scenario stops by
itself (``--duration``, ``--max-requests``, a 30 s timeout per request and a hard deadline).

Prints the machine, date, load average and command, then a Markdown table per run (copy it
with that header into ``docs/api.md``), the server's CPU share and CPU time per request,
new PostgreSQL connections, the burst, and a summary of the server log (warnings, errors,
exceptions). Exit status 0 when every request succeeded, 1 otherwise (warm-up included).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import math
import os
import platform
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
API = "/api/v1"
ADMIN_EMAIL = "load-admin@bench.test"
ADMIN_PASSWORD = "load-benchmark-password"
DATABASES = ("sqlite", "postgresql")
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout)\b[^ ]*: ")
Request = tuple[str, str, dict[str, Any]]
"""``(method, path relative to the API root, httpx keyword arguments)``."""


# ---------------------------------------------------------------------- measuring


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ascending ``sorted_values`` (nearest rank)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class LoadResult:
    """What one scenario measured: counted requests, errors, latencies, the window."""

    requests: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    warmup_requests: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    error_kinds: Counter[str] = field(default_factory=Counter)
    warmup_max_ms: float = 0.0
    probe_rates: list[float] = field(default_factory=list)
    """How fast each value of ``run_load``'s ``probe`` grew during the counted window, per
    second (CPU seconds per second: the share of a core)."""

    @property
    def clean(self) -> bool:
        """Whether requests were counted and nothing failed, in the warm-up either."""
        return self.requests > 0 and not self.error_kinds

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def pct(self, q: float) -> float:
        return percentile(sorted(self.latencies_ms), q)


async def run_load(
    make_request: Callable[[], Request],
    *,
    base_url: str,
    headers: dict[str, str] | None = None,
    clients: int,
    duration_s: float,
    warmup_s: float = 0.0,
    max_requests: int = 200_000,
    expect: frozenset[int] = frozenset({200}),
    timeout_s: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
    probe: Callable[[], Sequence[float]] | None = None,
) -> LoadResult:
    """Runs ``clients`` tasks that send ``make_request()`` back to back to ``base_url``.

    Each task has its own keep-alive client with one connection (``transport`` replaces the
    network, e.g. ``httpx.ASGITransport`` in tests). One shared client with ``clients``
    connections would do the same, but httpcore scans its whole pool on every request,
    which made the generator, not the server, the bottleneck at 50 connections.

    Requests started during the first ``warmup_s`` seconds are not counted; those started in
    the next ``duration_s`` seconds are. Every task stops when the window closes or when
    ``max_requests`` (warm-up included) have been sent. A request fails after ``timeout_s``
    (``ReadTimeout``), and the whole run ends at ``warmup_s + duration_s + timeout_s + 10``
    seconds at the latest (``hard deadline``). An error is an unexpected status or a
    transport error; those of the warm-up are kept apart (``warm-up ...`` in ``error_kinds``).
    A server that stops answering shows as few or no counted requests and warm-up errors.
    ``probe`` (e.g. CPU-time counters) is read when the counted window opens and when it
    closes; ``probe_rates`` holds the growth of each value per second in between.
    """
    result = LoadResult()
    clock = time.perf_counter
    sent = 0
    async with contextlib.AsyncExitStack() as stack:
        pool = [
            await stack.enter_async_context(
                async_client(base_url, 1, headers, timeout_s=timeout_s, transport=transport)
            )
            for _ in range(clients)
        ]
        start = clock()
        measure_from = start + warmup_s
        stop_at = measure_from + duration_s
        last_done = measure_from

        async def task(client: httpx.AsyncClient) -> None:
            nonlocal sent, last_done
            while True:
                began = clock()
                if began >= stop_at or sent >= max_requests:
                    return
                sent += 1
                method, path, kwargs = make_request()
                try:
                    response = await client.request(method, path, **kwargs)
                    ok = response.status_code in expect
                    kind = None if ok else f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    kind = type(exc).__name__
                done = clock()
                latency_ms = (done - began) * 1000.0
                if began < measure_from:
                    result.warmup_requests += 1
                    result.warmup_max_ms = max(result.warmup_max_ms, latency_ms)
                    if kind is not None:
                        result.error_kinds[f"warm-up {kind}"] += 1
                    continue
                result.requests += 1
                result.latencies_ms.append(latency_ms)
                last_done = max(last_done, done)
                if kind is not None:
                    result.errors += 1
                    result.error_kinds[kind] += 1

        async def watch() -> None:
            if probe is None:
                return
            await asyncio.sleep(max(0.0, measure_from - clock()))
            opened, first = clock(), probe()
            await asyncio.sleep(max(0.0, stop_at - clock()))
            span, last = clock() - opened, probe()
            result.probe_rates = [(b - a) / span for a, b in zip(first, last, strict=True)]

        try:
            await asyncio.wait_for(
                asyncio.gather(watch(), *(task(client) for client in pool)),
                timeout=warmup_s + duration_s + timeout_s + 10.0,
            )
        except TimeoutError:
            result.error_kinds["hard deadline"] += 1
    result.elapsed_s = last_done - measure_from if result.requests else 0.0
    return result


def fixed(method: str, path: str) -> Callable[[], Request]:
    """The same request every time."""

    def make() -> Request:
        return method, path, {}

    return make


def plan_read(plan_id: str) -> Callable[[], Request]:
    """``GET /plans/{plan_id}``, always the same plan."""
    return fixed("GET", f"/plans/{plan_id}")


def order_create(
    prefix: str, *, idempotency_keys: bool = False, seed: int = 0
) -> Callable[[], Request]:
    """``POST /orders`` with ``external_id`` ``<prefix>-<n>`` (unique) near Munich;
    with ``idempotency_keys`` each request also carries a fresh ``Idempotency-Key``."""
    counter = itertools.count(1)
    rng = random.Random(seed)

    def make() -> Request:
        n = next(counter)
        body = {
            "external_id": f"{prefix}-{n:08d}",
            "latitude_deg": round(48.08 + rng.random() * 0.12, 6),
            "longitude_deg": round(11.45 + rng.random() * 0.25, 6),
            "parcels": rng.randint(1, 4),
            "weight_kg": round(rng.uniform(0.5, 20.0), 1),
            "tw_early_s": 8 * 3600.0,
            "tw_late_s": 18 * 3600.0,
        }
        kwargs: dict[str, Any] = {"json": body}
        if idempotency_keys:
            kwargs["headers"] = {"Idempotency-Key": f"{prefix}-key-{n:08d}"}
        return "POST", "/orders", kwargs

    return make


def async_client(
    base_url: str,
    connections: int,
    headers: dict[str, str] | None = None,
    *,
    timeout_s: float = 60.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A keep-alive client with up to ``connections`` connections (no proxies from the
    environment: the server is on 127.0.0.1)."""
    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers or {},
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=httpx.Timeout(timeout_s),
        trust_env=False,
        transport=transport,
    )


# ---------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from "state" on


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (NaN where /proc is missing)."""
    fields = _proc_stat(pid)
    if fields is None:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def peak_rss_mib(pid: int) -> float:
    """The peak resident memory (VmHWM) of ``pid`` in MiB (NaN where /proc is missing)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return math.nan


class Server:
    """``evfleet serve`` on 127.0.0.1 and a free port, in its own process group.

    ``command`` replaces ``python -m evfleet.cli serve`` (it gets ``--host`` and ``--port``),
    for trying out a variant of the server with the same harness.
    """

    def __init__(
        self, database_url: str, folder: Path, command: Sequence[str] | None = None
    ) -> None:
        self.database_url = database_url
        self.command = list(command or [sys.executable, "-m", "evfleet.cli", "serve"])
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}{API}"
        self.log_path = folder / f"serve-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 120.0) -> None:
        env = {
            **os.environ,
            "EVFLEET_DATABASE_URL": self.database_url,
            "EVFLEET_BOOTSTRAP_EMAIL": ADMIN_EMAIL,
            "EVFLEET_BOOTSTRAP_PASSWORD": ADMIN_PASSWORD,
        }
        env.pop("EVFLEET_ALLOW_SIGNUP", None)
        command = [*self.command, "--host", HOST, "--port", str(self.port)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.base_url, timeout=5.0, trust_env=False) as http:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if http.get("/health").status_code == 200:
                        return
                if self.process.poll() is not None:
                    raise RuntimeError(f"evfleet serve exited:\n{self.log_tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"evfleet serve did not start:\n{self.log_tail()}")
                time.sleep(0.2)

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def problems_in_log(self, show: int = 3) -> str:
        """A summary of the server log: its length, how many warnings and errors it has, and
        the most frequent exceptions (the last line of each traceback) with their counts."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "no log"
        bad = sum(1 for line in lines if line.startswith(("WARNING", "ERROR")))
        exceptions = Counter(line for line in lines if _EXCEPTION_LINE.match(line))
        summary = f"{len(lines)} lines (uvicorn access log included), {bad} warnings/errors"
        if exceptions:
            summary += "; exceptions: " + "; ".join(
                f"{count} x {line[:200]}" for line, count in exceptions.most_common(show)
            )
        return summary

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        """SIGINT (uvicorn shuts down and stops the worker), then SIGKILL to the group."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        with contextlib.suppress(ProcessLookupError):  # the worker, if it outlived the server
            os.killpg(process.pid, signal.SIGTERM)


# ---------------------------------------------------------------------- seeding


@dataclass
class Seeded:
    """What the seeding made: the load key, a second (never used) key, the plan."""

    key: str
    cold_key: str
    plan_id: str
    plan_bytes: int
    routes: int
    stops: int
    orders: int


def _ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:500]}"
        )
    body: dict[str, Any] = response.json()
    return body


async def seed(
    http: httpx.AsyncClient, *, orders: int, vehicles: int = 3, plan_time_limit_s: float = 2.0
) -> Seeded:
    """Seeds through the API as the bootstrap admin and waits for the worker's plan."""
    login = await http.post(
        "/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    auth = {"Authorization": f"Bearer {_ok(login, 200)['access_token']}"}
    keys = [
        _ok(await http.post("/api-keys", json={"name": name, "role": "dispatcher"}, headers=auth))
        for name in ("load generator", "cold key")
    ]
    depot = _ok(
        await http.post(
            "/depots",
            json={
                "code": "MUC",
                "name": "Munich depot",
                "latitude_deg": 48.137,
                "longitude_deg": 11.575,
                "charge_points": [{"power_w": 22000, "count": vehicles}],
            },
            headers=auth,
        )
    )
    vtype = _ok(
        await http.post(
            "/vehicle-types",
            json={
                "code": "van",
                "powertrain": "electric",
                "capacity_kg": 150,  # about 15 orders a van: a plan of a few routes
                "battery_wh": 60000,
                "energy_wh_per_m": 0.25,
            },
            headers=auth,
        )
    )
    for k in range(vehicles):
        _ok(
            await http.post(
                "/vehicles",
                json={
                    "plate": f"M-EV {k + 1}",
                    "vehicle_type_id": vtype["id"],
                    "depot_id": depot["id"],
                },
                headers=auth,
            )
        )
    make = order_create("SEED", seed=1)
    for _ in range(orders):
        _, path, kwargs = make()
        _ok(await http.post(path, headers=auth, **kwargs))
    job = _ok(
        await http.post("/plans/jobs", json={"time_limit_s": plan_time_limit_s}, headers=auth),
        202,
    )
    deadline = time.monotonic() + 300.0
    while True:
        state = _ok(await http.get(f"/plans/jobs/{job['id']}", headers=auth), 200)
        if state["status"] not in ("queued", "running"):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the planning job did not finish: {state}")
        await asyncio.sleep(0.5)
    if state["status"] != "succeeded":
        raise RuntimeError(f"the planning job ended {state['status']}: {state.get('error')}")
    plan = await http.get(f"/plans/{state['plan_id']}", headers=auth)
    body = _ok(plan, 200)
    return Seeded(
        key=keys[0]["key"],
        cold_key=keys[1]["key"],
        plan_id=state["plan_id"],
        plan_bytes=len(plan.content),
        routes=len(body["routes"]),
        stops=sum(len(r["stops"]) for r in body["routes"]),
        orders=orders,
    )


# ---------------------------------------------------------------------- a run


@dataclass
class Row:
    """One line of the table; ``connections``: database connections the server opened
    during the scenario (PostgreSQL only, from ``pg_stat_database.sessions``)."""

    database: str
    scenario: str
    result: LoadResult
    connections: int | None = None

    @property
    def server_cpu(self) -> float:
        """The web process's CPU time per second of the counted window (1.0: one core)."""
        rates = self.result.probe_rates
        return rates[0] if rates else math.nan

    @property
    def client_cpu(self) -> float:
        """The load generator's CPU time per second of the counted window."""
        rates = self.result.probe_rates
        return rates[1] if len(rates) > 1 else math.nan


def sessions_counter(url: str) -> Callable[[], int | None]:
    """How many sessions PostgreSQL has opened on ``url``'s database so far (from the
    statistics collector, PostgreSQL 14 or later); ``None`` for SQLite or on failure."""
    if not url.startswith("postgres"):
        return lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from evfleet.store.db import normalise_url

    name = make_url(normalise_url(url)).database

    def count() -> int | None:
        engine = create_engine(normalise_url(url), poolclass=NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_stat_clear_snapshot()"))
                value = connection.scalar(
                    text("SELECT sessions FROM pg_stat_database WHERE datname = :name"),
                    {"name": name},
                )
        except Exception:
            return None
        finally:
            engine.dispose()
        return int(value) - 1 if value is not None else None  # less this very session

    return count


@dataclass
class Burst:
    """The cold-key burst: simultaneous first requests with a key not yet verified."""

    database: str
    cold_wall_ms: float
    cold_max_ms: float
    warm_wall_ms: float
    warm_max_ms: float
    errors: int
    rss_before_mib: float
    rss_after_mib: float


async def _burst(client: httpx.AsyncClient, key: str, clients: int) -> tuple[float, float, int]:
    headers = {"Authorization": f"Bearer {key}"}

    async def one() -> tuple[float, bool]:
        began = time.perf_counter()
        try:
            ok = (await client.get("/auth/me", headers=headers)).status_code == 200
        except httpx.HTTPError:
            ok = False
        return (time.perf_counter() - began) * 1000.0, ok

    began = time.perf_counter()
    outcomes = await asyncio.gather(*(one() for _ in range(clients)))
    wall = (time.perf_counter() - began) * 1000.0
    return wall, max(ms for ms, _ in outcomes), sum(1 for _, ok in outcomes if not ok)


@dataclass
class Options:
    clients: int = 50
    duration_s: float = 10.0
    warmup_s: float = 2.0
    orders: int = 30
    plan_time_limit_s: float = 2.0
    max_requests: int = 200_000
    idempotency_keys: bool = False
    breakdown: bool = False


async def measure_server(
    database: str, server: Server, options: Options, say: Callable[[str], None]
) -> tuple[list[Row], Burst, Seeded]:
    """Seeds ``server``, fires the cold-key burst, then runs every scenario."""
    async with async_client(server.base_url, options.clients) as setup:
        seeded = await seed(
            setup, orders=options.orders, plan_time_limit_s=options.plan_time_limit_s
        )
    say(
        f"  seeded: plan {seeded.plan_id} ({seeded.routes} routes, {seeded.stops} stops, "
        f"{seeded.plan_bytes} bytes), {seeded.orders} orders"
    )
    async with async_client(server.base_url, options.clients) as http:
        rss_before = peak_rss_mib(server.pid)
        cold = await _burst(http, seeded.cold_key, options.clients)
        warm = await _burst(http, seeded.cold_key, options.clients)
        burst = Burst(
            database,
            cold[0],
            cold[1],
            warm[0],
            warm[1],
            cold[2] + warm[2],
            rss_before,
            peak_rss_mib(server.pid),
        )
    say(
        f"  cold-key burst: {burst.cold_wall_ms:.0f} ms for {options.clients} requests "
        f"(warm: {burst.warm_wall_ms:.0f} ms); peak RSS {burst.rss_before_mib:.0f} -> "
        f"{burst.rss_after_mib:.0f} MiB"
    )
    scenarios: list[tuple[str, Callable[[], Request], frozenset[int]]] = []
    if options.breakdown:
        scenarios += [
            ("health (no credentials)", fixed("GET", "/health"), frozenset({200})),
            ("auth/me (API key only)", fixed("GET", "/auth/me"), frozenset({200})),
        ]
    scenarios += [
        ("plan read", plan_read(seeded.plan_id), frozenset({200})),
        ("order create", order_create(f"{database[:2].upper()}", seed=2), frozenset({201})),
    ]
    if options.idempotency_keys:
        scenarios.append(
            (
                "order create + Idempotency-Key",
                order_create(f"{database[:2].upper()}-IK", idempotency_keys=True, seed=3),
                frozenset({201}),
            )
        )
    rows = []
    auth = {"Authorization": f"Bearer {seeded.key}"}
    count_sessions = sessions_counter(server.database_url)
    for name, make, expect in scenarios:
        sessions = count_sessions()
        result = await run_load(
            make,
            base_url=server.base_url,
            headers=auth,
            clients=options.clients,
            duration_s=options.duration_s,
            warmup_s=options.warmup_s,
            max_requests=options.max_requests,
            expect=expect,
            probe=lambda: (cpu_seconds(server.pid), time.process_time()),
        )
        row = Row(database, name, result)
        after = count_sessions()
        if sessions is not None and after is not None:
            row.connections = after - sessions
        rows.append(row)
        say(
            f"  {name}: {result.requests} requests, {result.errors} errors, "
            f"{result.rps:.1f} req/s, p50 {result.pct(50):.1f} ms, p99 {result.pct(99):.1f} ms"
        )
    return rows, burst, seeded


@contextlib.contextmanager
def database_url(database: str, folder: Path) -> Iterator[str]:
    """A fresh database: a SQLite file in ``folder`` or a throwaway PostgreSQL database."""
    if database == "sqlite":
        yield f"sqlite:///{folder / 'load.db'}"
        return
    from evfleet.store.testing import postgres_unreachable, throwaway_database

    reason = postgres_unreachable()
    if reason is not None:
        raise RuntimeError(reason)
    with throwaway_database("evfleet_load") as url:
        yield url


def run_database(
    database: str, options: Options, say: Callable[[str], None]
) -> tuple[list[Row], Burst, Seeded, str]:
    """Starts a server on a fresh ``database``, measures it, stops it, removes the data;
    returns the rows, the burst, what was seeded and a summary of the server's log."""
    with tempfile.TemporaryDirectory(prefix="evfleet-load-") as tmp:
        folder = Path(tmp)
        with database_url(database, folder) as url:
            server = Server(url, folder)
            say(f"{database}: starting evfleet serve on {server.base_url}")
            try:
                server.start()
                outcome = asyncio.run(measure_server(database, server, options, say))
            except BaseException:
                say(server.log_tail())
                raise
            finally:
                server.stop()
            log = server.problems_in_log()
            say(f"  server log: {log}")
            return (*outcome, log)


# ---------------------------------------------------------------------- report


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024.0**2
    return math.nan


def _git_revision() -> str:
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return revision + (" (with uncommitted changes)" if dirty else "")


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "unknown"


def machine_lines(started: dt.datetime, load_before: str, load_after: str) -> list[str]:
    versions = []
    for module in ("fastapi", "uvicorn", "sqlalchemy", "httpx"):
        with contextlib.suppress(Exception):
            versions.append(f"{module} {__import__(module).__version__}")
    return [
        f"- date: {started:%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.node()}, {_cpu_model()}, {os.cpu_count()} CPUs, "
        f"{_memory_gib():.0f} GiB, {platform.system()} {platform.release()}",
        f"- software: Python {platform.python_version()}, {', '.join(versions)}; "
        f"evfleet {_git_revision()}",
        f"- load average (1, 5, 15 min) before: {load_before}; after: {load_after}",
        f"- command: {shlex.join([Path(sys.executable).name, *sys.argv])}",
    ]


def table(rows: Sequence[Row]) -> list[str]:
    lines = [
        "| database | scenario | requests | errors | rps | p50 ms | p99 ms | max ms "
        "| server CPU | server CPU ms/req | client CPU | DB connections opened |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        r = row.result
        connections = "-" if row.connections is None else row.connections
        if not r.requests:
            lines.append(
                f"| {row.database} | {row.scenario} | 0 | - | 0 | - | - | - | - | - | - "
                f"| {connections} |"
            )
            continue
        lines.append(
            f"| {row.database} | {row.scenario} | {r.requests} | {r.errors} | {r.rps:.1f} "
            f"| {r.pct(50):.1f} | {r.pct(99):.1f} | {max(r.latencies_ms, default=math.nan):.1f} "
            f"| {row.server_cpu:.0%} | {row.server_cpu / r.rps * 1000:.1f} "
            f"| {row.client_cpu:.0%} | {connections} |"
        )
    return lines


def burst_lines(bursts: Sequence[Burst], clients: int) -> list[str]:
    lines = [
        f"Cold-key burst ({clients} simultaneous GET /auth/me with an API key the server has "
        "not verified yet, then the same again):",
        "",
        "| database | cold: all done ms | cold: slowest ms | warm: all done ms "
        "| warm: slowest ms | errors | server peak RSS MiB before -> after |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for b in bursts:
        lines.append(
            f"| {b.database} | {b.cold_wall_ms:.0f} | {b.cold_max_ms:.0f} | {b.warm_wall_ms:.0f} "
            f"| {b.warm_max_ms:.0f} | {b.errors} | {b.rss_before_mib:.0f} -> "
            f"{b.rss_after_mib:.0f} |"
        )
    return lines


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=list(DATABASES))
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--duration", type=float, default=10.0, help="counted seconds (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="uncounted seconds first (2)")
    parser.add_argument("--orders", type=int, default=30, help="orders in the plan (30)")
    parser.add_argument("--plan-time-limit", type=float, default=2.0, help="planning job (2 s)")
    parser.add_argument(
        "--max-requests", type=int, default=200_000, help="per scenario, warm-up included"
    )
    parser.add_argument(
        "--idempotency-keys",
        action="store_true",
        help="also measure order creation with an Idempotency-Key header",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also measure GET /health (no credentials) and GET /auth/me (API key only)",
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.duration <= 0 or args.warmup < 0 or args.orders < 1:
        parser.error("--clients and --orders must be >= 1, --duration > 0, --warmup >= 0")
    if args.duration > 600 or args.warmup > 120:
        parser.error("--duration is at most 600 s and --warmup at most 120 s")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    options = Options(
        clients=args.clients,
        duration_s=args.duration,
        warmup_s=args.warmup,
        orders=args.orders,
        plan_time_limit_s=max(1.0, args.plan_time_limit),
        max_requests=args.max_requests,
        idempotency_keys=args.idempotency_keys,
        breakdown=args.breakdown,
    )
    started = dt.datetime.now(dt.UTC)
    load_before = load_average()

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    rows: list[Row] = []
    bursts: list[Burst] = []
    seeds: dict[str, Seeded] = {}
    logs: dict[str, str] = {}
    for database in args.databases:
        db_rows, burst, seeded, log = run_database(database, options, say)
        logs[database] = log
        rows += db_rows
        bursts.append(burst)
        seeds[database] = seeded
    lines = [
        f"API load: {options.clients} concurrent clients, {options.warmup_s:g} s warm-up, "
        f"{options.duration_s:g} s counted per scenario; evfleet serve (1 uvicorn process + "
        "planning worker), load generator on the same machine",
        "",
        *machine_lines(started, load_before, load_average()),
        *(
            f"- {db}: plan {s.routes} routes / {s.stops} stops / {s.plan_bytes} bytes of JSON"
            for db, s in seeds.items()
        ),
        "",
        *table(rows),
        "",
        "rps: counted requests / counted window; server CPU: the web process's CPU time during "
        "the counted window (100% = one core), and per request; client CPU: the load "
        "generator's; DB connections opened: new PostgreSQL sessions during the scenario "
        "(warm-up included).",
        "",
        *burst_lines(bursts, options.clients),
    ]
    errors = {f"{r.database}/{r.scenario}": dict(r.result.error_kinds) for r in rows}
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        lines += ["", f"Errors: {errors}"]
    lines += ["", *(f"Server log ({db}): {log}" for db, log in logs.items())]
    print("\n".join(lines))
    healthy = all(r.result.clean for r in rows) and not any(b.errors for b in bursts)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
