"""Initial schema: organisations, users, credentials, fleet, orders, plans, planning jobs.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _id() -> sa.Column[object]:
    return sa.Column("id", sa.Uuid(), nullable=False)


def _org(table: str) -> sa.Column[object]:
    return sa.Column(
        "organisation_id",
        sa.Uuid(),
        sa.ForeignKey(
            "organisations.id",
            name=f"fk_{table}_organisation_id_organisations",
            ondelete="CASCADE",
        ),
        nullable=False,
    )


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def _fk(
    name: str, table: str, target: str, ondelete: str, nullable: bool = True
) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.Uuid(),
        sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{name}_{target}", ondelete=ondelete),
        nullable=nullable,
    )


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def _org_index(table: str) -> None:
    op.create_index(f"ix_{table}_organisation_id", table, ["organisation_id"])


def upgrade() -> None:
    op.create_table(
        "organisations",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("diesel_price_per_l", sa.Float(), nullable=False),
        sa.Column("carbon_price_per_t", sa.Float(), nullable=False),
        sa.Column("outside_temperature_c", sa.Float(), nullable=False),
        _when("created_at"),
        _pk("organisations"),
    )
    op.create_table(
        "users",
        _id(),
        _org("users"),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _when("created_at"),
        _pk("users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    _org_index("users")
    op.create_table(
        "access_tokens",
        _id(),
        _org("access_tokens"),
        _fk("user_id", "access_tokens", "users", "CASCADE", nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("revoked_at", nullable=True),
        _pk("access_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_access_tokens_token_hash"),
    )
    _org_index("access_tokens")
    op.create_index("ix_access_tokens_user_id", "access_tokens", ["user_id"])
    op.create_table(
        "depots",
        _id(),
        _org("depots"),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("latitude_deg", sa.Float(), nullable=False),
        sa.Column("longitude_deg", sa.Float(), nullable=False),
        sa.Column("open_s", sa.Float(), nullable=False),
        sa.Column("close_s", sa.Float(), nullable=True),
        sa.Column("electricity_price_per_kwh", sa.Float(), nullable=False),
        sa.Column("charge_points", sa.JSON(), nullable=False),
        _when("created_at"),
        _pk("depots"),
        sa.UniqueConstraint("organisation_id", "code", name="uq_depots_organisation_id_code"),
    )
    _org_index("depots")
    op.create_table(
        "vehicle_types",
        _id(),
        _org("vehicle_types"),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("catalogue_id", sa.String(100), nullable=True),
        sa.Column("powertrain", sa.String(20), nullable=False),
        sa.Column("capacity_kg", sa.Float(), nullable=True),
        sa.Column("battery_wh", sa.Float(), nullable=True),
        sa.Column("energy_wh_per_m", sa.Float(), nullable=True),
        sa.Column("fuel_l_per_m", sa.Float(), nullable=True),
        sa.Column("driver_cost_per_hour", sa.Float(), nullable=False),
        sa.Column("fixed_cost_per_day", sa.Float(), nullable=False),
        _when("created_at"),
        _pk("vehicle_types"),
        sa.UniqueConstraint(
            "organisation_id", "code", name="uq_vehicle_types_organisation_id_code"
        ),
    )
    _org_index("vehicle_types")
    op.create_table(
        "vehicles",
        _id(),
        _org("vehicles"),
        sa.Column("plate", sa.String(20), nullable=False),
        sa.Column("vin", sa.String(17), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        _fk("vehicle_type_id", "vehicles", "vehicle_types", "RESTRICT", nullable=False),
        _fk("depot_id", "vehicles", "depots", "RESTRICT", nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _when("created_at"),
        _pk("vehicles"),
        sa.UniqueConstraint("organisation_id", "plate", name="uq_vehicles_organisation_id_plate"),
        sa.UniqueConstraint("organisation_id", "vin", name="uq_vehicles_organisation_id_vin"),
    )
    _org_index("vehicles")
    op.create_index("ix_vehicles_vehicle_type_id", "vehicles", ["vehicle_type_id"])
    op.create_index("ix_vehicles_depot_id", "vehicles", ["depot_id"])
    op.create_table(
        "api_keys",
        _id(),
        _org("api_keys"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        _fk("vehicle_id", "api_keys", "vehicles", "CASCADE"),
        _when("created_at"),
        _when("last_used_at", nullable=True),
        _when("revoked_at", nullable=True),
        _pk("api_keys"),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    )
    _org_index("api_keys")
    op.create_table(
        "chargers",
        _id(),
        _org("chargers"),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("latitude_deg", sa.Float(), nullable=False),
        sa.Column("longitude_deg", sa.Float(), nullable=False),
        sa.Column("power_w", sa.Float(), nullable=False),
        sa.Column("connectors", sa.Integer(), nullable=False),
        sa.Column("price_per_kwh", sa.Float(), nullable=False),
        sa.Column("open_s", sa.Float(), nullable=False),
        sa.Column("close_s", sa.Float(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        _when("created_at"),
        _pk("chargers"),
        sa.UniqueConstraint("organisation_id", "code", name="uq_chargers_organisation_id_code"),
    )
    _org_index("chargers")
    op.create_table(
        "orders",
        _id(),
        _org("orders"),
        sa.Column("external_id", sa.String(100), nullable=False),
        sa.Column("latitude_deg", sa.Float(), nullable=False),
        sa.Column("longitude_deg", sa.Float(), nullable=False),
        sa.Column("parcels", sa.Integer(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("tw_early_s", sa.Float(), nullable=False),
        sa.Column("tw_late_s", sa.Float(), nullable=True),
        sa.Column("service_s", sa.Float(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("delivery_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        _pk("orders"),
        sa.UniqueConstraint(
            "organisation_id", "external_id", name="uq_orders_organisation_id_external_id"
        ),
    )
    _org_index("orders")
    op.create_table(
        "plans",
        _id(),
        _org("plans"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("feasible", sa.Boolean(), nullable=False),
        sa.Column("kpis", sa.JSON(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        _when("created_at"),
        _when("dispatched_at", nullable=True),
        _pk("plans"),
    )
    _org_index("plans")
    op.create_table(
        "plan_routes",
        _id(),
        _org("plan_routes"),
        _fk("plan_id", "plan_routes", "plans", "CASCADE", nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        _fk("vehicle_type_id", "plan_routes", "vehicle_types", "SET NULL"),
        _fk("depot_id", "plan_routes", "depots", "SET NULL"),
        _fk("vehicle_id", "plan_routes", "vehicles", "SET NULL"),
        _fk("driver_id", "plan_routes", "users", "SET NULL"),
        sa.Column("start_s", sa.Float(), nullable=True),
        sa.Column("end_s", sa.Float(), nullable=True),
        sa.Column("kpis", sa.JSON(), nullable=False),
        _pk("plan_routes"),
    )
    _org_index("plan_routes")
    op.create_index("ix_plan_routes_plan_id", "plan_routes", ["plan_id"])
    op.create_index("ix_plan_routes_driver_id", "plan_routes", ["driver_id"])
    op.create_table(
        "plan_stops",
        _id(),
        _org("plan_stops"),
        _fk("route_id", "plan_stops", "plan_routes", "CASCADE", nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        _fk("order_id", "plan_stops", "orders", "SET NULL"),
        _fk("charger_id", "plan_stops", "chargers", "SET NULL"),
        sa.Column("latitude_deg", sa.Float(), nullable=True),
        sa.Column("longitude_deg", sa.Float(), nullable=True),
        sa.Column("arrival_s", sa.Float(), nullable=True),
        sa.Column("departure_s", sa.Float(), nullable=True),
        sa.Column("charging_s", sa.Float(), nullable=False),
        sa.Column("charged_wh", sa.Float(), nullable=False),
        sa.Column("soc_arrival_pct", sa.Float(), nullable=True),
        sa.Column("soc_departure_pct", sa.Float(), nullable=True),
        sa.Column("load_kg", sa.Float(), nullable=True),
        _pk("plan_stops"),
    )
    _org_index("plan_stops")
    op.create_index("ix_plan_stops_route_id", "plan_stops", ["route_id"])
    op.create_index("ix_plan_stops_order_id", "plan_stops", ["order_id"])
    op.create_table(
        "planning_jobs",
        _id(),
        _org("planning_jobs"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        _fk("plan_id", "planning_jobs", "plans", "SET NULL"),
        sa.Column("created_by", sa.String(300), nullable=False),
        _when("created_at"),
        _when("started_at", nullable=True),
        _when("finished_at", nullable=True),
        _when("heartbeat_at", nullable=True),
        _pk("planning_jobs"),
    )
    _org_index("planning_jobs")
    op.create_index("ix_planning_jobs_status_created_at", "planning_jobs", ["status", "created_at"])
    op.create_table(
        "idempotency_records",
        _id(),
        _org("idempotency_records"),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _when("created_at"),
        _pk("idempotency_records"),
        sa.UniqueConstraint(
            "organisation_id", "key", name="uq_idempotency_records_organisation_id_key"
        ),
    )
    _org_index("idempotency_records")


def downgrade() -> None:
    for table in (
        "idempotency_records",
        "planning_jobs",
        "plan_stops",
        "plan_routes",
        "plans",
        "orders",
        "chargers",
        "api_keys",
        "vehicles",
        "vehicle_types",
        "depots",
        "access_tokens",
        "users",
        "organisations",
    ):
        op.drop_table(table)
