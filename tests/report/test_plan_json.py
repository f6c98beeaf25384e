"""The plan as JSON (evfleet-plan/1): schema, totals against the account, stops and geometry."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from report_fixture import Plan, road_geometry

from evfleet import Client, Model, Route, Solution, Visit
from evfleet.accounting import comparison
from evfleet.checker import check
from evfleet.report import plan_schema, plan_to_dict, plan_to_json, write_plan_json
from evfleet.report.plan_json import FORMAT

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_SCHEMA = ROOT / "src" / "evfleet" / "schemas" / "plan.schema.json"
DOCS_SCHEMA = ROOT / "docs" / "schemas" / "plan.schema.json"
SCHEMA = json.loads(PACKAGE_SCHEMA.read_text("utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
REL = 1e-9


def full_doc(plan: Plan, **kwargs: Any) -> dict[str, Any]:
    doc = plan_to_dict(
        plan.problem,
        plan.solution,
        plan.report,
        plan.account,
        geometry=kwargs.get("geometry"),
        diesel=plan.diesel,
    )
    # Through JSON text, as a reader would see it.
    parsed: dict[str, Any] = json.loads(json.dumps(doc, allow_nan=False))
    return parsed


def seconds(text: str) -> int:
    h, m, s = (int(part) for part in text.split(":"))
    return h * 3600 + m * 60 + s


def test_schema_is_valid_and_published_copy_is_identical() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert DOCS_SCHEMA.read_bytes() == PACKAGE_SCHEMA.read_bytes()
    assert plan_schema() == SCHEMA


def test_document_validates_with_and_without_optional_parts(plan: Plan) -> None:
    p, s, r = plan.problem, plan.solution, plan.report
    docs = [
        full_doc(plan),
        full_doc(plan, geometry=road_geometry(plan)),
        plan_to_dict(p, s, r, None),
        plan_to_dict(p, s, r, plan.account),
    ]
    for doc in docs:
        errors = [f"{e.json_path}: {e.message}" for e in VALIDATOR.iter_errors(doc)]
        assert errors == []
        assert doc["format"] == FORMAT
    assert docs[2]["totals"]["cost"] is None
    assert docs[2]["routes"][0]["kpis"]["co2e_wtw_kg"] is None
    assert docs[3]["diesel_comparison"] is None


def test_totals_equal_the_account(plan: Plan) -> None:
    acc = plan.account
    totals = full_doc(plan)["totals"]
    assert totals["vehicles"] == acc.vehicles == 2
    assert totals["parcels"] == acc.parcels == plan.problem.num_clients
    for key in ("distance_m", "duration_s", "diesel_l", "co2e_wtw_kg", "co2e_ttw_kg"):
        assert totals[key] == pytest.approx(getattr(acc, key), rel=REL)
    assert totals["charging_stops"] == acc.charging_stops >= 1
    assert totals["charging_min"] == pytest.approx(acc.charging_min, rel=REL)
    assert totals["grid_energy_kwh"] == pytest.approx(acc.grid_energy_wh / 1000, rel=REL)
    assert totals["energy_kwh"] == pytest.approx(
        (acc.energy_charged_wh + acc.energy_depot_wh) / 1000, rel=REL
    )
    assert totals["co2e_wtw_per_parcel_kg"] == pytest.approx(acc.co2e_wtw_per_parcel_kg, rel=REL)
    for key, value in acc.cost.to_dict().items():
        assert totals["cost"][key] == pytest.approx(value, rel=REL, abs=1e-12)
    assert totals["cost"]["energy"] == pytest.approx(acc.cost.energy, rel=REL)


def test_routes_add_up_to_the_totals(plan: Plan) -> None:
    doc = full_doc(plan)
    routes = doc["routes"]
    assert [r["number"] for r in routes] == list(range(1, len(routes) + 1))
    for key in ("distance_m", "co2e_wtw_kg", "diesel_l", "energy_kwh"):
        total = sum(r["kpis"][key] for r in routes)
        assert total == pytest.approx(doc["totals"][key], rel=REL)
    total_cost = sum(r["kpis"]["cost"]["total"] for r in routes)
    assert total_cost == pytest.approx(plan.account.cost.total, rel=REL)


def test_stops_follow_the_plan_with_times_and_charge(plan: Plan) -> None:
    doc = full_doc(plan)
    problem, names = plan.problem, plan.problem.location_names()
    used = [(i, r) for i, r in enumerate(plan.solution.routes) if r.visits]
    assert [r["index"] for r in doc["routes"]] == [i for i, _ in used]
    for route_doc, (index, route) in zip(doc["routes"], used, strict=True):
        vt = problem.vehicle_types[route.vehicle_type]
        rep = plan.report.routes[index]
        assert route_doc["vehicle_type"] == vt.name
        assert [s["id"] for s in route_doc["stops"]] == [names[v.location] for v in route.visits]
        assert [s["sequence"] for s in route_doc["stops"]] == list(range(1, len(route.visits) + 1))
        for stop_doc, visit, stop in zip(
            route_doc["stops"], route.visits, rep.timeline, strict=False
        ):
            site = problem.location(visit.location)
            kind = "charger" if problem.is_charger(visit.location) else "client"
            assert stop_doc["kind"] == kind
            assert (stop_doc["lon"], stop_doc["lat"]) == (site.x, site.y)
            for key in ("arrival", "start", "departure"):
                assert stop_doc[f"{key}_s"] == getattr(stop, f"{key}_s")
                assert abs(seconds(stop_doc[key]) - getattr(stop, f"{key}_s")) <= 0.5
            if vt.is_electric:
                assert stop_doc["soc_arrival_pct"] == pytest.approx(
                    100 * stop.energy_arrival_wh / vt.battery_wh
                )
                assert stop_doc["energy_departure_wh"] == stop.energy_departure_wh
            else:
                assert stop_doc["soc_arrival_pct"] is None
                assert stop_doc["energy_arrival_wh"] is None
            if stop_doc["kind"] == "charger":
                assert stop_doc["charged_wh"] == stop.charged_wh
                assert stop_doc["time_window"] is None
            else:
                assert stop_doc["time_window"]["early"] == "08:00:00"
                assert isinstance(site, Client)
                assert stop_doc["demand_kg"] == site.demand_kg
        assert route_doc["end"]["time_s"] == rep.end_s
        assert route_doc["start"]["time"] == "07:00:00"
    charged = sum(
        s["charged_wh"] for r in doc["routes"] for s in r["stops"] if s["kind"] == "charger"
    )
    assert charged == pytest.approx(plan.account.energy_charged_wh, rel=REL)


def test_geometry_is_lon_lat_road_or_straight(plan: Plan) -> None:
    depot = plan.problem.depots[0]
    geometry = road_geometry(plan)
    road = full_doc(plan, geometry=geometry)
    straight = full_doc(plan)
    for with_road, without, (index, route) in zip(
        road["routes"],
        straight["routes"],
        [(i, r) for i, r in enumerate(plan.solution.routes) if r.visits],
        strict=True,
    ):
        assert with_road["geometry"]["source"] == "road"
        assert len(with_road["geometry"]["coordinates"]) == len(geometry[index])
        assert without["geometry"]["source"] == "straight"
        coords = without["geometry"]["coordinates"]
        assert len(coords) == len(route.visits) + 2
        assert coords[0] == coords[-1] == [depot.x, depot.y]  # [lon, lat]
        assert 11 < coords[0][0] < 12 and 48 < coords[0][1] < 49


def test_diesel_comparison_matches_accounting(plan: Plan) -> None:
    comp = full_doc(plan)["diesel_comparison"]
    expected = comparison(plan.account, plan.diesel)
    assert comp["saving"] == pytest.approx(expected, rel=REL)
    assert comp["co2e_wtw_kg"] == pytest.approx(plan.diesel.co2e_wtw_kg, rel=REL)
    assert comp["co2e_wtw_saving_pct"] == pytest.approx(
        100 * expected["co2e_wtw_kg"] / plan.diesel.co2e_wtw_kg, rel=REL
    )
    assert comp["saving"]["co2e_wtw_kg"] > 0  # an e-van saves CO2e against diesel


def test_json_text_and_file(plan: Plan, tmp_path: Path) -> None:
    p, s, r, a = plan.problem, plan.solution, plan.report, plan.account
    text = plan_to_json(p, s, r, a, diesel=plan.diesel)
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == plan_to_dict(p, s, r, a, diesel=plan.diesel)
    path = tmp_path / "plan.json"
    write_plan_json(p, s, r, a, path, diesel=plan.diesel)
    assert path.read_text("utf-8") == text


def test_planar_problem_and_unlimited_battery_give_nulls() -> None:
    """Benchmark-style coordinates in metres are not degrees: positions become null."""
    m = Model("planar")
    m.add_depot(0, 0)
    m.add_client(3000, 400, demand_kg=10, tw_early_s=0)
    m.add_client(500, 2500, demand_kg=10)
    m.add_vehicle_type(name="ev", energy_wh_per_m=0.2)  # unlimited battery
    problem = m.data()
    solution = Solution((Route(0, (Visit(1), Visit(2))),))
    doc = plan_to_dict(problem, solution, check(problem, solution), None)
    assert VALIDATOR.is_valid(doc)
    assert doc["geographic"] is False
    assert doc["depots"][0]["lat"] is None and doc["depots"][0]["close_s"] is None
    route = doc["routes"][0]
    assert route["geometry"] is None
    assert route["battery_wh"] is None
    assert route["stops"][0]["soc_arrival_pct"] is None
    assert route["stops"][0]["time_window"] is None
    json.dumps(doc, allow_nan=False)


def test_infeasible_plan_lists_violations_and_unassigned(plan: Plan) -> None:
    """A route that drops its last client: the client is unassigned, the plan infeasible."""
    routes = list(plan.solution.routes)
    k = next(i for i, r in enumerate(routes) if r.visits)
    dropped = next(v for v in reversed(routes[k].visits) if plan.problem.is_client(v.location))
    routes[k] = replace(routes[k], visits=tuple(v for v in routes[k].visits if v != dropped))
    solution = replace(plan.solution, routes=tuple(routes))
    report = check(plan.problem, solution)
    doc = plan_to_dict(plan.problem, solution, report, None)
    assert VALIDATOR.is_valid(doc)
    assert doc["feasible"] is False
    assert doc["unassigned"] == [plan.problem.location(dropped.location).name]
    assert any("not visited" in v for v in doc["violations"])
    assert not math.isnan(doc["totals"]["distance_m"])
