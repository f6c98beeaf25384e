"""The plan as GeoJSON (RFC 7946): structure, feature counts, [lon, lat] order."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from report_fixture import Plan, road_geometry, used_route_count

from evfleet import Charger, Client, Model, Route, Solution, Visit
from evfleet.checker import check
from evfleet.report import plan_to_geojson, plan_to_geojson_text, write_geojson


def features(doc: dict[str, Any], kind: str, geometry: str = "Point") -> list[dict[str, Any]]:
    return [
        f
        for f in doc["features"]
        if f["properties"]["kind"] == kind and f["geometry"]["type"] == geometry
    ]


def assert_valid_geojson(doc: dict[str, Any]) -> None:
    """The RFC 7946 rules this output relies on."""
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc
    ids = [f["id"] for f in doc["features"]]
    assert len(ids) == len(set(ids))
    positions = []
    for f in doc["features"]:
        assert f["type"] == "Feature"
        assert isinstance(f["properties"], dict)
        geom = f["geometry"]
        if geom["type"] == "Point":
            points = [geom["coordinates"]]
        else:
            assert geom["type"] == "LineString"
            points = geom["coordinates"]
            assert len(points) >= 2
        for p in points:
            assert len(p) == 2 and all(isinstance(v, float | int) for v in p)
            assert -180 <= p[0] <= 180 and -90 <= p[1] <= 90
            positions.append(p)
    west, south, east, north = doc["bbox"]
    assert all(west <= p[0] <= east and south <= p[1] <= north for p in positions)


def test_structure_and_feature_counts(plan: Plan) -> None:
    doc = json.loads(plan_to_geojson_text(plan.problem, plan.solution, plan.report))
    assert_valid_geojson(doc)
    visits = [v for r in plan.solution.routes for v in r.visits]
    charger_visits = [v for v in visits if plan.problem.is_charger(v.location)]
    assert len(features(doc, "depot")) == plan.problem.num_depots
    assert len(features(doc, "route", "LineString")) == used_route_count(plan)
    assert len(features(doc, "client")) == plan.problem.num_clients
    assert len(features(doc, "charger")) == len(charger_visits) >= 1
    assert len(doc["features"]) == 1 + used_route_count(plan) + len(visits)


def test_coordinates_are_lon_lat(plan: Plan) -> None:
    doc = plan_to_geojson(plan.problem, plan.solution, plan.report)
    sites: dict[str, Client | Charger] = {c.name: c for c in plan.problem.clients}
    sites.update({s.name: s for s in plan.problem.chargers})
    for f in features(doc, "client") + features(doc, "charger"):
        site = sites[f["properties"]["id"]]
        assert f["geometry"]["coordinates"] == [site.x, site.y]
        lon, lat = f["geometry"]["coordinates"]
        assert 11 < lon < 12 and 48 < lat < 49  # Munich: the order is unmistakable
    depot = plan.problem.depots[0]
    (depot_feature,) = features(doc, "depot")
    assert depot_feature["geometry"]["coordinates"] == [depot.x, depot.y]
    for line in features(doc, "route", "LineString"):
        coords = line["geometry"]["coordinates"]
        assert coords[0] == coords[-1] == [depot.x, depot.y]
        assert line["properties"]["geometry_source"] == "straight"


def test_stop_properties(plan: Plan) -> None:
    doc = plan_to_geojson(plan.problem, plan.solution, plan.report)
    names = plan.problem.location_names()
    used = [r for r in plan.solution.routes if r.visits]
    for number, route in enumerate(used, start=1):
        stops = [
            f
            for f in doc["features"]
            if f["properties"].get("route") == number and f["geometry"]["type"] == "Point"
        ]
        assert [f["properties"]["id"] for f in stops] == [names[v.location] for v in route.visits]
        assert [f["properties"]["sequence"] for f in stops] == list(range(1, len(stops) + 1))
        for f in stops:
            props = f["properties"]
            assert props["status"] == "planned"
            assert len(props["arrival"]) == 8 and props["arrival"][2] == ":"
            if props["kind"] == "client":
                assert props["order_id"] == props["id"]
                assert props["window_start"] == "08:00:00"
            else:
                assert props["charger_id"] == "CHG-A"
                assert props["charged_wh"] > 0 and props["charging_min"] > 0
    charged = sum(f["properties"]["charged_wh"] for f in features(doc, "charger"))
    assert charged == pytest.approx(plan.account.energy_charged_wh)


def test_road_geometry_is_used(plan: Plan, tmp_path: Path) -> None:
    geometry = road_geometry(plan)
    path = tmp_path / "plan.geojson"
    write_geojson(plan.problem, plan.solution, plan.report, path, geometry=geometry)
    doc = json.loads(path.read_text("utf-8"))
    assert_valid_geojson(doc)
    lines = features(doc, "route", "LineString")
    for line in lines:
        props = line["properties"]
        expected = geometry[props["route_index"]]
        assert props["geometry_source"] == "road"
        assert line["geometry"]["coordinates"] == [
            [round(p.lon, 6), round(p.lat, 6)] for p in expected
        ]


def test_unassigned_clients_are_points(plan: Plan) -> None:
    routes = list(plan.solution.routes)
    k = next(i for i, r in enumerate(routes) if r.visits)
    first = routes[k].visits[0]
    routes[k] = replace(routes[k], visits=routes[k].visits[1:])
    solution = replace(plan.solution, routes=tuple(routes))
    doc = plan_to_geojson(plan.problem, solution, check(plan.problem, solution))
    assert_valid_geojson(doc)
    loose = [f for f in doc["features"] if f["properties"].get("status") == "unassigned"]
    assert [f["properties"]["id"] for f in loose] == [plan.problem.location_names()[first.location]]


def test_planar_coordinates_are_rejected() -> None:
    m = Model("planar")
    m.add_depot(0, 0)
    m.add_client(3000, 400)
    m.add_vehicle_type()
    problem = m.data()
    solution = Solution((Route(0, (Visit(1),)),))
    with pytest.raises(ValueError, match="WGS 84"):
        plan_to_geojson(problem, solution, check(problem, solution))
