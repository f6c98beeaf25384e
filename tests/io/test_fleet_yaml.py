"""fleet.yaml reader: the example fleet, YAML line numbers and locations, every check."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from pathlib import Path

import jsonschema
import pytest
import yaml

from evfleet.day import INF, DepotCharger, InputErrors, ObjectiveWeights
from evfleet.errors import InputError
from evfleet.io.fleet_yaml import parse_fleet_yaml, read_fleet_yaml
from evfleet.problem import Powertrain

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "city-day" / "fleet.yaml"
SCHEMA = ROOT / "docs" / "schemas" / "fleet.schema.json"
DOC = ROOT / "docs" / "input-formats.md"

MINIMAL = """\
country: DE
outside_temperature_c: 5
diesel_price_per_l: 1.7
depots:
  - id: hub
    latitude: 48.1
    longitude: 11.4
vehicles:
  - id: vans
    catalogue_id: ford-e-transit
    count: 3
    shift_start: "07:00"
    shift_end: "17:00"
"""


def errors_of(
    text: str, catalogue_ids: Collection[str] | None = None
) -> list[tuple[int | None, str | None, str]]:
    """(line, location, message) of every error ``text`` raises."""
    with pytest.raises(InputErrors) as info:
        parse_fleet_yaml(text, path="fleet.yaml", catalogue_ids=catalogue_ids)
    return [(e.line, e.column, str(e)) for e in info.value.errors]


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- the example


def test_example_fleet_parses() -> None:
    fleet = read_fleet_yaml(EXAMPLE)
    assert (fleet.country, fleet.currency, fleet.outside_temperature_c) == ("DE", "EUR", -2.0)
    assert fleet.diesel_price_per_l == 1.72 and fleet.carbon_price_per_t == 80.0
    assert fleet.objective == ObjectiveWeights(cost=1.0)
    (depot,) = fleet.depots
    assert depot.chargers == (DepotCharger(22_000.0, 8), DepotCharger(50_000.0, 2))
    assert depot.charger_count == 10 and depot.charger_power_w == 276_000.0
    assert (depot.open_s, depot.close_s) == (5.5 * 3600, 20 * 3600)
    groups = {g.id: g for g in fleet.vehicle_groups}
    assert {k: g.count for k, g in groups.items()} == {
        "etransit-early": 6,
        "etransit-late": 6,
        "esprinter": 5,
        "diesel": 3,
    }
    assert fleet.vehicle_count == 20
    assert all(g.depot_id == depot.id and not g.is_custom for g in groups.values())
    electric = [g for k, g in groups.items() if k != "diesel"]
    assert sum(g.count for g in electric) == 17
    assert all(g.start_soc == 0.9 for g in electric)
    assert (groups["etransit-late"].shift_start_s, groups["etransit-late"].shift_end_s) == (
        8 * 3600.0,
        18 * 3600.0,
    )


def test_example_validates_against_the_json_schema() -> None:
    doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    validator().validate(doc)


def test_documented_example_parses_and_validates() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(name: .*?)```", text, re.S)
    assert block is not None
    fleet = parse_fleet_yaml(block.group(1))
    kinds = {g.id: g.powertrain for g in fleet.vehicle_groups}
    assert kinds == {
        "etransit-early": None,
        "cargo-bike-trailer": Powertrain.ELECTRIC,
        "old-diesel": Powertrain.DIESEL,
    }
    validator().validate(yaml.safe_load(block.group(1)))


@pytest.mark.parametrize(
    "change",
    [
        {"country": "DEU"},
        {"vehicles": [{"id": "v", "count": 0, "shift_start": "07:00", "shift_end": "17:00"}]},
        {"colour": "red"},
    ],
)
def test_the_schema_rejects_what_the_reader_rejects(change: dict[str, object]) -> None:
    doc = {**yaml.safe_load(MINIMAL), **change}
    assert list(validator().iter_errors(doc))
    with pytest.raises(InputErrors):
        parse_fleet_yaml(yaml.safe_dump(doc))


# --------------------------------------------------------------------------- values and units


def test_minimal_file_and_defaults() -> None:
    fleet = parse_fleet_yaml(MINIMAL)
    (group,) = fleet.vehicle_groups
    assert group.depot_id == "hub"  # the only depot
    assert (group.start_soc, group.driver_cost_per_hour, group.fixed_cost_per_day) == (1, 0, 0)
    assert fleet.depots[0].name == "hub" and fleet.depots[0].close_s == INF
    assert fleet.carbon_price_per_t == 0.0 and fleet.currency == "EUR"


def test_custom_vehicles_are_converted_to_si_units() -> None:
    text = MINIMAL.replace(
        "    catalogue_id: ford-e-transit\n",
        "    powertrain: electric\n    capacity_kg: 900\n    battery_kwh: 68\n"
        "    energy_kwh_per_100km: 25\n",
    )
    text += (
        "  - {id: d, powertrain: diesel, capacity_kg: 1200, fuel_l_per_100km: 10,"
        ' count: 1, shift_start: "08:00", shift_end: "18:00"}\n'
    )
    electric, diesel = parse_fleet_yaml(text).vehicle_groups
    assert electric.powertrain is Powertrain.ELECTRIC and electric.is_custom
    assert (electric.battery_wh, electric.energy_wh_per_m, electric.capacity_kg) == (
        68_000.0,
        0.25,
        900.0,
    )
    assert diesel.powertrain is Powertrain.DIESEL
    assert diesel.fuel_l_per_m == pytest.approx(1e-4)
    assert diesel.battery_wh is None


def test_yaml_11_pitfalls_are_read_as_meant() -> None:
    text = MINIMAL.replace("country: DE", "country: NO").replace('"07:00"', "07:00")
    text = text.replace('shift_end: "17:00"', "shift_end: 17:30\n    start_soc: 85%")
    fleet = parse_fleet_yaml(text)
    assert fleet.country == "NO"
    (group,) = fleet.vehicle_groups
    assert (group.shift_start_s, group.shift_end_s, group.start_soc) == (25200, 63000, 0.85)


def test_anchors_and_merge_keys() -> None:
    anchor = "x-day: &day\n  count: 2\n  shift_start: '06:00'\n  shift_end: '14:00'\n"
    text = anchor + MINIMAL.replace(
        "vehicles:\n",
        "vehicles:\n"
        "  - {<<: *day, id: override, catalogue_id: fiat-e-ducato, count: 4}\n"
        "  - {<<: *day, id: plain, catalogue_id: fiat-e-ducato}\n",
    )
    override, plain, _ = parse_fleet_yaml(text).vehicle_groups
    assert (override.count, override.shift_start_s, override.shift_end_s) == (4, 21600, 50400)
    assert (plain.count, plain.shift_start_s) == (2, 21600)


def test_unknown_keys_in_a_merged_mapping_are_flagged_at_the_anchor() -> None:
    anchor = "x-day: &day\n  count: 2\n  shift_strt: '06:00'\n"
    text = anchor + MINIMAL.replace(
        "vehicles:\n", "vehicles:\n  - {<<: *day, id: m, catalogue_id: x, shift_end: '14:00'}\n"
    )
    got = errors_of(text)
    assert [(line, loc) for line, loc, _ in got] == [
        (3, "$.vehicles[0].shift_strt"),
        (12, "$.vehicles[0]"),
    ]


# --------------------------------------------------------------------------- line numbers


BAD = """\
name: test
country: UK
outside_temperature_c: -2
diesel_price_per_l: 1,72
objective: {cost: 1, co2_kg: 2}
depots:
  - id: hub
    latitude: 48.1
    longitude: 181
    hours: "22:00-06:00"
    chargers:
      - {power_kw: 22, count: 8}
      - {power_kw: 50, count: "2"}
vehicles:
  - id: a
    catalogue_id: ford-e-transit
    capacity_kg: 900
    count: 10
    start_soc: 90
    shift_start: "07:00"
    shift_end: "06:00"
  - id: a
    powertrain: electrc
    capacity_kg: 900
    count: 0
    depot: hubb
    shift_strat: "07:00"
    shift_end: 25:00
  - id: b
    count: 1
    count: 2
    shift_start: "07:00"
    shift_end: "17:00"
"""


def test_every_error_has_its_yaml_line_and_location() -> None:
    got = [(line, loc) for line, loc, _ in errors_of(BAD)]
    assert got == [
        (2, "$.country"),
        (4, "$.diesel_price_per_l"),
        (5, "$.objective.co2_kg"),
        (7, "$.depots[0]"),  # electricity price missing, the depot has chargers
        (9, "$.depots[0].longitude"),
        (10, "$.depots[0].hours"),
        (13, "$.depots[0].chargers[1].count"),
        (17, "$.vehicles[0].capacity_kg"),
        (19, "$.vehicles[0].start_soc"),
        (21, "$.vehicles[0].shift_end"),
        (22, "$.vehicles[1]"),  # shift_start missing (misspelt)
        (22, "$.vehicles[1].id"),
        (23, "$.vehicles[1].powertrain"),
        (25, "$.vehicles[1].count"),
        (26, "$.vehicles[1].depot"),
        (27, "$.vehicles[1].shift_strat"),
        (28, "$.vehicles[1].shift_end"),
        (29, "$.vehicles[2]"),  # neither catalogue_id nor a custom vehicle
        (31, "$.vehicles[2].count"),
    ]


def test_messages_give_value_reason_and_hint() -> None:
    messages = {loc: text for _, loc, text in errors_of(BAD)}
    assert (
        messages["$.country"]
        == 'fleet.yaml:2: $.country: expected an ISO 3166 code: "GB", not "UK", got "UK"'
    )
    assert messages["$.diesel_price_per_l"] == (
        'fleet.yaml:4: $.diesel_price_per_l: expected a number >= 0, got "1,72" '
        "(use a decimal point: 1.72)"
    )
    assert messages["$.objective.co2_kg"].endswith('unknown key (did you mean "co2e_kg"?)')
    assert messages["$.depots[0].chargers[1].count"].endswith("(remove the quotes)")
    assert "did you mean 0.9 or 90%?" in messages["$.vehicles[0].start_soc"]
    assert "not allowed with catalogue_id" in messages["$.vehicles[0].capacity_kg"]
    assert "after shift_start 07:00" in messages["$.vehicles[0].shift_end"]
    assert "already used by $.vehicles[0] (line 15)" in messages["$.vehicles[1].id"]
    assert 'did you mean "electric"?' in messages["$.vehicles[1].powertrain"]
    assert 'unknown depot, got "hubb" (did you mean "hub"?)' in messages["$.vehicles[1].depot"]
    assert 'did you mean "shift_start"?' in messages["$.vehicles[1].shift_strat"]
    assert "key given twice (first on line 30)" in messages["$.vehicles[2].count"]


def test_read_fleet_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(MINIMAL.replace("count: 3", "count: -3"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_fleet_yaml(path)
    assert (
        str(info.value) == f'{path}:11: $.vehicles[0].count: expected a whole number >= 1, got "-3"'
    )
    assert info.value.line == 11


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("country: DE\n  bad indent: [\n", 2, "not valid YAML"),
        ("depots: [\n", 2, "not valid YAML"),
        ("a: 1\n---\nb: 2\n", 2, "not valid YAML"),
        ("", None, "empty file"),
        ("- just\n- a list\n", 1, "expected a mapping"),
    ],
)
def test_broken_files(text: str, line: int | None, reason: str) -> None:
    ((got_line, _, message),) = errors_of(text)
    assert got_line == line and reason in message


def test_missing_top_level_keys_are_all_reported() -> None:
    locations = [(line, loc) for line, loc, _ in errors_of("name: x\n")]
    assert locations == [(1, "$")] * 5


def test_several_depots_need_an_explicit_depot() -> None:
    text = MINIMAL.replace(
        "vehicles:",
        "  - {id: hub, latitude: 48.2, longitude: 11.6}\n"
        "  - {id: east, latitude: 48.2, longitude: 11.7}\nvehicles:",
    )
    got = errors_of(text)
    assert [(line, loc) for line, loc, _ in got] == [(8, "$.depots[1].id"), (11, "$.vehicles[0]")]
    assert "depot id already used by $.depots[0] (line 5)" in got[0][2]
    assert 'missing required key "depot"' in got[1][2]


def test_custom_vehicles_need_their_fields() -> None:
    text = MINIMAL.replace("    catalogue_id: ford-e-transit\n", "    battery_kwh: 68\n")
    messages = [m for _, _, m in errors_of(text)]
    assert any('missing required key "powertrain"' in m for m in messages)
    assert any('missing required key "capacity_kg"' in m for m in messages)
    text = MINIMAL.replace(
        "    catalogue_id: ford-e-transit\n",
        "    powertrain: diesel\n    capacity_kg: 900\n    battery_kwh: 68\n",
    )
    messages = [m for _, _, m in errors_of(text)]
    assert any('missing required key "fuel_l_per_100km"' in m for m in messages)
    assert any("battery_kwh: not allowed for a diesel vehicle" in m for m in messages)


def test_catalogue_ids_are_checked_when_given() -> None:
    text = MINIMAL.replace("ford-e-transit", "ford-etransit")
    assert parse_fleet_yaml(text).vehicle_groups[0].catalogue_id == "ford-etransit"
    ((line, loc, message),) = errors_of(text, catalogue_ids={"ford-e-transit", "fiat-e-ducato"})
    assert (line, loc) == (10, "$.vehicles[0].catalogue_id")
    assert 'not in the catalogue, got "ford-etransit" (did you mean "ford-e-transit"?)' in message


def test_example_vehicles_are_in_the_catalogue() -> None:
    catalogue = pytest.importorskip("evfleet.catalogue").Catalogue.load()
    fleet = read_fleet_yaml(EXAMPLE, catalogue_ids=catalogue.ids())
    electric = {
        str(g.catalogue_id): catalogue.get(str(g.catalogue_id)).is_electric
        for g in fleet.vehicle_groups
    }
    assert electric == {
        "ford-e-transit": True,
        "mercedes-esprinter": True,
        "diesel-reference-van": False,
    }
