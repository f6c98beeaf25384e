"""The ``evfleet-solution/1`` file format: round trips, the JSON Schema and bad files."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from evfleet import Model, Problem, Route, Solution, Visit
from evfleet.errors import InputError
from evfleet.io.solution_json import (
    FORMAT,
    read_solution,
    solution_from_dict,
    solution_to_dict,
    write_solution,
)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    text = resources.files("evfleet").joinpath("schemas/solution.schema.json").read_text()
    data: dict[str, Any] = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(data)
    return data


@pytest.fixture
def problem() -> Problem:
    m = Model("tiny")
    m.add_depot(0, 0)
    m.add_client(10, 0, name="C30")
    m.add_client(20, 0, name="C12")
    m.add_charger(15, 0, name="S5", power_w=1000)
    m.add_vehicle_type(name="ev", battery_wh=100, energy_wh_per_m=1)
    m.add_vehicle_type(name="van", powertrain="diesel")
    return m.data()


@pytest.fixture
def plan() -> Solution:
    return Solution(
        routes=(
            Route(0, (Visit(1), Visit(3, charge_wh=12.5), Visit(2)), start_s=60.0),
            Route(1, (), None),
        ),
        problem_name="tiny",
        stats={"runtime_s": 1.5, "iterations": 1000.0},
    )


def good_document() -> dict[str, Any]:
    return {
        "format": FORMAT,
        "instance": "tiny",
        "routes": [
            {
                "vehicle_type": "ev",
                "start_s": None,
                "visits": [{"location": "C30"}, {"location": "S5", "charge_wh": 12.5}],
            },
            {"vehicle_type": 1, "visits": [{"location": "C12"}]},
        ],
        "stats": {"runtime_s": 2},
    }


def test_to_dict_names_locations(problem: Problem, plan: Solution, schema: dict[str, Any]) -> None:
    data = solution_to_dict(plan, problem)
    jsonschema.validate(data, schema)
    assert data["format"] == "evfleet-solution/1"
    assert data["instance"] == "tiny"
    assert data["routes"][0] == {
        "vehicle_type": "ev",
        "start_s": 60.0,
        "visits": [{"location": "C30"}, {"location": "S5", "charge_wh": 12.5}, {"location": "C12"}],
    }
    assert data["routes"][1] == {"vehicle_type": "van", "start_s": None, "visits": []}
    assert data["stats"] == {"runtime_s": 1.5, "iterations": 1000.0}


def test_file_round_trip(
    problem: Problem, plan: Solution, schema: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "plan.json"
    write_solution(plan, problem, path)
    jsonschema.validate(json.loads(path.read_text()), schema)
    back = read_solution(path, problem)
    assert back == plan
    assert back.stats == plan.stats


def test_good_document_reads(problem: Problem, schema: dict[str, Any]) -> None:
    doc = good_document()
    jsonschema.validate(doc, schema)
    sol = solution_from_dict(doc, problem)
    assert sol.routes == (
        Route(0, (Visit(1), Visit(3, charge_wh=12.5)), None),
        Route(1, (Visit(2),), None),
    )
    assert sol.stats == {"runtime_s": 2.0}


def test_non_finite_stats_are_left_out(problem: Problem) -> None:
    plan = Solution((), stats={"bound": float("inf"), "runtime_s": 3.0})
    assert solution_to_dict(plan, problem)["stats"] == {"runtime_s": 3.0}


def test_duplicate_vehicle_type_names_are_written_as_indices() -> None:
    m = Model("two")
    m.add_depot()
    m.add_client(1, 0)
    m.add_vehicle_type(name="ev")
    m.add_vehicle_type(name="ev")
    problem = m.data()
    plan = Solution((Route(1, (Visit(1),)),))
    data = solution_to_dict(plan, problem)
    assert data["routes"][0]["vehicle_type"] == 1
    assert solution_from_dict(json.loads(json.dumps(data)), problem).routes == plan.routes


def edit(path: str, value: Any) -> dict[str, Any]:
    """``good_document()`` with the item at ``path`` (dotted, ints index lists) replaced;
    the value ``DELETE`` removes it."""
    doc = copy.deepcopy(good_document())
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node: Any = doc
    for part in parents:
        node = node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return doc


DELETE = object()

# (document, JSON path in the message, words of the message, does the schema reject it too?)
BAD_DOCUMENTS = [
    (
        edit("routes.0.visits.1.location", "S99"),
        "routes[0].visits[1].location",
        "unknown location 'S99'",
        False,
    ),
    (
        edit("routes.1.visits.0.location", "D0"),
        "routes[1].visits[0].location",
        "'D0' is a depot",
        False,
    ),
    (
        edit("routes.1.visits.0.location", 3),
        "routes[1].visits[0].location",
        "expected a location name",
        True,
    ),
    (edit("routes.0.visits.0", "C30"), "routes[0].visits[0]", "expected an object", True),
    (
        edit("routes.0.visits.1.charge_wh", "12"),
        "routes[0].visits[1].charge_wh",
        "expected a number of Wh",
        True,
    ),
    (edit("routes.0.visits.1.charge_wh", -1), "routes[0].visits[1].charge_wh", ">= 0", True),
    (
        edit("routes.0.visits.0.charge_wh", 1),
        "routes[0].visits[0].charge_wh",
        "only allowed at chargers",
        False,
    ),
    (
        edit("routes.0.visits.0.charge_kwh", 1),
        "routes[0].visits[0]",
        "unexpected key 'charge_kwh'",
        True,
    ),
    (
        edit("routes.0.visits.0.location", DELETE),
        "routes[0].visits[0]",
        "missing key 'location'",
        True,
    ),
    (edit("routes.1.vehicle_type", DELETE), "routes[1]", "missing key 'vehicle_type'", True),
    (
        edit("routes.1.vehicle_type", "truck"),
        "routes[1].vehicle_type",
        "unknown vehicle type 'truck'",
        False,
    ),
    (edit("routes.1.vehicle_type", 7), "routes[1].vehicle_type", "index 0-1", False),
    (edit("routes.1.vehicle_type", True), "routes[1].vehicle_type", "index 0-1", True),
    (edit("routes.0.start_s", "8:00"), "routes[0].start_s", "expected a number", True),
    (edit("routes.0.visits", {}), "routes[0].visits", "expected a list of visits", True),
    (edit("routes", None), "routes", "expected a list of routes", True),
    (edit("routes", DELETE), "(top level)", "missing key 'routes'", True),
    (edit("format", "evfleet-solution/2"), "format", "expected 'evfleet-solution/1'", True),
    (edit("instance", "other"), "instance", "for instance 'other'", False),
    (edit("stats.runtime_s", "fast"), "stats.runtime_s", "expected a number", True),
    (edit("extra", 1), "(top level)", "unexpected key 'extra'", True),
    ([], "(top level)", "expected an object", True),
]


@pytest.mark.parametrize(("doc", "where", "words", "schema_rejects"), BAD_DOCUMENTS)
def test_bad_documents(
    problem: Problem,
    schema: dict[str, Any],
    doc: Any,
    where: str,
    words: str,
    schema_rejects: bool,
) -> None:
    with pytest.raises(InputError) as info:
        solution_from_dict(doc, problem, source="plan.json")
    message = str(info.value)
    assert message.startswith(f"plan.json: {where}: "), message
    assert words in message
    assert info.value.path == "plan.json"
    valid = jsonschema.Draft202012Validator(schema).is_valid(doc)
    assert valid is not schema_rejects


def test_invalid_json_names_file_and_line(problem: Problem, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "format": "evfleet-solution/1",\n  "routes": [,]\n}\n')
    with pytest.raises(InputError) as info:
        read_solution(path, problem)
    assert info.value.path == str(path)
    assert info.value.line == 3
    assert "invalid JSON" in str(info.value)


def test_unknown_location_in_a_file(problem: Problem, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(edit("routes.0.visits.1.location", "C999")))
    with pytest.raises(InputError, match=r"routes\[0\]\.visits\[1\]\.location: unknown") as info:
        read_solution(path, problem)
    assert str(info.value).startswith(f"{path}: ")


def test_missing_file(problem: Problem, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_solution(tmp_path / "absent.json", problem)


def test_writing_an_unknown_location_fails(problem: Problem) -> None:
    with pytest.raises(ValueError, match=r"routes\[0\]\.visits\[0\]"):
        solution_to_dict(Solution((Route(0, (Visit(42),)),)), problem)
