"""``POST /telemetry``: a van's (or its gateway's) batch of VSS telemetry messages over HTTP.

The body is a JSON array of messages (``docs/telemetry.md``, at most 1,000). Only a
vehicle API key may write, and only its own vehicle's telemetry: an entry naming another
vehicle of the organisation makes the whole request 403, one naming a vehicle the
organisation does not have (another organisation's included) 404; nothing is stored then.
Otherwise the answer is 202 with the counts: ``accepted`` (stored now), ``duplicates``
(already stored: a retry is harmless) and ``rejected`` (invalid, with the index, field and
reason of each; they are kept as dead letters).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field

from evfleet.api.auth import Permission, Principal, require
from evfleet.api.common import scope_of
from evfleet.api.deps import DbSession, services_of
from evfleet.api.problems import ProblemError, field_error, forbidden, not_found
from evfleet.api.routers.live import live_tracking_of
from evfleet.ingest.writer import Incoming, Refused, TelemetryStore
from evfleet.store import models as m
from evfleet.store.models import utcnow
from evfleet.telemetry import MAX_BATCH, DeadLetter, TelemetryError, decode_batch

router = APIRouter(prefix="/telemetry", tags=["telemetry"])
VehicleKey = Annotated[Principal, Depends(require(Permission.OWN_VEHICLE))]


class EntryError(BaseModel):
    """Why one entry of the batch was refused."""

    index: int = Field(description="Position of the entry in the array (from 0)")
    field: str = Field(description="The offending key (a VSS path, vehicle_id, seq, or $)")
    reason: str


class TelemetryAccepted(BaseModel):
    """What became of a batch."""

    accepted: int = Field(description="Messages stored now")
    duplicates: int = Field(description="Messages already stored (same vehicle, seq and time)")
    rejected: int = Field(description="Invalid entries (kept as dead letters)")
    errors: list[EntryError] = Field(default_factory=list)


def _store(request: Request) -> TelemetryStore:
    store = getattr(request.app.state, "telemetry_store", None)
    if not isinstance(store, TelemetryStore):
        store = TelemetryStore(services_of(request).db)
        request.app.state.telemetry_store = store
    return store


def _check_vehicles(session: DbSession, principal: Principal, vehicle_ids: set[str]) -> None:
    scope = scope_of(session, principal)
    for text in sorted(vehicle_ids):
        try:
            vehicle_id = uuid.UUID(text)
        except ValueError:
            raise not_found("vehicle") from None
        if principal.can_write_telemetry(vehicle_id):
            continue
        if scope.get(m.Vehicle, vehicle_id) is None:
            raise not_found("vehicle")
        raise forbidden("a vehicle key may only write its own vehicle's telemetry")


@router.post(
    "",
    response_model=TelemetryAccepted,
    status_code=202,
    summary="Send a batch of telemetry messages",
    responses={202: {"description": "Stored (see the counts; rejected entries are listed)"}},
)
def post_telemetry(
    request: Request,
    principal: VehicleKey,
    session: DbSession,
    body: Annotated[
        list[Any],
        Body(description=f"A JSON array of VSS telemetry messages (at most {MAX_BATCH})"),
    ],
) -> TelemetryAccepted:
    """Stores each valid message once (duplicates are counted, not stored again)."""
    try:
        batch = decode_batch(body)
    except TelemetryError as exc:
        raise ProblemError(
            422,
            exc.reason,
            slug="validation",
            errors=[field_error(["body"], exc.reason)],
        ) from None
    _check_vehicles(session, principal, {msg.vehicle_id.lower() for msg in batch.messages})
    session.close()  # the write uses its own transaction
    now = utcnow()
    org = principal.organisation_id
    refused = [Refused(DeadLetter.of("http", r.raw, r.error, now), org) for r in batch.rejected]
    incoming = [Incoming(msg, org, "http", now) for msg in batch.messages]
    result = _store(request).write(incoming, refused)
    live = live_tracking_of(request.app)
    if live is not None:
        live.handle(org, batch.messages)
    errors = [
        EntryError(index=r.index, field=r.error.field, reason=r.error.reason)
        for r in batch.rejected
    ]
    # Map the storage window's refusals back to their positions in the body.
    positions = [i for i in range(len(body)) if i not in {r.index for r in batch.rejected}]
    for index, error in result.refused.items():
        errors.append(EntryError(index=positions[index], field=error.field, reason=error.reason))
    errors.sort(key=lambda e: e.index)
    return TelemetryAccepted(
        accepted=result.accepted,
        duplicates=result.duplicates,
        rejected=len(errors),
        errors=errors,
    )
