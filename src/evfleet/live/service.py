"""Live tracking in the service: telemetry in, stop statuses, events and pushes out.

:class:`LiveTracking` runs the pure :class:`~evfleet.tracking.Tracker` for every
dispatched plan of every organisation. Telemetry reaches it from the HTTP ingest endpoint
(same process) or from an MQTT subscription (:mod:`evfleet.live.mqtt_feed`). For each
message it

1. pushes the van's position and state of charge to the organisation's WebSocket clients
   at once (``{"type": "vehicle", ...}``), before any database work;
2. feeds the plan's tracker, and stores what the tracker concludes in one transaction
   (on a storing thread of its own, so that positions keep flowing meanwhile):
   stop status and actual times (``plan_stops``), the latest ETA per remaining stop, the
   order life cycle (``dispatched → out_for_delivery`` when the route starts,
   ``→ delivered`` at the stop), and a row in ``tracking_events`` for the events feed;
3. then pushes the stop changes (``{"type": "stop", ...}``) and events
   (``{"type": "event", ...}``).

Which van drives which route is read from the database (dispatched plans, the route's
``vehicle_id``) every :attr:`LiveTracking.refresh_s` seconds, and at once for a van it has
not seen. One process should run live tracking for a database (``evfleet serve``): the
trackers' state is in memory, and after a restart a van's progress is rebuilt from the
messages that follow. Times in events: s since the plan day's local midnight, as in plans.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from evfleet.live.hub import LiveHub
from evfleet.network.base import LatLon
from evfleet.order_status import OrderStatus, can_transition
from evfleet.store import models as m
from evfleet.store.db import Database
from evfleet.store.repositories import Scope
from evfleet.telemetry import TelemetryMessage
from evfleet.tracking import (
    AlertEvent,
    ChargerSite,
    EtaEvent,
    Event,
    EventKind,
    IgnoredEvent,
    PlanFormatError,
    RouteEvent,
    StopEvent,
    Tracker,
    TrackerSettings,
)

__all__ = ["LiveTracking", "accepts_for", "event_out", "vehicle_message"]

log = logging.getLogger(__name__)

ACTOR = "tracking"
"""How live tracking appears in order histories."""
ETA_SAVE_EVERY_S = 60.0
"""A route's ETAs are written to ``plan_stops`` at most this often (s of the van's time),
and with each of its stop events; the WebSocket gets every change."""
FORECAST_EVERY_S = 10.0
"""Live forecasts (ETAs, SoC at the stops, late-risk and energy alerts) are made again at
most every this many s of a van's time, and after each stop event: the forecast of every
remaining stop is most of a fix's cost, and a dispatcher needs no second-by-second ETA."""


@dataclass
class _Route:
    """A dispatched route as tracking needs it: ids, its van, stops by sequence."""

    plan_id: uuid.UUID
    route_id: uuid.UUID
    number: int
    vehicle_id: uuid.UUID
    label: str
    stops: dict[int, tuple[uuid.UUID, uuid.UUID | None, str]] = field(default_factory=dict)
    """sequence → (plan stop id, order id, location name)."""


@dataclass
class _Plan:
    plan_id: uuid.UUID
    organisation_id: uuid.UUID
    tracker: Tracker
    routes: dict[str, _Route]
    """vehicle id (text, lower case) → route."""


@dataclass
class _Vehicle:
    organisation_id: uuid.UUID
    plate: str
    name: str


@dataclass
class _Pending:
    """What one batch changed, pushed after its transaction commits."""

    pushes: list[tuple[uuid.UUID, dict[str, Any]]] = field(default_factory=list)


def vehicle_message(
    message: TelemetryMessage,
    vehicle: _Vehicle | None,
    route: _Route | None,
    received_at: dt.datetime,
) -> dict[str, Any]:
    """The ``{"type": "vehicle"}`` push (and ``/live/vehicles`` item) for one message;
    ``received_at`` is when the service got it (a van is stale when that is long ago)."""
    return {
        "type": "vehicle",
        "vehicle_id": message.vehicle_id.lower(),
        "plate": vehicle.plate if vehicle else "",
        "name": vehicle.name if vehicle else "",
        "plan_id": str(route.plan_id) if route else None,
        "route_id": str(route.route_id) if route else None,
        "latitude_deg": message.latitude_deg,
        "longitude_deg": message.longitude_deg,
        "heading_deg": message.heading_deg,
        "speed_m_per_s": message.speed_m_per_s,
        "soc_pct": message.soc_pct,
        "range_m": message.range_m,
        "charging": message.is_charging,
        "timestamp": message.timestamp.isoformat(),
        "received_at": received_at.isoformat(),
        "seq": message.seq,
    }


def _num(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _clock(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "--:--"
    minutes = round(seconds / 60.0)
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


class LiveTracking:
    """Trackers for the dispatched plans; :meth:`handle` feeds them (thread-safe)."""

    def __init__(
        self,
        db: Database,
        hub: LiveHub,
        *,
        settings: TrackerSettings | None = None,
        refresh_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self.db = db
        self.hub = hub
        self.settings = settings or TrackerSettings(forecast_every_s=FORECAST_EVERY_S)
        self.refresh_s = refresh_s
        self.background = background
        self._clock = clock
        self._lock = threading.RLock()
        self._work: queue.Queue[tuple[uuid.UUID, list[tuple[_Plan, _Route, Event]]] | None] = (
            queue.Queue()
        )
        self._worker: threading.Thread | None = None
        self._eta_saved: dict[uuid.UUID, float] = {}
        self._plans: dict[uuid.UUID, _Plan | None] = {}  # None: cannot be tracked
        self._by_vehicle: dict[str, _Plan] = {}
        self._vehicles: dict[str, _Vehicle] = {}
        self._refreshed_at = -math.inf
        self.messages = 0
        self.errors = 0

    # ------------------------------------------------------------------ assignments

    def _refresh(self, session: Session) -> None:
        self._refreshed_at = self._clock()
        self._vehicles = {
            str(v.id): _Vehicle(v.organisation_id, v.plate, v.name)
            for v in session.scalars(select(m.Vehicle))
        }
        # Ids only: a plan's document (megabytes for a big fleet) is read once, when the
        # plan is first seen, not at every refresh.
        ids = session.scalars(
            select(m.Plan.id)
            .where(m.Plan.status == "dispatched")
            .order_by(m.Plan.dispatched_at.asc().nulls_first())
        ).all()
        for gone in set(self._plans) - set(ids):
            del self._plans[gone]
        for plan_id in ids:
            if plan_id not in self._plans:
                plan = session.get(m.Plan, plan_id)
                self._plans[plan_id] = None if plan is None else self._load_plan(session, plan)
        # A van on several dispatched plans follows the latest one.
        self._by_vehicle = {}
        for plan_id in ids:
            tracked = self._plans.get(plan_id)
            if tracked is None:
                continue
            for vehicle in tracked.routes:
                self._by_vehicle[vehicle] = tracked

    def _load_plan(self, session: Session, plan: m.Plan) -> _Plan | None:
        doc = plan.document or {}
        numbers = {int(r["index"]): int(r["number"]) for r in doc.get("routes", [])}
        scope = Scope(session, plan.organisation_id)
        routes: dict[str, _Route] = {}
        rows = scope.plan_routes(plan.id)
        stops = scope.route_stops([r.id for r in rows])
        for row in rows:
            if row.vehicle_id is None or row.index not in numbers:
                continue
            vehicle = session.get(m.Vehicle, row.vehicle_id)
            routes[str(row.vehicle_id)] = _Route(
                plan.id,
                row.id,
                numbers[row.index],
                row.vehicle_id,
                vehicle.plate if vehicle else str(row.vehicle_id),
                {s.sequence: (s.id, s.order_id, s.location) for s in stops[row.id]},
            )
        chargers = [
            ChargerSite(c.code, LatLon(c.latitude_deg, c.longitude_deg))
            for c in scope.all(m.Charger)
        ]
        try:
            tracker = Tracker(
                doc,
                chargers=chargers,
                settings=self.settings,
                assignments={vid: r.number for vid, r in routes.items()},
            )
        except (PlanFormatError, KeyError, ValueError) as exc:
            log.warning("plan %s cannot be tracked: %s", plan.id, exc)
            return None
        return _Plan(plan.id, plan.organisation_id, tracker, routes)

    # ---------------------------------------------------------------------- feeding

    def push_position(
        self, organisation_id: uuid.UUID, message: TelemetryMessage, received_at: dt.datetime
    ) -> bool:
        """Pushes one fix's position to the organisation's clients at once, without
        tracking it (the caller hands it to :meth:`handle` with ``push=False`` later);
        whether the van is known. Lock-free: it only reads the current assignments."""
        vid = message.vehicle_id.lower()
        vehicle = self._vehicles.get(vid)
        if vehicle is None or vehicle.organisation_id != organisation_id:
            return False
        plan = self._by_vehicle.get(vid)
        route = plan.routes.get(vid) if plan is not None else None
        self.hub.publish(organisation_id, vehicle_message(message, vehicle, route, received_at))
        return True

    def handle(
        self,
        organisation_id: uuid.UUID,
        messages: Sequence[TelemetryMessage],
        *,
        push: bool = True,
    ) -> None:
        """Tracks ``messages`` of ``organisation_id``'s vans (see the module docstring);
        ``push=False`` when :meth:`push_position` already pushed their positions.

        Never raises for bad data or a database error: they are logged and counted in
        :attr:`errors` (telemetry is stored by the ingester whatever happens here).
        """
        if not messages:
            return
        with self._lock:
            try:
                self._handle(organisation_id, messages, push)
            except Exception:
                self.errors += 1
                log.exception("live tracking failed for a batch of %d message(s)", len(messages))

    def _handle(
        self, organisation_id: uuid.UUID, messages: Sequence[TelemetryMessage], push: bool
    ) -> None:
        now = self._clock()
        unknown = any(m_.vehicle_id.lower() not in self._vehicles for m_ in messages)
        if now - self._refreshed_at >= self.refresh_s or (
            unknown and now - self._refreshed_at >= 1.0
        ):
            with self.db.sessions() as session:
                self._refresh(session)
        found: list[tuple[_Plan, _Route, Event]] = []
        received = m.utcnow()
        tracked: list[tuple[_Plan, _Route, TelemetryMessage]] = []
        # Every position first (cheap), then the trackers: the last fix of a burst does not
        # wait for the tracking of all the others before it shows on the map.
        for message in messages:
            vid = message.vehicle_id.lower()
            vehicle = self._vehicles.get(vid)
            if vehicle is None or vehicle.organisation_id != organisation_id:
                continue  # not this organisation's van: the ingester dead-letters it
            self.messages += 1
            plan = self._by_vehicle.get(vid)
            route = plan.routes.get(vid) if plan is not None else None
            if push:
                self.hub.publish(
                    organisation_id, vehicle_message(message, vehicle, route, received)
                )
            if plan is not None and route is not None and plan.organisation_id == organisation_id:
                tracked.append((plan, route, message))
        for plan, route, message in tracked:
            # No receive time: the storage window already refused far-future fixes, and a
            # simulated day may run ahead of the wall clock.
            for event in plan.tracker.ingest(message):
                if not isinstance(event, IgnoredEvent):
                    found.append((plan, route, event))
        if not found:
            return
        if not self.background:
            self._commit(organisation_id, found)
            return
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(
                target=self._store_forever, name="evfleet-live-store", daemon=True
            )
            self._worker.start()
        self._work.put((organisation_id, found))

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Waits until what was handled so far is stored and pushed; whether it was."""
        deadline = time.monotonic() + timeout_s
        while self._work.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _store_forever(self) -> None:
        # Database work on its own thread, so that positions keep flowing while a
        # transaction runs (the database drivers release the GIL while they wait).
        while True:
            item = self._work.get()
            try:
                if item is None:
                    return
                self._commit(*item)
            except Exception:
                self.errors += 1
                log.exception("live tracking could not store a batch of events")
            finally:
                self._work.task_done()

    def _commit(self, organisation_id: uuid.UUID, found: list[tuple[_Plan, _Route, Event]]) -> None:
        pending = _Pending()
        stopped = {route.route_id for _, route, event in found if not isinstance(event, EtaEvent)}
        with self.db.sessions() as session:
            scope = Scope(session, organisation_id)
            for plan, route, event in found:
                if isinstance(event, EtaEvent):
                    self._store_etas(scope, route, event, pending, save=route.route_id in stopped)
                else:
                    self._store(scope, plan, route, event, pending)
            session.commit()
        for org, push in pending.pushes:
            self.hub.publish(org, push)

    # ---------------------------------------------------------------------- storing

    def _store(
        self, scope: Scope, plan: _Plan, route: _Route, event: Event, pending: _Pending
    ) -> None:
        org = scope.organisation_id
        day_start = plan.tracker.day_start
        assert day_start is not None  # set by the first message
        if isinstance(event, EtaEvent | IgnoredEvent):
            return
        at = day_start + dt.timedelta(seconds=event.time_s)
        row = m.TrackingEvent(
            id=uuid.uuid4(),
            at=at,
            plan_id=route.plan_id,
            route_id=route.route_id,
            vehicle_id=route.vehicle_id,
            kind=event.kind.value,
            severity="info",
            data={"time_s": event.time_s, "route_number": route.number},
        )
        if isinstance(event, StopEvent):
            self._store_stop(scope, route, event, row, pending)
        elif isinstance(event, RouteEvent):
            self._store_route(scope, route, event, row)
        elif isinstance(event, AlertEvent):
            alert = event.alert
            raised = event.kind is EventKind.ALERT_RAISED
            row.severity = "warning" if raised else "info"
            row.message = (
                f"{route.label}: {alert.message}"
                if raised
                else f"{route.label}: cleared ({alert.kind.value}) {alert.message}"
            )
            row.data |= {
                "alert_kind": alert.kind.value,
                "subject": alert.subject,
                "details": {
                    k: (_num(v) if isinstance(v, float) else v) for k, v in alert.details.items()
                },
            }
            if alert.charger is not None:
                row.data["charger"] = {
                    "id": alert.charger.charger.id,
                    "latitude_deg": alert.charger.charger.position.lat,
                    "longitude_deg": alert.charger.charger.position.lon,
                    "detour_m": _num(alert.charger.detour_m),
                    "arrival_soc_pct": _num(alert.charger.arrival_soc_pct),
                }
            stop = next(
                (s for s in route.stops.values() if s[2] == alert.subject and alert.subject), None
            )
            if stop is not None:
                row.stop_id, row.order_id = stop[0], stop[1]
        scope.add(row)
        pending.pushes.append((org, {"type": "event", **event_out(row)}))

    def _store_stop(
        self,
        scope: Scope,
        route: _Route,
        event: StopEvent,
        row: m.TrackingEvent,
        pending: _Pending,
    ) -> None:
        ref = route.stops.get(event.sequence)
        late_s = event.event_s - event.planned_s if math.isfinite(event.planned_s) else None
        row.data |= {
            "event_s": event.event_s,
            "planned_s": _num(event.planned_s),
            "sequence": event.sequence,
            "stop_kind": event.stop_kind.value,
            "delay_s": _num(late_s),
        }
        verb = {
            EventKind.STOP_ARRIVED: "arrived at",
            EventKind.STOP_DEPARTED: "left",
            EventKind.STOP_DELIVERED: "delivered",
        }[event.kind]
        row.message = f"{route.label} {verb} {event.stop_id} at {_clock(event.event_s)}"
        if late_s is not None and event.kind is EventKind.STOP_ARRIVED and abs(late_s) >= 60:
            word = "late" if late_s > 0 else "early"
            row.message += f" ({abs(late_s) / 60:.0f} min {word})"
        if ref is None:
            return
        stop = scope.get(m.PlanStop, ref[0])
        if stop is None:
            return
        row.stop_id, row.order_id = stop.id, stop.order_id
        if event.kind is EventKind.STOP_ARRIVED:
            stop.actual_arrival_s = event.event_s
            if stop.status == "planned":
                stop.status = "arrived"
        elif event.kind is EventKind.STOP_DEPARTED:
            stop.actual_departure_s = event.event_s
            if stop.status in ("planned", "arrived"):
                stop.status = "departed"
        else:
            stop.status = "delivered"
            if stop.actual_departure_s is None:
                stop.actual_departure_s = event.event_s
            if stop.order_id is not None:
                self._deliver(scope, stop.order_id, route)
        pending.pushes.append(
            (
                scope.organisation_id,
                {
                    "type": "stop",
                    "plan_id": str(route.plan_id),
                    "route_id": str(route.route_id),
                    "stop_id": str(stop.id),
                    "sequence": stop.sequence,
                    "status": stop.status,
                    "actual_arrival_s": stop.actual_arrival_s,
                    "actual_departure_s": stop.actual_departure_s,
                    "eta_s": stop.eta_s,
                },
            )
        )

    def _deliver(self, scope: Scope, order_id: uuid.UUID, route: _Route) -> None:
        order = scope.get(m.Order, order_id)
        if order is None:
            return
        for step in (OrderStatus.OUT_FOR_DELIVERY, OrderStatus.DELIVERED):
            if can_transition(OrderStatus(order.status), step):
                scope.set_order_status(order, step, ACTOR, f"seen at the stop by {route.label}")

    def _store_route(
        self, scope: Scope, route: _Route, event: RouteEvent, row: m.TrackingEvent
    ) -> None:
        row.data["event_s"] = event.event_s
        if event.kind is EventKind.ROUTE_STARTED:
            row.message = f"{route.label} left the depot at {_clock(event.event_s)}"
            for _stop_id, order_id, _name in route.stops.values():
                order = scope.get(m.Order, order_id) if order_id is not None else None
                if order is not None and order.status == OrderStatus.DISPATCHED.value:
                    scope.set_order_status(
                        order, OrderStatus.OUT_FOR_DELIVERY, ACTOR, f"{route.label} left"
                    )
        else:
            row.message = f"{route.label} is back at the depot at {_clock(event.event_s)}"

    def _store_etas(
        self, scope: Scope, route: _Route, event: EtaEvent, pending: _Pending, *, save: bool
    ) -> None:
        """Pushes a route's new ETAs; stores them with a stop event of the route (``save``)
        or when the stored ones are :data:`ETA_SAVE_EVERY_S` old (in the van's time)."""
        changes = []
        for forecast in event.forecast.stops:
            ref = route.stops.get(forecast.stop.sequence)
            if ref is None or forecast.arrived:
                continue
            changes.append((ref[0], forecast.stop.sequence, _num(forecast.arrival_s)))
        if not changes:
            return
        saved = self._eta_saved.get(route.route_id)
        if save or saved is None or event.time_s - saved >= ETA_SAVE_EVERY_S:
            self._eta_saved[route.route_id] = event.time_s
            session = scope.session
            session.flush()
            session.execute(  # ORM bulk update by primary key
                update(m.PlanStop), [{"id": stop_id, "eta_s": eta} for stop_id, _, eta in changes]
            )
        pending.pushes.append(
            (
                scope.organisation_id,
                {
                    "type": "eta",
                    "plan_id": str(route.plan_id),
                    "route_id": str(route.route_id),
                    "stops": [
                        {"stop_id": str(stop_id), "sequence": sequence, "eta_s": eta}
                        for stop_id, sequence, eta in changes
                    ],
                },
            )
        )


def event_out(row: m.TrackingEvent) -> dict[str, Any]:
    """The JSON form of a stored tracking event (``/live/events`` and pushes)."""
    return {
        "id": str(row.id) if row.id is not None else None,
        "at": row.at.isoformat() if row.at is not None else None,
        "plan_id": str(row.plan_id) if row.plan_id else None,
        "route_id": str(row.route_id) if row.route_id else None,
        "vehicle_id": str(row.vehicle_id) if row.vehicle_id else None,
        "kind": row.kind,
        "severity": row.severity,
        "message": row.message,
        "stop_id": str(row.stop_id) if row.stop_id else None,
        "order_id": str(row.order_id) if row.order_id else None,
        "data": dict(row.data or {}),
    }


def accepts_for(vehicle_ids: set[str] | None) -> Callable[[Mapping[str, Any]], bool]:
    """A hub filter: everything (``None``), or only pushes about ``vehicle_ids``' vans."""
    if vehicle_ids is None:
        return lambda _message: True
    allowed = {v.lower() for v in vehicle_ids}
    return lambda message: str(message.get("vehicle_id") or "").lower() in allowed
