"""Live tracking: stop status and actual times, tracking events, order tracking links.

Adds to ``plan_stops`` the live ``status`` (``planned`` for existing rows), the actual
arrival and departure and the latest ETA (s since the plan day's midnight); to ``orders``
the unique ``tracking_token`` of the public tracking link (existing orders get a fresh
one each); and the table ``tracking_events`` (what live tracking saw, for the events feed).

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-04
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch "move and copy" on SQLite: recreating ``orders``
    # would cascade-delete the rows that refer to it (status history) on the way.
    op.add_column(
        "plan_stops", sa.Column("status", sa.String(20), nullable=False, server_default="planned")
    )
    op.add_column("plan_stops", sa.Column("actual_arrival_s", sa.Float(), nullable=True))
    op.add_column("plan_stops", sa.Column("actual_departure_s", sa.Float(), nullable=True))
    op.add_column("plan_stops", sa.Column("eta_s", sa.Float(), nullable=True))

    op.add_column(
        "orders",
        sa.Column("tracking_token", sa.String(64), nullable=False, server_default=""),
    )
    orders = sa.table("orders", sa.column("id", sa.Uuid()), sa.column("tracking_token"))
    connection = op.get_bind()
    for (order_id,) in connection.execute(sa.select(orders.c.id)).all():
        connection.execute(
            orders.update()
            .where(orders.c.id == order_id)
            .values(tracking_token=secrets.token_urlsafe(16))
        )
    if connection.dialect.name != "sqlite":  # SQLite cannot drop a default in place
        op.alter_column("orders", "tracking_token", server_default=None)
    op.create_index("ix_orders_tracking_token", "orders", ["tracking_token"], unique=True)

    op.create_table(
        "tracking_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "organisation_id",
            sa.Uuid(),
            sa.ForeignKey(
                "organisations.id",
                name="fk_tracking_events_organisation_id_organisations",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column(
            "plan_id",
            sa.Uuid(),
            sa.ForeignKey("plans.id", name="fk_tracking_events_plan_id_plans", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "route_id",
            sa.Uuid(),
            sa.ForeignKey(
                "plan_routes.id", name="fk_tracking_events_route_id_plan_routes", ondelete="CASCADE"
            ),
            nullable=True,
        ),
        sa.Column(
            "vehicle_id",
            sa.Uuid(),
            sa.ForeignKey(
                "vehicles.id", name="fk_tracking_events_vehicle_id_vehicles", ondelete="SET NULL"
            ),
            nullable=True,
        ),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "stop_id",
            sa.Uuid(),
            sa.ForeignKey(
                "plan_stops.id", name="fk_tracking_events_stop_id_plan_stops", ondelete="SET NULL"
            ),
            nullable=True,
        ),
        sa.Column(
            "order_id",
            sa.Uuid(),
            sa.ForeignKey(
                "orders.id", name="fk_tracking_events_order_id_orders", ondelete="SET NULL"
            ),
            nullable=True,
        ),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tracking_events"),
    )
    op.create_index("ix_tracking_events_organisation_id", "tracking_events", ["organisation_id"])
    op.create_index("ix_tracking_events_plan_id", "tracking_events", ["plan_id"])
    op.create_index(
        "ix_tracking_events_organisation_id_at", "tracking_events", ["organisation_id", "at"]
    )


def downgrade() -> None:
    op.drop_table("tracking_events")
    op.drop_index("ix_orders_tracking_token", table_name="orders")
    op.drop_column("orders", "tracking_token")
    for column in ("eta_s", "actual_departure_s", "actual_arrival_s", "status"):
        op.drop_column("plan_stops", column)
