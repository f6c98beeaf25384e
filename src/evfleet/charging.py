"""Charging functions: how long a vehicle takes to go from one battery energy to another.

All energies are in watt-hours (Wh) of battery content and all times in seconds (s).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

_CONCAVITY_RTOL = 1e-9


@dataclass(frozen=True)
class ChargingFunction:
    """Battery energy reached as a function of charging time, starting from an empty battery.

    Two kinds:

    - ``linear``: a constant rate, ``seconds_per_wh`` seconds for every Wh charged
      (Schneider et al.'s inverse refuelling rate ``g``).
    - ``piecewise``: a concave, piecewise-linear curve through ``breakpoints`` of
      ``(energy_wh, time_s)``, starting at ``(0, 0)`` (Montoya et al.'s nonlinear charging,
      the CC-CV shape of a real charger). Charging from ``a`` to ``b`` Wh takes
      ``t(b) - t(a)`` seconds, where ``t`` is the curve's inverse.
    """

    seconds_per_wh: float | None = None
    breakpoints: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        if self.seconds_per_wh is None and not self.breakpoints:
            raise ValueError("a charging function needs seconds_per_wh or breakpoints")
        if self.seconds_per_wh is not None and self.breakpoints:
            raise ValueError("give seconds_per_wh or breakpoints, not both")
        if self.seconds_per_wh is not None and not (
            math.isfinite(self.seconds_per_wh) and self.seconds_per_wh >= 0
        ):
            raise ValueError("seconds_per_wh must be a finite number >= 0")
        if self.breakpoints:
            points = self.breakpoints
            if len(points) < 2 or points[0] != (0.0, 0.0):
                raise ValueError("breakpoints must start at (0, 0) and have at least two points")
            if not all(math.isfinite(e) and math.isfinite(t) for e, t in points):
                raise ValueError("breakpoints must be finite numbers")
            for (e0, t0), (e1, t1) in itertools.pairwise(points):
                if not (e1 > e0 and t1 > t0):
                    raise ValueError("breakpoints must be strictly increasing in energy and time")
            # Concave energy-over-time means the seconds per Wh never fall as the battery
            # fills; a tiny relative tolerance absorbs rounding from unit conversions.
            slopes = [(t1 - t0) / (e1 - e0) for (e0, t0), (e1, t1) in itertools.pairwise(points)]
            for k, (s0, s1) in enumerate(itertools.pairwise(slopes)):
                if s1 < s0 * (1.0 - _CONCAVITY_RTOL):
                    raise ValueError(
                        "breakpoints must describe a concave curve (seconds per Wh must not "
                        f"decrease): segment {k + 1} takes {s1:g} s/Wh after {s0:g} s/Wh"
                    )

    @classmethod
    def linear(cls, seconds_per_wh: float) -> ChargingFunction:
        """A constant charging rate of ``seconds_per_wh`` seconds per Wh."""
        return cls(seconds_per_wh=float(seconds_per_wh))

    @classmethod
    def from_power(cls, power_w: float) -> ChargingFunction:
        """A constant charging power in watts."""
        if power_w <= 0:
            raise ValueError("power_w must be > 0")
        return cls(seconds_per_wh=3600.0 / float(power_w))

    @classmethod
    def piecewise(cls, breakpoints: Sequence[tuple[float, float]]) -> ChargingFunction:
        """A concave curve through ``(energy_wh, time_s)`` points starting at ``(0, 0)``."""
        return cls(breakpoints=tuple((float(e), float(t)) for e, t in breakpoints))

    @property
    def is_linear(self) -> bool:
        return self.seconds_per_wh is not None

    @property
    def max_energy_wh(self) -> float:
        """Highest energy the curve reaches (infinite for a constant rate)."""
        return self.breakpoints[-1][0] if self.breakpoints else float("inf")

    def time_from_empty_s(self, energy_wh: float) -> float:
        """Seconds to charge an empty battery to ``energy_wh``."""
        if self.seconds_per_wh is not None:
            return energy_wh * self.seconds_per_wh
        points = self.breakpoints
        energies = [e for e, _ in points]
        if energy_wh <= 0.0:
            return 0.0
        if energy_wh >= energies[-1]:
            # Beyond the last breakpoint the last segment's slope continues.
            (e0, t0), (e1, t1) = points[-2], points[-1]
            return t1 + (energy_wh - e1) * (t1 - t0) / (e1 - e0)
        k = bisect.bisect_right(energies, energy_wh) - 1
        (e0, t0), (e1, t1) = points[k], points[k + 1]
        return t0 + (energy_wh - e0) * (t1 - t0) / (e1 - e0)

    def charge_time_s(self, from_wh: float, to_wh: float) -> float:
        """Seconds to charge from ``from_wh`` to ``to_wh`` (0 when ``to_wh <= from_wh``)."""
        if to_wh <= from_wh:
            return 0.0
        if self.seconds_per_wh is not None:
            return (to_wh - from_wh) * self.seconds_per_wh
        return self.time_from_empty_s(to_wh) - self.time_from_empty_s(from_wh)

    def to_dict(self) -> dict[str, object]:
        if self.seconds_per_wh is not None:
            return {"seconds_per_wh": self.seconds_per_wh}
        return {"breakpoints": [[e, t] for e, t in self.breakpoints]}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ChargingFunction:
        if "seconds_per_wh" in data:
            return cls.linear(float(data["seconds_per_wh"]))  # type: ignore[arg-type]
        points = data["breakpoints"]
        assert isinstance(points, list)
        return cls.piecewise([(float(e), float(t)) for e, t in points])
