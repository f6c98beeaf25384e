"""Storage fixtures: an empty database of each kind, SQLite (a file) and PostgreSQL (real).

PostgreSQL runs on the local server in one throwaway database per test session (created
at the first use, dropped at the end) whose schema is emptied before each test. Where the
server is unreachable the PostgreSQL cases are skipped, except under ``CI=true``, where
they fail: CI starts the server, so its absence there is a fault to see.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from evfleet.store.db import Database
from evfleet.store.testing import postgres_unreachable, reset_schema, throwaway_database

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of this session's throwaway PostgreSQL database."""
    reason = postgres_unreachable()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: CI must start PostgreSQL)")
        pytest.skip(reason)
    with throwaway_database("evfleet_store") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty (unmigrated) database, once for each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'evfleet.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        reset_schema(url)
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def db(empty_db: Database) -> Database:
    """A database migrated to head, once for each backend."""
    empty_db.migrate()
    return empty_db
