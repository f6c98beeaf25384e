"""The FastAPI application: ``create_app(settings)`` wires storage, auth, problems and routers.

Everything is under ``/api/v1``; the OpenAPI document is ``/api/v1/openapi.json`` and the
interactive docs ``/api/v1/docs``. The app never plans: planning jobs are queued in the
database and run by the worker process (:mod:`evfleet.api.worker`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from evfleet.api import problems
from evfleet.api.deps import Services
from evfleet.api.hashing import SecretHasher
from evfleet.api.ratelimit import SlidingWindowLimiter
from evfleet.api.routers import (
    api_keys,
    auth,
    chargers,
    depots,
    health,
    jobs,
    live,
    orders,
    organisations,
    plans,
    routes,
    telemetry,
    tracking_links,
    ui,
    users,
    vehicle_types,
    vehicles,
)
from evfleet.api.settings import Settings
from evfleet.live import LiveHub, LiveTracking
from evfleet.store.db import Database
from evfleet.web import mount_web

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"
API_VERSION = "1.0.0"


def _problem_media_types(document: dict[str, Any]) -> dict[str, Any]:
    """Documents every 4xx body as ``application/problem+json`` (FastAPI writes JSON)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                content = response.get("content")
                if str(status).startswith("4") and content:
                    media = next(iter(content.values()))
                    response["content"] = {problems.PROBLEM_MEDIA_TYPE: media}
    return document


MAX_CONCURRENT_REQUESTS = 12
"""Requests handled at once; the rest wait in the event loop. Kept below the database pool
(5 connections plus 10 overflow by default) so that a request that holds a connection always
finds a worker thread to finish on: with more requests in flight than connections, waiting
requests fill the thread pool and the ones holding connections stall until the pool times
out (seen at about 55 concurrent clients)."""


class ConcurrencyLimit:
    """ASGI middleware: at most ``limit`` HTTP requests at once (event streams excepted)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._semaphore: asyncio.Semaphore | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).endswith("/events"):
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limit)
        async with self._semaphore:
            await self.app(scope, receive, send)


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """The application for ``settings`` (default: from the environment).

    With ``settings.migrate`` the schema is upgraded to head first. ``database`` lets a
    caller share an already open :class:`~evfleet.store.db.Database`.
    """
    settings = settings or Settings.from_env()
    db = database or Database(settings.database_url)
    if settings.migrate:
        db.migrate()
    app = FastAPI(
        title="evfleet",
        version=API_VERSION,
        summary="Plan, dispatch and account for electric delivery fleets.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        responses=problems.PROBLEM_RESPONSES,
    )
    app.state.services = Services(
        settings=settings,
        db=db,
        hasher=SecretHasher(
            settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
        ),
        account_limiter=SlidingWindowLimiter(
            settings.login_attempts_per_account, settings.login_window_s
        ),
        ip_limiter=SlidingWindowLimiter(settings.login_attempts_per_ip, settings.login_window_s),
    )
    app.state.live_hub = LiveHub()
    app.state.live_tracking = LiveTracking(db, app.state.live_hub)
    problems.install(app)
    app.add_middleware(ConcurrencyLimit, limit=MAX_CONCURRENT_REQUESTS)
    for module in (
        health,
        auth,
        organisations,
        users,
        api_keys,
        depots,
        vehicle_types,
        vehicles,
        chargers,
        orders,
        jobs,  # before plans: /plans/jobs must not be read as /plans/{plan_id}
        plans,
        routes,
        telemetry,
        live,
        tracking_links,
        ui,
    ):
        app.include_router(module.router, prefix=API_PREFIX)

    mount_web(app)  # the dashboard and tracking pages, outside /api/v1

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            app.openapi_schema = _problem_media_types(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
