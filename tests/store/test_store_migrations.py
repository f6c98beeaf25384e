"""Migrations: data written at the first revision survives the upgrade to head, on both
databases; the models and the migrated schema agree; upgrade is idempotent and reversible."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from evfleet.store import models as m
from evfleet.store.db import Database, alembic_config, current_revision

ORG = uuid.UUID("00000000-0000-4000-8000-000000000001")


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _table(name: str, row: dict[str, object]) -> sa.TableClause:
    """A lightweight table for ``row``'s columns, typed where the driver needs it."""
    types: dict[str, sa.types.TypeEngine[object]] = {"charge_points": sa.JSON()}
    columns = []
    for key in row:
        is_id = key == "id" or (key.endswith("_id") and key != "external_id")
        columns.append(sa.column(key, sa.Uuid() if is_id else types.get(key)))
    return sa.table(name, *columns)


def _insert(connection: sa.Connection, name: str, row: dict[str, object]) -> None:
    connection.execute(sa.insert(_table(name, row)), row)


def _insert_at_first_revision(db: Database) -> dict[str, uuid.UUID]:
    """Rows written with plain SQL against revision 0001's tables (no head-only columns)."""
    stamp = dt.datetime(2025, 3, 1, 8, 30)
    ids = {name: uuid.uuid4() for name in ("depot", "received", "dispatched", "user")}
    with db.engine.begin() as c:
        _insert(
            c,
            "organisations",
            {
                "id": ORG,
                "name": "Old Co",
                "country": "DE",
                "currency": "EUR",
                "diesel_price_per_l": 1.7,
                "carbon_price_per_t": 80.0,
                "outside_temperature_c": 4.5,
                "created_at": stamp,
            },
        )
        _insert(
            c,
            "users",
            {
                "id": ids["user"],
                "organisation_id": ORG,
                "email": "old@example.test",
                "name": "Old",
                "role": "admin",
                "password_hash": "$argon2id$x",
                "active": True,
                "created_at": stamp,
            },
        )
        _insert(
            c,
            "depots",
            {
                "id": ids["depot"],
                "organisation_id": ORG,
                "code": "MUC",
                "name": "Munich",
                "latitude_deg": 48.1,
                "longitude_deg": 11.5,
                "open_s": 21600.0,
                "close_s": None,
                "electricity_price_per_kwh": 0.25,
                "charge_points": [{"power_w": 11000.0, "count": 4}],
                "created_at": stamp,
            },
        )
        for key in ("received", "dispatched"):
            _insert(
                c,
                "orders",
                {
                    "id": ids[key],
                    "organisation_id": ORG,
                    "external_id": f"ORD-{key}",
                    "latitude_deg": 48.2,
                    "longitude_deg": 11.6,
                    "parcels": 3,
                    "weight_kg": 12.5,
                    "tw_early_s": 32400.0,
                    "tw_late_s": 39600.0,
                    "service_s": 120.0,
                    "notes": "ring twice – Hinterhof",
                    "delivery_date": dt.date(2025, 3, 2),
                    "status": key,
                    "created_at": stamp,
                    "updated_at": stamp,
                },
            )
    return ids


def test_upgrade_from_the_first_revision_keeps_the_data(empty_db: Database) -> None:
    db = empty_db
    db.migrate("0001")
    assert current_revision(db.engine) == "0001"
    assert "order_status_events" not in sa.inspect(db.engine).get_table_names()
    ids = _insert_at_first_revision(db)

    db.migrate()

    assert current_revision(db.engine) == _head() == "0004"
    inspector = sa.inspect(db.engine)
    assert "order_status_events" in inspector.get_table_names()
    assert "ix_orders_organisation_id_status" in {
        i["name"] for i in inspector.get_indexes("orders")
    }
    with db.sessions() as session:
        org = session.get(m.Organisation, ORG)
        assert org is not None
        assert (org.name, org.diesel_price_per_l, org.outside_temperature_c) == ("Old Co", 1.7, 4.5)
        assert org.created_at == dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.UTC)
        depot = session.get(m.Depot, ids["depot"])
        assert depot is not None
        assert depot.charge_points == [{"power_w": 11000.0, "count": 4}]
        assert depot.close_s is None
        user = session.get(m.User, ids["user"])
        assert user is not None and user.email == "old@example.test"
        for key in ("received", "dispatched"):
            order = session.get(m.Order, ids[key])
            assert order is not None
            assert order.status == key
            assert order.notes == "ring twice – Hinterhof"
            assert order.delivery_date == dt.date(2025, 3, 2)
            assert (order.parcels, order.weight_kg, order.tw_late_s) == (3, 12.5, 39600.0)
            events = session.scalars(
                sa.select(m.OrderStatusEvent).where(m.OrderStatusEvent.order_id == order.id)
            ).all()
            assert [(e.from_status, e.to_status, e.actor) for e in events] == [
                (None, key, "migration:0002")
            ]
            assert events[0].organisation_id == ORG
        tokens = {session.get(m.Order, ids[k]).tracking_token for k in ("received", "dispatched")}  # type: ignore[union-attr]
        assert len(tokens) == 2 and all(len(t) >= 22 for t in tokens)  # one secret per order


def test_the_models_match_the_migrated_schema(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, m.Base.metadata) == []


def test_upgrade_is_idempotent_and_downgrade_reverses_it(db: Database) -> None:
    db.migrate()  # a second start-up changes nothing
    assert current_revision(db.engine) == _head()
    from alembic import command

    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert current_revision(db.engine) == "0001"
    assert "order_status_events" not in sa.inspect(db.engine).get_table_names()
    db.migrate()
    assert current_revision(db.engine) == _head()
