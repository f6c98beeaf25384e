"""``/track/{token}``: what an order's customer may see through its tracking link.

No login: the token in the link (128 random bits, one per order) is the credential. The
answer carries the order's status and a window around the latest ETA, and nothing else:
no address, no driver, no vehicle, no other stops. An unknown token is a 404, the same as
for a wrong one, so that links cannot be probed.
"""

from __future__ import annotations

import datetime as dt
import math

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from evfleet.api.deps import DbSession
from evfleet.api.problems import not_found
from evfleet.store import models as m

router = APIRouter(prefix="/track", tags=["tracking links"])

WINDOW_HALF_S = 900.0
"""Half the width of the ETA window shown to customers, s."""
ROUND_S = 300.0
"""Window ends are rounded outwards to this many s (5 minutes)."""


class TrackingOut(BaseModel):
    """An order as its customer sees it. Times: s since midnight of ``delivery_date``."""

    status: str = Field(description="received, planned, dispatched, out_for_delivery, ...")
    delivery_date: dt.date | None
    eta_earliest_s: float | None = Field(description="Start of the expected arrival window")
    eta_latest_s: float | None = Field(description="End of the expected arrival window")
    delivered_at_s: float | None = Field(description="When it was delivered, if it was")
    updated_at: dt.datetime


def eta_window(eta_s: float | None) -> tuple[float | None, float | None]:
    """The customer's window around ``eta_s``: ±15 minutes, rounded out to 5 minutes."""
    if eta_s is None or not math.isfinite(eta_s):
        return None, None
    early = math.floor((eta_s - WINDOW_HALF_S) / ROUND_S) * ROUND_S
    late = math.ceil((eta_s + WINDOW_HALF_S) / ROUND_S) * ROUND_S
    return max(early, 0.0), late


@router.get("/{token}", response_model=TrackingOut, summary="An order's status and ETA window")
def track(token: str, session: DbSession) -> TrackingOut:
    if len(token) < 16:
        raise not_found("tracking link")
    order = session.scalars(select(m.Order).where(m.Order.tracking_token == token)).first()
    if order is None:
        raise not_found("tracking link")
    stop = session.scalars(
        select(m.PlanStop)
        .join(m.PlanRoute, m.PlanRoute.id == m.PlanStop.route_id)
        .join(m.Plan, m.Plan.id == m.PlanRoute.plan_id)
        .where(m.PlanStop.order_id == order.id, m.Plan.status.in_(("dispatched", "draft")))
        .order_by(m.Plan.created_at.desc())
    ).first()
    earliest = latest = delivered = None
    if stop is not None and order.status != "delivered":
        earliest, latest = eta_window(stop.eta_s if stop.eta_s is not None else stop.arrival_s)
    if stop is not None and order.status == "delivered":
        delivered = stop.actual_departure_s or stop.actual_arrival_s
    return TrackingOut(
        status=order.status,
        delivery_date=order.delivery_date,
        eta_earliest_s=earliest,
        eta_latest_s=latest,
        delivered_at_s=delivered,
        updated_at=order.updated_at,
    )
