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


# --- CC-CV curves and charging losses -----------------------------------------------------------

DEFAULT_CHARGING_EFFICIENCY = 0.85
"""Battery energy gained per unit of grid energy drawn (0.85: carculator_truck 3.5 t class,
citing Cox et al. 2020; FASTSim's PEV charger default ``chg_eff`` is 0.86. Reference
``emissions-energy-costs.md`` §0 and §2.2, [R])."""

MONTOYA_TAPER_START_FRACTION = 0.85
"""State of charge where Montoya et al.'s benchmark curves leave constant power (§2.6)."""


def grid_energy_wh(
    battery_energy_wh: float, charging_efficiency: float = DEFAULT_CHARGING_EFFICIENCY
) -> float:
    """Grid energy to put ``battery_energy_wh`` into the battery: battery / efficiency, Wh.

    Where a price per kWh applies: charging functions, routes and the energy model count
    **battery** energy; a tariff bills **metered** energy. At a depot the utility meter sits
    on the grid side, so the depot price applies to this grid energy (charger and battery
    charging losses included, reference §2.1 ``E_grid = E_batt / η_charge``). A public
    charger bills what its own meter records; for a DC charger that meter sits at the
    charger's output, so part of the loss is not billed. The reference gives no split of
    the loss between charger and vehicle (a gap), so using the same efficiency for public
    charging slightly overstates the billed energy.
    """
    if not (math.isfinite(charging_efficiency) and 0.0 < charging_efficiency <= 1.0):
        raise ValueError("charging_efficiency must be in (0, 1]")
    return battery_energy_wh / charging_efficiency


def cc_cv_curve(
    battery_wh: float,
    charger_power_w: float,
    vehicle_max_power_w: float = math.inf,
    *,
    taper_start_fraction: float = 0.8,
    mid_power_fraction: float = 0.5,
    end_power_fraction: float = 0.15,
    taper_split_fraction: float = 2.0 / 3.0,
) -> ChargingFunction:
    """A concave piecewise CC-CV charging function for a ``battery_wh`` (usable) battery.

    Constant power ``P = min(charger_power_w, vehicle_max_power_w)`` from empty to
    ``taper_start_fraction`` of the battery (the constant-current phase), then the
    constant-voltage taper as two linear segments of falling power: ``mid_power_fraction·P``
    for the first ``taper_split_fraction`` of the remaining energy, ``end_power_fraction·P``
    for the rest, up to full.

    The taper shape is that of Montoya et al.'s benchmark curves (reference §2.6): constant
    power to 85 %, about half power from 85 to 95 %, about 15 % of peak from 95 to 100 %
    (measured segment ratios 0.46–0.53 and 0.15). With ``taper_start_fraction=0.85`` the
    defaults reproduce those curves to within 3 %. The default taper start of 0.8 keeps
    the usual 10→80 % quote a pure constant-power phase.

    Real DC curves sag before 80 %: OEM quotes imply average powers well below the peak
    (E-Transit 15→80 % in 34 min at 115 kW peak ≈ 78 kW; eSprinter 56 kWh 10→80 % in
    28 min ≈ 84 kW, §2.6). To match such a quote, pass that average as
    ``vehicle_max_power_w`` (the catalogue's ``dc_sustained_power_w``). For AC charging far
    below the battery's limit the taper is shorter in reality; a later
    ``taper_start_fraction`` (e.g. 0.95) is closer there.
    """
    values = {
        "battery_wh": battery_wh,
        "charger_power_w": charger_power_w,
    }
    for name, value in values.items():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0")
    if not vehicle_max_power_w > 0:
        raise ValueError("vehicle_max_power_w must be > 0")
    if not 0.0 < taper_start_fraction <= 1.0:
        raise ValueError("taper_start_fraction must be in (0, 1]")
    if not 0.0 < end_power_fraction <= mid_power_fraction <= 1.0:
        raise ValueError("need 0 < end_power_fraction <= mid_power_fraction <= 1")
    if not 0.0 <= taper_split_fraction <= 1.0:
        raise ValueError("taper_split_fraction must be in [0, 1]")
    power_w = min(charger_power_w, vehicle_max_power_w)
    cc_end = taper_start_fraction * battery_wh
    mid_end = cc_end + taper_split_fraction * (battery_wh - cc_end)
    segments = (
        (cc_end, power_w),
        (mid_end, mid_power_fraction * power_w),
        (battery_wh, end_power_fraction * power_w),
    )
    points = [(0.0, 0.0)]
    for energy_wh, segment_power_w in segments:
        e0, t0 = points[-1]
        if energy_wh - e0 <= battery_wh * 1e-12:
            continue
        points.append((energy_wh, t0 + (energy_wh - e0) * 3600.0 / segment_power_w))
    return ChargingFunction.piecewise(points)
