"""Live tracking in the service (an adapter around :mod:`evfleet.tracking`).

* :mod:`.hub`: fan-out of live updates to WebSocket subscribers, per organisation;
* :mod:`.service`: :class:`LiveTracking`, the trackers of the dispatched plans, fed with
  telemetry, storing stop statuses and events and pushing them to the hub;
* :mod:`.mqtt_feed`: a subscription to the telemetry topics that feeds :class:`LiveTracking`.
"""

from evfleet.live.hub import LiveHub, Subscription
from evfleet.live.service import LiveTracking, accepts_for, event_out, vehicle_message

__all__ = ["LiveHub", "LiveTracking", "Subscription", "accepts_for", "event_out", "vehicle_message"]
