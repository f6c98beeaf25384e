"""The load benchmark's client code (benchmarks/api_load.py) against the app: no errors.

Not a timing test: the fast case drives the app in-process (httpx's ASGI transport) with the
benchmark's own load generator and request makers for about a second each; the slow case
runs the whole benchmark briefly against a real ``evfleet serve`` on SQLite.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from api_world import API, World
from fastapi import FastAPI
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]


def _load_benchmark() -> ModuleType:
    name = "evfleet_benchmarks_api_load"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "api_load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


bench = _load_benchmark()


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert bench.percentile(values, 50) == 50.0
    assert bench.percentile(values, 99) == 99.0
    assert bench.percentile(values, 100) == 100.0
    assert bench.percentile([7.0], 99) == 7.0
    assert bench.percentile([], 50) != bench.percentile([], 50)  # NaN


def test_load_generator_runs_without_errors(app: FastAPI, client: TestClient, world: World) -> None:
    key = client.post(
        f"{API}/api-keys", json={"name": "load", "role": "dispatcher"}, headers=world.a.headers()
    )
    assert key.status_code == 201, key.text
    plan_id = str(world.a.ids["plan"])

    async def scenario(make: object, expect: frozenset[int]) -> object:
        return await bench.run_load(
            make,
            base_url=f"http://testserver{API}",
            headers={"Authorization": f"Bearer {key.json()['key']}"},
            clients=5,
            duration_s=1.0,
            warmup_s=0.2,
            max_requests=2000,
            expect=expect,
            transport=httpx.ASGITransport(app=app),
            probe=lambda: (time.process_time(),),
        )

    read = asyncio.run(scenario(bench.plan_read(plan_id), frozenset({200})))
    assert read.errors == 0, read.error_kinds
    assert read.requests > 0 and len(read.latencies_ms) == read.requests
    assert not read.error_kinds
    assert read.rps > 0 and read.pct(50) <= read.pct(99)
    assert len(read.probe_rates) == 1 and read.probe_rates[0] >= 0.0  # CPU share, sampled

    write = asyncio.run(scenario(bench.order_create("SMOKE"), frozenset({201})))
    assert write.errors == 0, write.error_kinds
    assert write.requests > 0 and not write.error_kinds
    made = client.get(f"{API}/orders", params={"limit": 1}, headers=world.a.headers())
    # every request, warm-up included, created one order (plus the world's two)
    assert made.json()["total"] == write.requests + write.warmup_requests + 2

    replayed = asyncio.run(
        scenario(bench.order_create("SMOKE-IK", idempotency_keys=True), frozenset({201}))
    )
    assert replayed.errors == 0, replayed.error_kinds


def test_load_generator_counts_unexpected_statuses_as_errors(app: FastAPI) -> None:
    async def scenario() -> object:
        return await bench.run_load(  # no credentials: every plan read is a 401
            bench.plan_read("00000000-0000-0000-0000-000000000000"),
            base_url=f"http://testserver{API}",
            clients=2,
            duration_s=0.3,
            max_requests=50,
            transport=httpx.ASGITransport(app=app),
        )

    result = asyncio.run(scenario())
    assert result.requests > 0
    assert result.errors == result.requests
    assert set(result.error_kinds) == {"HTTP 401"}


@pytest.mark.slow
def test_benchmark_end_to_end_on_a_real_server(capsys: pytest.CaptureFixture[str]) -> None:
    """The whole script, briefly: evfleet serve on SQLite, seeding, the burst, both scenarios."""
    status = bench.main(
        [
            "--databases",
            "sqlite",
            "--clients",
            "5",
            "--duration",
            "1",
            "--warmup",
            "0.2",
            "--orders",
            "6",
            "--plan-time-limit",
            "1",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0, out
    assert "| sqlite | plan read |" in out and "| sqlite | order create |" in out
    assert "Errors:" not in out


def test_a_hundred_clients_at_once_do_not_stall_the_service(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """More requests in flight than pooled database connections and worker threads together
    used to deadlock (threads waiting for connections held by requests that could not get a
    thread); the app now admits only as many requests as it has connections for."""
    key = client.post(
        f"{API}/api-keys", json={"name": "load", "role": "dispatcher"}, headers=world.a.headers()
    )
    assert key.status_code == 201, key.text
    result = asyncio.run(
        bench.run_load(
            bench.plan_read(str(world.a.ids["plan"])),
            base_url=f"http://testserver{API}",
            headers={"Authorization": f"Bearer {key.json()['key']}"},
            clients=100,
            duration_s=1.5,
            warmup_s=0.2,
            max_requests=5000,
            expect=frozenset({200}),
            transport=httpx.ASGITransport(app=app),
            probe=lambda: (time.process_time(),),
        )
    )
    assert result.errors == 0, result.error_kinds
    assert result.requests >= 100
