"""Total cost of ownership of one e-van against one diesel van over N years; no I/O.

Cash flows, in the parameters' currency (defaults: EUR excl. VAT), by year:

* year 0: purchase price − purchase subsidy (nothing when the van is leased);
* years 1..N: lease payment (if leased), energy (km × consumption × price), maintenance
  (per km), insurance (rate of the year × purchase price, as NREL T3CO does), taxes,
  urban access charges; year N also the residual value as a negative cost
  (fraction of the purchase price after N years; not for a leased van).

Present values discount year ``y`` by ``(1 + discount_rate) ** -y``. Defaults come from
``/work/shared/reference/emissions-energy-costs.md`` §4–§5 (sources in ``SOURCES``); where the
reference has a GAP (EU maintenance €/km, vehicle taxes, insurance after year 5) the
parameter is there, defaults to ``None`` (left out) and the result lists it in ``gaps``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType

from evfleet.accounting import DEPOT_PRICE_PER_KWH, DIESEL_PRICE_PER_L, DIESEL_REFERENCE_L_PER_100KM
from evfleet.problem import Powertrain

ANNUAL_KM = 22_660.0
"""km per year, urban delivery 3.5 t van: carculator_truck [R] (reference §2.2, §4.2)."""
YEARS = 6
"""Default horizon, years: CE Delft for T&E, 6-year lease-type horizon [P] (reference §4.1)."""
DISCOUNT_RATE = 0.03
"""Per year: NREL T3CO demo scenario [R] (reference §4.2)."""
RESIDUAL_VALUE_FRACTIONS: tuple[float, ...] = (
    0.81,
    0.58,
    0.51,
    0.43,
    0.39,
    0.35,
    0.27,
    0.22,
    0.21,
    0.19,
)
"""Residual value as a fraction of the purchase price after 1..10 years: NREL T3CO
``ResidualValues.csv`` [R] (reference §4.2). A US heavy-duty curve: an EU van curve is a GAP."""
INSURANCE_RATES: tuple[float, ...] = (0.030, 0.035, 0.040, 0.045, 0.048)
"""Insurance per year as a fraction of the purchase price, years 1..5: NREL T3CO demo [R]
(reference §4.2). Later years are a GAP (the last rate is held and reported)."""
EV_PURCHASE_PRICE = 55_845.0
"""Ford E-Transit van, DE 2022 list price, EUR net [S] (reference §3, §4.2)."""
EV_PRICE_PREMIUM = 0.475
"""E-van purchase premium over diesel: mid-point of +40 to +55 % (T&E 2022 [S], §3) [D]."""
DIESEL_PURCHASE_PRICE = EV_PURCHASE_PRICE / (1.0 + EV_PRICE_PREMIUM)
"""≈ 37,861 EUR net [D]: E-Transit price ÷ 1.475 (reference §3: diesel ≈ €36–45k [D])."""
EV_KWH_PER_100KM = 30.0
"""kWh per 100 km at the plug (grid side): reference §4.2 energy example [D]."""
PUBLIC_PRICE_PER_KWH = 0.63 / 1.2
"""Public DC, EUR/kWh excl. VAT ≈ 0.525: ACEA EU average 0.63 incl. VAT [S] ÷ 1.2 (§4.2) [D]."""
EV_MAINTENANCE_RATIO = 0.60
"""E-van maintenance per km as a share of diesel: −40 % (Fiat E-Ducato OEM claim [S], §4.1)."""

SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "annual_km": "22,660 km/yr, carculator_truck 3.5 t urban [R]; reference §2.2/§4.2",
        "years": "6-year horizon, CE Delft for T&E [P]; reference §4.1",
        "discount_rate": "3 %/yr, NREL T3CO demo [R]; reference §4.2",
        "residual_value_fractions": "NREL T3CO ResidualValues.csv, US heavy-duty [R]; EU van "
        "curve GAP; reference §4.2",
        "insurance_rates": "3.0/3.5/4.0/4.5/4.8 % of vehicle value, years 1–5, NREL T3CO demo "
        "[R] (T3CO applies the rate to the MSRP); reference §4.2",
        "ev.purchase_price": "Ford E-Transit DE 2022, €55,845 net [S]; reference §3",
        "diesel.purchase_price": "E-Transit price ÷ (1 + 0.475), T&E 2022 premium +40–55 % [S] "
        "mid-point [D]; reference §3",
        "ev.energy_per_100km": "30 kWh/100 km at the plug [D]; reference §4.2",
        "ev.energy_price": "depot electricity €0.20/kWh excl. VAT, Eurostat H2 2023 [P via S]; "
        "reference §5.1 (public DC €0.63 incl. VAT, ACEA [S], §5.2)",
        "diesel.energy_per_100km": "10 l/100 km, reference §0 default (DESNZ Class III ≈ 10.8)",
        "diesel.energy_price": "€1.587/l incl. taxes (EC Weekly Oil Bulletin Dec 2023 [S]) ÷ 1.2"
        " [D]; reference §4.2/§5.3",
        "maintenance_per_km": "GAP (EU €/km for vans); e-van = 0.60 × diesel, Fiat −40 % [S]; "
        "reference §4.2",
        "annual_tax": "GAP; reference §4",
        "access_charges_per_year": "0: Euro 6 diesel vans are ULEZ-compliant [S]; ICCT €2–4/day"
        " LEZ scenario [P]; reference §4.2",
        "purchase_subsidy": "0 (no subsidy); UK Plug-in Van Grant up to £5,000 [S]; §4.2",
    }
)
"""Where each default comes from."""


def blended_charging_price(
    depot_per_kwh: float = DEPOT_PRICE_PER_KWH,
    public_per_kwh: float = PUBLIC_PRICE_PER_KWH,
    public_share: float = 0.0,
) -> float:
    """Mean price per kWh when ``public_share`` of the energy is charged publicly."""
    if not 0.0 <= public_share <= 1.0:
        raise ValueError("public_share must be in [0, 1]")
    return (1.0 - public_share) * depot_per_kwh + public_share * public_per_kwh


@dataclass(frozen=True)
class VanCosts:
    """One van's cost inputs (currency of the analysis; energy unit: kWh or l).

    ``energy_per_100km`` is kWh at the plug for an e-van, litres for a diesel van, and
    ``energy_price`` the price per that unit. ``lease_per_year`` replaces the purchase and the
    residual value when given. ``None`` for maintenance or tax: unknown (a GAP), left out.
    """

    name: str
    powertrain: Powertrain
    purchase_price: float
    energy_per_100km: float
    energy_price: float
    purchase_subsidy: float = 0.0
    lease_per_year: float | None = None
    maintenance_per_km: float | None = None
    annual_tax: float | None = None
    access_charges_per_year: float = 0.0

    def __post_init__(self) -> None:
        for label in (
            "purchase_price",
            "energy_per_100km",
            "energy_price",
            "purchase_subsidy",
            "lease_per_year",
            "maintenance_per_km",
            "annual_tax",
            "access_charges_per_year",
        ):
            value = getattr(self, label)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{label} must be a finite number >= 0, got {value!r}")


DEFAULT_EV_VAN = VanCosts(
    name="large e-van (E-Transit class)",
    powertrain=Powertrain.ELECTRIC,
    purchase_price=EV_PURCHASE_PRICE,
    energy_per_100km=EV_KWH_PER_100KM,
    energy_price=DEPOT_PRICE_PER_KWH,
)
DEFAULT_DIESEL_VAN = VanCosts(
    name="large diesel van",
    powertrain=Powertrain.DIESEL,
    purchase_price=DIESEL_PURCHASE_PRICE,
    energy_per_100km=DIESEL_REFERENCE_L_PER_100KM,
    energy_price=DIESEL_PRICE_PER_L,
)


@dataclass(frozen=True)
class TcoParameters:
    """The two vans and the shared assumptions (defaults and sources: ``SOURCES``)."""

    ev: VanCosts = DEFAULT_EV_VAN
    diesel: VanCosts = DEFAULT_DIESEL_VAN
    annual_km: float = ANNUAL_KM
    discount_rate: float = DISCOUNT_RATE
    residual_value_fractions: tuple[float, ...] = RESIDUAL_VALUE_FRACTIONS
    insurance_rates: tuple[float, ...] = INSURANCE_RATES
    ev_maintenance_ratio: float = EV_MAINTENANCE_RATIO
    """E-van maintenance per km = this × the diesel van's, when the e-van's own is None."""
    sources: Mapping[str, str] = field(default_factory=lambda: SOURCES, compare=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.annual_km) and self.annual_km >= 0):
            raise ValueError("annual_km must be a finite number >= 0")
        if not (math.isfinite(self.discount_rate) and self.discount_rate > -1):
            raise ValueError("discount_rate must be a finite number > -1")
        if not (math.isfinite(self.ev_maintenance_ratio) and self.ev_maintenance_ratio >= 0):
            raise ValueError("ev_maintenance_ratio must be a finite number >= 0")
        for label, values in (
            ("residual_value_fractions", self.residual_value_fractions),
            ("insurance_rates", self.insurance_rates),
        ):
            if not all(math.isfinite(v) and v >= 0 for v in values):
                raise ValueError(f"{label} must be finite numbers >= 0")


DEFAULT_TCO_PARAMETERS = TcoParameters()


@dataclass(frozen=True)
class TcoYear:
    """One year's costs (year 0: the purchase). ``residual_value`` is a credit (≤ 0)."""

    year: int
    capital: float
    energy: float
    maintenance: float
    insurance: float
    taxes: float
    access_charges: float
    residual_value: float
    discount_factor: float

    @property
    def total(self) -> float:
        return (
            self.capital
            + self.energy
            + self.maintenance
            + self.insurance
            + self.taxes
            + self.access_charges
            + self.residual_value
        )

    @property
    def present_value(self) -> float:
        return self.total * self.discount_factor

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "total": self.total, "present_value": self.present_value}


@dataclass(frozen=True)
class TcoResult:
    """One van's TCO: the yearly rows, totals, cost per km and the gaps left out."""

    name: str
    powertrain: str
    years: tuple[TcoYear, ...]
    km: float
    gaps: tuple[str, ...]

    @property
    def total(self) -> float:
        """Undiscounted sum of all years."""
        return math.fsum(y.total for y in self.years)

    @property
    def present_value(self) -> float:
        """Discounted sum of all years."""
        return math.fsum(y.present_value for y in self.years)

    @property
    def cost_per_km(self) -> float | None:
        """Undiscounted total per km driven (``None`` with no km)."""
        return self.total / self.km if self.km > 0 else None

    def component(self, name: str) -> float:
        """Undiscounted sum of one component (``"energy"``, ``"insurance"``, ...)."""
        return math.fsum(getattr(y, name) for y in self.years)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "powertrain": self.powertrain,
            "km": self.km,
            "total": self.total,
            "present_value": self.present_value,
            "cost_per_km": self.cost_per_km,
            "gaps": list(self.gaps),
            "years": [y.to_dict() for y in self.years],
        }


@dataclass(frozen=True)
class TcoComparison:
    """The e-van's and the diesel van's TCO over the same horizon."""

    electric: TcoResult
    diesel: TcoResult

    @property
    def difference(self) -> float:
        """E-van minus diesel, undiscounted (negative: the e-van is cheaper)."""
        return self.electric.total - self.diesel.total

    @property
    def difference_present_value(self) -> float:
        """E-van minus diesel, discounted."""
        return self.electric.present_value - self.diesel.present_value

    def to_dict(self) -> dict[str, object]:
        return {
            "electric": self.electric.to_dict(),
            "diesel": self.diesel.to_dict(),
            "difference": self.difference,
            "difference_present_value": self.difference_present_value,
        }


def tco(
    van: VanCosts,
    years: int = YEARS,
    params: TcoParameters = DEFAULT_TCO_PARAMETERS,
    *,
    maintenance_per_km: float | None = None,
) -> TcoResult:
    """One van's TCO over ``years`` years (``maintenance_per_km`` overrides the van's own)."""
    if isinstance(years, bool) or not isinstance(years, int) or years < 1:
        raise ValueError("years must be an integer >= 1")
    leased = van.lease_per_year is not None
    if not leased and years > len(params.residual_value_fractions):
        raise ValueError(
            f"no residual value after {years} years (the curve covers "
            f"{len(params.residual_value_fractions)}); pass a longer residual_value_fractions"
        )
    gaps: list[str] = []
    maintenance = van.maintenance_per_km if maintenance_per_km is None else maintenance_per_km
    if maintenance is None:
        gaps.append("maintenance: no sourced EU €/km for vans (left out)")
        maintenance = 0.0
    if van.annual_tax is None:
        gaps.append("taxes: no sourced value (left out)")
    if 0 < len(params.insurance_rates) < years:
        gaps.append(
            f"insurance after year {len(params.insurance_rates)}: no sourced rate "
            "(the last rate is held)"
        )
    energy_per_year = params.annual_km * van.energy_per_100km / 100.0 * van.energy_price
    rows = [
        TcoYear(
            year=0,
            capital=0.0 if leased else van.purchase_price - van.purchase_subsidy,
            energy=0.0,
            maintenance=0.0,
            insurance=0.0,
            taxes=0.0,
            access_charges=0.0,
            residual_value=0.0,
            discount_factor=1.0,
        )
    ]
    for y in range(1, years + 1):
        rates = params.insurance_rates
        rate = rates[min(y, len(rates)) - 1] if rates else 0.0
        residual = 0.0
        if y == years and not leased:
            residual = -params.residual_value_fractions[years - 1] * van.purchase_price
        rows.append(
            TcoYear(
                year=y,
                capital=van.lease_per_year if van.lease_per_year is not None else 0.0,
                energy=energy_per_year,
                maintenance=maintenance * params.annual_km,
                insurance=rate * van.purchase_price,
                taxes=van.annual_tax or 0.0,
                access_charges=van.access_charges_per_year,
                residual_value=residual,
                discount_factor=(1.0 + params.discount_rate) ** -y,
            )
        )
    return TcoResult(
        name=van.name,
        powertrain=van.powertrain.value,
        years=tuple(rows),
        km=params.annual_km * years,
        gaps=tuple(gaps),
    )


def tco_comparison(
    params: TcoParameters = DEFAULT_TCO_PARAMETERS, years: int = YEARS
) -> TcoComparison:
    """The e-van against the diesel van over ``years`` years.

    Without its own maintenance figure the e-van gets ``ev_maintenance_ratio`` × the diesel
    van's (when that is known).
    """
    ev_maintenance = params.ev.maintenance_per_km
    if ev_maintenance is None and params.diesel.maintenance_per_km is not None:
        ev_maintenance = params.ev_maintenance_ratio * params.diesel.maintenance_per_km
    return TcoComparison(
        electric=tco(params.ev, years, params, maintenance_per_km=ev_maintenance),
        diesel=tco(params.diesel, years, params),
    )
