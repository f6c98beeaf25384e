"""Settings of the REST service, from arguments or ``EVFLEET_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass

from evfleet.store.db import DEFAULT_DATABASE_URL

__all__ = ["Settings"]


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass(frozen=True)
class Settings:
    """How the service runs.

    ``database_url``: SQLite file or PostgreSQL URL. ``migrate``: upgrade the schema to head
    when the app is created. ``allow_signup``: whether ``POST /api/v1/organisations`` may
    create an organisation with its first admin without credentials (off by default; use
    :func:`evfleet.api.bootstrap.bootstrap_organisation` or ``evfleet serve --bootstrap-*``).
    ``token_ttl_s``: lifetime of a login token. Login attempts are limited to
    ``login_attempts_per_account`` failures per account and ``login_attempts_per_ip``
    attempts per client address within ``login_window_s`` seconds. ``argon2_time_cost``,
    ``argon2_memory_kib`` and ``argon2_parallelism`` tune password and key hashing (lower
    them only for tests). ``max_upload_bytes`` bounds an orders file. ``tile_url`` is the
    dashboard's map tile template (``https://tile.openstreetmap.org/{z}/{x}/{y}.png`` or a
    local tile server; ``None``: no tiles, routes on a plain background) with its
    ``tile_attribution`` and ``tile_max_zoom``.
    """

    database_url: str = DEFAULT_DATABASE_URL
    migrate: bool = True
    allow_signup: bool = False
    token_ttl_s: int = 12 * 3600
    login_attempts_per_account: int = 5
    login_attempts_per_ip: int = 30
    login_window_s: int = 300
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65_536
    argon2_parallelism: int = 4
    max_upload_bytes: int = 10 * 1024 * 1024
    sse_poll_s: float = 0.5
    tile_url: str | None = None
    tile_attribution: str = "© OpenStreetMap contributors"
    tile_max_zoom: int = 19

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from ``EVFLEET_DATABASE_URL``, ``EVFLEET_ALLOW_SIGNUP`` (``1``),
        ``EVFLEET_TOKEN_TTL_S`` and ``EVFLEET_TILE_URL``, then ``overrides`` (``None``
        values are ignored)."""
        values: dict[str, object] = {
            "database_url": os.environ.get("EVFLEET_DATABASE_URL") or DEFAULT_DATABASE_URL,
            "allow_signup": os.environ.get("EVFLEET_ALLOW_SIGNUP", "") in {"1", "true", "yes"},
            "token_ttl_s": _env_int("EVFLEET_TOKEN_TTL_S", cls.token_ttl_s),
            "tile_url": os.environ.get("EVFLEET_TILE_URL") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
