"""The database schema as typed SQLAlchemy 2 models (the state at migration ``head``).

Every row that belongs to a customer carries ``organisation_id``; repositories
(:mod:`evfleet.store.repositories`) filter every query by it, which is what keeps
organisations apart. Ids are UUIDs (``uuid4``), never sequential, so an id reveals nothing.
Times are UTC (:class:`UTCDateTime`); times of day are seconds since local midnight (``_s``,
``NULL`` for "no limit"); units are in the column names as in :mod:`evfleet.day`.

The schema is created and changed only by the Alembic migrations in
``evfleet/store/migrations``; ``tests/store/test_migrations.py`` checks that these models
and the migrated schema agree.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AccessToken",
    "ApiKey",
    "Base",
    "Charger",
    "Depot",
    "IdempotencyRecord",
    "Order",
    "OrderStatusEvent",
    "OrgOwned",
    "Organisation",
    "Plan",
    "PlanRoute",
    "PlanStop",
    "PlanningJob",
    "User",
    "Vehicle",
    "VehicleType",
    "utcnow",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names, fixed so that migrations can refer to them on every database."""


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored as naive UTC and read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC times")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with fixed constraint names."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        uuid.UUID: Uuid,
    }


def _id() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class OrgOwned(Base):
    """A row that belongs to one organisation: an ``id`` and the ``organisation_id``."""

    __abstract__ = True

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )


def new_tracking_token() -> str:
    """A fresh unguessable token for a public order-tracking link (22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


def _created() -> Mapped[dt.datetime]:
    return mapped_column(UTCDateTime(), default=utcnow)


class Organisation(Base):
    """A customer: everything else belongs to exactly one organisation.

    ``country``, ``currency``, ``diesel_price_per_l``, ``carbon_price_per_t`` and
    ``outside_temperature_c`` are the defaults a planning job uses for the fleet's economics.
    """

    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = _id()
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), default="DE")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    diesel_price_per_l: Mapped[float] = mapped_column(Float, default=0.0)
    carbon_price_per_t: Mapped[float] = mapped_column(Float, default=0.0)
    outside_temperature_c: Mapped[float] = mapped_column(Float, default=15.0)
    created_at: Mapped[dt.datetime] = _created()


class User(OrgOwned):
    """A person who logs in; ``email`` is unique across organisations (it names the account)."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = _created()


class AccessToken(OrgOwned):
    """A bearer token issued at login, stored as the SHA-256 of its secret only."""

    __tablename__ = "access_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = _created()
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class ApiKey(OrgOwned):
    """A machine credential: ``evk_<prefix>_<secret>``; the secret is stored argon2-hashed.

    A key of role ``vehicle`` is bound to ``vehicle_id`` and may act for that vehicle only.
    """

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    vehicle_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("vehicles.id", ondelete="CASCADE"), default=None
    )
    created_at: Mapped[dt.datetime] = _created()
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class Depot(OrgOwned):
    """A depot; ``charge_points`` lists ``{"power_w", "count"}`` groups of its chargers."""

    __tablename__ = "depots"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    latitude_deg: Mapped[float] = mapped_column(Float)
    longitude_deg: Mapped[float] = mapped_column(Float)
    open_s: Mapped[float] = mapped_column(Float, default=0.0)
    close_s: Mapped[float | None] = mapped_column(Float, default=None)
    electricity_price_per_kwh: Mapped[float] = mapped_column(Float, default=0.0)
    charge_points: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = _created()


class VehicleType(OrgOwned):
    """A van model: a catalogue entry (``catalogue_id``) or custom figures."""

    __tablename__ = "vehicle_types"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    catalogue_id: Mapped[str | None] = mapped_column(String(100), default=None)
    powertrain: Mapped[str] = mapped_column(String(20))
    capacity_kg: Mapped[float | None] = mapped_column(Float, default=None)
    battery_wh: Mapped[float | None] = mapped_column(Float, default=None)
    energy_wh_per_m: Mapped[float | None] = mapped_column(Float, default=None)
    fuel_l_per_m: Mapped[float | None] = mapped_column(Float, default=None)
    driver_cost_per_hour: Mapped[float] = mapped_column(Float, default=0.0)
    fixed_cost_per_day: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = _created()


class Vehicle(OrgOwned):
    """One van: its plate and VIN (each unique within the organisation), type and depot."""

    __tablename__ = "vehicles"
    __table_args__ = (
        UniqueConstraint("organisation_id", "plate"),
        UniqueConstraint("organisation_id", "vin"),
    )

    plate: Mapped[str] = mapped_column(String(20))
    vin: Mapped[str | None] = mapped_column(String(17), default=None)
    name: Mapped[str] = mapped_column(String(200), default="")
    vehicle_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("vehicle_types.id", ondelete="RESTRICT"), index=True
    )
    depot_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("depots.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = _created()


class Charger(OrgOwned):
    """A charging site off the depots (public or a partner's): a ``ChargerSpec``."""

    __tablename__ = "chargers"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    latitude_deg: Mapped[float] = mapped_column(Float)
    longitude_deg: Mapped[float] = mapped_column(Float)
    power_w: Mapped[float] = mapped_column(Float)
    connectors: Mapped[int] = mapped_column(Integer, default=1)
    price_per_kwh: Mapped[float] = mapped_column(Float, default=0.0)
    open_s: Mapped[float] = mapped_column(Float, default=0.0)
    close_s: Mapped[float | None] = mapped_column(Float, default=None)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = _created()


class Order(OrgOwned):
    """A delivery order; ``external_id`` (the dispatcher's own id) is unique per organisation."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("organisation_id", "external_id"),
        Index("ix_orders_organisation_id_status", "organisation_id", "status"),
        Index("ix_orders_tracking_token", "tracking_token", unique=True),
    )

    external_id: Mapped[str] = mapped_column(String(100))
    latitude_deg: Mapped[float] = mapped_column(Float)
    longitude_deg: Mapped[float] = mapped_column(Float)
    parcels: Mapped[int] = mapped_column(Integer, default=1)
    weight_kg: Mapped[float] = mapped_column(Float, default=0.0)
    tw_early_s: Mapped[float] = mapped_column(Float, default=0.0)
    tw_late_s: Mapped[float | None] = mapped_column(Float, default=None)
    service_s: Mapped[float] = mapped_column(Float, default=180.0)
    notes: Mapped[str] = mapped_column(Text, default="")
    delivery_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    status: Mapped[str] = mapped_column(String(20), default="received")
    tracking_token: Mapped[str] = mapped_column(String(64), default=new_tracking_token)
    """The secret of the order's public tracking link ``/track/<token>`` (128 random bits)."""
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OrderStatusEvent(OrgOwned):
    """One status change of an order (revision 0002): who moved it, from where, to where, when."""

    __tablename__ = "order_status_events"
    __table_args__ = (Index("ix_order_status_events_order_id_at", "order_id", "at"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(20), default=None)
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(300), default="")
    reason: Mapped[str] = mapped_column(Text, default="")


class Plan(OrgOwned):
    """A stored plan: ``document`` is its ``evfleet-plan/1`` JSON, ``kpis`` the totals.

    ``status``: ``draft`` (its orders are planned), ``dispatched`` (routes handed to vehicles
    and drivers) or ``discarded`` (its orders went back to received).
    """

    __tablename__ = "plans"

    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    feasible: Mapped[bool] = mapped_column(Boolean, default=True)
    kpis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    document: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = _created()
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class PlanRoute(OrgOwned):
    """One route of a plan, with the vehicle and driver it is (or will be) assigned to."""

    __tablename__ = "plan_routes"

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), index=True
    )
    index: Mapped[int] = mapped_column(Integer)
    vehicle_type_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("vehicle_types.id", ondelete="SET NULL"), default=None
    )
    depot_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("depots.id", ondelete="SET NULL"), default=None
    )
    vehicle_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("vehicles.id", ondelete="SET NULL"), default=None
    )
    driver_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    start_s: Mapped[float | None] = mapped_column(Float, default=None)
    end_s: Mapped[float | None] = mapped_column(Float, default=None)
    kpis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PlanStop(OrgOwned):
    """A stop of a route: a delivery (``order_id``) or a charging stop (``charger_id``)."""

    __tablename__ = "plan_stops"

    route_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plan_routes.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    location: Mapped[str] = mapped_column(String(200))
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), default=None, index=True
    )
    charger_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("chargers.id", ondelete="SET NULL"), default=None
    )
    latitude_deg: Mapped[float | None] = mapped_column(Float, default=None)
    longitude_deg: Mapped[float | None] = mapped_column(Float, default=None)
    arrival_s: Mapped[float | None] = mapped_column(Float, default=None)
    departure_s: Mapped[float | None] = mapped_column(Float, default=None)
    charging_s: Mapped[float] = mapped_column(Float, default=0.0)
    charged_wh: Mapped[float] = mapped_column(Float, default=0.0)
    soc_arrival_pct: Mapped[float | None] = mapped_column(Float, default=None)
    soc_departure_pct: Mapped[float | None] = mapped_column(Float, default=None)
    load_kg: Mapped[float | None] = mapped_column(Float, default=None)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    """``planned``, ``arrived``, ``departed`` or ``delivered`` (set by live tracking)."""
    actual_arrival_s: Mapped[float | None] = mapped_column(Float, default=None)
    actual_departure_s: Mapped[float | None] = mapped_column(Float, default=None)
    eta_s: Mapped[float | None] = mapped_column(Float, default=None)
    """The latest forecast arrival (s since the plan day's midnight)."""


class TrackingEvent(OrgOwned):
    """Something live tracking saw: a route started, a stop reached, an alert raised, ...

    ``kind`` is a tracker event kind (:class:`evfleet.tracking.EventKind`); ``message`` is
    for people; ``data`` holds the details (alert kind, times in s since midnight, ...).
    """

    __tablename__ = "tracking_events"
    __table_args__ = (Index("ix_tracking_events_organisation_id_at", "organisation_id", "at"),)

    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), default=None, index=True
    )
    route_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("plan_routes.id", ondelete="CASCADE"), default=None
    )
    vehicle_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("vehicles.id", ondelete="SET NULL"), default=None
    )
    kind: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(10), default="info")
    message: Mapped[str] = mapped_column(Text, default="")
    stop_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("plan_stops.id", ondelete="SET NULL"), default=None
    )
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), default=None
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PlanningJob(OrgOwned):
    """A request to plan, run by the worker process (never by the web process).

    ``status``: ``queued`` → ``running`` → ``succeeded`` | ``failed`` | ``cancelled``.
    ``progress`` holds the best plan so far as the engine reports it; ``heartbeat_at`` is
    when the worker last wrote it; ``plan_id`` the stored result.
    """

    __tablename__ = "planning_jobs"
    __table_args__ = (Index("ix_planning_jobs_status_created_at", "status", "created_at"),)

    status: Mapped[str] = mapped_column(String(20), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("plans.id", ondelete="SET NULL"), default=None
    )
    created_by: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = _created()
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class IdempotencyRecord(OrgOwned):
    """The stored response of a request sent with an ``Idempotency-Key`` header.

    Unique per organisation and key; ``fingerprint`` (SHA-256 of method, path and body) tells
    a true retry from a different request that reuses the key.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("organisation_id", "key"),)

    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _created()


# Telemetry tables (samples, latest state, dead letters): registered on ``Base.metadata``
# here so that whoever loads the models (migrations, the schema check) sees them too.
from evfleet.store import telemetry_models as telemetry_models  # noqa: E402
