"""Road networks behind one interface: travel matrices and road geometry between points.

:class:`RoadNetwork` is the protocol the rest of evfleet uses; the adapters are

* :class:`GreatCircleNetwork`: haversine × circuity, speeds by distance band (default);
* :class:`~evfleet.network.osm.OsmNetwork`: an OpenStreetMap ``.osm.pbf`` extract routed
  in-process (pyrosm + scipy);
* :class:`~evfleet.network.osrm.OsrmNetwork`: an OSRM-compatible server (httpx).

:func:`network_from_spec` picks one from a string. ``OsmNetwork``, ``OsrmNetwork`` and
``OsrmError`` are importable from here but loaded on first use, so importing this package
needs only numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evfleet.network.base import LatLon, RoadNetwork, TravelMatrices
from evfleet.network.factory import DEFAULT_SPEC, network_from_spec
from evfleet.network.great_circle import (
    DEFAULT_CIRCUITY,
    DEFAULT_SPEED_PROFILE,
    GreatCircleNetwork,
    SpeedBand,
    SpeedProfile,
)

if TYPE_CHECKING:
    from evfleet.network.osm import OsmNetwork
    from evfleet.network.osrm import OsrmError, OsrmNetwork

__all__ = [
    "DEFAULT_CIRCUITY",
    "DEFAULT_SPEC",
    "DEFAULT_SPEED_PROFILE",
    "GreatCircleNetwork",
    "LatLon",
    "OsmNetwork",
    "OsrmError",
    "OsrmNetwork",
    "RoadNetwork",
    "SpeedBand",
    "SpeedProfile",
    "TravelMatrices",
    "network_from_spec",
]


def __getattr__(name: str) -> Any:
    """Load the adapters with optional dependencies on first access."""
    if name == "OsmNetwork":
        from evfleet.network.osm import OsmNetwork

        return OsmNetwork
    if name in ("OsrmNetwork", "OsrmError"):
        from evfleet.network import osrm

        return getattr(osrm, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
