"""Planning jobs end to end: queue (202), the worker plans in its own loop, progress over
SSE, cancel, restart recovery; the stored plan is dispatched to vehicles and drivers."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from api_world import API, World
from fastapi.testclient import TestClient

from evfleet.api.worker import INTERRUPTED, recover_interrupted_jobs, run_worker
from evfleet.store import models as m
from evfleet.store.db import Database

BACKENDS = ["sqlite", "postgresql"]


def _events(text: str) -> list[tuple[str, str]]:
    """(event, data) of each server-sent event in ``text``."""
    found = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            found.append((fields["event"], fields["data"]))
    return found


def _job(client: TestClient, h: dict[str, str], job_id: Any) -> dict[str, Any]:
    response = client.get(f"{API}/plans/jobs/{job_id}", headers=h)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_a_job_becomes_a_plan_that_is_dispatched(
    client: TestClient, world: World, database_url: str
) -> None:
    a = world.a
    h = a.headers("dispatcher")
    job_id = a.ids["job"]  # queued by the world: plans A's one received order, O-2
    assert _job(client, h, job_id)["status"] == "queued"
    client.post(f"{API}/plans/jobs/{world.b.ids['job']}/cancel", headers=world.b.headers())

    assert run_worker(database_url, max_jobs=1, poll_s=0.01) == 1

    job = _job(client, h, job_id)
    assert job["status"] == "succeeded", job
    assert job["progress"]["iteration"] >= 0 and job["progress"]["stage"]
    stream = client.get(f"{API}/plans/jobs/{job_id}/events", headers=h)
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert [e for e, _ in _events(stream.text)] == ["end"]

    plan = client.get(f"{API}/plans/{job['plan_id']}", headers=a.headers("viewer")).json()
    assert plan["status"] == "draft" and plan["feasible"] and plan["job_id"] == str(job_id)
    assert plan["kpis"]["vehicles"] == 1 and plan["kpis"]["distance_m"] > 0
    (route,) = plan["routes"]
    assert route["vehicle_id"] == str(a.ids["vehicle"])  # suggested: the group's vehicle
    assert route["vehicle_type_id"] == str(a.ids["vehicle_type"])
    assert [s["order_id"] for s in route["stops"] if s["kind"] == "delivery"] == [
        str(a.ids["spare_order"])
    ]
    assert route["stops"][0]["arrival_s"] >= 8 * 3600
    order = client.get(f"{API}/orders/{a.ids['spare_order']}", headers=h).json()
    assert order["status"] == "planned"
    assert order["history"][-1]["actor"] == f"job:{job_id}"

    dispatch = {"assignments": [{"route_id": route["id"], "driver_id": str(a.users["driver"])}]}
    wrong = client.post(
        f"{API}/plans/{plan['id']}/dispatch",
        json={"assignments": [{"route_id": route["id"], "driver_id": str(a.users["viewer"])}]},
        headers=h,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["loc"] == ["body", "assignments", 0, "driver_id"]
    done = client.post(f"{API}/plans/{plan['id']}/dispatch", json=dispatch, headers=h)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "dispatched"
    assert done.json()["routes"][0]["driver_id"] == str(a.users["driver"])
    order = client.get(f"{API}/orders/{a.ids['spare_order']}", headers=h).json()
    assert order["status"] == "dispatched"
    mine = client.get(f"{API}/routes", headers=a.headers("driver")).json()
    assert route["id"] in {r["id"] for r in mine["items"]}
    again = client.post(f"{API}/plans/{plan['id']}/dispatch", json=dispatch, headers=h)
    assert again.status_code == 409
    assert client.post(f"{API}/plans/{plan['id']}/discard", headers=h).status_code == 409


def test_discarding_a_draft_gives_its_orders_back(
    client: TestClient, world: World, database_url: str
) -> None:
    a = world.a
    h = a.headers()
    client.post(f"{API}/plans/jobs/{world.b.ids['job']}/cancel", headers=world.b.headers())
    run_worker(database_url, max_jobs=1, poll_s=0.01)
    plan_id = _job(client, h, a.ids["job"])["plan_id"]
    discarded = client.post(f"{API}/plans/{plan_id}/discard", headers=h)
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"
    order = client.get(f"{API}/orders/{a.ids['spare_order']}", headers=h).json()
    assert [e["to_status"] for e in order["history"]] == ["received", "planned", "received"]


def test_queueing_answers_202_with_a_location(client: TestClient, world: World) -> None:
    h = {**world.a.headers(), "Idempotency-Key": "job-1"}
    response = client.post(f"{API}/plans/jobs", json={"time_limit_s": 2, "seed": 7}, headers=h)
    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == f"{API}/plans/jobs/{job['id']}"
    assert job["status"] == "queued" and job["params"]["seed"] == 7
    assert job["created_by"] == "user:admin@alpha.test"
    replay = client.post(f"{API}/plans/jobs", json={"time_limit_s": 2, "seed": 7}, headers=h)
    assert replay.status_code == 202 and replay.json()["id"] == job["id"]
    bad = client.post(
        f"{API}/plans/jobs", json={"shift_start_s": 50000, "shift_end_s": 40000}, headers=h
    )
    assert bad.status_code == 422
    active = client.get(f"{API}/plans/jobs", params={"active": True}, headers=h).json()
    assert active["total"] == 2


def test_events_stream_the_job_until_the_wait_ends(client: TestClient, world: World) -> None:
    h = world.a.headers("viewer")
    url = f"{API}/plans/jobs/{world.a.ids['job']}/events"
    response = client.get(url, params={"max_wait_s": 0.2}, headers=h)
    assert response.status_code == 200
    events = _events(response.text)
    assert events and events[0][0] == "job" and '"status":"queued"' in events[0][1]


def test_cancelling_a_queued_job_is_immediate_and_final(client: TestClient, world: World) -> None:
    h = world.a.headers("dispatcher")
    url = f"{API}/plans/jobs/{world.a.ids['job']}/cancel"
    response = client.post(url, headers=h)
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    again = client.post(url, headers=h)
    assert again.status_code == 409 and again.json()["type"] == "urn:evfleet:problem:job-state"


def test_a_running_job_stops_when_cancelled(
    client: TestClient, world: World, database_url: str
) -> None:
    h = world.a.headers()
    client.post(f"{API}/plans/jobs/{world.a.ids['job']}/cancel", headers=h)
    client.post(f"{API}/plans/jobs/{world.b.ids['job']}/cancel", headers=world.b.headers())
    job_id = client.post(f"{API}/plans/jobs", json={"time_limit_s": 60}, headers=h).json()["id"]
    worker = threading.Thread(target=run_worker, args=(database_url,), kwargs={"max_jobs": 1})
    worker.start()
    deadline = time.monotonic() + 60
    while _job(client, h, job_id)["status"] != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    response = client.post(f"{API}/plans/jobs/{job_id}/cancel", headers=h)
    assert response.status_code == 202 and response.json()["cancel_requested"]
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert time.monotonic() - started < 30
    job = _job(client, h, job_id)
    assert job["status"] == "cancelled" and job["plan_id"] is None
    order = client.get(f"{API}/orders/{world.a.ids['spare_order']}", headers=h).json()
    assert order["status"] == "received"


def test_jobs_left_running_by_a_restart_fail_with_a_reason(
    client: TestClient, world: World, db: Database
) -> None:
    job_id = world.a.ids["job"]
    with db.session() as session:
        job = session.get(m.PlanningJob, job_id)
        assert job is not None
        job.status = "running"
    assert recover_interrupted_jobs(db) == 1
    job_out = _job(client, world.a.headers(), job_id)
    assert job_out["status"] == "failed" and job_out["error"] == INTERRUPTED


def test_a_job_with_nothing_to_plan_fails_with_the_reason(
    client: TestClient, world: World, database_url: str
) -> None:
    h = world.a.headers()
    client.post(f"{API}/plans/jobs/{world.a.ids['job']}/cancel", headers=h)
    client.post(f"{API}/plans/jobs/{world.b.ids['job']}/cancel", headers=world.b.headers())
    dispatched = str(world.a.ids["order"])
    job_id = client.post(f"{API}/plans/jobs", json={"order_ids": [dispatched]}, headers=h).json()[
        "id"
    ]
    run_worker(database_url, max_jobs=1, poll_s=0.01)
    job = _job(client, h, job_id)
    assert job["status"] == "failed" and "no received orders" in job["error"]


def test_unknown_plans_and_routes_are_404(client: TestClient, world: World) -> None:
    h = world.a.headers()
    for path in ("plans", "routes", "plans/jobs"):
        response = client.get(f"{API}/{path}/{uuid.uuid4()}", headers=h)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
