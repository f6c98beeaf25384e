"""Access control, table-driven over every operation in the OpenAPI document.

``ACCESS`` is the whole policy: for each operation, the roles that may call it
(``PUBLIC``: no credential needed). The tests check that the table covers every route, that
every non-public route answers 401 without a credential, 403 to each role outside its set
and never 401/403 to one inside it, and that another organisation's ids are 404 for every
role and every route (nothing of theirs is read or changed). They run on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from api_world import API, ROLES, Org, World, bearer
from fastapi import FastAPI
from fastapi.testclient import TestClient

BACKENDS = ["sqlite", "postgresql"]
PUBLIC = frozenset({"public"})
A, D, V, R, K = "admin", "dispatcher", "viewer", "driver", "vehicle"
EVERYONE = frozenset(ROLES)
READERS = frozenset({A, D, V})
WRITERS = frozenset({A, D})

ACCESS: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/health"): PUBLIC,
    ("POST", "/auth/token"): PUBLIC,
    ("POST", "/auth/logout"): EVERYONE,
    ("GET", "/auth/me"): EVERYONE,
    ("POST", "/organisations"): PUBLIC,
    ("GET", "/organisations/current"): frozenset({A, D, V, R}),
    ("PATCH", "/organisations/current"): frozenset({A}),
    ("GET", "/organisations/{organisation_id}"): frozenset({A, D, V, R}),
    ("GET", "/users"): WRITERS,
    ("POST", "/users"): frozenset({A}),
    ("GET", "/users/{user_id}"): WRITERS,
    ("PATCH", "/users/{user_id}"): frozenset({A}),
    ("DELETE", "/users/{user_id}"): frozenset({A}),
    ("GET", "/api-keys"): frozenset({A}),
    ("POST", "/api-keys"): frozenset({A}),
    ("GET", "/api-keys/{key_id}"): frozenset({A}),
    ("DELETE", "/api-keys/{key_id}"): frozenset({A}),
    ("GET", "/catalogue/vehicles"): READERS,
    ("GET", "/plans/jobs"): READERS,
    ("POST", "/plans/jobs"): WRITERS,
    ("GET", "/plans/jobs/{job_id}"): READERS,
    ("POST", "/plans/jobs/{job_id}/cancel"): WRITERS,
    ("GET", "/plans/jobs/{job_id}/events"): READERS,
    ("GET", "/plans"): READERS,
    ("GET", "/plans/{plan_id}"): READERS,
    ("POST", "/plans/{plan_id}/dispatch"): WRITERS,
    ("POST", "/plans/{plan_id}/discard"): WRITERS,
    ("GET", "/routes"): frozenset({A, D, V, R}),
    ("GET", "/routes/{route_id}"): frozenset({A, D, V, R}),
    ("GET", "/orders"): READERS,
    ("POST", "/orders"): WRITERS,
    ("POST", "/orders/import"): WRITERS,
    ("POST", "/telemetry"): frozenset({K}),
    ("GET", "/plans/{plan_id}/geometry"): frozenset({A, D, V, R}),
    ("GET", "/live/vehicles"): frozenset({A, D, V, R}),
    ("GET", "/live/events"): frozenset({A, D, V, R}),
    ("GET", "/track/{token}"): PUBLIC,
    ("GET", "/ui/config"): PUBLIC,
    ("GET", "/orders/{order_id}"): READERS,
    ("PATCH", "/orders/{order_id}"): WRITERS,
    ("DELETE", "/orders/{order_id}"): WRITERS,
    ("POST", "/orders/{order_id}/status"): frozenset({A, D, R}),
    ("GET", "/orders/{order_id}/history"): READERS,
    ("GET", "/vehicles"): frozenset({A, D, V, K}),
    ("POST", "/vehicles"): WRITERS,
    ("GET", "/vehicles/{vehicle_id}"): frozenset({A, D, V, K}),
    ("PATCH", "/vehicles/{vehicle_id}"): WRITERS,
    ("DELETE", "/vehicles/{vehicle_id}"): WRITERS,
}
for resource, key in (
    ("depots", "depot_id"),
    ("vehicle-types", "type_id"),
    ("chargers", "charger_id"),
):
    ACCESS[("GET", f"/{resource}")] = READERS
    ACCESS[("POST", f"/{resource}")] = WRITERS
    ACCESS[("GET", f"/{resource}/{{{key}}}")] = READERS
    ACCESS[("PATCH", f"/{resource}/{{{key}}}")] = WRITERS
    ACCESS[("DELETE", f"/{resource}/{{{key}}}")] = WRITERS

PARAM_RESOURCE = {
    "organisation_id": "organisation",
    "user_id": "user",
    "key_id": "api_key",
    "depot_id": "depot",
    "type_id": "vehicle_type",
    "vehicle_id": "vehicle",
    "charger_id": "charger",
    "order_id": "order",
    "plan_id": "plan",
    "route_id": "route",
    "job_id": "job",
}
"""Which resource each path parameter names."""


def operations(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path below /api/v1) of every operation in the OpenAPI document."""
    ops = []
    for path, item in app.openapi()["paths"].items():
        for method in item:
            ops.append((method.upper(), path.removeprefix(API)))
    return sorted(ops)


def fill(path: str, ids: dict[str, uuid.UUID] | None) -> str:
    """The path with each parameter replaced by ``ids``' resource (``None``: random ids)."""

    def value(match: re.Match[str]) -> str:
        if ids is None:
            return str(uuid.uuid4())
        return str(ids[PARAM_RESOURCE[match.group(1)]])

    return API + re.sub(r"\{(\w+)\}", value, path)


BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/orders/{order_id}/status"): {"status": "out_for_delivery"},
}
"""Valid bodies where ``{}`` is not (so that a request reaches the handler's look-up)."""


def call(client: TestClient, method: str, url: str, headers: dict[str, str], path: str = "") -> Any:
    if method in {"POST", "PATCH"}:
        body = BODIES.get((method, path), {})
        return client.request(method, url, json=body, headers=headers)
    return client.request(method, url, headers=headers)


def org_ids(org: Org) -> dict[str, uuid.UUID]:
    return {**org.ids, "organisation": org.id}


def test_the_table_covers_every_operation(app: FastAPI) -> None:
    assert set(operations(app)) == set(ACCESS)


def test_without_credentials_every_private_operation_is_401(
    app: FastAPI, client: TestClient
) -> None:
    for method, path in operations(app):
        if ACCESS[(method, path)] == PUBLIC:
            continue
        for headers in (
            {},
            bearer("evt_" + "x" * 43),
            bearer("nonsense"),
            {"Authorization": "Basic eA=="},
        ):
            response = call(client, method, fill(path, None), headers)
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["status"] == 401


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_each_role_gets_exactly_its_operations(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """Random ids and empty bodies: a permitted role reaches the handler (404/422/...),
    any other role is stopped with 403 first."""
    for method, path in operations(app):
        allowed = ACCESS[(method, path)]
        if allowed == PUBLIC or path == "/auth/logout":
            continue
        for role in ROLES:
            response = call(client, method, fill(path, None), world.a.headers(role))
            if role in allowed:
                assert response.status_code not in (401, 403), (role, method, path, response.text)
            else:
                assert response.status_code == 403, (role, method, path, response.text)
                assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_other_organisations_ids_are_404_for_every_role(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """Org A's every credential against org B's real ids: 404, never their data."""
    theirs = org_ids(world.b)
    for method, path in operations(app):
        if "{" not in path:
            continue
        for role in ACCESS[(method, path)] & EVERYONE:
            url = fill(path, theirs)
            response = call(client, method, url, world.a.headers(role), path)
            assert response.status_code == 404, (role, method, path, response.text)
            body = response.json()
            assert body["type"] == "urn:evfleet:problem:not-found", body
            assert str(theirs[PARAM_RESOURCE[re.findall(r"\{(\w+)\}", path)[0]]]) not in str(
                {k: v for k, v in body.items() if k != "instance"}
            )
    # Nothing of B's was changed or removed: B's admin still reads all of it.
    for method, path in operations(app):
        public = ACCESS[(method, path)] == PUBLIC
        if method == "GET" and "{" in path and not path.endswith("/events") and not public:
            response = client.get(fill(path, theirs), headers=world.b.headers())
            assert response.status_code == 200, (path, response.text)
    order = client.get(f"{API}/orders/{world.b.ids['order']}", headers=world.b.headers()).json()
    assert order["status"] == "dispatched"


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_lists_show_only_the_callers_organisation(
    app: FastAPI, client: TestClient, world: World
) -> None:
    theirs = {str(v) for v in org_ids(world.b).values()} | {str(v) for v in world.b.users.values()}
    mine = {str(v) for v in org_ids(world.a).values()}
    seen_mine = set()
    for method, path in operations(app):
        if method != "GET" or "{" in path or ACCESS[(method, path)] == PUBLIC:
            continue
        for role in ACCESS[(method, path)]:
            response = client.get(API + path, headers=world.a.headers(role))
            assert response.status_code == 200, (role, path, response.text)
            assert not any(i in response.text for i in theirs), (role, path)
            seen_mine |= {i for i in mine if i in response.text}
    assert mine - {str(world.a.ids["spare_order"])} <= seen_mine | {str(world.a.ids["api_key"])}


def test_references_to_other_organisations_are_unknown(client: TestClient, world: World) -> None:
    """Ids of B's records inside A's request bodies are rejected like ids that do not exist."""
    a, b = world.a, world.b
    h = a.headers()
    vehicle = client.post(
        f"{API}/vehicles",
        json={
            "plate": "X 1",
            "vehicle_type_id": str(b.ids["vehicle_type"]),
            "depot_id": str(b.ids["depot"]),
        },
        headers=h,
    )
    assert vehicle.status_code == 422
    assert {tuple(e["loc"]) for e in vehicle.json()["errors"]} == {
        ("body", "vehicle_type_id"),
        ("body", "depot_id"),
    }
    key = client.post(
        f"{API}/api-keys",
        json={"name": "x", "role": "vehicle", "vehicle_id": str(b.ids["vehicle"])},
        headers=h,
    )
    assert key.status_code == 422
    job = client.post(
        f"{API}/plans/jobs", json={"order_ids": [str(b.ids["spare_order"])]}, headers=h
    )
    assert job.status_code == 422
    assert job.json()["errors"][0]["loc"] == ["body", "order_ids", 0]
    routes = client.get(f"{API}/routes", params={"plan_id": str(b.ids["plan"])}, headers=h)
    assert routes.json()["total"] == 0


def test_a_driver_sees_only_their_own_routes(client: TestClient, world: World) -> None:
    a = world.a
    mine = client.get(f"{API}/routes", headers=a.headers("driver")).json()
    assert [r["id"] for r in mine["items"]] == [str(a.ids["route"])]
    assert mine["items"][0]["charging_stops"][0]["charged_wh"] == 8000.0
    client.post(
        f"{API}/users",
        json={"email": "driver2@alpha.test", "role": "driver", "password": "correct horse battery"},
        headers=a.headers(),
    )
    from api_world import login

    other = bearer(login(client, "driver2@alpha.test"))
    assert client.get(f"{API}/routes", headers=other).json()["total"] == 0
    assert client.get(f"{API}/routes/{a.ids['route']}", headers=other).status_code == 404
    status = {"status": "out_for_delivery"}
    url = f"{API}/orders/{a.ids['order']}/status"
    assert client.post(url, json=status, headers=other).status_code == 404
    assert (
        client.post(url, json={"status": "planned"}, headers=a.headers("driver")).status_code == 403
    )
    moved = client.post(url, json=status, headers=a.headers("driver"))
    assert moved.status_code == 200, moved.text
    assert moved.json()["history"][-1]["actor"] == "user:driver@alpha.test"


def test_a_vehicle_key_acts_only_for_its_vehicle(client: TestClient, world: World) -> None:
    a = world.a
    me = client.get(f"{API}/auth/me", headers=a.headers("vehicle")).json()
    assert me["kind"] == "api_key" and me["vehicle_id"] == str(a.ids["vehicle"])
    assert me["permissions"] == ["vehicle:own"]
    listed = client.get(f"{API}/vehicles", headers=a.headers("vehicle")).json()
    assert [v["id"] for v in listed["items"]] == [str(a.ids["vehicle"])]
    own = client.get(f"{API}/vehicles/{a.ids['vehicle']}", headers=a.headers("vehicle"))
    assert own.status_code == 200
    second = client.post(
        f"{API}/vehicles",
        json={
            "plate": "M-AL 2",
            "vehicle_type_id": str(a.ids["vehicle_type"]),
            "depot_id": str(a.ids["depot"]),
        },
        headers=a.headers(),
    ).json()
    other = client.get(f"{API}/vehicles/{second['id']}", headers=a.headers("vehicle"))
    assert other.status_code == 404

    from evfleet.api.auth import Principal, Role

    principal = Principal(
        kind="api_key",
        id=uuid.uuid4(),
        organisation_id=a.id,
        role=Role.VEHICLE,
        label="k",
        vehicle_id=a.ids["vehicle"],
    )
    assert principal.can_write_telemetry(a.ids["vehicle"])
    assert not principal.can_write_telemetry(uuid.UUID(second["id"]))
    admin = Principal(
        kind="user", id=uuid.uuid4(), organisation_id=a.id, role=Role.ADMIN, label="x"
    )
    assert not admin.can_write_telemetry(a.ids["vehicle"])
