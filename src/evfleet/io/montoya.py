"""Reader for the E-VRP-NL instances of Montoya et al. (2017), VRP-REP XML.

The files give coordinates in km, times in hours, the speed in km/h, energy in Wh and the
consumption in Wh/km. They are converted to evfleet's units: coordinates ×1000 to metres,
hours ×3600 to seconds, Wh/km ÷1000 to Wh/m and km/h ×1000/3600 to m/s. Distances are
double-precision Euclidean (``<euclidean/>``, 14 decimals).

Every station gets the piecewise-linear charging function of its ``cs_type``; charging is
partial, there are no capacities and no time windows, and a route may last at most
``max_travel_time``. The objective is driving time plus charging time (service time, a
constant, is left out), in seconds.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from os import PathLike
from pathlib import Path
from xml.parsers import expat

from evfleet.charging import ChargingFunction
from evfleet.errors import InputError
from evfleet.model import Model
from evfleet.problem import Metric, Objective, Problem, RechargePolicy

__all__ = ["read_montoya"]

KM = 1000.0
"""Metres per kilometre."""
HOUR = 3600.0
"""Seconds per hour."""


class _Doc:
    """A parsed XML document that remembers the line of every element."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror or exc}", path=self.where) from exc
        if not data.strip():
            raise InputError("empty file: expected a VRP-REP XML <instance>", path=self.where)
        self._lines: dict[int, int] = {}
        parser = expat.ParserCreate()
        builder = ET.TreeBuilder()

        def start(tag: str, attrs: dict[str, str]) -> None:
            element = builder.start(tag, attrs)
            self._lines[id(element)] = parser.CurrentLineNumber

        parser.buffer_text = True
        parser.StartElementHandler = start
        parser.EndElementHandler = builder.end
        parser.CharacterDataHandler = builder.data
        try:
            parser.Parse(data, True)
        except expat.ExpatError as exc:
            raise InputError(
                f"XML parse error: {expat.ErrorString(exc.code)} (column {exc.offset + 1})",
                path=self.where,
                line=exc.lineno,
            ) from exc
        except (LookupError, ValueError) as exc:  # e.g. an unknown encoding in the declaration
            raise InputError(
                f"XML parse error: {exc}", path=self.where, line=parser.CurrentLineNumber
            ) from exc
        self.root = builder.close()
        if self.root.tag != "instance":
            raise InputError(
                f"expected the root element <instance>, got <{self.root.tag}>",
                path=self.where,
                line=self.line(self.root),
            )

    def line(self, element: ET.Element) -> int | None:
        return self._lines.get(id(element))

    def error(self, element: ET.Element, message: str) -> InputError:
        return InputError(message, path=self.where, line=self.line(element))

    def child(self, parent: ET.Element, path: str) -> ET.Element:
        """The first element at ``path`` below ``parent``; an error if there is none."""
        found = parent.find(path)
        if found is None:
            raise self.error(parent, f"<{parent.tag}> lacks <{path}>")
        return found

    def number(self, parent: ET.Element, path: str, *, minimum: float = 0.0) -> float:
        """The number in the text of ``parent/path`` (at least ``minimum``)."""
        element = self.child(parent, path)
        text = (element.text or "").strip()
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise self.error(element, f"<{element.tag}>: expected a number, got {text!r}")
        if value < minimum:
            raise self.error(
                element, f"<{element.tag}>: expected a number >= {minimum:g}, got {text}"
            )
        return value

    def attribute(self, element: ET.Element, name: str) -> str:
        value = element.get(name)
        if value is None or not value.strip():
            raise self.error(element, f"<{element.tag}> lacks the attribute {name}=")
        return value.strip()


def _charging_functions(doc: _Doc, profile: ET.Element) -> dict[str, ChargingFunction]:
    """Charging functions by station type; breakpoints Wh and hours become Wh and seconds."""
    functions: dict[str, ChargingFunction] = {}
    holder = doc.child(profile, "custom/charging_functions")
    for function in holder.findall("function"):
        cs_type = doc.attribute(function, "cs_type")
        points = [
            (doc.number(bp, "battery_level"), doc.number(bp, "charging_time") * HOUR)
            for bp in function.findall("breakpoint")
        ]
        if not points or points[0] != (0.0, 0.0):
            raise doc.error(
                function, f"charging function {cs_type!r}: expected a first breakpoint (0, 0)"
            )
        try:
            functions[cs_type] = ChargingFunction.piecewise(points)
        except ValueError as exc:
            raise doc.error(function, f"charging function {cs_type!r}: {exc}") from exc
    if not functions:
        raise doc.error(holder, "<charging_functions> has no <function>")
    return functions


def read_montoya(path: str | PathLike[str]) -> Problem:
    """Reads a Montoya et al. E-VRP-NL VRP-REP ``.xml`` file (converted to m, s, Wh).

    The problem is named after ``<info><name>`` (else the file stem); locations are named by
    their node id. Raises :class:`~evfleet.errors.InputError` naming the file and line on
    malformed input.
    """
    path = Path(path)
    doc = _Doc(path)
    root = doc.root

    nodes = doc.child(root, "network/nodes")
    depots: list[tuple[str, float, float]] = []
    customers: dict[str, tuple[float, float]] = {}
    stations: list[tuple[ET.Element, str, float, float]] = []
    seen: set[str] = set()
    for node in nodes.findall("node"):
        node_id = doc.attribute(node, "id")
        if node_id in seen:
            raise doc.error(node, f"node id {node_id} appears twice")
        seen.add(node_id)
        kind = doc.attribute(node, "type")
        x = doc.number(node, "cx", minimum=-math.inf) * KM
        y = doc.number(node, "cy", minimum=-math.inf) * KM
        if kind == "0":
            depots.append((node_id, x, y))
        elif kind == "1":
            customers[node_id] = (x, y)
        elif kind == "2":
            stations.append((node, node_id, x, y))
        else:
            raise doc.error(
                node,
                f"node {node_id}: expected type 0 (depot), 1 (customer) or 2 (station), "
                f"got {kind!r}",
            )
    if len(depots) != 1:
        raise doc.error(nodes, f"expected exactly one depot node (type 0), got {len(depots)}")
    depot_id, depot_x, depot_y = depots[0]

    profiles = root.findall("fleet/vehicle_profile")
    if len(profiles) != 1:
        fleet = doc.child(root, "fleet")
        raise doc.error(fleet, f"expected one <vehicle_profile>, got {len(profiles)}")
    profile = profiles[0]
    for tag in ("departure_node", "arrival_node"):
        element = profile.find(tag)
        if element is not None and (element.text or "").strip() != depot_id:
            raise doc.error(element, f"<{tag}> must be the depot node {depot_id}")
    max_travel_h = doc.number(profile, "max_travel_time")
    speed_kmh = doc.number(profile, "speed_factor")
    consumption_wh_per_km = doc.number(profile, "custom/consumption_rate")
    battery_wh = doc.number(profile, "custom/battery_capacity")
    for value, tag in ((speed_kmh, "speed_factor"), (battery_wh, "custom/battery_capacity")):
        if value <= 0:
            raise doc.error(doc.child(profile, tag), f"<{tag}> must be > 0")
    functions = _charging_functions(doc, profile)

    service_h: dict[str, float] = {}
    requests = doc.child(root, "requests")
    for request in requests.findall("request"):
        node_id = doc.attribute(request, "node")
        if node_id not in customers:
            raise doc.error(request, f"request for node {node_id}, which is not a customer node")
        if node_id in service_h:
            raise doc.error(request, f"a second request for node {node_id}")
        element = request.find("service_time")
        service_h[node_id] = 0.0 if element is None else doc.number(request, "service_time")
    for node in nodes.findall("node"):
        if node.get("type") == "1" and node.get("id", "").strip() not in service_h:
            raise doc.error(node, f"customer node {node.get('id')} has no <request>")

    name_text = (root.findtext("info/name") or "").strip()
    try:
        model = Model(name_text or path.stem)
        model.objective = Objective.DRIVING_AND_CHARGING_TIME
        model.recharge = RechargePolicy.PARTIAL
        model.add_depot(depot_x, depot_y, name=depot_id)
        for node_id, (x, y) in customers.items():
            model.add_client(x, y, name=node_id, service_s=service_h[node_id] * HOUR)
        for element, node_id, x, y in stations:
            cs_type = (element.findtext("custom/cs_type") or "").strip()
            if cs_type not in functions:
                raise doc.error(
                    element,
                    f"station {node_id}: cs_type {cs_type!r} has no charging function "
                    f"(known: {', '.join(sorted(functions))})",
                )
            model.add_charger(x, y, name=node_id, function=functions[cs_type])
        model.add_vehicle_type(
            name="ev",
            count=None,
            battery_wh=battery_wh,
            energy_wh_per_m=consumption_wh_per_km / KM,
            max_duration_s=max_travel_h * HOUR,
        )
        model.set_metric(Metric("euclidean", None, speed_m_per_s=speed_kmh * KM / HOUR))
        return model.data()
    except ValueError as exc:  # a value the model rejects that the checks above let pass
        raise InputError(f"invalid instance data: {exc}", path=str(path)) from exc
