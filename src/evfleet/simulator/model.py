"""The simulator's noise models and their settings (pure; seeded, no I/O).

Units: m, s, m/s, Wh, °C; times of day in s since the plan's local midnight.

* **GPS jitter**: each fix is displaced by a Gaussian offset, independently north and east,
  with standard deviation ``gps_sigma_m`` while driving and ``parked_sigma_m`` while parked
  or charging (multipath next to buildings), clipped radially at ``jitter_clip_sigmas``
  standard deviations so that a fix is never further than that from the truth.
* **Traffic**: each leg's planned driving time is multiplied by a lognormal slowdown factor
  ``exp(N(ln traffic_median, traffic_sigma))``, clamped to ``traffic_range``.
* **Service times**: the planned service time at a client is multiplied by
  ``exp(N(0, service_sigma))`` (median: the plan) and is at least ``min_service_s``.
* **Speed**: the leg's mean speed plus Gaussian noise (``speed_sigma_m_per_s``), never
  negative; 0 while parked.
* **Temperature** (:class:`Weather`): a diurnal cosine (warmest at 15:00) around
  ``mean_c`` plus an Ornstein-Uhlenbeck drift (hourly knots, linear in between). A leg's
  energy is the plan's energy for it times :meth:`Weather.consumption_factor`, the ratio of
  the consumption multiplier at the outside temperature to the one at ``plan_c`` (the
  temperature the plan's energies assume). The multiplier grows by ``cold_per_k`` per kelvin
  below ``comfort_low_c`` (cabin heating, a cold battery) and ``hot_per_k`` per kelvin above
  ``comfort_high_c`` (air conditioning); at −5 °C it is +24 % with the defaults, in line
  with the range loss of electric vans reported in winter.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

__all__ = [
    "DAY_S",
    "NoiseSettings",
    "Weather",
    "WeatherSettings",
    "lognormal_factor",
]

DAY_S = 86_400.0
"""Seconds in a day."""


@dataclass(frozen=True)
class NoiseSettings:
    """How far reality strays from the plan (see the module docstring for each model).

    ``gps_sigma_m`` / ``parked_sigma_m``: GPS noise, m (1 σ per axis); ``jitter_clip_sigmas``:
    the largest offset, in σ; ``traffic_median`` / ``traffic_sigma``: the lognormal per-leg
    slowdown of driving time (median, and σ of its logarithm), clamped to ``traffic_range``;
    ``service_sigma``: σ of the logarithm of the service-time factor; ``min_service_s``: the
    shortest stop, s (also the shortest charging stop); ``speed_sigma_m_per_s``: speed noise.
    """

    gps_sigma_m: float = 5.0
    parked_sigma_m: float = 8.0
    jitter_clip_sigmas: float = 3.0
    traffic_median: float = 1.05
    traffic_sigma: float = 0.2
    traffic_range: tuple[float, float] = (0.7, 3.0)
    service_sigma: float = 0.3
    min_service_s: float = 90.0
    speed_sigma_m_per_s: float = 0.3

    def __post_init__(self) -> None:
        for name in ("gps_sigma_m", "parked_sigma_m", "traffic_sigma", "service_sigma"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if not self.jitter_clip_sigmas > 0:
            raise ValueError("jitter_clip_sigmas must be > 0")
        if not (math.isfinite(self.traffic_median) and self.traffic_median > 0):
            raise ValueError("traffic_median must be a finite number > 0")
        low, high = self.traffic_range
        if not 0 < low <= high:
            raise ValueError("traffic_range must be (low, high) with 0 < low <= high")
        if not (self.min_service_s >= 0 and self.speed_sigma_m_per_s >= 0):
            raise ValueError("min_service_s and speed_sigma_m_per_s must be >= 0")

    def traffic_factor(self, rng: random.Random) -> float:
        """One leg's slowdown factor (driving time actual / planned), dimensionless."""
        low, high = self.traffic_range
        return min(max(lognormal_factor(rng, self.traffic_median, self.traffic_sigma), low), high)

    def service_s(self, rng: random.Random, planned_s: float) -> float:
        """The actual service time for ``planned_s`` planned, s."""
        return max(planned_s * lognormal_factor(rng, 1.0, self.service_sigma), self.min_service_s)

    def jitter_m(self, rng: random.Random, sigma_m: float) -> tuple[float, float]:
        """A GPS error (north, east) in m: Gaussian with ``sigma_m`` per axis, clipped."""
        north = rng.gauss(0.0, 1.0) * sigma_m
        east = rng.gauss(0.0, 1.0) * sigma_m
        limit = self.jitter_clip_sigmas * sigma_m
        r = math.hypot(north, east)
        if r > limit > 0:
            north, east = north * limit / r, east * limit / r
        return north, east

    @property
    def max_jitter_m(self) -> float:
        """The largest GPS error of any fix, m."""
        return self.jitter_clip_sigmas * max(self.gps_sigma_m, self.parked_sigma_m)


def lognormal_factor(rng: random.Random, median: float, sigma: float) -> float:
    """``median · exp(N(0, sigma))``: a positive multiplier with the given median."""
    if sigma == 0:
        return median
    return median * math.exp(rng.gauss(0.0, sigma))


@dataclass(frozen=True)
class WeatherSettings:
    """Outside temperature and its effect on consumption (°C, K, per K).

    ``mean_c``: the day's mean; ``diurnal_amplitude_k``: half the day's swing (warmest at
    ``warmest_h`` o'clock); ``drift_sigma_k`` and ``drift_tau_h``: the stationary standard
    deviation (K) and correlation time (h) of the random drift; ``plan_c``: the temperature
    the plan's energies assume (``None``: ``mean_c``). The consumption multiplier is
    ``1 + cold_per_k·max(0, comfort_low_c − T) + hot_per_k·max(0, T − comfort_high_c)``.
    """

    mean_c: float = 10.0
    diurnal_amplitude_k: float = 4.0
    warmest_h: float = 15.0
    drift_sigma_k: float = 1.5
    drift_tau_h: float = 3.0
    plan_c: float | None = None
    comfort_low_c: float = 15.0
    comfort_high_c: float = 25.0
    cold_per_k: float = 0.012
    hot_per_k: float = 0.008

    def __post_init__(self) -> None:
        if not -60.0 <= self.mean_c <= 60.0:
            raise ValueError(f"mean_c must be in [-60, 60] °C, got {self.mean_c}")
        if self.plan_c is not None and not -60.0 <= self.plan_c <= 60.0:
            raise ValueError(f"plan_c must be in [-60, 60] °C, got {self.plan_c}")
        if not (self.diurnal_amplitude_k >= 0 and self.drift_sigma_k >= 0):
            raise ValueError("temperature amplitudes must be >= 0")
        if not self.drift_tau_h > 0:
            raise ValueError("drift_tau_h must be > 0")
        if not self.comfort_low_c <= self.comfort_high_c:
            raise ValueError("comfort_low_c must not exceed comfort_high_c")

    def multiplier(self, temperature_c: float) -> float:
        """Consumption at ``temperature_c`` relative to consumption in the comfort band."""
        cold = self.cold_per_k * max(0.0, self.comfort_low_c - temperature_c)
        hot = self.hot_per_k * max(0.0, temperature_c - self.comfort_high_c)
        return 1.0 + cold + hot


@dataclass(frozen=True)
class Weather:
    """The simulated outside temperature over two days (one draw of the drift, seeded)."""

    settings: WeatherSettings
    seed: int | str = 0
    _knots: tuple[float, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        s = self.settings
        rng = random.Random(f"{self.seed}/weather")
        decay = math.exp(-1.0 / s.drift_tau_h)
        step = s.drift_sigma_k * math.sqrt(1.0 - decay * decay)
        x = rng.gauss(0.0, s.drift_sigma_k)
        knots = [x]
        for _ in range(48):
            x = x * decay + step * rng.gauss(0.0, 1.0)
            knots.append(x)
        object.__setattr__(self, "_knots", tuple(knots))

    def temperature_c(self, time_s: float) -> float:
        """Outside temperature at ``time_s`` (s since midnight; 0 to 48 h), °C."""
        s = self.settings
        hours = min(max(time_s / 3600.0, 0.0), 48.0)
        k = min(int(hours), 47)
        frac = hours - k
        drift = self._knots[k] * (1.0 - frac) + self._knots[k + 1] * frac
        diurnal = s.diurnal_amplitude_k * math.cos(2.0 * math.pi * (hours - s.warmest_h) / 24.0)
        return s.mean_c + diurnal + drift

    def consumption_factor(self, time_s: float) -> float:
        """Energy per leg at ``time_s`` relative to the plan's (which assumes ``plan_c``)."""
        s = self.settings
        plan_c = s.mean_c if s.plan_c is None else s.plan_c
        return s.multiplier(self.temperature_c(time_s)) / s.multiplier(plan_c)
