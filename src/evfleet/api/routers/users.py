"""``/users``: the organisation's people and their roles (admins change them)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import func, select

from evfleet.api.auth import Permission, Principal, require
from evfleet.api.common import LimitQuery, OffsetQuery, commit, get_or_404, scope_of
from evfleet.api.deps import DbSession, Services, get_services
from evfleet.api.problems import conflict, field_error
from evfleet.api.schemas import Page, UserIn, UserOut, UserRoleName, UserUpdate
from evfleet.store import models as m
from evfleet.store.repositories import Scope, user_by_email

router = APIRouter(prefix="/users", tags=["users"])
Reader = Annotated[Principal, Depends(require(Permission.USERS_READ))]
Writer = Annotated[Principal, Depends(require(Permission.USERS_WRITE))]


def _active_admins(scope: Scope) -> int:
    query = select(func.count()).where(
        m.User.organisation_id == scope.organisation_id, m.User.role == "admin", m.User.active
    )
    return scope.session.scalar(query) or 0


def _keep_an_admin(scope: Scope, user: m.User, *, role: str, active: bool) -> None:
    losing = user.role == "admin" and user.active and (role != "admin" or not active)
    if losing and _active_admins(scope) <= 1:
        raise conflict("the organisation must keep at least one active admin", slug="last-admin")


@router.get("", response_model=Page[UserOut], summary="List users")
def list_users(
    principal: Reader,
    session: DbSession,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
    role: Annotated[UserRoleName | None, Query()] = None,
) -> Page[UserOut]:
    where = [m.User.role == role] if role else []
    rows, total = scope_of(session, principal).page(
        m.User, *where, order_by=[m.User.email], limit=limit, offset=offset
    )
    return Page(
        items=[UserOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post("", response_model=UserOut, status_code=201, summary="Add a user")
def create_user(
    body: UserIn,
    principal: Writer,
    session: DbSession,
    services: Annotated[Services, Depends(get_services)],
) -> UserOut:
    """E-mail addresses are unique across the service (they name the login)."""
    taken = conflict(
        "the e-mail address is already registered",
        slug="duplicate",
        errors=[field_error(["body", "email"], "already registered", "duplicate")],
    )
    if user_by_email(session, body.email) is not None:
        raise taken
    user = scope_of(session, principal).add(
        m.User(
            email=body.email.strip().lower(),
            name=body.name,
            role=body.role,
            password_hash=services.hasher.hash(body.password),
            active=body.active,
        )
    )
    commit(session, "the user", taken.errors)
    return UserOut.model_validate(user)


@router.get("/{user_id}", response_model=UserOut, summary="A user")
def get_user(user_id: uuid.UUID, principal: Reader, session: DbSession) -> UserOut:
    return UserOut.model_validate(get_or_404(scope_of(session, principal), m.User, user_id, "user"))


@router.patch("/{user_id}", response_model=UserOut, summary="Change a user's name, role, password")
def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    principal: Writer,
    session: DbSession,
    services: Annotated[Services, Depends(get_services)],
) -> UserOut:
    """Deactivating a user or changing a password revokes the user's login tokens."""
    scope = scope_of(session, principal)
    user = get_or_404(scope, m.User, user_id, "user")
    role = body.role or user.role
    active = user.active if body.active is None else body.active
    _keep_an_admin(scope, user, role=role, active=active)
    if body.name is not None:
        user.name = body.name
    user.role = role
    user.active = active
    revoke = not active or body.password is not None
    if body.password is not None:
        user.password_hash = services.hasher.hash(body.password)
    if revoke:
        for token in scope.all(m.AccessToken, m.AccessToken.user_id == user.id):
            session.delete(token)
    commit(session, "the user")
    return UserOut.model_validate(user)


@router.delete("/{user_id}", status_code=204, summary="Remove a user")
def delete_user(user_id: uuid.UUID, principal: Writer, session: DbSession) -> Response:
    """The user's tokens go with them; routes they drove keep no driver."""
    scope = scope_of(session, principal)
    user = get_or_404(scope, m.User, user_id, "user")
    _keep_an_admin(scope, user, role="none", active=False)
    scope.delete(user)
    commit(session, "the user")
    return Response(status_code=204)
