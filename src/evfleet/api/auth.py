"""Who is calling and what they may do: roles, permissions, credentials, the principal.

**Credentials.** Every request but login, sign-up and health carries
``Authorization: Bearer <credential>``, one of:

- a *login token* ``evt_<43 random characters>`` from ``POST /api/v1/auth/token``;
- an *API key* ``evk_<12-hex prefix>_<43 random characters>``, made by an admin.

**Why login tokens are opaque and stored hashed, not signed.** A token is 256 random bits;
the database keeps only its SHA-256 (a fast hash is enough for a secret that long: nothing
to brute-force, unlike a password). Checking it costs one indexed lookup, which every
request needs anyway to load the user, and in exchange: logout, deactivating a user and
changing a role take effect on the very next request (a signed token stays valid until it
expires, unless a deny-list is consulted, which is the same lookup again); there is no
signing key to generate, share between the web and worker processes, rotate or leak; and
a stolen database yields no usable token. API-key secrets are hashed with argon2id like
passwords (the brief asks for it); the public prefix finds the row, and a positive check is
cached in memory for :data:`KEY_CACHE_S` seconds (keyed by the SHA-256 of the whole key) so
that a busy machine client does not pay argon2 on every call. Revocation is still seen at
once, because the row is read on every request.

**Isolation.** A :class:`Principal` belongs to exactly one organisation; handlers query only
through :class:`~evfleet.store.repositories.Scope` for ``principal.organisation_id``, so
another organisation's ids are not found (404, never 403: no existence oracle).

**Roles.** ``admin`` (everything, users and keys included), ``dispatcher`` (fleet, orders,
plans, jobs), ``viewer`` (read-only), ``driver`` (a person: reads only the routes assigned to
them and moves the orders on those routes along their delivery), ``vehicle`` (an API key
bound to one vehicle: may act only for that vehicle, e.g. write its own telemetry,
:meth:`Principal.can_write_telemetry`). A role without the permission an endpoint needs gets
403; :data:`ROLE_PERMISSIONS` is the whole table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from evfleet.api.deps import DbSession, Services, get_services
from evfleet.api.problems import forbidden, unauthorized
from evfleet.store import models as m
from evfleet.store.models import utcnow
from evfleet.store.repositories import api_key_by_prefix, token_by_hash

__all__ = [
    "ROLE_PERMISSIONS",
    "Permission",
    "Principal",
    "Role",
    "authenticate",
    "current_principal",
    "issue_token",
    "new_api_key",
    "require",
    "require_any",
]

TOKEN_PREFIX = "evt_"
KEY_PREFIX = "evk_"
_TOKEN = re.compile(r"^evt_[A-Za-z0-9_-]{43}$")
_KEY = re.compile(r"^evk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
KEY_CACHE_S = 300.0
"""How long a verified API key is trusted without running argon2 again, in seconds."""
LAST_USED_EVERY_S = 60.0


class Role(StrEnum):
    """What a user or API key is for."""

    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    DRIVER = "driver"
    VEHICLE = "vehicle"
    VIEWER = "viewer"


USER_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.DRIVER, Role.VIEWER)
"""Roles a person (user) may have; ``vehicle`` is for API keys only."""
KEY_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.VIEWER, Role.VEHICLE)
"""Roles an API key may have; ``driver`` is for people only."""


class Permission(StrEnum):
    """One thing an endpoint needs."""

    ORG_READ = "org:read"
    ORG_WRITE = "org:write"
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    FLEET_READ = "fleet:read"
    FLEET_WRITE = "fleet:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    ORDER_STATUS = "orders:status"
    PLANS_READ = "plans:read"
    PLANS_WRITE = "plans:write"
    OWN_ROUTES = "routes:own"
    OWN_VEHICLE = "vehicle:own"


_READ = frozenset(
    {
        Permission.ORG_READ,
        Permission.FLEET_READ,
        Permission.ORDERS_READ,
        Permission.PLANS_READ,
    }
)
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: _READ
    | {
        Permission.ORG_WRITE,
        Permission.USERS_READ,
        Permission.USERS_WRITE,
        Permission.FLEET_WRITE,
        Permission.ORDERS_WRITE,
        Permission.ORDER_STATUS,
        Permission.PLANS_WRITE,
    },
    Role.DISPATCHER: _READ
    | {
        Permission.USERS_READ,
        Permission.FLEET_WRITE,
        Permission.ORDERS_WRITE,
        Permission.ORDER_STATUS,
        Permission.PLANS_WRITE,
    },
    Role.VIEWER: _READ,
    Role.DRIVER: frozenset({Permission.ORG_READ, Permission.OWN_ROUTES, Permission.ORDER_STATUS}),
    Role.VEHICLE: frozenset({Permission.OWN_VEHICLE}),
}
"""What each role may do."""


@dataclass(frozen=True)
class Principal:
    """The caller: a user (by login token) or an API key, in one organisation, with a role.

    ``user_id`` is set for users; ``vehicle_id`` for vehicle keys; ``token_id`` is the login
    token (so that logout can revoke it).
    """

    kind: str
    id: uuid.UUID
    organisation_id: uuid.UUID
    role: Role
    label: str
    user_id: uuid.UUID | None = None
    vehicle_id: uuid.UUID | None = None
    token_id: uuid.UUID | None = None

    def can(self, permission: Permission) -> bool:
        """Whether the role grants ``permission``."""
        return permission in ROLE_PERMISSIONS[self.role]

    @property
    def actor(self) -> str:
        """How the principal appears in histories: ``user:<email>`` or ``api_key:<prefix>``."""
        return f"{self.kind}:{self.label}"

    @property
    def sees_all_routes(self) -> bool:
        """Whether the principal reads every route (else only those assigned to them)."""
        return self.can(Permission.PLANS_READ)

    def can_write_telemetry(self, vehicle_id: uuid.UUID) -> bool:
        """Whether the principal may write telemetry for ``vehicle_id``: only that vehicle's key."""
        return self.can(Permission.OWN_VEHICLE) and self.vehicle_id == vehicle_id


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: m.User, ttl_s: int) -> tuple[str, m.AccessToken]:
    """A new login token for ``user``: the secret (shown once) and its stored row."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = m.AccessToken(
        organisation_id=user.organisation_id,
        user_id=user.id,
        token_hash=_sha256(secret),
        expires_at=utcnow() + dt.timedelta(seconds=ttl_s),
    )
    session.add(row)
    session.flush()
    return secret, row


def new_api_key(services: Services) -> tuple[str, str, str]:
    """A new API key: ``(key, prefix, secret hash)``; the key is shown to its owner once."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{KEY_PREFIX}{prefix}_{secret}", prefix, services.hasher.hash(secret)


_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="evt_… login token or evk_… API key",
    description="A login token from POST /api/v1/auth/token, or an API key.",
)


def _from_token(session: Session, credential: str) -> Principal:
    token = token_by_hash(session, _sha256(credential))
    now = utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise unauthorized("the token is invalid, expired or revoked")
    user = session.get(m.User, token.user_id)
    if user is None or not user.active or user.organisation_id != token.organisation_id:
        raise unauthorized("the token's user is no longer active")
    return Principal(
        kind="user",
        id=user.id,
        organisation_id=user.organisation_id,
        role=Role(user.role),
        label=user.email,
        user_id=user.id,
        token_id=token.id,
    )


def _from_key(session: Session, services: Services, credential: str) -> Principal:
    match = _KEY.match(credential)
    assert match is not None
    prefix, secret = match.groups()
    key = api_key_by_prefix(session, prefix)
    if key is None or key.revoked_at is not None:
        services.hasher.burn(secret)
        raise unauthorized("the API key is invalid or revoked")
    digest = _sha256(credential)
    cached = services.key_cache.get(digest)
    now = time.monotonic()
    if cached is None or cached < now:
        if not services.hasher.verify(key.secret_hash, secret):
            raise unauthorized("the API key is invalid or revoked")
        if len(services.key_cache) > 10_000:
            services.key_cache.clear()
        services.key_cache[digest] = now + KEY_CACHE_S
    stamp = utcnow()
    if key.last_used_at is None or (stamp - key.last_used_at).total_seconds() > LAST_USED_EVERY_S:
        key.last_used_at = stamp
        session.commit()
    return Principal(
        kind="api_key",
        id=key.id,
        organisation_id=key.organisation_id,
        role=Role(key.role),
        label=key.prefix,
        vehicle_id=key.vehicle_id,
    )


def current_principal(
    session: DbSession,
    services: Annotated[Services, Depends(get_services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Dependency: the authenticated caller (401 problem when there is none)."""
    if credentials is None:
        raise unauthorized("send Authorization: Bearer <login token or API key>")
    return authenticate(session, services, credentials.credentials)


def authenticate(session: Session, services: Services, credential: str) -> Principal:
    """The principal of a login token or API key (401 problem when it is not valid)."""
    credential = credential.strip()
    if _TOKEN.match(credential):
        return _from_token(session, credential)
    if _KEY.match(credential):
        return _from_key(session, services, credential)
    raise unauthorized("the credential is not a login token or an API key")


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
"""A handler parameter that receives the authenticated caller, whatever the role."""


def require(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that passes the caller on if the role grants ``permission``, else 403."""

    def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.can(permission):
            raise forbidden(f"the role {principal.role.value} lacks {permission.value}")
        return principal

    dependency.__name__ = f"require_{permission.name.lower()}"
    return dependency


def require_any(*permissions: Permission) -> Callable[[Principal], Principal]:
    """Like :func:`require`, for an endpoint that any of ``permissions`` opens."""

    def dependency(principal: CurrentPrincipal) -> Principal:
        if not any(principal.can(p) for p in permissions):
            needed = " or ".join(p.value for p in permissions)
            raise forbidden(f"the role {principal.role.value} lacks {needed}")
        return principal

    return dependency
