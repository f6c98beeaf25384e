"""Ingest fixtures: a migrated database of each kind (SQLite file, throwaway PostgreSQL),
and a fleet in it. PostgreSQL cases are skipped when the server is unreachable, except
under ``CI=true``, where they fail."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from evfleet.ingest.testing import Fleet, add_fleet
from evfleet.store.db import Database
from evfleet.store.testing import postgres_unreachable, reset_schema, throwaway_database

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    reason = postgres_unreachable()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: CI must start PostgreSQL)")
        pytest.skip(reason)
    with throwaway_database("evfleet_ingest") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database, once for each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ingest.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        reset_schema(url)
    database = Database(url)
    database.migrate()
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def fleet(db: Database) -> Fleet:
    return add_fleet(db, 3)
