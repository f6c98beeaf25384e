"""Vehicle catalogue: provenance of every number, derived values, vehicle types."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evfleet.catalogue import (
    BASES,
    NULL_BASES,
    Catalogue,
    CatalogueGapError,
    VehicleSpec,
    default_catalogue,
)
from evfleet.problem import Powertrain

DATA = Path(__file__).resolve().parents[1] / "src" / "evfleet" / "data" / "vehicles.json"
RAW: dict[str, Any] = json.loads(DATA.read_text("utf-8"))
CATALOGUE = Catalogue.load()
ELECTRIC = CATALOGUE.electric()

ELECTRIC_SPEC_KEYS = (
    "usable_battery_wh",
    "wltp_range_m",
    "wltp_consumption_wh_per_km",
    "wltp_consumption_wh_per_m",
    "payload_kg",
    "gross_vehicle_weight_kg",
    "ac_max_power_w",
    "dc_max_power_w",
    "price",
)


def numeric_leaves(node: object, path: str, in_entry: bool = False) -> Iterator[tuple[str, bool]]:
    """Every number in the document, with whether it sits inside a sourced entry."""
    if isinstance(node, dict):
        entry = in_entry or "source" in node
        for key, value in node.items():
            yield from numeric_leaves(value, f"{path}.{key}", entry)
    elif isinstance(node, list):
        for k, value in enumerate(node):
            yield from numeric_leaves(value, f"{path}[{k}]", in_entry)
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield path, in_entry


def entries(node: object, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if "value" in node and "basis" in node:
            yield path, node
            return
        for key, value in node.items():
            yield from entries(value, f"{path}.{key}")
    elif isinstance(node, list):
        for k, value in enumerate(node):
            yield from entries(value, f"{path}[{k}]")


# --- provenance ---------------------------------------------------------------------------------


def test_every_number_has_a_source() -> None:
    unsourced = [
        path
        for path, sourced in numeric_leaves(RAW["class_defaults"], "class_defaults")
        if not sourced
    ]
    unsourced += [
        path for path, sourced in numeric_leaves(RAW["vehicles"], "vehicles") if not sourced
    ]
    assert unsourced == []


def test_every_entry_has_a_basis_and_gaps_say_so() -> None:
    found = list(entries({"c": RAW["class_defaults"], "v": RAW["vehicles"]}))
    assert len(found) > 150
    for path, entry in found:
        assert entry["basis"] in BASES, path
        assert isinstance(entry["source"], str) and len(entry["source"]) > 10, path
        assert isinstance(entry["unit"], str), path
        if entry["basis"] in NULL_BASES:
            assert entry["value"] is None, path
        else:
            assert isinstance(entry["value"], int | float), path
        if entry["basis"] == "gap":
            assert "GAP" in entry["source"], path


def test_sources_point_at_the_reference_or_state_their_origin() -> None:
    markers = (
        "§",
        "[P]",
        "[S]",
        "[R]",
        "[D]",
        "GAP",
        "GVW",
        "÷",
        "Fitted",
        "UN GTR",
        "EU ",
        "diesel",
    )
    for path, entry in entries(RAW["vehicles"]):
        assert any(m in entry["source"] for m in markers), path


def test_electric_vans_have_every_headline_field() -> None:
    for spec in ELECTRIC:
        for key in ELECTRIC_SPEC_KEYS:
            assert key in spec.specs, (spec.id, key)
        assert spec.usable_battery_wh is not None and spec.usable_battery_wh > 10_000


def test_derived_values_match_their_inputs() -> None:
    for spec in ELECTRIC:
        battery, wltp_range = spec.usable_battery_wh, spec.wltp_range_m
        per_km, per_m = spec.wltp_consumption_wh_per_km, spec.wltp_consumption_wh_per_m
        if wltp_range is None:
            assert per_km is None and per_m is None
            continue
        assert battery is not None and per_km is not None and per_m is not None
        assert per_km == pytest.approx(battery / (wltp_range / 1000.0), abs=0.01)
        assert per_m == pytest.approx(per_km / 1000.0, abs=1e-5)
        curb = spec.energy_overrides.get("curb_mass_kg")
        if curb is not None and curb.basis == "derived":
            gvw, payload = spec.gross_vehicle_weight_kg, spec.payload_kg
            assert gvw is not None and payload is not None
            assert curb.value == pytest.approx(gvw - payload - 75.0)


def test_headline_numbers_are_plausible() -> None:
    for spec in ELECTRIC:
        if spec.wltp_consumption_wh_per_km is not None:
            assert 150.0 < spec.wltp_consumption_wh_per_km < 350.0, spec.id
        for key in ("ac_max_power_w", "dc_max_power_w", "dc_sustained_power_w"):
            value = spec.value(key)
            assert value is None or 3_000 <= value <= 250_000, (spec.id, key)
        dc, sustained = spec.dc_max_power_w, spec.dc_sustained_power_w
        if dc is not None and sustained is not None:
            assert sustained <= dc
        if spec.payload_kg is not None:
            assert 500.0 <= spec.payload_kg <= 2000.0


def test_calibration_is_one_parameter_and_flagged() -> None:
    param = RAW["calibration"]["parameter"]
    low, high = RAW["calibration"]["bounds"]
    for raw in RAW["vehicles"]:
        calibrated = [
            key for key, e in raw.get("energy_model", {}).items() if e["basis"] == "calibrated"
        ]
        assert raw["calibrated"] is bool(calibrated), raw["id"]
        assert len(calibrated) <= 1, raw["id"]
        if calibrated:
            assert calibrated == [param]
            entry = raw["energy_model"][param]
            assert entry["calibrated"] is True
            assert low <= entry["value"] <= high
    assert any(spec.calibrated for spec in ELECTRIC)


def test_class_defaults_cover_the_energy_model() -> None:
    defaults = CATALOGUE.class_defaults
    assert defaults["drivetrain_efficiency"].value == pytest.approx(0.843)
    assert defaults["cooling_w_per_k"].is_gap
    assert defaults["max_hvac_power_w"].is_gap


# --- loading and lookup -------------------------------------------------------------------------


def test_expected_models_are_present() -> None:
    ids = set(CATALOGUE.ids())
    for vid in (
        "farizon-sv-49",
        "farizon-sv-67",
        "farizon-sv-83",
        "farizon-sv-106",
        "ford-e-transit",
        "mercedes-esprinter",
        "renault-master-e-tech",
        "vw-id-buzz-cargo",
        "fiat-e-ducato",
        "diesel-reference-van",
    ):
        assert vid in ids
    assert len(CATALOGUE) == len(ids)
    assert "diesel-reference-van" not in {s.id for s in ELECTRIC}


def test_unknown_id_suggests_close_matches() -> None:
    with pytest.raises(KeyError, match="did you mean"):
        CATALOGUE.get("ford-etransit")


def test_load_from_a_path_and_default_catalogue() -> None:
    assert Catalogue.load(DATA).ids() == CATALOGUE.ids()
    assert default_catalogue() is default_catalogue()


def test_malformed_entries_are_rejected(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(RAW))
    bad["vehicles"][0]["specs"]["usable_battery_wh"]["source"] = ""
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="source"):
        Catalogue.load(path)
    bad = json.loads(json.dumps(RAW))
    bad["vehicles"][0]["specs"]["payload_kg"]["basis"] = "gap"
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError):
        Catalogue.load(path)


# --- vehicle types ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ELECTRIC, ids=lambda s: s.id)
def test_to_vehicle_type_gives_sane_electric_vans(spec: VehicleSpec) -> None:
    vt = CATALOGUE.to_vehicle_type(spec.id, 3, depot=0, fixed_cost=40.0)
    assert vt.is_electric and vt.powertrain is Powertrain.ELECTRIC
    assert vt.count == 3 and vt.name == spec.id and vt.fixed_cost == 40.0
    assert vt.battery_wh == spec.usable_battery_wh
    assert vt.capacity_kg == spec.planning_capacity_kg > 0
    # Urban consumption at 23 °C: 10–30 kWh/100 km, below the WLTP combined figure.
    assert 0.10 < vt.energy_wh_per_m < 0.30
    if spec.wltp_consumption_wh_per_m is not None:
        assert vt.energy_wh_per_m < spec.wltp_consumption_wh_per_m
    range_km = vt.battery_wh / vt.energy_wh_per_m / 1000.0
    assert 150.0 < range_km < 800.0
    cold = CATALOGUE.to_vehicle_type(spec.id, 3, temperature_c=-5.0)
    assert cold.energy_wh_per_m > vt.energy_wh_per_m
    assert vt.fuel_l_per_m == 0.0 and vt.energy_model is None


def test_to_vehicle_type_options() -> None:
    vt = CATALOGUE.to_vehicle_type(
        "ford-e-transit", None, initial_soc=0.9, capacity_kg=1000.0, payload_kg=0.0, name="et"
    )
    assert vt.name == "et" and vt.count is None and vt.capacity_kg == 1000.0
    assert vt.initial_energy_wh == pytest.approx(0.9 * 68_000)
    heavy = CATALOGUE.to_vehicle_type("ford-e-transit", 1, payload_kg=1700.0)
    assert heavy.energy_wh_per_m > vt.energy_wh_per_m
    with pytest.raises(ValueError):
        CATALOGUE.to_vehicle_type("ford-e-transit", 1, initial_soc=1.5)
    with pytest.raises(ValueError):
        CATALOGUE.to_vehicle_type("ford-e-transit", 1, distance_m=np.zeros((2, 2)))


def test_to_vehicle_type_with_matrices_is_load_dependent() -> None:
    dist = np.array([[0.0, 3000.0], [3000.0, 0.0]])
    dur = dist / 8.0
    vt = CATALOGUE.to_vehicle_type("ford-e-transit", 2, distance_m=dist, duration_s=dur)
    assert vt.energy_model is not None
    empty = vt.arc_energy_wh(0, 1, 3000.0, 0.0)
    full = vt.arc_energy_wh(0, 1, 3000.0, 1720.0)
    assert 0 < empty < full
    assert vt.arc_energy_wh(0, 0, 0.0, 500.0) == 0.0


def test_gap_payload_falls_back_to_the_class_default() -> None:
    spec = CATALOGUE.get("renault-master-e-tech")
    assert spec.payload_kg is None
    default = CATALOGUE.class_defaults["max_payload_kg"].value
    assert spec.planning_capacity_kg == default
    assert CATALOGUE.to_vehicle_type(spec.id, 1).capacity_kg == default


def test_diesel_van_has_fuel_and_no_battery() -> None:
    spec = CATALOGUE.get("diesel-reference-van")
    assert spec.powertrain is Powertrain.DIESEL
    assert spec.usable_battery_wh is None
    assert spec.specs["usable_battery_wh"].basis == "not-applicable"
    vt = CATALOGUE.to_vehicle_type(spec.id, 2)
    assert not vt.is_electric
    assert vt.fuel_l_per_m == pytest.approx(10.0 / 100_000.0)
    assert vt.energy_wh_per_m == 0.0 and vt.energy_model is None
    assert math.isinf(vt.battery_wh)
    assert vt.arc_energy_wh(0, 1, 1000.0, 500.0) == 0.0
    assert vt.capacity_kg > 0
    with pytest.raises(ValueError):
        spec.energy_parameters()


def test_charging_curves_from_the_catalogue() -> None:
    curve = CATALOGUE.charging_curve("ford-e-transit", 150_000.0, dc=True)
    assert curve.max_energy_wh == 68_000.0
    minutes = curve.charge_time_s(0.15 * 68_000, 0.80 * 68_000) / 60.0
    assert minutes == pytest.approx(34.0, abs=0.5)  # the OEM quote (§2.6)
    ac = CATALOGUE.charging_curve("ford-e-transit", 22_000.0, dc=False)
    assert ac.charge_time_s(0.0, 0.8 * 68_000) == pytest.approx(0.8 * 68_000 * 3600 / 11_300)
    # A gap in the vehicle limit: the charger alone sets the power.
    v6e = CATALOGUE.charging_curve("farizon-v6e", 7_000.0, dc=False)
    assert v6e.charge_time_s(0.0, 7_000.0) == pytest.approx(3600.0)
    with pytest.raises(CatalogueGapError):
        CATALOGUE.charging_curve("diesel-reference-van", 11_000.0, dc=False)
