"""Every 4xx is application/problem+json (RFC 9457) naming the offending fields, and hostile
input (NUL bytes, lone surrogates, huge numbers, bad JSON) is a 4xx, never a 500, on both
databases. The TestClient re-raises server errors, so a 500 would fail these tests loudly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_world import API, World
from fastapi import FastAPI
from fastapi.testclient import TestClient

BACKENDS = ["sqlite", "postgresql"]


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(body)
    assert body["status"] == status
    assert body["instance"] == response.request.url.path
    return body


def test_framework_errors_are_problems(client: TestClient, world: World) -> None:
    h = world.a.headers()
    assert _problem(client.get(f"{API}/nowhere", headers=h), 404)["title"] == "Not Found"
    assert _problem(client.put(f"{API}/depots", headers=h), 405)["type"] == "about:blank"
    broken = client.post(
        f"{API}/depots", content=b"{not json", headers={**h, "content-type": "application/json"}
    )
    body = _problem(broken, 422)
    assert body["errors"][0]["type"] == "json_invalid"


def test_validation_errors_name_each_field(client: TestClient, world: World) -> None:
    response = client.post(
        f"{API}/depots",
        json={"code": "", "latitude_deg": 91, "longitude_deg": "east", "typo": 1},
        headers=world.a.headers(),
    )
    body = _problem(response, 422)
    assert body["type"] == "urn:evfleet:problem:validation"
    locs = {tuple(e["loc"]): e["msg"] for e in body["errors"]}
    assert set(locs) == {
        ("body", "code"),
        ("body", "latitude_deg"),
        ("body", "longitude_deg"),
        ("body", "typo"),
    }
    assert "90" in locs[("body", "latitude_deg")]
    query = _problem(client.get(f"{API}/orders?limit=0", headers=world.a.headers()), 422)
    assert query["errors"][0]["loc"] == ["query", "limit"]


def test_core_rules_are_field_errors_too(client: TestClient, world: World) -> None:
    h = world.a.headers()
    custom = client.post(
        f"{API}/vehicle-types",
        json={"code": "van", "powertrain": "electric", "capacity_kg": 800},
        headers=h,
    )
    assert "battery_wh" in _problem(custom, 422)["detail"]
    unknown = client.post(
        f"{API}/vehicle-types", json={"code": "van", "catalogue_id": "tesla-semi"}, headers=h
    )
    assert _problem(unknown, 422)["errors"][0]["loc"] == ["body", "catalogue_id"]
    window = client.post(
        f"{API}/chargers",
        json={
            "code": "C9",
            "latitude_deg": 1,
            "longitude_deg": 1,
            "power_w": 1000,
            "open_s": 7200,
            "close_s": 3600,
        },
        headers=h,
    )
    assert _problem(window, 422)["errors"]
    duplicate = client.post(
        f"{API}/depots", json={"code": "D1", "latitude_deg": 1, "longitude_deg": 1}, headers=h
    )
    assert _problem(duplicate, 409)["errors"][0]["loc"] == ["body", "code"]
    in_use = client.delete(f"{API}/depots/{world.a.ids['depot']}", headers=h)
    assert _problem(in_use, 409)["type"] == "urn:evfleet:problem:in-use"


HOSTILE: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/depots", {"code": "D\x00", "latitude_deg": 1, "longitude_deg": 1}),
    ("POST", "/depots", {"code": "D9", "name": "a\x00b", "latitude_deg": 1, "longitude_deg": 1}),
    (
        "POST",
        "/orders",
        {"external_id": "x", "latitude_deg": 1, "longitude_deg": 1, "notes": "\x00"},
    ),
    ("POST", "/orders", {"external_id": "\ud800", "latitude_deg": 1, "longitude_deg": 1}),
    (
        "POST",
        "/orders",
        {"external_id": "y", "latitude_deg": 1, "longitude_deg": 1, "parcels": 10**30},
    ),
    ("POST", "/orders", {"external_id": "z", "latitude_deg": 1e400, "longitude_deg": 1}),
    ("POST", "/users", {"email": "a@b.c", "role": "admin", "password": "x" * 9 + "\x00"}),
    ("PATCH", "/organisations/current", {"name": "\ud83d"}),
    ("POST", "/plans/jobs", {"seed": -1}),
    ("POST", "/plans/jobs", {"time_limit_s": "NaN"}),
]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_hostile_input_is_a_4xx_not_a_500(app: FastAPI, client: TestClient, world: World) -> None:
    h = world.a.headers()
    for method, path, body in HOSTILE:
        raw = json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")
        response = client.request(
            method, API + path, content=raw, headers={**h, "content-type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (path, body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    for url in (
        f"{API}/orders?external_id=%00",
        f"{API}/orders?external_id=%ED%A0%80",
        f"{API}/orders?status=lost",
        f"{API}/orders?offset=99999999999999999999",
        f"{API}/depots/00000000-0000-0000-0000-00000000000%00",
    ):
        response = client.get(url, headers=h)
        assert response.status_code < 500, (url, response.text)
    headers: dict[str, Any]
    for headers in (
        {**h, "Idempotency-Key": "bad key with spaces"},
        {"Authorization": ("Bearer evt_" + "\u00e9" * 43).encode("latin-1")},
    ):
        response = client.post(
            f"{API}/orders",
            json={"external_id": "q", "latitude_deg": 1, "longitude_deg": 1},
            headers=headers,
        )
        assert 400 <= response.status_code < 500, response.text
    login = client.post(f"{API}/auth/token", data={"username": "a\x00@b.c", "password": "\x00"})
    assert login.status_code == 401


def test_the_openapi_document_declares_problems(app: FastAPI, client: TestClient) -> None:
    document = client.get(f"{API}/openapi.json").json()
    assert document["info"]["title"] == "evfleet"
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem["properties"])
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation["responses"]["4XX"]["content"]
            assert list(content) == ["application/problem+json"], (method, path)
    assert "securitySchemes" in document["components"]
