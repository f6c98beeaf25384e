"""Live tracking of vans against their plan, as a pure core: telemetry in, events out.

* :mod:`.plan`: the planned route, read from the plan JSON (``evfleet-plan/1``);
* :mod:`.state`: latest state per vehicle, exactly-once and in order (dedupe by seq);
* :mod:`.stops`: stop arrival and departure from geofences and dwell time;
* :mod:`.route_progress`: off-route detection, ETA and SoC forecasts of the remaining stops;
* :mod:`.alerts`: late risk, low energy (with a charger to add) and off-route alerts;
* :mod:`.tracker`: the :class:`Tracker` facade, ``ingest(message) -> list[Event]``.

Units: m, s, m/s, Wh, kg, %; times of day in s since the plan's local midnight.
"""

from evfleet.tracking.alerts import (
    Alert,
    AlertBook,
    AlertKind,
    AlertSettings,
    ChargerOption,
    ChargerSite,
    best_charger,
    charger_sites,
)
from evfleet.tracking.plan import (
    PlanFormatError,
    PlannedRoute,
    PlannedStop,
    StopKind,
    planned_route,
    planned_routes,
    planned_routes_from,
)
from evfleet.tracking.route_progress import (
    Forecast,
    OffRouteDetector,
    ProgressSettings,
    ProgressTracker,
    RouteModel,
    StopForecast,
)
from evfleet.tracking.state import Applied, Outcome, StateStore, VehicleState
from evfleet.tracking.stops import (
    GeofenceSettings,
    StopChange,
    StopStatus,
    StopTracker,
    StopVisit,
)
from evfleet.tracking.tracker import (
    AlertEvent,
    EtaEvent,
    Event,
    EventKind,
    IgnoredEvent,
    RouteEvent,
    RouteTracker,
    StopEvent,
    Tracker,
    TrackerSettings,
    event_to_dict,
)

__all__ = [
    "Alert",
    "AlertBook",
    "AlertEvent",
    "AlertKind",
    "AlertSettings",
    "Applied",
    "ChargerOption",
    "ChargerSite",
    "EtaEvent",
    "Event",
    "EventKind",
    "Forecast",
    "GeofenceSettings",
    "IgnoredEvent",
    "OffRouteDetector",
    "Outcome",
    "PlanFormatError",
    "PlannedRoute",
    "PlannedStop",
    "ProgressSettings",
    "ProgressTracker",
    "RouteEvent",
    "RouteModel",
    "RouteTracker",
    "StateStore",
    "StopChange",
    "StopEvent",
    "StopForecast",
    "StopKind",
    "StopStatus",
    "StopTracker",
    "StopVisit",
    "Tracker",
    "TrackerSettings",
    "VehicleState",
    "best_charger",
    "charger_sites",
    "event_to_dict",
    "planned_route",
    "planned_routes",
    "planned_routes_from",
]
