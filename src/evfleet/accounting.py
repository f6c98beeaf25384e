"""Energy, cost and emissions accounts of a plan, per route and in total; no I/O.

Every route is taken as the independent checker (:func:`evfleet.checker.check`) recomputes it:
distances, times, the stop timeline and the energy charged come from its ``RouteReport``; this
module only prices and converts them. Units are in the field names: m, s, min, Wh, l, kg,
kg CO2e, t·km; money is in the problem's currency (the default prices are EUR, excl. VAT).

Assumptions (see docs/emissions.md):

* **Depot energy.** Each electric route ends by recharging at its depot up to the energy it
  started with (``VehicleType.start_energy_wh``), at ``Prices.depot_per_kwh`` per grid kWh.
  A route that comes back fuller than it left needs no depot energy (no credit is given).
  With an unlimited battery the depot energy is the energy used on the route's arcs.
* **Grid energy.** Battery energy ÷ ``EmissionFactors.charging_efficiency``, for charging en
  route and at the depot alike. Public chargers bill the battery-side energy at
  ``Charger.price_per_kwh`` (as the checker's cost does, and as a DC meter measures); the depot
  bills the grid-side energy (its meter is upstream of the charger).
* **Diesel.** ``VehicleType.fuel_l_per_m`` × distance, at ``Prices.diesel_per_l``.
* **Costs.** fixed cost per used vehicle, ``cost_per_m`` × distance, ``cost_per_s`` × duration
  (driver time, waiting included), energy, diesel, and carbon = price per tonne × WTW tonnes.
  If a problem's ``cost_per_m`` already includes energy, energy is counted twice.
* **Parcels.** Each client is one delivery; a route's WTW and TTW emissions are allocated to
  its clients with :func:`evfleet.emissions.allocate` (default: ISO 14083 t·km on the
  shortest feasible distance, taken as ``min(distance_m[depot, client], ridden distance)``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace

from evfleet.checker import CheckReport, Kind, RouteReport, check
from evfleet.emissions import (
    DEFAULT_FACTORS,
    Allocation,
    EmissionFactors,
    Emissions,
    Shipment,
    allocate,
    diesel_emissions,
    electricity_emissions,
)
from evfleet.problem import INF, Charger, Client, Powertrain, Problem, VehicleType
from evfleet.solution import Route, Solution, Visit

DEPOT_PRICE_PER_KWH = 0.20
"""Depot electricity, EUR/kWh excl. VAT: Eurostat non-household EU average H2 2023 [P via S]
(reference §0, §5.1)."""
DIESEL_PRICE_PER_L = 1.587 / 1.2
"""Diesel, EUR/l excl. VAT ≈ 1.3225: EU-27 average 1.587 incl. taxes (EC Weekly Oil Bulletin,
25 Dec 2023 [S], reference §5.3) ÷ ≈ 1.2 VAT, as derived in reference §4.2 [D]."""
DIESEL_REFERENCE_L_PER_100KM = 10.0
"""Diesel reference van, real world, l/100 km: reference §0 suggested default (range 7–11;
DESNZ 2025 Class III van ≈ 10.8 [D], Sprinter type approval 6.8–9.7 [S])."""


@dataclass(frozen=True)
class Prices:
    """Energy prices not given by the problem (``Charger.price_per_kwh`` is).

    ``depot_per_kwh``: currency per grid kWh at the depot; ``diesel_per_l``: currency per
    litre. Defaults are EUR excl. VAT (reference §5); use the problem's currency.
    """

    depot_per_kwh: float = DEPOT_PRICE_PER_KWH
    diesel_per_l: float = DIESEL_PRICE_PER_L
    currency: str = "EUR"

    def __post_init__(self) -> None:
        for f in ("depot_per_kwh", "diesel_per_l"):
            value = getattr(self, f)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{f} must be a finite number >= 0, got {value!r}")


DEFAULT_PRICES = Prices()


@dataclass(frozen=True)
class CostBreakdown:
    """Cost by component, in the problem's currency."""

    fixed: float = 0.0
    distance: float = 0.0
    driver_time: float = 0.0
    charger_energy: float = 0.0
    depot_energy: float = 0.0
    diesel: float = 0.0
    carbon: float = 0.0

    @property
    def energy(self) -> float:
        """Charger plus depot electricity plus diesel."""
        return self.charger_energy + self.depot_energy + self.diesel

    @property
    def total(self) -> float:
        return (
            self.fixed
            + self.distance
            + self.driver_time
            + self.charger_energy
            + self.depot_energy
            + self.diesel
            + self.carbon
        )

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "total": self.total}


@dataclass(frozen=True)
class ParcelAccount:
    """One delivery (client): its activity data and allocated emissions (kg CO2e)."""

    client: int
    """Client number (0-based, in ``Problem.clients``)."""
    name: str
    route: int
    mass_kg: float
    sfd_m: float
    ridden_m: float
    activity_tkm: float
    """Mass × shortest feasible distance, in t·km (ISO 14083 transport activity)."""
    co2e_ttw_kg: float
    co2e_wtw_kg: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class RouteAccount:
    """One used route's energy, cost and emissions (units in the field names).

    ``energy_charged_wh``: battery energy charged at chargers en route; ``energy_depot_wh``:
    battery energy recharged at the depot afterwards; ``grid_energy_wh``: the grid energy for
    both (÷ charging efficiency). ``charging_stops``: charger visits that charged > 0 Wh.
    """

    route: int
    vehicle_type: int
    vehicle_name: str
    powertrain: str
    parcels: int
    load_kg: float
    distance_m: float
    driving_s: float
    service_s: float
    charging_s: float
    waiting_s: float
    duration_s: float
    charging_stops: int
    charging_min: float
    energy_charged_wh: float
    energy_depot_wh: float
    grid_energy_wh: float
    diesel_l: float
    activity_tkm: float
    cost: CostBreakdown
    co2e_ttw_kg: float
    co2e_wtw_kg: float

    @property
    def co2e_wtt_kg(self) -> float:
        return self.co2e_wtw_kg - self.co2e_ttw_kg

    @property
    def co2e_wtw_per_parcel_kg(self) -> float | None:
        """Mean WTW kg CO2e per parcel (``None`` for a route without clients)."""
        return self.co2e_wtw_kg / self.parcels if self.parcels else None

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        data["cost"] = self.cost.to_dict()
        data["co2e_wtt_kg"] = self.co2e_wtt_kg
        data["co2e_wtw_per_parcel_kg"] = self.co2e_wtw_per_parcel_kg
        return data


_SUMMED = (
    "parcels",
    "distance_m",
    "driving_s",
    "service_s",
    "charging_s",
    "waiting_s",
    "duration_s",
    "charging_stops",
    "charging_min",
    "energy_charged_wh",
    "energy_depot_wh",
    "grid_energy_wh",
    "diesel_l",
    "activity_tkm",
    "co2e_ttw_kg",
    "co2e_wtw_kg",
)


@dataclass(frozen=True)
class PlanAccount:
    """A plan's accounts: every used route, every parcel, and totals (sums over routes).

    ``data_type`` is ISO 14083's data-quality flag: the energy comes from the model, so
    ``"modelled"``. ``feasible`` / ``violations`` are the checker's verdict; infeasible
    plans are accounted as recomputed.
    """

    problem_name: str
    country: str
    grid_g_per_kwh: float
    allocation: str
    currency: str
    carbon_price_per_t: float
    feasible: bool
    violations: int
    vehicles: int
    parcels: int
    distance_m: float
    driving_s: float
    service_s: float
    charging_s: float
    waiting_s: float
    duration_s: float
    charging_stops: int
    charging_min: float
    energy_charged_wh: float
    energy_depot_wh: float
    grid_energy_wh: float
    diesel_l: float
    activity_tkm: float
    cost: CostBreakdown
    co2e_ttw_kg: float
    co2e_wtw_kg: float
    routes: tuple[RouteAccount, ...]
    parcel_accounts: tuple[ParcelAccount, ...]
    data_type: str = "modelled"

    @property
    def co2e_wtt_kg(self) -> float:
        return self.co2e_wtw_kg - self.co2e_ttw_kg

    @property
    def co2e_wtw_per_parcel_kg(self) -> float | None:
        """Mean WTW kg CO2e per parcel (``None`` without parcels)."""
        return self.co2e_wtw_kg / self.parcels if self.parcels else None

    @property
    def intensity_g_per_tkm(self) -> float | None:
        """WTW emission intensity, g CO2e per t·km on the SFD (``None`` without activity)."""
        return self.co2e_wtw_kg * 1000.0 / self.activity_tkm if self.activity_tkm > 0 else None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary (numbers, strings, lists, dicts and ``None`` only)."""
        data: dict[str, object] = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("cost", "routes", "parcel_accounts")
        }
        data["cost"] = self.cost.to_dict()
        data["co2e_wtt_kg"] = self.co2e_wtt_kg
        data["co2e_wtw_per_parcel_kg"] = self.co2e_wtw_per_parcel_kg
        data["intensity_g_per_tkm"] = self.intensity_g_per_tkm
        data["routes"] = [r.to_dict() for r in self.routes]
        data["parcels_detail"] = [p.to_dict() for p in self.parcel_accounts]
        return data


def account(
    problem: Problem,
    solution: Solution,
    *,
    factors: EmissionFactors = DEFAULT_FACTORS,
    prices: Prices = DEFAULT_PRICES,
    carbon_price_per_t: float = 0.0,
    country: str | None = None,
    allocation: Allocation = Allocation.TKM_SFD,
) -> PlanAccount:
    """Energy, cost and CO2e of ``solution`` per route and in total.

    ``carbon_price_per_t``: currency per tonne CO2e (WTW); ``country``: grid of the charging
    energy (``None``: ``factors.default_country``). Raises ``ValueError`` for a route the
    checker cannot follow (unknown vehicle type or location).
    """
    if not (math.isfinite(carbon_price_per_t) and carbon_price_per_t >= 0):
        raise ValueError("carbon_price_per_t must be a finite number >= 0")
    allocation = Allocation(allocation)
    code = factors.country_code(country)
    report = check(problem, solution)
    unfollowable = [
        v.message
        for v in report.violations
        if v.kind in (Kind.VEHICLE_TYPE.value, Kind.LOCATION.value)
    ]
    if unfollowable:
        raise ValueError("cannot account for this plan: " + "; ".join(unfollowable))

    routes: list[RouteAccount] = []
    parcels: list[ParcelAccount] = []
    for route, rep in zip(solution.routes, report.routes, strict=True):
        if not rep.used:
            continue
        ra, pa = _account_route(
            problem, route, rep, factors, prices, carbon_price_per_t, code, allocation
        )
        routes.append(ra)
        parcels.extend(pa)
    return _plan(
        problem, report, routes, parcels, factors, prices, carbon_price_per_t, code, allocation
    )


def _plan(
    problem: Problem,
    report: CheckReport,
    routes: list[RouteAccount],
    parcels: list[ParcelAccount],
    factors: EmissionFactors,
    prices: Prices,
    carbon_price_per_t: float,
    code: str,
    allocation: Allocation,
) -> PlanAccount:
    totals = {name: sum(getattr(r, name) for r in routes) for name in _SUMMED}
    return PlanAccount(
        problem_name=problem.name,
        country=code,
        grid_g_per_kwh=factors.grid_intensity_g_per_kwh(code),
        allocation=allocation.value,
        currency=prices.currency,
        carbon_price_per_t=carbon_price_per_t,
        feasible=report.feasible,
        violations=len(report.violations),
        vehicles=len(routes),
        parcels=int(totals["parcels"]),
        distance_m=float(totals["distance_m"]),
        driving_s=float(totals["driving_s"]),
        service_s=float(totals["service_s"]),
        charging_s=float(totals["charging_s"]),
        waiting_s=float(totals["waiting_s"]),
        duration_s=float(totals["duration_s"]),
        charging_stops=int(totals["charging_stops"]),
        charging_min=float(totals["charging_min"]),
        energy_charged_wh=float(totals["energy_charged_wh"]),
        energy_depot_wh=float(totals["energy_depot_wh"]),
        grid_energy_wh=float(totals["grid_energy_wh"]),
        diesel_l=float(totals["diesel_l"]),
        activity_tkm=float(totals["activity_tkm"]),
        cost=_sum_costs(r.cost for r in routes),
        co2e_ttw_kg=float(totals["co2e_ttw_kg"]),
        co2e_wtw_kg=float(totals["co2e_wtw_kg"]),
        routes=tuple(routes),
        parcel_accounts=tuple(parcels),
    )


def _sum_costs(costs: Iterable[CostBreakdown]) -> CostBreakdown:
    names = [f.name for f in fields(CostBreakdown)]
    total = dict.fromkeys(names, 0.0)
    for c in costs:
        for n in names:
            total[n] += getattr(c, n)
    return CostBreakdown(**total)


def _account_route(
    problem: Problem,
    route: Route,
    rep: RouteReport,
    factors: EmissionFactors,
    prices: Prices,
    carbon_price_per_t: float,
    country: str,
    allocation: Allocation,
) -> tuple[RouteAccount, list[ParcelAccount]]:
    vt = problem.vehicle_types[rep.vehicle_type]
    depot = vt.depot  # depots come first in the location order
    timeline = rep.timeline

    # Charging stops and charger energy cost, from the checker's timeline. A charge that is
    # not a number (the checker's inf - inf for an unlimited battery, which charges nothing
    # by its own rule) counts as 0.
    charging_stops = 0
    charger_cost = 0.0
    charged_wh = 0.0
    for visit, stop in zip(route.visits, timeline, strict=False):
        charged = stop.charged_wh if math.isfinite(stop.charged_wh) else 0.0
        if problem.is_charger(visit.location) and charged > 0.0:
            charging_stops += 1
            charged_wh += charged
            site = problem.location(visit.location)
            if isinstance(site, Charger):
                charger_cost += charged / 1000.0 * site.price_per_kwh

    # Depot energy: recharge up to the start energy (battery side).
    depot_wh = _depot_energy_wh(problem, route, rep, vt) if vt.is_electric else 0.0
    battery_wh = charged_wh + depot_wh
    grid_wh = factors.grid_energy_wh(battery_wh) if vt.is_electric else 0.0
    diesel_l = 0.0 if vt.is_electric else vt.fuel_l_per_m * rep.distance_m

    emissions: Emissions = electricity_emissions(grid_wh, factors, country) + diesel_emissions(
        diesel_l, factors
    )
    cost = CostBreakdown(
        fixed=vt.fixed_cost,
        distance=vt.cost_per_m * rep.distance_m,
        driver_time=vt.cost_per_s * rep.duration_s,
        charger_energy=charger_cost,
        depot_energy=factors.grid_energy_wh(depot_wh) / 1000.0 * prices.depot_per_kwh
        if vt.is_electric
        else 0.0,
        diesel=diesel_l * prices.diesel_per_l,
        carbon=carbon_price_per_t * emissions.wtw_kg / 1000.0,
    )

    # Parcels: ridden distance from the depot to each client along the route.
    shipments: list[Shipment] = []
    clients: list[tuple[int, str]] = []
    ridden = 0.0
    prev = depot
    for visit in route.visits:
        loc = visit.location
        ridden += float(problem.distance_m[prev, loc])
        prev = loc
        site = problem.location(loc)
        if isinstance(site, Client):
            direct = float(problem.distance_m[depot, loc])
            shipments.append(Shipment(site.demand_kg, min(direct, ridden), ridden))
            clients.append((loc - problem.num_depots, site.name))
    wtw_shares = allocate(emissions.wtw_kg, shipments, allocation)
    ttw_shares = allocate(emissions.ttw_kg, shipments, allocation)
    parcels = [
        ParcelAccount(
            client=k,
            name=name,
            route=rep.route,
            mass_kg=s.mass_kg,
            sfd_m=s.sfd_m,
            ridden_m=s.ridden_m,
            activity_tkm=s.activity_tkm(Allocation.TKM_SFD),
            co2e_ttw_kg=ttw,
            co2e_wtw_kg=wtw,
        )
        for (k, name), s, wtw, ttw in zip(clients, shipments, wtw_shares, ttw_shares, strict=True)
    ]
    ra = RouteAccount(
        route=rep.route,
        vehicle_type=rep.vehicle_type,
        vehicle_name=vt.name,
        powertrain=vt.powertrain.value,
        parcels=len(parcels),
        load_kg=rep.load_kg,
        distance_m=rep.distance_m,
        driving_s=rep.driving_s,
        service_s=rep.service_s,
        charging_s=rep.charging_s,
        waiting_s=rep.waiting_s,
        duration_s=rep.duration_s,
        charging_stops=charging_stops,
        charging_min=rep.charging_s / 60.0,
        energy_charged_wh=charged_wh,
        energy_depot_wh=depot_wh,
        grid_energy_wh=grid_wh,
        diesel_l=diesel_l,
        activity_tkm=sum(p.activity_tkm for p in parcels),
        cost=cost,
        co2e_ttw_kg=emissions.ttw_kg,
        co2e_wtw_kg=emissions.wtw_kg,
    )
    return ra, parcels


def _depot_energy_wh(problem: Problem, route: Route, rep: RouteReport, vt: VehicleType) -> float:
    """Battery Wh to recharge at the depot back to the start energy (never negative)."""
    start = vt.start_energy_wh
    if math.isfinite(start):
        final = rep.timeline[-1].energy_departure_wh if rep.timeline else start
        return max(0.0, start - final)
    # Unlimited battery: nothing is charged en route (the checker's rule), so the depot
    # restores what the arcs used, each with the load on board as the timeline records it.
    used = 0.0
    prev = vt.depot
    load = rep.load_kg
    for visit, stop in zip([*route.visits, Visit(vt.depot)], rep.timeline, strict=True):
        loc = visit.location
        used += vt.arc_energy_wh(prev, loc, float(problem.distance_m[prev, loc]), load)
        load = stop.load_kg
        prev = loc
    return max(0.0, used)


# --- The same day as an all-diesel fleet ---------------------------------------------------


def reference_diesel_van(l_per_100km: float = DIESEL_REFERENCE_L_PER_100KM) -> VehicleType:
    """A diesel reference van using ``l_per_100km`` (default: reference §0, 10 l/100 km)."""
    if not (math.isfinite(l_per_100km) and l_per_100km >= 0):
        raise ValueError("l_per_100km must be a finite number >= 0")
    return VehicleType(
        name="diesel reference van",
        powertrain=Powertrain.DIESEL,
        fuel_l_per_m=l_per_100km / 100.0 / 1000.0,
    )


def diesel_counterfactual(
    problem: Problem,
    solution: Solution,
    diesel_type: VehicleType | None = None,
    *,
    factors: EmissionFactors = DEFAULT_FACTORS,
    prices: Prices = DEFAULT_PRICES,
    carbon_price_per_t: float = 0.0,
    country: str | None = None,
    allocation: Allocation = Allocation.TKM_SFD,
) -> PlanAccount:
    """The same routes driven by diesel vans, accounted like :func:`account`.

    Every electric vehicle type becomes a diesel van with ``diesel_type``'s fuel use
    (``None``: :func:`reference_diesel_van`); its depot, shift, capacity and count stay.
    Costs (fixed, per m, per s) come from ``diesel_type`` when given, else they stay the
    type's own. Diesel types are kept as they are. Charger visits are dropped, so routes run
    depot → clients → depot in the same order and distances and times are recomputed by the
    checker (``feasible`` may differ from the electric plan's).
    """
    ref = diesel_type if diesel_type is not None else reference_diesel_van()
    types = []
    for vt in problem.vehicle_types:
        if not vt.is_electric:
            types.append(vt)
            continue
        costs = diesel_type if diesel_type is not None else vt
        types.append(
            replace(
                vt,
                name=f"{vt.name} (diesel)",
                powertrain=Powertrain.DIESEL,
                battery_wh=INF,
                initial_energy_wh=None,
                energy_wh_per_m=0.0,
                energy_model=None,
                fuel_l_per_m=ref.fuel_l_per_m,
                fixed_cost=costs.fixed_cost,
                cost_per_m=costs.cost_per_m,
                cost_per_s=costs.cost_per_s,
            )
        )
    diesel_problem = replace(problem, vehicle_types=tuple(types))
    diesel_solution = replace(
        solution,
        routes=tuple(
            replace(
                r,
                visits=tuple(v for v in r.visits if not problem.is_charger(v.location)),
            )
            for r in solution.routes
        ),
    )
    return account(
        diesel_problem,
        diesel_solution,
        factors=factors,
        prices=prices,
        carbon_price_per_t=carbon_price_per_t,
        country=country,
        allocation=allocation,
    )


def comparison(actual: PlanAccount, counterfactual: PlanAccount) -> dict[str, float]:
    """Counterfactual minus actual for the headline totals (positive: the plan saves)."""
    return {
        "co2e_wtw_kg": counterfactual.co2e_wtw_kg - actual.co2e_wtw_kg,
        "co2e_ttw_kg": counterfactual.co2e_ttw_kg - actual.co2e_ttw_kg,
        "cost_total": counterfactual.cost.total - actual.cost.total,
        "cost_energy": counterfactual.cost.energy - actual.cost.energy,
        "distance_m": counterfactual.distance_m - actual.distance_m,
        "duration_s": counterfactual.duration_s - actual.duration_s,
    }
