"""The tracking facade: telemetry in, events out (pure; no I/O, no clock, no database).

:class:`Tracker` follows a plan: each assigned vehicle drives one planned route. Every
message goes through the :class:`~evfleet.tracking.state.StateStore` (duplicates and late
messages are reported as ``message-ignored`` events and go no further), then the route's
:class:`RouteTracker`: stop detection, progress and forecasts, alerts. Events:

==================  ===========================================================
``route-started``   the van left the depot (``event_s``: last fix there)
``stop-arrived``    arrival at a stop (``event_s``: when the dwell began)
``stop-departed``   departure from a stop (``event_s``: last slow fix there)
``stop-delivered``  a client is delivered (on departure, or proof of delivery)
``route-completed`` back at the depot
``eta-updated``     a new forecast (first one, after a stop event, or when an ETA moved
                    by ``eta_change_s`` or more)
``alert-raised``    an alert condition began (:mod:`evfleet.tracking.alerts`)
``alert-cleared``   it ended
``message-ignored`` a duplicate, late or future-dated message (with the reason)
==================  ===========================================================

Times in events are s since the plan's local midnight (``day_start``), as in the plan JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from evfleet.problem import Problem
from evfleet.telemetry import TelemetryMessage
from evfleet.tracking.alerts import (
    Alert,
    AlertBook,
    AlertKind,
    AlertSettings,
    ChargerSite,
    late_risk_alerts,
    low_energy_alert,
    off_route_alert,
)
from evfleet.tracking.plan import PlannedRoute, StopKind, planned_routes
from evfleet.tracking.route_progress import Forecast, ProgressSettings, ProgressTracker
from evfleet.tracking.state import Outcome, StateStore, VehicleState
from evfleet.tracking.stops import GeofenceSettings, StopChange, StopStatus, StopTracker, StopVisit

__all__ = [
    "AlertEvent",
    "EtaEvent",
    "Event",
    "EventKind",
    "IgnoredEvent",
    "RouteEvent",
    "RouteTracker",
    "StopEvent",
    "Tracker",
    "TrackerSettings",
    "event_to_dict",
]


class EventKind(StrEnum):
    ROUTE_STARTED = "route-started"
    STOP_ARRIVED = "stop-arrived"
    STOP_DEPARTED = "stop-departed"
    STOP_DELIVERED = "stop-delivered"
    ROUTE_COMPLETED = "route-completed"
    ETA_UPDATED = "eta-updated"
    ALERT_RAISED = "alert-raised"
    ALERT_CLEARED = "alert-cleared"
    MESSAGE_IGNORED = "message-ignored"


@dataclass(frozen=True)
class StopEvent:
    """A stop reached ``stop-arrived``/``-departed``/``-delivered`` at ``event_s``;
    ``time_s`` is the fix that revealed it, ``planned_s`` the plan's time for the same."""

    kind: EventKind
    vehicle_id: str
    route: int
    time_s: float
    stop_id: str
    sequence: int
    stop_kind: StopKind
    event_s: float
    planned_s: float


@dataclass(frozen=True)
class RouteEvent:
    """The route started (left the depot) or completed (back at it) at ``event_s``
    (``None``: not known, e.g. the van was never seen at the depot)."""

    kind: EventKind
    vehicle_id: str
    route: int
    time_s: float
    event_s: float | None


@dataclass(frozen=True)
class EtaEvent:
    """A new forecast: ETA, start, departure and SoC of every remaining stop."""

    kind: EventKind
    vehicle_id: str
    route: int
    time_s: float
    forecast: Forecast


@dataclass(frozen=True)
class AlertEvent:
    """An alert raised or cleared."""

    kind: EventKind
    vehicle_id: str
    route: int
    time_s: float
    alert: Alert


@dataclass(frozen=True)
class IgnoredEvent:
    """A message the state store did not apply (``outcome``: duplicate, late, future)."""

    kind: EventKind
    vehicle_id: str
    seq: int
    outcome: Outcome
    reason: str


Event = StopEvent | RouteEvent | EtaEvent | AlertEvent | IgnoredEvent


@dataclass(frozen=True)
class TrackerSettings:
    """All tracking parameters: geofences, progress and forecasts, alerts, message order.

    ``eta_change_s``: smallest ETA shift (s) that causes an ``eta-updated`` event on its
    own. ``forecast_every_s``: the forecast of every remaining stop (and the late-risk and
    energy alerts that read it) is made again at most this often, in s of fix time, and
    at once after a stop event or an off-route change; 0: at every fix. Stop detection and
    the off-route check see every fix. ``dedupe_window``, ``restart_gap_s`` and
    ``max_future_s``: see :class:`~evfleet.tracking.state.StateStore`.
    """

    geofence: GeofenceSettings = field(default_factory=GeofenceSettings)
    progress: ProgressSettings = field(default_factory=ProgressSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    eta_change_s: float = 60.0
    forecast_every_s: float = 0.0
    dedupe_window: int = 4096
    restart_gap_s: float = 600.0
    max_future_s: float = 300.0


_STOP_EVENT = {
    StopStatus.ARRIVED: EventKind.STOP_ARRIVED,
    StopStatus.DEPARTED: EventKind.STOP_DEPARTED,
    StopStatus.DELIVERED: EventKind.STOP_DELIVERED,
}


class RouteTracker:
    """One vehicle on one planned route: stop statuses, forecast and active alerts."""

    def __init__(
        self,
        route: PlannedRoute,
        vehicle_id: str,
        *,
        problem: Problem | None = None,
        chargers: Sequence[ChargerSite] = (),
        settings: TrackerSettings | None = None,
    ) -> None:
        self.route = route
        self.vehicle_id = vehicle_id
        self.settings = settings or TrackerSettings()
        self.chargers = tuple(chargers)
        self.stops = StopTracker(route, self.settings.geofence)
        self.progress = ProgressTracker(route, problem, self.settings.progress)
        self.alerts = AlertBook()
        self.forecast: Forecast | None = None
        self._last_eta: Forecast | None = None
        self._forecast_s: float | None = None
        self._started = False

    @property
    def visits(self) -> tuple[StopVisit, ...]:
        """Every stop's status and actual times, in plan order (the depot return last)."""
        return self.stops.visits

    def update(self, state: VehicleState, time_s: float) -> list[Event]:
        """Feeds the vehicle's newest state, whose fix is at ``time_s`` (s since the plan's
        midnight), and returns the events it causes."""
        changes = self.stops.update(time_s, state.position, state.speed_m_per_s)
        events: list[Event] = []
        if self.stops.left_depot and not self._started:
            self._started = True
            events.append(
                RouteEvent(
                    EventKind.ROUTE_STARTED,
                    self.vehicle_id,
                    self.route.number,
                    time_s,
                    self.stops.depot_departure_s,
                )
            )
        events += self._stop_events(changes, time_s)
        every = self.settings.forecast_every_s
        full = (
            every <= 0
            or bool(changes)
            or self._forecast_s is None
            or time_s - self._forecast_s >= every
        )
        forecast, flip = self.progress.update(
            time_s, state.position, state.soc_pct, self.stops, changes, full=full
        )
        self.forecast = forecast
        if not full and flip is None:
            return events
        if full:
            self._forecast_s = time_s
        if self._eta_changed(forecast, bool(changes)):
            self._last_eta = forecast
            events.append(
                EtaEvent(
                    EventKind.ETA_UPDATED, self.vehicle_id, self.route.number, time_s, forecast
                )
            )
        events += self._alerts(forecast, state)
        return events

    def confirm_delivery(self, stop_id: str, time_s: float) -> list[Event]:
        """Proof of delivery for client ``stop_id`` at ``time_s`` (from the driver's app)."""
        return self._stop_events(self.stops.confirm_delivery(stop_id, time_s), time_s)

    def _stop_events(self, changes: list[StopChange], time_s: float) -> list[Event]:
        events: list[Event] = []
        for c in changes:
            if c.stop.kind is StopKind.DEPOT:
                if c.status is StopStatus.ARRIVED:
                    events.append(
                        RouteEvent(
                            EventKind.ROUTE_COMPLETED,
                            self.vehicle_id,
                            self.route.number,
                            time_s,
                            c.time_s,
                        )
                    )
                continue
            planned = {
                StopStatus.ARRIVED: c.stop.arrival_s,
                StopStatus.DEPARTED: c.stop.departure_s,
                StopStatus.DELIVERED: c.stop.departure_s,
            }.get(c.status, math.nan)
            events.append(
                StopEvent(
                    _STOP_EVENT[c.status],
                    self.vehicle_id,
                    self.route.number,
                    time_s,
                    c.stop.id,
                    c.stop.sequence,
                    c.stop.kind,
                    c.time_s,
                    planned,
                )
            )
        return events

    def _eta_changed(self, forecast: Forecast, stop_event: bool) -> bool:
        last = self._last_eta
        if last is None or stop_event:
            return True
        old = {(f.stop.sequence, f.arrived): f.arrival_s for f in last.stops}
        new = {(f.stop.sequence, f.arrived): f.arrival_s for f in forecast.stops}
        if old.keys() != new.keys():
            return True
        return any(abs(new[k] - old[k]) >= self.settings.eta_change_s for k in new)

    def _alerts(self, forecast: Forecast, state: VehicleState) -> list[Event]:
        settings = self.settings.alerts
        current: list[Alert] = []
        up = {a.key for a in self.alerts.active}
        if not self.stops.completed:
            late = {subject for kind, subject in up if kind is AlertKind.LATE_RISK}
            current += late_risk_alerts(forecast, settings, late)
            low = low_energy_alert(
                forecast,
                settings,
                position=state.position,
                chargers=self.chargers,
                battery_wh=self.progress.model.battery_wh,
                wh_per_m=self.progress.model.wh_per_m,
                circuity=self.settings.progress.circuity,
                active=(AlertKind.LOW_ENERGY, "") in up,
            )
            if low is not None:
                current.append(low)
        off = off_route_alert(forecast)
        if off is not None:
            current.append(off)
        raised, cleared = self.alerts.update(current)
        t = forecast.time_s
        return [
            *(
                AlertEvent(EventKind.ALERT_CLEARED, self.vehicle_id, self.route.number, t, a)
                for a in cleared
            ),
            *(
                AlertEvent(EventKind.ALERT_RAISED, self.vehicle_id, self.route.number, t, a)
                for a in raised
            ),
        ]


class Tracker:
    """Tracks a fleet against a plan: ``ingest(message) -> events``.

    ``plan`` is an ``evfleet-plan/1`` document, one :class:`PlannedRoute` or a list of them;
    ``assignments`` maps vehicle ids to route numbers (the plan's 1-based ``number``).
    Without assignments, a one-route plan goes to the first vehicle that reports.
    ``problem`` (the plan's problem, optional) brings the energy model and matrices;
    ``chargers`` are the sites a low-energy alert may suggest. ``day_start`` is the plan's
    local midnight (timezone-aware); by default the midnight of the first fix's date in the
    fix's own UTC offset.
    """

    def __init__(
        self,
        plan: Mapping[str, Any] | PlannedRoute | Sequence[PlannedRoute],
        problem: Problem | None = None,
        chargers: Sequence[ChargerSite] = (),
        settings: TrackerSettings | None = None,
        *,
        assignments: Mapping[str, int] | None = None,
        day_start: datetime | None = None,
    ) -> None:
        if isinstance(plan, PlannedRoute):
            routes = [plan]
        elif isinstance(plan, Mapping):
            routes = planned_routes(plan)
        else:
            routes = list(plan)
        self.routes = {r.number: r for r in routes}
        self.problem = problem
        self.chargers = tuple(chargers)
        self.settings = settings or TrackerSettings()
        if day_start is not None and day_start.utcoffset() is None:
            raise ValueError("day_start must be timezone-aware")
        self.day_start = day_start
        s = self.settings
        self.states = StateStore(
            dedupe_window=s.dedupe_window,
            restart_gap_s=s.restart_gap_s,
            max_future_s=s.max_future_s,
        )
        self._trackers: dict[str, RouteTracker] = {}
        self._auto = assignments is None and len(self.routes) == 1
        for vehicle_id, number in (assignments or {}).items():
            self.assign(vehicle_id, number)

    def assign(self, vehicle_id: str, route_number: int) -> RouteTracker:
        """Puts ``vehicle_id`` on route ``route_number`` (a fresh tracker for it)."""
        if route_number not in self.routes:
            raise KeyError(f"the plan has no route number {route_number}")
        tracker = RouteTracker(
            self.routes[route_number],
            vehicle_id,
            problem=self.problem,
            chargers=self.chargers,
            settings=self.settings,
        )
        self._trackers[vehicle_id] = tracker
        self._auto = False
        return tracker

    def route_tracker(self, vehicle_id: str) -> RouteTracker | None:
        """The tracker of ``vehicle_id``'s route, ``None`` when it has none."""
        return self._trackers.get(vehicle_id)

    def state(self, vehicle_id: str) -> VehicleState | None:
        """The latest state of ``vehicle_id``."""
        return self.states.get(vehicle_id)

    def plan_time_s(self, stamp: datetime) -> float:
        """``stamp`` as s since the plan's midnight (fixing ``day_start`` if still unset)."""
        if self.day_start is None:
            self.day_start = datetime.combine(stamp.date(), time(0), tzinfo=stamp.tzinfo)
        return (stamp - self.day_start) / timedelta(seconds=1)

    def ingest(self, message: TelemetryMessage, received_at: datetime | None = None) -> list[Event]:
        """Applies one message and returns the events it causes (possibly none)."""
        applied = self.states.apply(message, received_at)
        if not applied.accepted:
            return [
                IgnoredEvent(
                    EventKind.MESSAGE_IGNORED,
                    message.vehicle_id,
                    message.seq,
                    applied.outcome,
                    applied.reason,
                )
            ]
        state = applied.state
        assert state is not None
        tracker = self._trackers.get(message.vehicle_id)
        if tracker is None and self._auto:
            tracker = self.assign(message.vehicle_id, next(iter(self.routes)))
        if tracker is None:
            return []
        return tracker.update(state, self.plan_time_s(state.timestamp))

    def ingest_all(self, messages: Iterable[TelemetryMessage]) -> list[Event]:
        """:meth:`ingest` of each message in turn; all the events."""
        events: list[Event] = []
        for m in messages:
            events += self.ingest(m)
        return events

    def confirm_delivery(self, vehicle_id: str, stop_id: str, stamp: datetime) -> list[Event]:
        """Proof of delivery of ``stop_id`` by ``vehicle_id`` at ``stamp``."""
        tracker = self._trackers.get(vehicle_id)
        if tracker is None:
            raise KeyError(f"vehicle {vehicle_id!r} has no route")
        return tracker.confirm_delivery(stop_id, self.plan_time_s(stamp))


# ------------------------------------------------------------------------------- JSON


def _num(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def _forecast_dict(f: Forecast) -> dict[str, Any]:
    return {
        "time_s": f.time_s,
        "next_stop": None if f.next_stop is None else f.next_stop.id,
        "pace_ratio": f.pace_ratio,
        "energy_ratio": f.energy_ratio,
        "soc_now_pct": _num(f.soc_now_pct),
        "soc_source": f.soc_source,
        "load_kg": f.load_kg,
        "off_route": f.off_route,
        "line_distance_m": f.line_distance_m,
        "stops": [
            {
                "sequence": s.stop.sequence,
                "id": s.stop.id,
                "kind": s.stop.kind.value,
                "arrived": s.arrived,
                "eta_s": _num(s.arrival_s),
                "start_s": _num(s.start_s),
                "departure_s": _num(s.departure_s),
                "planned_arrival_s": _num(s.stop.arrival_s),
                "delay_s": _num(s.delay_s),
                "window_end_s": _num(s.stop.tw_late_s),
                "soc_pct": _num(s.soc_pct),
                "energy_wh": _num(s.energy_wh),
            }
            for s in f.stops
        ],
    }


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-ready dictionary of ``event`` (``null`` for infinite or unknown numbers)."""
    if isinstance(event, IgnoredEvent):
        return {
            "kind": event.kind.value,
            "vehicle_id": event.vehicle_id,
            "seq": event.seq,
            "outcome": event.outcome.value,
            "reason": event.reason,
        }
    base: dict[str, Any] = {
        "kind": event.kind.value,
        "vehicle_id": event.vehicle_id,
        "route": event.route,
        "time_s": event.time_s,
    }
    if isinstance(event, StopEvent):
        base |= {
            "stop_id": event.stop_id,
            "sequence": event.sequence,
            "stop_kind": event.stop_kind.value,
            "event_s": event.event_s,
            "planned_s": _num(event.planned_s),
        }
    elif isinstance(event, RouteEvent):
        base["event_s"] = event.event_s
    elif isinstance(event, EtaEvent):
        base["forecast"] = _forecast_dict(event.forecast)
    else:
        a = event.alert
        base["alert"] = {
            "kind": a.kind.value,
            "subject": a.subject,
            "message": a.message,
            "details": {k: (_num(v) if isinstance(v, float) else v) for k, v in a.details.items()},
            "charger": (
                None
                if a.charger is None
                else {
                    "id": a.charger.charger.id,
                    "lat": a.charger.charger.position.lat,
                    "lon": a.charger.charger.position.lon,
                    "next_stop": a.charger.next_stop,
                    "detour_m": a.charger.detour_m,
                    "distance_m": a.charger.distance_m,
                    "arrival_soc_pct": _num(a.charger.arrival_soc_pct),
                }
            ),
        }
    return base
