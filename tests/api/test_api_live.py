"""Live tracking through the service: a real planned and dispatched route is driven by the
simulator, its telemetry posted over HTTP with the van's key; the stop turns delivered, the
order too, events are stored and pushed over the WebSocket, and the customer's tracking
link shows the ETA window, then the delivery."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from api_world import API, World
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from evfleet.api.worker import run_worker
from evfleet.simulator.fleet import SimulationSettings, simulate_plan
from evfleet.store import models as m
from evfleet.store.db import Database
from evfleet.telemetry import message_to_dict

BACKENDS = ["sqlite", "postgresql"]


def _plan_and_dispatch(client: TestClient, world: World, database_url: str) -> dict[str, Any]:
    a = world.a
    h = a.headers("dispatcher")
    client.post(f"{API}/plans/jobs/{world.b.ids['job']}/cancel", headers=world.b.headers())
    assert run_worker(database_url, max_jobs=1, poll_s=0.01) == 1
    job = client.get(f"{API}/plans/jobs/{a.ids['job']}", headers=h).json()
    assert job["status"] == "succeeded", job
    plan = client.get(f"{API}/plans/{job['plan_id']}", headers=h).json()
    (route,) = plan["routes"]
    dispatch = {"assignments": [{"route_id": route["id"], "driver_id": str(a.users["driver"])}]}
    done = client.post(f"{API}/plans/{plan['id']}/dispatch", json=dispatch, headers=h)
    assert done.status_code == 200, done.text
    body: dict[str, Any] = done.json()
    return body


def _messages(db: Database, plan_id: str, vehicle_id: uuid.UUID) -> list[dict[str, object]]:
    with db.sessions() as session:
        plan = session.get(m.Plan, uuid.UUID(plan_id))
        assert plan is not None
        doc = plan.document
    # Yesterday: a fix from the future would not become the latest state.
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    start = dt.datetime.combine(yesterday, dt.time(7, 0), tzinfo=dt.UTC)
    number = doc["routes"][0]["number"]
    sim = simulate_plan(
        doc, SimulationSettings(interval_s=15.0, vehicle_ids={number: str(vehicle_id)}), start=start
    )
    return [message_to_dict(d.message) for d in sim.deliveries]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_a_simulated_route_is_tracked_stored_and_pushed(
    client: TestClient, world: World, database_url: str, db: Database
) -> None:
    a = world.a
    h = a.headers("dispatcher")
    plan = _plan_and_dispatch(client, world, database_url)
    (route,) = plan["routes"]
    (stop,) = [s for s in route["stops"] if s["kind"] == "delivery"]
    assert stop["status"] == "planned" and stop["actual_arrival_s"] is None
    order = client.get(f"{API}/orders/{a.ids['spare_order']}", headers=h).json()
    link = f"{API}/track/{order['tracking_token']}"
    before = client.get(link)
    assert before.status_code == 200
    assert set(before.json()) == {
        "status",
        "delivery_date",
        "eta_earliest_s",
        "eta_latest_s",
        "delivered_at_s",
        "updated_at",
    }
    assert before.json()["status"] == "dispatched"
    earliest, latest = before.json()["eta_earliest_s"], before.json()["eta_latest_s"]
    assert earliest <= stop["arrival_s"] <= latest and latest - earliest >= 1800

    messages = _messages(db, plan["id"], a.ids["vehicle"])
    assert len(messages) > 50
    van = {"Authorization": f"Bearer {a.credentials['vehicle']}"}
    with client.websocket_connect(f"{API}/live/ws?access_token={a.credentials['driver']}") as ws:
        snapshot = ws.receive_json()
        assert snapshot == {"type": "snapshot", "vehicles": []}
        first = client.post(f"{API}/telemetry", json=messages[:1], headers=van)
        assert first.json()["accepted"] == 1
        push = ws.receive_json()
        assert push["type"] == "vehicle" and push["vehicle_id"] == str(a.ids["vehicle"])
        assert push["route_id"] == route["id"] and push["seq"] == messages[0]["seq"]
        assert dt.datetime.fromisoformat(push["received_at"]) > dt.datetime.fromisoformat(
            push["timestamp"]
        )  # a fix of yesterday, received now
        kinds = []
        for i in range(1, len(messages), 200):
            sent = client.post(f"{API}/telemetry", json=messages[i : i + 200], headers=van)
            assert sent.status_code == 202, sent.text
        while "route-completed" not in kinds:
            push = ws.receive_json()
            if push["type"] == "event":
                kinds.append(push["kind"])
    assert kinds[0] == "route-started"
    assert kinds.index("stop-arrived") < kinds.index("stop-delivered")

    now = client.get(f"{API}/routes/{route['id']}", headers=a.headers("driver")).json()
    (done,) = [s for s in now["stops"] if s["kind"] == "delivery"]
    assert done["status"] == "delivered"
    assert done["actual_arrival_s"] <= done["actual_departure_s"]
    assert abs(done["actual_arrival_s"] - stop["arrival_s"]) < 3600
    order = client.get(f"{API}/orders/{a.ids['spare_order']}", headers=h).json()
    assert order["status"] == "delivered"
    assert [e["to_status"] for e in order["history"][-2:]] == ["out_for_delivery", "delivered"]
    assert order["history"][-1]["actor"] == "tracking"

    events = client.get(f"{API}/live/events", params={"plan_id": plan["id"]}, headers=h).json()
    stored = [e["kind"] for e in reversed(events["items"])]
    assert stored[0] == "route-started" and stored[-1] == "route-completed"
    delivered = next(e for e in events["items"] if e["kind"] == "stop-delivered")
    assert delivered["order_id"] == order["id"] and delivered["stop_id"] == done["id"]
    assert "delivered O-2" in delivered["message"]

    vans = client.get(f"{API}/live/vehicles", headers=h).json()["items"]
    assert [v["vehicle_id"] for v in vans] == [str(a.ids["vehicle"])]
    assert vans[0]["seq"] == max(int(str(x["seq"])) for x in messages)
    assert client.get(f"{API}/live/vehicles", headers=world.b.headers()).json()["items"] == []
    assert client.get(f"{API}/live/events", headers=world.b.headers()).json()["items"] == []

    after = client.get(link).json()
    assert after["status"] == "delivered"
    assert after["delivered_at_s"] == done["actual_departure_s"]
    assert after["eta_earliest_s"] is None


def test_tracking_links_do_not_leak(client: TestClient, world: World) -> None:
    assert client.get(f"{API}/track/short").status_code == 404
    missing = client.get(f"{API}/track/{'x' * 22}")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    order = client.get(f"{API}/orders/{world.a.ids['order']}", headers=world.a.headers()).json()
    other = client.get(f"{API}/orders/{world.b.ids['order']}", headers=world.b.headers()).json()
    assert order["tracking_token"] != other["tracking_token"]
    assert len(order["tracking_token"]) >= 22


def test_the_websocket_wants_a_valid_credential_of_a_tracking_role(
    client: TestClient, world: World
) -> None:
    for credential, code in (("nonsense", 4401), (world.a.credentials["vehicle"], 4403)):
        with (
            client.websocket_connect(f"{API}/live/ws?access_token={credential}") as ws,
            pytest.raises(WebSocketDisconnect) as closed,
        ):
            ws.receive_json()
        assert closed.value.code == code


def test_ui_config_is_public_and_has_no_tiles_by_default(client: TestClient) -> None:
    config = client.get(f"{API}/ui/config")
    assert config.status_code == 200
    assert config.json()["tile_url"] is None


def test_plan_geometry_draws_straight_legs_without_road_geometry(
    client: TestClient, world: World
) -> None:
    a = world.a
    body = client.get(f"{API}/plans/{a.ids['plan']}/geometry", headers=a.headers("viewer"))
    assert body.status_code == 200, body.text
    (route,) = body.json()["routes"]
    assert route["road"] is False and route["route_id"] == str(a.ids["route"])
    assert route["coordinates"][0] == route["coordinates"][-1] == [11.575, 48.137]
    other = client.get(f"{API}/plans/{a.ids['plan']}/geometry", headers=world.b.headers())
    assert other.status_code == 404
