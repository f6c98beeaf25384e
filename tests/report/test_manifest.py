"""Driver manifests: one CSV per route, every stop in order, Excel-friendly."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from report_fixture import Plan, used_route_count

from evfleet import Client
from evfleet.day import Order
from evfleet.report import route_manifests, write_manifests
from evfleet.report.manifest import COLUMNS


def rows(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter))


def test_one_file_per_route_with_every_stop_in_order(plan: Plan) -> None:
    manifests = route_manifests(plan.problem, plan.solution, plan.report)
    assert len(manifests) == used_route_count(plan)
    assert list(manifests) == ["route-01-evan-35-kwh.csv", "route-02-diesel-sprinter.csv"]
    names = plan.problem.location_names()
    used = [r for r in plan.solution.routes if r.visits]
    for text, route in zip(manifests.values(), used, strict=True):
        assert text.splitlines()[0] == ",".join(COLUMNS)  # the header comes first
        table = rows(text)
        assert [r["stop"] for r in table] == [str(k) for k in range(len(route.visits) + 2)]
        assert table[0]["type"] == table[-1]["type"] == "depot"
        assert table[0]["id"] == table[-1]["id"] == "DEPOT-N"
        assert table[0]["departure"] == "07:00" and table[0]["arrival"] == ""
        assert [r["id"] for r in table[1:-1]] == [names[v.location] for v in route.visits]
        for r, visit in zip(table[1:-1], route.visits, strict=True):
            site = plan.problem.location(visit.location)
            assert (float(r["latitude"]), float(r["longitude"])) == (site.y, site.x)
            assert len(r["arrival"]) == 5 and r["arrival"][2] == ":"
            if plan.problem.is_charger(visit.location):
                assert r["type"] == "charging"
                assert float(r["charge_kwh"]) > 0 and float(r["charge_min"]) > 0
            else:
                assert r["type"] == "delivery"
                assert isinstance(site, Client)
                assert r["window"] in ("08:00-12:00", "08:00-16:00")
                assert float(r["weight_kg"]) == pytest.approx(site.demand_kg)
                assert r["service_min"] == "5"
                assert r["parcels"] == "" and r["notes"] == ""
    charged = sum(
        float(r["charge_kwh"]) for text in manifests.values() for r in rows(text) if r["charge_kwh"]
    )
    assert charged == pytest.approx(plan.account.energy_charged_wh / 1000, abs=0.1)


def test_orders_give_parcels_and_notes(plan: Plan, orders: dict[str, Order]) -> None:
    manifests = route_manifests(plan.problem, plan.solution, plan.report, orders=orders)
    seen = {}
    for text in manifests.values():
        for r in rows(text):
            if r["type"] == "delivery":
                seen[r["id"]] = r
    assert set(seen) == set(orders)
    for order_id, order in orders.items():
        assert seen[order_id]["parcels"] == str(order.parcels)
        assert seen[order_id]["notes"] == order.notes  # commas and semicolons survive quoting
    assert any(order.notes for order in orders.values())


def test_bom_delimiter_and_files(plan: Plan, tmp_path: Path) -> None:
    manifests = route_manifests(plan.problem, plan.solution, plan.report, bom=True, delimiter=";")
    for text in manifests.values():
        assert text.startswith("\ufeff" + ";".join(COLUMNS) + "\r\n")
        assert rows(text, ";")[0]["type"] == "depot"
    paths = write_manifests(plan.problem, plan.solution, plan.report, tmp_path / "out", bom=True)
    assert [p.name for p in paths] == list(manifests)
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbfstop,type,id,")
        assert b"\r\n" in data and b"\r\r\n" not in data
    plain = write_manifests(plan.problem, plan.solution, plan.report, tmp_path / "plain")
    assert plain[0].read_bytes().startswith(b"stop,")
