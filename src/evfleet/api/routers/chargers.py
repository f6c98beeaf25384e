"""``/chargers``: charging sites off the depots (public or partners')."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from evfleet.api.auth import Permission, Principal, require
from evfleet.api.common import LimitQuery, OffsetQuery, commit, duplicate, get_or_404, scope_of
from evfleet.api.convert import check_charger
from evfleet.api.deps import DbSession
from evfleet.api.schemas import ChargerIn, ChargerOut, ChargerUpdate, Page
from evfleet.store import models as m
from evfleet.store.repositories import Scope

router = APIRouter(prefix="/chargers", tags=["fleet"])
Reader = Annotated[Principal, Depends(require(Permission.FLEET_READ))]
Writer = Annotated[Principal, Depends(require(Permission.FLEET_WRITE))]


def _unique(scope: Scope, code: str, row_id: uuid.UUID | None = None) -> None:
    other = scope.find(m.Charger, m.Charger.code == code)
    if other is not None and other.id != row_id:
        raise duplicate("code", code, "charger")


@router.get("", response_model=Page[ChargerOut], summary="List chargers")
def list_chargers(
    principal: Reader, session: DbSession, limit: LimitQuery = 100, offset: OffsetQuery = 0
) -> Page[ChargerOut]:
    rows, total = scope_of(session, principal).page(
        m.Charger, order_by=[m.Charger.code], limit=limit, offset=offset
    )
    return Page(
        items=[ChargerOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post("", response_model=ChargerOut, status_code=201, summary="Add a charger")
def create_charger(body: ChargerIn, principal: Writer, session: DbSession) -> ChargerOut:
    scope = scope_of(session, principal)
    _unique(scope, body.code)
    row = m.Charger(**body.model_dump())
    check_charger(row)
    scope.add(row)
    commit(session, "the charger")
    return ChargerOut.model_validate(row)


@router.get("/{charger_id}", response_model=ChargerOut, summary="A charger")
def get_charger(charger_id: uuid.UUID, principal: Reader, session: DbSession) -> ChargerOut:
    return ChargerOut.model_validate(
        get_or_404(scope_of(session, principal), m.Charger, charger_id, "charger")
    )


@router.patch("/{charger_id}", response_model=ChargerOut, summary="Change a charger")
def update_charger(
    charger_id: uuid.UUID, body: ChargerUpdate, principal: Writer, session: DbSession
) -> ChargerOut:
    scope = scope_of(session, principal)
    row = get_or_404(scope, m.Charger, charger_id, "charger")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("code") is not None:
        _unique(scope, changes["code"], row.id)
    for name, value in changes.items():
        if value is not None or name == "close_s":
            setattr(row, name, value)
    check_charger(row)
    commit(session, "the charger")
    return ChargerOut.model_validate(row)


@router.delete("/{charger_id}", status_code=204, summary="Remove a charger")
def delete_charger(charger_id: uuid.UUID, principal: Writer, session: DbSession) -> Response:
    """Plans that stopped there keep the stop, without the link."""
    scope = scope_of(session, principal)
    scope.delete(get_or_404(scope, m.Charger, charger_id, "charger"))
    commit(session, "the charger")
    return Response(status_code=204)
