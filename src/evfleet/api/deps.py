"""What request handlers share: the app's services and a database session per request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import Session

from evfleet.api.hashing import SecretHasher
from evfleet.api.ratelimit import SlidingWindowLimiter
from evfleet.api.settings import Settings
from evfleet.store.db import Database

__all__ = [
    "DbSession",
    "Services",
    "get_services",
    "get_session",
    "services_of",
    "services_of_app",
]


@dataclass
class Services:
    """Per-app state: settings, database, secret hashing, login limiters, API-key cache."""

    settings: Settings
    db: Database
    hasher: SecretHasher
    account_limiter: SlidingWindowLimiter
    ip_limiter: SlidingWindowLimiter
    key_cache: dict[str, float] = field(default_factory=dict)


def services_of_app(app: FastAPI) -> Services:
    """The :class:`Services` of ``app`` (made by :func:`evfleet.api.app.create_app`)."""
    services = app.state.services
    assert isinstance(services, Services)
    return services


def services_of(request: Request) -> Services:
    """The :class:`Services` of the app serving ``request``."""
    return services_of_app(request.app)


def get_services(request: Request) -> Services:
    """Dependency: the app's :class:`Services`."""
    return services_of(request)


def get_session(request: Request) -> Iterator[Session]:
    """Dependency: a session for this request; handlers commit, anything left is rolled back."""
    with services_of(request).db.sessions() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]
"""A handler parameter that receives the request's session."""
