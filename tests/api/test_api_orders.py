"""Orders: single and CSV import, both idempotent; the status machine over HTTP (409s)."""

from __future__ import annotations

from typing import Any

import pytest
from api_world import API, World
from fastapi.testclient import TestClient

BACKENDS = ["sqlite", "postgresql"]
pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

CSV = (
    "id,latitude,longitude,parcels,weight_kg,tw_start,tw_end,service_s,notes\n"
    "A-1,48.10,11.50,2,10.5,09:00,12:00,120,ring twice\n"
    "A-2,48.11,11.51,1,3,,,,\n"
    "A-3,48.12,11.52,1,4,,,,\n"
)
BAD_CSV = (
    "id;lat;lon;Weight (kg)\n"
    "B-1;48,10;11,50;5\n"
    "B-2;148,0;11,50;5\n"
    "B-3;48,1;eleven;5\n"
    "B-1;48,1;11,5;5\n"
)


def _import(
    client: TestClient, h: dict[str, str], text: str, name: str = "orders.csv", **params: Any
) -> Any:
    files = {"file": (name, text.encode("utf-8"), "text/csv")}
    return client.post(f"{API}/orders/import", files=files, params=params, headers=h)


def test_a_single_order_is_idempotent_by_its_own_id(client: TestClient, world: World) -> None:
    h = world.a.headers("dispatcher")
    body = {"external_id": "S-1", "latitude_deg": 48.1, "longitude_deg": 11.5, "weight_kg": 2}
    first = client.post(f"{API}/orders", json=body, headers=h)
    assert first.status_code == 201 and first.json()["status"] == "received"
    again = client.post(f"{API}/orders", json=body, headers=h)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    changed = client.post(f"{API}/orders", json={**body, "weight_kg": 3}, headers=h)
    assert changed.status_code == 409
    assert changed.json()["errors"][0]["loc"] == ["body", "external_id"]
    listed = client.get(f"{API}/orders", params={"external_id": "S-1"}, headers=h).json()
    assert listed["total"] == 1
    # the same external id in another organisation is another order
    other = client.post(f"{API}/orders", json=body, headers=world.b.headers())
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


def test_an_idempotency_key_replays_the_first_response(client: TestClient, world: World) -> None:
    h = {**world.a.headers(), "Idempotency-Key": "req-42"}
    body = {"external_id": "K-1", "latitude_deg": 48.1, "longitude_deg": 11.5}
    first = client.post(f"{API}/orders", json=body, headers=h)
    client.delete(f"{API}/orders/{first.json()['id']}", headers=world.a.headers())
    replay = client.post(f"{API}/orders", json=body, headers=h)
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert (
        client.get(f"{API}/orders", params={"external_id": "K-1"}, headers=h).json()["total"] == 0
    )
    reused = client.post(f"{API}/orders", json={**body, "external_id": "K-2"}, headers=h)
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    # keys are per organisation
    theirs = client.post(
        f"{API}/orders", json=body, headers={**world.b.headers(), "Idempotency-Key": "req-42"}
    )
    assert theirs.status_code == 201 and "idempotent-replayed" not in theirs.headers


def test_importing_the_same_file_twice_creates_nothing_new(
    client: TestClient, world: World
) -> None:
    h = world.a.headers("dispatcher")
    first = _import(client, h, CSV)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["created"], report["unchanged"], report["rejected"]) == (3, 0, 0)
    a1 = client.get(f"{API}/orders", params={"external_id": "A-1"}, headers=h).json()["items"][0]
    assert (a1["tw_early_s"], a1["tw_late_s"], a1["service_s"], a1["notes"]) == (
        32400.0,
        43200.0,
        120.0,
        "ring twice",
    )
    second = _import(client, h, CSV).json()
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 3)
    assert [o["id"] for o in second["orders"]] == [o["id"] for o in report["orders"]]
    assert client.get(f"{API}/orders", headers=h).json()["total"] == 2 + 3  # world's 2 + 3
    changed = _import(client, h, CSV.replace("A-2,48.11", "A-2,48.13")).json()
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 2)


def test_bad_rows_are_reported_by_line_and_column(client: TestClient, world: World) -> None:
    h = world.a.headers()
    response = _import(client, h, BAD_CSV)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    locs = [e["loc"] for e in errors]
    assert ["file", 3, "latitude"] in locs
    assert ["file", 4, "longitude"] in locs
    assert ["file", 5, "id"] in locs
    assert client.get(f"{API}/orders", headers=h).json()["total"] == 2  # nothing imported
    partial = _import(client, h, BAD_CSV, partial=True).json()
    assert partial["created"] == 1 and partial["rejected"] == 3
    assert [o["external_id"] for o in partial["orders"]] == ["B-1"]
    assert {e["line"] for e in partial["errors"]} == {3, 4, 5}


def test_an_unreadable_or_empty_file_is_a_problem(client: TestClient, world: World) -> None:
    h = world.a.headers()
    empty = _import(client, h, "")
    assert empty.status_code == 422 and "empty file" in empty.text
    missing = _import(client, h, "name,weight\nx,1\n")
    assert missing.status_code == 422
    assert any("latitude" in e["msg"] for e in missing.json()["errors"])


def test_the_import_honours_an_idempotency_key(client: TestClient, world: World) -> None:
    h = {**world.a.headers(), "Idempotency-Key": "import-1"}
    first = _import(client, h, CSV)
    second = _import(client, h, CSV)
    assert second.json() == first.json() and second.headers["idempotent-replayed"] == "true"
    other = _import(client, h, CSV + "A-4,48.1,11.5,1,1,,,,\n")
    assert other.status_code == 422


def test_statuses_follow_the_life_cycle(client: TestClient, world: World) -> None:
    h = world.a.headers("dispatcher")
    order_id = world.a.ids["spare_order"]
    url = f"{API}/orders/{order_id}/status"
    wrong = client.post(url, json={"status": "delivered"}, headers=h)
    assert wrong.status_code == 409
    problem = wrong.json()
    assert problem["type"] == "urn:evfleet:problem:invalid-transition"
    assert problem["errors"][0]["loc"] == ["body", "status"]
    assert "allowed next: planned" in problem["detail"]
    for status in ("planned", "dispatched", "out_for_delivery", "failed", "returned"):
        response = client.post(url, json={"status": status, "reason": "test"}, headers=h)
        assert response.status_code == 200, response.text
    detail = client.get(f"{API}/orders/{order_id}", headers=h).json()
    assert detail["status"] == "returned" and detail["allowed_next"] == []
    history = client.get(f"{API}/orders/{order_id}/history", headers=h).json()
    assert [e["to_status"] for e in history] == [
        "received",
        "planned",
        "dispatched",
        "out_for_delivery",
        "failed",
        "returned",
    ]
    assert history[1]["from_status"] == "received" and history[1]["actor"].startswith("user:")
    final = client.post(url, json={"status": "received"}, headers=h)
    assert final.status_code == 409 and "final" in final.json()["detail"]
    bogus = client.post(url, json={"status": "lost"}, headers=h)
    assert bogus.status_code == 422


def test_only_received_orders_change_or_go(client: TestClient, world: World) -> None:
    h = world.a.headers()
    dispatched = world.a.ids["order"]
    assert (
        client.patch(f"{API}/orders/{dispatched}", json={"notes": "x"}, headers=h).status_code
        == 409
    )
    assert client.delete(f"{API}/orders/{dispatched}", headers=h).status_code == 409
    spare = world.a.ids["spare_order"]
    window = client.patch(
        f"{API}/orders/{spare}", json={"tw_early_s": 36000, "tw_late_s": 30000}, headers=h
    )
    assert window.status_code == 422 and window.json()["errors"][0]["loc"] == ["body", "tw_late_s"]
    ok = client.patch(f"{API}/orders/{spare}", json={"notes": "gate code 1234"}, headers=h)
    assert ok.status_code == 200 and ok.json()["notes"] == "gate code 1234"
    assert client.delete(f"{API}/orders/{spare}", headers=h).status_code == 204
    assert client.get(f"{API}/orders/{spare}", headers=h).status_code == 404


def test_rows_beyond_the_apis_limits_are_row_errors(client: TestClient, world: World) -> None:
    h = world.a.headers()
    long_id = "L" * 150
    text = (
        "id,latitude,longitude,parcels,service_s,notes\n"
        f"{long_id},48.1,11.5,1,60,\n"
        "P-1,48.1,11.5,1000000000000,60,\n"
        "P-2,48.1,11.5,1,90000,\n"
        "P-3,48.1,11.5,1,60,fine\n"
    )
    response = _import(client, h, text)
    assert response.status_code == 422
    columns = {e["loc"][-1] for e in response.json()["errors"]}
    assert columns == {"id", "parcels", "service_s"}
    partial = _import(client, h, text, partial=True).json()
    assert (partial["created"], partial["rejected"]) == (1, 3)
    nul = _import(client, h, "id,latitude,longitude\nN-1,48.1,11.5\nN\x00,48.1,11.5\n")
    assert nul.status_code == 422
