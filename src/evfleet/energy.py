"""Longitudinal-dynamics energy model for electric vans (pure core, no I/O).

Units: metres (m), seconds (s), metres per second (m/s), kilograms (kg), watts (W),
watt-hours (Wh), degrees Celsius (°C). Energies are **battery-side**: what leaves (or, under
regeneration, enters) the traction battery. Grid-side energy is battery energy divided by
the charging efficiency (:func:`evfleet.charging.grid_energy_wh`).

The model is the standard one of ``shared/reference/emissions-energy-costs.md`` §2.1 (the
structure of FASTSim, carculator_truck and Goeke & Schneider 2015)::

    m        = curb + driver + payload              (kg)
    F_roll   = m·g·C_rr·cos θ        F_grade = m·g·sin θ
    F_aero   = ½·ρ·C_d·A·v²          F_inert = δ·m·a
    P_wheel  = (F_roll + F_grade + F_aero + F_inert)·v
    traction (P_wheel ≥ 0): P_batt = P_wheel / η                  η: battery-to-wheel efficiency
    braking  (P_wheel < 0): P_batt = −min(|P_wheel|, P_regen,max)·r(v)·η
    P_total  = P_batt + P_aux + P_HVAC(T)

``r(v)`` is the share of braking power sent to the motor: ``regen_efficiency`` (FASTSim
``maxRegen`` 0.98) faded at low speed with FASTSim's curve
``r(v) = r_max / (1 + 500·exp(−0.99·(v_mph + 1)))`` (constants ``regen_a``, ``regen_b``).
Regenerated energy passes the drivetrain backwards, hence the second factor ``η``.

Two uses:

- :func:`cycle_energy_wh` integrates a 1 Hz speed trace (for WLTP checks and calibration).
- :func:`arc_energy_wh` / :func:`load_coefficients` price one road arc from its distance and
  duration (the routing engine's view). The arc model is **affine in payload**: see
  :func:`load_coefficients`.

:func:`wltp_like_cycle` builds the WLTP-like test cycle; read its docstring for exactly what it
is (and is not).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evfleet.problem import EnergyModel

FloatArray = NDArray[np.float64]

GRAVITY_M_PER_S2 = 9.81
"""Standard gravity, m/s²."""

MPH_PER_M_PER_S = 3600.0 / 1609.344
"""Miles per hour in one m/s (FASTSim's regeneration curve is written in mph)."""

J_PER_WH = 3600.0

REGEN_FADE_A = 500.0
"""FASTSim ``regen_a``: low-speed regeneration fade constant (reference §2.2, [R])."""
REGEN_FADE_B = 0.99
"""FASTSim ``regen_b``: low-speed regeneration fade constant, per mph (reference §2.2, [R])."""


def battery_to_wheel_efficiency(motor: float, transmission: float, battery: float) -> float:
    """Battery-to-wheel efficiency: the product of the chain's stage efficiencies (0..1).

    Reference §2.2: carculator_truck 0.93 × 0.89 × 0.88 = 0.728; FASTSim 0.93 × 0.92 ×
    √0.97 ≈ 0.843 (motor at 20–60 % load, transmission, battery one-way from round trip).
    """
    for name, value in (("motor", motor), ("transmission", transmission), ("battery", battery)):
        if not 0.0 < value <= 1.0:
            raise ValueError(f"{name} efficiency must be in (0, 1], got {value}")
    return motor * transmission * battery


@dataclass(frozen=True)
class EnergyParameters:
    """Physical parameters of one van for the longitudinal-dynamics model.

    Units are in the names. ``drivetrain_efficiency`` is battery-to-wheel (motor, inverter,
    transmission and battery discharge together); regenerated energy flows back through the
    same chain. ``regen_efficiency`` is the largest share of braking power the controller
    sends to the motor (FASTSim ``maxRegen``); below about 10 mph it fades
    (:meth:`regen_fraction`). ``max_regen_power_w`` caps regenerative braking power at the
    wheel (rated motor power where sourced; the rest goes to the friction brakes).

    Climate control follows reference §2.1: heating draws ``heating_w_per_k`` W per kelvin
    below ``heating_below_c``, cooling ``cooling_w_per_k`` W per kelvin above
    ``cooling_above_c``, together capped at ``max_hvac_power_w``. Between the two
    temperatures (the comfort band) no HVAC power is drawn.

    ``typical_acceleration_m_per_s2`` and ``typical_deceleration_m_per_s2`` shape the speed
    profile the arc model assumes between stops (a modelling choice, not sourced; the same
    values build the synthetic WLTP-like cycle).
    """

    curb_mass_kg: float
    frontal_area_m2: float
    drag_coefficient: float
    rolling_resistance: float
    drivetrain_efficiency: float
    regen_efficiency: float = 0.98
    auxiliary_power_w: float = 250.0
    heating_w_per_k: float = 0.0
    cooling_w_per_k: float = 0.0
    heating_below_c: float = 22.0
    cooling_above_c: float = 23.0
    max_hvac_power_w: float = math.inf
    driver_mass_kg: float = 75.0
    rotational_inertia_factor: float = 1.04
    air_density_kg_per_m3: float = 1.2
    max_regen_power_w: float = math.inf
    regen_fade: bool = True
    typical_acceleration_m_per_s2: float = 0.6
    typical_deceleration_m_per_s2: float = 0.8

    def __post_init__(self) -> None:
        positive = {
            "curb_mass_kg": self.curb_mass_kg,
            "frontal_area_m2": self.frontal_area_m2,
            "drag_coefficient": self.drag_coefficient,
            "air_density_kg_per_m3": self.air_density_kg_per_m3,
        }
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value}")
        non_negative = {
            "rolling_resistance": self.rolling_resistance,
            "auxiliary_power_w": self.auxiliary_power_w,
            "heating_w_per_k": self.heating_w_per_k,
            "cooling_w_per_k": self.cooling_w_per_k,
            "driver_mass_kg": self.driver_mass_kg,
        }
        for name, value in non_negative.items():
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if not 0.0 < self.drivetrain_efficiency <= 1.0:
            raise ValueError("drivetrain_efficiency must be in (0, 1]")
        if not 0.0 <= self.regen_efficiency <= 1.0:
            raise ValueError("regen_efficiency must be in [0, 1]")
        if not self.rotational_inertia_factor >= 1.0:
            raise ValueError("rotational_inertia_factor must be >= 1")
        if not self.heating_below_c <= self.cooling_above_c:
            raise ValueError("heating_below_c must not exceed cooling_above_c")
        if not self.max_hvac_power_w >= 0 or not self.max_regen_power_w >= 0:
            raise ValueError("power caps must be >= 0")
        for name, value in (
            ("typical_acceleration_m_per_s2", self.typical_acceleration_m_per_s2),
            ("typical_deceleration_m_per_s2", self.typical_deceleration_m_per_s2),
        ):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0")

    @property
    def empty_mass_kg(self) -> float:
        """Curb mass plus driver, kg: the moving mass with no payload."""
        return self.curb_mass_kg + self.driver_mass_kg

    @property
    def drag_area_m2(self) -> float:
        """C_d·A in m²."""
        return self.drag_coefficient * self.frontal_area_m2

    def hvac_power_w(self, temperature_c: float) -> float:
        """Heating or cooling power drawn from the battery at ``temperature_c`` outside, W."""
        heat = self.heating_w_per_k * max(0.0, self.heating_below_c - temperature_c)
        cool = self.cooling_w_per_k * max(0.0, temperature_c - self.cooling_above_c)
        return min(heat + cool, self.max_hvac_power_w)

    def constant_power_w(self, temperature_c: float) -> float:
        """Auxiliary plus HVAC power, W: drawn whenever the van is driving."""
        return self.auxiliary_power_w + self.hvac_power_w(temperature_c)

    def regen_fraction(self, speed_m_per_s: ArrayLike) -> FloatArray:
        """Share of braking power sent to the motor at ``speed_m_per_s`` (0..regen_efficiency).

        FASTSim's curve ``r_max / (1 + 500·exp(−0.99·(v_mph + 1)))``: about half of
        ``r_max`` at 5 mph, 97 % of it at 10 mph. Without ``regen_fade``, constant ``r_max``.
        """
        v = np.asarray(speed_m_per_s, dtype=np.float64)
        if not self.regen_fade:
            return np.full_like(v, self.regen_efficiency)
        mph = v * MPH_PER_M_PER_S
        return self.regen_efficiency / (1.0 + REGEN_FADE_A * np.exp(-REGEN_FADE_B * (mph + 1.0)))


# --- drive cycles -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CyclePhase:
    """One phase of a drive cycle: samples ``start_s`` to ``end_s`` (inclusive) of the trace."""

    name: str
    start_s: int
    end_s: int


@dataclass(frozen=True, eq=False)
class DriveCycle:
    """A speed trace sampled at 1 Hz (``speeds_m_per_s[k]`` at ``k`` seconds) and its phases."""

    name: str
    speeds_m_per_s: FloatArray
    phases: tuple[CyclePhase, ...] = ()
    description: str = ""

    @property
    def duration_s(self) -> float:
        return float(len(self.speeds_m_per_s) - 1)

    @property
    def distance_m(self) -> float:
        """Distance by trapezoidal integration of the 1 Hz samples, m."""
        return trace_distance_m(self.speeds_m_per_s)

    def phase(self, name: str) -> FloatArray:
        """The samples of phase ``name`` (a view)."""
        for p in self.phases:
            if p.name == name:
                return self.speeds_m_per_s[p.start_s : p.end_s + 1]
        raise KeyError(f"cycle {self.name!r} has no phase {name!r}")

    def section(self, names: Sequence[str]) -> FloatArray:
        """Consecutive phases ``names`` joined into one trace (shared boundary samples once)."""
        chosen = [p for p in self.phases if p.name in names]
        if len(chosen) != len(names):
            raise KeyError(f"cycle {self.name!r} lacks some of the phases {list(names)}")
        start, end = min(p.start_s for p in chosen), max(p.end_s for p in chosen)
        if sum(p.end_s - p.start_s for p in chosen) != end - start:
            raise ValueError("phases must be consecutive")
        return self.speeds_m_per_s[start : end + 1]


def trace_distance_m(speeds_m_per_s: ArrayLike, dt_s: float = 1.0) -> float:
    """Distance covered by a speed trace sampled every ``dt_s`` seconds (trapezoid rule), m."""
    v = np.asarray(speeds_m_per_s, dtype=np.float64)
    return float(np.sum(0.5 * (v[1:] + v[:-1])) * dt_s)


@dataclass(frozen=True)
class WltcPhaseSpec:
    """Published characteristics of one WLTC class 3b phase (UN GTR No. 15, Annex 1)."""

    name: str
    duration_s: int
    stop_s: int
    distance_m: float
    max_speed_kmh: float


WLTC_CLASS3B_PHASES: tuple[WltcPhaseSpec, ...] = (
    WltcPhaseSpec("low", 589, 156, 3095.0, 56.5),
    WltcPhaseSpec("medium", 433, 48, 4756.0, 76.6),
    WltcPhaseSpec("high", 455, 31, 7162.0, 97.4),
    WltcPhaseSpec("extra-high", 323, 7, 8254.0, 131.3),
)
"""WLTC class 3b phase table: durations, stop durations, distances and maximum speeds.

From UN GTR No. 15 / Regulation (EU) 2017/1151 Sub-Annex 1 (class 3b: v_max ≥ 120 km/h).
These values are **outside** ``emissions-energy-costs.md``; they were written from the
published phase table and checked for internal consistency (each phase's distance over its
moving time gives the published average speeds without stops, 25.7 / 44.5 / 60.8 /
94.0 km/h; over its duration 18.9 / 39.5 / 56.7 / 92.0 km/h; 1,800 s, 23.27 km, 46.5 km/h
and 242 s stopped, i.e. 13.4 %, overall; the totals 1,800 s, 131.3 km/h, 46.5 km/h and 13.4 %
stopped also appear on https://www.mercedes-benz.com/en/vehicles/wltp/consumption-and-emissions/).
Verify against the regulation before quoting them.
"""

_SYNTHETIC_TRIPS = {"low": 4, "medium": 3, "high": 2, "extra-high": 1}
"""Micro-trips per phase in the synthetic trace (a modelling choice, not from the WLTC)."""
_SYNTHETIC_ACCEL_M_PER_S2 = 0.6
_SYNTHETIC_DECEL_M_PER_S2 = 0.8
_SYNTHETIC_PEAK_HOLD_S = 4.0


def _trip_profile(
    t: FloatArray, duration: float, cruise: float, peak: float | None, accel: float, decel: float
) -> FloatArray:
    """Speed at times ``t`` (s from trip start) of one trapezoidal micro-trip, m/s.

    Accelerate at ``accel`` to ``cruise``, cruise, decelerate at ``decel`` to rest at
    ``duration``. With ``peak``, one symmetric excursion from ``cruise`` up to ``peak``
    (held for ``_SYNTHETIC_PEAK_HOLD_S``) sits in the middle of the cruise.
    """
    envelope = np.maximum(np.minimum(accel * t, decel * (duration - t)), 0.0)
    v = np.minimum(envelope, cruise)
    if peak is not None and peak > cruise:
        mid = duration / 2.0
        half_hold = _SYNTHETIC_PEAK_HOLD_S / 2.0
        below_peak = np.maximum(
            np.maximum(accel * (mid - half_hold - t), decel * (t - mid - half_hold)), 0.0
        )
        v = np.maximum(v, np.minimum(peak - below_peak, envelope))
    return v


def _synthetic_phase(spec: WltcPhaseSpec) -> FloatArray:
    """1 Hz samples (``duration_s + 1`` of them) of one synthetic WLTP-like phase."""
    n = _SYNTHETIC_TRIPS[spec.name]
    moving = float(spec.duration_s - spec.stop_s)
    trip = moving / n
    idle = spec.stop_s / n
    peak = spec.max_speed_kmh / 3.6
    t = np.arange(spec.duration_s + 1, dtype=np.float64)
    peak_trip = n // 2

    def trace(cruise: float) -> FloatArray:
        v = np.zeros_like(t)
        for k in range(n):
            start = k * (idle + trip) + idle
            local = t - start
            inside = (local >= 0.0) & (local <= trip)
            prof = _trip_profile(
                local[inside],
                trip,
                cruise,
                peak if k == peak_trip else None,
                _SYNTHETIC_ACCEL_M_PER_S2,
                _SYNTHETIC_DECEL_M_PER_S2,
            )
            v[inside] = prof
        v[v < 1e-9] = 0.0  # exact rest at trip ends despite rounding
        return v

    # The distance grows with the cruise speed: bisect for the published phase distance.
    lo, hi = 0.0, peak
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if trace_distance_m(trace(mid)) < spec.distance_m:
            lo = mid
        else:
            hi = mid
    v = trace(0.5 * (lo + hi))
    if abs(trace_distance_m(v) - spec.distance_m) > 1e-6 * spec.distance_m:
        raise RuntimeError(f"synthetic phase {spec.name} cannot meet its distance")
    return v


@lru_cache(maxsize=1)
def _wltp_like_speeds() -> FloatArray:
    parts = [_synthetic_phase(spec) for spec in WLTC_CLASS3B_PHASES]
    speeds = np.concatenate([parts[0], *(p[1:] for p in parts[1:])])
    speeds.setflags(write=False)
    return speeds


def wltp_like_cycle() -> DriveCycle:
    """A synthetic WLTP-like cycle built from the published WLTC class 3b phase table.

    **This is not the WLTC speed trace.** The official second-by-second table was not
    available to this project, so the trace is constructed: each phase has exactly the
    published duration, distance and maximum speed (:data:`WLTC_CLASS3B_PHASES`), and its
    published stop time split evenly before its micro-trips. Within a phase the shape is a
    modelling choice: 4 / 3 / 2 / 1 trapezoidal micro-trips (low / medium / high /
    extra-high), acceleration 0.6 m/s², deceleration 0.8 m/s², one micro-trip per phase with
    a short excursion to the phase's maximum speed held for 4 s; the cruise speed is solved
    so the 1 Hz trace (trapezoid rule) covers the published distance.

    Consequences: total duration (1,800 s), distance (23,266 m ± rounding of the phase
    table), average speed (46.5 km/h) and phase maxima match the WLTC; the speed
    fluctuations within micro-trips do not, so the trace has less positive kinetic energy
    per km than the real cycle. Consumption over it is an approximation of a WLTP figure,
    adequate for the ±10 % checks it is used for.
    """
    phases: list[CyclePhase] = []
    start = 0
    for spec in WLTC_CLASS3B_PHASES:
        phases.append(CyclePhase(spec.name, start, start + spec.duration_s))
        start += spec.duration_s
    return DriveCycle(
        name="wltp-like-class3b",
        speeds_m_per_s=_wltp_like_speeds(),
        phases=tuple(phases),
        description=(wltp_like_cycle.__doc__ or "").strip().splitlines()[0],
    )


WLTP_CITY_PHASES = ("low", "medium")
"""The phases WLTP uses for its "city" figures (low and medium)."""

WLTP_TEST_TEMPERATURE_C = 23.0
"""WLTP type-approval test temperature, °C (outside the reference; UN GTR No. 15)."""


def wltp_test_payload_kg(max_payload_kg: float) -> float:
    """Load carried in a WLTP test of an N1 van: 25 kg plus 28 % of the maximum payload, kg.

    UN GTR No. 15 test mass: mass in running order (which includes the 75 kg driver) +
    25 kg + the "representative vehicle load", 28 % of the maximum vehicle load for category
    N (15 % for M). Outside ``emissions-energy-costs.md``; verify before quoting.
    """
    return 25.0 + 0.28 * max_payload_kg


# --- cycle integration --------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleTerms:
    """A cycle's energy split so the drivetrain efficiency can be varied cheaply.

    Battery energy (Wh) = ``traction_wheel_wh / η − regen_wheel_wh · η + constant_wh``, where
    ``regen_wheel_wh`` already includes the regeneration share ``r(v)`` and the power cap.
    """

    traction_wheel_wh: float
    regen_wheel_wh: float
    constant_wh: float
    distance_m: float = 0.0
    duration_s: float = 0.0

    def battery_wh(self, drivetrain_efficiency: float) -> float:
        eta = drivetrain_efficiency
        return self.traction_wheel_wh / eta - self.regen_wheel_wh * eta + self.constant_wh


def _grade_array(grade: ArrayLike, steps: int) -> tuple[FloatArray, FloatArray]:
    g = np.broadcast_to(np.asarray(grade, dtype=np.float64), (steps,))
    hyp = np.sqrt(1.0 + g * g)
    return 1.0 / hyp, g / hyp


def cycle_terms(
    params: EnergyParameters,
    speeds_m_per_s: ArrayLike,
    payload_kg: float,
    temperature_c: float,
    grade: ArrayLike = 0.0,
    dt_s: float = 1.0,
) -> CycleTerms:
    """Integrate a speed trace into traction, regeneration and constant-power terms.

    Each step between samples ``k`` and ``k+1`` uses the mean speed and the finite-difference
    acceleration. ``grade`` is rise over run (0.05 = 5 %), scalar or one value per step.
    Rolling resistance acts only while the van moves.
    """
    v = np.asarray(speeds_m_per_s, dtype=np.float64)
    if v.ndim != 1 or len(v) < 2:
        raise ValueError("speeds_m_per_s must be a 1-D trace of at least two samples")
    if np.any(~np.isfinite(v)) or np.any(v < 0):
        raise ValueError("speeds must be finite and >= 0")
    if payload_kg < 0:
        raise ValueError("payload_kg must be >= 0")
    if not dt_s > 0:
        raise ValueError("dt_s must be > 0")
    steps = len(v) - 1
    vm = 0.5 * (v[1:] + v[:-1])
    acc = (v[1:] - v[:-1]) / dt_s
    cos_t, sin_t = _grade_array(grade, steps)
    m = params.empty_mass_kg + payload_kg
    moving = vm > 0.0
    force = (
        m * GRAVITY_M_PER_S2 * (params.rolling_resistance * cos_t * moving + sin_t)
        + 0.5 * params.air_density_kg_per_m3 * params.drag_area_m2 * vm * vm
        + params.rotational_inertia_factor * m * acc
    )
    power = force * vm
    traction = np.where(power > 0.0, power, 0.0)
    braking = np.minimum(np.where(power < 0.0, -power, 0.0), params.max_regen_power_w)
    regen = braking * params.regen_fraction(vm)
    constant = params.constant_power_w(temperature_c) * steps * dt_s
    return CycleTerms(
        traction_wheel_wh=float(np.sum(traction)) * dt_s / J_PER_WH,
        regen_wheel_wh=float(np.sum(regen)) * dt_s / J_PER_WH,
        constant_wh=constant / J_PER_WH,
        distance_m=float(np.sum(vm)) * dt_s,
        duration_s=steps * dt_s,
    )


def cycle_energy_wh(
    params: EnergyParameters,
    speeds_m_per_s: ArrayLike,
    payload_kg: float,
    temperature_c: float,
    grade: ArrayLike = 0.0,
    dt_s: float = 1.0,
) -> float:
    """Battery energy to drive a speed trace sampled every ``dt_s`` (1 Hz by default), Wh.

    Traction power is divided by the drivetrain efficiency; braking power (capped at
    ``max_regen_power_w``) is recovered at ``regen_fraction(v) × drivetrain_efficiency``;
    auxiliary and HVAC power are drawn for the whole trace. Not affine in payload (braking
    turns into traction as mass grows on a downhill); the arc model is.
    """
    terms = cycle_terms(params, speeds_m_per_s, payload_kg, temperature_c, grade, dt_s)
    return terms.battery_wh(params.drivetrain_efficiency)


def cycle_consumption_wh_per_km(
    params: EnergyParameters, speeds_m_per_s: ArrayLike, payload_kg: float, temperature_c: float
) -> float:
    """Battery energy per kilometre over a 1 Hz speed trace, Wh/km."""
    energy = cycle_energy_wh(params, speeds_m_per_s, payload_kg, temperature_c)
    return energy / (trace_distance_m(speeds_m_per_s) / 1000.0)


def fit_parameter(
    params: EnergyParameters,
    name: str,
    speeds_m_per_s: ArrayLike,
    payload_kg: float,
    temperature_c: float,
    target_wh: float,
    bounds: tuple[float, float],
) -> float:
    """The value of parameter ``name`` at which the trace costs ``target_wh`` Wh.

    For calibrating one parameter against a published figure (e.g. ``drag_coefficient`` or
    ``drivetrain_efficiency`` against WLTP consumption). The cycle energy must be monotone
    in the parameter over ``bounds``; raises ``ValueError`` when the target lies outside what
    the bounds can reach, so an implausible fit cannot pass silently.
    """
    lo, hi = bounds
    if not lo < hi:
        raise ValueError("bounds must be (low, high) with low < high")
    if not isinstance(getattr(params, name, None), float | int) or name == "regen_fade":
        raise ValueError(f"{name!r} is not a numeric energy parameter")

    def energy(value: float) -> float:
        change: dict[str, Any] = {name: value}
        trial = replace(params, **change)
        return cycle_energy_wh(trial, speeds_m_per_s, payload_kg, temperature_c)

    e_lo, e_hi = energy(lo), energy(hi)
    if not min(e_lo, e_hi) <= target_wh <= max(e_lo, e_hi):
        raise ValueError(
            f"no {name} in [{lo:g}, {hi:g}] reaches {target_wh:.1f} Wh "
            f"(range {min(e_lo, e_hi):.1f} to {max(e_lo, e_hi):.1f} Wh)"
        )
    rising = e_hi > e_lo
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if (energy(mid) < target_wh) == rising:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


# --- arc model ----------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _stop_regen_share_table(params_key: tuple[float, bool]) -> tuple[FloatArray, FloatArray]:
    """Speeds and the share of kinetic energy ½v² the fading regen curve recovers up to them."""
    regen_max, fade = params_key
    speeds = np.linspace(0.0, 60.0, 1201)
    probe = EnergyParameters(
        curb_mass_kg=1.0,
        frontal_area_m2=1.0,
        drag_coefficient=1.0,
        rolling_resistance=0.0,
        drivetrain_efficiency=1.0,
        regen_efficiency=regen_max,
        regen_fade=fade,
    )
    r = probe.regen_fraction(speeds)
    # ∫ r(u)·u du from 0 to v, by the trapezoid rule, over ½v².
    integrand = r * speeds
    cumulative = np.concatenate(
        [[0.0], np.cumsum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(speeds))]
    )
    share = np.divide(
        cumulative, 0.5 * speeds * speeds, out=np.full_like(speeds, 0.0), where=speeds > 0
    )
    return speeds, share


def stop_regen_share(params: EnergyParameters, speed_m_per_s: ArrayLike) -> FloatArray:
    """Share of the kinetic energy at ``speed_m_per_s`` that braking to rest sends to the motor.

    The mean of ``regen_fraction`` weighted by ``u du`` from 0 to ``v`` (deceleration at
    constant force); tabulated up to 60 m/s.
    """
    speeds, share = _stop_regen_share_table((params.regen_efficiency, params.regen_fade))
    return np.interp(np.asarray(speed_m_per_s, dtype=np.float64), speeds, share)


def arc_cruise_speed_m_per_s(
    params: EnergyParameters,
    distance_m: ArrayLike,
    duration_s: ArrayLike,
    stop_count: ArrayLike = 0,
) -> FloatArray:
    """Cruise speed of the arc model's speed profile, m/s.

    The arc is split into ``1 + stop_count`` equal legs, each a trapezoid: accelerate from
    rest at ``typical_acceleration_m_per_s2``, cruise, brake to rest at
    ``typical_deceleration_m_per_s2``, the legs together taking ``duration_s``. When the
    legs are too short for those rates, the profile is a triangle (peak ``2·leg/time``).
    Zero where the distance is zero.
    """
    d, t, stops = np.broadcast_arrays(
        np.asarray(distance_m, dtype=np.float64),
        np.asarray(duration_s, dtype=np.float64),
        np.asarray(stop_count, dtype=np.float64),
    )
    legs = 1.0 + stops
    ok = (d > 0) & (t > 0) & np.isfinite(d) & np.isfinite(t)
    leg_d = np.where(ok, d / legs, 0.0)
    leg_t = np.where(ok, t / legs, 1.0)
    # leg_d = v·leg_t − k·v² with k = 1/(2a) + 1/(2b): the smaller root is the cruise speed.
    k = 0.5 / params.typical_acceleration_m_per_s2 + 0.5 / params.typical_deceleration_m_per_s2
    disc = leg_t * leg_t - 4.0 * k * leg_d
    trapezoid = (leg_t - np.sqrt(np.maximum(disc, 0.0))) / (2.0 * k)
    triangle = 2.0 * leg_d / leg_t
    v = np.where(disc >= 0.0, trapezoid, triangle)
    return np.where(ok, v, 0.0)


def load_coefficients(
    params: EnergyParameters,
    distance_m: ArrayLike,
    duration_s: ArrayLike,
    temperature_c: float,
    stop_count: ArrayLike = 0,
) -> tuple[FloatArray, FloatArray]:
    """Per-arc ``(base_wh, wh_per_kg)`` with energy = ``base_wh + wh_per_kg · payload_kg``.

    Vectorised over arrays of arcs (e.g. whole distance and duration matrices). The arc
    starts and ends at rest (every site on a route is a stop) and makes ``stop_count``
    further stops (traffic lights, congestion): ``1 + stop_count`` legs, each accelerating
    to the cruise speed ``v`` of :func:`arc_cruise_speed_m_per_s` and braking back to rest,
    the whole taking ``duration_s``::

        E = [m·g·C_rr·d + ½ρ·C_d·A·v²·(d − legs·min(s_a + s_b, d/legs)/2)] / η
            + legs·½·δ·m·v²·(1/η − s(v)·η)
            + (P_aux + P_HVAC(T))·t

    with ``s_a = v²/2a`` and ``s_b = v²/2b`` the ramp distances (drag on a ramp averages half
    the cruise value per metre) and ``s(v)`` the regenerated share of :func:`stop_regen_share`.
    Each stop costs the kinetic energy lost in the drivetrain both ways, so urban arcs (more
    stops, same average speed) cost more than steady cruising; very slow arcs pay more
    auxiliary and HVAC energy per metre, very fast ones more drag.

    **Why affine in payload.** Mass enters every term linearly: rolling resistance
    (m·g·C_rr·d), inertia (½·δ·m·v² per stop) and grade (m·g·Δh; zero here, the problem has
    no elevations). The speed profile depends on distance, duration and stops only, and
    drag, auxiliaries and HVAC do not depend on mass. The regeneration power cap, which
    would make braking energy depend on mass non-linearly, is not applied to arcs. Hence
    ``E(payload) = base_wh + wh_per_kg · payload`` exactly, and the routing engine can
    precompute two matrices and price any load.

    Arcs of zero distance cost nothing; arcs of infinite distance or duration get an infinite
    base and zero slope. A positive distance with zero duration is an error.
    """
    d = np.asarray(distance_m, dtype=np.float64)
    t = np.asarray(duration_s, dtype=np.float64)
    stops = np.asarray(stop_count, dtype=np.float64)
    d, t, stops = np.broadcast_arrays(d, t, stops)
    if np.any(np.isnan(d)) or np.any(np.isnan(t)) or np.any(d < 0) or np.any(t < 0):
        raise ValueError("distances and durations must be >= 0 (not NaN)")
    if np.any(stops < 0) or np.any(~np.isfinite(stops)):
        raise ValueError("stop_count must be finite and >= 0")
    finite = np.isfinite(d) & np.isfinite(t)
    moving = finite & (d > 0)
    if np.any(moving & (t <= 0)):
        raise ValueError("an arc with a positive distance needs a positive duration")
    dd = np.where(moving, d, 0.0)
    v = arc_cruise_speed_m_per_s(params, dd, np.where(moving, t, 0.0), stops)
    eta = params.drivetrain_efficiency
    legs = 1.0 + stops
    kinetic_per_kg = 0.5 * params.rotational_inertia_factor * v * v
    stop_per_kg = legs * kinetic_per_kg * (1.0 / eta - stop_regen_share(params, v) * eta)
    roll_per_kg = GRAVITY_M_PER_S2 * params.rolling_resistance * dd / eta
    wh_per_kg = np.where(moving, (roll_per_kg + stop_per_kg) / J_PER_WH, 0.0)
    # Ramp distance per leg (the whole leg when the profile is a triangle); drag on a ramp
    # averages half the peak value per metre.
    k = 0.5 / params.typical_acceleration_m_per_s2 + 0.5 / params.typical_deceleration_m_per_s2
    ramp_m = np.minimum(k * v * v, dd / legs)
    drag_m = dd - legs * ramp_m / 2.0
    aero = 0.5 * params.air_density_kg_per_m3 * params.drag_area_m2 * v * v * drag_m / eta
    constant = params.constant_power_w(temperature_c) * np.where(moving, t, 0.0)
    base = np.where(
        moving,
        (aero + constant) / J_PER_WH + wh_per_kg * params.empty_mass_kg,
        0.0,
    )
    infinite = ~finite & (d > 0)
    base = np.where(infinite, np.inf, base)
    wh_per_kg = np.where(infinite, 0.0, wh_per_kg)
    return base.astype(np.float64), wh_per_kg.astype(np.float64)


def arc_energy_wh(
    params: EnergyParameters,
    distance_m: float,
    duration_s: float,
    payload_kg: float,
    temperature_c: float,
    stop_count: int = 0,
) -> float:
    """Battery energy to drive one arc carrying ``payload_kg``, Wh (see :func:`load_coefficients`).

    Equals ``base_wh + wh_per_kg * payload_kg`` of :func:`load_coefficients` exactly.
    """
    base, slope = load_coefficients(params, distance_m, duration_s, temperature_c, stop_count)
    return float(base) + float(slope) * payload_kg


@dataclass(frozen=True, eq=False)
class ArcEnergyModel:
    """An :data:`evfleet.problem.EnergyModel`: precomputed ``base_wh`` and ``wh_per_kg`` matrices.

    Calling it with ``(i, j, distance_m, load_kg)`` returns
    ``base_wh[i, j] + wh_per_kg[i, j] * load_kg``. The ``distance_m`` argument is not used:
    the matrices were built from the problem's own distance and duration matrices.
    """

    base_wh: FloatArray
    wh_per_kg: FloatArray
    _base: list[list[float]] = field(init=False, repr=False)
    _slope: list[list[float]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.base_wh.shape != self.wh_per_kg.shape or self.base_wh.ndim != 2:
            raise ValueError("base_wh and wh_per_kg must be matrices of the same shape")
        object.__setattr__(self, "_base", self.base_wh.tolist())
        object.__setattr__(self, "_slope", self.wh_per_kg.tolist())

    def __call__(self, i: int, j: int, distance_m: float, load_kg: float) -> float:
        return self._base[i][j] + self._slope[i][j] * load_kg


def energy_model_hook(
    params: EnergyParameters,
    distance_m: ArrayLike,
    duration_s: ArrayLike,
    temperature_c: float,
    stop_count: ArrayLike = 0,
) -> EnergyModel:
    """A load-dependent :data:`evfleet.problem.EnergyModel` for ``VehicleType.energy_model``.

    Precomputes :func:`load_coefficients` over the distance and duration matrices (m, s) at
    ``temperature_c``; the hook then costs ``base[i, j] + slope[i, j] · load_kg`` Wh.
    """
    base, slope = load_coefficients(params, distance_m, duration_s, temperature_c, stop_count)
    model: EnergyModel = ArcEnergyModel(np.atleast_2d(base), np.atleast_2d(slope))
    return model


def with_efficiency(params: EnergyParameters, drivetrain_efficiency: float) -> EnergyParameters:
    """A copy of ``params`` with another battery-to-wheel efficiency."""
    return replace(params, drivetrain_efficiency=drivetrain_efficiency)
