"""Order status history, and an index for listing orders by status.

Adds ``order_status_events`` (one row per status change) and the index
``ix_orders_organisation_id_status``. Orders that exist already get one event each that
records the status they had when the history began (``from_status`` NULL, actor
``migration:0002``), so that every order's history ends in its current status.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    events = op.create_table(
        "order_status_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "organisation_id",
            sa.Uuid(),
            sa.ForeignKey(
                "organisations.id",
                name="fk_order_status_events_organisation_id_organisations",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column(
            "order_id",
            sa.Uuid(),
            sa.ForeignKey(
                "orders.id", name="fk_order_status_events_order_id_orders", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_status_events"),
    )
    op.create_index(
        "ix_order_status_events_organisation_id", "order_status_events", ["organisation_id"]
    )
    op.create_index("ix_order_status_events_order_id_at", "order_status_events", ["order_id", "at"])
    op.create_index("ix_orders_organisation_id_status", "orders", ["organisation_id", "status"])

    orders = sa.table(
        "orders",
        sa.column("id", sa.Uuid()),
        sa.column("organisation_id", sa.Uuid()),
        sa.column("status", sa.String()),
        sa.column("updated_at", sa.DateTime()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(orders.c.id, orders.c.organisation_id, orders.c.status, orders.c.updated_at)
    ).all()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    backfill = [
        {
            "id": uuid.uuid4(),
            "organisation_id": row.organisation_id,
            "order_id": row.id,
            "from_status": None,
            "to_status": row.status,
            "at": row.updated_at or now,
            "actor": "migration:0002",
            "reason": "status when the history began",
        }
        for row in rows
    ]
    if backfill:
        op.bulk_insert(events, backfill)


def downgrade() -> None:
    op.drop_index("ix_orders_organisation_id_status", table_name="orders")
    op.drop_table("order_status_events")
