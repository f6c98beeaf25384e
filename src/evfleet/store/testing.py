"""Throwaway PostgreSQL databases for tests (used by ``tests/store`` and ``tests/api``).

The server is ``EVFLEET_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/
postgres``: the local server with trust authentication). :func:`throwaway_database` creates
a database with a random name, yields its URL and drops it afterwards; :func:`reset_schema`
empties one between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from evfleet.store.db import normalise_url

__all__ = ["postgres_admin_url", "postgres_unreachable", "reset_schema", "throwaway_database"]

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    """The URL of the server's maintenance database (tests create databases through it)."""
    return normalise_url(os.environ.get("EVFLEET_TEST_POSTGRES_URL") or DEFAULT_ADMIN_URL)


def _admin_engine() -> Engine:
    return create_engine(
        postgres_admin_url(), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )


def postgres_unreachable() -> str | None:
    """Why the test server cannot be used (``None``: it can)."""
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return f"PostgreSQL at {make_url(postgres_admin_url()).host} is unreachable: {exc}"
    finally:
        engine.dispose()
    return None


@contextmanager
def throwaway_database(prefix: str = "evfleet_test") -> Iterator[str]:
    """Creates an empty database, yields its URL, and drops it (even if sessions linger)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(postgres_admin_url()).set(database=name)
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def reset_schema(url: str) -> None:
    """Drops every table (and the migration history) of the database at ``url``."""
    engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
