"""Helpers for ingest tests and benchmarks: a fleet in the database, messages to send."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from evfleet.store import models as m
from evfleet.store.db import Database
from evfleet.store.repositories import Scope
from evfleet.telemetry import TelemetryMessage, telemetry_topic

__all__ = ["Fleet", "add_fleet", "sample"]


@dataclass(frozen=True)
class Fleet:
    """An organisation and its vehicles' ids (as telemetry writes them: text)."""

    organisation_id: uuid.UUID
    vehicle_ids: tuple[str, ...]

    def topic(self, vehicle_id: str) -> str:
        return telemetry_topic(str(self.organisation_id), vehicle_id)


def add_fleet(db: Database, vehicles: int, name: str = "Ingest Co") -> Fleet:
    """A new organisation with one depot, one van type and ``vehicles`` vans."""
    with db.session() as session:
        org = m.Organisation(name=name)
        session.add(org)
        session.flush()
        scope = Scope(session, org.id)
        depot = scope.add(m.Depot(code="D1", latitude_deg=48.1, longitude_deg=11.5))
        vtype = scope.add(m.VehicleType(code="van", powertrain="electric"))
        ids = []
        for i in range(vehicles):
            van = scope.add(
                m.Vehicle(plate=f"M-IN {i}", vehicle_type_id=vtype.id, depot_id=depot.id)
            )
            ids.append(str(van.id))
        return Fleet(org.id, tuple(ids))


def sample(
    vehicle_id: str, seq: int, at: dt.datetime | None = None, **signals: object
) -> TelemetryMessage:
    """A valid message of ``vehicle_id`` (fix time ``at``, default: ``seq`` seconds after
    the current hour began)."""
    if at is None:
        now = dt.datetime.now(dt.UTC)
        at = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(seconds=seq % 3000)
    return TelemetryMessage(
        vehicle_id=vehicle_id,
        seq=seq,
        timestamp=at,
        latitude_deg=48.1 + seq * 1e-5,
        longitude_deg=11.5,
        **signals,  # type: ignore[arg-type]
    )
