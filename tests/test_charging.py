"""Charging functions: linear and concave piecewise charge times, and their validation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evfleet.charging import ChargingFunction

SETTINGS = settings(max_examples=100, deadline=None)


@st.composite
def concave_breakpoints(draw: st.DrawFn, max_segments: int = 5) -> list[tuple[float, float]]:
    """Random concave curves: energy steps and non-decreasing seconds per Wh (1 % apart)."""
    k = draw(st.integers(1, max_segments))
    steps = draw(st.lists(st.floats(1.0, 1e4), min_size=k, max_size=k))
    slope = draw(st.floats(0.05, 2.0))
    points = [(0.0, 0.0)]
    energy = time = 0.0
    for step in steps:
        energy += step
        time += step * slope
        points.append((energy, time))
        slope *= 1.0 + draw(st.floats(0.01, 1.0))
    return points


functions = st.one_of(
    st.floats(0.0, 100.0).map(ChargingFunction.linear),
    concave_breakpoints().map(ChargingFunction.piecewise),
)
energies = st.floats(0.0, 1e5)


# --- linear -------------------------------------------------------------------------------------


def test_linear_charge_time_is_rate_times_energy() -> None:
    f = ChargingFunction.linear(3.6)
    assert f.is_linear
    assert f.charge_time_s(1000.0, 3000.0) == pytest.approx(7200.0)
    assert f.time_from_empty_s(500.0) == pytest.approx(1800.0)
    assert f.max_energy_wh == math.inf


def test_from_power_converts_watts_to_seconds_per_wh() -> None:
    f = ChargingFunction.from_power(50_000.0)  # 50 kW
    assert f.seconds_per_wh == pytest.approx(3600.0 / 50_000.0)
    assert f.charge_time_s(0.0, 50_000.0) == pytest.approx(3600.0)  # 50 kWh in an hour
    with pytest.raises(ValueError, match="power_w"):
        ChargingFunction.from_power(0.0)
    with pytest.raises(ValueError, match="power_w"):
        ChargingFunction.from_power(-1.0)


def test_no_time_when_not_charging_up() -> None:
    for f in (ChargingFunction.linear(2.0), ChargingFunction.piecewise([(0, 0), (10, 5)])):
        assert f.charge_time_s(5.0, 5.0) == 0.0
        assert f.charge_time_s(8.0, 3.0) == 0.0


@pytest.mark.parametrize("rate", [-1.0, math.nan, math.inf])
def test_linear_rejects_bad_rates(rate: float) -> None:
    with pytest.raises(ValueError, match="seconds_per_wh"):
        ChargingFunction.linear(rate)


def test_needs_exactly_one_kind() -> None:
    with pytest.raises(ValueError, match="needs"):
        ChargingFunction()
    with pytest.raises(ValueError, match="not both"):
        ChargingFunction(seconds_per_wh=1.0, breakpoints=((0.0, 0.0), (1.0, 1.0)))


# --- piecewise ----------------------------------------------------------------------------------


CC_CV = [(0.0, 0.0), (8_000.0, 1_800.0), (9_000.0, 2_700.0), (10_000.0, 5_400.0)]


def test_piecewise_hits_breakpoints_and_interpolates() -> None:
    f = ChargingFunction.piecewise(CC_CV)
    assert not f.is_linear
    assert f.max_energy_wh == 10_000.0
    for e, t in CC_CV:
        assert f.time_from_empty_s(e) == pytest.approx(t)
    assert f.time_from_empty_s(4_000.0) == pytest.approx(900.0)
    assert f.time_from_empty_s(8_500.0) == pytest.approx(2_250.0)
    assert f.charge_time_s(8_000.0, 9_500.0) == pytest.approx(900.0 + 1_350.0)


def test_piecewise_extends_last_slope_beyond_last_breakpoint() -> None:
    f = ChargingFunction.piecewise(CC_CV)
    assert f.time_from_empty_s(11_000.0) == pytest.approx(5_400.0 + 2_700.0)
    assert f.time_from_empty_s(-5.0) == 0.0


@SETTINGS
@given(functions, energies, energies, energies)
def test_charge_time_is_monotone(f: ChargingFunction, a: float, b: float, c: float) -> None:
    lo, mid, hi = sorted((a, b, c))
    assert f.charge_time_s(lo, hi) >= f.charge_time_s(mid, hi) >= 0.0  # later start: less
    assert f.charge_time_s(lo, hi) >= f.charge_time_s(lo, mid) >= 0.0  # lower target: less
    assert f.time_from_empty_s(hi) >= f.time_from_empty_s(mid) >= f.time_from_empty_s(lo)


@SETTINGS
@given(functions, energies, energies, energies)
def test_charge_time_is_additive(f: ChargingFunction, a: float, b: float, c: float) -> None:
    lo, mid, hi = sorted((a, b, c))
    total = f.charge_time_s(lo, hi)
    parts = f.charge_time_s(lo, mid) + f.charge_time_s(mid, hi)
    assert parts == pytest.approx(total, rel=1e-9, abs=1e-6)


@SETTINGS
@given(concave_breakpoints(), energies, energies, st.floats(0.0, 1.0))
def test_piecewise_curve_is_concave(
    points: list[tuple[float, float]], a: float, b: float, w: float
) -> None:
    """Energy over time is concave, so time over energy is convex: the chord lies above."""
    f = ChargingFunction.piecewise(points)
    mix = w * a + (1.0 - w) * b
    chord = w * f.time_from_empty_s(a) + (1.0 - w) * f.time_from_empty_s(b)
    assert f.time_from_empty_s(mix) <= chord + 1e-9 * max(1.0, chord)
    # The same Wh take at least as long when the battery is fuller.
    lo, hi = sorted((a, b))
    step = 100.0
    assert f.charge_time_s(hi, hi + step) >= f.charge_time_s(lo, lo + step) * (1 - 1e-9)


@SETTINGS
@given(functions)
def test_to_dict_round_trips(f: ChargingFunction) -> None:
    assert ChargingFunction.from_dict(f.to_dict()) == f


@pytest.mark.parametrize(
    ("points", "match"),
    [
        ([(0, 0)], "at least two"),
        ([], "needs"),
        ([(1, 0), (2, 1)], r"start at \(0, 0\)"),
        ([(0, 1), (2, 3)], r"start at \(0, 0\)"),
        ([(0, 0), (0, 1)], "strictly increasing"),
        ([(0, 0), (5, 1), (4, 2)], "strictly increasing"),
        ([(0, 0), (5, 0)], "strictly increasing"),
        ([(0, 0), (5, 3), (6, 3)], "strictly increasing"),
        ([(0, 0), (5, 10), (10, 11)], "concave"),  # charging speeds up: not concave
        ([(0, 0), (1, 1), (2, 3), (3, 4)], "concave"),
        ([(0, 0), (1, math.nan)], "finite"),
        ([(0, 0), (math.inf, 1)], "finite"),
    ],
)
def test_invalid_breakpoints_rejected(points: list[tuple[float, float]], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ChargingFunction.piecewise(points)


def test_collinear_breakpoints_allowed_despite_rounding() -> None:
    # Equal slopes (a straight line) are concave; rounding from unit conversions is tolerated.
    kwh_h = [(0.0, 0.0), (13.6, 0.31), (27.2, 0.62)]
    f = ChargingFunction.piecewise([(e * 1000.0, t * 3600.0) for e, t in kwh_h])
    assert f.charge_time_s(0.0, 27_200.0) == pytest.approx(0.62 * 3600.0)


def test_montoya_style_curve_is_accepted() -> None:
    # Montoya et al.'s fast charger (kWh, h) converted to (Wh, s).
    kwh_h = [(0.0, 0.0), (13.6, 0.31), (15.2, 0.39), (16.0, 0.51)]
    f = ChargingFunction.piecewise([(e * 1000.0, t * 3600.0) for e, t in kwh_h])
    assert f.max_energy_wh == pytest.approx(16_000.0)
    assert f.charge_time_s(13_600.0, 16_000.0) == pytest.approx((0.51 - 0.31) * 3600.0)
