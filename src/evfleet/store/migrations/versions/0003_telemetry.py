"""Telemetry storage: samples (day-partitioned on PostgreSQL), latest state, dead letters.

``telemetry_samples`` is keyed on ``(vehicle_id, seq, ts)``: on PostgreSQL it is a
declaratively range-partitioned table on ``ts`` (whose unique key must contain ``ts``), with
its day partitions in the schema ``telemetry_partitions`` (created by the ingester, see
:mod:`evfleet.store.telemetry_models`); on SQLite a plain table with the same key.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from evfleet.store.models import UTCDateTime

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

PARTITION_SCHEMA = "telemetry_partitions"


def _signals() -> list[sa.Column[object]]:
    return [
        sa.Column("latitude_deg", sa.Float(), nullable=False),
        sa.Column("longitude_deg", sa.Float(), nullable=False),
        sa.Column("heading_deg", sa.Float(), nullable=True),
        sa.Column("speed_m_per_s", sa.Float(), nullable=True),
        sa.Column("odometer_m", sa.BigInteger(), nullable=True),
        sa.Column("soc_pct", sa.Float(), nullable=True),
        sa.Column("range_m", sa.BigInteger(), nullable=True),
        sa.Column("is_charging", sa.Boolean(), nullable=True),
        sa.Column("air_temperature_c", sa.Float(), nullable=True),
    ]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(f'CREATE SCHEMA IF NOT EXISTS "{PARTITION_SCHEMA}"')
    op.create_table(
        "telemetry_samples",
        sa.Column("vehicle_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        *_signals(),
        sa.PrimaryKeyConstraint("vehicle_id", "seq", "ts", name="pk_telemetry_samples"),
        postgresql_partition_by="RANGE (ts)",
    )
    op.create_index("ix_telemetry_samples_vehicle_id_ts", "telemetry_samples", ["vehicle_id", "ts"])
    op.create_table(
        "telemetry_latest",
        sa.Column("vehicle_id", sa.String(64), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        *_signals(),
        sa.PrimaryKeyConstraint("vehicle_id", name="pk_telemetry_latest"),
    )
    op.create_index("ix_telemetry_latest_organisation_id", "telemetry_latest", ["organisation_id"])
    op.create_table(
        "telemetry_dead_letters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_telemetry_dead_letters"),
    )
    op.create_index(
        "ix_telemetry_dead_letters_received_at", "telemetry_dead_letters", ["received_at"]
    )
    op.create_table(
        "telemetry_counters",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_telemetry_counters"),
    )


def downgrade() -> None:
    op.drop_table("telemetry_counters")
    op.drop_index("ix_telemetry_dead_letters_received_at", table_name="telemetry_dead_letters")
    op.drop_table("telemetry_dead_letters")
    op.drop_index("ix_telemetry_latest_organisation_id", table_name="telemetry_latest")
    op.drop_table("telemetry_latest")
    op.drop_index("ix_telemetry_samples_vehicle_id_ts", table_name="telemetry_samples")
    op.drop_table("telemetry_samples")  # its partitions go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'DROP SCHEMA IF EXISTS "{PARTITION_SCHEMA}" CASCADE')
