"""``/live``: where the vans are now, the tracking events feed, and the WebSocket of both.

``GET /live/vehicles`` gives each van's latest state (from ``telemetry_latest``) with the
dispatched route it drives; ``GET /live/events`` the newest tracking events (stop reached,
delivered, alerts). ``/live/ws`` is a WebSocket: a browser cannot send an Authorization
header there, so the login token (or API key) comes as the ``access_token`` query
parameter. It sends a ``snapshot`` first, then every ``vehicle``, ``stop``, ``eta`` and
``event`` push of the organisation (drivers: only their own vans) as JSON text frames.
Positions are conflated per van (a slow client gets each van's newest fix, not every
one). Closing codes: 4401 bad credential, 4403 role not allowed, 4408 the client fell too
far behind on the other pushes (reconnect for a fresh snapshot).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, WebSocket, WebSocketDisconnect
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from evfleet.api.auth import Permission, Principal, authenticate, require_any
from evfleet.api.deps import DbSession, services_of_app
from evfleet.api.problems import ProblemError
from evfleet.live import LiveHub, LiveTracking, accepts_for, event_out
from evfleet.store import models as m

router = APIRouter(prefix="/live", tags=["live"])
Reader = Annotated[Principal, Depends(require_any(Permission.PLANS_READ, Permission.OWN_ROUTES))]


def own_vehicles(session: Session, principal: Principal) -> set[str] | None:
    """The vans a principal may follow: ``None`` for all, else a driver's dispatched ones."""
    if principal.sees_all_routes:
        return None
    rows = session.execute(
        select(m.PlanRoute.vehicle_id)
        .join(m.Plan, m.Plan.id == m.PlanRoute.plan_id)
        .where(
            m.Plan.organisation_id == principal.organisation_id,
            m.Plan.status == "dispatched",
            m.PlanRoute.driver_id == principal.user_id,
        )
    ).all()
    return {str(r[0]) for r in rows if r[0] is not None}


def _routes(session: Session, organisation_id: uuid.UUID) -> dict[str, tuple[str, str]]:
    """vehicle id → (plan id, route id) of the latest dispatched plan driving it."""
    rows = session.execute(
        select(m.PlanRoute.vehicle_id, m.PlanRoute.plan_id, m.PlanRoute.id)
        .join(m.Plan, m.Plan.id == m.PlanRoute.plan_id)
        .where(m.Plan.organisation_id == organisation_id, m.Plan.status == "dispatched")
        .order_by(m.Plan.dispatched_at.asc().nulls_first())
    ).all()
    return {str(v): (str(p), str(r)) for v, p, r in rows if v is not None}


def live_vehicles(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The latest state of every van of the caller's organisation that has reported."""
    allowed = own_vehicles(session, principal)
    vehicles = {
        str(v.id): v
        for v in session.scalars(
            select(m.Vehicle).where(m.Vehicle.organisation_id == principal.organisation_id)
        )
    }
    routes = _routes(session, principal.organisation_id)
    latest = session.scalars(
        select(m.telemetry_models.TelemetryLatest).where(
            m.telemetry_models.TelemetryLatest.organisation_id == principal.organisation_id
        )
    ).all()
    items = []
    for row in latest:
        vid = row.vehicle_id.lower()
        vehicle = vehicles.get(vid)
        if vehicle is None or (allowed is not None and vid not in allowed):
            continue
        plan_id, route_id = routes.get(vid, (None, None))
        items.append(
            {
                "type": "vehicle",
                "vehicle_id": vid,
                "plate": vehicle.plate,
                "name": vehicle.name,
                "plan_id": plan_id,
                "route_id": route_id,
                "latitude_deg": row.latitude_deg,
                "longitude_deg": row.longitude_deg,
                "heading_deg": row.heading_deg,
                "speed_m_per_s": row.speed_m_per_s,
                "soc_pct": row.soc_pct,
                "range_m": row.range_m,
                "charging": row.is_charging,
                "timestamp": row.ts.isoformat(),
                "received_at": row.received_at.isoformat(),
                "seq": row.seq,
            }
        )
    items.sort(key=lambda item: (item["plate"], item["vehicle_id"]))
    return items


@router.get("/vehicles", summary="Each van's latest position and state of charge")
def get_vehicles(principal: Reader, session: DbSession) -> dict[str, Any]:
    return {"items": live_vehicles(session, principal)}


@router.get("/events", summary="The newest tracking events (stops, deliveries, alerts)")
def get_events(
    principal: Reader,
    session: DbSession,
    plan_id: Annotated[uuid.UUID | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    query = select(m.TrackingEvent).where(
        m.TrackingEvent.organisation_id == principal.organisation_id
    )
    if plan_id is not None:
        query = query.where(m.TrackingEvent.plan_id == plan_id)
    allowed = own_vehicles(session, principal)
    if allowed is not None:
        ids = [uuid.UUID(v) for v in allowed]
        query = query.where(m.TrackingEvent.vehicle_id.in_(ids))
    rows = session.scalars(
        query.order_by(m.TrackingEvent.at.desc(), m.TrackingEvent.id).limit(limit)
    ).all()
    return {"items": [event_out(r) for r in rows]}


def _connect(websocket: WebSocket, credential: str) -> tuple[Principal, set[str] | None, Any]:
    services = services_of_app(websocket.app)
    with services.db.sessions() as session:
        principal = authenticate(session, services, credential)
        if not (principal.can(Permission.PLANS_READ) or principal.can(Permission.OWN_ROUTES)):
            raise ProblemError(403, f"the role {principal.role.value} cannot follow vans")
        allowed = own_vehicles(session, principal)
        snapshot = live_vehicles(session, principal)
    return principal, allowed, snapshot


@router.websocket("/ws")
async def live_socket(
    websocket: WebSocket, access_token: Annotated[str | None, Query()] = None
) -> None:
    credential = access_token or ""
    header = websocket.headers.get("authorization", "")
    if not credential and header.lower().startswith("bearer "):
        credential = header[7:]
    await websocket.accept()
    try:
        principal, allowed, snapshot = await run_in_threadpool(_connect, websocket, credential)
    except ProblemError as exc:
        await websocket.close(code=4403 if exc.status == 403 else 4401, reason=exc.detail[:120])
        return
    hub: LiveHub = websocket.app.state.live_hub
    sub = hub.subscribe(principal.organisation_id, accepts_for(allowed))
    try:
        await websocket.send_json({"type": "snapshot", "vehicles": snapshot})
        receiver = asyncio.ensure_future(websocket.receive_text())
        while True:
            getter = asyncio.ensure_future(sub.take())
            done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                getter.cancel()
                receiver.result()  # raises WebSocketDisconnect when the client left
                receiver = asyncio.ensure_future(websocket.receive_text())
                continue
            texts = getter.result()
            if sub.overflowed:
                receiver.cancel()
                await websocket.close(code=4408, reason="too far behind; reconnect")
                return
            for text in texts:
                await websocket.send_text(text)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.unsubscribe(sub)


def live_tracking_of(app: Any) -> LiveTracking | None:
    """The app's :class:`LiveTracking` (``None`` if it has none)."""
    live = getattr(app.state, "live_tracking", None)
    return live if isinstance(live, LiveTracking) else None
