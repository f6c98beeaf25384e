"""``/auth``: log in for a bearer token (rate-limited), log out, who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from evfleet.api.auth import ROLE_PERMISSIONS, CurrentPrincipal, issue_token
from evfleet.api.deps import DbSession, Services, get_services
from evfleet.api.problems import ProblemError, unauthorized
from evfleet.api.schemas import MeOut, TokenOut
from evfleet.store import models as m
from evfleet.store.models import utcnow
from evfleet.store.repositories import user_by_email

router = APIRouter(prefix="/auth", tags=["auth"])


def _too_many(wait_s: int) -> ProblemError:
    return ProblemError(
        429,
        f"too many login attempts; try again in {wait_s} s",
        slug="rate-limited",
        headers={"Retry-After": str(wait_s)},
        extra={"retry_after_s": wait_s},
    )


@router.post("/token", response_model=TokenOut, summary="Log in: e-mail and password for a token")
def login(
    request: Request,
    session: DbSession,
    services: Annotated[Services, Depends(get_services)],
    username: Annotated[str, Form(min_length=1, max_length=254, description="E-mail address")],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
) -> TokenOut:
    """OAuth 2 password grant (form-encoded). Failed attempts are limited per account and
    all attempts per client address; past the limit the answer is 429 with ``Retry-After``."""
    email = username.strip().lower()
    ip = request.client.host if request.client else "unknown"
    wait = max(services.ip_limiter.retry_after(ip), services.account_limiter.retry_after(email))
    if wait:
        raise _too_many(wait)
    services.ip_limiter.hit(ip)
    user = user_by_email(session, email) if "\x00" not in email else None
    if user is None:
        services.hasher.burn(password)
    if user is None or not services.hasher.verify(user.password_hash, password) or not user.active:
        services.account_limiter.hit(email)
        raise unauthorized("wrong e-mail address or password")
    services.account_limiter.reset(email)
    if services.hasher.needs_rehash(user.password_hash):
        user.password_hash = services.hasher.hash(password)
    ttl = services.settings.token_ttl_s
    secret, row = issue_token(session, user, ttl)
    session.commit()
    return TokenOut(access_token=secret, expires_in=ttl, expires_at=row.expires_at)


@router.post("/logout", status_code=204, summary="Revoke the login token of this request")
def logout(principal: CurrentPrincipal, session: DbSession) -> Response:
    """Revokes the token used for this request (an API key is revoked with DELETE /api-keys)."""
    if principal.token_id is not None:
        token = session.get(m.AccessToken, principal.token_id)
        if token is not None and token.revoked_at is None:
            token.revoked_at = utcnow()
            session.commit()
    return Response(status_code=204)


@router.get("/me", response_model=MeOut, summary="The caller: kind, organisation, role")
def me(principal: CurrentPrincipal) -> MeOut:
    """Who the credential belongs to and what its role may do."""
    return MeOut(
        kind="user" if principal.kind == "user" else "api_key",
        id=principal.id,
        organisation_id=principal.organisation_id,
        role=principal.role.value,
        label=principal.label,
        user_id=principal.user_id,
        vehicle_id=principal.vehicle_id,
        permissions=sorted(p.value for p in ROLE_PERMISSIONS[principal.role]),
    )
