"""``evfleet serve`` for real: uvicorn and the worker process on a free port; a job queued
over HTTP is planned by the worker (not the web process) and followed to its plan."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_runs_the_api_and_the_worker(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "EVFLEET_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "EVFLEET_BOOTSTRAP_EMAIL": "boss@serve.test",
        "EVFLEET_BOOTSTRAP_PASSWORD": PASSWORD,
    }
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "evfleet.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if http.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
            assert http.get("/openapi.json").json()["info"]["title"] == "evfleet"
            token = http.post(
                "/auth/token", data={"username": "boss@serve.test", "password": PASSWORD}
            ).json()["access_token"]
            http.headers["Authorization"] = f"Bearer {token}"
            depot = http.post(
                "/depots", json={"code": "D", "latitude_deg": 48.14, "longitude_deg": 11.58}
            ).json()
            vtype = http.post(
                "/vehicle-types",
                json={
                    "code": "van",
                    "powertrain": "electric",
                    "capacity_kg": 800,
                    "battery_wh": 60000,
                    "energy_wh_per_m": 0.25,
                },
            ).json()
            vehicle = http.post(
                "/vehicles",
                json={"plate": "M S 1", "vehicle_type_id": vtype["id"], "depot_id": depot["id"]},
            )
            assert vehicle.status_code == 201, vehicle.text
            for k in range(3):
                http.post(
                    "/orders",
                    json={
                        "external_id": f"S-{k}",
                        "latitude_deg": 48.13 + k / 100,
                        "longitude_deg": 11.57,
                    },
                )
            job = http.post("/plans/jobs", json={"time_limit_s": 1})
            assert job.status_code == 202
            url = job.headers["location"].removeprefix("/api/v1")
            deadline = time.monotonic() + 120
            while (status := http.get(url).json())["status"] in ("queued", "running"):
                assert time.monotonic() < deadline, status
                time.sleep(0.3)
            assert status["status"] == "succeeded", status
            plan = http.get(f"/plans/{status['plan_id']}").json()
            assert sum(len(r["stops"]) for r in plan["routes"]) == 3
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
    text = (tmp_path / "serve.log").read_text()
    assert "planning job" in text and "succeeded" in text
