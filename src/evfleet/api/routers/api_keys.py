"""``/api-keys``: machine credentials (admins make and revoke them; the key is shown once)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from evfleet.api.auth import Permission, Principal, new_api_key, require
from evfleet.api.common import LimitQuery, OffsetQuery, commit, get_or_404, scope_of
from evfleet.api.deps import DbSession, Services, get_services
from evfleet.api.problems import ProblemError, field_error
from evfleet.api.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut, Page
from evfleet.store import models as m
from evfleet.store.models import utcnow

router = APIRouter(prefix="/api-keys", tags=["api keys"])
Admin = Annotated[Principal, Depends(require(Permission.USERS_WRITE))]


@router.get("", response_model=Page[ApiKeyOut], summary="List API keys (never their secrets)")
def list_keys(
    principal: Admin, session: DbSession, limit: LimitQuery = 100, offset: OffsetQuery = 0
) -> Page[ApiKeyOut]:
    rows, total = scope_of(session, principal).page(
        m.ApiKey, order_by=[m.ApiKey.created_at.desc()], limit=limit, offset=offset
    )
    return Page(
        items=[ApiKeyOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post("", response_model=ApiKeyCreated, status_code=201, summary="Make an API key")
def create_key(
    body: ApiKeyIn,
    principal: Admin,
    session: DbSession,
    services: Annotated[Services, Depends(get_services)],
) -> ApiKeyCreated:
    """A ``vehicle`` key is bound to one of the organisation's vehicles (``vehicle_id``)."""
    scope = scope_of(session, principal)
    if body.vehicle_id is not None and scope.get(m.Vehicle, body.vehicle_id) is None:
        raise ProblemError(
            422,
            "no such vehicle",
            slug="validation",
            errors=[field_error(["body", "vehicle_id"], "no such vehicle")],
        )
    key, prefix, secret_hash = new_api_key(services)
    row = scope.add(
        m.ApiKey(
            name=body.name,
            role=body.role,
            prefix=prefix,
            secret_hash=secret_hash,
            vehicle_id=body.vehicle_id,
        )
    )
    commit(session, "the API key")
    return ApiKeyCreated.model_validate({**ApiKeyOut.model_validate(row).model_dump(), "key": key})


@router.get("/{key_id}", response_model=ApiKeyOut, summary="An API key")
def get_key(key_id: uuid.UUID, principal: Admin, session: DbSession) -> ApiKeyOut:
    row = get_or_404(scope_of(session, principal), m.ApiKey, key_id, "API key")
    return ApiKeyOut.model_validate(row)


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key")
def revoke_key(key_id: uuid.UUID, principal: Admin, session: DbSession) -> Response:
    """The key stops working at once; its record stays for the audit trail."""
    row = get_or_404(scope_of(session, principal), m.ApiKey, key_id, "API key")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        commit(session, "the API key")
    return Response(status_code=204)
