"""CC-CV charging curves and grid-side charging energy."""

from __future__ import annotations

import itertools
import math

import pytest

from evfleet.charging import (
    DEFAULT_CHARGING_EFFICIENCY,
    MONTOYA_TAPER_START_FRACTION,
    ChargingFunction,
    cc_cv_curve,
    grid_energy_wh,
)

CASES = [
    # battery Wh, charger W, vehicle W
    (68_000.0, 150_000.0, 115_000.0),
    (68_000.0, 11_000.0, 11_300.0),
    (113_000.0, 50_000.0, 115_000.0),
    (16_000.0, 44_000.0, math.inf),
    (49_000.0, 22_000.0, 6_600.0),
]


def segment_powers_w(curve: ChargingFunction) -> list[float]:
    return [
        (e1 - e0) * 3600.0 / (t1 - t0)
        for (e0, t0), (e1, t1) in itertools.pairwise(curve.breakpoints)
    ]


@pytest.mark.parametrize(("battery", "charger", "vehicle"), CASES)
def test_curve_is_concave_and_reaches_full(battery: float, charger: float, vehicle: float) -> None:
    curve = cc_cv_curve(battery, charger, vehicle)
    assert not curve.is_linear
    assert curve.breakpoints[0] == (0.0, 0.0)
    assert curve.max_energy_wh == battery
    powers = segment_powers_w(curve)
    assert len(powers) == 3
    assert all(p1 <= p0 for p0, p1 in itertools.pairwise(powers))  # concave: power falls


@pytest.mark.parametrize(("battery", "charger", "vehicle"), CASES)
def test_power_never_exceeds_charger_or_vehicle(
    battery: float, charger: float, vehicle: float
) -> None:
    curve = cc_cv_curve(battery, charger, vehicle)
    limit = min(charger, vehicle)
    powers = segment_powers_w(curve)
    assert max(powers) == pytest.approx(limit)
    assert all(p <= limit * (1 + 1e-12) for p in powers)
    assert powers[-1] == pytest.approx(0.15 * limit)


@pytest.mark.parametrize(("battery", "charger", "vehicle"), CASES)
def test_ten_to_eighty_percent_is_constant_power(
    battery: float, charger: float, vehicle: float
) -> None:
    curve = cc_cv_curve(battery, charger, vehicle)
    expected = 0.7 * battery * 3600.0 / min(charger, vehicle)
    assert curve.charge_time_s(0.1 * battery, 0.8 * battery) == pytest.approx(expected, rel=1e-12)
    # Beyond the taper start, charging is slower than constant power.
    assert curve.charge_time_s(0.8 * battery, battery) > 0.2 * battery * 3600.0 / min(
        charger, vehicle
    )


@pytest.mark.parametrize(
    ("power_w", "hours"),
    [
        (13_600 / 0.31, (0.31, 0.39, 0.51)),  # fast
        (13_600 / 0.62, (0.62, 0.77, 1.01)),  # normal
        (13_600 / 1.26, (1.26, 1.54, 2.04)),  # slow
    ],
)
def test_montoya_breakpoints_are_reproduced(power_w: float, hours: tuple[float, ...]) -> None:
    curve = cc_cv_curve(16_000.0, power_w, taper_start_fraction=MONTOYA_TAPER_START_FRACTION)
    for energy_wh, h in zip((13_600.0, 15_200.0, 16_000.0), hours, strict=True):
        assert curve.time_from_empty_s(energy_wh) / 3600.0 == pytest.approx(h, rel=0.03)


def test_taper_options() -> None:
    flat = cc_cv_curve(10_000.0, 10_000.0, taper_start_fraction=1.0)
    assert flat.breakpoints == ((0.0, 0.0), (10_000.0, 3600.0))
    two = cc_cv_curve(10_000.0, 10_000.0, taper_split_fraction=1.0)
    assert len(two.breakpoints) == 3 and two.max_energy_wh == 10_000.0
    even = cc_cv_curve(10_000.0, 10_000.0, mid_power_fraction=0.3, end_power_fraction=0.3)
    assert even.time_from_empty_s(10_000.0) == pytest.approx(0.8 * 3600 + 0.2 * 3600 / 0.3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"battery_wh": 0.0},
        {"charger_power_w": -1.0},
        {"vehicle_max_power_w": 0.0},
        {"taper_start_fraction": 0.0},
        {"taper_start_fraction": 1.2},
        {"mid_power_fraction": 0.1, "end_power_fraction": 0.2},
        {"end_power_fraction": 0.0},
        {"taper_split_fraction": 1.5},
    ],
)
def test_invalid_curves_are_rejected(kwargs: dict[str, float]) -> None:
    args: dict[str, float] = {"battery_wh": 50_000.0, "charger_power_w": 50_000.0}
    args.update(kwargs)
    with pytest.raises(ValueError):
        cc_cv_curve(**args)


def test_grid_energy_includes_charging_losses() -> None:
    assert DEFAULT_CHARGING_EFFICIENCY == 0.85
    assert grid_energy_wh(850.0) == pytest.approx(1000.0)
    assert grid_energy_wh(860.0, 0.86) == pytest.approx(1000.0)
    assert grid_energy_wh(0.0) == 0.0
    for bad in (0.0, 1.1, math.nan):
        with pytest.raises(ValueError):
            grid_energy_wh(100.0, bad)
