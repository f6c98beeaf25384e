"""API fixtures: an app on SQLite (or, where a test asks, PostgreSQL) with fast hashing,
and a "world" of two organisations with a user of every role, keys and one of everything.

``backend`` is ``sqlite`` unless a test parametrizes it indirectly
(``@pytest.mark.parametrize("backend", BACKENDS, indirect=True)``). PostgreSQL cases use one
throwaway database per session (emptied before each test); they are skipped when the server
is unreachable, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_world import World, build_world
from fastapi import FastAPI
from fastapi.testclient import TestClient

from evfleet.api.app import create_app
from evfleet.api.deps import services_of_app
from evfleet.api.settings import Settings
from evfleet.store.db import Database
from evfleet.store.testing import postgres_unreachable, reset_schema, throwaway_database

FAST_HASHING: dict[str, Any] = {
    "argon2_time_cost": 1,
    "argon2_memory_kib": 64,
    "argon2_parallelism": 1,
}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of this session's throwaway PostgreSQL database."""
    reason = postgres_unreachable()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: CI must start PostgreSQL)")
        pytest.skip(reason)
    with throwaway_database("evfleet_api") as url:
        yield url


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'api.db'}"
    url = str(request.getfixturevalue("postgres_url"))
    reset_schema(url)
    return url


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., FastAPI]]:
    """Builds apps on the test database; ``make_app(allow_signup=False, ...)`` overrides."""
    made: list[FastAPI] = []

    def factory(**overrides: Any) -> FastAPI:
        values: dict[str, Any] = {
            "database_url": database_url,
            "allow_signup": True,
            "login_attempts_per_ip": 10_000,
            "sse_poll_s": 0.05,
            **FAST_HASHING,
        }
        values.update(overrides)
        app = create_app(Settings(**values))
        made.append(app)
        return app

    yield factory
    for app in made:
        services_of_app(app).db.dispose()


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    return make_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def db(app: FastAPI) -> Database:
    """The app's database (for checks behind the API's back)."""
    return services_of_app(app).db


@pytest.fixture
def world(client: TestClient, db: Database) -> World:
    return build_world(client, db)
