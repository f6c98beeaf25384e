"""Choose a road network from a one-line spec (command line, configuration file)."""

from __future__ import annotations

from evfleet.network.base import RoadNetwork
from evfleet.network.great_circle import GreatCircleNetwork

#: The spec used when none is given.
DEFAULT_SPEC = "great-circle"

SPEC_FORMS = (
    '"great-circle" (default, no data needed)',
    '"osm:/path/to/extract.osm.pbf" (OpenStreetMap extract, needs pyrosm and scipy)',
    '"osrm:http://host:port" (OSRM-compatible server, needs httpx)',
)


def network_from_spec(spec: str = DEFAULT_SPEC) -> RoadNetwork:
    """The road network described by ``spec``:

    * ``"great-circle"`` (or an empty string): :class:`GreatCircleNetwork` with its defaults;
    * ``"osm:PATH"``: :meth:`OsmNetwork.from_pbf(PATH) <evfleet.network.osm.OsmNetwork.from_pbf>`;
    * ``"osrm:URL"``: :class:`OsrmNetwork(URL) <evfleet.network.osrm.OsrmNetwork>`, profile
      ``driving``.

    The adapters are imported only when asked for, so their dependencies stay optional.
    Raises :class:`ValueError` for any other spec, listing the accepted forms.
    """
    text = spec.strip()
    if text in ("", DEFAULT_SPEC):
        return GreatCircleNetwork()
    kind, colon, target = text.partition(":")
    if colon and target.strip():
        if kind == "osm":
            from evfleet.network.osm import OsmNetwork

            return OsmNetwork.from_pbf(target.strip())
        if kind == "osrm":
            from evfleet.network.osrm import OsrmNetwork

            return OsrmNetwork(target.strip())
    raise ValueError(f"unknown road network {spec!r}; use one of: " + "; ".join(SPEC_FORMS))
