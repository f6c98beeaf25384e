"""Total cost of ownership, checked against arithmetic written out by hand."""

from __future__ import annotations

import json
from dataclasses import fields, replace

import pytest

from evfleet.problem import Powertrain
from evfleet.tco import (
    DEFAULT_DIESEL_VAN,
    DEFAULT_EV_VAN,
    DIESEL_PURCHASE_PRICE,
    SOURCES,
    TcoParameters,
    TcoYear,
    VanCosts,
    blended_charging_price,
    tco,
    tco_comparison,
)

REL = 1e-9

VAN = VanCosts(
    name="test van",
    powertrain=Powertrain.ELECTRIC,
    purchase_price=1000.0,
    purchase_subsidy=100.0,
    energy_per_100km=10.0,
    energy_price=2.0,
    maintenance_per_km=0.05,
    annual_tax=7.0,
    access_charges_per_year=3.0,
)
PARAMS = TcoParameters(
    annual_km=1000.0,
    discount_rate=0.1,
    residual_value_fractions=(0.5, 0.4),
    insurance_rates=(0.1, 0.2),
)


def test_two_years_by_hand() -> None:
    r = tco(VAN, 2, PARAMS)
    y0, y1, y2 = r.years
    assert (y0.year, y0.capital, y0.total, y0.discount_factor) == (0, 900.0, 900.0, 1.0)
    # Energy 1000 km × 10/100 × 2 = 200; maintenance 0.05 × 1000 = 50; insurance 10 % × 1000.
    assert y1.energy == pytest.approx(200.0, rel=REL)
    assert y1.maintenance == pytest.approx(50.0, rel=REL)
    assert y1.insurance == pytest.approx(100.0, rel=REL)
    assert (y1.taxes, y1.access_charges, y1.residual_value) == (7.0, 3.0, 0.0)
    assert y1.total == pytest.approx(360.0, rel=REL)
    assert y1.present_value == pytest.approx(360.0 / 1.1, rel=REL)
    # Year 2: insurance 20 %, residual 40 % of the price credited.
    assert y2.insurance == pytest.approx(200.0, rel=REL)
    assert y2.residual_value == pytest.approx(-400.0, rel=REL)
    assert y2.total == pytest.approx(200 + 50 + 200 + 7 + 3 - 400, rel=REL)
    assert r.total == pytest.approx(900 + 360 + 60, rel=REL)
    assert r.present_value == pytest.approx(900 + 360 / 1.1 + 60 / 1.21, rel=REL)
    assert r.km == 2000.0
    assert r.cost_per_km == pytest.approx(1320 / 2000, rel=REL)
    assert r.component("insurance") == pytest.approx(300.0, rel=REL)
    assert r.gaps == ()


def test_lease_replaces_purchase_and_residual() -> None:
    leased = replace(VAN, lease_per_year=150.0)
    r = tco(leased, 3, PARAMS)  # 3 years: beyond the residual curve is fine when leased
    assert r.years[0].total == 0.0
    assert [y.capital for y in r.years[1:]] == [150.0, 150.0, 150.0]
    assert all(y.residual_value == 0.0 for y in r.years)
    # Insurance after the sourced years holds the last rate and says so.
    assert r.years[3].insurance == pytest.approx(200.0, rel=REL)
    assert any("insurance after year 2" in g for g in r.gaps)
    with pytest.raises(ValueError, match="residual"):
        tco(VAN, 3, PARAMS)
    with pytest.raises(ValueError):
        tco(VAN, 0, PARAMS)


def test_gaps_are_left_out_and_reported() -> None:
    r = tco(replace(VAN, maintenance_per_km=None, annual_tax=None), 2, PARAMS)
    assert r.component("maintenance") == 0.0 and r.component("taxes") == 0.0
    assert len(r.gaps) == 2


def test_default_comparison_uses_the_sourced_numbers() -> None:
    c = tco_comparison(years=6)
    ev, di = c.electric, c.diesel
    assert DEFAULT_EV_VAN.purchase_price == 55_845.0
    assert pytest.approx(55_845.0 / 1.475, rel=REL) == DIESEL_PURCHASE_PRICE
    # Energy per year: 22,660 km × 30 kWh/100 km × 0.20 and × 10 l/100 km × 1.587 / 1.2.
    assert ev.years[1].energy == pytest.approx(22_660 * 0.30 * 0.20, rel=REL)
    assert di.years[1].energy == pytest.approx(22_660 * 0.10 * 1.587 / 1.2, rel=REL)
    # Insurance 3.0 % of the price in year 1; residual 35 % after 6 years (T3CO).
    assert ev.years[1].insurance == pytest.approx(0.03 * 55_845.0, rel=REL)
    assert ev.years[6].residual_value == pytest.approx(-0.35 * 55_845.0, rel=REL)
    assert ev.years[6].discount_factor == pytest.approx(1.03**-6, rel=REL)
    assert ev.km == pytest.approx(6 * 22_660.0, rel=REL)
    # Maintenance and taxes are GAPs in the reference.
    assert any("maintenance" in g for g in ev.gaps) and any("taxes" in g for g in di.gaps)
    assert c.difference == pytest.approx(ev.total - di.total, rel=REL)
    json.dumps(c.to_dict(), allow_nan=False)


def test_ev_maintenance_follows_the_diesel_figure() -> None:
    params = TcoParameters(diesel=replace(DEFAULT_DIESEL_VAN, maintenance_per_km=0.10))
    c = tco_comparison(params, years=5)
    assert c.diesel.years[1].maintenance == pytest.approx(0.10 * 22_660, rel=REL)
    assert c.electric.years[1].maintenance == pytest.approx(0.6 * 0.10 * 22_660, rel=REL)
    assert not any("maintenance" in g for g in c.electric.gaps)


def test_blended_price_and_sources() -> None:
    assert blended_charging_price(0.2, 0.5, 0.25) == pytest.approx(0.275, rel=REL)
    assert blended_charging_price() == pytest.approx(0.20, rel=REL)
    with pytest.raises(ValueError):
        blended_charging_price(public_share=1.5)
    for name in ("annual_km", "discount_rate", "residual_value_fractions", "insurance_rates"):
        assert name in SOURCES
    assert {f.name for f in fields(TcoYear)} >= {"capital", "energy", "residual_value"}
    with pytest.raises(ValueError):
        replace(VAN, purchase_price=-1.0)
