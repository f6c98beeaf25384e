"""Greenhouse-gas emissions of energy use and their allocation to shipments (ISO 14083 / GLEC).

Pure functions on plain numbers; no I/O. Units: energy in Wh, fuel in litres (l), emission
factors in kg CO2e per litre and g CO2e per kWh, emissions in kg CO2e, masses in kg,
distances in m, transport activity in tonne-kilometres (t·km).

Method (ISO 14083:2023, GLEC Framework v3): emissions are reported **well-to-wheel**
(WTW = well-to-tank WTT + tank-to-wheel TTW); WTW is mandatory. For a battery-electric van
TTW is zero and WTW is the grid electricity drawn (battery energy divided by the charging
efficiency) times the grid intensity. For a diesel van TTW and WTW are the litres burnt
times the per-litre factors. A transport operation category's emissions are then allocated
to shipments pro rata by t·km on the **shortest feasible distance** (SFD), not on the driven
multi-drop distance (``Allocation.TKM_SFD``, the default here); ``Allocation.TKM_ROUTE``
(mass × distance actually ridden on the vehicle) and ``Allocation.PER_PARCEL`` (equal split)
are offered as alternatives and are not ISO 14083 conformant.

Every default number comes from ``/work/shared/reference/emissions-energy-costs.md`` (the
"reference"); ``SOURCES`` names the source of each field of :class:`EmissionFactors`. Where the
reference has a GAP the parameter exists but defaults to "no effect" and docs/emissions.md
says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

# --- Default factors, each with its source (reference §0, §1.2, §1.3, §2.2) -----------------

DIESEL_TTW_KG_PER_L = 2.66155
"""Diesel, 100 % mineral, tank-to-wheel, kg CO2e/l: UK DESNZ 2025 conversion factors [R→P]
(reference §1.2)."""
DIESEL_WTT_KG_PER_L = 0.62409
"""Diesel, 100 % mineral, well-to-tank, kg CO2e/l: UK DESNZ 2025 [R→P] (reference §1.2)."""
DIESEL_WTW_KG_PER_L = DIESEL_TTW_KG_PER_L + DIESEL_WTT_KG_PER_L
"""Diesel WTW = TTW + WTT = 3.28564 kg CO2e/l [D] (reference §1.2: "3.2856")."""

EN16258_DIESEL_TTW_KG_PER_L = 2.67
"""Fossil diesel TTW per EN 16258 defaults, kg CO2e/l: DKV fleet calculator [S] (§1.2)."""
EN16258_DIESEL_WTW_KG_PER_L = 3.17
"""Fossil diesel WTW per EN 16258 defaults, kg CO2e/l: DKV fleet calculator [S] (§1.2)."""

CHARGING_EFFICIENCY = 0.85
"""Grid → battery efficiency: carculator_truck 3.5 t class, citing Cox et al. 2020 [R]
(reference §0, §2.2; FASTSim's ``chg_eff`` is 0.86)."""

GRID_UPSTREAM_SHARE = 0.0
"""Share added to the grid intensity for upstream (WTT) emissions and T&D losses. GAP: the
reference gives it for the UK only (DESNZ 2025: (0.01853 + 0.0459 + 0.00397) / 0.177 ≈ 0.386
on top of generation, §1.3); no general value, so the default adds nothing."""

GRID_EMBER_2024_G_PER_KWH: Mapping[str, float] = MappingProxyType(
    {
        "DE": 342.0,
        "FR": 44.0,
        "NL": 253.0,
        "BE": 118.0,
        "ES": 146.0,
        "IT": 288.0,
        "PL": 615.0,
        "GB": 216.0,
        "SE": 36.0,
        "AT": 103.0,
        "DK": 143.0,
        "IE": 280.0,
        "PT": 112.0,
        "CZ": 414.0,
        "CN": 558.0,
        "EU27": 213.0,
        "WORLD": 473.0,
    }
)
"""Grid intensity by country, g CO2e/kWh: Ember yearly country overview 2024
(generation-based), as packaged in ``thegreenwebfoundation/co2.js`` commit 27cbe83 [R]
(reference §1.3)."""

GRID_ELECTRICITY_MAPS_2024_G_PER_KWH: Mapping[str, float] = MappingProxyType(
    {
        "DE": 341.0,
        "FR": 33.0,
        "NL": 251.0,
        "BE": 153.0,
        "ES": 129.0,
        "IT": 267.0,
        "PL": 581.0,
        "GB": 175.0,
        "SE": 23.0,
        "AT": 119.0,
        "DK": 136.0,
        "IE": 352.0,
        "PT": 100.0,
        "CZ": 447.0,
        "CN": 513.0,
    }
)
"""Grid intensity by country, g CO2e/kWh: Electricity Maps yearly lifecycle intensity 2024
(imports accounted for; methodology unverified), via ``co2.js`` commit 27cbe83 [R] (§1.3).
An alternative to the default Ember series."""

DEFAULT_COUNTRY = "EU27"
"""The grid used when no country is named: the EU-27 average (scope of the reference)."""

SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "diesel_ttw_kg_per_l": "UK DESNZ 2025 GHG conversion factors, diesel (100% mineral), "
        "2.66155 kg CO2e/l [R→P]; reference §1.2",
        "diesel_wtw_kg_per_l": "UK DESNZ 2025, diesel (100% mineral) TTW 2.66155 + WTT 0.62409 "
        "= 3.28564 kg CO2e/l [D]; reference §1.2",
        "grid_g_per_kwh": "Ember yearly country overview 2024 (generation-based), via "
        "thegreenwebfoundation/co2.js 27cbe83 [R]; reference §1.3",
        "default_country": "EU-27 average (Ember 2024: 213 g CO2e/kWh); reference §1.3",
        "grid_upstream_share": "GAP: no general upstream/T&D uplift in the reference (UK DESNZ "
        "2025 only, ≈ 0.386 [D]); default 0 adds nothing; reference §1.3",
        "charging_efficiency": "carculator_truck 3.5 t class, 0.85 (Cox et al. 2020) [R]; "
        "FASTSim chg_eff 0.86 [R]; reference §0, §2.2",
    }
)
"""Where each default of :class:`EmissionFactors` comes from."""


@dataclass(frozen=True)
class EmissionFactors:
    """Emission factors and the charging efficiency (defaults and sources: ``SOURCES``).

    ``diesel_ttw_kg_per_l`` / ``diesel_wtw_kg_per_l``: kg CO2e per litre of diesel.
    ``grid_g_per_kwh``: generation intensity in g CO2e per kWh by country code;
    ``default_country`` is used when none is named. ``grid_upstream_share``: fraction added
    on top of the grid intensity for upstream and T&D losses (GAP, default 0).
    ``charging_efficiency``: battery energy gained per grid energy drawn (0 < η ≤ 1).
    """

    diesel_ttw_kg_per_l: float = DIESEL_TTW_KG_PER_L
    diesel_wtw_kg_per_l: float = DIESEL_WTW_KG_PER_L
    grid_g_per_kwh: Mapping[str, float] = field(
        default_factory=lambda: GRID_EMBER_2024_G_PER_KWH, hash=False
    )
    default_country: str = DEFAULT_COUNTRY
    grid_upstream_share: float = GRID_UPSTREAM_SHARE
    charging_efficiency: float = CHARGING_EFFICIENCY

    def __post_init__(self) -> None:
        grid = {str(k).upper(): float(v) for k, v in self.grid_g_per_kwh.items()}
        object.__setattr__(self, "grid_g_per_kwh", MappingProxyType(grid))
        object.__setattr__(self, "default_country", self.default_country.upper())
        for label, value in (
            ("diesel_ttw_kg_per_l", self.diesel_ttw_kg_per_l),
            ("diesel_wtw_kg_per_l", self.diesel_wtw_kg_per_l),
            ("grid_upstream_share", self.grid_upstream_share),
            *((f"grid_g_per_kwh[{k!r}]", v) for k, v in grid.items()),
        ):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{label} must be a finite number >= 0, got {value!r}")
        if self.diesel_wtw_kg_per_l < self.diesel_ttw_kg_per_l:
            raise ValueError("diesel_wtw_kg_per_l must be >= diesel_ttw_kg_per_l (WTW ⊇ TTW)")
        if not (math.isfinite(self.charging_efficiency) and 0 < self.charging_efficiency <= 1):
            raise ValueError("charging_efficiency must be in (0, 1]")
        if self.default_country not in grid:
            raise ValueError(f"default_country {self.default_country!r} has no grid intensity")

    @classmethod
    def en16258(cls) -> EmissionFactors:
        """The EN 16258 fossil-diesel defaults (2.67 / 3.17 kg CO2e/l, DKV [S]), same grid."""
        return cls(
            diesel_ttw_kg_per_l=EN16258_DIESEL_TTW_KG_PER_L,
            diesel_wtw_kg_per_l=EN16258_DIESEL_WTW_KG_PER_L,
        )

    def country_code(self, country: str | None = None) -> str:
        """The country code used for ``country`` (``None``: ``default_country``)."""
        code = self.default_country if country is None else country.upper()
        if code not in self.grid_g_per_kwh:
            known = ", ".join(sorted(self.grid_g_per_kwh))
            raise ValueError(f"no grid intensity for country {country!r} (known: {known})")
        return code

    def grid_intensity_g_per_kwh(self, country: str | None = None) -> float:
        """WTW grid intensity at the charge point, g CO2e per grid kWh (with the uplift)."""
        return self.grid_g_per_kwh[self.country_code(country)] * (1.0 + self.grid_upstream_share)

    def grid_energy_wh(self, battery_wh: float) -> float:
        """Grid energy drawn to put ``battery_wh`` into the battery, in Wh."""
        return battery_wh / self.charging_efficiency


DEFAULT_FACTORS = EmissionFactors()
"""The default factors (DESNZ 2025 diesel, Ember 2024 grid, EU-27, η = 0.85)."""


@dataclass(frozen=True)
class Emissions:
    """Emissions in kg CO2e: tank-to-wheel and well-to-wheel (WTT = WTW − TTW)."""

    ttw_kg: float = 0.0
    wtw_kg: float = 0.0

    @property
    def wtt_kg(self) -> float:
        """Well-to-tank (upstream) emissions, kg CO2e."""
        return self.wtw_kg - self.ttw_kg

    def __add__(self, other: Emissions) -> Emissions:
        return Emissions(self.ttw_kg + other.ttw_kg, self.wtw_kg + other.wtw_kg)


def electricity_emissions(
    grid_wh: float, factors: EmissionFactors = DEFAULT_FACTORS, country: str | None = None
) -> Emissions:
    """Emissions of ``grid_wh`` Wh from the grid: TTW 0 (BEV, ISO 14083), WTW = kWh × g/kWh."""
    _check_amount("grid_wh", grid_wh)
    return Emissions(0.0, grid_wh / 1000.0 * factors.grid_intensity_g_per_kwh(country) / 1000.0)


def diesel_emissions(litres: float, factors: EmissionFactors = DEFAULT_FACTORS) -> Emissions:
    """Emissions of burning ``litres`` l of diesel: TTW and WTW per litre, in kg CO2e."""
    _check_amount("litres", litres)
    return Emissions(litres * factors.diesel_ttw_kg_per_l, litres * factors.diesel_wtw_kg_per_l)


def energy_emissions(
    *,
    grid_wh: float = 0.0,
    diesel_l: float = 0.0,
    factors: EmissionFactors = DEFAULT_FACTORS,
    country: str | None = None,
) -> Emissions:
    """Emissions of ``grid_wh`` Wh of grid electricity plus ``diesel_l`` l of diesel (kg CO2e)."""
    return electricity_emissions(grid_wh, factors, country) + diesel_emissions(diesel_l, factors)


def _check_amount(label: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{label} must be a finite number >= 0, got {value!r}")


# --- Allocation to shipments --------------------------------------------------------------


class Allocation(StrEnum):
    """How a tour's emissions are shared among its shipments (parcels)."""

    TKM_SFD = "tkm-sfd"
    """ISO 14083 / GLEC: pro rata by mass × shortest feasible distance (t·km on SFD)."""
    TKM_ROUTE = "tkm-route"
    """Pro rata by mass × distance ridden on the vehicle (not ISO 14083 conformant)."""
    PER_PARCEL = "per-parcel"
    """An equal share per parcel (not ISO 14083 conformant)."""


@dataclass(frozen=True)
class Shipment:
    """One shipment's activity data: mass in kg, shortest feasible and ridden distance in m."""

    mass_kg: float
    sfd_m: float
    ridden_m: float

    def activity_tkm(self, method: Allocation = Allocation.TKM_SFD) -> float:
        """The allocation weight: t·km on the SFD or the ridden distance; 1 per parcel."""
        if method is Allocation.PER_PARCEL:
            return 1.0
        distance_m = self.sfd_m if method is Allocation.TKM_SFD else self.ridden_m
        return self.mass_kg / 1000.0 * distance_m / 1000.0


def allocate(
    total_kg: float, shipments: Sequence[Shipment], method: Allocation = Allocation.TKM_SFD
) -> list[float]:
    """Splits ``total_kg`` among ``shipments`` pro rata by their activity under ``method``.

    The shares are >= 0 and add up to ``total_kg`` (up to rounding). When every weight is
    zero (massless parcels, or all at zero distance) the split falls back to equal shares.
    No shipments: an empty list (the total stays unallocated).
    """
    method = Allocation(method)
    _check_amount("total_kg", total_kg)
    for s in shipments:
        for label, value in (("mass_kg", s.mass_kg), ("sfd_m", s.sfd_m), ("ridden_m", s.ridden_m)):
            _check_amount(label, value)
    if not shipments:
        return []
    weights = [s.activity_tkm(method) for s in shipments]
    weight_sum = math.fsum(weights)
    if weight_sum <= 0.0:
        return [total_kg / len(shipments)] * len(shipments)
    return [total_kg * w / weight_sum for w in weights]
