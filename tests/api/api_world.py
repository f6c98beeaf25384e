"""Two organisations with a user of every role, API keys and one resource of each kind.

Everything is made through the API except the plan (made behind its back with the
repositories, as the planning worker would, so that no test waits for the engine): one
dispatched route, assigned to the organisation's driver, delivering the organisation's order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from evfleet.order_status import OrderStatus
from evfleet.store import models as m
from evfleet.store.db import Database
from evfleet.store.repositories import Scope

API = "/api/v1"
PASSWORD = "correct horse battery"
ROLES = ("admin", "dispatcher", "viewer", "driver", "vehicle")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    response = client.post(f"{API}/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@dataclass
class Org:
    """One organisation: its id, a credential per role, and the ids of its resources."""

    name: str
    id: uuid.UUID
    credentials: dict[str, str] = field(default_factory=dict)
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    ids: dict[str, uuid.UUID] = field(default_factory=dict)

    def headers(self, role: str = "admin") -> dict[str, str]:
        return bearer(self.credentials[role])


@dataclass
class World:
    a: Org
    b: Org


def _ok(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def build_org(client: TestClient, db: Database, name: str) -> Org:
    slug = name.lower()
    signup = _ok(
        client.post(
            f"{API}/organisations",
            json={"name": name, "admin_email": f"admin@{slug}.test", "admin_password": PASSWORD},
        )
    )
    org = Org(name, uuid.UUID(signup["organisation"]["id"]))
    org.users["admin"] = uuid.UUID(signup["admin"]["id"])
    org.credentials["admin"] = login(client, f"admin@{slug}.test")
    h = org.headers()
    for role in ("dispatcher", "viewer", "driver"):
        user = _ok(
            client.post(
                f"{API}/users",
                json={"email": f"{role}@{slug}.test", "role": role, "password": PASSWORD},
                headers=h,
            )
        )
        org.users[role] = uuid.UUID(user["id"])
        org.credentials[role] = login(client, f"{role}@{slug}.test")
    depot = _ok(
        client.post(
            f"{API}/depots",
            json={
                "code": "D1",
                "name": f"{name} depot",
                "latitude_deg": 48.137,
                "longitude_deg": 11.575,
                "charge_points": [{"power_w": 11000, "count": 2}],
            },
            headers=h,
        )
    )
    vtype = _ok(
        client.post(
            f"{API}/vehicle-types",
            json={"code": "etransit", "catalogue_id": "ford-e-transit"},
            headers=h,
        )
    )
    vehicle = _ok(
        client.post(
            f"{API}/vehicles",
            json={
                "plate": f"M-{slug[:2].upper()} 1",
                "vehicle_type_id": vtype["id"],
                "depot_id": depot["id"],
            },
            headers=h,
        )
    )
    charger = _ok(
        client.post(
            f"{API}/chargers",
            json={"code": "C1", "latitude_deg": 48.2, "longitude_deg": 11.6, "power_w": 50000},
            headers=h,
        )
    )
    order = _ok(
        client.post(
            f"{API}/orders",
            json={"external_id": "O-1", "latitude_deg": 48.15, "longitude_deg": 11.58},
            headers=h,
        )
    )
    spare = _ok(
        client.post(
            f"{API}/orders",
            json={"external_id": "O-2", "latitude_deg": 48.16, "longitude_deg": 11.59},
            headers=h,
        )
    )
    key = _ok(
        client.post(
            f"{API}/api-keys",
            json={"name": "van 1", "role": "vehicle", "vehicle_id": vehicle["id"]},
            headers=h,
        )
    )
    org.credentials["vehicle"] = key["key"]
    job = _ok(client.post(f"{API}/plans/jobs", json={"time_limit_s": 1}, headers=h), 202)
    for label, body in (
        ("depot", depot),
        ("vehicle_type", vtype),
        ("vehicle", vehicle),
        ("charger", charger),
        ("order", order),
        ("spare_order", spare),
        ("api_key", key),
        ("job", job),
    ):
        org.ids[label] = uuid.UUID(body["id"])
    org.ids["user"] = org.users["viewer"]
    plan_id, route_id = add_dispatched_plan(db, org)
    org.ids["plan"], org.ids["route"] = plan_id, route_id
    return org


def add_dispatched_plan(db: Database, org: Org) -> tuple[uuid.UUID, uuid.UUID]:
    """A dispatched one-route plan delivering the org's order, driven by its driver."""
    with db.session() as session:
        scope = Scope(session, org.id)
        plan = scope.add(m.Plan(name="fixture", status="dispatched", kpis={"vehicles": 1}))
        route = scope.add(
            m.PlanRoute(
                plan_id=plan.id,
                index=0,
                vehicle_type_id=org.ids["vehicle_type"],
                depot_id=org.ids["depot"],
                vehicle_id=org.ids["vehicle"],
                driver_id=org.users["driver"],
                kpis={"distance_m": 1000.0},
            )
        )
        scope.add(
            m.PlanStop(
                route_id=route.id,
                sequence=1,
                kind="delivery",
                location="O-1",
                order_id=org.ids["order"],
                arrival_s=30000.0,
                departure_s=30180.0,
            )
        )
        scope.add(
            m.PlanStop(
                route_id=route.id,
                sequence=2,
                kind="charging",
                location="C1",
                charger_id=org.ids["charger"],
                charging_s=600.0,
                charged_wh=8000.0,
            )
        )
        order = scope.get(m.Order, org.ids["order"])
        assert order is not None
        scope.set_order_status(order, OrderStatus.PLANNED, "test")
        scope.set_order_status(order, OrderStatus.DISPATCHED, "test")
        return plan.id, route.id


def build_world(client: TestClient, db: Database) -> World:
    return World(build_org(client, db, "Alpha"), build_org(client, db, "Bravo"))
