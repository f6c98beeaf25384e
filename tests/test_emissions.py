"""Emission factors, energy emissions and ISO 14083 allocation, checked against hand arithmetic."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evfleet.emissions import (
    DEFAULT_FACTORS,
    GRID_ELECTRICITY_MAPS_2024_G_PER_KWH,
    GRID_EMBER_2024_G_PER_KWH,
    SOURCES,
    Allocation,
    EmissionFactors,
    Emissions,
    Shipment,
    allocate,
    diesel_emissions,
    electricity_emissions,
    energy_emissions,
)

REL = 1e-9


def test_default_factors_are_the_sourced_numbers() -> None:
    f = DEFAULT_FACTORS
    assert f.diesel_ttw_kg_per_l == 2.66155  # DESNZ 2025, 100 % mineral diesel
    assert f.diesel_wtw_kg_per_l == pytest.approx(2.66155 + 0.62409, rel=REL)
    assert f.charging_efficiency == 0.85  # carculator_truck
    assert f.grid_upstream_share == 0.0  # GAP: no uplift by default
    assert f.default_country == "EU27"
    assert f.grid_g_per_kwh["DE"] == 342.0  # Ember 2024
    assert f.grid_g_per_kwh["FR"] == 44.0
    assert f.grid_g_per_kwh["EU27"] == 213.0
    assert GRID_ELECTRICITY_MAPS_2024_G_PER_KWH["FR"] == 33.0
    assert set(GRID_ELECTRICITY_MAPS_2024_G_PER_KWH) <= set(GRID_EMBER_2024_G_PER_KWH)
    en = EmissionFactors.en16258()
    assert (en.diesel_ttw_kg_per_l, en.diesel_wtw_kg_per_l) == (2.67, 3.17)


def test_every_factor_has_a_source() -> None:
    names = {f.name for f in dataclasses.fields(EmissionFactors)}
    assert names == set(SOURCES)


def test_electricity_emissions_are_wtw_only() -> None:
    # 10 kWh from the German grid: WTW = 10 kWh × 342 g/kWh = 3.42 kg, TTW = 0.
    e = electricity_emissions(10_000.0, country="DE")
    assert e.ttw_kg == 0.0
    assert e.wtw_kg == pytest.approx(10.0 * 342.0 / 1000.0, rel=REL)
    assert e.wtt_kg == pytest.approx(3.42, rel=REL)
    # Default country EU-27, lower case accepted.
    assert electricity_emissions(1000.0).wtw_kg == pytest.approx(0.213, rel=REL)
    assert electricity_emissions(1000.0, country="fr").wtw_kg == pytest.approx(0.044, rel=REL)


def test_grid_upstream_share_scales_the_intensity() -> None:
    f = EmissionFactors(grid_upstream_share=0.386)
    assert f.grid_intensity_g_per_kwh("GB") == pytest.approx(216.0 * 1.386, rel=REL)
    assert electricity_emissions(2000.0, f, "GB").wtw_kg == pytest.approx(
        2.0 * 216.0 * 1.386 / 1000.0, rel=REL
    )


def test_diesel_emissions_per_litre() -> None:
    e = diesel_emissions(12.5)
    assert e.ttw_kg == pytest.approx(12.5 * 2.66155, rel=REL)
    assert e.wtw_kg == pytest.approx(12.5 * (2.66155 + 0.62409), rel=REL)
    assert e.wtt_kg == pytest.approx(12.5 * 0.62409, rel=REL)


def test_energy_emissions_sums_both_carriers() -> None:
    e = energy_emissions(grid_wh=5000.0, diesel_l=2.0, country="PL")
    assert e.ttw_kg == pytest.approx(2.0 * 2.66155, rel=REL)
    assert e.wtw_kg == pytest.approx(5.0 * 0.615 + 2.0 * 3.28564, rel=REL)
    assert Emissions(1.0, 2.0) + Emissions(3.0, 5.0) == Emissions(4.0, 7.0)


def test_grid_energy_uses_the_charging_efficiency() -> None:
    assert DEFAULT_FACTORS.grid_energy_wh(850.0) == pytest.approx(1000.0, rel=REL)
    f = EmissionFactors(charging_efficiency=0.86)
    assert f.grid_energy_wh(86.0) == pytest.approx(100.0, rel=REL)


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="no grid intensity"):
        electricity_emissions(1.0, country="XX")
    with pytest.raises(ValueError):
        diesel_emissions(-1.0)
    with pytest.raises(ValueError):
        EmissionFactors(charging_efficiency=0.0)
    with pytest.raises(ValueError):
        EmissionFactors(diesel_ttw_kg_per_l=3.0, diesel_wtw_kg_per_l=2.0)
    with pytest.raises(ValueError):
        EmissionFactors(grid_g_per_kwh={"DE": 342.0})  # default country EU27 missing
    custom = EmissionFactors(grid_g_per_kwh={"de": 380.0}, default_country="de")
    assert custom.grid_intensity_g_per_kwh() == 380.0  # UBA 2024 via DKV, §1.3


def test_allocation_by_tkm_on_shortest_feasible_distance() -> None:
    # 200 kg at SFD 3 km (0.6 t·km) and 100 kg at SFD 5 km (0.5 t·km): shares 6/11 and 5/11.
    ships = [Shipment(200.0, 3000.0, 3000.0), Shipment(100.0, 5000.0, 7000.0)]
    shares = allocate(11.0, ships)
    assert shares == pytest.approx([6.0, 5.0], rel=REL)
    # Ridden distance: 0.6 and 0.7 t·km.
    assert allocate(13.0, ships, Allocation.TKM_ROUTE) == pytest.approx([6.0, 7.0], rel=REL)
    assert allocate(13.0, ships, Allocation.PER_PARCEL) == pytest.approx([6.5, 6.5], rel=REL)
    assert ships[0].activity_tkm() == pytest.approx(0.6, rel=REL)
    assert allocate(13.0, ships, "per-parcel") == pytest.approx([6.5, 6.5], rel=REL)  # type: ignore[arg-type]


def test_allocation_edge_cases() -> None:
    assert allocate(5.0, []) == []
    # All weights zero: equal split.
    assert allocate(6.0, [Shipment(0.0, 10.0, 10.0)] * 3) == pytest.approx([2.0, 2.0, 2.0])
    # A massless parcel among others gets nothing under t·km.
    shares = allocate(4.0, [Shipment(0.0, 10.0, 10.0), Shipment(1.0, 10.0, 10.0)])
    assert shares == pytest.approx([0.0, 4.0])
    with pytest.raises(ValueError):
        allocate(1.0, [Shipment(-1.0, 1.0, 1.0)])
    with pytest.raises(ValueError):
        allocate(math.inf, [Shipment(1.0, 1.0, 1.0)])


shipment = st.builds(
    Shipment,
    mass_kg=st.floats(0, 2000, allow_nan=False),
    sfd_m=st.floats(0, 1e6, allow_nan=False),
    ridden_m=st.floats(0, 1e6, allow_nan=False),
)


@settings(max_examples=60, deadline=None)
@given(
    total=st.floats(0, 1e4, allow_nan=False),
    ships=st.lists(shipment, min_size=1, max_size=12),
    method=st.sampled_from(list(Allocation)),
)
def test_allocation_is_non_negative_and_sums_to_the_total(
    total: float, ships: list[Shipment], method: Allocation
) -> None:
    shares = allocate(total, ships, method)
    assert len(shares) == len(ships)
    assert all(s >= 0.0 for s in shares)
    assert math.fsum(shares) == pytest.approx(total, rel=1e-9, abs=1e-12)
