"""Plan accounts (energy, cost, CO2e) against arithmetic written out by hand."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evfleet import Metric, Model, Problem, Route, Solution, Visit
from evfleet.accounting import (
    DIESEL_PRICE_PER_L,
    PlanAccount,
    Prices,
    account,
    comparison,
    diesel_counterfactual,
    reference_diesel_van,
)
from evfleet.emissions import Allocation, EmissionFactors
from evfleet.problem import Powertrain

REL = 1e-9
DIESEL_TTW = 2.66155  # kg CO2e/l, DESNZ 2025
DIESEL_WTW = 2.66155 + 0.62409
ETA = 0.85


def tiny() -> Problem:
    """Depot D(0,0); clients C0(3000,0) 200 kg, C1(3000,4000) 100 kg, C2(0,-4000) 50 kg;
    charger S0(0,4000) at 50 kW and 0.5/kWh. Speed 10 m/s. An e-van (3 kWh, 0.25 Wh/m) and
    a diesel van (0.1 l/km)."""
    m = Model("tiny")
    m.set_metric(Metric(speed_m_per_s=10.0))
    m.add_depot(0, 0)
    m.add_client(3000, 0, demand_kg=200, service_s=300)
    m.add_client(3000, 4000, demand_kg=100, service_s=300)
    m.add_client(0, -4000, demand_kg=50, service_s=120)
    m.add_charger(0, 4000, power_w=50_000, price_per_kwh=0.5)
    m.add_vehicle_type(
        name="ev",
        battery_wh=3000,
        energy_wh_per_m=0.25,
        fixed_cost=50,
        cost_per_m=0.0001,
        cost_per_s=0.01,
    )
    m.add_vehicle_type(
        name="diesel",
        powertrain="diesel",
        fuel_l_per_m=1e-4,
        fixed_cost=40,
        cost_per_m=0.0002,
        cost_per_s=0.01,
    )
    return m.data()


# Location indices: depot 0, clients 1-3, charger 4.
PLAN = Solution(
    routes=(
        Route(0, (Visit(1), Visit(2), Visit(4))),  # e-van: D→C0→C1→S0→D
        Route(1, (Visit(3),)),  # diesel: D→C2→D
        Route(0, ()),  # unused
    )
)


def test_two_route_plan_by_hand() -> None:
    problem = tiny()
    prices = Prices(depot_per_kwh=0.2, diesel_per_l=1.5)
    acc = account(problem, PLAN, prices=prices, carbon_price_per_t=100.0, country="DE")
    assert acc.feasible
    assert acc.vehicles == 2
    ev, di = acc.routes
    assert (ev.route, di.route) == (0, 1)

    # E-van: 3000 + 4000 + 3000 + 4000 = 14000 m; 1400 s driving; 2 × 300 s service.
    assert ev.distance_m == pytest.approx(14_000.0, rel=REL)
    assert ev.driving_s == pytest.approx(1400.0, rel=REL)
    assert ev.service_s == pytest.approx(600.0, rel=REL)
    # Arrives at S0 after 10000 m with 3000 - 2500 = 500 Wh, fills to 3000: 2500 Wh charged
    # at 50 kW = 2500 × 3600 / 50000 = 180 s.
    assert ev.energy_charged_wh == pytest.approx(2500.0, rel=REL)
    assert ev.charging_s == pytest.approx(180.0, rel=REL)
    assert ev.charging_min == pytest.approx(3.0, rel=REL)
    assert ev.charging_stops == 1
    assert ev.duration_s == pytest.approx(1400.0 + 600.0 + 180.0, rel=REL)
    # Back at the depot with 3000 - 1000 = 2000 Wh: the depot restores 1000 Wh.
    assert ev.energy_depot_wh == pytest.approx(1000.0, rel=REL)
    grid_wh = (2500.0 + 1000.0) / ETA
    assert ev.grid_energy_wh == pytest.approx(grid_wh, rel=REL)
    assert ev.diesel_l == 0.0
    ev_wtw = grid_wh / 1000.0 * 342.0 / 1000.0
    assert ev.co2e_ttw_kg == 0.0
    assert ev.co2e_wtw_kg == pytest.approx(ev_wtw, rel=REL)
    c = ev.cost
    assert c.fixed == pytest.approx(50.0, rel=REL)
    assert c.distance == pytest.approx(0.0001 * 14_000.0, rel=REL)
    assert c.driver_time == pytest.approx(0.01 * 2180.0, rel=REL)
    assert c.charger_energy == pytest.approx(2.5 * 0.5, rel=REL)
    assert c.depot_energy == pytest.approx(1000.0 / ETA / 1000.0 * 0.2, rel=REL)
    assert c.diesel == 0.0
    assert c.carbon == pytest.approx(100.0 * ev_wtw / 1000.0, rel=REL)
    assert c.total == pytest.approx(
        50.0 + 1.4 + 21.8 + 1.25 + 1000.0 / ETA / 1000.0 * 0.2 + 0.1 * ev_wtw, rel=REL
    )

    # Diesel: 8000 m, 800 s + 120 s; 0.8 l.
    assert di.distance_m == pytest.approx(8000.0, rel=REL)
    assert di.duration_s == pytest.approx(920.0, rel=REL)
    assert di.diesel_l == pytest.approx(0.8, rel=REL)
    assert di.grid_energy_wh == 0.0 and di.energy_depot_wh == 0.0
    assert di.co2e_ttw_kg == pytest.approx(0.8 * DIESEL_TTW, rel=REL)
    assert di.co2e_wtw_kg == pytest.approx(0.8 * DIESEL_WTW, rel=REL)
    assert di.cost.diesel == pytest.approx(0.8 * 1.5, rel=REL)
    assert di.cost.distance == pytest.approx(1.6, rel=REL)
    assert di.cost.driver_time == pytest.approx(9.2, rel=REL)
    assert di.cost.carbon == pytest.approx(100.0 * 0.8 * DIESEL_WTW / 1000.0, rel=REL)

    # Totals.
    assert acc.distance_m == pytest.approx(22_000.0, rel=REL)
    assert acc.co2e_wtw_kg == pytest.approx(ev_wtw + 0.8 * DIESEL_WTW, rel=REL)
    assert acc.co2e_ttw_kg == pytest.approx(0.8 * DIESEL_TTW, rel=REL)
    assert acc.cost.total == pytest.approx(ev.cost.total + di.cost.total, rel=REL)
    # The checker's cost is fixed + per m + per s + charger energy.
    assert acc.parcels == 3
    assert acc.co2e_wtw_per_parcel_kg == pytest.approx(acc.co2e_wtw_kg / 3, rel=REL)


def test_parcels_get_iso_14083_shares() -> None:
    acc = account(tiny(), PLAN, country="DE")
    ev_wtw = acc.routes[0].co2e_wtw_kg
    c0, c1, c2 = acc.parcel_accounts
    assert (c0.client, c1.client, c2.client) == (0, 1, 2)
    assert c0.name == tiny().clients[0].name
    # SFD: C0 3 km, C1 5 km (direct, shorter than the 7 km ridden). 0.6 and 0.5 t·km.
    assert (c1.sfd_m, c1.ridden_m) == (pytest.approx(5000.0), pytest.approx(7000.0))
    assert c0.activity_tkm == pytest.approx(0.6, rel=REL)
    assert c1.activity_tkm == pytest.approx(0.5, rel=REL)
    assert c0.co2e_wtw_kg == pytest.approx(ev_wtw * 6 / 11, rel=REL)
    assert c1.co2e_wtw_kg == pytest.approx(ev_wtw * 5 / 11, rel=REL)
    assert c0.co2e_wtw_kg + c1.co2e_wtw_kg == pytest.approx(ev_wtw, rel=REL)
    # The diesel route's only parcel carries the whole route.
    assert c2.co2e_wtw_kg == pytest.approx(0.8 * DIESEL_WTW, rel=REL)
    assert c2.co2e_ttw_kg == pytest.approx(0.8 * DIESEL_TTW, rel=REL)
    # 0.05 t × 4 km = 0.2 t·km; intensity = WTW / t·km.
    assert acc.activity_tkm == pytest.approx(0.6 + 0.5 + 0.2, rel=REL)
    assert acc.intensity_g_per_tkm == pytest.approx(acc.co2e_wtw_kg * 1000 / 1.3, rel=REL)

    route = account(tiny(), PLAN, country="DE", allocation=Allocation.TKM_ROUTE)
    assert route.parcel_accounts[0].co2e_wtw_kg == pytest.approx(ev_wtw * 6 / 13, rel=REL)
    equal = account(tiny(), PLAN, country="DE", allocation=Allocation.PER_PARCEL)
    assert equal.parcel_accounts[1].co2e_wtw_kg == pytest.approx(ev_wtw / 2, rel=REL)
    assert equal.allocation == "per-parcel"


def test_diesel_counterfactual_drops_charger_detours() -> None:
    problem = tiny()
    cf = diesel_counterfactual(problem, PLAN, country="DE")
    ev, di = cf.routes
    # D→C0→C1→D = 3000 + 4000 + 5000 m at the reference 10 l/100 km.
    assert ev.powertrain == "diesel" and ev.vehicle_name == "ev (diesel)"
    assert ev.distance_m == pytest.approx(12_000.0, rel=REL)
    assert ev.diesel_l == pytest.approx(1.2, rel=REL)
    assert ev.charging_stops == 0 and ev.energy_charged_wh == 0.0
    assert ev.duration_s == pytest.approx(1200.0 + 600.0, rel=REL)
    assert ev.cost.diesel == pytest.approx(1.2 * DIESEL_PRICE_PER_L, rel=REL)
    assert ev.cost.fixed == 50.0  # the type's own costs stay
    # The diesel route is unchanged.
    assert di.diesel_l == pytest.approx(0.8, rel=REL)
    assert cf.co2e_wtw_kg == pytest.approx((1.2 + 0.8) * DIESEL_WTW, rel=REL)

    actual_de = account(problem, PLAN, country="DE")
    actual_fr = account(problem, PLAN, country="FR")
    ev_de = 3500.0 / ETA / 1000.0 * 0.342
    ev_fr = 3500.0 / ETA / 1000.0 * 0.044
    assert actual_de.routes[0].co2e_wtw_kg == pytest.approx(ev_de, rel=REL)
    assert actual_fr.routes[0].co2e_wtw_kg == pytest.approx(ev_fr, rel=REL)
    # DE: 1.2 l × 3.28564 = 3.943 kg diesel vs 1.408 kg electric; FR: 0.181 kg electric.
    assert cf.routes[0].co2e_wtw_kg == pytest.approx(3.942768, rel=1e-6)
    assert ev_de == pytest.approx(1.408235, rel=1e-6)
    assert ev_fr == pytest.approx(0.1811765, rel=1e-6)
    for actual in (actual_de, actual_fr):
        assert cf.co2e_wtw_kg >= actual.co2e_wtw_kg
    saved = comparison(actual_fr, cf)
    assert saved["co2e_wtw_kg"] == pytest.approx(1.2 * DIESEL_WTW - ev_fr, rel=REL)
    assert saved["distance_m"] == pytest.approx(-2000.0, rel=REL)

    # An explicit diesel type: its consumption and costs.
    van = replace(reference_diesel_van(8.0), fixed_cost=30.0, cost_per_s=0.02)
    cf8 = diesel_counterfactual(problem, PLAN, van)
    assert cf8.routes[0].diesel_l == pytest.approx(0.96, rel=REL)
    assert cf8.routes[0].cost.fixed == 30.0
    assert cf8.routes[0].cost.driver_time == pytest.approx(0.02 * 1800.0, rel=REL)


def test_depot_energy_with_partial_start_and_unlimited_battery() -> None:
    problem = tiny()
    # Starts with 2600 Wh: reaches S0 with 100, is filled to 3000 (2900 charged), comes back
    # with 2000: the depot restores 600.
    part = replace(problem.vehicle_types[0], initial_energy_wh=2600.0)
    p = replace(problem, vehicle_types=(part, problem.vehicle_types[1]))
    acc = account(p, Solution((PLAN.routes[0],)))
    assert acc.routes[0].energy_charged_wh == pytest.approx(2900.0, rel=REL)
    assert acc.routes[0].energy_depot_wh == pytest.approx(600.0, rel=REL)
    # Starts with 1200 Wh, only charges (D→S0→D): back with 2000 > 1200, no depot energy,
    # and no parcel to carry the emissions.
    low = replace(problem.vehicle_types[0], initial_energy_wh=1200.0)
    p = replace(problem, vehicle_types=(low, problem.vehicle_types[1]))
    acc = account(p, Solution((Route(0, (Visit(4),)),)))
    assert acc.routes[0].energy_charged_wh == pytest.approx(2800.0, rel=REL)
    assert acc.routes[0].energy_depot_wh == 0.0
    assert acc.routes[0].parcels == 0 and acc.routes[0].co2e_wtw_per_parcel_kg is None
    assert acc.routes[0].co2e_wtw_kg == pytest.approx(2800.0 / ETA * 213e-6, rel=REL)
    # Unlimited battery: nothing charged en route, the depot restores the 3000 Wh used.
    inf = replace(problem.vehicle_types[0], battery_wh=math.inf)
    p = replace(problem, vehicle_types=(inf, problem.vehicle_types[1]))
    acc = account(p, Solution((Route(0, (Visit(1), Visit(2))),)))
    assert acc.routes[0].energy_charged_wh == 0.0
    assert acc.routes[0].energy_depot_wh == pytest.approx(0.25 * 12_000.0, rel=REL)


def test_unlimited_battery_at_a_charger_charges_nothing() -> None:
    # The checker reports inf - inf = nan Wh for this stop; the accounts count 0 by its rule.
    problem = tiny()
    inf = replace(problem.vehicle_types[0], battery_wh=math.inf)
    p = replace(problem, vehicle_types=(inf, problem.vehicle_types[1]))
    acc = account(p, Solution((Route(0, (Visit(1), Visit(2), Visit(4))),)))
    r = acc.routes[0]
    assert r.energy_charged_wh == 0.0 and r.charging_stops == 0 and r.cost.charger_energy == 0.0
    assert r.energy_depot_wh == pytest.approx(0.25 * 14_000.0, rel=REL)
    assert math.isfinite(acc.cost.total)


def test_factors_country_and_output() -> None:
    problem = tiny()
    f = EmissionFactors(charging_efficiency=1.0)
    acc = account(problem, PLAN, factors=f, country="fr")
    assert acc.country == "FR" and acc.grid_g_per_kwh == 44.0
    assert acc.routes[0].grid_energy_wh == pytest.approx(3500.0, rel=REL)
    data = acc.to_dict()
    text = json.dumps(data, allow_nan=False)
    back = json.loads(text)
    assert back["co2e_wtw_kg"] == pytest.approx(acc.co2e_wtw_kg)
    assert back["cost"]["total"] == pytest.approx(acc.cost.total)
    assert len(back["routes"]) == 2 and len(back["parcels_detail"]) == 3
    assert back["data_type"] == "modelled"
    with pytest.raises(ValueError, match="no grid intensity"):
        account(problem, PLAN, country="ZZ")
    with pytest.raises(ValueError):
        account(problem, PLAN, carbon_price_per_t=-1.0)
    with pytest.raises(ValueError, match="cannot account"):
        account(problem, Solution((Route(7, (Visit(1),)),)))


def test_infeasible_plans_are_still_accounted() -> None:
    problem = tiny()
    # Missing C2: the checker reports it, the accounts cover what is driven.
    acc = account(problem, Solution((PLAN.routes[0],)))
    assert not acc.feasible and acc.violations == 1
    assert acc.parcels == 2


# --- Properties ---------------------------------------------------------------------------

coords = st.integers(0, 5000)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Problem, Solution]:
    m = Model("random")
    m.set_metric(Metric(speed_m_per_s=10.0))
    m.add_depot(draw(coords), draw(coords))
    n = draw(st.integers(1, 7))
    for _ in range(n):
        m.add_client(draw(coords), draw(coords), demand_kg=draw(st.integers(0, 300)))
    k = draw(st.integers(0, 2))
    for _ in range(k):
        m.add_charger(draw(coords), draw(coords), power_w=22_000, price_per_kwh=0.4)
    m.add_vehicle_type(
        battery_wh=draw(st.sampled_from([math.inf, 5000.0, 40_000.0])),
        energy_wh_per_m=draw(st.sampled_from([0.2, 0.3])),
        fixed_cost=10.0,
        cost_per_s=0.005,
    )
    m.add_vehicle_type(powertrain=Powertrain.DIESEL, fuel_l_per_m=1e-4, fixed_cost=8.0)
    problem = m.data()
    order = draw(st.permutations(list(range(1, n + 1))))
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    routes = []
    for a, b in zip([0, *cuts], [*cuts, n], strict=True):
        visits = [Visit(loc) for loc in order[a:b]]
        vtype = draw(st.integers(0, 1))
        if k and vtype == 0 and draw(st.booleans()):
            visits.insert(
                draw(st.integers(0, len(visits))), Visit(1 + n + draw(st.integers(0, k - 1)))
            )
        routes.append(Route(vtype, tuple(visits)))
    return problem, Solution(tuple(routes))


def _assert_consistent(acc: PlanAccount) -> None:
    for name in ("distance_m", "duration_s", "grid_energy_wh", "diesel_l", "co2e_wtw_kg"):
        assert getattr(acc, name) == pytest.approx(
            math.fsum(getattr(r, name) for r in acc.routes), rel=1e-9, abs=1e-9
        )
    assert acc.parcels == sum(r.parcels for r in acc.routes)
    assert acc.cost.total == pytest.approx(
        math.fsum(r.cost.total for r in acc.routes), rel=1e-9, abs=1e-9
    )
    for r in acc.routes:
        shares = [p for p in acc.parcel_accounts if p.route == r.route]
        assert len(shares) == r.parcels
        assert all(p.co2e_wtw_kg >= 0 and p.co2e_ttw_kg >= 0 for p in shares)
        assert r.energy_depot_wh >= 0 and r.co2e_wtw_kg >= r.co2e_ttw_kg >= 0
        if shares:
            assert math.fsum(p.co2e_wtw_kg for p in shares) == pytest.approx(
                r.co2e_wtw_kg, rel=1e-9, abs=1e-12
            )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=cases(), method=st.sampled_from(list(Allocation)), country=st.sampled_from(["DE", "FR"])
)
def test_totals_are_sums_and_allocation_closes(
    case: tuple[Problem, Solution], method: Allocation, country: str
) -> None:
    problem, solution = case
    acc = account(problem, solution, country=country, allocation=method, carbon_price_per_t=80.0)
    _assert_consistent(acc)
    cf = diesel_counterfactual(problem, solution, country=country, allocation=method)
    _assert_consistent(cf)
    assert cf.grid_energy_wh == 0.0 and cf.charging_stops == 0
