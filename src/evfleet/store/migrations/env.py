"""Alembic environment: runs on the connection :func:`evfleet.store.db.migrate` passes in.

Run by hand (``alembic -x url=sqlite:///./evfleet.db upgrade head`` with
``script_location`` pointing here) it opens its own connection from the ``url`` argument.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from evfleet.store.db import make_engine
from evfleet.store.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrates on the given connection, or on one opened from ``-x url=...``."""
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database as: alembic -x url=DATABASE_URL upgrade head")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported")
run_migrations_online()
