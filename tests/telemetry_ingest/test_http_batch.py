"""``POST /api/v1/telemetry``: vehicle keys write only their own vehicle's telemetry; the
answer counts accepted, duplicate and rejected entries, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from evfleet.api.app import create_app
from evfleet.api.auth import new_api_key
from evfleet.api.deps import services_of_app
from evfleet.api.settings import Settings
from evfleet.ingest.testing import Fleet, add_fleet, sample
from evfleet.store import models as m
from evfleet.store.db import Database
from evfleet.store.telemetry_models import TelemetryDeadLetter, TelemetryLatest, TelemetrySample
from evfleet.telemetry import message_to_dict

URL = "/api/v1/telemetry"


def _key(
    client: TestClient, org: uuid.UUID, role: str, vehicle: str | None = None
) -> dict[str, str]:
    services = services_of_app(client.app)  # type: ignore[arg-type]
    key, prefix, secret_hash = new_api_key(services)
    with services.db.session() as session:
        session.add(
            m.ApiKey(
                organisation_id=org,
                name=role,
                role=role,
                prefix=prefix,
                secret_hash=secret_hash,
                vehicle_id=uuid.UUID(vehicle) if vehicle else None,
            )
        )
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    app = create_app(
        Settings(
            database_url=db.url,
            migrate=False,
            argon2_time_cost=1,
            argon2_memory_kib=64,
            argon2_parallelism=1,
        ),
        database=db,
    )
    with TestClient(app) as c:
        yield c


def test_a_vehicle_key_writes_its_own_telemetry(
    client: TestClient, db: Database, fleet: Fleet
) -> None:
    van = fleet.vehicle_ids[0]
    headers = _key(client, fleet.organisation_id, "vehicle", van)
    body = [message_to_dict(sample(van, s)) for s in (1, 2, 3)]
    bad = dict(body[0], seq=4, **{"Vehicle.Powertrain.TractionBattery.StateOfCharge.Current": 120})
    response = client.post(URL, json=[*body, bad, body[1], "junk"], headers=headers)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (3, 1, 2)
    assert [(e["index"], e["field"]) for e in answer["errors"]] == [
        (3, "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"),
        (5, "$"),
    ]
    again = client.post(URL, json=body, headers=headers).json()
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 3, 0)
    with db.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(TelemetrySample)) == 3
        latest = session.get(TelemetryLatest, van)
        assert latest is not None and latest.seq == 3
        letters = session.scalars(sa.select(TelemetryDeadLetter)).all()
        assert {(d.source, d.organisation_id) for d in letters} == {("http", fleet.organisation_id)}
        assert len(letters) == 2


def test_other_vehicles_are_forbidden_or_not_found(
    client: TestClient, db: Database, fleet: Fleet
) -> None:
    van, other_van = fleet.vehicle_ids[:2]
    stranger = add_fleet(db, 1, "Other Co")
    headers = _key(client, fleet.organisation_id, "vehicle", van)
    own = message_to_dict(sample(van, 1))
    for vehicle, status in (
        (other_van, 403),
        (stranger.vehicle_ids[0], 404),
        (str(uuid.uuid4()), 404),
        ("van-07", 404),
    ):
        body = [own, message_to_dict(sample(vehicle, 2))]
        response = client.post(URL, json=body, headers=headers)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    for role in ("admin", "dispatcher", "viewer"):
        response = client.post(URL, json=[own], headers=_key(client, fleet.organisation_id, role))
        assert response.status_code == 403
    assert client.post(URL, json=[own]).status_code == 401
    with db.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(TelemetrySample)) == 0


def test_a_body_that_is_not_a_batch_is_refused(client: TestClient, fleet: Fleet) -> None:
    van = fleet.vehicle_ids[0]
    headers = _key(client, fleet.organisation_id, "vehicle", van)
    assert client.post(URL, json={"seq": 1}, headers=headers).status_code == 422
    too_many = [message_to_dict(sample(van, s)) for s in range(1001)]
    response = client.post(URL, json=too_many, headers=headers)
    assert response.status_code == 422
    assert "at most 1000" in response.json()["detail"]
