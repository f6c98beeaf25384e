"""The problem's JSON form: exact round trips, the published schema, and input errors."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evfleet import (
    ChargingFunction,
    Metric,
    Model,
    Objective,
    Powertrain,
    Problem,
    RechargePolicy,
)
from evfleet.errors import InputError
from evfleet.io.problem_json import (
    FORMAT,
    problem_from_dict,
    problem_from_json,
    problem_schema,
    problem_to_dict,
    problem_to_json,
    read_problem_json,
    write_problem_json,
)
from evfleet.problem import ArcEnergy

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_SCHEMA = ROOT / "src" / "evfleet" / "schemas" / "problem.schema.json"
DOCS_SCHEMA = ROOT / "docs" / "schemas" / "problem.schema.json"
DOC = ROOT / "docs" / "problem-format.md"

SCHEMA = json.loads(PACKAGE_SCHEMA.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

SETTINGS = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INF = math.inf
DEFAULT_METRIC = Metric()

# --- helpers ------------------------------------------------------------------------------------


def assert_same_problem(a: Problem, b: Problem) -> None:
    assert a.name == b.name
    assert a.objective is b.objective
    assert a.recharge is b.recharge
    assert a.depots == b.depots
    assert a.clients == b.clients
    assert a.chargers == b.chargers
    assert a.vehicle_types == b.vehicle_types
    assert a.metric == b.metric
    assert a.carbon_price_per_kg == b.carbon_price_per_kg
    assert dict(a.charging_functions) == dict(b.charging_functions)
    matrices = [(a.distance_m, b.distance_m), (a.duration_s, b.duration_s)]
    for u, v in zip(a.vehicle_types, b.vehicle_types, strict=True):
        # arc_energy is left out of VehicleType equality (arrays): compare it here.
        assert (u.arc_energy is None) == (v.arc_energy is None)
        if u.arc_energy is not None and v.arc_energy is not None:
            matrices += [
                (u.arc_energy.base_wh, v.arc_energy.base_wh),
                (u.arc_energy.wh_per_kg, v.arc_energy.wh_per_kg),
            ]
    for x, y in matrices:
        assert y.dtype == np.float64
        assert x.shape == y.shape
        assert np.array_equal(x, y)  # bit for bit (no NaN can occur)


def through_text(problem: Problem) -> Problem:
    """problem -> dict -> JSON text (plain json.dumps) -> problem."""
    text = json.dumps(problem_to_dict(problem), allow_nan=False)
    return problem_from_dict(json.loads(text))


def reader_error(doc: object) -> InputError:
    with pytest.raises(InputError) as info:
        problem_from_dict(doc, source="bad.json")
    assert info.value.path == "bad.json"
    assert str(info.value).startswith("bad.json: ")
    return info.value


def sample_model(*, metric: Metric | None = DEFAULT_METRIC) -> Model:
    m = Model("sample")
    m.objective = Objective.DRIVING_AND_CHARGING_TIME
    m.recharge = RechargePolicy.PARTIAL
    m.add_depot(0.0, 0.0, name="north", tw_early_s=0.0, tw_late_s=72_000.0)
    m.add_depot(5_000.5, -3_000.25, name="south")
    m.add_client(1_200.0, 800.0, demand_kg=35.0, service_s=300.0, tw_early_s=25_200.0)
    m.add_client(-400.1, 2_500.7, demand_kg=4.5, service_s=120.0, tw_late_s=36_000.0)
    m.add_client(0.1, 0.2, name="exact-0.1")
    m.add_charger(600.0, 1_500.0, power_w=50_000.0, connectors=2, price_per_kwh=0.32)
    m.add_charger(
        -50.0,
        70.0,
        function=ChargingFunction.piecewise([(0, 0), (48_000, 3_456), (60_000, 5_400)]),
        open_s=3_600.0,
        close_s=7_200.0,
    )
    m.add_vehicle_type(
        name="van", count=3, capacity_kg=800.0, battery_wh=60_000.0, energy_wh_per_m=0.2
    )
    m.add_vehicle_type(
        name="truck",
        depot=1,
        powertrain=Powertrain.DIESEL,
        fuel_l_per_m=0.0003,
        fixed_cost=120.0,
        cost_per_m=0.001,
        cost_per_s=0.005,
        shift_start_s=21_600.0,
        shift_end_s=64_800.0,
        max_duration_s=28_800.0,
        initial_energy_wh=0.0,
    )
    if metric is None:
        n = 7
        rng = np.random.default_rng(7)
        dist = rng.uniform(0.0, 10_000.0, (n, n))
        dist[2, 5] = INF  # no arc
        m.set_matrices(dist, dist / 8.3)
    else:
        m.set_metric(metric)
    return m


VAN_OVERRIDE = ChargingFunction.piecewise([(0, 0), (30_000, 2_700), (60_000, 7_200)])


def with_extras(p: Problem) -> Problem:
    """The problem with the fields the Model builder does not set: costs and emissions per
    vehicle type, load-dependent energy for the van, charging overrides and a carbon price."""
    n = p.num_locations
    rng = np.random.default_rng(11)
    base = rng.uniform(0.0, 3_000.0, (n, n))
    base[2, 5] = INF  # no arc
    base[1, 1] = -12.5  # negative bases are allowed
    slope = rng.uniform(0.0, 0.5, (n, n))
    van, truck = p.vehicle_types
    van = dataclasses.replace(
        van,
        arc_energy=ArcEnergy(base_wh=base, wh_per_kg=slope),
        energy_cost_per_wh=0.00025,
        co2e_kg_per_wh=0.00038,
    )
    truck = dataclasses.replace(truck, fuel_cost_per_l=1.65, co2e_kg_per_l=3.17)
    return dataclasses.replace(
        p,
        vehicle_types=(van, truck),
        # Deliberately not in sorted order: the writer sorts by (vehicle type, charger).
        charging_functions={(0, 1): VAN_OVERRIDE, (0, 0): ChargingFunction.linear(0.1)},
        carbon_price_per_kg=0.1,
    )


def sample_problem(*, metric: Metric | None = DEFAULT_METRIC, extras: bool = True) -> Problem:
    p = sample_model(metric=metric).data()
    return with_extras(p) if extras else p


def sample_doc(*, metric: Metric | None = DEFAULT_METRIC, extras: bool = True) -> dict[str, Any]:
    return problem_to_dict(sample_problem(metric=metric, extras=extras))


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric",
    [Metric(), Metric(truncate_decimals=1), Metric(truncate_decimals=0, speed_m_per_s=13.9)],
)
def test_round_trip_with_metric(metric: Metric) -> None:
    p = sample_model(metric=metric).data()
    d = problem_to_dict(p)
    assert d["matrices"] == {
        "metric": {
            "kind": "euclidean",
            "truncate_decimals": metric.truncate_decimals,
            "speed_m_per_s": metric.speed_m_per_s,
        }
    }
    assert_same_problem(p, through_text(p))
    assert_same_problem(p, problem_from_json(problem_to_json(p)))


def test_round_trip_with_explicit_matrices() -> None:
    p = sample_model(metric=None).data()
    d = problem_to_dict(p)
    assert set(d["matrices"]) == {"distance_m", "duration_s"}
    assert d["matrices"]["distance_m"][2][5] is None  # infinity written as null
    q = through_text(p)
    assert_same_problem(p, q)
    assert q.distance_m[2, 5] == INF
    assert_same_problem(p, problem_from_json(problem_to_json(p)))


def test_infinite_and_none_fields_are_null() -> None:
    d = sample_doc()
    assert d["format"] == FORMAT
    assert d["depots"][1]["tw_late_s"] is None
    assert d["clients"][0]["tw_late_s"] is None
    assert d["chargers"][0]["close_s"] is None
    assert d["chargers"][0]["function"] == {"seconds_per_wh": 3600.0 / 50_000.0}
    assert d["chargers"][1]["function"] == {
        "breakpoints": [[0.0, 0.0], [48_000.0, 3_456.0], [60_000.0, 5_400.0]]
    }
    van, truck = d["vehicle_types"]
    assert van["count"] == 3 and van["initial_energy_wh"] is None
    assert van["shift_end_s"] is None and van["max_duration_s"] is None
    assert truck["count"] is None and truck["capacity_kg"] is None
    assert truck["battery_wh"] is None and truck["initial_energy_wh"] == 0.0
    q = problem_from_dict(d)
    assert q.vehicle_types[1].battery_wh == INF and q.vehicle_types[1].count is None
    assert q.vehicle_types[0].initial_energy_wh is None


def test_file_round_trip_and_fixed_point(tmp_path: Path) -> None:
    p = sample_model(metric=None).data()
    path = tmp_path / "p.json"
    write_problem_json(p, path)
    q = read_problem_json(path)
    assert_same_problem(p, q)
    assert problem_to_dict(q) == problem_to_dict(p)
    assert path.read_text(encoding="utf-8") == problem_to_json(q)
    assert read_problem_json(str(path)).name == "sample"


def test_written_text_keeps_matrix_rows_on_one_line() -> None:
    text = problem_to_json(sample_model(metric=None).data())
    assert text.endswith("}\n")
    row = json.dumps(problem_to_dict(sample_model(metric=None).data())["matrices"]["distance_m"][0])
    assert row in text


def test_unicode_names_round_trip(tmp_path: Path) -> None:
    m = sample_model()
    m.name = 'Zürich "Nord" — Lieferungen'
    p = m.data()
    write_problem_json(p, tmp_path / "u.json")
    assert read_problem_json(tmp_path / "u.json").name == m.name


def test_metric_dropped_when_matrices_no_longer_match() -> None:
    p = sample_model().data()
    p.distance_m[0, 2] += 1.0  # edited after building
    d = problem_to_dict(p)
    assert set(d["matrices"]) == {"distance_m", "duration_s"}
    q = problem_from_dict(d)
    assert q.metric is None
    assert np.array_equal(q.distance_m, p.distance_m)


def test_energy_model_hook_cannot_be_written() -> None:
    m = sample_model()
    m.add_vehicle_type(name="hooked", energy_model=lambda i, j, d, load: 0.1 * d)
    with pytest.raises(ValueError, match=r"vehicle type 2 \('hooked'\).*energy_model"):
        problem_to_dict(m.data())


def test_nan_cannot_be_written() -> None:
    p = sample_model(metric=None).data()
    p.duration_s[1, 3] = math.nan
    with pytest.raises(ValueError, match=r"matrices\.duration_s\[1\]\[3\]"):
        problem_to_dict(p)


@pytest.mark.parametrize("metric", [DEFAULT_METRIC, None])
def test_costs_emissions_arc_energy_and_overrides_round_trip(metric: Metric | None) -> None:
    p = sample_problem(metric=metric)
    d = problem_to_dict(p)
    VALIDATOR.validate(d)
    assert list(d)[:5] == ["format", "name", "objective", "recharge", "carbon_price_per_kg"]
    assert list(d)[-2:] == ["charging_functions", "matrices"]
    assert d["carbon_price_per_kg"] == 0.1
    van, truck = d["vehicle_types"]
    assert (van["energy_cost_per_wh"], van["co2e_kg_per_wh"]) == (0.00025, 0.00038)
    assert (van["fuel_cost_per_l"], van["co2e_kg_per_l"]) == (0.0, 0.0)
    assert (truck["fuel_cost_per_l"], truck["co2e_kg_per_l"]) == (1.65, 3.17)
    assert "arc_energy" not in truck
    assert van["arc_energy"]["base_wh"][2][5] is None  # infinity written as null
    assert van["arc_energy"]["base_wh"][1][1] == -12.5
    assert d["charging_functions"] == [
        {"vehicle_type": 0, "charger": 0, "function": {"seconds_per_wh": 0.1}},
        {
            "vehicle_type": 0,
            "charger": 1,
            "function": {"breakpoints": [[0.0, 0.0], [30_000.0, 2_700.0], [60_000.0, 7_200.0]]},
        },
    ]
    q = through_text(p)
    assert_same_problem(p, q)
    assert_same_problem(p, problem_from_json(problem_to_json(p)))
    assert problem_to_dict(q) == d
    vt = q.vehicle_types[0]
    assert vt.arc_energy is not None and vt.arc_energy.base_wh[2, 5] == INF
    assert vt.arc_energy_wh(3, 4, 0.0, 100.0) == p.vehicle_types[0].arc_energy_wh(3, 4, 0.0, 100.0)
    assert q.charging_function(0, 1) == VAN_OVERRIDE
    assert q.charging_function(1, 1) == p.chargers[1].function  # no override: the charger's


def test_new_fields_written_with_defaults_or_left_out() -> None:
    d = sample_doc(extras=False)
    assert d["carbon_price_per_kg"] == 0.0
    assert "charging_functions" not in d
    for vt in d["vehicle_types"]:
        assert "arc_energy" not in vt
        for key in ("fuel_cost_per_l", "energy_cost_per_wh", "co2e_kg_per_l", "co2e_kg_per_wh"):
            assert vt[key] == 0.0
    q = problem_from_dict(d)
    assert q.charging_functions == {} and q.carbon_price_per_kg == 0.0
    assert all(vt.arc_energy is None for vt in q.vehicle_types)


def test_energy_model_hook_beside_arc_energy_is_not_written() -> None:
    # arc_energy takes precedence, so the hook is never used and the vehicle writes fine.
    p = sample_problem()
    van = dataclasses.replace(p.vehicle_types[0], energy_model=lambda i, j, d, load: 0.1 * d)
    p = dataclasses.replace(p, vehicle_types=(van, p.vehicle_types[1]))
    q = through_text(p)
    assert_same_problem(p, q)
    assert q.vehicle_types[0].energy_model is None


@pytest.mark.parametrize(
    ("matrix", "value", "message"),
    [
        (
            "wh_per_kg",
            INF,
            r"vehicle_types\[0\]\.arc_energy\.wh_per_kg\[1\]\[3\] = inf: "
            r"expected a finite number$",
        ),
        ("wh_per_kg", math.nan, r"arc_energy\.wh_per_kg\[1\]\[3\] = nan"),
        ("base_wh", -INF, r"arc_energy\.base_wh\[1\]\[3\] = -inf: expected a finite number or"),
        ("base_wh", math.nan, r"arc_energy\.base_wh\[1\]\[3\] = nan"),
    ],
)
def test_non_finite_arc_energy_cannot_be_written(matrix: str, value: float, message: str) -> None:
    p = sample_problem()
    arc = p.vehicle_types[0].arc_energy
    assert arc is not None
    getattr(arc, matrix)[1, 3] = value
    with pytest.raises(ValueError, match=message):
        problem_to_dict(p)


def test_non_finite_costs_cannot_be_written() -> None:
    p = sample_problem()
    with pytest.raises(ValueError, match=r"carbon_price_per_kg = inf"):
        problem_to_dict(dataclasses.replace(p, carbon_price_per_kg=INF))
    truck = dataclasses.replace(p.vehicle_types[1], fuel_cost_per_l=math.nan)
    with pytest.raises(ValueError, match=r"vehicle_types\[1\]\.fuel_cost_per_l = nan"):
        problem_to_dict(dataclasses.replace(p, vehicle_types=(p.vehicle_types[0], truck)))


# --- property-based round trips -----------------------------------------------------------------

coord = st.floats(-1e5, 1e5, allow_nan=False, allow_infinity=False)
amount = st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False)
names = st.text(max_size=8)


@st.composite
def concave_breakpoints(draw: st.DrawFn) -> list[tuple[float, float]]:
    k = draw(st.integers(1, 4))
    points = [(0.0, 0.0)]
    energy = time = 0.0
    slope = draw(st.floats(0.05, 2.0))
    for _ in range(k):
        step = draw(st.floats(1.0, 1e4))
        energy += step
        time += step * slope
        points.append((energy, time))
        slope *= 1.0 + draw(st.floats(0.01, 1.0))
    return points


def window(draw: st.DrawFn) -> tuple[float, float]:
    early = draw(st.floats(-1e4, 1e5))
    late = draw(st.one_of(st.just(INF), st.floats(early, 2e5)))
    return early, late


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    m = Model(draw(names))
    m.objective = draw(st.sampled_from(Objective))
    m.recharge = draw(st.sampled_from(RechargePolicy))
    num_depots = draw(st.integers(1, 2))
    for _ in range(num_depots):
        early, late = window(draw)
        m.add_depot(draw(coord), draw(coord), name=draw(names), tw_early_s=early, tw_late_s=late)
    for _ in range(draw(st.integers(1, 8))):
        early, late = window(draw)
        m.add_client(
            draw(coord),
            draw(coord),
            name=draw(names),
            demand_kg=draw(amount),
            service_s=draw(amount),
            tw_early_s=early,
            tw_late_s=late,
        )
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            function = ChargingFunction.linear(draw(st.floats(0.0, 10.0)))
        else:
            function = ChargingFunction.piecewise(draw(concave_breakpoints()))
        open_s, close_s = window(draw)
        m.add_charger(
            draw(coord),
            draw(coord),
            name=draw(names),
            function=function,
            connectors=draw(st.integers(1, 4)),
            price_per_kwh=draw(st.floats(-1.0, 1.0)),
            open_s=open_s,
            close_s=close_s,
        )
    maybe_inf = st.one_of(st.just(INF), amount)
    num_types = draw(st.integers(1, 3))
    for _ in range(num_types):
        battery = draw(maybe_inf)
        initial = draw(st.one_of(st.none(), st.floats(0.0, min(battery, 1e6))))
        start, end = window(draw)
        m.add_vehicle_type(
            name=draw(names),
            count=draw(st.one_of(st.none(), st.integers(0, 50))),
            capacity_kg=draw(maybe_inf),
            depot=draw(st.integers(0, num_depots - 1)),
            powertrain=draw(st.sampled_from(Powertrain)),
            battery_wh=battery,
            initial_energy_wh=initial,
            energy_wh_per_m=draw(st.floats(0.0, 2.0)),
            fuel_l_per_m=draw(st.floats(0.0, 0.01)),
            fixed_cost=draw(st.floats(-1e3, 1e3)),
            cost_per_m=draw(st.floats(0.0, 1.0)),
            cost_per_s=draw(st.floats(0.0, 1.0)),
            shift_start_s=start,
            shift_end_s=end,
            max_duration_s=draw(maybe_inf),
        )
    if draw(st.booleans()):
        m.set_metric(
            Metric(
                truncate_decimals=draw(st.one_of(st.none(), st.integers(0, 4))),
                speed_m_per_s=draw(st.floats(0.1, 40.0)),
            )
        )
    else:
        n = len(m.data().location_names())
        entry = st.one_of(st.floats(0.0, 1e7), st.just(INF))
        flat = draw(st.lists(entry, min_size=2 * n * n, max_size=2 * n * n))
        m.set_matrices(np.array(flat[: n * n]).reshape(n, n), np.array(flat[n * n :]).reshape(n, n))
    return draw(extras(m.data()))


@st.composite
def extras(draw: st.DrawFn, p: Problem) -> Problem:
    """Adds what the Model builder cannot set: costs, emissions, arc energy, overrides."""
    n = p.num_locations
    money = st.floats(-10.0, 10.0)
    types = []
    for vt in p.vehicle_types:
        arc = None
        if draw(st.booleans()):
            base = st.one_of(st.floats(-1e4, 1e7), st.just(INF))
            flat_base = draw(st.lists(base, min_size=n * n, max_size=n * n))
            flat_slope = draw(st.lists(st.floats(-1.0, 10.0), min_size=n * n, max_size=n * n))
            arc = ArcEnergy(
                base_wh=np.array(flat_base, dtype=np.float64).reshape(n, n),
                wh_per_kg=np.array(flat_slope, dtype=np.float64).reshape(n, n),
            )
        types.append(
            dataclasses.replace(
                vt,
                arc_energy=arc,
                fuel_cost_per_l=draw(money),
                energy_cost_per_wh=draw(money),
                co2e_kg_per_l=draw(st.floats(0.0, 10.0)),
                co2e_kg_per_wh=draw(st.floats(0.0, 0.01)),
            )
        )
    overrides: dict[tuple[int, int], ChargingFunction] = {}
    if p.chargers:
        pairs = st.tuples(st.integers(0, len(types) - 1), st.integers(0, len(p.chargers) - 1))
        for pair in draw(st.lists(pairs, max_size=4, unique=True)):
            if draw(st.booleans()):
                overrides[pair] = ChargingFunction.linear(draw(st.floats(0.0, 10.0)))
            else:
                overrides[pair] = ChargingFunction.piecewise(draw(concave_breakpoints()))
    return dataclasses.replace(
        p,
        vehicle_types=tuple(types),
        charging_functions=overrides,
        carbon_price_per_kg=draw(st.floats(0.0, 1e3)),
    )


@SETTINGS
@given(problems())
def test_random_problems_round_trip_exactly(p: Problem) -> None:
    d = problem_to_dict(p)
    VALIDATOR.validate(d)
    assert_same_problem(p, through_text(p))
    q = problem_from_json(problem_to_json(p))
    assert_same_problem(p, q)
    assert problem_to_dict(q) == d


# --- the schema ---------------------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_published_schema_is_identical_to_packaged_one() -> None:
    assert DOCS_SCHEMA.read_bytes() == PACKAGE_SCHEMA.read_bytes()
    assert problem_schema() == SCHEMA


def test_schema_descriptions_state_units() -> None:
    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            props = node.get("properties", {})
            for key, sub in props.items():
                unit = re.search(r"_(s|m|kg|wh|kwh|m_per_s|wh_per_m|l_per_m|per_wh)$", key)
                if unit and "$ref" not in sub:
                    assert "description" in sub, f"{path}.{key} lacks a description"
                if key in ("x", "y"):
                    continue
                text = sub.get("description", "")
                if key.endswith("_s") and "$ref" not in sub:
                    assert "second" in text or "(s" in text, f"{path}.{key}: {text}"
                if key.endswith("_wh") and key != "price_per_kwh":
                    assert "Wh" in text, f"{path}.{key}: {text}"
                if key.endswith("_kg"):
                    assert "kilogram" in text, f"{path}.{key}: {text}"
            for key, sub in node.items():
                walk(sub, f"{path}.{key}")
        elif isinstance(node, list):
            for k, sub in enumerate(node):
                walk(sub, f"{path}[{k}]")

    walk(SCHEMA, "$")
    assert "metres" in SCHEMA["$defs"]["coordinate"]["description"]


@pytest.mark.parametrize("metric", [Metric(truncate_decimals=1), None])
def test_written_documents_validate(metric: Metric | None) -> None:
    VALIDATOR.validate(sample_doc(metric=metric))


def test_docs_examples_parse_and_agree() -> None:
    text = DOC.read_text(encoding="utf-8")
    json_block, costed_block = re.findall(r"```json\n(.*?)```", text, re.S)
    doc = json.loads(json_block)
    VALIDATOR.validate(doc)
    from_json = problem_from_dict(doc)
    costed_doc = json.loads(costed_block)
    VALIDATOR.validate(costed_doc)
    costed = problem_from_dict(costed_doc)
    assert_same_problem(costed, through_text(costed))
    van = costed.vehicle_types[0]
    assert van.arc_energy is not None
    assert van.arc_energy_wh(0, 1, 5_000.0, 250.0) == 1150.0 + 0.21 * 250.0
    assert costed.charging_function(0, 0) == ChargingFunction.from_power(11_000)
    assert costed.chargers[0].function == ChargingFunction.from_power(22_000)
    assert costed.carbon_price_per_kg == 0.1
    assert costed.vehicle_types[1].co2e_kg_per_l == 3.17
    python_block = re.findall(r"```python\n(.*?)```", text, re.S)[-1]
    scope: dict[str, Any] = {}
    exec(python_block, scope)
    assert_same_problem(scope["problem"], from_json)
    assert from_json.vehicle_types[0].count == 3


# --- bad documents ------------------------------------------------------------------------------

# Every object in a document, as (JSON path, keys the reader requires there, getter).
REQUIRED: list[tuple[str, tuple[str, ...], str]] = [
    ("", ("format", "name", "depots", "clients", "chargers", "vehicle_types", "matrices"), ""),
    ("depots[0]", ("name", "x", "y"), "depots.0"),
    ("clients[1]", ("name", "x", "y"), "clients.1"),
    ("chargers[1]", ("name", "x", "y", "function"), "chargers.1"),
    ("vehicle_types[1]", ("name",), "vehicle_types.1"),
    ("matrices.metric", ("kind",), "matrices.metric"),
    ("vehicle_types[0].arc_energy", ("base_wh", "wh_per_kg"), "vehicle_types.0.arc_energy"),
    ("charging_functions[1]", ("vehicle_type", "charger", "function"), "charging_functions.1"),
]


def dig(doc: Any, where: str) -> Any:
    for part in where.split(".") if where else []:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


@pytest.mark.parametrize(
    ("path", "key", "where"), [(p, k, w) for p, keys, w in REQUIRED for k in keys]
)
def test_each_required_key_missing(path: str, key: str, where: str) -> None:
    doc = sample_doc(metric=Metric(truncate_decimals=1))
    del dig(doc, where)[key]
    assert not VALIDATOR.is_valid(doc)
    err = reader_error(doc)
    assert err.reason == f'{path or "top level"}: missing required key "{key}"'


@pytest.mark.parametrize("key", ["distance_m", "duration_s"])
def test_explicit_matrix_missing(key: str) -> None:
    doc = sample_doc(metric=None)
    del doc["matrices"][key]
    assert not VALIDATOR.is_valid(doc)
    assert reader_error(doc).reason == f'matrices: missing required key "{key}"'


def test_empty_matrices_object_and_function() -> None:
    doc = sample_doc()
    doc["matrices"] = {}
    assert not VALIDATOR.is_valid(doc)
    assert "missing required key" in reader_error(doc).reason
    doc = sample_doc()
    doc["chargers"][0]["function"] = {}
    assert not VALIDATOR.is_valid(doc)
    assert reader_error(doc).reason.startswith("chargers[0].function: missing required key")


def test_optional_keys_take_dataclass_defaults() -> None:
    doc: dict[str, Any] = {
        "format": FORMAT,
        "name": "minimal",
        "depots": [{"name": "d", "x": 0, "y": 0}],
        "clients": [{"name": "c", "x": 3, "y": 4}],
        "chargers": [{"name": "s", "x": 1, "y": 1, "function": {"seconds_per_wh": 0.5}}],
        "vehicle_types": [{"name": "ev"}],
        "matrices": {"metric": {"kind": "euclidean"}},
    }
    VALIDATOR.validate(doc)
    p = problem_from_dict(doc)
    m = Model("minimal")
    m.add_depot(0, 0, name="d")
    m.add_client(3, 4, name="c")
    m.add_charger(1, 1, name="s", function=ChargingFunction.linear(0.5))
    m.add_vehicle_type(name="ev")
    assert_same_problem(p, m.data())
    assert p.distance_m[0, 1] == 5.0
    assert p.carbon_price_per_kg == 0.0 and p.charging_functions == {}
    vt = p.vehicle_types[0]
    assert vt.arc_energy is None
    assert (vt.fuel_cost_per_l, vt.energy_cost_per_wh) == (0.0, 0.0)
    assert (vt.co2e_kg_per_l, vt.co2e_kg_per_wh) == (0.0, 0.0)


# (JSON path, value to put there, expected message after the path)
WRONG_VALUES: list[tuple[str, object, str]] = [
    ("clients.2.tw_late_s", "abc", 'expected a number or null, got "abc"'),
    ("clients.0.x", None, "expected a number, got null"),
    ("clients.0.x", True, "expected a number, got true"),
    ("clients.0.x", "1.5", 'expected a number, got "1.5"'),
    ("clients.0.demand_kg", -1.0, "must be >= 0, got -1.0"),
    ("clients.0.service_s", [1], "expected a number, got an array"),
    ("clients.0.name", 7, "expected a string, got 7"),
    ("depots.0.tw_early_s", None, "expected a number, got null"),
    ("depots", {}, "expected an array, got an object"),
    ("depots", [], "expected at least 1 item(s), got 0"),
    ("vehicle_types", [], "expected at least 1 item(s), got 0"),
    ("clients.1", [], "expected an object, got an array"),
    ("chargers.0.connectors", 0, "must be >= 1, got 0"),
    ("chargers.0.connectors", 1.5, "expected an integer, got 1.5"),
    ("chargers.0.connectors", "2", 'expected an integer, got "2"'),
    ("chargers.0.function", 3.6, "expected an object, got 3.6"),
    ("chargers.0.function.seconds_per_wh", -0.1, "must be >= 0, got -0.1"),
    ("chargers.1.function.breakpoints", [[0, 0]], "expected at least 2 item(s), got 1"),
    ("chargers.1.function.breakpoints.1", [1, 2, 3], "expected [energy_wh, time_s], got 3 items"),
    ("chargers.1.function.breakpoints.1.0", "x", 'expected a number, got "x"'),
    ("vehicle_types.0.count", -1, "must be >= 0, got -1"),
    ("vehicle_types.0.count", 2.5, "expected an integer or null, got 2.5"),
    ("vehicle_types.0.depot", None, "expected an integer, got null"),
    ("vehicle_types.0.battery_wh", {}, "expected a number or null, got an object"),
    ("vehicle_types.0.capacity_kg", -5, "must be >= 0, got -5"),
    ("vehicle_types.0.energy_wh_per_m", None, "expected a number, got null"),
    ("matrices.metric.speed_m_per_s", 0, "must be > 0, got 0"),
    ("matrices.metric.truncate_decimals", 1.5, "expected an integer or null, got 1.5"),
    ("matrices.metric.truncate_decimals", 99, "must be <= 15, got 99"),
    ("name", None, "expected a string, got null"),
    ("carbon_price_per_kg", -0.5, "must be >= 0, got -0.5"),
    ("carbon_price_per_kg", None, "expected a number, got null"),
    ("vehicle_types.0.fuel_cost_per_l", "1.6", 'expected a number, got "1.6"'),
    ("vehicle_types.0.energy_cost_per_wh", None, "expected a number, got null"),
    ("vehicle_types.1.co2e_kg_per_l", -3.17, "must be >= 0, got -3.17"),
    ("vehicle_types.0.co2e_kg_per_wh", True, "expected a number, got true"),
    ("vehicle_types.0.arc_energy", [], "expected an object, got an array"),
    ("vehicle_types.0.arc_energy", None, "expected an object, got null"),
    ("vehicle_types.0.arc_energy.base_wh", {}, "expected an array, got an object"),
    ("vehicle_types.0.arc_energy.base_wh.3", 1.0, "expected an array, got 1.0"),
    ("vehicle_types.0.arc_energy.base_wh.1.2", "x", 'expected a number or null, got "x"'),
    ("vehicle_types.0.arc_energy.wh_per_kg.3.0", None, "expected a number, got null"),
    (
        "vehicle_types.0.arc_energy.wh_per_kg",
        [],
        "expected 7 rows, one per location (2 depot(s), 3 client(s), 2 charger(s)), got 0",
    ),
    ("charging_functions", {}, "expected an array, got an object"),
    ("charging_functions.0", 1, "expected an object, got 1"),
    ("charging_functions.0.vehicle_type", -1, "must be >= 0, got -1"),
    ("charging_functions.0.vehicle_type", None, "expected an integer, got null"),
    ("charging_functions.1.charger", 0.5, "expected an integer, got 0.5"),
    ("charging_functions.1.function", [], "expected an object, got an array"),
    ("charging_functions.0.function.seconds_per_wh", -1.0, "must be >= 0, got -1.0"),
    ("charging_functions.1.function.breakpoints.1.1", "t", 'expected a number, got "t"'),
]


def put(doc: Any, where: str, value: object) -> None:
    *parents, last = where.split(".")
    target = dig(doc, ".".join(parents))
    target[int(last) if isinstance(target, list) else last] = value


def json_path(where: str) -> str:
    return re.sub(r"\.(\d+)", r"[\1]", where)


@pytest.mark.parametrize(("where", "value", "message"), WRONG_VALUES)
def test_wrong_types_and_values(where: str, value: object, message: str) -> None:
    doc = sample_doc(metric=Metric(truncate_decimals=1))
    put(doc, where, value)
    assert not VALIDATOR.is_valid(doc)
    assert reader_error(doc).reason == f"{json_path(where)}: {message}"


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("objective", "fastest"),
        ("recharge", "FULL"),
        ("vehicle_types.1.powertrain", "hydrogen"),
        ("matrices.metric.kind", "manhattan"),
        ("objective", 1),
    ],
)
def test_bad_enum_values(where: str, value: object) -> None:
    doc = sample_doc()
    put(doc, where, value)
    assert not VALIDATOR.is_valid(doc)
    reason = reader_error(doc).reason
    assert reason.startswith(f"{json_path(where)}: expected one of ")
    assert reason.endswith(f"got {json.dumps(value)}")


def test_bad_format() -> None:
    doc = sample_doc()
    doc["format"] = "evfleet-problem/2"
    assert not VALIDATOR.is_valid(doc)
    assert reader_error(doc).reason == (
        'format: expected "evfleet-problem/1", got "evfleet-problem/2"'
    )


def test_unknown_keys_rejected_with_suggestion() -> None:
    doc = sample_doc()
    doc["vehicle_types"][0]["battery_kwh"] = 60.0
    assert not VALIDATOR.is_valid(doc)
    assert reader_error(doc).reason == (
        'vehicle_types[0]: unknown key "battery_kwh" (did you mean "battery_wh"?)'
    )
    doc = sample_doc()
    doc["comment"] = "hi"
    assert not VALIDATOR.is_valid(doc)
    assert reader_error(doc).reason == 'top level: unknown key "comment"'
    doc = sample_doc()
    doc["vehicle_types"][0]["arc_energy"]["wh_per_t"] = []
    assert not VALIDATOR.is_valid(doc)
    assert reader_error(doc).reason == (
        'vehicle_types[0].arc_energy: unknown key "wh_per_t" (did you mean "wh_per_kg"?)'
    )
    doc = sample_doc()
    doc["charging_functions"][0]["vehicle"] = 0
    assert not VALIDATOR.is_valid(doc)
    assert reader_error(doc).reason == (
        'charging_functions[0]: unknown key "vehicle" (did you mean "vehicle_type"?)'
    )
    doc = sample_doc()
    doc["carbon_price_per_t"] = 100.0
    assert not VALIDATOR.is_valid(doc)
    assert reader_error(doc).reason == (
        'top level: unknown key "carbon_price_per_t" (did you mean "carbon_price_per_kg"?)'
    )


def test_metric_and_matrices_together_rejected() -> None:
    doc = sample_doc()
    explicit = sample_doc(metric=None)["matrices"]
    doc["matrices"].update(explicit)
    assert not VALIDATOR.is_valid(doc)
    assert reader_error(doc).reason.startswith('matrices: unknown key "distance_m"')


def test_both_function_kinds_rejected() -> None:
    doc = sample_doc()
    doc["chargers"][1]["function"]["seconds_per_wh"] = 1.0
    assert not VALIDATOR.is_valid(doc)
    assert "not both" in reader_error(doc).reason


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["matrices"]["distance_m"].pop(),
            "matrices.distance_m: expected 7 rows, one per location "
            "(2 depot(s), 3 client(s), 2 charger(s)), got 6",
        ),
        (
            lambda d: d["matrices"]["duration_s"][4].append(1.0),
            "matrices.duration_s[4]: expected 7 entries, one per location, got 8",
        ),
        (
            lambda d: d["matrices"]["distance_m"].__setitem__(3, 1.0),
            "matrices.distance_m[3]: expected an array, got 1.0",
        ),
        (
            lambda d: d["matrices"]["distance_m"][1].__setitem__(2, -4.0),
            "matrices.distance_m[1][2]: must be >= 0, got -4.0",
        ),
        (
            lambda d: d["matrices"]["duration_s"][0].__setitem__(6, "far"),
            'matrices.duration_s[0][6]: expected a number or null, got "far"',
        ),
        (
            lambda d: d["matrices"].__setitem__("distance_m", {}),
            "matrices.distance_m: expected an array, got an object",
        ),
    ],
)
def test_wrong_matrices(mutate: Any, message: str) -> None:
    doc = sample_doc(metric=None)
    mutate(doc)
    assert reader_error(doc).reason == message


def test_matrix_of_wrong_size_for_the_sites() -> None:
    doc = sample_doc(metric=None, extras=False)
    doc["clients"].pop()  # now 6 locations, matrices still 7 x 7
    assert VALIDATOR.is_valid(doc)  # the schema cannot count locations
    assert reader_error(doc).reason.startswith("matrices.distance_m: expected 6 rows")
    doc = sample_doc(metric=None)
    doc["clients"].pop()  # the van's arc energy is read first
    assert VALIDATOR.is_valid(doc)
    assert reader_error(doc).reason.startswith(
        "vehicle_types[0].arc_energy.base_wh: expected 6 rows"
    )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda a: a["base_wh"].pop(),
            "base_wh: expected 7 rows, one per location (2 depot(s), 3 client(s), 2 charger(s)), "
            "got 6",
        ),
        (
            lambda a: a["wh_per_kg"][4].append(0.1),
            "wh_per_kg[4]: expected 7 entries, one per location, got 8",
        ),
        (
            lambda a: a["base_wh"][6].pop(),
            "base_wh[6]: expected 7 entries, one per location, got 6",
        ),
    ],
)
def test_arc_energy_of_wrong_size(mutate: Any, message: str) -> None:
    doc = sample_doc()
    mutate(doc["vehicle_types"][0]["arc_energy"])
    assert VALIDATOR.is_valid(doc)  # the schema cannot count locations
    assert reader_error(doc).reason == f"vehicle_types[0].arc_energy.{message}"


def test_arc_energy_entries_are_any_finite_numbers() -> None:
    doc = sample_doc()
    arc = doc["vehicle_types"][0]["arc_energy"]
    arc["base_wh"][0][1] = -250  # an integer, and negative
    arc["wh_per_kg"][0][1] = -0.01
    arc["base_wh"][3][3] = None  # no arc
    VALIDATOR.validate(doc)
    a = problem_from_dict(doc).vehicle_types[0].arc_energy
    assert a is not None
    assert a.base_wh[0, 1] == -250.0 and a.wh_per_kg[0, 1] == -0.01 and a.base_wh[3, 3] == INF
    assert a.base_wh.dtype == np.float64 and a.wh_per_kg.dtype == np.float64
    for matrix, value, message in [
        ("base_wh", INF, "expected a finite number (write null for infinity), got Infinity"),
        ("base_wh", -INF, "expected a finite number (write null for infinity), got -Infinity"),
        ("wh_per_kg", INF, "expected a finite number, got Infinity"),
        ("wh_per_kg", math.nan, "expected a finite number, got NaN"),
    ]:
        bad = copy.deepcopy(doc)
        bad["vehicle_types"][0]["arc_energy"][matrix][2][4] = value
        assert reader_error(bad).reason == (
            f"vehicle_types[0].arc_energy.{matrix}[2][4]: {message}"
        )


def test_duplicate_charging_function_pairs_rejected() -> None:
    doc = sample_doc()
    doc["charging_functions"][1]["charger"] = 0  # now (0, 0) twice
    assert VALIDATOR.is_valid(doc)  # the schema cannot compare items by two keys
    assert reader_error(doc).reason == (
        "charging_functions[1]: duplicate (vehicle_type, charger) pair (0, 0), "
        "already in charging_functions[0]"
    )


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("clients.0.tw_late_s", 100.0, "must be >= tw_early_s (25200), got 100.0"),
        ("depots.0.tw_late_s", -1.0, "must be >= tw_early_s (0), got -1.0"),
        ("chargers.1.close_s", 0.0, "must be >= open_s (3600), got 0.0"),
        ("vehicle_types.1.shift_end_s", 1.0, "must be >= shift_start_s (21600), got 1.0"),
        ("vehicle_types.0.initial_energy_wh", 70_000, "must be <= battery_wh (60000), got 70000"),
        (
            "vehicle_types.0.depot",
            2,
            "refers to depot 2, but there are only 2 depot(s) (numbered from 0)",
        ),
        (
            "charging_functions.0.vehicle_type",
            2,
            "refers to vehicle type 2, but there are only 2 vehicle type(s) (numbered from 0)",
        ),
        (
            "charging_functions.1.charger",
            2.0,
            "refers to charger 2, but there are only 2 charger(s) (numbered from 0)",
        ),
        (
            "charging_functions.1.function.breakpoints",
            [[0, 0], [10, 10], [20, 11]],
            "breakpoints must describe a concave curve",
        ),
        (
            "chargers.1.function.breakpoints",
            [[0, 0], [10, 10], [20, 11]],
            "breakpoints must describe a concave curve",
        ),
        (
            "chargers.1.function.breakpoints",
            [[1, 0], [10, 10]],
            "breakpoints must start at (0, 0)",
        ),
        (
            "chargers.1.function.breakpoints",
            [[0, 0], [10, 10], [5, 20]],
            "breakpoints must be strictly increasing",
        ),
    ],
)
def test_checks_beyond_the_schema(where: str, value: object, message: str) -> None:
    doc = sample_doc()
    put(doc, where, value)
    assert VALIDATOR.is_valid(doc)  # valid as far as the schema can tell
    reason = reader_error(doc).reason
    assert reason.startswith(f"{json_path(where)}: {message}")


def test_integers_may_be_written_as_whole_floats() -> None:
    doc = sample_doc()
    doc["chargers"][0]["connectors"] = 2.0
    doc["vehicle_types"][1]["depot"] = 1.0
    doc["vehicle_types"][0]["count"] = 3.0
    doc["charging_functions"][1]["charger"] = 1.0
    assert VALIDATOR.is_valid(doc)
    p = problem_from_dict(doc)
    assert p.chargers[0].connectors == 2 and isinstance(p.chargers[0].connectors, int)
    assert p.vehicle_types[1].depot == 1 and isinstance(p.vehicle_types[1].depot, int)
    assert all(type(t) is int and type(c) is int for t, c in p.charging_functions)
    assert set(p.charging_functions) == {(0, 0), (0, 1)}


def test_root_must_be_an_object() -> None:
    assert reader_error([1, 2]).reason == "top level: expected an object, got an array"


def test_non_finite_numbers_rejected() -> None:
    doc = sample_doc()
    doc["clients"][0]["tw_late_s"] = INF
    assert reader_error(doc).reason == (
        "clients[0].tw_late_s: expected a finite number (write null for infinity), got Infinity"
    )
    doc = sample_doc()
    doc["clients"][0]["x"] = math.nan
    assert reader_error(doc).reason == "clients[0].x: expected a finite number, got NaN"
    doc = sample_doc()
    doc["clients"][0]["x"] = 10**400
    assert reader_error(doc).reason.startswith("clients[0].x: expected a finite number")


def test_nan_and_infinity_in_json_text_rejected() -> None:
    text = problem_to_json(sample_model().data())
    bad = text.replace('"tw_late_s": null', '"tw_late_s": Infinity', 1)
    with pytest.raises(InputError, match=r"depots\[1\]\.tw_late_s: .*null for infinity"):
        problem_from_json(bad)
    bad = text.replace('"demand_kg": 35.0', '"demand_kg": NaN', 1)
    with pytest.raises(InputError, match=r"clients\[0\]\.demand_kg: expected a finite number"):
        problem_from_json(bad)


# --- invalid JSON text --------------------------------------------------------------------------


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    lines = problem_to_json(sample_model().data()).splitlines()
    k = next(i for i, line in enumerate(lines) if '"demand_kg": 35.0' in line)
    lines[k] = lines[k].rstrip(",")  # drop a comma: the error is on the next line
    path = tmp_path / "broken.json"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_problem_json(path)
    assert info.value.path == str(path)
    assert info.value.line == k + 2
    assert str(info.value).startswith(f"{path}:{k + 2}: invalid JSON: Expecting ',' delimiter")


@pytest.mark.parametrize(
    ("text", "line"),
    [("", 1), ('{\n  "format": \n}', 3), ("[1, 2,]", 1), ('{"a": 1}\n{"b": 2}', 2)],
)
def test_invalid_json_text(text: str, line: int) -> None:
    with pytest.raises(InputError) as info:
        problem_from_json(text, source="t.json")
    assert info.value.line == line
    assert str(info.value).startswith(f"t.json:{line}: invalid JSON: ")


def test_duplicate_keys_rejected() -> None:
    text = problem_to_json(sample_model().data()).replace(
        '"name": "sample",', '"name": "sample",\n  "name": "other",'
    )
    with pytest.raises(InputError, match='duplicate key "name"'):
        problem_from_json(text)


def test_non_utf8_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"name": "Zürich"}'.encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_problem_json(path)


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_problem_json(tmp_path / "nope.json")


# --- the reader and the schema agree ------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 10)
    | st.floats(-10.0, 1e3, allow_nan=False, allow_infinity=False)
    | st.text(max_size=4)
    | st.sampled_from(["full", "distance", "euclidean", "diesel", FORMAT]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)

# What only the reader can check: these may fail a document the schema accepts.
BEYOND_SCHEMA = re.compile(
    r"must be >= (tw_early_s|open_s|shift_start_s) |must be <= battery_wh"
    r"|refers to (depot|vehicle type|charger) \d+, but there are only"
    r"|duplicate \(vehicle_type, charger\) pair"
    r"|expected \d+ (rows|entries), one per location|\.breakpoints: breakpoints must"
)


def locations(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += locations(v, (*path, k))
    elif isinstance(doc, list):
        for k, v in enumerate(doc):
            out += locations(v, (*path, k))
    return out


@SETTINGS
@given(st.sampled_from([Metric(), Metric(truncate_decimals=2), None]), st.booleans(), st.data())
def test_reader_agrees_with_schema(
    metric: Metric | None, with_extras: bool, data: st.DataObject
) -> None:
    doc: Any = sample_doc(metric=metric, extras=with_extras)
    for _ in range(data.draw(st.integers(1, 2))):
        target = data.draw(st.sampled_from(locations(doc)))
        op = data.draw(st.sampled_from(["delete", "replace", "add"]))
        if not target:
            continue
        parent = doc
        for part in target[:-1]:
            parent = parent[part]
        if op == "delete" and isinstance(parent, dict):
            del parent[target[-1]]
        elif op == "add" and isinstance(parent, dict):
            parent[data.draw(st.text(min_size=1, max_size=6))] = data.draw(json_values)
        else:
            parent[target[-1]] = data.draw(json_values)
    doc = json.loads(json.dumps(doc))  # only what JSON can hold
    schema_ok = VALIDATOR.is_valid(doc)
    try:
        problem_from_dict(doc)
    except InputError as e:
        assert not schema_ok or BEYOND_SCHEMA.search(e.reason), (e.reason, doc)
    else:
        assert schema_ok, list(VALIDATOR.iter_errors(doc))


def test_reader_never_raises_raw_errors_on_junk() -> None:
    junks: list[object] = [None, 1, "x", [], {}, {"format": FORMAT}, {"matrices": None}]
    for junk in junks:
        with pytest.raises(InputError):
            problem_from_dict(junk)
    doc = copy.deepcopy(sample_doc())
    doc["clients"] = [None]
    assert reader_error(doc).reason == "clients[0]: expected an object, got null"
