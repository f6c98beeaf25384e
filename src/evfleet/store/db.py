"""Engines, sessions and migrations: SQLite by default, PostgreSQL by URL.

``sqlite:///./evfleet.db`` (the default) opens a file in WAL mode with foreign keys on and a
busy timeout, so that the web process and the planning worker can share it.
``postgresql://user@host/db`` (or ``postgresql+psycopg://``) uses psycopg 3. The schema is
created and upgraded only by the Alembic migrations shipped in
``evfleet/store/migrations`` (:func:`migrate`, ``upgrade head`` at start-up).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

__all__ = [
    "DEFAULT_DATABASE_URL",
    "Database",
    "alembic_config",
    "current_revision",
    "make_engine",
    "migrate",
    "normalise_url",
]

DEFAULT_DATABASE_URL = "sqlite:///./evfleet.db"
"""Where the data live unless ``EVFLEET_DATABASE_URL`` or ``--database-url`` says otherwise."""

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_MIGRATION_LOCK = 0x45564631  # "EVF1": PostgreSQL advisory lock held while migrating


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` as ``postgresql+psycopg://`` (psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")  # an in-memory database answers "memory"
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite connections get WAL, foreign keys and a busy timeout."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        memory = parsed.database in (None, "", ":memory:")
        if not memory and parsed.database:
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {
            "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        }
        if memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def alembic_config() -> Config:
    """The Alembic configuration of the shipped migrations (no ``alembic.ini`` needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrades the schema to ``revision`` (``head``: the newest), in one transaction.

    On PostgreSQL an advisory lock makes concurrent start-ups wait for each other.
    """
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The schema's Alembic revision (``None``: not migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


class Database:
    """An engine and its session factory; sessions do not expire objects on commit."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, echo=echo)
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_env(cls) -> Database:
        """The database named by ``EVFLEET_DATABASE_URL`` (default: ``./evfleet.db``)."""
        return cls(os.environ.get("EVFLEET_DATABASE_URL") or DEFAULT_DATABASE_URL)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def migrate(self, revision: str = "head") -> None:
        """Upgrades the schema (see :func:`migrate`)."""
        migrate(self.engine, revision)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends without an error, else rolls back."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Closes every pooled connection."""
        self.engine.dispose()
